"""The KPI SQL on a distributed engine (issue 22): Apache Spark in local mode reads the Parquet export
of a demo group, runs kpi_mart.sql as sqlglot transpiled it, and every month's KPIs of every store
equal ``report --json``."""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
from pathlib import Path

import pytest

from analytics.cli import main
from analytics.devtools import demo
from analytics.domain import kpi
from analytics.services import warehouse
from analytics.store import db

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        shutil.which("java") is None,
        reason="Spark needs a Java runtime: apt-get install openjdk-17-jre-headless (scripts/test.sh does as root)",
    ),
]
spark_kpis = pytest.importorskip("analytics.devtools.spark_kpis", reason="pyspark is not installed")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A demo group of two stores (about 500 vehicles each) and its Parquet export."""
    folder = tmp_path_factory.mktemp("spark")
    path = folder / "group.duckdb"
    demo.build_demo(path, demo.DemoConfig(stores=2, scale=0.05), files_dir=folder / "files", xlsx=False)
    con = db.connect(path, read_only=True)
    try:
        warehouse.export(con, folder / "export")
    finally:
        con.close()
    return path, folder / "export"


def _report(path: Path, month: str, store: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["report", "--month", month, "--store", store, "--json", "--db", str(path)]) == 0
    return json.loads(out.getvalue())


def _same(a: float | None, b: float | None, exact: bool) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b if exact else math.isclose(a, b, rel_tol=0, abs_tol=1e-9)


def test_spark_over_the_parquet_export_gives_the_report_for_every_store_and_month(exported):
    path, target = exported
    spark = spark_kpis.session()
    try:
        rows, span = spark_kpis.kpi_mart(spark, target)
    finally:
        spark.stop()
    stores = sorted({r["store"] for r in rows})
    assert len(stores) == 2
    months = sorted({r["month"] for r in rows})
    assert [kpi.month_label(m) for m in (months[0], months[-1])] == ["2023-11", "2026-10"]
    assert len(rows) == len(stores) * len(months) == 2 * 36
    compared = 0
    for row in rows:
        spark_kpis_of_row = spark_kpis.kpis(row, span)
        reported = _report(path, kpi.month_label(row["month"]), row["store"])["kpis"]
        for name in kpi.KPI_NAMES:
            mine, theirs = spark_kpis_of_row[name], reported[name]
            exact = name not in kpi.RATE_KPIS and name != "nps"  # counts and money exact, rates to 1e-9
            assert _same(mine["value"], theirs["value"], exact), (
                row["store"],
                row["month"],
                name,
                mine,
                theirs,
            )
            assert mine["n"] == theirs["n"], (row["store"], row["month"], name)
            assert mine["status"] == theirs["status"], (row["store"], row["month"], name)
            compared += mine["value"] is not None
    # Most figures are numbers (the first months lack the history lost/at-risk need, by definition).
    assert compared > 0.8 * len(rows) * len(kpi.KPI_NAMES)
