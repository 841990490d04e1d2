"""Backups of the database: a consistent copy made while it is open, and a restore.

``backup(con)`` copies the open database into a new file under ``<database>.backups/`` with
DuckDB's ``COPY FROM DATABASE``, which reads one snapshot: an import running meanwhile is either
in the copy whole or not at all. The dashboard makes one after every import and rollback;
``python -m analytics backup`` makes one whenever it is run (beside a running dashboard too,
which holds the file only while it uses it). ``restore`` puts a backup in the database's place and keeps the
file it replaces beside it. Backups hold phone numbers: folder 0700, files 0600.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path

import duckdb

from analytics.core import private_files
from analytics.core.errors import UserError
from analytics.store import db

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
        # DuckDB creates the copy and its log by the umask (0644 with --out in a folder others may
        # read) and refuses an empty file made 0600 beforehand: both are owner-only from the start.
        with private_files.owner_only_umask():
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


def _forget_kept(path: Path) -> None:
    """Empty what the restored file says about kept results and fitted models (the marts' rows, the
    models' checksums), as ``backup`` does: they are caches, computed again, and a file handed
    over as a backup must not name payloads for this program to read."""
    con = duckdb.connect(str(path))
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "marts" in tables:
            con.execute("DELETE FROM marts")
        if "meta" in tables:
            con.execute("DELETE FROM meta WHERE key LIKE 'model_sha256:%'")
        con.execute("CHECKPOINT")
    finally:
        con.close()


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
    # Created owner-only before a byte is copied (copyfile made it 0644 for the copy's duration).
    copy.unlink(missing_ok=True)
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private_files.FILE_MODE)
    with os.fdopen(fd, "wb") as target, backup_file.open("rb") as source:
        shutil.copyfileobj(source, target, 16 * 1024 * 1024)
    os.chmod(copy, private_files.FILE_MODE)
    _forget_kept(copy)
    os.replace(copy, database)
    marts = database.with_name(f"{database.name}.marts")
    if marts.is_dir():
        shutil.rmtree(marts)  # results of the replaced data
    return kept
