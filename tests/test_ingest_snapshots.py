"""Exports taken at different times arrive in any order: an empty cell keeps the stored value.

A DMS export taken while a work order was open has its amount blank; one taken after settlement has
it. A callback export taken before the customer answered has no scores; a later one has them. The
files reach the database in whatever order someone imports them, and the tables must end the same
way: a value, once known, is not erased by an older export's empty cell. The one field whose
emptiness is a statement, a call's work-order number (a call on no work order is a delivery call),
is still taken from the file as it stands (``tests/test_ingest_probe6.py``).
"""

from __future__ import annotations

from datetime import date
from itertools import permutations

import duckdb
import pytest

from analytics.ingest import import_file, rollback
from analytics.store import db
from tests.db_state import derived_is_current

ORDERS_HEADER = (
    "工单号,进厂日期,车架号,车牌号,客户姓名,联系电话,车型,进厂里程,维修类型,结算金额,服务顾问,是否预约\n"
)
# The same two work orders exported three times as they were being worked on: opened (car, date and
# type known), in the workshop (mileage and advisor filled in), settled (amount and appointment).
ORDER_SNAPSHOTS = {
    "opened": ORDERS_HEADER
    + "WO1,2026-08-01,LSVAU2A37N2800001,浙A12345,张三,13812345678,朗逸,,保养,,,\n"
    + "WO2,2026-08-02,LSVAU2A37N2800002,浙A54321,李四,13912345678,帕萨特,,一般维修,,,\n",
    "workshop": ORDERS_HEADER
    + "WO1,2026-08-01,LSVAU2A37N2800001,浙A12345,张三,13812345678,朗逸,12345,保养,,王顾问,\n"
    + "WO2,2026-08-02,LSVAU2A37N2800002,浙A54321,李四,13912345678,帕萨特,45678,一般维修,,赵顾问,\n",
    "settled": ORDERS_HEADER
    + "WO1,2026-08-01,LSVAU2A37N2800001,浙A12345,张三,13812345678,朗逸,12345,保养,680,王顾问,是\n"
    + "WO2,2026-08-02,LSVAU2A37N2800002,浙A54321,李四,13912345678,帕萨特,45678,一般维修,1520.5,赵顾问,否\n",
}
CALLS_HEADER = "回访编号,工单号,回访日期,回访人,回访结果,总体满意度,服务态度,客户意见,是否投诉,投诉类型\n"
# The same call exported before it was made (a planned call), after the customer was reached and
# scored it, and after the customer's complaint was written down.
CALL_SNAPSHOTS = {
    "planned": CALLS_HEADER + "CB1,WO1,2026-08-04 10:00,小周,,,,,,\n",
    "answered": CALLS_HEADER + "CB1,WO1,2026-08-04 10:00,小周,接通,8,9,,,\n",
    "complained": CALLS_HEADER + "CB1,WO1,2026-08-04 10:00,小周,接通,8,9,等太久了,是,服务效率\n",
}


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "snapshots.duckdb")
    yield connection
    connection.close()


def _table(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


ORDERS = (
    "SELECT order_id, vin, plate, customer_name, phone, model, visit_date, mileage_km, service_type, "
    "amount, advisor, is_appointment FROM service_orders ORDER BY order_id"
)
CALLS = (
    "SELECT callback_id, order_id, agent, reached, overall_score, attitude_score, comment, is_complaint, "
    "complaint_category FROM callbacks ORDER BY callback_id"
)


@pytest.mark.parametrize("order", list(permutations(ORDER_SNAPSHOTS)), ids="-".join)
def test_work_order_snapshots_end_the_same_whatever_order_they_are_imported_in(tmp_path, order):
    con = db.connect(tmp_path / f"{'-'.join(order)}.duckdb")
    try:
        for name in order:
            result = import_file(con, ORDER_SNAPSHOTS[name].encode("gbk"), file_name=f"工单_{name}.csv")
            assert result.rows_read == result.inserted + result.updated + result.unchanged + result.rejected
            assert result.rejected == 0
        assert _table(con, ORDERS) == [
            ("WO1", "LSVAU2A37N2800001", "浙A12345", "张三", "13812345678", "朗逸",
             _day("2026-08-01"), 12345, "maintenance", 680, "王顾问", True),
            ("WO2", "LSVAU2A37N2800002", "浙A54321", "李四", "13912345678", "帕萨特",
             _day("2026-08-02"), 45678, "repair", 1520.5, "赵顾问", False),
        ]  # fmt: skip
        # The vehicles' running values are those of the final rows, not of the last file.
        assert derived_is_current(con)
    finally:
        con.close()


@pytest.mark.parametrize("order", list(permutations(CALL_SNAPSHOTS)), ids="-".join)
def test_callback_snapshots_end_the_same_whatever_order_they_are_imported_in(tmp_path, order):
    con = db.connect(tmp_path / f"{'-'.join(order)}.duckdb")
    try:
        import_file(con, ORDER_SNAPSHOTS["settled"].encode("gbk"), file_name="工单.csv")
        for name in order:
            result = import_file(con, CALL_SNAPSHOTS[name].encode("gbk"), file_name=f"回访_{name}.csv")
            assert result.rejected == 0
        assert _table(con, CALLS) == [
            ("CB1", "WO1", "小周", True, 8.0, 9.0, "等太久了", True, "服务效率"),
        ]
    finally:
        con.close()


# The same calls in an export with their times and in a summary that writes the day only; and a
# call moved to another day by a correction, which the summary must still carry.
TIMED_CALLS = (
    CALLS_HEADER + "CB1,WO1,2026-08-04 10:15,小周,接通,8,9,,,\nCB2,WO2,2026-08-05 16:40,小周,接通,9,9,,,\n"
)
DAY_ONLY_CALLS = CALLS_HEADER + "CB1,WO1,2026-08-04,小周,接通,8,9,,,\nCB2,WO2,2026-08-06,小周,接通,9,9,,,\n"


@pytest.mark.parametrize(
    "order", [("timed", "day"), ("day", "timed"), ("timed", "day", "timed"), ("day", "timed", "day")]
)
def test_a_call_date_without_its_time_keeps_the_time_stored_for_that_day_in_any_order(tmp_path, order):
    """Session 42: a summary export that writes a call's day only replaced the stored time of day
    with midnight (4 "updates"), and importing the timed export again put it back: the end state
    depended on which was imported last."""
    con = db.connect(tmp_path / f"{'-'.join(order)}.duckdb")
    files = {"timed": TIMED_CALLS, "day": DAY_ONLY_CALLS}
    try:
        import_file(con, ORDER_SNAPSHOTS["settled"].encode("gbk"), file_name="工单.csv")
        results = [
            import_file(con, files[name].encode("gbk"), file_name=f"回访_{name}.csv") for name in order
        ]
        stored = _table(
            con, "SELECT callback_id, strftime(callback_date, '%Y-%m-%d %H:%M') FROM callbacks ORDER BY 1"
        )
        # CB2's day differs between the exports: the last one's day wins, with the time it has.
        cb2 = "2026-08-06 00:00" if order[-1] == "day" else "2026-08-05 16:40"
        assert stored == [("CB1", "2026-08-04 10:15"), ("CB2", cb2)]
        # CB1 changes only when its time arrives after its day (day, then timed); CB2's day always changes.
        first_time = order == ("day", "timed")
        assert (results[-1].updated, results[-1].unchanged) == ((2, 0) if first_time else (1, 1))
    finally:
        con.close()


def test_an_older_export_imported_last_is_unchanged_and_a_rollback_of_the_newer_one_restores(con):
    first = import_file(con, ORDER_SNAPSHOTS["opened"].encode("gbk"), file_name="工单_opened.csv")
    assert first.inserted == 2
    settled = import_file(con, ORDER_SNAPSHOTS["settled"].encode("gbk"), file_name="工单_settled.csv")
    assert (settled.updated, settled.unchanged) == (2, 0)
    # The opened export again, after the settled one: it says nothing new, so nothing changes.
    again = import_file(con, ORDER_SNAPSHOTS["opened"].encode("gbk"), file_name="工单_opened_again.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert [r[9] for r in _table(con, ORDERS)] == [680, 1520.5]
    # Rolling back the settled export (the later import first) gives back the opened rows exactly.
    rollback(con, again.import_id)
    rollback(con, settled.import_id)
    assert [(r[7], r[9], r[10], r[11]) for r in _table(con, ORDERS)] == [
        (None, None, None, None),
        (None, None, None, None),
    ]
    assert derived_is_current(con)


def test_a_value_changed_by_a_later_export_is_still_updated(con):
    import_file(con, ORDER_SNAPSHOTS["settled"].encode("gbk"), file_name="工单_settled.csv")
    corrected = ORDER_SNAPSHOTS["settled"].replace(",680,", ",580,")
    result = import_file(con, corrected.encode("gbk"), file_name="工单_corrected.csv")
    assert (result.updated, result.unchanged) == (1, 1)
    assert [r[9] for r in _table(con, ORDERS)] == [580, 1520.5]


def _day(text: str) -> date:
    return date.fromisoformat(text)
