"""The numerators and denominators behind the KPIs, one row per month, and the SQL parameters they use.

Numbers only, no interface text: this module imports nothing that reads the text catalogue
(``data/i18n.toml``), so the kept month counts and the churn model (which reads ``sql_params``)
are not discarded when a translation is edited (``services.marts.inputs``). ``kpi`` turns these
counts into the KPIs, with their labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from analytics.core import memo
from analytics.core.config import settings
from analytics.core.months import month_end, parse_month
from analytics.domain import schedule
from analytics.store import derived, queries


def sql_params(stores: list[str] | None = None) -> dict[str, Any]:
    """Return the settings, schedule and store filter as bound parameters for the SQL files."""
    kpi, churn = settings().kpi, settings().churn
    limits = {int(level): float(hours) for level, hours in kpi.complaint_limit_hours.items()}
    return {
        "stores": list(stores) if stores else None,
        "satisfied_threshold": kpi.satisfied_threshold,
        "survey_types": list(kpi.survey_callback_types),
        "nps_promoter_min": kpi.nps_promoter_min,
        "nps_detractor_max": kpi.nps_detractor_max,
        "limit_levels": list(limits),
        "limit_hours": list(limits.values()),
        "limit_default": kpi.complaint_limit_default_hours,
        "coverage_3dc_days": kpi.coverage_3dc_days,
        "due_return_grace_days": kpi.due_return_grace_days,
        "followup_days": kpi.followup_days,
        "base_days": churn.base_days,
        "lost_days": churn.lost_days,
        "at_risk_factor": churn.at_risk_factor,
        "own_rhythm_min_gaps": churn.own_rhythm_min_gaps,
        "default_interval_days": churn.default_interval_days,
        # The odometer trends' fastest plausible pace (mart_trend_days).
        "max_km_per_day": settings().maintenance.max_km_per_day,
        **schedule.sql_params(),
    }


def monthly_counts(
    con: duckdb.DuckDBPyConnection, months: list[date], stores: list[str] | None = None
) -> pd.DataFrame:
    """Return one row per month (first days) with every numerator and denominator behind the KPIs."""
    firsts = sorted({m.replace(day=1) for m in months})
    params = sql_params(stores)
    orders = derived.run(con, "monthly_order_kpis", {**params, "months": firsts})
    calls = derived.run(con, "monthly_callback_kpis", {**params, "months": firsts})
    # Churn is counted on each month's last day, due dates from the day before it starts.
    as_of_dates = sorted({month_end(m) for m in firsts} | {m - timedelta(days=1) for m in firsts})
    # From the marts when they are current for these month-ends (store.derived), else the same rules afresh.
    mart = derived.ready(con, derived.MARTS, params, as_of_dates)
    vehicles = derived.run(
        con,
        "monthly_vehicle_counts_mart" if mart else "monthly_vehicle_counts",
        {**params, "months": firsts, "as_of_dates": as_of_dates},
    )
    data_end = queries.run(con, "data_end", {})["data_end"].iloc[0]
    starts = queries.run(con, "data_start", {}).iloc[0]

    def day(value: Any) -> date | None:
        return None if pd.isna(value) else pd.Timestamp(value).date()

    frame = pd.DataFrame(
        {
            "month": firsts,
            "data_end": day(data_end),
            "orders_start": day(starts["orders_start"]),
            "callbacks_start": day(starts["callbacks_start"]),
        }
    )
    for part in (orders, calls, vehicles):
        part = part.assign(month=pd.to_datetime(part["month"]).dt.date)
        frame = frame.merge(part, on="month", how="left")
    return frame


def counts_by_month(
    con: duckdb.DuckDBPyConnection, months: list[date], stores: list[str] | None = None
) -> dict[date, dict[str, Any]]:
    """Return ``monthly_counts`` as ``{first day of month: {column: value}}``.

    Each month's counts are kept in the marts for the data version: the thirteen months behind
    another focus month are then mostly kept already (by the default view or an earlier visit),
    and only the months not yet kept are queried, together.
    """
    firsts = sorted({m.replace(day=1) for m in months})
    chosen = tuple(sorted(stores)) if stores else None
    calls: list[tuple[Any, ...]] = [(m, chosen) for m in firsts]

    def compute(missing: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        wanted = [args[0] for args in missing]
        records = _counts_records(con, wanted, list(chosen) if chosen else None)
        return [records[m] for m in wanted]

    return dict(zip(firsts, memo.remembered_many(con, month_counts, calls, compute), strict=True))


def month_counts(
    con: duckdb.DuckDBPyConnection, month: date, stores: Sequence[str] | None = None
) -> dict[str, Any]:
    """Return one month's row of ``monthly_counts`` as ``{column: value}`` (what the marts keep)."""
    first = month.replace(day=1)
    return _counts_records(con, [first], list(stores) if stores else None)[first]


def _counts_records(
    con: duckdb.DuckDBPyConnection, firsts: list[date], stores: list[str] | None
) -> dict[date, dict[str, Any]]:
    records = monthly_counts(con, firsts, stores).to_dict("records")
    return {row["month"]: {str(k): v for k, v in row.items()} for row in records}


def storeless_callbacks(con: duckdb.DuckDBPyConnection, month: str) -> int:
    """Return how many callbacks dated in ``month`` (YYYY-MM) belong to no store: none in their file,
    their work order not imported and no earlier work order of their vehicle. They count in the
    figures of all stores and of no store, so a page showing chosen stores says how many there are."""
    params = {**sql_params(), "month_start": parse_month(month)}
    return int(derived.run(con, "storeless_callbacks", params)["n"].iloc[0])
