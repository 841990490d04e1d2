"""The ``watch`` command: import DMS exports dropped into a folder."""

from __future__ import annotations

import argparse
import time

from analytics.cli import add_db_option
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.i18n import LANGUAGES
from analytics.services.watch import (
    DONE,
    FileOutcome,
    check_folder,
    load_mappings,
    run_once,
    summary_line,
)
from analytics.store.audit import printable


def _print_outcome(outcome: FileOutcome) -> None:
    print(summary_line(outcome), flush=True)


def _cmd_watch(args: argparse.Namespace) -> int:
    folder = check_folder(args.folder)
    mappings = load_mappings(args.map or [])
    cfg = settings().watch
    settle = cfg.settle_seconds if args.settle is None else float(args.settle)
    interval = cfg.interval_seconds if args.interval is None else float(args.interval)
    if settle < 0 or interval <= 0:
        raise UserError("--settle must be 0 or more seconds and --interval more than 0 seconds.")
    while True:
        outcomes, busy = run_once(
            folder, args.db, mappings, settle, args.lang, _print_outcome, lambda line: print(line, flush=True)
        )
        for path in busy:
            print(f"{printable(path.name)}: still being written; left for the next pass", flush=True)
        if args.once:
            done = sum(o.status == DONE for o in outcomes)
            print(
                f"{folder}: {done} imported, {len(outcomes) - done} refused, {len(busy)} still being written"
            )
            return 0
        time.sleep(interval)


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``watch`` command."""
    p = sub.add_parser(
        "watch",
        help="import DMS exports dropped into a folder, moving each to done/ or refused/ with its report",
        description="Import every file dropped into DIR in its own transaction (the kind told from the headers, "
        "or from a saved mapping), then move it to DIR/done/ or DIR/refused/ with NAME.report.json and "
        "NAME.report.txt beside it and a line in the audit log. Files still being written (temporary names, "
        "or a size or time that is still changing) wait for the next pass. A refused file does not stop the "
        "others; the exit code is 0 unless the folder or the database cannot be used.",
    )
    p.add_argument("folder", metavar="DIR", help="the drop folder")
    p.add_argument("--once", action="store_true", help="process what is there and exit (for cron)")
    p.add_argument(
        "--map",
        action="append",
        metavar="F",
        help="a saved column mapping to try when a file's headers are not recognised (repeat for several)",
    )
    p.add_argument(
        "--settle",
        type=float,
        metavar="S",
        help="seconds a file's size and time must hold still before it is read (default from settings)",
    )
    p.add_argument(
        "--interval",
        type=float,
        metavar="S",
        help="seconds between passes without --once (default from settings)",
    )
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=settings().display.default_language,
        help="language of the readable reports (default from settings)",
    )
    add_db_option(p)
    p.set_defaults(handler=_cmd_watch)
