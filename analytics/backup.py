"""Backups of the database: a consistent copy made while it is open, and a restore.

``backup(con)`` copies the open database into a new file under ``<database>.backups/`` with
DuckDB's ``COPY FROM DATABASE``, which reads one snapshot: an import running meanwhile is either
in the copy whole or not at all. The dashboard makes one after every import and rollback;
``python -m analytics backup`` makes one whenever it is run (beside a running dashboard too,
which holds the file only while it uses it). ``restore`` puts a backup in the database's place and keeps the
file it replaces beside it. Backups hold phone numbers: folder 0700, files 0600.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path

import duckdb

from analytics import audit, db, private_files
from analytics.cli import add_db_option
from analytics.config import db_path
from analytics.errors import UserError

KEEP = 10  # backups kept per database; older ones are deleted after a new one is made


def database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Return the file of the connection's database (None in memory)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(row[0]) if row and row[0] else None


def backup(con: duckdb.DuckDBPyConnection, target: Path | None = None, keep: int = KEEP) -> Path:
    """Copy the open database, one consistent snapshot, to ``target`` (default: a new file named by
    the time in ``<database>.backups/``); return its path. Older backups beyond ``keep`` are deleted."""
    source = database_file(con)
    if source is None:
        raise UserError("an in-memory database has no file to back up.")
    folder = private_files.private_dir(db.backup_dir(source))
    out = target or folder / f"{source.stem}-{datetime.now():%Y%m%d-%H%M%S-%f}.duckdb"
    if out.exists():
        raise UserError(f"{out} exists already; name a new file.")
    partial = out.with_name(out.name + ".partial")
    cur = con.cursor()
    try:
        name = cur.execute("SELECT current_database()").fetchone()
        assert name is not None
        alias = f"backup_{uuid.uuid4().hex}"  # two backups at once must not share a name
        cur.execute(f"ATTACH $path AS {alias}", {"path": str(partial)})
        try:
            catalog = str(name[0]).replace('"', '""')  # the file's own name, quoted as an identifier
            cur.execute(f'COPY FROM DATABASE "{catalog}" TO {alias}')
            cur.execute(f"DELETE FROM {alias}.marts")  # noqa: S608 - kept results live in files beside the database
        finally:
            cur.execute(f"DETACH {alias}")
        os.chmod(partial, private_files.FILE_MODE)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        partial.with_name(partial.name + ".wal").unlink(missing_ok=True)
        raise
    finally:
        cur.close()
    if target is None:
        for old in sorted(folder.glob("*.duckdb"))[:-keep]:
            old.unlink(missing_ok=True)
    return out


def restore(backup_file: Path, database: Path) -> Path:
    """Put ``backup_file`` in the place of ``database`` (which no program may hold open); return where
    the replaced file (and its write-ahead log) went, beside it."""
    if not backup_file.is_file():
        raise UserError(f"There is no backup at {backup_file}.")
    try:
        check = duckdb.connect(str(backup_file), read_only=True)
    except duckdb.Error as exc:
        raise UserError(f"{backup_file} is not a usable backup ({str(exc).splitlines()[0]}).") from exc
    try:
        if db.schema_version(check) == 0:
            raise UserError(f"{backup_file} is a DuckDB file but not a backup of this dashboard's database.")
    finally:
        check.close()
    # Fails with a sentence when the dashboard (or another command) holds the database.
    with contextlib.suppress(FileNotFoundError):
        probe = duckdb.connect(str(database))
        probe.close()
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    kept = database.with_name(f"{database.name}.replaced-{stamp}")
    if database.exists():
        os.replace(database, kept)
    wal = database.with_name(f"{database.name}.wal")
    if wal.exists():
        os.replace(wal, kept.with_name(f"{kept.name}.wal"))
    copy = database.with_name(database.name + ".restoring")
    shutil.copyfile(backup_file, copy)
    os.chmod(copy, private_files.FILE_MODE)
    os.replace(copy, database)
    marts = database.with_name(f"{database.name}.marts")
    if marts.is_dir():
        shutil.rmtree(marts)  # results of the replaced data
    return kept


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
