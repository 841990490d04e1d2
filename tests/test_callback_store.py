"""Callbacks keep the store their files name (schema 11).

A new car that has never been serviced has no work order, so its delivery callback (7DC) had no
store: a store filter dropped it and a group's per-store satisfaction lost the selling store's
delivery calls. The callback file's own store (门店, 经销商 ...) now gives it one; a callback with a
work order keeps the order's store, which is authoritative.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from analytics.core.errors import UserError
from analytics.domain import counts
from analytics.domain import satisfaction as sat
from analytics.domain.themes import complaint_categories
from analytics.ingest import load
from analytics.ingest.mapping import auto_mapping, detect_kind
from analytics.services import warehouse
from analytics.store import db, queries
from tests.db_state import columns, database_at

VIN_NEW = "LVHNEW00000000001"  # sold by 杭州西湖店 in March, never serviced
VIN_OLD = "LVHOLD00000000002"  # serviced at 杭州滨江店
WEST, RIVER = "杭州西湖店", "杭州滨江店"

# A 7DC export from the sales side: the selling store beside the buyer.
DELIVERY_CSV = f"""回访编号,回访类型,工单号,车架号,门店,回访日期,回访专员,是否接通,总体满意度,推荐意愿,客户意见,是否投诉,投诉类别
D1,7DC,,{VIN_NEW},  {WEST} ,2024-03-05 10:00,小刘,已接通,不满意,3,交车等了两个小时,是,交车等待
"""
SERVICE_CSV = f"""工单号,门店,车架号,进厂日期,维修类型,结算金额
W1,{RIVER},{VIN_OLD},2024-03-01,保养,300
"""
# A 3DC call about W1 whose file names another store: the work order's store stands.
SERVICE_CALL_CSV = f"""回访编号,工单号,经销商,回访日期,回访专员,是否接通,总体满意度
S1,W1,{WEST},2024-03-04 09:00,小王,接通,满意
"""


def _import(con: duckdb.DuckDBPyConnection, text: str, name: str) -> load.ImportResult:
    result = load.import_file(con, text.encode("utf-8"), file_name=name)
    load.refresh_derived(con)
    return result


def _facts_store(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    frame = queries.run(con, "callback_facts", counts.sql_params(None)).astype(object)
    frame = frame.where(frame.notna(), None)
    return dict(zip(frame["callback_id"], frame["store"], strict=True))


def _stored(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    return con.execute("SELECT callback_id, store FROM callbacks ORDER BY callback_id").fetchall()


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "stores.duckdb")
    yield connection
    connection.close()


# --------------------------------------------------------------------------- which store


def test_a_new_cars_delivery_call_counts_for_the_store_its_file_names(con):
    result = _import(con, DELIVERY_CSV, "新车交付7DC回访.csv")
    assert (result.kind, result.inserted, result.rejected) == ("callback", 1, 0)
    assert result.mapping["columns"]["store"] == "门店"
    assert _stored(con) == [("D1", WEST)]  # trimmed
    assert _facts_store(con) == {"D1": WEST}
    # The store filter of the satisfaction KPI keeps it, and another store's filter does not.
    for stores, n in (([WEST], 1), ([RIVER], 0), (None, 1)):
        monthly = sat.monthly_satisfaction(con, stores, "2024-03", "2024-03")
        assert monthly["n"].tolist() == [n], stores
        month = counts.monthly_counts(con, [date(2024, 3, 1)], stores)
        assert month["scored"].tolist() == [n], stores
        listed = sat.followup_list(con, date(2024, 3, 1), date(2024, 3, 31), stores, as_of=date(2024, 3, 31))
        assert listed["callback_id"].tolist() == ["D1"] * n, stores
        categories = complaint_categories(con, "2024-03", stores)
        assert [c["n"] for c in categories] == [1] * n, stores
    assert listed["store"].tolist() == [WEST]


def test_a_callback_with_a_work_order_keeps_the_orders_store(con):
    _import(con, SERVICE_CSV, "维修工单.csv")
    result = _import(con, SERVICE_CALL_CSV, "回访记录.csv")
    assert result.mapping["columns"]["store"] == "经销商"
    assert _stored(con) == [("S1", WEST)]  # the file's store is kept as it came
    assert _facts_store(con) == {"S1": RIVER}
    assert sat.monthly_satisfaction(con, [RIVER], "2024-03", "2024-03")["n"].tolist() == [1]
    assert sat.monthly_satisfaction(con, [WEST], "2024-03", "2024-03")["n"].tolist() == [0]


def test_the_files_store_comes_before_the_vehicles_work_orders_for_a_delivery_call(con):
    # The car was serviced at another store before its delivery call: the selling store the call's
    # file names wins over the vin's latest work order; without it, the work order's store stands.
    _import(con, SERVICE_CSV, "维修工单.csv")
    _import(con, DELIVERY_CSV.replace(VIN_NEW, VIN_OLD).replace(f"  {WEST} ", ""), "blank.csv")
    assert _stored(con) == [("D1", None)]
    assert _facts_store(con) == {"D1": RIVER}
    _import(con, DELIVERY_CSV.replace(VIN_NEW, VIN_OLD), "新车交付7DC回访.csv")
    assert _facts_store(con) == {"D1": WEST}
    # An export whose store cell is empty (taken before the store was entered) erases no store.
    again = _import(con, DELIVERY_CSV.replace(VIN_NEW, VIN_OLD).replace(f"  {WEST} ", ""), "again.csv")
    assert (again.updated, again.unchanged, _stored(con)) == (0, 1, [("D1", WEST)])
    assert _facts_store(con) == {"D1": WEST}


def test_a_work_order_without_a_store_leaves_the_callbacks_own(con):
    _import(con, SERVICE_CSV.replace(f",{RIVER},", ",,"), "维修工单.csv")
    _import(con, SERVICE_CALL_CSV, "回访记录.csv")
    assert _facts_store(con) == {"S1": WEST}


def test_store_headers_do_not_change_a_files_kind():
    assert detect_kind(SERVICE_CSV.splitlines()[0].split(",")) == "service"
    assert detect_kind(DELIVERY_CSV.splitlines()[0].split(",")) == "callback"
    assert detect_kind(SERVICE_CALL_CSV.splitlines()[0].split(",")) == "callback"
    for header in ("门店", "所属门店", "服务门店", "销售门店", "经销商名称", "Dealer Name"):
        assert detect_kind(["工单号", header, "进厂日期"]) == "service", header
        assert detect_kind(["车架号", header, "回访日期"]) == "callback", header
        assert auto_mapping(["车架号", header, "回访日期"], "callback")["store"] == header


# --------------------------------------------------------------------------- re-imports and rollback


def test_a_reimport_is_idempotent_and_a_changed_store_is_a_replacement_rollback_restores(con):
    first = _import(con, DELIVERY_CSV, "first.csv")
    again = _import(con, DELIVERY_CSV, "first.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    moved = _import(con, DELIVERY_CSV.replace(WEST, RIVER), "moved.csv")
    assert (moved.inserted, moved.updated, moved.unchanged) == (0, 1, 0)
    assert _stored(con) == [("D1", RIVER)]
    assert con.execute("SELECT store, import_id, replaced_by FROM callbacks_history").fetchall() == [
        (WEST, first.import_id, moved.import_id)
    ]
    assert sat.monthly_satisfaction(con, [WEST], "2024-03", "2024-03")["n"].tolist() == [0]
    load.rollback(con, moved.import_id)
    load.refresh_derived(con)
    assert _stored(con) == [("D1", WEST)]
    assert con.execute("SELECT count(*) FROM callbacks_history").fetchone() == (0,)
    assert sat.monthly_satisfaction(con, [WEST], "2024-03", "2024-03")["n"].tolist() == [1]
    # A blank store cell, like a file without the column, leaves the stored store alone.
    blank = _import(con, DELIVERY_CSV.replace(f"  {WEST} ", "   "), "blank.csv")
    assert (blank.updated, blank.unchanged, _stored(con)) == (0, 1, [("D1", WEST)])
    load.rollback(con, blank.import_id)
    without = DELIVERY_CSV.replace("门店,", "", 1).replace(f"  {WEST} ,", "", 1)
    kept = _import(con, without, "without.csv")
    assert (kept.updated, kept.unchanged, _stored(con)) == (0, 1, [("D1", WEST)])


# --------------------------------------------------------------------------- a schema 10 database


def test_a_schema_10_database_gains_the_column_with_every_row_and_id_kept(tmp_path):
    path = tmp_path / "v10.duckdb"
    raw = database_at(path, 10)
    assert "store" not in columns(raw, "callbacks")
    raw.execute(
        "INSERT INTO callbacks (callback_id, order_id, vin, customer_name, phone, callback_type, "
        "callback_date, reached, overall_score, comment, import_id) VALUES "
        "('D1', NULL, $vin, '赵新车', '13800138000', '7DC', TIMESTAMP '2024-03-05 10:00', true, 4, '太慢', 8), "
        "('S1', 'W1', NULL, NULL, NULL, '3DC', TIMESTAMP '2024-03-06 10:00', false, NULL, NULL, 7)",
        {"vin": VIN_NEW},
    )
    raw.execute(
        "INSERT INTO callbacks_history (callback_id, vin, customer_name, callback_type, callback_date, "
        "overall_score, import_id, replaced_by) VALUES ('D1', $vin, '赵', '7DC', "
        "TIMESTAMP '2024-03-05 10:00', 8, 7, 8)",
        {"vin": VIN_NEW},
    )
    before = raw.execute("SELECT * FROM callbacks ORDER BY callback_id").fetchall()
    history = raw.execute("SELECT * FROM callbacks_history").fetchall()
    raw.close()

    old_rows = "SELECT * EXCLUDE (store) FROM callbacks ORDER BY callback_id"
    con = db.connect(path)
    fresh = db.connect(tmp_path / "fresh.duckdb")
    try:
        assert db.schema_version(con) == db.SCHEMA_VERSION >= 12
        assert db.data_version(con) == 3
        for table in ("callbacks", "callbacks_history"):
            assert columns(con, table) == columns(fresh, table)
        assert columns(con, "callbacks") == [*db.CALLBACK_COLUMNS, "import_id"]
        assert db.CALLBACK_COLUMNS.index("store") == db.CALLBACK_COLUMNS.index("phone") + 1
        assert con.execute(old_rows).fetchall() == before
        assert con.execute("SELECT * EXCLUDE (store) FROM callbacks_history").fetchall() == history
        assert con.execute(
            "SELECT count(*) FROM (SELECT store FROM callbacks UNION ALL SELECT store FROM callbacks_history) "
            "WHERE store IS NOT NULL"
        ).fetchone() == (0,)
        # The upgraded database takes a file naming the store, and a rollback restores the old row.
        result = load.import_file(
            con,
            f"回访编号,车架号,门店,回访日期\nD1,{VIN_NEW},{WEST},2024-03-05 10:00\n".encode(),
            file_name="store.csv",
        )
        assert (result.inserted, result.updated) == (0, 1)
        assert con.execute(
            "SELECT store, customer_name, overall_score FROM callbacks WHERE callback_id = 'D1'"
        ).fetchone() == (WEST, "赵新车", 4.0)
        load.rollback(con, result.import_id)
        assert con.execute(old_rows).fetchall() == before
        assert con.execute("SELECT count(*) FROM callbacks WHERE store IS NOT NULL").fetchone() == (0,)
    finally:
        con.close()
        fresh.close()


# --------------------------------------------------------------------------- the Parquet export


def test_the_export_keeps_a_callbacks_own_store_and_files_it_under_its_store(con, tmp_path):
    _import(con, SERVICE_CSV, "维修工单.csv")
    _import(con, SERVICE_CALL_CSV, "回访记录.csv")
    _import(con, DELIVERY_CSV, "新车交付7DC回访.csv")
    target = tmp_path / "export"
    warehouse.export(con, target)
    manifest = json.loads((target / warehouse.MANIFEST).read_text(encoding="utf-8"))
    entry = manifest["tables"]["callbacks"]
    assert ["file_store", "VARCHAR"] in entry["columns"]
    # Filed under the store the callback belongs to; its own store inside the files.
    assert sorted(part["values"]["store"] for part in entry["partitions"].values()) == [RIVER, WEST]
    raw = duckdb.connect()
    inside = raw.execute(
        "SELECT callback_id, store, file_store FROM read_parquet($g) ORDER BY callback_id",
        {"g": str(Path(target) / "callbacks" / "*" / "*" / "*.parquet")},
    ).fetchall()
    raw.close()
    assert inside == [("D1", WEST, WEST), ("S1", RIVER, WEST)]
    read = warehouse.connect(target)
    try:
        assert columns(read, "callbacks") == [*db.CALLBACK_COLUMNS, "import_id"]
        assert _stored(read) == _stored(con)
        assert _facts_store(read) == _facts_store(con) == {"D1": WEST, "S1": RIVER}
        assert sat.monthly_satisfaction(read, [WEST], "2024-03", "2024-03")["n"].tolist() == [1]
    finally:
        read.close()


def test_an_export_of_callbacks_alone_opens_with_empty_work_orders_and_vehicles(con, tmp_path):
    # Files arrive in any order: a store that imported its callback files first and exported then
    # could not open the export (the empty vehicles table's reading columns are nested types,
    # which the manifest check refused).
    _import(con, DELIVERY_CSV, "新车交付7DC回访.csv")
    target = tmp_path / "export"
    warehouse.export(con, target)
    read = warehouse.connect(target)
    try:
        assert columns(read, "vehicles") == columns(con, "vehicles")
        assert read.execute("SELECT count(*) FROM vehicles").fetchone() == (0,)
        assert read.execute("SELECT count(*) FROM service_orders").fetchone() == (0,)
        assert _facts_store(read) == _facts_store(con) == {"D1": WEST}
    finally:
        read.close()
    # A nested type the schema does not hold is still refused, not spliced into SQL.
    manifest = json.loads((target / warehouse.MANIFEST).read_text(encoding="utf-8"))
    listed = manifest["tables"]["vehicles"]["columns"]
    listed[-1][1] = "STRUCT(x INTEGER); DROP TABLE meta; --"
    (target / warehouse.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(UserError, match="not a plain column"):
        warehouse.connect(target)


def test_an_export_written_before_callbacks_had_a_store_reads_them_without_one(con, tmp_path):
    _import(con, SERVICE_CSV, "维修工单.csv")
    _import(con, DELIVERY_CSV, "新车交付7DC回访.csv")
    target = tmp_path / "export"
    warehouse.export(con, target)
    raw = duckdb.connect()
    for file in (target / "callbacks").rglob("*.parquet"):
        raw.execute(
            "COPY (SELECT * EXCLUDE (file_store) FROM read_parquet($f)) TO $g (FORMAT parquet)",
            {"f": str(file), "g": str(file) + ".old"},
        )
        file.with_name(file.name + ".old").replace(file)
    raw.close()
    manifest = json.loads((target / warehouse.MANIFEST).read_text(encoding="utf-8"))
    entry = manifest["tables"]["callbacks"]
    entry["columns"] = [c for c in entry["columns"] if c[0] != "file_store"]
    del entry["renamed"]
    (target / warehouse.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    read = warehouse.connect(target)
    try:
        assert sorted(columns(read, "callbacks")) == sorted([*db.CALLBACK_COLUMNS, "import_id"])
        assert _stored(read) == [("D1", None)]
        assert _facts_store(read) == {"D1": None}
    finally:
        read.close()
