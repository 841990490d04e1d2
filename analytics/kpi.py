"""Monthly KPIs of PRODUCT.md §2, each with the count it is computed on, and the ``report`` command.

A month's figures come from four queries over a list of months (orders, callbacks, churn
counts, due maintenance), so a report (month, previous month, same month last year) and a
twelve-month series each cost four round trips. A rate's value is None when its denominator
is 0; a count's value is None when its population is empty (no visits, no callbacks, no
active base), so a comparison with a month before the data starts shows nothing rather than
a fall to zero.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from analytics import queries, schedule
from analytics.config import db_path, settings
from analytics.errors import UserError

KPI_NAMES: tuple[str, ...] = (
    "visits",
    "revenue",
    "appointment_rate",
    "coverage_3dc",
    "reach_rate",
    "satisfaction_rate",
    "nps",
    "complaints",
    "complaint_timeliness",
    "lost",
    "at_risk",
    "due_maintenance_return_rate",
)
RATE_KPIS: frozenset[str] = frozenset(
    {
        "appointment_rate",
        "coverage_3dc",
        "reach_rate",
        "satisfaction_rate",
        "complaint_timeliness",
        "due_maintenance_return_rate",
    }
)
COUNT_KPIS: frozenset[str] = frozenset({"visits", "complaints", "lost", "at_risk"})

KPI_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "visits": "Service visits",
        "revenue": "Revenue (yuan)",
        "appointment_rate": "Appointment rate",
        "coverage_3dc": "3DC coverage",
        "reach_rate": "3DC reach rate",
        "satisfaction_rate": "Satisfaction rate",
        "nps": "NPS",
        "complaints": "Complaints",
        "complaint_timeliness": "Complaint timeliness",
        "lost": "Lost customers",
        "at_risk": "At-risk customers",
        "due_maintenance_return_rate": "Due-maintenance return rate",
    },
    "zh": {
        "visits": "进厂台次",
        "revenue": "产值（元）",
        "appointment_rate": "预约率",
        "coverage_3dc": "3日回访覆盖率",
        "reach_rate": "3日回访接通率",
        "satisfaction_rate": "满意率",
        "nps": "净推荐值（NPS）",
        "complaints": "投诉数",
        "complaint_timeliness": "投诉处理及时率",
        "lost": "流失客户",
        "at_risk": "流失风险客户",
        "due_maintenance_return_rate": "到期保养进站率",
    },
}

_TABLE_HEADERS: dict[str, tuple[str, ...]] = {
    "en": ("KPI", "Value", "n", "Target", "Prev. month", "Last year"),
    "zh": ("指标", "数值", "样本量", "目标", "上月", "去年同期"),
}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str | date) -> date:
    """Return the first day of the month named ``YYYY-MM`` (or of the date's month)."""
    if isinstance(text, date):
        return text.replace(day=1)
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UserError(f"'{text}' is not a month; write it as YYYY-MM, for example 2024-06.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def shift_month(month: date, months: int) -> date:
    """Return the first day of the month ``months`` after (negative: before) ``month``."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    """Return the last day of ``month``'s calendar month."""
    return shift_month(month.replace(day=1), 1) - timedelta(days=1)


def month_label(month: date) -> str:
    """Return ``YYYY-MM`` for a date."""
    return f"{month.year:04d}-{month.month:02d}"


def sql_params(stores: list[str] | None = None) -> dict[str, Any]:
    """Return the settings, schedule and store filter as bound parameters for the SQL files."""
    kpi, churn = settings()["kpi"], settings()["churn"]
    limits = {int(level): float(hours) for level, hours in kpi["complaint_limit_hours"].items()}
    return {
        "stores": list(stores) if stores else None,
        "satisfied_threshold": float(kpi["satisfied_threshold"]),
        "survey_types": list(kpi["survey_callback_types"]),
        "nps_promoter_min": float(kpi["nps_promoter_min"]),
        "nps_detractor_max": float(kpi["nps_detractor_max"]),
        "limit_levels": list(limits),
        "limit_hours": list(limits.values()),
        "limit_default": float(kpi["complaint_limit_default_hours"]),
        "coverage_3dc_days": int(kpi["coverage_3dc_days"]),
        "due_return_grace_days": int(kpi["due_return_grace_days"]),
        "followup_days": int(kpi["followup_days"]),
        "base_days": int(churn["base_days"]),
        "lost_days": int(churn["lost_days"]),
        "at_risk_factor": float(churn["at_risk_factor"]),
        "own_rhythm_min_gaps": int(churn["own_rhythm_min_gaps"]),
        "default_interval_days": float(churn["default_interval_days"]),
        **schedule.sql_params(),
    }


def monthly_counts(
    con: duckdb.DuckDBPyConnection, months: list[date], stores: list[str] | None = None
) -> pd.DataFrame:
    """Return one row per month (first days) with every numerator and denominator behind the KPIs."""
    firsts = sorted({m.replace(day=1) for m in months})
    params = sql_params(stores)
    orders = queries.run(con, "monthly_order_kpis", {**params, "months": firsts})
    calls = queries.run(con, "monthly_callback_kpis", {**params, "months": firsts})
    churn = queries.run(
        con, "monthly_churn_counts", {**params, "as_of_dates": [month_end(m) for m in firsts]}
    )
    due = queries.run(
        con, "monthly_due_counts", {**params, "as_of_dates": [m - timedelta(days=1) for m in firsts]}
    )
    frame = pd.DataFrame({"month": firsts})
    for part, key in ((orders, "month"), (calls, "month"), (due, "month")):
        part = part.assign(month=pd.to_datetime(part[key]).dt.date)
        frame = frame.merge(part, on="month", how="left")
    churn = churn.assign(month=[d.replace(day=1) for d in pd.to_datetime(churn["as_of"]).dt.date]).drop(
        columns="as_of"
    )
    return frame.merge(churn, on="month", how="left")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def kpis_from_counts(row: pd.Series) -> dict[str, dict[str, Any]]:
    """Return ``{name: {value, n, num, den}}`` for one row of ``monthly_counts``."""

    def i(col: str) -> int:
        value = row[col]
        return 0 if pd.isna(value) else int(value)

    visits, callbacks, base = i("visits"), i("callbacks"), i("base")
    revenue = None if pd.isna(row["revenue"]) else round(float(row["revenue"]), 2)
    net = i("promoters") - i("detractors")
    out: dict[str, dict[str, Any]] = {
        "visits": {"value": visits or None, "n": visits, "num": visits, "den": None},
        "revenue": {"value": revenue if visits else None, "n": visits, "num": revenue, "den": None},
        "complaints": {
            "value": i("complaints") if callbacks else None,
            "n": callbacks,
            "num": i("complaints"),
            "den": callbacks,
        },
        "lost": {"value": i("lost") if base else None, "n": base, "num": i("lost"), "den": base},
        "at_risk": {"value": i("at_risk") if base else None, "n": base, "num": i("at_risk"), "den": base},
    }
    rates = {
        "appointment_rate": ("appointments", "visits"),
        "coverage_3dc": ("covered_3dc", "visits"),
        "reach_rate": ("reached_3dc", "attempts_3dc"),
        "satisfaction_rate": ("satisfied", "scored"),
        "complaint_timeliness": ("timely", "complaints"),
        "due_maintenance_return_rate": ("returned", "due"),
    }
    for name, (num_col, den_col) in rates.items():
        num, den = i(num_col), i(den_col)
        out[name] = {"value": _ratio(num, den), "n": den, "num": num, "den": den}
    nps_n = i("recommend_n")
    nps = _ratio(100 * net, nps_n)
    out["nps"] = {"value": nps, "n": nps_n, "num": net, "den": nps_n}
    return {name: out[name] for name in KPI_NAMES}


def month_kpis(
    con: duckdb.DuckDBPyConnection, month: str | date, stores: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Return ``{name: {value, n, num, den}}`` for every KPI of ``month`` (``YYYY-MM``)."""
    first = parse_month(month)
    counts = monthly_counts(con, [first], stores)
    return kpis_from_counts(counts.iloc[0])


def targets() -> dict[str, list[float]]:
    """Return the target bands from settings, ``{name: [low, high]}``, for KPIs that have one."""
    return {name: [float(v) for v in band] for name, band in settings().get("targets", {}).items()}


def report(
    con: duckdb.DuckDBPyConnection, month: str | date, stores: list[str] | None = None
) -> dict[str, Any]:
    """Return ``{"month", "kpis": {name: {value, n, target, prev_month, prev_year}}}`` for ``month``."""
    first = parse_month(month)
    prev_month, prev_year = shift_month(first, -1), shift_month(first, -12)
    counts = monthly_counts(con, [first, prev_month, prev_year], stores).set_index("month")
    now = kpis_from_counts(counts.loc[first])
    before = kpis_from_counts(counts.loc[prev_month])
    year_ago = kpis_from_counts(counts.loc[prev_year])
    bands = targets()
    return {
        "month": month_label(first),
        "kpis": {
            name: {
                "value": now[name]["value"],
                "n": now[name]["n"],
                "target": bands.get(name),
                "prev_month": before[name]["value"],
                "prev_year": year_ago[name]["value"],
            }
            for name in KPI_NAMES
        },
    }


def latest_month(con: duckdb.DuckDBPyConnection) -> date | None:
    """Return the first day of the latest month with a visit, or None for an empty database."""
    row = con.execute("SELECT max(visit_date) FROM service_orders").fetchone()
    return row[0].replace(day=1) if row and row[0] else None


def monthly_series(
    con: duckdb.DuckDBPyConnection,
    stores: list[str] | None = None,
    months: int = 12,
    end_month: str | date | None = None,
) -> pd.DataFrame:
    """Return one row per (month, KPI) for the ``months`` months ending at ``end_month``: value, n, num, den."""
    end = (
        parse_month(end_month) if end_month is not None else latest_month(con) or date.today().replace(day=1)
    )
    firsts = [shift_month(end, -k) for k in range(months - 1, -1, -1)]
    counts = monthly_counts(con, firsts, stores)
    rows = []
    for _, row in counts.iterrows():
        for name, kpi in kpis_from_counts(row).items():
            rows.append({"month": month_label(row["month"]), "kpi": name, **kpi})
    return pd.DataFrame(rows, columns=["month", "kpi", "value", "n", "num", "den"])


def known_stores(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the stores that appear in the service orders, sorted."""
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT store FROM service_orders WHERE store IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]


def format_value(name: str, value: float | int | None) -> str:
    """Return a KPI value as text for tables: rates as percentages, NPS signed, counts grouped."""
    if value is None:
        return "—"
    if name in RATE_KPIS:
        return f"{value:.1%}"
    if name == "nps":
        return f"{value:+.1f}"
    if name == "revenue":
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def format_table(result: dict[str, Any], lang: str = "en") -> str:
    """Return the report as a plain-text table with labels in ``lang`` (``en`` or ``zh``)."""
    labels = KPI_LABELS[lang]
    rows = [list(_TABLE_HEADERS[lang])]
    for name, kpi in result["kpis"].items():
        band = kpi["target"]
        target = "—" if band is None else f"{format_value(name, band[0])}–{format_value(name, band[1])}"
        rows.append(
            [
                labels[name],
                format_value(name, kpi["value"]),
                f"{kpi['n']:,}",
                target,
                format_value(name, kpi["prev_month"]),
                format_value(name, kpi["prev_year"]),
            ]
        )
    widths = [max(_width(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [result["month"]]
    for r in rows:
        lines.append("  ".join(_pad(cell, widths[c], right=c > 0) for c, cell in enumerate(r)).rstrip())
    return "\n".join(lines)


def _cmd_report(args: argparse.Namespace) -> int:
    target = db_path(args.db)
    if str(target) != ":memory:" and not target.exists():
        raise UserError(
            f"There is no database at {target}; build the demo (python -m analytics demo) or import files first."
        )
    month = parse_month(args.month)
    from analytics import db

    con = db.connect(target, read_only=True)
    try:
        stores = args.store or None
        if stores:
            known = known_stores(con)
            unknown = [s for s in stores if s not in known]
            if unknown:
                raise UserError(
                    f"Unknown store {', '.join(unknown)}; the stores in the data are: {', '.join(known) or 'none'}."
                )
        result = report(con, month, stores)
    finally:
        con.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_table(result, args.lang))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the ``report`` command."""
    from analytics.cli import add_db_option

    p = sub.add_parser(
        "report",
        help="the month's KPIs with their n, targets, previous month and same month last year",
        description="Print the KPIs of PRODUCT.md §2 for one month, as a table or as JSON.",
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="calendar month to report")
    p.add_argument(
        "--store",
        action="append",
        metavar="S",
        help="restrict to this store (repeat for several); default all stores",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--lang",
        choices=("en", "zh"),
        default=settings()["display"].get("default_language", "zh"),
        help="label language of the table (default from settings)",
    )
    add_db_option(p)
    p.set_defaults(handler=_cmd_report)
