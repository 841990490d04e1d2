"""The ``demo`` command: build the demo database, or write its data as DMS-style files."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from analytics.cli import add_db_option
from analytics.core.config import db_path
from analytics.core.errors import UserError
from analytics.devtools import demo
from analytics.services import views
from analytics.store import audit, db


def _db_holds_data(path: Path) -> tuple[int, int] | None:
    """Return (work orders, callbacks) in an existing database, or None when it has none."""
    if str(path) == ":memory:" or not path.exists():
        return None
    con = db.connect(path, read_only=True)
    try:
        names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"service_orders", "callbacks"} <= names:
            return None
        orders = con.execute("SELECT count(*) FROM service_orders").fetchone()
        calls = con.execute("SELECT count(*) FROM callbacks").fetchone()
    finally:
        con.close()
    n_orders = int(orders[0]) if orders else 0
    n_calls = int(calls[0]) if calls else 0
    return (n_orders, n_calls) if n_orders or n_calls else None


def _parse_end(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.stores < 1 or args.stores > 200:
        raise UserError("--stores must be between 1 and 200.")
    if not (0 < args.scale <= 100):
        raise UserError(
            "--scale must be a positive number up to 100 (1 gives about 10,000 vehicles per store)."
        )
    cfg = demo.DemoConfig(seed=args.seed, stores=args.stores, scale=args.scale, end=args.end)
    path = db_path(args.db)
    if args.force:
        for p in (path, Path(f"{path}.wal")):
            if str(p) != ":memory:" and p.exists():
                p.unlink()
    else:
        held = _db_holds_data(path)
        if held:
            raise UserError(
                f"The database {path} already holds data ({held[0]:,} work orders, {held[1]:,} callbacks); "
                "use --force to delete it and build the demo afresh, or choose another file with --db."
            )

    def show(fraction: float, message: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {message}", flush=True)

    summary = demo.build_demo(
        path,
        cfg,
        files_dir=Path(args.files_dir) if args.files_dir else None,
        progress=show,
        xlsx=False if args.csv_only else None,
    )
    summary["db"] = str(path)
    con = db.connect(path)
    try:  # the demo is an import too: it goes into the audit log like any other
        # What the simulator made and what the database holds after its planted bad rows were
        # rejected: the log said "inserted" 41,022 work orders of which 41,019 were stored.
        orders, callbacks = con.execute(
            "SELECT (SELECT count(*) FROM service_orders), (SELECT count(*) FROM callbacks)"
        ).fetchall()[0]
        stored = {"orders": int(orders), "callbacks": int(callbacks)}
        summary["stored"] = stored
        audit.record(
            con,
            audit.cli_user(),
            audit.CLI_ROLE,
            "import",
            {"file": "demo", "kind": "demo", "generated": summary["sizes"], "stored": stored},
        )
    finally:
        con.close()
    if not args.no_marts:
        show(1.0, "preparing the dashboard's default views (models, themes, KPIs)")
        con = db.connect(path)
        try:
            summary["seconds"]["marts"] = views.rebuild(con)["seconds"]
        finally:
            con.close()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    sizes = summary["sizes"]
    secs = summary["seconds"]
    stored = summary["stored"]
    print(
        f"Demo dealership built in {path}: {sizes['vehicles']:,} vehicles, {sizes['orders']:,} work orders and "
        f"{sizes['callbacks']:,} callbacks simulated ({sizes['distinct_comments']:,} distinct comments); "
        f"{summary['rejected']} rows rejected (the demo plants {sizes['planted_bad_rows']} with impossible dates): "
        f"{stored['orders']:,} work orders and {stored['callbacks']:,} callbacks stored."
    )
    print(
        f"Time: {secs['generate']} s simulating, {secs['write_files']} s writing files, "
        f"{secs['import']} s importing ({secs['total']} s in all). Files in {summary['files_dir']}."
    )
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``demo`` command on the CLI's subparsers."""
    p = sub.add_parser(
        "demo",
        help="build the embedded demo dealership (simulated, deterministic) into the database",
        description="Simulate a dealership, write its DMS-style export files, and import them.",
    )
    p.add_argument(
        "--seed", type=int, default=7, help="random seed; the same seed gives the same data (default 7)"
    )
    p.add_argument("--stores", type=int, default=1, help="number of stores in the group (default 1)")
    p.add_argument(
        "--scale", type=float, default=1.0, help="vehicles per store in units of 10,000 (default 1)"
    )
    p.add_argument(
        "--end", type=_parse_end, default=date(2026, 10, 31), help="last day of the data, YYYY-MM-DD"
    )
    p.add_argument(
        "--files-dir", metavar="DIR", help=f"where to write the DMS files (default {demo.DEFAULT_FILES_DIR})"
    )
    p.add_argument("--csv-only", action="store_true", help="write callbacks as CSV instead of XLSX (faster)")
    p.add_argument("--force", action="store_true", help="delete the database file first if it holds data")
    p.add_argument("--json", action="store_true", help="print the sizes and timings as JSON")
    p.add_argument(
        "--no-marts", action="store_true", help="skip preparing the dashboard's default views afterwards"
    )
    add_db_option(p)
    p.set_defaults(handler=_cmd_demo)
