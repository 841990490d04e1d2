"""Database handles and cached loaders: two tiers, keyed by the data version.

The server keeps no database handle between uses (issue 21): ``reading()`` and ``writing()``
lend a cursor for one ``with`` block from the process's ``db.Handles``, read-only for reads, so
command-line jobs (an import from cron, ``report``, ``backup``) and other dashboard processes
open the same file meanwhile. While another program writes, a page waits for it (``[database]
lock_wait_seconds``) saying that an import is being written, instead of failing.
``st.cache_data`` holds query results keyed by the named read (``analytics.services.reads``), its
normalised arguments and the data version, so an import or rollback (which bumps the version), from this server or from a
command, refreshes every page.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

import duckdb
import streamlit as st

from analytics.core.config import db_path, parquet_dir, settings
from analytics.core.errors import DatabaseLocked, UserError
from analytics.services import marts, reads, views, warehouse
from analytics.store import backup, db
from ui.i18n import lang, t

T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def handles(path: str) -> db.Handles:
    """Return this server process's lender of handles on the database at ``path``."""
    keep_open = settings().database.keep_open_seconds
    lender = db.Handles(path, keep_open=keep_open)
    atexit.register(lender.close)  # not left to a timer thread that exit would cut off inside DuckDB
    return lender


@st.cache_resource(show_spinner=False)
def _warehouse_connection(folder: str) -> duckdb.DuckDBPyConnection:
    """The process-wide in-memory DuckDB over a Parquet export (read-only; any number of processes)."""
    return warehouse.connect(folder)


def source() -> str:
    """What the pages read: the Parquet export when one is set, else the database file."""
    return str(parquet_dir() or db_path())


@contextmanager
def _borrowed(write: bool, database: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    # ``database``: the database file even when the pages read a Parquet export (the audit log).
    folder = None if database else parquet_dir()
    if folder is not None:
        # A Parquet export (issue 22): its views over read_parquet are read-only; db.write_transaction
        # refuses imports and rollbacks there with a sentence.
        cur = _warehouse_connection(str(folder)).cursor()
        try:
            yield cur
        finally:
            cur.close()
        return
    lender = handles(str(db_path()))
    notes: list[Any] = []

    def waiting() -> None:
        # Drawn only when another program holds the file, and removed once it lets go.
        notes.append(st.empty())
        notes[0].info(t("app.db_busy"))

    with ExitStack() as stack:
        # Only opening is caught here: an error inside the caller's block is the caller's.
        try:
            cur = stack.enter_context(lender.writing(waiting) if write else lender.reading(waiting))
        except DatabaseLocked as exc:
            for note in notes:
                note.empty()
            st.info(
                t("app.db_locked", path=exc.path, holder=exc.holder, seconds=f"{db.lock_wait_seconds():g}")
            )
            st.stop()
        except UserError as exc:
            st.error(exc.words(lang()))
            st.stop()
        for note in notes:
            note.empty()
        yield cur


@contextmanager
def reading() -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a cursor that reads the database for the length of the block (a read-only handle).

    Another program writing meanwhile (a command-line import) makes the page wait, saying so; a
    file still held after ``lock_wait_seconds`` stops the page with a sentence, not a traceback.
    """
    with _borrowed(False) as cur:
        yield cur


@contextmanager
def writing() -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a cursor on a writable handle for the length of the block (imports, rollbacks, audit rows)."""
    with _borrowed(True) as cur:
        yield cur


@contextmanager
def audit_writing() -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a writable cursor on the database file for an audit row, also when the pages read a
    Parquet export: the export's in-memory views hold no audit log, and every sign-in and download
    of a dashboard over it is recorded in the database file beside it (created when missing)."""
    with _borrowed(True, database=True) as cur:
        yield cur


@contextmanager
def audit_reading() -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a cursor that reads the audit log (the database file, whatever the pages read)."""
    with _borrowed(False, database=True) as cur:
        yield cur


def audit_lender() -> db.Handles:
    """Return the lender of handles on the database file that holds the audit log, for a write made
    outside a script run (a download's file built on a thread of its own), which draws nothing."""
    return handles(str(db_path()))


def data_version() -> int:
    """Return the current data version (changes on every import and rollback)."""
    with reading() as cur:
        return db.data_version(cur)


@contextmanager
def snapshot() -> Iterator[tuple[duckdb.DuckDBPyConnection, int]]:
    """Yield a cursor that reads one committed state of the database, and that state's data version.

    An import committing meanwhile (in another session of this server) is not seen: a figure
    never mixes the state before it with the state after it, and its cache entry is filed under
    the version it was computed from.
    """
    with reading() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur, db.data_version(cur)
        finally:
            cur.execute("ROLLBACK")


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _cached_call(
    fn_path: str,
    database: str,
    version: int,
    models: str,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
    _cur: duckdb.DuckDBPyConnection,
) -> Any:
    # Through the marts, inside the caller's snapshot: a result another process (or an import's
    # rebuild) computed for this data version is read back instead of computed again.
    return marts.cached(_cur, marts.Call(fn_path, args, kwargs), version=version, as_is=True)


def load(name: str, **kwargs: Any) -> Any:
    """Return the named read ``name`` (``reads.READS``) through the data cache, keyed by the data version."""
    call = reads.call(name, **kwargs)
    with snapshot() as (cur, version):
        # Keyed by when the models were last fitted too: a refit after an import changes what
        # the churn and maintenance views score with, not the data version.
        return _cached_call(call.fn, source(), version, db.models_stamp(cur), call.args, call.kwargs, cur)


def clear_caches() -> None:
    """After an import or rollback in this process: drop cached results, refresh the marts.

    The marts (the pages' default views for the new data version) are computed in a
    background thread on a handle it borrows itself, so the Data page answers at once; a page
    opened before they are ready computes its own results, as it would without marts.
    """
    _cached_call.clear()
    database = str(db_path())
    threading.Thread(target=_rebuild_marts, args=(database,), name="marts-rebuild", daemon=True).start()


def _rebuild_marts(database: str) -> None:
    lender = handles(database)
    try:
        if settings().backup.after_import:
            with lender.writing() as cur:
                backup.backup(cur, keep=settings().backup.keep)
    except Exception:  # noqa: BLE001 - a failed backup is logged; the results are still prepared
        logging.getLogger(__name__).exception("the backup after an import failed")
    try:
        with lender.writing() as cur:
            views.rebuild(cur)
    except Exception:  # noqa: BLE001 - a background refresh must never take the server down
        logging.getLogger(__name__).exception("refreshing the marts failed; pages compute their own results")
        return
    # The pages read the new data now; the models a new month calls for are fitted after it,
    # on read-only cursors, so the pages go on reading meanwhile.
    views.refit_after_import(lender, logging.getLogger(__name__).info)
