"""Command line: ``python -m analytics <command>``; a thin layer over the typed core.

Each command lives in the module that owns its logic and registers itself through
``add_commands(subparsers)``. Bad input exits 2 with one sentence on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import duckdb

from analytics.errors import UserError

# Modules that contribute subcommands, in the order they appear in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "analytics.ingest.commands",
    "analytics.demo",
    "analytics.kpi",
    "analytics.themes",
    "analytics.churn",
    "analytics.maintenance",
    "analytics.deck",
    "analytics.audit",
    "analytics.auth",
    "analytics.marts",
    "analytics.bench",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="python -m analytics",
        description="After-sales customer-service analytics: import DMS exports, build the demo, report.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """Add the shared ``--db`` option to a subcommand parser."""
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="DuckDB file (default: $ANALYTICS_DB or data/dashboard.duckdb)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (0 done, 2 refused input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.IOException as exc:
        print(f"error: the database cannot be used: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the database keeps its state from before this command.", file=sys.stderr)
        return 130
