"""The Parquet export (issue 22): incremental by partition, read back equal to the database, and the
dashboard reading it instead of the database file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.core.errors import UserError
from analytics.devtools import demo
from analytics.domain import kpi, overview
from analytics.ingest import load
from analytics.services import spark_sql, views, warehouse
from analytics.store import db, queries
from tests.signing_in import start

ROOT = Path(__file__).resolve().parents[1]
LAST_MONTH = "2026-10"


@pytest.fixture(scope="module")
def group_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo group (two stores, about 500 vehicles each), built once for the module."""
    path = tmp_path_factory.mktemp("group") / "group.duckdb"
    demo.build_demo(path, demo.DemoConfig(stores=2, scale=0.05), files_dir=path.parent / "files", xlsx=False)
    return path


def _take_out_last_month(path: Path, folder: Path) -> list[Path]:
    """Remove the last month's work orders and callbacks from the database, as if not yet imported;
    return them as CSV files with the canonical headers, ready to import."""
    con = db.connect(path)
    first = f"{LAST_MONTH}-01"
    files = [folder / "orders.csv", folder / "callbacks.csv"]
    try:
        for table, columns, day, out in (
            ("service_orders", db.SERVICE_COLUMNS, "visit_date", files[0]),
            ("callbacks", db.CALLBACK_COLUMNS, "callback_date", files[1]),
        ):
            con.execute(
                f"COPY (SELECT {', '.join(columns)} FROM {table} WHERE {day} >= $first) TO $out (HEADER)",  # noqa: S608
                {"first": first, "out": str(out)},
            )
        with db.write_transaction(con) as cur:
            cur.execute(
                "DELETE FROM comment_tokens WHERE callback_id IN "
                "(SELECT callback_id FROM callbacks WHERE callback_date >= $first)",
                {"first": first},
            )
            cur.execute("DELETE FROM callbacks WHERE callback_date >= $first", {"first": first})
            cur.execute("DELETE FROM service_orders WHERE visit_date >= $first", {"first": first})
            db.refresh_vehicles(cur)
            db.bump_data_version(cur)
    finally:
        con.close()
    return files


def _forget_delivery_stores(path: Path) -> None:
    """Clear the store the demo's delivery callbacks (7DC) carry, as a 7DC export without a store
    column leaves them (schema 11): such a callback of a car without an earlier work order is filed
    under no store until one comes."""
    con = db.connect(path)
    try:
        with db.write_transaction(con) as cur:
            cur.execute("UPDATE callbacks SET store = NULL WHERE callback_type = '7DC'")
            db.bump_data_version(cur)
    finally:
        con.close()


def _callback_keys(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Return the store and month each callback is filed under, indexed by callback."""
    frame = queries.run(con, "warehouse_callback_keys", kpi.sql_params()).astype(object)
    return frame.where(frame.notna(), None).set_index("callback_id").sort_index()


def _export(path: Path, target: Path) -> dict:
    con = db.connect(path, read_only=True)
    try:
        return warehouse.export(con, target)
    finally:
        con.close()


def _mtimes(target: Path) -> dict[str, int]:
    return {str(p.relative_to(target)): p.stat().st_mtime_ns for p in target.rglob("*.parquet")}


def _assert_same_as_database(target: Path, path: Path) -> None:
    """Every canonical table read through the export equals the database's, row for row, and the
    exported KPI mart equals the mart's SQL run on the database."""
    con = warehouse.connect(target)
    try:
        con.execute("ATTACH $path AS src (READ_ONLY)", {"path": str(path)})
        for name in warehouse.CANONICAL:
            if name == "meta":
                continue
            source_columns = [r[0] for r in con.execute(f"DESCRIBE src.{name}").fetchall()]
            view_columns = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
            assert view_columns == source_columns, name
            for a, b in ((name, f"src.{name}"), (f"src.{name}", name)):
                extra = con.execute(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})").fetchone()  # noqa: S608
                assert extra == (0,), (name, a, b)
        meta = dict(
            con.execute("SELECT key, value FROM meta WHERE key <> $k", {"k": db.READ_ONLY_KEY}).fetchall()
        )
        assert meta == dict(con.execute("SELECT key, value FROM src.meta").fetchall())
        exported = con.execute(
            "SELECT * FROM read_parquet($glob) ORDER BY store, month",
            {"glob": warehouse.table_glob(target, warehouse.MART)},
        ).df()
        con.execute("USE src")
        params = warehouse.mart_params(warehouse.mart_months(con))
        sql = queries.load(warehouse.MART)
        expected = con.execute(sql, {k: params[k] for k in queries.parameters(sql)}).df()
    finally:
        con.close()
    expected["month"] = pd.to_datetime(expected["month"]).dt.strftime("%Y-%m")
    pd.testing.assert_frame_equal(
        exported[list(expected.columns)].reset_index(drop=True),
        expected.reset_index(drop=True),
        check_dtype=False,
    )


def test_a_rerun_after_importing_one_month_rewrites_only_that_months_partitions(group_db, tmp_path):
    path = tmp_path / "group.duckdb"
    shutil.copy(group_db, path)
    _forget_delivery_stores(path)
    files = _take_out_last_month(path, tmp_path)
    target = tmp_path / "export"

    first = _export(path, target)
    assert all(t["deleted"] == 0 and t["unchanged"] == 0 for t in first["tables"].values())
    assert first["tables"]["service_orders"]["written"] == 2 * 35  # two stores, 2023-11 .. 2026-09
    _assert_same_as_database(target, path)
    before = _mtimes(target)
    manifest_before = warehouse.read_manifest(target)

    con = db.connect(path)
    try:
        keys_before = _callback_keys(con)
        results = [r for _, r in load.import_files(con, files)]
        # As the import command does after its commits: the new comments' tokens are stored.
        views.prepare(con)
        keys_after = _callback_keys(con)
        stores = [r[0] for r in con.execute("SELECT DISTINCT store FROM service_orders").fetchall()]
    finally:
        con.close()
    assert all(not isinstance(r, Exception) and r.inserted > 0 for r in results)

    second = _export(path, target)
    manifest = warehouse.read_manifest(target)
    assert manifest["data_version"] == manifest_before["data_version"] + 2
    done = second["tables"]["service_orders"]
    assert {p.rsplit("month=", 1)[1] for p in done["written_partitions"]} == {LAST_MONTH}
    assert done["written"] == 2 and done["deleted"] == 0
    assert done["unchanged"] == len(manifest_before["tables"]["service_orders"]["partitions"])
    # A delivery callback (7DC) without an earlier order takes the store of the vehicle's first
    # order: the new month's orders give some older callbacks their store, moving them out of the
    # partition of unknown store into their store's. Those partitions, and the new month's, change.
    kept = keys_after.loc[keys_before.index]
    moved = kept[kept.fillna("-").ne(keys_before.fillna("-")).any(axis=1)]
    assert len(moved) > 0
    was = keys_before.loc[moved.index]
    assert was["store"].isna().all() and moved["store"].notna().all()
    expected = set(moved.itertuples(index=False, name=None)) | set(was.itertuples(index=False, name=None))
    new_month = {key for key in keys_after.itertuples(index=False, name=None) if key[1] == LAST_MONTH}
    expected |= new_month
    for name in ("callbacks", "comment_tokens"):
        done = second["tables"][name]
        entries = manifest["tables"][name]["partitions"]
        written = {
            (e["values"]["store"], e["values"]["month"])
            for e in entries.values()
            if e["path"] in done["written_partitions"]
        }
        gone = {
            (e["values"]["store"], e["values"]["month"])
            for e in manifest_before["tables"][name]["partitions"].values()
            if e["path"] in done["deleted_partitions"]
        }
        assert written | gone <= expected and {(s, LAST_MONTH) for s in stores} <= written, name
        assert written | gone == expected or name == "comment_tokens"  # a callback may have no comment
    # The mart: the new month, the month before (its 3DC coverage and due-maintenance returns look
    # into the next month) and the months of the callbacks that found their store.
    mart = second["tables"][warehouse.MART]
    allowed = {LAST_MONTH, "2026-09"} | set(moved["month"])
    assert {p.rsplit("month=", 1)[1] for p in mart["written_partitions"]} <= allowed
    assert sum(p.endswith(f"month={LAST_MONTH}") for p in mart["written_partitions"]) == 2
    assert second["tables"]["vehicles"]["written"] == 2  # a vehicle has no month: its store's file

    after = _mtimes(target)
    rewritten = {
        f"{name}/{p}/data_0.parquet"
        for name, done in second["tables"].items()
        for p in done["written_partitions"]
    }
    rewritten = {r.replace("/./", "/") for r in rewritten}
    deleted = {
        f"{name}/{p}/data_0.parquet".replace("/./", "/")
        for name, done in second["tables"].items()
        for p in done["deleted_partitions"]
    }
    for name, mtime in before.items():
        if name not in after:
            # A partition all of whose rows moved (7DC callbacks that found their store) is gone.
            assert name in deleted, name
            continue
        assert (after[name] != mtime) == (name in rewritten), name
    assert set(after) - set(before) == {r for r in rewritten if r not in before}
    for name, entry in manifest["tables"].items():
        for key, part in entry["partitions"].items():
            if part["path"] not in {p for p in second["tables"][name]["written_partitions"]}:
                assert part == manifest_before["tables"][name]["partitions"][key]
    _assert_same_as_database(target, path)

    # Nothing changed: nothing is written.
    third = _export(path, target)
    assert all(t["written"] == 0 and t["deleted"] == 0 for t in third["tables"].values())
    assert _mtimes(target) == after
    # --full rewrites every partition, and the manifest's hashes stay what they were.
    con = db.connect(path, read_only=True)
    try:
        full = warehouse.export(con, target, full=True)
    finally:
        con.close()
    assert all(t["unchanged"] == 0 and t["deleted"] == 0 for t in full["tables"].values())
    assert sum(t["written"] for t in full["tables"].values()) == len(after)
    hashes = {
        name: {k: e["hash"] for k, e in entry["partitions"].items()}
        for name, entry in warehouse.read_manifest(target)["tables"].items()
    }
    assert hashes == {
        name: {k: e["hash"] for k, e in entry["partitions"].items()}
        for name, entry in manifest["tables"].items()
    }


def test_vanished_partitions_are_deleted_and_the_command_reports(group_db, tmp_path):
    path = tmp_path / "group.duckdb"
    shutil.copy(group_db, path)
    _forget_delivery_stores(path)
    target = tmp_path / "export"
    run = [sys.executable, "-m", "analytics", "export-parquet", str(target), "--db", str(path), "--json"]
    first = json.loads(subprocess.run(run, cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    assert first["tables"]["service_orders"]["written"] == 2 * 36
    con = db.connect(path)
    try:
        last = con.execute("SELECT max(import_id) FROM imports WHERE kind = 'callback'").fetchone()[0]
        outcome = load.rollback(con, int(last))
        assert outcome["deleted"] > 0
        left = con.execute("SELECT count(*) FROM callbacks").fetchone()[0]
    finally:
        con.close()
    second = json.loads(subprocess.run(run, cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    assert second["tables"]["callbacks"]["rows"] == left
    assert second["tables"]["service_orders"]["written"] + second["tables"]["callbacks"]["written"] > 0
    # The rolled-back file held the delivery callbacks (7DC) of every month: partitions holding only
    # those (callbacks of no known store) are gone from disk and manifest.
    gone = second["tables"]["callbacks"]["deleted_partitions"]
    assert gone and second["tables"]["callbacks"]["deleted"] == len(gone)
    paths = {e["path"] for e in warehouse.read_manifest(target)["tables"]["callbacks"]["partitions"].values()}
    for p in gone:
        assert not (target / "callbacks" / p).exists() and p not in paths
    _assert_same_as_database(target, path)


def test_no_database_and_no_export_are_sentences(tmp_path):
    run = [
        sys.executable,
        "-m",
        "analytics",
        "export-parquet",
        str(tmp_path / "x"),
        "--db",
        str(tmp_path / "no.duckdb"),
    ]
    done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("error: There is no database at")
    with pytest.raises(UserError, match="There is no Parquet export in"):
        warehouse.connect(tmp_path)


def test_the_export_connection_refuses_writes_with_a_sentence(group_db, tmp_path):
    target = tmp_path / "export"
    _export(group_db, target)
    con = warehouse.connect(target)
    with pytest.raises(UserError, match="reads the Parquet export in .* read-only"):
        with db.write_transaction(con):
            pass
    with pytest.raises(UserError, match="read-only"):
        load.rollback(con, 1)
    assert isinstance(con, duckdb.DuckDBPyConnection)
    assert os.path.exists(target / warehouse.MANIFEST)


def test_an_export_written_before_callbacks_had_names_still_reads(group_db, tmp_path):
    # Schema 10 gave callbacks the customer's name and phone (and schema 11 their own store); an
    # export written before has none of them until it is written again, and the follow-up list
    # reads it (work orders' owners only).
    target = tmp_path / "export"
    _export(group_db, target)
    con = db.connect(group_db, read_only=True)
    try:
        expected = overview.open_followups(con, LAST_MONTH)
        serviced = {r[0] for r in con.execute("SELECT DISTINCT vin FROM service_orders").fetchall()}
    finally:
        con.close()
    raw = duckdb.connect()
    for file in (target / "callbacks").rglob("*.parquet"):
        raw.execute(
            "COPY (SELECT * EXCLUDE (customer_name, phone, file_store) FROM read_parquet($f)) TO $g (FORMAT parquet)",
            {"f": str(file), "g": str(file) + ".old"},
        )
        os.replace(str(file) + ".old", file)
    raw.close()
    manifest = json.loads((target / warehouse.MANIFEST).read_text(encoding="utf-8"))
    entry = manifest["tables"]["callbacks"]
    entry["columns"] = [c for c in entry["columns"] if c[0] not in ("customer_name", "phone", "file_store")]
    del entry["renamed"]
    (target / warehouse.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    con = warehouse.connect(target)
    try:
        listed = overview.open_followups(con, LAST_MONTH)
    finally:
        con.close()
    assert listed["callback_id"].tolist() == expected["callback_id"].tolist()
    by_callback = (~expected["vin"].isin(serviced)).to_numpy()
    assert by_callback.any() and (~by_callback).any()
    assert listed.loc[by_callback, "customer_name"].isna().all()
    assert (
        listed.loc[~by_callback, "customer_name"].tolist()
        == expected.loc[~by_callback, "customer_name"].tolist()
    )


def _overview(monkeypatch: pytest.MonkeyPatch, lang: str = "en") -> list[tuple[str, str, str | None]]:
    at = start(lang=lang, page="pages/overview.py")
    assert not at.exception and not at.error, [e.value for e in at.error]
    return [(m.label, m.value, m.delta) for m in at.metric]


def test_the_overview_from_the_parquet_export_shows_the_databases_kpis(group_db, tmp_path, monkeypatch):
    path = tmp_path / "group.duckdb"
    shutil.copy(group_db, path)
    target = tmp_path / "export"
    _export(path, target)
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    from_database = _overview(monkeypatch)
    assert len(from_database) == 12 and all(value for _, value, _ in from_database)
    # The database is gone: whatever the page shows now comes from the Parquet files.
    path.unlink()
    monkeypatch.setenv("ANALYTICS_PARQUET", str(target))
    assert _overview(monkeypatch) == from_database
    assert not path.exists()


_READER = """
import json, sys, time
from pathlib import Path
from analytics.domain import kpi
from analytics.services import spark_sql, warehouse
con = warehouse.connect(sys.argv[1])
Path(sys.argv[2]).touch()
while not Path(sys.argv[3]).exists():  # hold the export open until the other reader has it open too
    time.sleep(0.05)
print(json.dumps(kpi.report(con, sys.argv[4])["kpis"]))
"""


def test_two_processes_read_the_export_at_once(group_db, tmp_path):
    target = tmp_path / "export"
    _export(group_db, target)
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _READER,
                str(target),
                str(tmp_path / f"open{i}"),
                str(tmp_path / f"open{1 - i}"),
                "2026-09",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (0, 1)
    ]
    outputs = [reader.communicate(timeout=300) for reader in readers]
    assert [reader.returncode for reader in readers] == [0, 0], [err for _, err in outputs]
    con = db.connect(group_db, read_only=True)
    try:
        expected = json.loads(json.dumps(kpi.report(con, "2026-09")["kpis"]))
    finally:
        con.close()
    assert [json.loads(out) for out, _ in outputs] == [expected, expected]


def test_the_spark_sql_is_generated_from_the_duckdb_file_with_the_same_parameters():
    duck = queries.load(warehouse.MART)
    spark = re.sub(r"/\*.*?\*/", "", spark_sql.spark_sql(warehouse.MART), flags=re.DOTALL)  # no comments
    assert "$" not in spark and "::" not in spark
    assert set(re.findall(r":([a-z_][a-z0-9_]*)", spark)) == queries.parameters(duck)
    ctes = re.findall(r"^(?:WITH |\), )([a-z_0-9]+) AS \(", spark, flags=re.MULTILINE)
    assert len(ctes) > 30 and len(ctes) == len(set(ctes))  # embedded files' CTEs lifted, none clashing
    assert not re.search(r"ASOF (LEFT )?JOIN|\bMEDIAN\(|\bUNNEST\(|LIST_CONTAINS", spark)
    assert spark_sql.spark_sql(warehouse.MART) == spark_sql.spark_sql(warehouse.MART)  # deterministic
