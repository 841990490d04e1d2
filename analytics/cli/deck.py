"""The ``deck`` command: the monthly meeting deck (PPTX) and its chart images."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from analytics.cli import add_db_option, existing_db
from analytics.cli.stores import named_stores
from analytics.core import private_files
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.i18n import LANGUAGES
from analytics.core.months import month_label, parse_month
from analytics.reports.deck import (
    deck_data,
    deck_slides,
    footer_line,
    render,
    write_chart_images,
)
from analytics.reports.export import record_cli_export
from analytics.store import db

# --------------------------------------------------------------------------- command


def _cmd_deck(args: argparse.Namespace) -> int:
    target = existing_db(args.db)
    out = Path(args.out)
    if out.suffix.lower() != ".pptx":
        raise UserError(f"--out {args.out}: the deck is written as a .pptx file.")
    month = month_label(parse_month(args.month))
    started = time.perf_counter()
    con = db.connect(target, read_only=True)
    try:
        stores = named_stores(con, args.store)
        if con.execute("SELECT count(*) FROM service_orders").fetchone() == (0,):
            raise UserError("The database holds no work orders yet; import files or build the demo first.")
        data = deck_data(con, month, stores, maintenance_model=not args.no_model)
    finally:
        con.close()
    slides = deck_slides(data, args.lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    private_files.write_owner_only(out, render(slides, footer_line(data, args.lang)))  # names: owner-only
    record_cli_export(args.db, "deck", out, len(slides), False)
    charts = sum(len(s.charts) for s in slides)
    print(f"{out}: {len(slides)} slides, {charts} charts, {time.perf_counter() - started:.1f} s")
    if args.images:
        paths = write_chart_images(slides, data, args.lang, args.images)
        print(f"{args.images}: {len(paths)} chart images (PNG and SVG)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the ``deck`` command."""
    p = sub.add_parser(
        "deck",
        help="the monthly review deck (PPTX with native charts) for one month",
        description=(
            "Write the monthly review deck: KPIs against targets, what changed, satisfaction with intervals, "
            "dimension drivers, praise and complaint themes, churn and maintenance, each with a takeaway."
        ),
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="calendar month of the deck")
    p.add_argument(
        "--store",
        action="append",
        metavar="S",
        help="restrict to this store (repeat for several); default all stores",
    )
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=settings().display.default_language,
        help="language of the slides (default from settings)",
    )
    p.add_argument("--out", required=True, metavar="FILE.pptx", help="where to write the deck")
    p.add_argument(
        "--images",
        metavar="DIR",
        help="also write every chart as PNG (2x, 16:9) and SVG into DIR (needs Chromium)",
    )
    p.add_argument(
        "--no-model",
        action="store_true",
        help="leave the maintenance model's figures out (no training when no model is saved yet)",
    )
    add_db_option(p)
    p.set_defaults(handler=_cmd_deck)
