"""The refresh after importing one month's files (issue 20's refresh budget), for ``bench``.

On a copy of the group database, the last month's work orders and their callbacks are written
out as two files (canonical headers, as a saved mapping would read them) and taken out of the
copy, which is then brought to the state a store has before that import: vehicles, SQL marts,
the themes' tables and the pages' default views all current (set-up, not timed). The two files
are then imported as the import command imports them, and what the command does after the
commit is timed step by step: the SQL marts' incremental refresh, then ``views.rebuild_views``:
``views.prepare`` (the new comments' tokens, every comment's theme under the new data version's
models, the satisfied comments read clause by clause) with the group's churn and maintenance
models fitted beside it on threads of their own, and the pages' default views.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import duckdb

from analytics.core.errors import UserError
from analytics.ingest import load
from analytics.services import sql_marts, views
from analytics.store import db


def _last_month(con: duckdb.DuckDBPyConnection) -> Any:
    row = con.execute("SELECT date_trunc('month', max(visit_date))::DATE FROM service_orders").fetchone()
    if not row or row[0] is None:
        raise UserError("the bench database has no work orders")
    return row[0]


def _take_out_month(con: duckdb.DuckDBPyConnection, month: Any, folder: Path) -> tuple[list[Path], int, int]:
    """Write the month's work orders and their callbacks to CSV files, then delete them (one
    transaction) and rebuild every vehicle from what is left; return the files and row counts."""
    folder.mkdir(parents=True, exist_ok=True)
    orders, callbacks = folder / "work_orders.csv", folder / "callbacks.csv"
    taken = con.execute(
        "SELECT * FROM service_orders WHERE visit_date >= $m ORDER BY order_id", {"m": month}
    ).df()
    taken[list(db.SERVICE_COLUMNS)].to_csv(orders, index=False)
    answered = con.execute(
        "SELECT * FROM callbacks WHERE order_id IN "
        "(SELECT order_id FROM service_orders WHERE visit_date >= $m) ORDER BY callback_id",
        {"m": month},
    ).df()
    answered[list(db.CALLBACK_COLUMNS)].to_csv(callbacks, index=False)
    with db.write_transaction(con) as cur:
        n_cb = cur.execute(
            "DELETE FROM callbacks WHERE order_id IN (SELECT order_id FROM service_orders WHERE visit_date >= $m)",
            {"m": month},
        ).fetchone()
        n_so = cur.execute("DELETE FROM service_orders WHERE visit_date >= $m", {"m": month}).fetchone()
        load.refresh_derived(cur, comments=False)
        db.bump_data_version(cur)
    return [orders, callbacks], int(n_so[0] if n_so else 0), int(n_cb[0] if n_cb else 0)


def refresh_times(group_db: Path, work: Path) -> dict[str, Any]:
    """Return the import and the refresh after it, step by step, in seconds (see the module)."""
    copy = work / "refresh_copy.duckdb"
    for p in (copy, Path(f"{copy}.wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(Path(f"{copy}.marts"), ignore_errors=True)
    shutil.copyfile(group_db, copy)
    con = db.connect(copy)
    try:
        month = _last_month(con)
        files, n_orders, n_callbacks = _take_out_month(con, month, work / "refresh_files")
        clock = time.perf_counter()
        views.rebuild(con)  # the state before the import: everything current
        setup = time.perf_counter() - clock

        clock = time.perf_counter()
        inserted: list[int] = []
        for path, kind in zip(files, ("service", "callback"), strict=True):
            for _, res in load.import_files(con, [path], kind=kind, who="bench"):
                if isinstance(res, Exception):
                    raise UserError(f"the bench could not import its own file {path.name}: {res}")
                inserted.append(res.inserted)
        imported = time.perf_counter() - clock
        if inserted != [n_orders, n_callbacks]:
            raise UserError(f"the bench's import inserted {inserted} rows, not {[n_orders, n_callbacks]}")

        # What the import command then does (views.rebuild), step by step.
        clock = time.perf_counter()
        refreshed = sql_marts.refresh(con)
        sql_s = time.perf_counter() - clock
        clock = time.perf_counter()
        kept = views.rebuild_views(con)
        views_s = time.perf_counter() - clock
    finally:
        con.close()
        for p in (copy, Path(f"{copy}.wal")):
            p.unlink(missing_ok=True)
        shutil.rmtree(Path(f"{copy}.marts"), ignore_errors=True)
        shutil.rmtree(work / "refresh_files", ignore_errors=True)
    return {
        "month": month.isoformat()[:7],
        "orders": n_orders,
        "callbacks": n_callbacks,
        "setup_s": round(setup, 1),
        "import_s": round(imported, 2),
        "sql_marts_s": round(sql_s, 2),
        "sql_marts": refreshed,
        # ``prepare`` and the default views together: the group's models are fitted beside ``prepare``.
        "views_s": round(views_s, 1),
        "prepare_s": kept.get("prepare_s"),
        "prepare": kept.get("prepared"),
        "default_views_failed": kept.get("failed", {}),
        # The slowest default views, each with its seconds (the models' overlap ``prepare``).
        "default_views_slowest": dict(sorted(kept.get("each", {}).items(), key=lambda kv: -kv[1])[:8]),
        # Everything the import command does after the commit, until it returns.
        "refresh_s": round(sql_s + views_s, 1),
    }
