"""import_file / plan_import / rollback against the golden files: exact rows, counts and history."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from analytics.core.errors import ImportRefused, UserError
from analytics.ingest import (
    import_file,
    import_files,
    list_imports,
    plan_import,
    read_table,
    rejected_rows,
    rollback,
)
from analytics.ingest.load import refresh_derived
from analytics.store import db

DATA = Path(__file__).resolve().parent / "data"
GBK = DATA / "service_orders_gbk.csv"
CORRECTED = DATA / "service_orders_gbk_corrected.csv"
XLSX = DATA / "service_orders_titled.xlsx"
CALLBACKS = DATA / "callbacks_bom.csv"
BAD_SERVICE = DATA / "service_orders_bad_rows.csv"
BAD_CALLBACKS = DATA / "callbacks_bad_rows.csv"


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "ingest.duckdb")
    yield connection
    connection.close()


def scalar(con, sql, params=None):
    return con.execute(sql, params or {}).fetchall()[0][0]


def snapshot(con) -> dict[str, object]:
    """Everything an import may change, to compare before and after a failure or refusal."""
    return {
        "orders": con.execute("SELECT * FROM service_orders ORDER BY order_id").fetchall(),
        "callbacks": con.execute("SELECT * FROM callbacks ORDER BY callback_id").fetchall(),
        "imports": con.execute("SELECT import_id, status FROM imports ORDER BY import_id").fetchall(),
        "rejected": scalar(con, "SELECT count(*) FROM rejected_rows"),
        "history": scalar(con, "SELECT count(*) FROM service_orders_history")
        + scalar(con, "SELECT count(*) FROM callbacks_history"),
        "vehicles": con.execute("SELECT * FROM vehicles ORDER BY vin").fetchall(),
        "data_version": db.data_version(con),
    }


def test_gbk_service_file_lands_with_exact_values(con):
    result = import_file(con, GBK)
    assert (
        result.kind,
        result.rows_read,
        result.inserted,
        result.updated,
        result.unchanged,
        result.rejected,
    ) == (
        "service",
        8,
        8,
        0,
        0,
        0,
    )
    assert result.reasons == []
    assert scalar(con, "SELECT sum(amount) FROM service_orders") == 15901.0
    rows = con.execute(
        "SELECT order_id, store, visit_date, purchase_date, mileage_km, service_type, amount, is_appointment, "
        "import_id FROM service_orders ORDER BY order_id"
    ).fetchall()
    assert rows[1] == (
        "WO240301002",
        "城东店",
        dt.date(2024, 3, 1),
        dt.date(2021, 7, 2),
        23410,
        "maintenance",
        1280.0,
        False,
        result.import_id,
    )
    assert [r[5] for r in rows] == [
        "first_maintenance",
        "maintenance",
        "repair",
        "warranty",
        "body_paint",
        "maintenance",
        "warranty",
        "other",
    ]
    assert [r[7] for r in rows] == [True, False, True, False, False, True, False, True]
    assert rows[6][4:7] == (102345, "warranty", 150.0)
    assert scalar(con, "SELECT count(*) FROM vehicles") == 7
    assert con.execute(
        "SELECT visits, spend, first_visit, last_visit FROM vehicles WHERE vin = 'LSVAU2A37N2183746'"
    ).fetchall() == [(2, 880.0, dt.date(2024, 3, 1), dt.date(2024, 3, 5))]
    assert db.data_version(con) == 1


def test_xlsx_with_title_blank_rows_and_date_cells(con):
    result = import_file(con, XLSX)
    assert (result.rows_read, result.inserted, result.rejected) == (4, 4, 0)
    rows = con.execute(
        "SELECT order_id, store, phone, purchase_date, visit_date, mileage_km, service_type, amount, "
        "is_appointment FROM service_orders ORDER BY order_id"
    ).fetchall()
    assert rows == [
        ("R2024040101", "城西店", "13300005555", dt.date(2023, 4, 1), dt.date(2024, 4, 1), 8000,
         "first_maintenance", 0.0, True),
        ("R2024040202", "城西店", "13400006666", dt.date(2023, 3, 15), dt.date(2024, 4, 2), 25678,
         "repair", 2350.75, False),
        ("R2024040303", "城西店", "13500007777", dt.date(2022, 8, 8), dt.date(2024, 4, 3), 41000,
         "body_paint", 12800.0, True),
        ("R2024040404", "城西店", "13600008888", None, dt.date(2024, 4, 4), 60500, "warranty", 0.0, None),
    ]  # fmt: skip


def test_callback_scores_are_normalised_by_each_columns_scale(con):
    raw = read_table(CALLBACKS)
    plan = plan_import(con, raw)
    assert plan.kind == "callback"
    assert plan.scales == {
        "overall_score": "labels",
        "attitude_score": "1-5",
        "quality_score": "0-100",
        "recommend_score": "0-10",
    }
    result = import_file(con, CALLBACKS)
    assert (result.rows_read, result.inserted, result.rejected) == (10, 10, 0)
    rows = con.execute(
        "SELECT order_id, vin, callback_type, callback_date, agent, reached, overall_score, attitude_score, "
        "quality_score, recommend_score, is_complaint, complaint_category, complaint_level, resolved_at "
        "FROM callbacks ORDER BY callback_date"
    ).fetchall()
    assert [r[3] for r in rows] == [
        dt.datetime(2024, 3, 2, 10, 15),
        dt.datetime(2024, 3, 3, 14, 30),
        dt.datetime(2024, 3, 4, 9, 5),
        dt.datetime(2024, 3, 4, 11, 0),
        dt.datetime(2024, 3, 5, 16, 40),
        dt.datetime(2024, 3, 6, 10, 0),
        dt.datetime(2024, 3, 6, 17, 5),
        dt.datetime(2024, 3, 7, 13, 10),
        dt.datetime(2024, 3, 8, 15, 20),
        dt.datetime(2024, 3, 9, 9, 45),
    ]
    assert [r[2] for r in rows] == ["3DC", "3DC", "3DC", "3DC", "3DC", "3DC", "3DC", "other", "7DC", "7DC"]
    assert [r[5] for r in rows] == [True, True, False, False, True, True, True, True, True, False]
    by_order = {(r[0], r[3]): r for r in rows}
    unhappy = by_order[("WO240302003", dt.datetime(2024, 3, 5, 16, 40))]
    assert unhappy[6:] == (4.0, 4.0, 4.5, 3.0, True, "收费", 2, dt.datetime(2024, 3, 6, 11, 40))
    furious = by_order[("WO240304005", dt.datetime(2024, 3, 6, 10, 0))]
    assert furious[6:] == (2.0, 2.0, 2.0, 0.0, True, "维修质量", 3, dt.datetime(2024, 3, 8, 18, 30))
    delighted = by_order[(None, dt.datetime(2024, 3, 8, 15, 20))]
    assert delighted[1] == "LSVNV4182M2098813"
    assert delighted[6:10] == (10.0, 10.0, 10.0, 10.0)
    assert [r[6] for r in rows] == [8.0, 6.0, None, None, 4.0, 2.0, 8.0, 8.0, 10.0, None]
    assert [r[12] for r in rows if r[12] is not None] == [2, 3, 1]
    hours = scalar(
        con,
        "SELECT date_diff('hour', callback_date, resolved_at) FROM callbacks WHERE complaint_level = 2",
    )
    assert hours == 19


def test_derived_callback_ids_are_stable_across_reimports(con):
    import_file(con, CALLBACKS)
    first = [r[0] for r in con.execute("SELECT callback_id FROM callbacks ORDER BY callback_id").fetchall()]
    assert len(set(first)) == 10
    assert all(cid.startswith("CB-") for cid in first)
    again = import_file(con, CALLBACKS)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 10)
    assert [
        r[0] for r in con.execute("SELECT callback_id FROM callbacks ORDER BY callback_id").fetchall()
    ] == first


def test_bad_service_rows_are_rejected_with_row_numbers_and_reasons(con):
    result = import_file(con, BAD_SERVICE)
    # Probe 11: an unreadable amount (12x) no longer loses the visit: the order lands, amount blank.
    assert (result.rows_read, result.inserted, result.rejected, result.blanked) == (9, 4, 4, 1)
    assert result.reasons == [
        "missing work-order number",
        "unreadable date",
        "duplicate key in file, later row kept",
        "missing visit date",
    ]
    assert result.notes == ["number not readable, left blank"]
    rejects = rejected_rows(con, result.import_id)
    assert list(
        rejects[["source_row", "column_name", "reason", "kept"]].itertuples(index=False, name=None)
    ) == [
        (3, "工单号", "missing work-order number", False),
        (4, "进厂日期", "unreadable date", False),
        (8, "工单号", "duplicate key in file, later row kept", False),
        (10, "进厂日期", "missing visit date", False),
        (5, "结算金额", "number not readable, left blank", True),
    ]
    assert json.loads(rejects["raw_values"].iloc[1]) == {
        "工单号": "WO9003",
        "车架号": "ABC123",
        "联系电话": "12345",
        "进厂日期": "2023/2/30",
        "维修类型": "维修",
        "结算金额": "200",
        "进厂里程": "5000",
    }
    assert con.execute(
        "SELECT order_id, vin, phone, amount FROM service_orders ORDER BY order_id"
    ).fetchall() == [
        ("WO9001", "LSVAU2A37N2183746", "13812345678", 500.0),
        ("WO9004", "XYZ", "999", None),
        ("WO9005", "BADVIN", "000", 1000.0),
        ("WO9006", "LVSHFFAL5KF554210", "13611112222", 150.0),
    ]
    log = list_imports(con).iloc[0]
    assert (log["rows_read"], log["rows_inserted"], log["rows_rejected"]) == (9, 4, 4)


def test_every_row_read_is_counted_once(con):
    raw = read_table(BAD_SERVICE)
    plan = plan_import(con, raw)
    assert plan.duplicates_in_file == 1
    assert plan.to_insert + plan.to_update + plan.unchanged + plan.rejected + plan.duplicates_in_file == 9
    assert plan.staged["action"].tolist() == ["insert", "insert", "insert", "insert"]
    assert plan.staged["source_row"].tolist() == [5, 6, 7, 9]


def test_bad_callback_rows_are_rejected_with_row_numbers_and_reasons(con):
    result = import_file(con, BAD_CALLBACKS)
    # Issue 14: an unreadable score no longer loses the call: the row lands with the score blank;
    # probe 11: so does an unreadable call status (打错了), with reached blank.
    assert (result.rows_read, result.inserted, result.rejected, result.blanked) == (7, 4, 3, 2)
    rejects = rejected_rows(con, result.import_id)
    assert list(
        rejects[["source_row", "column_name", "reason", "kept"]].itertuples(index=False, name=None)
    ) == [
        (2, "回访编号", "duplicate key in file, later row kept", False),
        (3, "回访日期", "missing callback date", False),
        (4, "工单号/车架号", "missing both work-order number and VIN", False),
        (5, "是否接通", "reached value not readable (接通/未接通 expected), left blank", True),
        (7, "满意度", "score not readable on the 1-5 scale, left blank", True),
    ]
    assert con.execute(
        "SELECT callback_id, order_id, vin, callback_type, reached, overall_score FROM callbacks ORDER BY 1"
    ).fetchall() == [
        ("CB001", "WO1", None, "3DC", True, 6.0),
        ("CB004", "WO4", None, "3DC", None, 8.0),
        ("CB005", "WO5", None, "3DC", True, None),
        ("CB006", None, "LSVNV4182M2098813", "7DC", False, None),
    ]


def test_reimport_of_same_file_changes_nothing_but_is_logged(con):
    first = import_file(con, GBK)
    before = snapshot(con)
    again = import_file(con, GBK)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 8, 0)
    after = snapshot(con)
    assert after["orders"] == before["orders"]
    assert after["data_version"] == before["data_version"] == 1
    assert after["history"] == 0
    log = list_imports(con)
    assert log["import_id"].tolist() == [again.import_id, first.import_id]
    assert log["rows_unchanged"].tolist() == [8, 0]
    assert log["sha256"].nunique() == 1


def test_corrected_export_updates_by_key_and_keeps_columns_it_lacks(con):
    first = import_file(con, GBK)
    fix = import_file(con, CORRECTED)
    assert (fix.rows_read, fix.inserted, fix.updated, fix.unchanged, fix.rejected) == (9, 1, 2, 6, 0)
    assert scalar(con, "SELECT sum(amount) FROM service_orders") == 18201.0
    found = con.execute("SELECT order_id, amount, advisor, import_id FROM service_orders").fetchall()
    rows = {r[0]: r[1:] for r in found}
    assert rows["WO240301002"] == (1380.0, "王磊", fix.import_id)
    assert rows["WO240304005"] == (9100.0, "陈静", fix.import_id)
    assert rows["WO240301001"] == (0.0, "王磊", first.import_id)
    assert rows["WO240308009"] == (2000.0, None, fix.import_id)
    history = con.execute(
        "SELECT order_id, amount, import_id, replaced_by FROM service_orders_history ORDER BY order_id"
    ).fetchall()
    assert history == [
        ("WO240301002", 1280.0, first.import_id, fix.import_id),
        ("WO240304005", 8900.0, first.import_id, fix.import_id),
    ]
    assert db.data_version(con) == 2


def test_rollback_of_the_correction_restores_the_old_amounts(con):
    import_file(con, GBK)
    before = snapshot(con)
    fix = import_file(con, CORRECTED)
    counts = rollback(con, fix.import_id)
    assert counts == {"import_id": fix.import_id, "deleted": 1, "restored": 2, "kept": 0}
    after = snapshot(con)
    assert after["orders"] == before["orders"]
    assert after["vehicles"] == before["vehicles"]
    assert after["history"] == 0
    assert scalar(con, "SELECT sum(amount) FROM service_orders") == 15901.0
    assert after["data_version"] == 3
    assert (
        scalar(con, "SELECT status FROM imports WHERE import_id = $i", {"i": fix.import_id}) == "rolled_back"
    )


def test_rollback_of_the_first_import_removes_its_rows(con):
    first = import_file(con, GBK)
    fix = import_file(con, CORRECTED)
    with pytest.raises(UserError, match=f"roll back import {fix.import_id} first"):
        rollback(con, first.import_id)
    rollback(con, fix.import_id)
    assert rollback(con, first.import_id) == {
        "import_id": first.import_id,
        "deleted": 8,
        "restored": 0,
        "kept": 0,
    }
    assert scalar(con, "SELECT count(*) FROM service_orders") == 0
    assert scalar(con, "SELECT count(*) FROM vehicles") == 0
    with pytest.raises(UserError, match="already rolled back"):
        rollback(con, first.import_id)
    with pytest.raises(UserError, match="There is no import 99"):
        rollback(con, 99)


def test_an_unchanged_reimport_does_not_block_rolling_back_the_first_and_keeps_the_rows_it_holds(con):
    first = import_file(con, GBK)
    again = import_file(con, GBK)
    # The second import's file holds the same rows: they stay, now the second's (session 21: they
    # were deleted, leaving the second import "done" with its rows gone).
    counts = rollback(con, first.import_id)
    assert (counts["deleted"], counts["kept"]) == (0, 8)
    assert con.execute("SELECT count(*) FROM service_orders").fetchall() == [(8,)]
    assert rollback(con, again.import_id)["deleted"] == 8


@pytest.mark.parametrize("target", ["refresh_vehicles", "bump_data_version"])
def test_a_failure_midway_leaves_the_database_exactly_as_before(con, monkeypatch, target):
    import_file(con, GBK)
    import_file(con, CALLBACKS)
    before = snapshot(con)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(db, target, fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(con, CORRECTED)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(con, BAD_SERVICE)
    assert snapshot(con) == before
    monkeypatch.undo()
    fix = import_file(con, CORRECTED)
    assert (fix.inserted, fix.updated) == (1, 2)


def test_plan_import_previews_without_writing(con):
    import_file(con, GBK)
    before = snapshot(con)
    plan = plan_import(con, read_table(CORRECTED))
    assert (plan.to_insert, plan.to_update, plan.unchanged) == (1, 2, 6)
    assert plan.mapping["amount"] == "结算金额"
    assert "advisor" not in plan.mapping
    changed = plan.staged[plan.staged["action"] != "unchanged"]
    assert changed[["order_id", "amount", "action"]].values.tolist() == [
        ["WO240301002", 1380.0, "update"],
        ["WO240304005", 9100.0, "update"],
        ["WO240308009", 2000.0, "insert"],
    ]
    assert snapshot(con) == before


def test_a_callback_file_imported_as_service_is_refused(con):
    before = snapshot(con)
    with pytest.raises(ImportRefused, match="looks like a callback file") as refused:
        import_file(con, CALLBACKS, kind="service")
    assert "--kind callback" in str(refused.value)
    assert snapshot(con) == before


def test_a_file_without_its_key_column_is_refused(con):
    data = "车架号,进厂日期,结算金额\nLSV1,2024-03-05,10\n".encode()
    with pytest.raises(ImportRefused, match="has no work-order number column"):
        import_file(con, data, file_name="nokey.csv", kind="service")
    with pytest.raises(ImportRefused, match="no columns recognised"):
        import_file(con, "名称,数量\n机油,3\n".encode(), file_name="parts.csv")
    assert scalar(con, "SELECT count(*) FROM imports") == 0


def test_a_user_mapping_completes_unknown_headers_and_overrides_a_scale(con):
    data = (
        "单号,日期,回访日,评分\nA1,2024-03-05,2024-03-06 10:00,4\nA2,2024-03-05,2024-03-07 11:00,5\n".encode()
    )
    mapping = {
        "kind": "callback",
        "columns": {"order_id": "单号", "callback_date": "回访日", "overall_score": "评分"},
        "scales": {"overall_score": "0-10"},
    }
    result = import_file(con, data, file_name="custom.csv", mapping=mapping)
    assert result.inserted == 2
    assert result.mapping["scales"] == {"overall_score": "0-10"}
    assert con.execute("SELECT order_id, overall_score FROM callbacks ORDER BY 1").fetchall() == [
        ("A1", 4.0),
        ("A2", 5.0),
    ]
    with pytest.raises(ImportRefused, match="has no column '客户'"):
        import_file(
            con, data, file_name="custom.csv", mapping={"columns": {"agent": "客户"}, "kind": "callback"}
        )


def test_progress_is_reported_from_start_to_finish(con):
    seen: list[float] = []
    import_file(con, GBK, progress=lambda fraction, message: seen.append(fraction))
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


def test_total_rows_at_the_bottom_are_rejected_not_imported(con):
    data = "工单号,进厂日期,结算金额\nA1,2024-03-05,10\nA2,2024-03-06,20\n合计,,30\n".encode("gbk")
    result = import_file(con, data, file_name="with_total.csv")
    assert (result.inserted, result.rejected) == (2, 1)
    assert rejected_rows(con, result.import_id)["reason"].tolist() == [
        "total row, not a record",
        "missing visit date",
    ]


@pytest.mark.parametrize("label", ["合计：", "合计:", "合 计", "总计（2单）", "小计 (元)"])
def test_a_total_label_with_a_colon_spaces_or_a_count_is_a_total_row(con, label):
    data = f"工单号,进厂日期,结算金额\nA1,2024-03-05,10\nA2,2024-03-06,20\n{label},,30\n".encode("gbk")
    result = import_file(con, data, file_name="with_total.csv")
    assert (result.inserted, result.rejected) == (2, 1)
    assert rejected_rows(con, result.import_id)["reason"].tolist() == [
        "total row, not a record",
        "missing visit date",
    ]


def test_a_failed_rollback_leaves_the_import_in_place(con, monkeypatch):
    import_file(con, GBK)
    fix = import_file(con, CORRECTED)
    before = snapshot(con)

    def fail(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(db, "refresh_vehicles", fail)
    with pytest.raises(RuntimeError, match="power cut"):
        rollback(con, fix.import_id)
    assert snapshot(con) == before


def test_two_calls_on_one_day_keep_apart_and_an_exact_copy_lands_once(con):
    data = "工单号,回访日期,回访人,是否接通\nWO1,2024-03-05,小刘,未接通\nWO1,2024-03-05,小刘,接通\nWO1,2024-03-05,小刘,接通\n"
    result = import_file(con, data.encode("utf-8"), file_name="same_day.csv")
    assert (result.inserted, result.duplicates_in_file, result.rejected) == (2, 1, 0)
    ids = con.execute("SELECT callback_id, reached FROM callbacks ORDER BY callback_id").fetchall()
    assert ids[1][0] == ids[0][0] + "-2"
    # The answered attempt takes the first id whatever its place in the file (session 21).
    assert [reached for _, reached in ids] == [True, False]
    again = import_file(con, data.encode("utf-8"), file_name="same_day.csv")
    assert (again.inserted, again.unchanged, again.duplicates_in_file) == (0, 2, 1)


def test_incremental_vehicle_refresh_equals_a_full_rebuild(con, tmp_path):
    # An import rebuilds only the vehicles whose work orders it wrote or replaced; after a
    # correction that moves an order to another VIN, the table must equal a full rebuild.
    import_file(con, GBK)
    import_file(con, XLSX)
    moved = tmp_path / "moved.csv"
    text = CORRECTED.read_bytes().decode("gbk")
    first_vin = scalar(
        con, "SELECT vin FROM service_orders WHERE order_id LIKE 'WO%' ORDER BY order_id LIMIT 1"
    )
    other_vin = scalar(con, "SELECT max(vin) FROM service_orders")
    assert first_vin in text and first_vin != other_vin
    moved.write_bytes(text.replace(first_vin, other_vin, 1).encode("gbk"))
    assert import_file(con, moved, kind="service").updated >= 1
    incremental = con.execute("SELECT * FROM vehicles ORDER BY vin").fetchall()
    refresh_derived(con)
    assert con.execute("SELECT * FROM vehicles ORDER BY vin").fetchall() == incremental
    assert len(incremental) == scalar(con, "SELECT count(DISTINCT vin) FROM service_orders")


def test_import_files_reads_ahead_but_writes_in_order_like_import_file_one_by_one(tmp_path):
    # The corrected export updates rows of the first, so the order of the writes shows.
    junk = tmp_path / "notes.csv"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    files = [GBK, junk, CORRECTED, XLSX, CALLBACKS]
    one = db.connect(tmp_path / "one.duckdb")
    for path in files:
        try:
            import_file(one, path)
        except ImportRefused:
            pass
    many = db.connect(tmp_path / "many.duckdb")
    outcome = list(import_files(many, files))
    assert [source for source, _ in outcome] == files
    assert isinstance(outcome[1][1], ImportRefused) and "notes.csv" in str(outcome[1][1])
    results = [r for _, r in outcome if not isinstance(r, ImportRefused)]
    assert [r.updated > 0 for r in results] == [False, True, False, False]
    history = "SELECT order_id, replaced_by FROM service_orders_history ORDER BY ALL"
    assert snapshot(many) == snapshot(one)
    assert many.execute(history).fetchall() == one.execute(history).fetchall()
    one.close()
    many.close()
