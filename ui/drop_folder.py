"""The server's own drop folder (``[watch] server_folder`` in settings, or ``$ANALYTICS_WATCH_DIR``).

Off by default. When set, one background thread per server process (``st.cache_resource``)
does what ``python -m analytics watch DIR`` does: every ``interval_seconds`` it imports the
files that have stopped changing, each in its own transaction, and moves them to done/ or
refused/ with their reports. After an import the pages' caches and views are refreshed as after
an import on the Data page.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from analytics.core.config import db_path, settings
from analytics.services import watch
from ui.data import clear_caches, handles

WATCH_ENV = "ANALYTICS_WATCH_DIR"
_log = logging.getLogger(__name__)


def configured_folder() -> str:
    """Return the folder the server should watch ("" when the option is off)."""
    return os.environ.get(WATCH_ENV) or str(settings().watch.server_folder or "")


def watch_pass(folder: Path, database: str, settle_seconds: float, lang: str) -> list[watch.FileOutcome]:
    """Run one pass over the folder in this server process; refresh caches when something landed."""
    ready, _busy = watch.ready_files(folder, settle_seconds)
    if not ready:
        return []
    # A writable handle of the server's own: imports take turns with the Data page's
    # (db.write_transaction), and with other programs' (it waits while one holds the file).
    with handles(database).writing() as cur:
        outcomes = watch.process_folder(cur, folder, ready, (), lang, refresh_marts=False)
    if any(o.result is not None and (o.result.inserted or o.result.updated) for o in outcomes):
        clear_caches()
    for outcome in outcomes:
        _log.info("drop folder: %s", watch.summary_line(outcome))
    return outcomes


@dataclass
class Watcher:
    """The server's drop-folder thread and the event that stops it."""

    thread: threading.Thread
    stopping: threading.Event

    def stop(self, timeout: float = 30.0) -> None:
        """Let the pass under way finish, then end the thread."""
        self.stopping.set()
        self.thread.join(timeout)


def _loop(folder: Path, database: str, stopping: threading.Event) -> None:
    cfg = settings().watch
    settle, interval = cfg.settle_seconds, cfg.interval_seconds
    lang = settings().display.default_language
    while not stopping.is_set():
        try:
            watch_pass(folder, database, settle, lang)
        except Exception:  # noqa: BLE001 - the thread must outlive a locked database or a vanished folder
            _log.exception("drop folder %s: this pass failed; trying again in %s s", folder, interval)
        stopping.wait(interval)


@st.cache_resource(show_spinner=False)
def _watcher(folder: str, database: str) -> Watcher:
    stopping = threading.Event()
    thread = threading.Thread(
        target=_loop, args=(Path(folder), database, stopping), name="drop-folder", daemon=True
    )
    watcher = Watcher(thread, stopping)
    thread.start()
    # A daemon thread cut off inside DuckDB at interpreter exit aborts the process: end it first.
    atexit.register(watcher.stop)
    return watcher


def start_drop_folder() -> Watcher | None:
    """Start the server's drop-folder thread once per process when configured; return it (None when off)."""
    folder = configured_folder()
    if not folder:
        return None
    return _watcher(folder, str(db_path()))
