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

``spark_sql`` turns a DuckDB SQL file (the one source of truth, ``analytics/store/sql/``) into
Spark SQL with sqlglot, with its ``$parameters`` as Spark's ``:parameters``.
"""

from __future__ import annotations

import json
import os
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
import sqlglot
from sqlglot import exp

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


# Table names are fixed here; no value is ever spliced into SQL. Callbacks and their comment tokens
# are filed under the store and month of the temp table ``_warehouse_callback_keys``.
TABLES: tuple[Table, ...] = (
    Table(
        "service_orders",
        "SELECT o.*, strftime(o.visit_date, '%Y-%m') AS month FROM service_orders AS o",
        ("store", "month"),
        ("month",),
    ),
    Table(
        "callbacks",
        "SELECT c.*, k.store, k.month FROM callbacks AS c "
        "LEFT JOIN _warehouse_callback_keys AS k ON k.callback_id = c.callback_id",
        ("store", "month"),
        ("store", "month"),
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
    root.mkdir(parents=True, exist_ok=True)
    old = read_manifest(root) or {}
    same_engine = old.get("format") == FORMAT_VERSION and old.get("duckdb") == duckdb.__version__
    old_tables: dict[str, Any] = old.get("tables", {}) if same_engine and not full else {}
    staging = root / f".staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    cur = con.cursor()
    results: list[TableResult] = []
    tables: dict[str, Any] = {}
    try:
        cur.execute("BEGIN TRANSACTION")  # one snapshot for every table and the manifest's version
        version = db.data_version(cur)
        _prepare(cur)
        for table in TABLES:
            entry, result = _export_table(cur, table, root, staging, old_tables.get(table.name, {}))
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
    """Create the temp tables the exported queries read: callbacks' partition keys and the KPI mart."""
    _temp_table(cur, "_warehouse_callback_keys", "warehouse_callback_keys", kpi.sql_params(None))
    months = mart_months(cur)
    if months:
        _temp_table(cur, "_warehouse_kpi_mart", MART, mart_params(months))
    else:
        # An empty database: the mart has its columns and no rows.
        _temp_table(cur, "_warehouse_kpi_mart", MART, mart_params([date(2000, 1, 1)]))
        cur.execute("DELETE FROM _warehouse_kpi_mart")


def _temp_table(cur: duckdb.DuckDBPyConnection, name: str, query: str, params: dict[str, Any]) -> None:
    sql = queries.load(query)
    used = {k: params[k] for k in queries.parameters(sql)}
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", used)


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
    cur: duckdb.DuckDBPyConnection, table: Table, root: Path, staging: Path, old: dict[str, Any]
) -> tuple[dict[str, Any], TableResult]:
    """Write the partitions of one table whose content changed; return its manifest entry and result."""
    keys = ", ".join(table.partition_by)
    columns = _columns(cur.execute(f"DESCRIBE {table.select}").fetchall())  # noqa: S608 - fixed query
    group = f"GROUP BY {keys}" if keys else ""
    hashes = cur.execute(
        f"SELECT {keys + ', ' if keys else ''}count(*) AS n, CAST(sum(hash(t)) AS VARCHAR) AS h "  # noqa: S608
        f"FROM ({table.select}) AS t {group}"
    ).fetchall()
    width = len(table.partition_by)
    current: dict[str, tuple[dict[str, str | None], int, str]] = {}
    for row in hashes:
        if row[width]:  # an empty unpartitioned table still gives one row, with count 0
            values = dict(zip(table.partition_by, row[:width], strict=True))
            current[_key(values)] = (values, int(row[width]), str(row[width + 1]))
    old_parts: dict[str, Any] = old.get("partitions", {}) if old.get("columns") == columns else {}
    changed = [k for k, (_, _, h) in current.items() if old_parts.get(k, {}).get("hash") != h]
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
    if not table.partition_by:
        cur.execute(
            f"COPY ({table.select}) TO $path (FORMAT parquet)",  # noqa: S608 - fixed query
            {"path": str(staged / "data_0.parquet")},
        )
    else:
        chosen = pd.DataFrame(wanted, columns=list(table.partition_by), dtype=object)
        cur.register("_warehouse_wanted", chosen)
        match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM w.{k}" for k in table.partition_by)
        try:
            cur.execute(
                f"COPY (SELECT t.* FROM ({table.select}) AS t "  # noqa: S608 - fixed query
                f"SEMI JOIN _warehouse_wanted AS w ON {match}) TO $path "
                f"(FORMAT parquet, PARTITION_BY ({', '.join(table.partition_by)}), WRITE_PARTITION_COLUMNS true)",
                {"path": str(staged)},
            )
        finally:
            cur.unregister("_warehouse_wanted")
    written: dict[str, str] = {}
    files: dict[Path, list[Path]] = {}
    for source in sorted(staged.rglob("*.parquet")):
        files.setdefault(source.parent.relative_to(staged), []).append(source)
    for relative, sources in files.items():
        destination = folder / relative
        destination.mkdir(parents=True, exist_ok=True)
        for source in sources:
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
    con = duckdb.connect(":memory:")
    for name in CANONICAL:
        entry = manifest["tables"].get(name)
        if entry is None:
            continue
        wanted = [(c, t) for c, t in entry["columns"] if c not in entry.get("extra_columns", [])]
        if not entry["partitions"] or name == "meta":
            # An empty table of the same columns; ``meta`` is a table (a few rows) that gets one more.
            body = ", ".join(f'"{c}" {t}' for c, t in wanted)
            con.execute(f"CREATE TABLE {name} ({body})")
            if entry["partitions"]:
                con.execute(
                    f"INSERT INTO {name} SELECT * FROM read_parquet($glob)",  # noqa: S608 - fixed names
                    {"glob": table_glob(root, name)},
                )
            continue
        select = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in wanted)
        # A view's text cannot hold a bound parameter; the glob travels as a DuckDB variable.
        con.execute(f"SET VARIABLE warehouse_{name} = $glob", {"glob": table_glob(root, name)})
        con.execute(
            f"CREATE VIEW {name} AS SELECT {select} FROM read_parquet(getvariable('warehouse_{name}'), "  # noqa: S608
            "hive_partitioning = true, union_by_name = true)"
        )
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR)")
    con.execute(
        "INSERT INTO meta VALUES ($key, $sentence)",
        {
            "key": READ_ONLY_KEY,
            "sentence": f"This dashboard reads the Parquet export in {root}, which is read-only: import into "
            f"the database, then export again (python -m analytics export-parquet {root}).",
        },
    )
    return con


# --- Spark: the KPI SQL transpiled ------------------------------------------------------------------


def spark_sql(name: str) -> str:
    """Return the DuckDB SQL file ``name`` (with its refs) as Spark SQL, ``$p`` becoming ``:p``.

    sqlglot does the dialect; two rewrites cover what it leaves Spark unable to run: several
    ``unnest`` in one SELECT (Spark allows one generator there) become ``FROM UNNEST(a, b) AS
    t(x, y)`` (Spark's ``INLINE(ARRAYS_ZIP(…))``), and ``median`` as a running window aggregate
    becomes ``percentile(x, 0.5)`` (the same interpolated median, allowed over a window frame).
    """
    tree = sqlglot.parse_one(queries.load(name), read="duckdb")
    tree = tree.transform(_zip_unnests).transform(_median_to_percentile)
    return tree.sql(dialect="spark", pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE)


def _zip_unnests(node: exp.Expression) -> exp.Expression:
    """``SELECT unnest(a) AS x, unnest(b) AS y`` -> ``SELECT * FROM UNNEST(a, b) AS t(x, y)``."""
    if not isinstance(node, exp.Select) or node.args.get("from") or node.args.get("from_"):
        return node
    projections = node.expressions
    if len(projections) < 2 or not all(
        isinstance(p, exp.Alias) and isinstance(p.this, (exp.Unnest, exp.Explode)) for p in projections
    ):
        return node
    arrays = [p.this.this if isinstance(p.this, exp.Explode) else p.this.expressions[0] for p in projections]
    unnest = exp.Unnest(
        expressions=arrays,
        alias=exp.TableAlias(
            this=exp.to_identifier("zipped"), columns=[exp.to_identifier(p.alias) for p in projections]
        ),
    )
    return exp.select("*").from_(unnest)


def _median_to_percentile(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Median):
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this, exp.Literal.number("0.5")])
    return node
