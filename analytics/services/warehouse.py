"""The warehouse: the canonical tables and the KPI mart as Parquet, and the dashboard's reads from it.

``export`` writes each table under ``DIR/<table>/`` partitioned Hive-style (``store=…/month=…``)
with DuckDB's ``COPY … (FORMAT parquet, PARTITION_BY …)``, incrementally: ``DIR/manifest.json``
holds the data version and, per partition, its row count and a content hash (the sum of DuckDB's
row hashes); a rerun writes only the partitions whose hash changed, each under a staging folder
and then renamed into place file by file (a reader sees the old file or the new one, never half
of one), and deletes partitions that vanished. Partition columns are also kept inside the files,
so an engine that reads files without parsing paths (Spark with recursive lookup) sees the exact
store names.

``connect`` opens what the dashboard reads instead of the database file: an in-memory DuckDB
whose canonical tables are views over ``read_parquet(…, hive_partitioning = true)``, so every
query runs unchanged; writes (imports, rollbacks) are refused with a sentence.

The Spark form of the KPI SQL is in ``analytics/services/spark_sql.py`` (sqlglot loads only there,
not with the dashboard).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb
import pandas as pd

from analytics.core import private_files
from analytics.core.errors import UserError
from analytics.domain import kpi
from analytics.store import db, queries

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
MART = "kpi_mart"
# The key db.write_transaction looks up in ``meta``: its value is the sentence refusing a write.
READ_ONLY_KEY = db.READ_ONLY_KEY
_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class Table:
    """One exported table: the query giving its rows (with the partition columns) and how it is split."""

    name: str
    select: str
    partition_by: tuple[str, ...]
    extra: tuple[str, ...] = ()  # partition columns the table itself does not have
    # (column of the table, its name in the files): a column whose name a partition column takes
    renamed: tuple[tuple[str, str], ...] = ()


# Table names are fixed here; no value is ever spliced into SQL. Callbacks and their comment tokens
# are filed under the store and month of the temp table ``_warehouse_callback_keys``; a callback's
# own store (the one its file named, schema 11) is kept in the files as ``file_store``.
TABLES: tuple[Table, ...] = (
    Table(
        "service_orders",
        "SELECT o.*, strftime(o.visit_date, '%Y-%m') AS month FROM service_orders AS o",
        ("store", "month"),
        ("month",),
    ),
    Table(
        "callbacks",
        "SELECT c.* RENAME (store AS file_store), k.store, k.month FROM callbacks AS c "
        "LEFT JOIN _warehouse_callback_keys AS k ON k.callback_id = c.callback_id",
        ("store", "month"),
        ("store", "month"),
        (("store", "file_store"),),
    ),
    Table(
        "comment_tokens",
        "SELECT t.*, k.store, k.month FROM comment_tokens AS t "
        "LEFT JOIN _warehouse_callback_keys AS k ON k.callback_id = t.callback_id",
        ("store", "month"),
        ("store", "month"),
    ),
    # A vehicle has no month of its own: one partition per store.
    Table("vehicles", "SELECT * FROM vehicles", ("store",)),
    Table("imports", "SELECT * FROM imports", ()),
    Table("meta", "SELECT * FROM meta", ()),
    Table(
        MART,
        "SELECT * REPLACE (strftime(month, '%Y-%m') AS month) FROM _warehouse_kpi_mart",
        ("store", "month"),
    ),
)
# The tables the dashboard's queries read; the mart is for other engines.
CANONICAL: tuple[str, ...] = tuple(t.name for t in TABLES if t.name != MART)


# Per partition shape: each partition's row count and content hash (the sum of the rows' hashes,
# so row order does not matter), and the copy of the rows of the partitions in _warehouse_wanted.
_HASHES: dict[tuple[str, ...], str] = {
    ("store", "month"): "SELECT store, month, count(*) AS n, CAST(sum(hash(t)) AS VARCHAR) AS h "
    "FROM _warehouse_rows AS t GROUP BY store, month",
    ("store",): "SELECT store, count(*) AS n, CAST(sum(hash(t)) AS VARCHAR) AS h "
    "FROM _warehouse_rows AS t GROUP BY store",
    (): "SELECT count(*) AS n, CAST(sum(hash(t)) AS VARCHAR) AS h FROM _warehouse_rows AS t",
}
_COPIES: dict[tuple[str, ...], str] = {
    ("store", "month"): "COPY (SELECT t.* FROM _warehouse_rows AS t SEMI JOIN _warehouse_wanted AS w "
    "ON t.store IS NOT DISTINCT FROM w.store AND t.month IS NOT DISTINCT FROM w.month) "
    "TO $path (FORMAT parquet, PARTITION_BY (store, month), WRITE_PARTITION_COLUMNS true)",
    ("store",): "COPY (SELECT t.* FROM _warehouse_rows AS t SEMI JOIN _warehouse_wanted AS w "
    "ON t.store IS NOT DISTINCT FROM w.store) "
    "TO $path (FORMAT parquet, PARTITION_BY (store), WRITE_PARTITION_COLUMNS true)",
    (): "COPY _warehouse_rows TO $path (FORMAT parquet)",
}


@dataclass
class TableResult:
    """What an export did to one table."""

    name: str
    written: list[str]
    deleted: list[str]
    unchanged: int
    rows: int


def export(
    con: duckdb.DuckDBPyConnection, target: str | os.PathLike[str], *, full: bool = False
) -> dict[str, Any]:
    """Write the tables and the KPI mart under ``target`` as partitioned Parquet, only what changed.

    ``con`` reads one snapshot of the database (a read-only connection is enough). ``full``
    rewrites every partition. Returns the data version, seconds, bytes and per table the
    partitions written, deleted and left as they were.
    """
    started = time.perf_counter()
    root = Path(target)
    # The tables hold every phone number and name: owner-only, as the database and its backups.
    private_files.private_dir(root)
    old = read_manifest(root) or {}
    same_engine = old.get("format") == FORMAT_VERSION and old.get("duckdb") == duckdb.__version__
    old_tables: dict[str, Any] = old.get("tables", {})
    # Another DuckDB may hash rows differently: then, as with --full, every partition is rewritten.
    rewrite = full or not same_engine
    staging = root / f".staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    cur = con.cursor()
    results: list[TableResult] = []
    tables: dict[str, Any] = {}
    try:
        cur.execute("BEGIN TRANSACTION")  # one snapshot for every table and the manifest's version
        version = db.data_version(cur)
        _prepare(cur)
        for table in TABLES:
            entry, result = _export_table(cur, table, root, staging, old_tables.get(table.name, {}), rewrite)
            tables[table.name] = entry
            results.append(result)
        cur.execute("ROLLBACK")
    finally:
        cur.close()
        shutil.rmtree(staging, ignore_errors=True)
    manifest = {
        "format": FORMAT_VERSION,
        "duckdb": duckdb.__version__,
        "data_version": version,
        "exported_at": datetime.now().isoformat(timespec="seconds"),
        "tables": tables,
    }
    _write_json(root / MANIFEST, manifest)
    return {
        "dir": str(root),
        "data_version": version,
        "seconds": round(time.perf_counter() - started, 3),
        "bytes": sum(p.stat().st_size for p in root.rglob("*.parquet")),
        "tables": {
            r.name: {
                "rows": r.rows,
                "written": len(r.written),
                "deleted": len(r.deleted),
                "unchanged": r.unchanged,
                "written_partitions": r.written,
                "deleted_partitions": r.deleted,
            }
            for r in results
        },
    }


def mart_months(cur: duckdb.DuckDBPyConnection) -> list[date]:
    """Return the months (first days) from the first data day's month to the last data day's month."""
    starts = queries.run(cur, "data_start", {}).iloc[0]
    known = [v for v in (starts["orders_start"], starts["callbacks_start"]) if not pd.isna(v)]
    end = queries.run(cur, "data_end", {})["data_end"].iloc[0]
    if not known or pd.isna(end):
        return []
    first, last = min(pd.Timestamp(v).date() for v in known).replace(day=1), pd.Timestamp(end).date()
    months = []
    while first <= last:
        months.append(first)
        first = kpi.shift_month(first, 1)
    return months


def mart_params(months: list[date]) -> dict[str, Any]:
    """Return the bound parameters of ``kpi_mart.sql`` for ``months``: the settings, every store,
    and the as-of dates its churn (each month's last day) and due dates (the day before) need."""
    as_of = sorted({kpi.month_end(m) for m in months} | {m - timedelta(days=1) for m in months})
    return {**kpi.sql_params(None), "months": months, "as_of_dates": as_of}


def _prepare(cur: duckdb.DuckDBPyConnection) -> None:
    """Register what the exported queries read besides the tables: callbacks' partition keys and the
    KPI mart, each computed once (as Arrow tables, which keep DuckDB's types)."""
    _register(cur, "_warehouse_callback_keys", "warehouse_callback_keys", kpi.sql_params(None))
    months = mart_months(cur)
    # An empty database still gets the mart's columns (over a month, then without rows).
    _register(cur, "_warehouse_kpi_mart", MART, mart_params(months or [date(2000, 1, 1)]), rows=bool(months))


def _register(
    cur: duckdb.DuckDBPyConnection, name: str, query: str, params: dict[str, Any], rows: bool = True
) -> None:
    sql = queries.load(query)
    cur.complete()  # the relation API needs the last execute() finished (a fetchone() leaves it open)
    table = cur.sql(sql, params={k: params[k] for k in queries.parameters(sql)}).to_arrow_table()
    cur.register(name, table if rows else table.slice(0, 0))


def _key(values: dict[str, str | None]) -> str:
    """Return the manifest's key of a partition: its values as JSON (folders use DuckDB's escaping)."""
    return json.dumps(list(values.values()), ensure_ascii=False)


def _values_of(relative: Path) -> dict[str, str | None]:
    """Return the partition values a folder written by DuckDB stands for (its names are URL-escaped)."""
    out: dict[str, str | None] = {}
    for part in relative.parts:
        key, _, raw = part.partition("=")
        value = unquote(raw)
        out[key] = None if value == _NULL_PARTITION else value
    return out


def _export_table(
    cur: duckdb.DuckDBPyConnection,
    table: Table,
    root: Path,
    staging: Path,
    old: dict[str, Any],
    rewrite: bool,
) -> tuple[dict[str, Any], TableResult]:
    """Write the partitions of one table whose content changed; return its manifest entry and result."""
    # The one statement built here: a query from TABLES above, under a fixed name.
    cur.execute(f"CREATE OR REPLACE TEMP VIEW _warehouse_rows AS {table.select}")
    columns = _columns(cur.execute("DESCRIBE _warehouse_rows").fetchall())
    hashes = cur.execute(_HASHES[table.partition_by]).fetchall()
    width = len(table.partition_by)
    current: dict[str, tuple[dict[str, str | None], int, str]] = {}
    for row in hashes:
        if row[width]:  # an empty unpartitioned table still gives one row, with count 0
            values = dict(zip(table.partition_by, row[:width], strict=True))
            current[_key(values)] = (values, int(row[width]), str(row[width + 1]))
    old_parts: dict[str, Any] = old.get("partitions", {})
    rewrite = rewrite or old.get("columns") != columns  # new columns: every file changes
    changed = [k for k, (_, _, h) in current.items() if rewrite or old_parts.get(k, {}).get("hash") != h]
    vanished = [k for k in old_parts if k not in current]
    folder = root / table.name
    written = (
        _write_partitions(cur, table, [current[k][0] for k in changed], staging / table.name, folder)
        if changed
        else {}
    )
    for k in vanished:
        _remove_partition(folder, old_parts[k]["path"])
    now = datetime.now().isoformat(timespec="seconds")
    partitions = {
        k: (
            {"path": written[k], "values": values, "rows": rows, "hash": h, "written_at": now}
            if k in written
            else old_parts[k]
        )
        for k, (values, rows, h) in sorted(current.items())
    }
    entry = {
        "partition_by": list(table.partition_by),
        "columns": columns,
        "extra_columns": list(table.extra),
        "renamed": dict(table.renamed),
        "partitions": partitions,
    }
    result = TableResult(
        table.name,
        sorted(str(partitions[k]["path"]) for k in changed),
        sorted(old_parts[k]["path"] for k in vanished),
        len(current) - len(changed),
        sum(rows for _, rows, _ in current.values()),
    )
    return entry, result


def _columns(described: list[tuple[Any, ...]]) -> list[list[str]]:
    return [[str(row[0]), str(row[1])] for row in described]


def _write_partitions(
    cur: duckdb.DuckDBPyConnection,
    table: Table,
    wanted: list[dict[str, str | None]],
    staged: Path,
    folder: Path,
) -> dict[str, str]:
    """Write the rows of the wanted partitions under ``staged``, then move each file into ``folder``;
    return ``{partition key: folder relative to the table's}``."""
    staged.mkdir(parents=True, exist_ok=True)
    target = staged / "data_0.parquet" if not table.partition_by else staged
    chosen = pd.DataFrame(wanted, columns=list(table.partition_by) or ["none"], dtype=object)
    cur.complete()
    cur.register("_warehouse_wanted", chosen)
    try:
        cur.execute(_COPIES[table.partition_by], {"path": str(target)})
    finally:
        cur.complete()
        cur.unregister("_warehouse_wanted")
    written: dict[str, str] = {}
    files: dict[Path, list[Path]] = {}
    for source in sorted(staged.rglob("*.parquet")):
        files.setdefault(source.parent.relative_to(staged), []).append(source)
    for relative, sources in files.items():
        destination = folder / relative
        destination.mkdir(mode=private_files.DIR_MODE, parents=True, exist_ok=True)
        for source in sources:
            os.chmod(source, private_files.FILE_MODE)  # phones and names: owner-only
            os.replace(source, destination / source.name)  # atomic: a reader sees the old file or the new
        fresh = {source.name for source in sources}
        for stale in destination.glob("*.parquet"):
            if stale.name not in fresh:
                stale.unlink()
        written[_key(_values_of(relative))] = relative.as_posix()
    shutil.rmtree(staged, ignore_errors=True)
    return written


def _remove_partition(folder: Path, path: str) -> None:
    """Delete a partition's folder and the parents it leaves empty."""
    target = folder / path
    shutil.rmtree(target, ignore_errors=True)
    parent = target.parent
    while parent != folder and parent.exists() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return the manifest of an export folder (None when there is none)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"The export manifest {path} cannot be read ({exc}); export again.") from exc
    return manifest


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write JSON under a temporary name and rename it, so a reader never sees half a manifest."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def table_glob(root: str | os.PathLike[str], name: str) -> str:
    """Return the glob of a table's Parquet files in an export folder."""
    folder = Path(root) / name
    depth = len((read_manifest(root) or {}).get("tables", {}).get(name, {}).get("partition_by", []))
    return str(folder.joinpath(*(["*"] * depth), "*.parquet"))


def connect(root: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB whose canonical tables are views over the Parquet export in ``root``.

    Every query of the dashboard runs unchanged on it; a write (an import, a rollback) is refused
    with a sentence, because the export is made from a database, not changed in place.
    """
    manifest = read_manifest(root)
    if manifest is None:
        raise UserError(
            f"There is no Parquet export in {root} (no {MANIFEST}); write one with "
            f"python -m analytics export-parquet {root}."
        )
    # Paths in the views are relative to the export folder (DuckDB's file search path, a setting of
    # the connection, not a value spliced into SQL), so the statements below are fixed text.
    con = duckdb.connect(":memory:", config={"file_search_path": str(Path(root).resolve())})
    tables = manifest.get("tables", {})
    for name in CANONICAL:
        entry = tables.get(name)
        if entry is None:
            continue
        have = {str(column) for column, _ in entry["columns"]}
        missing = tuple(column for column in _ADDED_LATER.get(name, ()) if column not in have)
        if missing and (name, missing) not in _OLDER_VIEWS:
            raise UserError(
                f"The export in {root} holds {name} without the columns {', '.join(missing)}, a layout "
                f"this version cannot read; export again (python -m analytics export-parquet {root})."
            )
        if entry["partitions"]:
            con.execute(_VIEWS[name] if not missing else _OLDER_VIEWS[(name, missing)])
        else:
            # No file to read: an empty table with the manifest's columns.
            columns = ", ".join(f"{quoted} {kind}" for quoted, kind in _checked_columns(root, name, entry))
            con.execute(f"CREATE TABLE {name} ({columns})")
            for column in missing:
                con.execute(_ADD_LATER_COLUMN[(name, column)])
    if "meta" not in tables:
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    con.execute(
        "INSERT INTO meta VALUES ($key, $sentence)",
        {
            "key": READ_ONLY_KEY,
            "sentence": f"This dashboard reads the Parquet export in {root}, which is read-only: import into "
            f"the database, then export again (python -m analytics export-parquet {root}).",
        },
    )
    return con


# The canonical tables over an export's files: partition columns a table does not have are left
# out; the folders' values are not re-typed (the partition columns are inside the files too).
_VIEWS: dict[str, str] = {
    "service_orders": "CREATE VIEW service_orders AS SELECT * EXCLUDE (month) FROM read_parquet("
    "'service_orders/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)",
    "callbacks": "CREATE VIEW callbacks AS SELECT * EXCLUDE (store, month) RENAME (file_store AS store) "
    "FROM read_parquet("
    "'callbacks/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)",
    "comment_tokens": "CREATE VIEW comment_tokens AS SELECT * EXCLUDE (store, month) FROM read_parquet("
    "'comment_tokens/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)",
    "vehicles": "CREATE VIEW vehicles AS SELECT * FROM read_parquet("
    "'vehicles/*/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)",
    "imports": "CREATE VIEW imports AS SELECT * FROM read_parquet('imports/*.parquet')",
    # A table, not a view: the connection adds the row that refuses writes.
    "meta": "CREATE TABLE meta AS SELECT key, value FROM read_parquet('meta/*.parquet')",
}


# Columns a canonical table gained after an export may have been written, by their names in the
# files, oldest first (schema 10: the customer a callback file names; schema 11: its store, kept as
# ``file_store``). An export written before reads them as empty until it is written again (the next
# export rewrites every file of a table whose columns changed).
_ADDED_LATER: dict[str, tuple[str, ...]] = {"callbacks": ("customer_name", "phone", "file_store")}
_OLDER_VIEWS: dict[tuple[str, tuple[str, ...]], str] = {
    # Written by schema 10: callbacks without their own store.
    ("callbacks", ("file_store",)): _VIEWS["callbacks"].replace(
        "RENAME (file_store AS store)", ", CAST(NULL AS VARCHAR) AS store"
    ),
    # Written before: without the customer's name and phone either.
    ("callbacks", ("customer_name", "phone", "file_store")): _VIEWS["callbacks"].replace(
        "RENAME (file_store AS store)",
        ", CAST(NULL AS VARCHAR) AS customer_name, CAST(NULL AS VARCHAR) AS phone, CAST(NULL AS VARCHAR) AS store",
    ),
}
_ADD_LATER_COLUMN: dict[tuple[str, str], str] = {
    ("callbacks", "customer_name"): "ALTER TABLE callbacks ADD COLUMN customer_name VARCHAR",
    ("callbacks", "phone"): "ALTER TABLE callbacks ADD COLUMN phone VARCHAR",
    ("callbacks", "file_store"): "ALTER TABLE callbacks ADD COLUMN store VARCHAR",
}


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPE = re.compile(r"^[A-Z]+(\(\d+, ?\d+\))?$")
# Nested types a canonical table holds (a vehicle's first and last odometer reading): accepted as
# this program's schema spells them, never parsed from the manifest.
_SCHEMA_TYPES = frozenset({db.READING_TYPE})


def _checked_columns(root: str | os.PathLike[str], name: str, entry: dict[str, Any]) -> list[tuple[str, str]]:
    """Return a table's columns (quoted name, type) from the manifest, refusing any that is not a
    plain name and a plain DuckDB type: they are spliced into the view's SQL."""
    out = []
    # A column kept in the files under another name takes its table's name back.
    renamed = {str(inside): str(own) for own, inside in entry.get("renamed", {}).items()}
    for column, kind in entry["columns"]:
        if column in entry.get("extra_columns", []):
            continue
        own = renamed.get(str(column), column)
        if not _IDENTIFIER.match(str(own)) or not (_TYPE.match(str(kind)) or str(kind) in _SCHEMA_TYPES):
            raise UserError(
                f"The export manifest in {root} names a column of {name} that is not a plain column "
                f"({own!r} {kind!r}); export again."
            )
        out.append((f'"{own}"', str(kind)))
    return out
