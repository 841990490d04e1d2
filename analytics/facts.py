"""Facts about the loaded data that every page needs: months covered, stores, sizes."""

from __future__ import annotations

import duckdb


def available_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the months (YYYY-MM, newest first) that have work orders or callbacks."""
    rows = con.execute(
        """
        SELECT DISTINCT strftime(d, '%Y-%m') AS m FROM (
            SELECT visit_date AS d FROM service_orders
            UNION ALL SELECT CAST(callback_date AS DATE) FROM callbacks
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
