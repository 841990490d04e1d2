"""Monthly KPIs of PRODUCT.md §2, each with the count it is computed on, and the ``report`` command.

A month's figures come from three queries over a list of months (orders; callbacks; vehicles:
churn counts and due maintenance), so a report (month, previous month, same month last year)
and a twelve-month series each cost three round trips, and one call over the thirteen months
of ``overview_months`` serves both. A rate's value is None when its denominator
is 0; a count's value is None when its population is empty (no visits, no callbacks, no
active base), so a comparison with a month before the data starts shows nothing rather than
a fall to zero.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import duckdb
import msgspec
import pandas as pd

from analytics.core import formatting, i18n
from analytics.core.config import settings
from analytics.core.months import month_end, month_label, parse_month, shift_month
from analytics.domain import schedule
from analytics.domain.counts import counts_by_month, sql_params
from analytics.store import derived, queries

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
RATE_KPIS: frozenset[str] = formatting.RATE_KPIS
STATUSES: tuple[str, ...] = ("ok", "provisional", "insufficient_history")

# Labels come from the one text catalogue (data/i18n.toml), shared with the pages.
KPI_LABELS: dict[str, dict[str, str]] = {
    lang: {name: i18n.text(f"metric.{name}", lang) for name in KPI_NAMES} for lang in i18n.LANGUAGES
}

_TABLE_HEADERS: dict[str, tuple[str, ...]] = {
    lang: tuple(
        i18n.text(f"report.{col}", lang) for col in ("kpi", "value", "n", "target", "prev_month", "prev_year")
    )
    for lang in i18n.LANGUAGES
}
_STATUS_HEADER: dict[str, str] = {lang: i18n.text("kpi_status.header", lang) for lang in i18n.LANGUAGES}


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


# The KPIs whose counts wait for something after the month (the 3DC window of its last visits, the
# longest complaint limit, the return window); the others are final for the days the data cover.
WAITING_KPIS: frozenset[str] = frozenset(
    {"coverage_3dc", "complaint_timeliness", "due_maintenance_return_rate"}
)


def _provisional(month: date, data_end: date | None) -> dict[str, bool]:
    """Return, per KPI, whether the data end before everything that decides it could be recorded.

    A month not yet over is provisional throughout; after it, 3DC coverage waits for the
    callbacks of its last visits, complaint timeliness for the longest complaint limit, and the
    due-maintenance return rate for the end of its return window.
    """
    if data_end is None:
        return dict.fromkeys(KPI_NAMES, False)
    cfg = settings().kpi
    end = month_end(month)
    longest_limit = max(
        [float(h) for h in cfg.complaint_limit_hours.values()] + [cfg.complaint_limit_default_hours]
    )
    waits = {
        "coverage_3dc": cfg.coverage_3dc_days,
        "complaint_timeliness": math.ceil(longest_limit / 24),
        "due_maintenance_return_rate": cfg.due_return_grace_days,
    }
    return {name: end + timedelta(days=waits.get(name, 0)) > data_end for name in KPI_NAMES}


def base_window_start(as_of: date) -> date:
    """Return the first day of the active-base window as of ``as_of`` (the longer of the base and lost
    windows): lost and at-risk counts as of ``as_of`` need data from that day on."""
    churn = settings().churn
    window = max(churn.base_days, churn.lost_days)
    return as_of - timedelta(days=window - 1)


def history_needed(name: str, month: date) -> date:
    """Return the first day a KPI of ``month`` looks back to: the month's first day for the month's
    own events; for lost and at-risk customers (counted within the active base as of the month's
    last day) the base window's first day; for the due-maintenance return rate the earliest last
    maintenance that can fall due in the month (the routine interval before the month)."""
    first = month.replace(day=1)
    if name in ("lost", "at_risk"):
        return base_window_start(month_end(first))
    if name == "due_maintenance_return_rate":
        return first - timedelta(days=int(schedule.sql_params()["routine_days"]))
    return first


def _history_start(row: Mapping[str, Any]) -> date | None:
    """Return the first data day (PRODUCT.md §2): the first day with a work order or a callback."""
    known = [d for d in (row.get("orders_start"), row.get("callbacks_start")) if d is not None]
    return min(known) if known else None


def kpi_status(name: str, month: date, row: Mapping[str, Any], provisional: bool) -> dict[str, Any]:
    """Return ``{status, needs_from, reason}`` for one KPI of ``month``: ``insufficient_history`` when its
    window reaches before the first data day (``needs_from``: the day the data would have to start),
    else ``provisional`` when the data end before it is final, else ``ok``; ``reason`` says it in words."""
    needed = history_needed(name, month)
    start = _history_start(row)
    if start is None or start > needed:
        return {
            "status": "insufficient_history",
            "needs_from": needed.isoformat(),
            "reason": f"needs data from {needed.isoformat()} on",
        }
    if provisional:
        return {
            "status": "provisional",
            "needs_from": None,
            "reason": "the data end before the figure is final",
        }
    return {"status": "ok", "needs_from": None, "reason": None}


def kpis_from_counts(row: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return ``{name: {value, n, num, den, provisional, status, needs_from, reason}}`` for one row of
    ``monthly_counts``; a KPI with ``insufficient_history`` has no value."""

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
    if not visits:
        # Not one work order in the month: its visits are not in the data (a month or a store not
        # imported), so no due vehicle can be seen coming back; 0% of them is no figure.
        out["due_maintenance_return_rate"]["value"] = None
    nps_n = i("recommend_n")
    nps = _ratio(100 * net, nps_n)
    out["nps"] = {"value": nps, "n": nps_n, "num": net, "den": nps_n}
    provisional = _provisional(row["month"], row.get("data_end"))
    result: dict[str, dict[str, Any]] = {}
    for name in KPI_NAMES:
        status = kpi_status(name, row["month"], row, provisional[name])
        entry = {**out[name], "provisional": provisional[name], **status}
        if status["status"] == "insufficient_history":
            entry["value"] = None
        result[name] = entry
    return result


def overview_months(month: str | date) -> list[date]:
    """Return the thirteen months (first days) from a year before ``month`` to ``month``: one
    ``counts_by_month`` call over them serves ``report``, ``monthly_series`` and ``what_changed``."""
    first = parse_month(month)
    return [shift_month(first, -k) for k in range(12, -1, -1)]


def month_kpis(
    con: duckdb.DuckDBPyConnection, month: str | date, stores: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Return ``{name: {value, n, num, den, provisional}}`` for every KPI of ``month`` (``YYYY-MM``).

    ``provisional`` is true when the data end before the KPI can be final (see ``_provisional``).
    """
    first = parse_month(month)
    return kpis_from_counts(counts_by_month(con, [first], stores)[first])


def due_vehicles(
    con: duckdb.DuckDBPyConnection, month: str | date, stores: list[str] | None = None
) -> pd.DataFrame:
    """Return one row per vehicle whose next maintenance falls due in ``month``: vin, store, last_maintenance,
    purchase_date, km_per_day, due_date and returned_on (the first maintenance-type visit in the return
    window, or None). The rule is in ``data/settings.toml`` (``kpi.due_return_grace_days``)."""
    first = parse_month(month)
    params = {**sql_params(stores), "as_of_dates": [first - timedelta(days=1)]}
    mart = derived.ready(con, ["due_months"], params, params["as_of_dates"])
    frame = derived.run(con, "due_maintenance_mart" if mart else "due_maintenance", params)
    frame = frame.drop(columns="month")
    for col in ("last_maintenance", "purchase_date", "due_date", "returned_on"):
        days = pd.to_datetime(frame[col])
        frame[col] = days.dt.date.astype(object).where(days.notna(), None)
    return frame.reset_index(drop=True)


def targets() -> dict[str, list[float]]:
    """Return the target bands from settings, ``{name: [low, high]}``, for KPIs that have one."""
    return {name: list(band) for name, band in msgspec.structs.asdict(settings().targets).items()}


def ensure_counts(
    con: duckdb.DuckDBPyConnection,
    months: list[date],
    stores: list[str] | None,
    counts: Mapping[date, Mapping[str, Any]] | None,
) -> Mapping[date, Mapping[str, Any]]:
    """Return ``counts`` when it covers ``months`` (a page computes thirteen months once), else query them."""
    if counts is not None and all(m in counts for m in months):
        return counts
    return counts_by_month(con, months, stores)


def report(
    con: duckdb.DuckDBPyConnection,
    month: str | date,
    stores: list[str] | None = None,
    counts: Mapping[date, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return ``{"month", "kpis": {name: {value, n, target, status, needs_from, reason, provisional,
    prev_month, prev_month_status, prev_year, prev_year_status}}}`` for ``month``.

    A figure whose status is ``insufficient_history`` has no value, so no change is computed from it.
    ``counts`` may pass ``counts_by_month`` already computed for the same stores (it must hold the
    month, the month before and the same month a year earlier), saving the queries.
    """
    first = parse_month(month)
    prev_month, prev_year = shift_month(first, -1), shift_month(first, -12)
    counts = ensure_counts(con, [first, prev_month, prev_year], stores, counts)
    now = kpis_from_counts(counts[first])
    before = kpis_from_counts(counts[prev_month])
    year_ago = kpis_from_counts(counts[prev_year])
    bands = targets()
    return {
        "month": month_label(first),
        "kpis": {
            name: {
                "value": now[name]["value"],
                "n": now[name]["n"],
                "target": bands.get(name),
                "status": now[name]["status"],
                "needs_from": now[name]["needs_from"],
                "reason": now[name]["reason"],
                "provisional": now[name]["provisional"],
                "prev_month": before[name]["value"],
                "prev_month_status": before[name]["status"],
                "prev_year": year_ago[name]["value"],
                "prev_year_status": year_ago[name]["status"],
            }
            for name in KPI_NAMES
        },
    }


# --- issue 14: a KPI whose field is missing from the data says so (status/reason), not 0% ----------
# Each rule: (count that must be non-zero, i18n key of the reason, the KPIs it affects). Checked in
# order; the first that fails gives a KPI its reason.
_FIELD_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("orders", "kpi_missing.no_orders",
     ("visits", "revenue", "appointment_rate", "coverage_3dc", "lost", "at_risk", "due_maintenance_return_rate")),
    ("orders_amount", "kpi_missing.no_amount", ("revenue",)),
    ("orders_appointment", "kpi_missing.no_appointment", ("appointment_rate",)),
    ("callbacks", "kpi_missing.no_callbacks",
     ("coverage_3dc", "reach_rate", "satisfaction_rate", "nps", "complaints", "complaint_timeliness")),
    ("callbacks_reached", "kpi_missing.no_reached", ("reach_rate", "satisfaction_rate", "nps")),
    ("callbacks_overall", "kpi_missing.no_overall", ("satisfaction_rate",)),
    ("callbacks_recommend", "kpi_missing.no_recommend", ("nps",)),
    ("callbacks_complaint", "kpi_missing.no_complaint", ("complaints", "complaint_timeliness")),
)  # fmt: skip


def missing_fields(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Return KPI name -> i18n key of the reason it cannot be computed: the data lack a field it needs
    (no callbacks imported, no column saying whether calls got through, ...); KPIs not listed are fine."""
    counts = queries.run(con, "kpi_field_presence", {}).iloc[0]
    out: dict[str, str] = {}
    for column, key, names in _FIELD_RULES:
        if int(counts[column]) == 0:
            for name in names:
                out.setdefault(name, key)
    return out


def with_field_status(result: dict[str, Any], missing: Mapping[str, str], lang: str = "en") -> dict[str, Any]:
    """Return the report where each KPI whose field is missing from the data has ``status`` "missing_field"
    and ``reason`` (a sentence in ``lang``) and no value instead of 0%; the other KPIs are unchanged."""
    kpis: dict[str, Any] = {}
    for name, kpi in result["kpis"].items():
        key = missing.get(name)
        if key is None:
            kpis[name] = kpi
        else:
            gone = {"value": None, "prev_month": None, "prev_year": None}
            kpis[name] = {**kpi, **gone, "status": "missing_field", "reason": i18n.text(key, lang)}
    return {**result, "kpis": kpis}


def latest_month(con: duckdb.DuckDBPyConnection) -> date | None:
    """Return the first day of the latest month with a visit, or None for an empty database."""
    row = con.execute("SELECT max(visit_date) FROM service_orders").fetchone()
    return row[0].replace(day=1) if row and row[0] else None


def monthly_series(
    con: duckdb.DuckDBPyConnection,
    stores: list[str] | None = None,
    months: int = 12,
    end_month: str | date | None = None,
    counts: Mapping[date, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Return one row per (month, KPI) for the ``months`` months ending at ``end_month``: value, n, num, den,
    provisional, status, needs_from (value None where the history is insufficient).

    ``end_month`` defaults to the latest month with a visit; ``counts`` as in ``report``.
    """
    end = (
        parse_month(end_month) if end_month is not None else latest_month(con) or date.today().replace(day=1)
    )
    firsts = [shift_month(end, -k) for k in range(months - 1, -1, -1)]
    counts = ensure_counts(con, firsts, stores, counts)
    rows = []
    for month in firsts:
        for name, kpi in kpis_from_counts(counts[month]).items():
            rows.append({"month": month_label(month), "kpi": name, **kpi})
    return pd.DataFrame(
        rows, columns=["month", "kpi", "value", "n", "num", "den", "provisional", "status", "needs_from"]
    )


def format_value(name: str, value: float | int | None) -> str:
    """Return a KPI value as text, as everywhere else (``formatting.format_value``)."""
    return formatting.format_value(name, value)


def format_target(name: str, band: list[float] | None) -> str:
    """Return a target band as text, as everywhere else (``formatting.format_target``)."""
    return formatting.format_target(name, band)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def format_table(result: dict[str, Any], lang: str = "en", stores: list[str] | None = None) -> str:
    """Return the report as a plain-text table with labels in ``lang`` (``en`` or ``zh``), titled with
    the month and the stores it covers."""
    labels = KPI_LABELS[lang]
    rows = [[*_TABLE_HEADERS[lang], _STATUS_HEADER[lang]]]
    for name, kpi in result["kpis"].items():
        target = format_target(name, kpi["target"])
        rows.append(
            [
                labels[name],
                format_value(name, kpi["value"]),
                f"{kpi['n']:,}",
                target,
                format_value(name, kpi["prev_month"]),
                format_value(name, kpi["prev_year"]),
                formatting.status_note(kpi["status"], kpi["needs_from"], lang) or "",
            ]
        )
    widths = [max(_width(r[c]) for r in rows) for c in range(len(rows[0]))]
    everywhere = {"en": "all stores", "zh": "全部门店"}[lang]
    lines = [f"{result['month']}  {', '.join(stores) if stores else everywhere}"]
    for r in rows:
        lines.append("  ".join(_pad(cell, widths[c], right=c > 0) for c, cell in enumerate(r)).rstrip())
    # issue 14: why a KPI shows no value, when its field is missing from the data (a sentence in
    # ``lang``). A status's reason is in English for the JSON; the status column says it in ``lang``.
    for name, kpi in result["kpis"].items():
        if kpi.get("reason") and formatting.status_note(kpi["status"], kpi["needs_from"], lang) is None:
            lines.append(f"{labels[name]}: {kpi['reason']}")
    return "\n".join(lines)
