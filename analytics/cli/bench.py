"""The ``bench`` command: timings on a large generated database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from analytics.core.errors import UserError
from analytics.devtools import bench_browser
from analytics.devtools.bench import (
    DEFAULT_DIR,
    DEFAULT_ORDERS,
    _table,
    markdown,
    run,
)

# The parts of the bench, in the order it runs them.
PARTS = ("import", "pages", "views", "queries", "models", "browser", "refresh")


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.orders < 1_000:
        raise UserError("--orders must be at least 1,000.")
    if args.only and args.skip:
        raise UserError("Use --only or --skip, not both.")
    skip = frozenset(PARTS) - frozenset(args.only) if args.only else frozenset(args.skip or ())
    result = run(
        args.orders,
        db_file=Path(args.db) if args.db else None,
        rebuild=args.rebuild,
        csv_rows=args.csv_rows,
        xlsx_rows=args.xlsx_rows,
        skip=skip,
        browser_pages=args.browser_page,
        browser_langs=tuple(args.browser_lang or bench_browser.LANGS),
        progress=(lambda _m: None)
        if args.json or args.markdown
        else (lambda m: print(f"... {m}", flush=True)),
    )
    if args.markdown:
        print(markdown(result))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else _table(result))
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``bench`` command."""
    p = sub.add_parser(
        "bench",
        help="measure import, page, query and model speed on a group-sized demo database",
        description=(
            "Build (or reuse) a group-sized demo database and measure import throughput, every page "
            "cold and warm through app.py, each analytics function against its bare SQL, the models, "
            "every page and chart image in headless Chromium, the refresh after importing one month's "
            "files, and peak memory; compare them with the budgets."
        ),
    )
    p.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="work orders in the group database")
    p.add_argument(
        "--db", metavar="PATH", help=f"the bench database (default {DEFAULT_DIR}/group_<orders>.duckdb)"
    )
    p.add_argument("--rebuild", action="store_true", help="build the database afresh even if it exists")
    p.add_argument("--csv-rows", type=int, default=100_000, help="rows in the CSV import test")
    p.add_argument("--xlsx-rows", type=int, default=20_000, help="rows in the XLSX import test")
    p.add_argument(
        "--skip",
        action="append",
        choices=PARTS,
        help="leave a part out (repeatable)",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeatable), e.g. --only import for the import rates alone",
    )
    p.add_argument(
        "--browser-page",
        action="append",
        choices=bench_browser.pages_of_app(),
        help="in the browser section, only these pages (repeatable; default every page)",
    )
    p.add_argument(
        "--browser-lang",
        action="append",
        choices=bench_browser.LANGS,
        help="in the browser section, only these languages (repeatable; default both)",
    )
    p.add_argument("--json", action="store_true", help="print the JSON document")
    p.add_argument("--markdown", action="store_true", help="print the README's performance tables")
    p.set_defaults(handler=_cmd_bench)
