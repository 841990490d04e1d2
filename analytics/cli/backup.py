"""The ``backup`` and ``restore`` commands."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from analytics.cli import add_db_option
from analytics.core.config import db_path
from analytics.core.errors import UserError
from analytics.store import audit, db
from analytics.store.backup import backup, restore


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the backup and restore commands."""
    p = sub.add_parser(
        "backup",
        help="copy the database, one consistent snapshot, into <database>.backups/",
        description="Make a backup of the database (the dashboard also makes one itself after "
        "every import and rollback).",
    )
    p.add_argument("--out", metavar="FILE", help="write the backup here instead (a new file)")
    add_db_option(p)
    p.set_defaults(handler=_backup_command)
    p = sub.add_parser(
        "restore",
        help="put a backup in the database's place (stop the dashboard first)",
        description="Replace the database with a backup; the replaced file is kept beside it as "
        "<database>.replaced-<time>.",
    )
    p.add_argument("backup_file", metavar="BACKUP", help="the backup file (see <database>.backups/)")
    add_db_option(p)
    p.set_defaults(handler=_restore_command)


def _backup_command(args: argparse.Namespace) -> int:
    target = db_path(args.db)
    if not Path(target).exists():
        raise UserError(f"There is no database at {target} to back up.")
    con = db.connect(target)
    try:
        out = backup(con, Path(args.out) if args.out else None)
        audit.record(con, audit.cli_user(), audit.CLI_ROLE, "backup", {"file": str(out)})
    finally:
        con.close()
    print(f"backup written to {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def _restore_command(args: argparse.Namespace) -> int:
    target = Path(db_path(args.db))
    try:
        kept = restore(Path(args.backup_file), target)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(
                f"The database {target} is open in another program (the dashboard?); stop it, then restore."
            ) from exc
        raise
    con = db.connect(target)
    try:
        audit.record(con, audit.cli_user(), audit.CLI_ROLE, "restore", {"file": str(args.backup_file)})
    finally:
        con.close()
    print(f"restored {args.backup_file} into {target}; the replaced file is kept as {kept}")
    return 0
