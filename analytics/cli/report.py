"""The ``report`` command: a month's KPIs against their targets, as a table or JSON."""

from __future__ import annotations

import argparse

from analytics.cli import add_db_option, existing_db
from analytics.cli.stores import named_stores
from analytics.core.config import settings
from analytics.core.i18n import text
from analytics.domain.kpi import format_table, parse_month, with_field_status
from analytics.services import reads
from analytics.store import db
from analytics.store.audit import dumps


def _cmd_report(args: argparse.Namespace) -> int:
    target = existing_db(args.db)
    month = parse_month(args.month)
    con = db.connect(target, read_only=True)
    try:
        stores = named_stores(con, args.store)
        figures = reads.read(con, "kpi.report", month=month, stores=stores)
        result = with_field_status(figures, reads.read(con, "kpi.missing"), args.lang)
        storeless = reads.read(con, "counts.storeless", month=month) if stores else 0
    finally:
        con.close()
    if stores:
        # Callbacks no store is named for count in every store's figures but in no store's.
        result["storeless_callbacks"] = storeless
    if args.json:
        print(dumps(result))
    else:
        print(format_table(result, args.lang, stores))
        if storeless:
            print(text("overview.storeless", args.lang, n=storeless, month=f"{month:%Y-%m}"))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the ``report`` command."""
    p = sub.add_parser(
        "report",
        help="the month's KPIs with their n, targets, previous month and same month last year",
        description="Print the KPIs of PRODUCT.md §2 for one month, as a table or as JSON.",
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="calendar month to report")
    p.add_argument(
        "--store",
        action="append",
        metavar="S",
        help="restrict to this store (repeat for several); default all stores",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--lang",
        choices=("en", "zh"),
        default=settings().display.default_language,
        help="label language of the table (default from settings)",
    )
    add_db_option(p)
    p.set_defaults(handler=_cmd_report)
