"""Facts about the loaded data that every page needs: months covered, stores, sizes."""

from __future__ import annotations

from datetime import date

import duckdb

from analytics.core.months import month_ends


def available_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the months (YYYY-MM, newest first) that have work orders or callbacks."""
    rows = con.execute(
        """
        SELECT strftime(m, '%Y-%m') AS m FROM (
            -- distinct months first, formatted after: a quarter of the time of formatting each date
            SELECT DISTINCT date_trunc('month', d) AS m FROM (
                SELECT visit_date AS d FROM service_orders
                UNION ALL SELECT CAST(callback_date AS DATE) FROM callbacks
            )
        ) ORDER BY m DESC
        """
    ).fetchall()
    return [r[0] for r in rows]


def stores(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the store names found in the work orders, sorted."""
    rows = con.execute(
        "SELECT DISTINCT store FROM service_orders WHERE store IS NOT NULL ORDER BY store"
    ).fetchall()
    return [r[0] for r in rows]


def data_summary(con: duckdb.DuckDBPyConnection) -> dict[str, int | str | None]:
    """Return row counts and the date range of the canonical tables."""
    row = con.execute(
        """
        SELECT (SELECT count(*) FROM service_orders),
               (SELECT count(*) FROM callbacks),
               (SELECT count(*) FROM vehicles),
               (SELECT count(*) FROM imports WHERE status = 'done'),
               (SELECT strftime(min(visit_date), '%Y-%m-%d') FROM service_orders),
               (SELECT strftime(max(visit_date), '%Y-%m-%d') FROM service_orders)
        """
    ).fetchone()
    assert row is not None
    keys = ("orders", "callbacks", "vehicles", "imports", "first_visit", "last_visit")
    return dict(zip(keys, row, strict=True))


def default_month(months: list[str], last_visit: str | None, today: date | None = None) -> str:
    """Return the month pages open on: the newest, or the one before when the newest is partial.

    The newest month is usually still running; when the data end before its last week, the
    latest complete month is shown instead, so KPIs compare like with like. Months after the
    current one are typos (a visit keyed as 2062, see the ``future_dates`` check), not the newest
    data: they are passed over while any month up to today has data.
    """
    current = (today or date.today()).strftime("%Y-%m")
    months = [m for m in months if m <= current] or months
    last = str(last_visit or "")
    partial = last[:7] == months[0] and int(last[8:10] or 0) < 25
    return months[1] if len(months) > 1 and partial else months[0]


def model_as_of(con: duckdb.DuckDBPyConnection, as_of: date) -> date:
    """Return the date a model that scores ``as_of`` is trained at: the end of the month the pages
    open on (``default_month``), so that one model per data version serves every earlier month;
    ``as_of`` itself when it is later (the newest, partial month) or there are no data.

    An earlier month is then ranked by a model that has seen what happened after it: its list is
    better than the one the store could have drawn up then (the pages say so). The backtest on the
    model card is what measures the model honestly.
    """
    opened = opened_month_end(con)
    return as_of if opened is None else max(as_of, opened)


def opened_month_end(con: duckdb.DuckDBPyConnection) -> date | None:
    """Return the last day of the month the pages open on (``default_month``), None without data."""
    months = available_months(con)
    if not months:
        return None
    return month_ends([default_month(months, str(data_summary(con)["last_visit"] or ""))])[0]


def gap_months(con: duckdb.DuckDBPyConnection, as_of: date) -> list[tuple[date, date]]:
    """Return the first and last day of each calendar month, oldest first, that has no work order
    although months before and after it (up to ``as_of``) have some: a DMS migration or an export
    left out. Nobody came in then as far as the data know, so no model may learn from it."""
    rows = con.execute(
        """
        WITH seen AS (
            SELECT DISTINCT CAST(date_trunc('month', visit_date) AS DATE) AS m
            FROM service_orders WHERE visit_date <= $as_of
        ),
        every AS (
            SELECT CAST(unnest(generate_series(min(m), max(m), INTERVAL 1 MONTH)) AS DATE) AS m FROM seen
        )
        SELECT m, CAST(last_day(m) AS DATE) FROM every WHERE m NOT IN (SELECT m FROM seen) ORDER BY m
        """,
        {"as_of": as_of},
    ).fetchall()
    return [(first, last) for first, last in rows]


def overlaps_gap(start: date, end: date, gaps: list[tuple[date, date]]) -> bool:
    """Return True when the days (start, end] meet a month of ``gap_months``."""
    return any(start < last and end >= first for first, last in gaps)


def window_months(months: list[str], month: str, window: int) -> tuple[str, ...]:
    """Return the ``window`` months ending with ``month`` (oldest first) among the months with data."""
    ordered = sorted(months)
    end = ordered.index(month)
    return tuple(ordered[max(0, end - int(window) + 1) : end + 1])
