"""The refresh after importing one month's files (issue 20's refresh budget), for ``bench``.

On a copy of the group database, the last month's work orders and their callbacks are written
out as two files (canonical headers, as a saved mapping would read them) and taken out of the
copy, which is then brought to the state a store has before that import: vehicles, SQL marts,
the themes' tables and the pages' default views all current (set-up, not timed). The two files
are then imported as the import command imports them, and what the command does after the
commit is timed step by step: the SQL marts' incremental refresh, then ``views.rebuild_views``:
``views.prepare`` (the new comments' tokens, every comment's theme under the new data version's
models, the satisfied comments read clause by clause) with the group's churn and maintenance
models fitted beside it on threads of their own when none is kept, and the pages' default views
(``refresh_s``: the pages show the new month, scored by the newest models kept). Then what the
command does after that, timed on its own (``refit_s``): ``views.refit`` fits the models the new
month calls for, the file given back to readers meanwhile, and computes the views they score.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.core.errors import UserError
from analytics.domain import churn_model
from analytics.domain.maintenance import persistence
from analytics.ingest import load
from analytics.services import marts, reads, sql_marts, views
from analytics.store import db


def _last_month(con: duckdb.DuckDBPyConnection) -> Any:
    row = con.execute("SELECT date_trunc('month', max(visit_date))::DATE FROM service_orders").fetchone()
    if not row or row[0] is None:
        raise UserError("the bench database has no work orders")
    return row[0]


def _take_out_month(con: duckdb.DuckDBPyConnection, month: Any, folder: Path) -> tuple[list[Path], int, int]:
    """Write the month's work orders and callbacks to CSV files, as the DMS exports them by date,
    then delete them (one transaction) and rebuild every vehicle from what is left; return the
    files and row counts."""
    folder.mkdir(parents=True, exist_ok=True)
    orders, callbacks = folder / "work_orders.csv", folder / "callbacks.csv"
    taken = con.execute(
        "SELECT * FROM service_orders WHERE visit_date >= $m ORDER BY order_id", {"m": month}
    ).df()
    taken[list(db.SERVICE_COLUMNS)].to_csv(orders, index=False)
    # The month's callbacks as a DMS exports them, by date (those about the month before's work
    # orders included), and any later callback about the month's work orders.
    answered = con.execute(
        "SELECT * FROM callbacks WHERE CAST(callback_date AS DATE) >= $m OR order_id IN "
        "(SELECT order_id FROM service_orders WHERE visit_date >= $m) ORDER BY callback_id",
        {"m": month},
    ).df()
    answered[list(db.CALLBACK_COLUMNS)].to_csv(callbacks, index=False)
    with db.write_transaction(con) as cur:
        n_cb = cur.execute(
            "DELETE FROM callbacks WHERE CAST(callback_date AS DATE) >= $m OR order_id IN "
            "(SELECT order_id FROM service_orders WHERE visit_date >= $m)",
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
    # The copy's maintenance models in a folder of their own, empty: a model an earlier run fitted
    # on the same records would be found and spare the fits this times.
    models = work / "refresh_models"
    shutil.rmtree(models, ignore_errors=True)
    saved_dir = os.environ.get("ANALYTICS_MODEL_DIR")
    os.environ["ANALYTICS_MODEL_DIR"] = str(models)
    con = db.connect(copy)
    try:
        month = _last_month(con)
        files, n_orders, n_callbacks = _take_out_month(con, month, work / "refresh_files")
        clock = time.perf_counter()
        views.rebuild(con)  # the state before the import: everything current
        setup = time.perf_counter() - clock

        timed = _import_and_refresh(con, files, (n_orders, n_callbacks))
        meanwhile = _earlier_month_meanwhile(con, month)
        # What the import command does next, the file given back meanwhile: fit the models the new
        # month calls for (the refresh scored it with the newest kept) and the views they score.
        con.close()
        clock = time.perf_counter()
        refit = views.refit(db.Handles(copy, keep_open=0))
        refit_s = time.perf_counter() - clock
        # Then the earlier months' views of every page under the new models (the refit
        # dropped those the models before it scored), as the import command computes them next.
        earlier = views.keep_earlier(db.Handles(copy, keep_open=0))
        con = db.connect(copy)
        # Then a night's export of the next day, as a store's nightly import brings it: the first
        # day of a month (the marts gain a month-end for every vehicle), then the day after it (the
        # common night: a day within a month the marts already cover).
        night = _nightly_refresh(con, work / "refresh_files" / "night")
        next_night = _nightly_refresh(con, work / "refresh_files" / "night2")
    finally:
        con.close()
        for p in (copy, Path(f"{copy}.wal")):
            p.unlink(missing_ok=True)
        shutil.rmtree(Path(f"{copy}.marts"), ignore_errors=True)
        shutil.rmtree(work / "refresh_files", ignore_errors=True)
        shutil.rmtree(models, ignore_errors=True)
        if saved_dir is None:
            os.environ.pop("ANALYTICS_MODEL_DIR", None)
        else:
            os.environ["ANALYTICS_MODEL_DIR"] = saved_dir
    return {
        "month": month.isoformat()[:7],
        "orders": n_orders,
        "callbacks": n_callbacks,
        "setup_s": round(setup, 1),
        # ``prepare`` and the default views together (``views_s``): the group's models are fitted
        # beside ``prepare``; ``refresh_s``: everything the import command does after the commit.
        **timed,
        # The month the pages opened on before the import, now an earlier one, as its churn and
        # maintenance pages read it until the pass after the refit has computed it again.
        "earlier_meanwhile": meanwhile,
        "refit_s": round(refit_s, 1),
        "refit": refit,
        "earlier_s": earlier["seconds"],
        "earlier": earlier,
        # The same after a night's export of the next day (models kept: see ``_nightly_refresh``),
        # and after the next night's.
        "nightly": night,
        "nightly_next": next_night,
    }


def _import_and_refresh(
    con: duckdb.DuckDBPyConnection, files: list[Path], expected: tuple[int, int]
) -> dict[str, Any]:
    """Import the work-order and callback files as the import command does, then time what the
    command does after the commit (``views.rebuild``) step by step; return the seconds of each."""
    clock = time.perf_counter()
    inserted: list[int] = []
    for path, kind in zip(files, ("service", "callback"), strict=True):
        for _, res in load.import_files(con, [path], kind=kind, who="bench"):
            if isinstance(res, Exception):
                raise UserError(f"the bench could not import its own file {path.name}: {res}")
            inserted.append(res.inserted)
    imported = time.perf_counter() - clock
    if inserted != list(expected):
        raise UserError(f"the bench's import inserted {inserted} rows, not {list(expected)}")
    clock = time.perf_counter()
    refreshed = sql_marts.refresh(con)
    sql_s = time.perf_counter() - clock
    clock = time.perf_counter()
    kept = views.rebuild_views(con)
    views_s = time.perf_counter() - clock
    return {
        "import_s": round(imported, 2),
        "sql_marts_s": round(sql_s, 2),
        "sql_marts": refreshed,
        "views_s": round(views_s, 1),
        "prepare_s": kept.get("prepare_s"),
        "prepare": kept.get("prepared"),
        "default_views_failed": kept.get("failed", {}),
        # The slowest default views, each with its seconds (the models' overlap ``prepare``).
        "default_views_slowest": dict(sorted(kept.get("each", {}).items(), key=lambda kv: -kv[1])[:8]),
        "refresh_s": round(sql_s + views_s, 1),
    }


def _earlier_month_meanwhile(con: duckdb.DuckDBPyConnection, month: Any) -> dict[str, Any]:
    """Time the churn list and the maintenance scores of the month before ``month`` (the imported
    one) as the dashboard reads them after the refresh, before the refit and its pass over the
    earlier months, as the page reads them (``ui.resources.fitted_view``): ``kept`` (carried into
    the new data version), ``as last computed`` (``marts.stand_in``) or ``computed``."""
    as_of = month - dt.timedelta(days=1)
    version = db.data_version(con)
    out: dict[str, Any] = {"month": as_of.isoformat()[:7]}
    for name in views.STAND_IN_READS:
        call = reads.call(name, as_of=as_of, stores=None)
        clock = time.perf_counter()
        found, _ = marts.stand_in(con, call, version)  # (False, None) when a result is kept
        if found:
            how = "as last computed"
        else:
            how = "kept" if marts.is_kept(con, call, version) else "computed"
            reads.read(con, name, as_of=as_of, stores=None)
        out[name] = {"seconds": round(time.perf_counter() - clock, 2), "read": how}
    return out


def _next_day_files(con: duckdb.DuckDBPyConnection, folder: Path) -> tuple[list[Path], int, int, Any]:
    """Write a night's export of the day after the last one: the last day's work orders and callbacks
    again, one day later under new numbers (the callbacks about the same orders as before); return
    the files, their row counts and the day."""
    folder.mkdir(parents=True, exist_ok=True)
    row = con.execute("SELECT max(visit_date) FROM service_orders").fetchone()
    if not row or row[0] is None:
        raise UserError("the bench database has no work orders")
    last = row[0]
    orders = con.execute(
        "SELECT * FROM service_orders WHERE visit_date = $d ORDER BY order_id", {"d": last}
    ).df()
    orders["order_id"] = orders["order_id"] + "-N1"
    orders["visit_date"] = pd.to_datetime(orders["visit_date"]) + pd.Timedelta(days=1)
    calls = con.execute(
        "SELECT * FROM callbacks WHERE CAST(callback_date AS DATE) = $d ORDER BY callback_id", {"d": last}
    ).df()
    calls["callback_id"] = calls["callback_id"] + "-N1"
    calls["callback_date"] = pd.to_datetime(calls["callback_date"]) + pd.Timedelta(days=1)
    paths = [folder / "work_orders_night.csv", folder / "callbacks_night.csv"]
    orders[list(db.SERVICE_COLUMNS)].to_csv(paths[0], index=False)
    calls[list(db.CALLBACK_COLUMNS)].to_csv(paths[1], index=False)
    return paths, len(orders), len(calls), last + dt.timedelta(days=1)


def _nightly_refresh(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, Any]:
    """Import a night's export of the next day (``_next_day_files``) and time the refresh after it.

    The day is after the models' as-of date (the month the pages open on stays the complete one),
    so the records the models read are unchanged and both are kept (``model_inputs``); the
    refresh scores with them. ``models_fitted`` says whether either was fitted all the same.
    """
    files, n_orders, n_callbacks, day = _next_day_files(con, folder)
    model_files = set(persistence.model_dir().glob(f"*{persistence.MODEL_SUFFIX}"))
    churn_fn = marts.call_of(churn_model.group_model).fn
    churn_kept = con.execute("SELECT max(built_at) FROM marts WHERE name = $n", {"n": churn_fn}).fetchone()
    timed = _import_and_refresh(con, files, (n_orders, n_callbacks))
    churn_now = con.execute("SELECT max(built_at) FROM marts WHERE name = $n", {"n": churn_fn}).fetchone()
    return {
        "day": day.isoformat(),
        "orders": n_orders,
        "callbacks": n_callbacks,
        **timed,
        "models_fitted": {
            "maintenance": bool(
                set(persistence.model_dir().glob(f"*{persistence.MODEL_SUFFIX}")) - model_files
            ),
            "churn": churn_now != churn_kept,
        },
    }
