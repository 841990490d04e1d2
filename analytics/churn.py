"""Churn identification: which vehicles of the active base are lost or at risk on a date.

Definitions (PRODUCT.md §2, windows in settings ``[churn]``): the active base on date D is the
vehicles with a visit in (D - base_days, D]; a base vehicle is lost when its last visit is on
or before D - lost_days; it is at risk when it is not lost and the days since its last visit
exceed ``at_risk_factor`` times its expected interval between visits. The expected interval is
the median gap between its own maintenance-type visits when it has at least
``own_rhythm_min_gaps`` gaps, else the routine maintenance interval of ``data/schedule.toml``
at its km per day, else ``default_interval_days``. Only visits on or before D are used.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from analytics import queries
from analytics.kpi import sql_params

STATUSES: tuple[str, ...] = ("lost", "at_risk", "active")


def vehicle_status(
    con: duckdb.DuckDBPyConnection, as_of: date, stores: list[str] | None = None
) -> pd.DataFrame:
    """Return one row per base vehicle on ``as_of``: vin, store, last_visit, days_since,
    expected_interval_days, interval_source, overdue_ratio, status (lost, at_risk, active)."""
    frame = queries.run(con, "vehicle_status", {**sql_params(stores), "as_of_dates": [as_of]})
    frame = frame.drop(columns="as_of")
    frame["last_visit"] = pd.to_datetime(frame["last_visit"]).dt.date
    return frame.reset_index(drop=True)
