"""Data-quality findings: problems worth fixing in the DMS, never reasons to drop a row."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics.core import memo
from analytics.store.queries import load as sql

CHECKS: tuple[str, ...] = (
    "duplicate_orders",
    "invalid_vins",
    "invalid_phones",
    "mileage_backwards",
    "future_dates",
    "unlinked_callbacks",
)


def finding(con: duckdb.DuckDBPyConnection, check: str, today: dt.date | None = None) -> pd.DataFrame:
    """Return the rows behind one data-quality check (``check`` from ``CHECKS``)."""
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}; expected one of {', '.join(CHECKS)}")
    params = {"today": today or dt.date.today()} if check == "future_dates" else {}
    query = sql(f"quality_{check}")
    return con.execute(query, params).df() if params else con.execute(query).df()


def summary(con: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> dict[str, int]:
    """Return the number of findings for every check.

    Today's findings are the ones the Data page lists (``memo.remembered``: kept per data
    version): the refresh after an import ran each check twice, for the count and for the list,
    about 14 s of its main thread at a million work orders."""
    if today is None:
        return {check: len(memo.remembered(con, finding, check)) for check in CHECKS}
    return {check: len(finding(con, check, today)) for check in CHECKS}


def checked(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Return, for every check, how many records it reads: the work orders with a VIN (duplicates,
    VINs), the phones of the vehicles and callbacks, the orders with a mileage, every order and
    callback (dates), the callbacks with a work-order number. A finding's count is a share of it."""
    row = con.execute(sql("quality_checked")).df().iloc[0]
    return {check: int(row[check]) for check in CHECKS}
