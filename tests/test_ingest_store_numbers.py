"""Two stores of a group that number their work orders alike (each from 000001) in one database.

The key of a work order is its number: before this guard, the second store's file "updated" the
first store's orders with its own cars, customers and amounts, and the first store's orders were
gone from every figure (kept only in the history). A stored order is another store's when the file
gives another store and another car or day; such rows are now rejected with a sentence saying why,
and a store renamed or a car's VIN corrected still updates its order."""

from __future__ import annotations

import duckdb
import pytest

from analytics.ingest import import_file, load, read_table, rollback, stage
from analytics.ingest.load import OTHER_STORE_ORDER
from analytics.store import db

HEADER = "工单号,门店,车架号,车牌号,进厂日期,行驶里程,结算金额\n"
WEST = (
    HEADER
    + "000001,杭州西湖店,LSVAU2A37N2100001,浙A10001,2026-03-02,12000,380.00\n"
    + "000002,杭州西湖店,LSVAU2A37N2100002,浙A10002,2026-03-03,23000,520.00\n"
)
EAST = (
    HEADER
    + "000001,宁波江东店,LFV2A21K7N3200001,浙B20001,2026-03-05,8000,410.00\n"
    + "000002,宁波江东店,LFV2A21K7N3200002,浙B20002,2026-03-03,31000,650.00\n"
    + "000003,宁波江东店,LFV2A21K7N3200003,浙B20003,2026-03-06,5000,290.00\n"
)


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "stores.duckdb")
    yield connection
    connection.close()


def _orders(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT order_id, store, vin, amount FROM service_orders ORDER BY order_id").fetchall()


def test_another_stores_orders_with_the_same_numbers_are_rejected_not_written_over(con):
    import_file(con, WEST.encode("utf-8"), file_name="西湖店_3月.csv", kind="service")
    before = _orders(con)
    result = import_file(con, EAST.encode("utf-8"), file_name="江东店_3月.csv", kind="service")
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (1, 0, 0, 2)
    assert _orders(con)[:2] == before
    assert _orders(con)[2] == ("000003", "宁波江东店", "LFV2A21K7N3200003", 290)
    reasons = con.execute(
        "SELECT source_row, reason, raw_values FROM rejected_rows WHERE import_id = ? ORDER BY source_row",
        [result.import_id],
    ).fetchall()
    assert [(r[0], r[1]) for r in reasons] == [(2, OTHER_STORE_ORDER), (3, OTHER_STORE_ORDER)]
    assert "宁波江东店" in reasons[0][2]
    # Nothing of the first store's went to the history as replaced.
    assert con.execute("SELECT count(*) FROM service_orders_history").fetchall() == [(0,)]
    logged = con.execute(
        "SELECT rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected FROM imports "
        "WHERE import_id = ?",
        [result.import_id],
    ).fetchall()
    assert logged == [(3, 1, 0, 0, 2)]


def test_the_preview_counts_what_the_import_does(con):
    import_file(con, WEST.encode("utf-8"), file_name="西湖店_3月.csv", kind="service")
    plan = load.plan_import(con, read_table(EAST.encode("utf-8"), "江东店_3月.csv"), "service")
    assert (plan.to_insert, plan.to_update, plan.unchanged, plan.rejected) == (1, 0, 0, 2)
    assert plan.staged["order_id"].tolist() == ["000003"]
    assert "other_store" not in plan.staged.columns and "pos" not in plan.staged.columns
    assert plan.rejects["reason"].tolist() == [OTHER_STORE_ORDER, OTHER_STORE_ORDER]


def test_a_renamed_store_or_a_corrected_vin_still_updates_its_order(con):
    import_file(con, WEST.encode("utf-8"), file_name="西湖店_3月.csv", kind="service")
    renamed = WEST.replace("杭州西湖店", "西湖旗舰店")
    result = import_file(con, renamed.encode("utf-8"), file_name="改名.csv", kind="service")
    assert (result.updated, result.rejected) == (2, 0)
    corrected = HEADER + "000001,西湖旗舰店,LSVAU2A37N2100009,浙A10001,2026-03-02,12000,380.00\n"
    result = import_file(con, corrected.encode("utf-8"), file_name="更正.csv", kind="service")
    assert (result.updated, result.rejected) == (1, 0)
    # The same store correcting a date is a correction too.
    redated = HEADER + "000002,西湖旗舰店,LSVAU2A37N2100002,浙A10002,2026-03-04,23000,520.00\n"
    result = import_file(con, redated.encode("utf-8"), file_name="改日期.csv", kind="service")
    assert (result.updated, result.rejected) == (1, 0)
    assert [r[1] for r in _orders(con)] == ["西湖旗舰店", "西湖旗舰店"]


def test_a_file_without_a_store_column_updates_by_number_as_before(con):
    import_file(con, WEST.encode("utf-8"), file_name="西湖店_3月.csv", kind="service")
    storeless = "工单号,车架号,进厂日期,结算金额\n000001,LSVAU2A37N2100001,2026-03-02,400.00\n"
    result = import_file(con, storeless.encode("utf-8"), file_name="无门店.csv", kind="service")
    assert (result.updated, result.rejected) == (1, 0)
    assert _orders(con)[0] == ("000001", "杭州西湖店", "LSVAU2A37N2100001", 400)


def test_rolling_back_the_second_store_leaves_the_first_stores_orders(con):
    west = import_file(con, WEST.encode("utf-8"), file_name="西湖店_3月.csv", kind="service")
    east = import_file(con, EAST.encode("utf-8"), file_name="江东店_3月.csv", kind="service")
    rollback(con, east.import_id)
    assert [r[1] for r in _orders(con)] == ["杭州西湖店", "杭州西湖店"]
    assert west.inserted == 2


# Callbacks: the same two stores numbering their calls alike (each from HF0001). A call is another
# store's when the file gives another store and another car or day; a store renamed, or the same
# call exported once with its time and once with the day only, is the same call.
CALL_HEADER = "回访编号,回访类型,车架号,门店,回访日期,是否接通,总体满意度,客户意见\n"
WEST_CALLS = (
    CALL_HEADER
    + "HF0001,7DC,LSVAU2A37N2100001,杭州西湖店,2026-03-09 10:15,已接通,9,交车很顺利\n"
    + "HF0002,7DC,LSVAU2A37N2100002,杭州西湖店,2026-03-10 11:00,已接通,10,服务很好\n"
)
EAST_CALLS = (
    CALL_HEADER
    + "HF0001,7DC,LFV2A21K7N3200001,宁波江东店,2026-03-11 09:30,已接通,3,等太久\n"
    + "HF0002,7DC,LFV2A21K7N3200002,宁波江东店,2026-03-10 15:20,未接通,,\n"
    + "HF0003,7DC,LFV2A21K7N3200003,宁波江东店,2026-03-12 16:00,已接通,8,还行\n"
)


def _calls(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT callback_id, store, vin, overall_score, comment FROM callbacks ORDER BY callback_id"
    ).fetchall()


def test_another_stores_calls_with_the_same_numbers_are_rejected_not_written_over(con):
    import_file(con, WEST_CALLS.encode("utf-8"), file_name="西湖店_回访.csv", kind="callback")
    before = _calls(con)
    plan = load.plan_import(con, read_table(EAST_CALLS.encode("utf-8"), "江东店_回访.csv"), "callback")
    assert (plan.to_insert, plan.to_update, plan.unchanged, plan.rejected) == (1, 0, 0, 2)
    assert "other_store" not in plan.staged.columns and "pos" not in plan.staged.columns
    result = import_file(con, EAST_CALLS.encode("utf-8"), file_name="江东店_回访.csv", kind="callback")
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (1, 0, 0, 2)
    assert _calls(con)[:2] == before
    assert _calls(con)[2][:3] == ("HF0003", "宁波江东店", "LFV2A21K7N3200003")
    reasons = con.execute(
        "SELECT source_row, reason FROM rejected_rows WHERE import_id = ? ORDER BY source_row",
        [result.import_id],
    ).fetchall()
    assert reasons == [(2, load.OTHER_STORE_CALL), (3, load.OTHER_STORE_CALL)]
    assert con.execute("SELECT count(*) FROM callbacks_history").fetchall() == [(0,)]
    assert "回访编号已存为另一门店的回访" in stage.reason_words(load.OTHER_STORE_CALL, "zh")


def test_a_renamed_store_or_a_day_only_export_still_updates_its_call(con):
    import_file(con, WEST_CALLS.encode("utf-8"), file_name="西湖店_回访.csv", kind="callback")
    renamed = WEST_CALLS.replace("杭州西湖店", "西湖旗舰店").replace(",9,交车很顺利", ",10,交车很顺利")
    result = import_file(con, renamed.encode("utf-8"), file_name="改名.csv", kind="callback")
    assert (result.updated, result.rejected) == (2, 0)
    # Another store's name and the day only, the same car: the same call (a store renamed again).
    day_only = CALL_HEADER + "HF0001,7DC,LSVAU2A37N2100001,西湖店,2026-03-09,已接通,10,交车很顺利\n"
    result = import_file(con, day_only.encode("utf-8"), file_name="日期.csv", kind="callback")
    assert result.rejected == 0
    assert _calls(con)[0][:4] == ("HF0001", "西湖店", "LSVAU2A37N2100001", 10)


def test_two_stores_calls_with_one_number_in_one_file_name_the_collision(con):
    both = CALL_HEADER + WEST_CALLS.splitlines()[1] + "\n" + EAST_CALLS.splitlines()[1] + "\n"
    result = import_file(con, both.encode("utf-8"), file_name="集团回访.csv", kind="callback")
    assert (result.inserted, result.rejected) == (1, 1)
    reasons = con.execute(
        "SELECT source_row, reason FROM rejected_rows WHERE import_id = ?", [result.import_id]
    ).fetchall()
    assert reasons == [(2, stage.OTHER_STORE_CALL_IN_FILE)]
