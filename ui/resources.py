"""Fitted models cached per server process, keyed by the data version (``st.cache_resource``).

A model is fitted once per data version and set of arguments; every session shares it, so it
must be treated as read-only. An import or rollback bumps the data version and the next call
fits afresh.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb
import streamlit as st

from analytics.domain.themes import segmentation
from analytics.services import marts, reads
from analytics.store import db
from ui.data import snapshot, source

_log = logging.getLogger(__name__)

T = TypeVar("T")


@st.cache_resource(max_entries=8, show_spinner=False)
def _fitted_call(
    fn_path: str,
    database: str,
    version: int,
    models: str,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
    _cur: duckdb.DuckDBPyConnection,
    stand_in: bool = False,
    of_stores: tuple[str, ...] = (),
) -> Any:
    call = marts.Call(fn_path, args, kwargs)
    if stand_in:  # ``(found, result)``: the result as last computed (``fitted_view``)
        found, value = marts.stand_in(_cur, call, version)
        if of_stores:  # ``call`` is the group's: its stand-in's rows of these stores (not held whole)
            return (True, value.of_stores(of_stores)) if found else (False, None)
        return found, value
    return marts.cached(_cur, call, version=version, as_is=True)


def fitted(name: str, **kwargs: Any) -> Any:
    """Return the named read ``name`` once per data version and arguments: the shared result."""
    call = reads.call(name, **kwargs)
    # Fitted on one committed state, filed under that state's version.
    with snapshot() as (cur, version):
        # Keyed by when the models were last fitted too (``data.load``): a refit keeps the version.
        return _fitted_call(call.fn, source(), version, db.models_stamp(cur), call.args, call.kwargs, cur)


def fitted_view(name: str, **kwargs: Any) -> tuple[Any, bool]:
    """Return ``fitted``'s result and False; or, while an import's or a refit's views of the
    earlier months are computed again in the background (``views.keep_earlier``, eight minutes
    at a million work orders, where one month costs 7-11 s to score on a page), this month's
    result as last computed (``marts.stand_in``) and True: the page says so. Its cache entry is
    apart, so the result that replaces it is read as soon as it is kept.

    A chosen stores' view with nothing kept or set aside of its own, where it is the group's
    filtered (``reads.group_call``: the churn list and the maintenance scores) and the group's is
    not kept either, is the group's stand-in's rows of those stores (a store's maintenance scores
    cost 1.4-2.8 s to compute at group scale)."""
    call = reads.call(name, **kwargs)
    with snapshot() as (cur, version):
        models = db.models_stamp(cur)
        key = (call.fn, source(), version, models, call.args, call.kwargs)
        if not marts.is_kept(cur, call, version):
            found, value = _fitted_call(*key, cur, stand_in=True)
            if found:
                return value, True
            group = reads.group_call(name, **kwargs)
            # When the group's is kept, the store's is computed as before (maintenance filters it).
            if group is not None and not marts.is_kept(cur, group, version):
                stores = reads.stores("stores", kwargs.get("stores")) or ()
                at = (group.fn, source(), version, models, group.args, group.kwargs)
                found, value = _fitted_call(*at, cur, stand_in=True, of_stores=stores)
                if found:
                    return value, True
        return _fitted_call(*key, cur), False


def forget_fitted() -> None:
    """Drop every fitted result this server process holds (after a retrain replaced one)."""
    _fitted_call.clear()


# What the pages' models and kept results need from scikit-learn (the analytics import it where a
# model is fitted or read back, since it takes seconds): the server imports them once, in the
# background, after it has served its first page, so the first visitor of a view that fits or
# reads a model does not wait for the import. The Chinese segmenter is loaded after them.
WARM_MODULES: tuple[str, ...] = (
    "sklearn.linear_model",
    "sklearn.preprocessing",
    "sklearn.decomposition",
    "sklearn.feature_extraction.text",
    "sklearn.ensemble",
    "sklearn.calibration",
    "sklearn.isotonic",
    # Reads kept models back (``safe_payload``): 0.3-0.5 s to import, paid by the first visitor of
    # another month's themes before it was warmed up.
    "skops.io",
)


# The pages' script runs in progress in this process, and when the last one ended: the warm-up
# imports a module only once no page has run for ``QUIET_S``, so a visitor's next page does not
# share the interpreter with it (on the group, the satisfaction page run right after the
# overview's first run took 1.70-1.79 s, and 0.67-0.88 s once the warm-up had finished).
QUIET_S = 0.5
_activity = threading.Condition()
_runs = {"running": 0, "ended": 0.0}


@contextmanager
def script_run() -> Iterator[None]:
    """Count a page's script run (``app.py`` wraps each in it) while it runs."""
    with _activity:
        _runs["running"] += 1
    try:
        yield
    finally:
        with _activity:
            _runs["running"] -= 1
            _runs["ended"] = time.monotonic()
            _activity.notify_all()


def wait_until_quiet(quiet: float = QUIET_S) -> None:
    """Return once no page's script has run for ``quiet`` seconds."""
    with _activity:
        while True:
            if _runs["running"]:
                _activity.wait()
                continue
            idle = time.monotonic() - _runs["ended"]
            if idle >= quiet:
                return
            _activity.wait(quiet - idle)


def _import_all(attempts: int = 3) -> list[str]:
    """Import ``WARM_MODULES``; return those that would not import (best effort, never raises).

    A page's script run inserts its folder at the head of ``sys.path`` and removes it again, and
    an import walking that list in another thread at that moment can skip the next entry, the
    packages folder among them ("No module named 'sklearn'", seen once in CI). So a failed import
    is tried again; one that still fails is left to the page that needs it, which imports it itself.
    """
    missed: list[str] = []
    for name in WARM_MODULES:
        wait_until_quiet()  # a module at a time, between the pages' runs
        for attempt in range(attempts):
            try:
                importlib.import_module(name)
                break
            except ImportError:
                if attempt == attempts - 1:
                    missed.append(name)
                    _log.warning("library warm-up: %s did not import; the page that needs it will", name)
                else:
                    time.sleep(0.5)
    return missed


def _load_segmenter() -> bool:
    """Load the Chinese segmenter: jieba's dictionary with the domain words, and its part-of-speech
    table (about 1.1 s at first use: the first visitor of a themes view that is not kept, another
    month, paid it); return whether it loaded (best effort, never raises)."""
    try:
        segmentation.tokenize(["保养服务很周到"])
        segmentation.pos_tag("保养")
    except Exception:  # noqa: BLE001 - the page that needs the segmenter loads it itself
        _log.warning(
            "library warm-up: the segmenter did not load; the page that needs it will", exc_info=True
        )
        return False
    return True


_frozen = threading.Lock()
_heap_frozen = False


def freeze_heap() -> bool:
    """Move what the process holds now (the libraries' modules, classes and functions, the
    segmenter's tables: about 300,000 objects a full collection walks) out of the garbage
    collector's reach, once per process; return whether this call did it.

    The collector's full passes otherwise land inside page runs: on the group, up to a third of a
    second each (README, "Performance at group scale"). Objects made later are collected as
    before. Unfrozen at exit, so that the interpreter's last collection frees them (native
    libraries report what is still alive then as leaks)."""
    global _heap_frozen
    with _frozen:
        if _heap_frozen:
            return False
        gc.collect()  # garbage first: a frozen cycle is never freed (reference counts still free the rest)
        gc.freeze()
        atexit.register(gc.unfreeze)
        _heap_frozen = True
        return True


def warm_up() -> None:
    """Import ``WARM_MODULES`` and load the segmenter, each step once the pages are quiet, then
    take what they hold out of the garbage collector's passes (``freeze_heap``)."""
    _import_all()
    wait_until_quiet()
    _load_segmenter()
    wait_until_quiet()
    freeze_heap()


@st.cache_resource(show_spinner=False)
def start_library_warmup() -> threading.Thread:
    """Start importing ``WARM_MODULES`` and loading the segmenter in a daemon thread, once per
    server process; return it."""
    thread = threading.Thread(target=warm_up, name="library-warmup", daemon=True)
    thread.start()
    return thread
