"""Command line: ``python -m analytics <command>``; a thin layer over the typed core.

Each command lives in the module that owns its logic and registers itself through
``add_commands(subparsers)``. Bad input exits 2 with one sentence on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from analytics.core.config import db_path, settings
from analytics.core.errors import UserError
from analytics.store import db
from analytics.store.audit import printable

if TYPE_CHECKING:  # pandas is imported by the commands that print tables, not by every command
    import pandas as pd

# The module that registers each command, in the order they appear in --help. A command
# imports only its own module: the model and deck modules take seconds to import, which an
# import or rollback should not pay.
COMMANDS: dict[str, str] = {
    "import": "analytics.cli.ingest",
    "imports": "analytics.cli.ingest",
    "rollback": "analytics.cli.ingest",
    "demo": "analytics.cli.demo",
    "report": "analytics.cli.report",
    "themes": "analytics.cli.themes",
    "churn": "analytics.cli.churn",
    "maintenance": "analytics.cli.maintenance",
    "deck": "analytics.cli.deck",
    "marts": "analytics.cli.marts",
    "audit": "analytics.cli.audit",
    "backup": "analytics.cli.backup",
    "restore": "analytics.cli.backup",
    "hash-password": "analytics.cli.auth",
    "bench": "analytics.cli.bench",
    "watch": "analytics.cli.watch",
    "send": "analytics.cli.send",
    "export-parquet": "analytics.cli.warehouse",
}
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser with every registered command, or only the module of ``command``."""
    parser = argparse.ArgumentParser(
        prog="python -m analytics",
        description="After-sales customer-service analytics: import DMS exports, build the demo, report.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).add_commands(sub)
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """Add the shared ``--db`` option to a subcommand parser."""
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="DuckDB file (default: $ANALYTICS_DB or data/dashboard.duckdb)",
    )


def existing_db(explicit: str | None) -> Path:
    """Return the database path a reading command names, or refuse with the sentence saying how to get one."""
    target = db_path(explicit)
    if str(target) != ":memory:" and not target.exists():
        raise UserError(
            f"There is no database at {target}; build the demo (python -m analytics demo) or import files first."
        )
    return target


def printable_table(frame: pd.DataFrame) -> str:
    """Return ``frame`` as the text table a command prints, its texts (names, plates, reasons as
    imported) and column names with their controls written as escapes (``audit.printable``)."""
    import pandas as pd

    shown = frame.rename(columns=lambda c: printable(c) if isinstance(c, str) else c)
    for column in shown.columns:
        if shown[column].dtype == object or pd.api.types.is_string_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: printable(v) if isinstance(v, str) else v)
    return shown.to_string(index=False)


def _error(sentence: object) -> None:
    """Print an error sentence on stderr, on one line, with the controls in it (of a store's, a
    file's or a header's name it quotes, of a robot's answer) written as escapes, so it cannot drive
    the terminal, add a line to a cron log or reverse one."""
    print(f"error: {printable(sentence)}", file=sys.stderr)


# Ctrl-C in a command: each step it finished is committed (an import's files reported above it are in);
# the step it was in is rolled back whole. "The database keeps its state from before this command"
# was false after an import of several files, the first of them already in.
INTERRUPTED = (
    "interrupted; what the command finished before this (each file reported above) is kept, "
    "and the step it was in was not written."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (0 done, 2 refused input)."""
    given = list(sys.argv[1:] if argv is None else argv)
    try:
        settings()  # read and checked once, before any command's defaults come from it
        parser = build_parser(given[0] if given else None)
    except UserError as exc:
        _error(exc)
        return 2
    except KeyboardInterrupt:  # while the command's modules load: nothing was done yet
        print("interrupted before the command started; nothing was changed.", file=sys.stderr)
        return 130
    args = parser.parse_args(given)
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        _error(exc)
        return 2
    except duckdb.Error as exc:
        # A checksum mismatch or a stray write-ahead log surfaces on the first read, not only at open.
        fault = db.damaged(db_path(getattr(args, "db", None)), exc)
        if fault is not None:
            _error(fault)
            return 2
        if not isinstance(exc, duckdb.IOException):
            raise
        _error(f"the database cannot be used: {exc}")
        return 2
    except (KeyboardInterrupt, duckdb.InterruptException):
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of the output has gone (`... | head`); what was done stays done. Python's
        # flush at exit would meet the closed pipe again, so the rest goes nowhere. 141 is what a
        # shell reports for a program stopped by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except RuntimeError as exc:
        if str(exc) != "Query interrupted":  # DuckDB 2's form of Ctrl-C in the middle of a query
            raise
        print(INTERRUPTED, file=sys.stderr)
        return 130
