"""The KPI mart computed by Apache Spark over a Parquet export, from the transpiled DuckDB SQL.

Proof that the KPI SQL runs unchanged on a distributed engine (issue 22): Spark in local mode reads
the export's canonical tables, runs ``kpi_mart.sql`` as sqlglot turned it into Spark SQL, with the
same bound parameters, and gives one row per store and month. A development tool: pyspark and a
Java runtime are test dependencies (requirements-dev.txt, scripts/test.sh), not the dashboard's.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - pyspark's own convention

from analytics.domain import kpi
from analytics.services import spark_sql, warehouse
from analytics.store import queries

# The tables the KPI SQL reads.
TABLES: tuple[str, ...] = ("service_orders", "callbacks")


def session(cores: int = 2) -> SparkSession:
    """Return a local Spark session sized for a test: few shuffle partitions, no UI, UTC clock."""
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("analytics-kpi-mart")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(2 * cores))
        # Timestamps in the export carry no zone (DuckDB's TIMESTAMP): read and cast them as such.
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )


def register_export(spark: SparkSession, root: str | Path) -> None:
    """Make the export's canonical tables Spark temp views with the database's columns.

    Files are listed recursively instead of through Spark's partition discovery: the partition
    columns are inside the files, with the exact store names (Spark would decode DuckDB's escaped
    folder names byte by byte).
    """
    manifest = warehouse.read_manifest(root)
    if manifest is None:
        raise FileNotFoundError(f"no Parquet export in {root}")
    for name in TABLES:
        entry = manifest["tables"][name]
        columns = [c for c, _ in entry["columns"] if c not in entry["extra_columns"]]
        # A column the files keep under another name (a callback's own store) takes its own back.
        own = {inside: column for column, inside in entry.get("renamed", {}).items()}
        frame = spark.read.option("recursiveFileLookup", "true").parquet(str(Path(root) / name))
        frame.select(*[F.col(c).alias(own.get(c, c)) for c in columns]).createOrReplaceTempView(name)


def _literal(value: Any) -> Column:
    """Return a Spark literal for a bound parameter (lists become arrays, None a NULL)."""
    if isinstance(value, (list, tuple)):
        return F.array(*[F.lit(v) for v in value])
    return F.lit(value)


def run(spark: SparkSession, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the SQL file ``name`` transpiled to Spark with its bound parameters; return its rows."""
    sql = spark_sql.spark_sql(name)
    used = {k: _literal(params[k]) for k in sorted(queries.parameters(queries.load(name)))}
    return [row.asDict() for row in spark.sql(sql, args=used).collect()]


def kpi_mart(spark: SparkSession, root: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Return the KPI mart rows computed by Spark over the export in ``root``, and the data's first and
    last days (``orders_start``, ``callbacks_start``, ``data_end``) as Spark computes them; the
    seconds each step took are in ``timings``."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    register_export(spark, root)
    starts = run(spark, "data_start", {})[0]
    end = run(spark, "data_end", {})[0]["data_end"]
    timings["data_span"] = time.perf_counter() - started
    known = [d for d in (starts["orders_start"], starts["callbacks_start"]) if d is not None]
    months = _months(min(known), end) if known and end else []
    started = time.perf_counter()
    rows = run(spark, warehouse.MART, warehouse.mart_params(months)) if months else []
    timings["kpi_mart"] = time.perf_counter() - started
    return rows, {**starts, "data_end": end, "timings": timings}


def _months(first: date, last: date) -> list[date]:
    month, out = first.replace(day=1), []
    while month <= last:
        out.append(month)
        month = kpi.shift_month(month, 1)
    return out


def kpis(row: dict[str, Any], span: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the KPIs of one mart row as ``kpi.kpis_from_counts`` gives them (value, n, status …)."""
    return kpi.kpis_from_counts(
        {**row, **{k: span[k] for k in ("data_end", "orders_start", "callbacks_start")}}
    )
