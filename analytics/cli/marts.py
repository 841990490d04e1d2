"""The ``marts`` command: rebuild or inspect the results kept per data version."""

from __future__ import annotations

import argparse
import json
from typing import Any

from analytics.cli import add_db_option
from analytics.core.config import db_path
from analytics.services import views
from analytics.store import db


def _cmd_marts(args: argparse.Namespace) -> int:
    con = db.connect(db_path(args.db))
    try:
        result = views.rebuild(
            con, progress=None if args.json else lambda f, m: print(f"[{f:4.0%}] {m}", flush=True)
        )
    finally:
        con.close()
    if not args.json:
        print(
            f"{result['calls']} page results computed for data version {result['version']} in {result['seconds']} s."
        )
    # The models of the month the pages open on, where the results above scored with earlier ones.
    result["refit"] = views.refit_after_import(
        db.Handles(db_path(args.db), keep_open=0), None if args.json else lambda line: print(line, flush=True)
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``marts`` command."""
    p = sub.add_parser(
        "marts",
        help="compute the pages' default results for the current data (imports do this themselves)",
        description="Compute and keep the expensive page results (KPIs, churn, themes, maintenance) "
        "for the latest month and all stores, so the dashboard opens at once.",
    )
    p.add_argument("--json", action="store_true", help="print the timings as JSON")
    add_db_option(p)
    p.set_defaults(handler=_cmd_marts)
