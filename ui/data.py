"""Connection and cached loaders: two tiers, keyed by the data version.

``st.cache_resource`` holds the one DuckDB connection per server process; ``st.cache_data``
holds query results keyed by the analytics function, its arguments and the data version, so an
import or rollback (which bumps the version) refreshes every page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb
import streamlit as st

from analytics.core.config import db_path, parquet_dir, settings
from analytics.core.errors import DatabaseLocked, UserError
from analytics.services import marts, views, warehouse
from analytics.store import backup, db
from ui.i18n import t

T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    return db.connect(path)


@st.cache_resource(show_spinner=False)
def _warehouse_connection(folder: str) -> duckdb.DuckDBPyConnection:
    """The process-wide in-memory DuckDB over a Parquet export (read-only; any number of processes)."""
    return warehouse.connect(folder)


def source() -> str:
    """What the pages read: the Parquet export when one is set, else the database file."""
    return str(parquet_dir() or db_path())


def connection() -> duckdb.DuckDBPyConnection:
    """Return the process-wide connection to the database named by ``ANALYTICS_DB`` (or to the Parquet
    export ``ANALYTICS_PARQUET`` or ``[warehouse] parquet_dir`` names, read-only).

    The server keeps it open for its whole life, so no other program can open the file while
    the dashboard runs. A database another program holds (an import from the command line,
    say) stops the page with the sentence saying what to do, not a traceback; a failure is not
    cached, so reloading the page once that program has finished opens the database.
    """
    try:
        folder = parquet_dir()
        if folder is not None:
            return _warehouse_connection(str(folder))
        return _connection(str(db_path()))
    except DatabaseLocked as exc:
        st.error(t("app.db_locked", path=exc.path, holder=exc.holder))
        st.stop()
    except UserError as exc:
        st.error(str(exc))
        st.stop()


def shared_connection(path: str) -> duckdb.DuckDBPyConnection:
    """Return the process-wide connection to ``path`` without drawing anything (for background threads)."""
    return _connection(path)


def cursor() -> duckdb.DuckDBPyConnection:
    """Return a fresh cursor: one per query, because reruns run in parallel threads."""
    return connection().cursor()


def data_version() -> int:
    """Return the current data version (changes on every import and rollback)."""
    return db.data_version(cursor())


@contextmanager
def snapshot() -> Iterator[tuple[duckdb.DuckDBPyConnection, int]]:
    """Yield a cursor that reads one committed state of the database, and that state's data version.

    An import committing meanwhile (in another session of this server) is not seen: a figure
    never mixes the state before it with the state after it, and its cache entry is filed under
    the version it was computed from.
    """
    cur = cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        yield cur, db.data_version(cur)
    finally:
        cur.execute("ROLLBACK")
        cur.close()


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _cached_call(
    fn_path: str,
    database: str,
    version: int,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
    _cur: duckdb.DuckDBPyConnection,
) -> Any:
    # Through the marts, inside the caller's snapshot: a result another process (or an import's
    # rebuild) computed for this data version is read back instead of computed again.
    return marts.cached(_cur, marts.Call(fn_path, args, kwargs), version=version, as_is=True)


def load(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn(con, *args, **kwargs)`` through the data cache, keyed by the data version."""
    path = f"{fn.__module__}.{fn.__qualname__}"
    with snapshot() as (cur, version):
        result: T = _cached_call(path, source(), version, args, tuple(sorted(kwargs.items())), cur)
    return result


def clear_caches() -> None:
    """After an import or rollback in this process: drop cached results, refresh the marts.

    The marts (the pages' default views for the new data version) are computed in a
    background thread on a cursor of its own, so the Data page answers at once; a page opened
    before they are ready computes its own results, as it would without marts.
    """
    _cached_call.clear()
    database = str(db_path())
    threading.Thread(target=_rebuild_marts, args=(database,), name="marts-rebuild", daemon=True).start()


def _rebuild_marts(database: str) -> None:
    try:
        if settings().get("backup", {}).get("after_import", True):
            # The server holds the file, so no other program can back it up while it runs.
            backup.backup(_connection(database), keep=int(settings()["backup"].get("keep", backup.KEEP)))
    except Exception:  # noqa: BLE001 - a failed backup is logged; the results are still prepared
        logging.getLogger(__name__).exception("the backup after an import failed")
    try:
        views.rebuild(_connection(database).cursor())
    except Exception:  # noqa: BLE001 - a background refresh must never take the server down
        logging.getLogger(__name__).exception("refreshing the marts failed; pages compute their own results")
