"""Helpers for reliability tests: run the real CLI, fingerprint a database, check derived tables."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from analytics.ingest import load
from analytics.store import db

ROOT = Path(__file__).resolve().parents[1]

# Everything an import, a rollback or a refusal may touch; fixed statements, one per table.
STATE_QUERIES: dict[str, str] = {
    "service_orders": "SELECT * FROM service_orders",
    "callbacks": "SELECT * FROM callbacks",
    "service_orders_history": "SELECT * FROM service_orders_history",
    "callbacks_history": "SELECT * FROM callbacks_history",
    "imports": "SELECT * FROM imports",
    "rejected_rows": "SELECT * FROM rejected_rows",
    "vehicles": "SELECT * FROM vehicles",
    "comment_tokens": "SELECT * FROM comment_tokens",
    "meta": "SELECT * FROM meta",
}
CANONICAL = ("service_orders", "callbacks", "service_orders_history", "callbacks_history", "vehicles")


def run_cli(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m analytics ARGS`` in a fresh process and return what it did."""
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def _digest(rows: list[tuple[object, ...]]) -> str:
    return hashlib.sha256(repr(sorted(map(repr, rows))).encode("utf-8")).hexdigest()


def fingerprint_of(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Return (row count, content hash) per table of STATE_QUERIES, independent of row order."""
    found = {}
    for table, sql in STATE_QUERIES.items():
        rows = con.execute(sql).fetchall()
        found[table] = (len(rows), _digest(rows))
    return found


def fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    """Return the fingerprint of the database file (opened read-only, then closed)."""
    con = db.connect(path, read_only=True)
    try:
        return fingerprint_of(con)
    finally:
        con.close()


def derived_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Return whether vehicles are what a rebuild from the canonical tables gives, and every stored
    comment token row is one a rebuild gives (tokens are a cache, stored after an import commits:
    a comment may have none yet, never wrong ones)."""
    vehicles = "SELECT * FROM vehicles"
    tokens = "SELECT callback_id, comment, tokens FROM comment_tokens"
    cur = con.cursor()
    try:
        stored_vehicles = _digest(cur.execute(vehicles).fetchall())
        stored_tokens = set(cur.execute(tokens).fetchall())
        cur.execute("BEGIN TRANSACTION")
        try:
            load.refresh_derived(cur)
            rebuilt_vehicles = _digest(cur.execute(vehicles).fetchall())
            rebuilt_tokens = set(cur.execute(tokens).fetchall())
        finally:
            cur.execute("ROLLBACK")
    finally:
        cur.close()
    return stored_vehicles == rebuilt_vehicles and stored_tokens <= rebuilt_tokens


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Return a table's column names in their order."""
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $t ORDER BY ordinal_position",
            {"t": table},
        ).fetchall()
    ]


def database_at(path: Path, version: int) -> duckdb.DuckDBPyConnection:
    """Return a new database file built by the migrations up to schema ``version`` only, as an
    older program left it (data version 3), open for the test to fill."""
    raw = duckdb.connect(str(path))
    for step in range(1, version + 1):
        for statement in db.MIGRATIONS[step]:
            raw.execute(statement)
    raw.execute("INSERT INTO meta VALUES ('schema_version', $v), ('data_version', '3')", {"v": str(version)})
    return raw


def imported_twice(con: duckdb.DuckDBPyConnection, data: bytes, name: str) -> load.ImportResult:
    """Import the file, check that every row is accounted for and that a second import changes
    nothing; return the first result."""
    result = load.import_file(con, data, file_name=name)
    for sheet in result.sheets:
        assert sheet["rows"] == sheet["landed"] + sheet["rejected"] + sheet["skipped"]
    assert result.rows_read == result.inserted + result.updated + result.unchanged + result.rejected
    again = load.import_file(con, data, file_name=name)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, result.inserted)
    return result


def record_runs(monkeypatch) -> list[str]:
    """Record the dotted name of every function the marts compute (``marts.Call.run``) from now on
    in the test; return the list they are appended to."""
    from analytics.services import marts

    computed: list[str] = []
    original = marts.Call.run

    def recording(self, con):
        computed.append(self.fn)
        return original(self, con)

    monkeypatch.setattr(marts.Call, "run", recording)
    return computed
