"""The ``export-parquet`` command: the canonical tables and the KPI mart as partitioned Parquet."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analytics.cli import add_db_option
from analytics.core.config import db_path
from analytics.core.errors import UserError
from analytics.services import warehouse
from analytics.store import db


def _export_command(args: argparse.Namespace) -> int:
    target = db_path(args.db)
    if str(target) != ":memory:" and not Path(target).exists():
        raise UserError(f"There is no database at {target}; build the demo or import files first.")
    con = db.connect(target, read_only=True)
    try:
        result = warehouse.export(con, args.dir, full=args.full)
    finally:
        con.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(
        f"exported data version {result['data_version']} to {result['dir']} in {result['seconds']:.1f} s "
        f"({result['bytes'] / 1e6:,.1f} MB of Parquet)"
    )
    for name, done in result["tables"].items():
        print(
            f"  {name}: {done['rows']:,} rows; partitions written {done['written']}, "
            f"unchanged {done['unchanged']}, deleted {done['deleted']}"
        )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``export-parquet`` command."""
    p = sub.add_parser(
        "export-parquet",
        help="write the tables and the KPI mart as Parquet partitioned by store and month (incremental)",
        description="Write service_orders, callbacks, comment_tokens, vehicles, imports, meta and the KPI "
        "mart (one row per store and month with each KPI's numerator and denominator) under DIR as "
        "Parquet partitioned Hive-style (store=…/month=…), with DIR/manifest.json holding the data "
        "version and a content hash per partition. A rerun rewrites only the partitions whose content "
        "changed and deletes those that vanished. The dashboard reads such a folder when "
        "[warehouse] parquet_dir in data/settings.toml or ANALYTICS_PARQUET names it.",
    )
    p.add_argument("dir", metavar="DIR", help="the export folder (created when missing)")
    p.add_argument("--full", action="store_true", help="rewrite every partition")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    add_db_option(p)
    p.set_defaults(handler=_export_command)
