"""Page timings for ``python -m analytics bench``: every page cold and warm, through ``app.py``.

Run as ``python -m ui.bench_pages --out FILE`` with ``ANALYTICS_DB`` set; writes (``safe_payload``)
``{"pages": {page: {"cold_s", "warm_s"}}, "calls": [...]}``. *Cold* is the page's first run
after the process's data and resource caches are cleared (a fresh server, or the first visit
after an import); *warm* is the next run of the same page in the same session (a rerun after a
click, or a second visitor). ``calls`` lists every analytics function the runs called through
``ui.data.load`` and ``ui.resources.fitted``, with its arguments, so the bench can time each
against its bare SQL.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics.core import safe_payload
from analytics.core.config import db_path, settings
from analytics.domain import facts
from analytics.services import reads
from analytics.store import db
from ui import data, resources

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
PAGES: list[str] = re.findall(r'st\.Page\(\s*"(pages/[a-z_]+\.py)"', APP.read_text(encoding="utf-8"))
TIMEOUT_S = 900


def _trace(calls: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Wrap the two cached call tiers so every distinct analytics call is remembered."""
    for module, name, kind in ((data, "_cached_call", "query"), (resources, "_fitted_call", "fitted")):
        original = getattr(module, name)

        def traced(
            fn_path: str,
            database: str,
            version: int,
            models: str,
            args: tuple[Any, ...],
            kwargs: tuple[tuple[str, Any], ...],
            _cur: Any,
            _original: Any = original,
            _kind: str = kind,
            **stand_in: bool,
        ) -> Any:
            note = repr((args, kwargs))
            if not stand_in.get("stand_in"):  # a look for a result as last computed is no call
                calls.setdefault(
                    (fn_path, note),
                    {"fn": fn_path, "args": args, "kwargs": dict(kwargs), "kind": _kind, "note": note[:80]},
                )
            return _original(fn_path, database, version, models, args, kwargs, _cur, **stand_in)

        traced.clear = original.clear  # type: ignore[attr-defined]
        setattr(module, name, traced)


def _run(at: AppTest) -> float:
    clock = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - clock
    if at.exception:
        raise RuntimeError(f"{at.exception[0].message}")
    return round(seconds, 3)


def time_pages(pages: list[str]) -> dict[str, dict[str, float]]:
    """Return cold and warm seconds of a full app.py run showing each page."""
    out: dict[str, dict[str, float]] = {}
    for page in pages:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
        at.switch_page(page)
        st.cache_data.clear()
        st.cache_resource.clear()
        cold = _run(at)
        warm = _run(at)
        out[page.removeprefix("pages/").removesuffix(".py")] = {"cold_s": cold, "warm_s": warm}
    return out


# With every month computed ahead, the bench's second month is this many months before the default
# one: a year and a half back, past the twelve months kept before "all" became the default.
FAR_BACK = 18


def other_views(months: list[str], stores: list[str], default_month: str) -> dict[str, dict[str, Any]]:
    """Return views other than the all-stores default (issue 20's "any view"), as the link's query
    parameters: six months before the default month and a month further back (the refit computes
    every page's views of ``[database] months_ahead`` months ahead,
    ``views.keep_earlier``: with "all", both; with a count, the second is six months beyond them,
    nothing prepared for it), one store (whose default view an import prepares, as it does each
    store's), and both."""
    earlier = sorted(m for m in months if m < default_month)
    month = earlier[-6] if len(earlier) >= 6 else (earlier[0] if earlier else default_month)
    out: dict[str, dict[str, Any]] = {f"month {month}": {"month": month}}
    ahead = settings().database.months_ahead
    back = FAR_BACK if ahead == "all" else ahead + 6
    if len(earlier) >= back:
        note = f"{back} months back" if ahead == "all" else "not computed ahead"
        out[f"month {earlier[-back]} ({note})"] = {"month": earlier[-back]}
    if len(stores) > 1:
        out[f"store {stores[0]}"] = {"stores": stores[0]}
        out[f"month {month}, store {stores[-1]}"] = {"month": month, "stores": stores[-1]}
    return out


def time_views(pages: list[str], views: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Return, for each view and page, the first run ever of that view (nothing kept for it yet:
    *cold*) and the next run in the same session (*warm*)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, params in views.items():
        out[name] = {}
        for page in pages:
            at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
            for key, value in params.items():
                at.query_params[key] = value
            at.switch_page(page)
            st.cache_data.clear()
            st.cache_resource.clear()
            cold = _run(at)
            warm = _run(at)
            out[name][page.removeprefix("pages/").removesuffix(".py")] = {"cold_s": cold, "warm_s": warm}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.bench_pages")
    parser.add_argument("--out", required=True)
    parser.add_argument("--page", action="append", help="only these pages (e.g. pages/churn.py)")
    parser.add_argument("--views", action="store_true", help="also time views other than the defaults")
    args = parser.parse_args(argv)
    calls: dict[tuple[str, str], dict[str, Any]] = {}
    _trace(calls)
    pages = args.page or PAGES
    # The libraries a running server imports in the background after its first page, imported
    # first: *cold* is the first visit after an import (or of a view) on a server that has served
    # a page, not a server's own start (the browser section times that). The pages run back to
    # back here, with none of the pauses between a person's clicks in which the warm-up runs.
    resources.warm_up()
    result: dict[str, Any] = {"pages": time_pages(pages), "calls": list(calls.values())}
    if args.views:
        con = db.connect(db_path(), read_only=True)
        try:
            months = reads.read(con, "facts.months")
            stores = reads.read(con, "facts.stores")
            summary = reads.read(con, "facts.summary")
        finally:
            con.close()
        default = facts.default_month(months, str(summary["last_visit"] or ""))
        result["views"] = time_views(pages, other_views(months, stores, default))
    Path(args.out).write_bytes(safe_payload.encode(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
