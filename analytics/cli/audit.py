"""The ``audit`` command: read the audit log."""

from __future__ import annotations

import argparse
import json

from analytics.cli import add_db_option
from analytics.store import db
from analytics.store.audit import ACTIONS, dumps, entries, printable


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the audit command."""
    p = sub.add_parser(
        "audit",
        help="show the audit log: sign-ins, imports, rollbacks and exports, newest first",
        description="The audit log: who signed in (or failed to), imported, rolled back or exported "
        "a list, and when.",
    )
    p.add_argument("--limit", type=int, default=50, metavar="N", help="how many events (default 50)")
    p.add_argument("--action", choices=ACTIONS, help="only events of this kind")
    p.add_argument("--json", action="store_true", help="print the events as JSON")
    add_db_option(p)
    p.set_defaults(handler=_audit_command)


def _audit_command(args: argparse.Namespace) -> int:
    con = db.connect(args.db)
    try:
        log = entries(con, max(int(args.limit), 0), args.action)
    finally:
        con.close()
    if args.json:
        records = [
            {
                **row,
                "happened_at": row["happened_at"].isoformat(),
                "detail": json.loads(row["detail"] or "{}"),
            }
            for row in log.to_dict("records")
        ]
        print(dumps(records))
        return 0
    if log.empty:
        print("the audit log is empty")
        return 0
    for row in log.to_dict("records"):
        detail = json.loads(str(row["detail"] or "{}"))
        text = ", ".join(f"{printable(k)}={printable(v)}" for k, v in detail.items())
        who, role, action = printable(row["who"]), printable(row["role"]), printable(row["action"])
        line = f"{row['happened_at']:%Y-%m-%d %H:%M:%S}  {who} ({role})  {action}  {text}"
        print(line.rstrip())
    return 0
