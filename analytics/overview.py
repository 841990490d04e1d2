"""The Overview page's figures in one pass: KPIs with comparisons, sparklines, what changed, red flags.

One ``kpi.counts_by_month`` call over the thirteen months ending at the focus month serves the
report (month, previous month, same month last year), the twelve-month sparklines and the
"what changed" tests, so the page costs a handful of queries however many tiles it draws.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pandas as pd

from analytics import kpi, queries, satisfaction


def month_as_of(con: duckdb.DuckDBPyConnection, month: str | date) -> date:
    """Return the day a month's lists are seen from: its last day, or the data's end if earlier."""
    last = kpi.month_end(kpi.parse_month(month))
    data_end = queries.run(con, "data_end", {})["data_end"].iloc[0]
    if pd.isna(data_end):
        return last
    return min(last, pd.Timestamp(data_end).date())


def overview(
    con: duckdb.DuckDBPyConnection, month: str | date, stores: list[str] | None = None
) -> dict[str, Any]:
    """Return ``{"report", "series", "changes", "red_flags", "as_of", "missing"}`` for the focus month and stores."""
    counts = kpi.counts_by_month(con, kpi.overview_months(month), stores)
    as_of = month_as_of(con, month)
    return {
        "report": kpi.report(con, month, stores, counts=counts),
        "series": kpi.monthly_series(con, stores, 12, month, counts=counts),
        "changes": satisfaction.what_changed(con, month, stores, counts=counts),
        "red_flags": satisfaction.red_flags(con, as_of, stores),
        "as_of": as_of,
        # issue 14: KPI -> i18n key of why it has no value (a field the data lack), see kpi.missing_fields.
        "missing": kpi.missing_fields(con),
    }
