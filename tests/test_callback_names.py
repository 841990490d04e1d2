"""Callbacks keep the customer's name and phone their files carry (schema 10).

A new car's buyer has no work order yet, so his delivery callback (7DC) is the only record that
names him: the red flags and the follow-up list show that name and phone, masked as every phone
is for a role that does not call customers, while a vehicle with a work order keeps showing the
owner its latest work order names.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

import duckdb
import pytest

from analytics.domain import overview
from analytics.domain import satisfaction as sat
from analytics.ingest import load
from analytics.ingest.mapping import detect_kind
from analytics.store import db
from tests.db_state import columns, database_at

VIN_NEW = "LVHNEW00000000001"  # sold in March, not serviced yet
VIN_OLD = "LVHOLD00000000002"  # serviced: its work order names the owner

# A 7DC export as the sales side prints it: the buyer's name and phone beside the VIN.
DELIVERY_CSV = f"""回访编号,回访类型,工单号,车架号,客户姓名,联系电话,回访日期,回访专员,是否接通,总体满意度,推荐意愿,客户意见
D1,7DC,,{VIN_NEW},赵新车,138-0013-8000,2024-03-05 10:00,小刘,已接通,不满意,3,交车等了两个小时
D2,7DC,,{VIN_OLD},孙旧名,13911112222,2024-03-06 10:00,小刘,已接通,不满意,4,手续太慢
"""
SERVICE_CSV = f"""工单号,门店,车架号,车牌号,车主,手机,进厂日期,维修类型,结算金额
W1,杭州西湖店,{VIN_OLD},浙A12345,钱车主,13700001111,2024-02-01,首保,0
"""


def _import(con: duckdb.DuckDBPyConnection, text: str, name: str) -> load.ImportResult:
    result = load.import_file(con, text.encode("utf-8"), file_name=name)
    load.refresh_derived(con)
    return result


def _people(frame) -> dict[str, tuple[object, object]]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return {r["callback_id"]: (r["customer_name"], r["phone"]) for r in rows}


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "names.duckdb")
    yield connection
    connection.close()


def test_a_new_cars_unsatisfied_buyer_is_named_on_the_red_flags_and_the_follow_up_list(con):
    result = _import(con, DELIVERY_CSV, "新车交付7DC回访.csv")
    assert (result.kind, result.inserted, result.rejected) == ("callback", 2, 0)
    expected = {"D1": ("赵新车", "13800138000"), "D2": ("孙旧名", "13911112222")}
    flags = overview.overview(con, "2024-03").red_flags
    assert _people(flags[flags["flag"] == "no_followup"]) == expected
    listed = sat.followup_list(con, date(2024, 3, 1), date(2024, 3, 31), as_of=date(2024, 3, 31))
    assert _people(listed) == expected
    assert result.mapping["columns"]["customer_name"] == "客户姓名"
    assert result.mapping["columns"]["phone"] == "联系电话"


def test_the_latest_work_orders_owner_wins_over_the_name_a_callback_carried(con):
    _import(con, DELIVERY_CSV, "新车交付7DC回访.csv")
    _import(con, SERVICE_CSV, "维修工单.csv")
    expected = {"D1": ("赵新车", "13800138000"), "D2": ("钱车主", "13700001111")}
    listed = sat.followup_list(con, date(2024, 3, 1), date(2024, 3, 31), as_of=date(2024, 3, 31))
    assert _people(listed) == expected
    flags = overview.overview(con, "2024-03").red_flags
    assert _people(flags[flags["flag"] == "no_followup"]) == expected


def test_a_work_order_naming_only_a_name_does_not_borrow_the_callbacks_phone(con):
    # A person is taken whole: the work order's owner without a phone, never his name beside the
    # phone of whoever the delivery call reached.
    _import(con, DELIVERY_CSV, "新车交付7DC回访.csv")
    _import(con, SERVICE_CSV.replace(",13700001111,", ",,"), "维修工单.csv")
    listed = sat.followup_list(con, date(2024, 3, 1), date(2024, 3, 31), as_of=date(2024, 3, 31))
    assert _people(listed)["D2"] == ("钱车主", None)


def test_headers_shared_by_both_kinds_do_not_decide_a_files_kind():
    assert detect_kind(DELIVERY_CSV.splitlines()[0].split(",")) == "callback"
    assert detect_kind(SERVICE_CSV.splitlines()[0].split(",")) == "service"
    assert detect_kind(["工单号", "客户姓名", "联系电话", "进厂日期"]) == "service"
    assert detect_kind(["车架号", "客户姓名", "联系电话", "回访日期"]) == "callback"


def test_a_callback_phone_is_read_by_the_work_orders_rules(con):
    odd = ["+86 139 1234 5678", "１３９１２３４５６７８", "0571-8888 1234", "无", "12345"]
    orders = "工单号,车架号,联系电话,进厂日期\n" + "".join(
        f"W{i},{VIN_OLD},{p},2024-02-01\n" for i, p in enumerate(odd)
    )
    calls = "回访编号,车架号,联系电话,回访日期\n" + "".join(
        f"C{i},{VIN_OLD},{p},2024-03-01\n" for i, p in enumerate(odd)
    )
    by_order, by_call = _import(con, orders, "o.csv"), _import(con, calls, "c.csv")
    assert (by_order.rejected, by_call.rejected) == (0, 0)
    stored_orders = con.execute("SELECT phone FROM service_orders ORDER BY order_id").fetchall()
    stored_calls = con.execute("SELECT phone FROM callbacks ORDER BY callback_id").fetchall()
    assert stored_calls == stored_orders
    assert stored_calls[0] == ("13912345678",)


# --------------------------------------------------------------------------- files without names

OLD_CSV = f"""工单号,车架号,回访类型,回访日期,回访专员,是否接通,总体满意度
,{VIN_NEW},7DC,2024-03-05 10:00,小刘,已接通,满意
WO9,,3DC,2024-03-06 11:30,小王,未接通,
"""


def _content_id(order_id: str, vin: str, kind: str, when: str, agent: str) -> str:
    # stage.py's id for a callback its file does not number, written out independently.
    return "CB-" + hashlib.sha1("|".join((order_id, vin, kind, when, agent)).encode()).hexdigest()[:16]


def test_a_file_without_names_imports_with_the_ids_and_counts_it_always_had(con):
    first = _import(con, OLD_CSV, "old.csv")
    assert (first.inserted, first.updated, first.unchanged, first.rejected) == (2, 0, 0, 0)
    rows = con.execute(
        "SELECT callback_id, customer_name, phone FROM callbacks ORDER BY callback_date"
    ).fetchall()
    assert rows == [
        (_content_id("", VIN_NEW, "7DC", "2024-03-05 10:00:00", "小刘"), None, None),
        (_content_id("WO9", "", "3DC", "2024-03-06 11:30:00", "小王"), None, None),
    ]
    again = _import(con, OLD_CSV, "old.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    # The same attempts with the customer added keep their ids: the rows are updated, not doubled.
    named = OLD_CSV.replace("工单号,", "客户姓名,联系电话,工单号,", 1)
    named = named.replace("\n,", "\n赵新车,13800138000,,", 1).replace("\nWO9", "\n,,WO9", 1)
    third = _import(con, named, "named.csv")
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 1)
    assert con.execute(
        "SELECT callback_id, customer_name, phone FROM callbacks ORDER BY callback_date"
    ).fetchall() == [(rows[0][0], "赵新车", "13800138000"), (rows[1][0], None, None)]
    # A file without the columns leaves the stored name alone.
    fourth = _import(con, OLD_CSV, "old.csv")
    assert (fourth.inserted, fourth.updated, fourth.unchanged) == (0, 0, 2)
    assert con.execute("SELECT count(*) FROM callbacks WHERE customer_name = '赵新车'").fetchone() == (1,)


def test_rolling_back_a_callback_import_restores_the_name_and_phone_it_replaced(con):
    _import(con, DELIVERY_CSV, "first.csv")
    corrected = DELIVERY_CSV.replace("赵新车,138-0013-8000", "赵新车先生,13800009999")
    second = _import(con, corrected, "second.csv")
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 1)
    assert con.execute("SELECT customer_name, phone FROM callbacks WHERE callback_id = 'D1'").fetchone() == (
        "赵新车先生",
        "13800009999",
    )
    load.rollback(con, second.import_id)
    assert con.execute("SELECT customer_name, phone FROM callbacks WHERE callback_id = 'D1'").fetchone() == (
        "赵新车",
        "13800138000",
    )
    assert con.execute("SELECT count(*) FROM callbacks_history").fetchone() == (0,)


# --------------------------------------------------------------------------- an older database


def test_a_schema_9_database_gains_the_columns_with_its_rows_kept(tmp_path):
    path = tmp_path / "v9.duckdb"
    raw = database_at(path, 9)
    assert "customer_name" not in columns(raw, "callbacks")
    raw.execute(
        "INSERT INTO callbacks (callback_id, order_id, vin, callback_type, callback_date, reached, "
        "overall_score, comment, import_id) VALUES "
        "('D1', NULL, 'V1', '7DC', TIMESTAMP '2024-03-05 10:00', true, 4, '太慢', 8), "
        "('S1', 'W1', NULL, '3DC', TIMESTAMP '2024-03-06 10:00', false, NULL, NULL, 7)"
    )
    raw.execute(
        "INSERT INTO callbacks_history (callback_id, vin, callback_type, callback_date, overall_score, "
        "import_id, replaced_by) VALUES ('D1', 'V1', '7DC', TIMESTAMP '2024-03-05 10:00', 8, 7, 8)"
    )
    before = raw.execute("SELECT * FROM callbacks ORDER BY callback_id").fetchall()
    history = raw.execute("SELECT * FROM callbacks_history").fetchall()
    raw.close()

    con = db.connect(path)
    fresh = db.connect(tmp_path / "fresh.duckdb")
    try:
        assert db.schema_version(con) == db.SCHEMA_VERSION >= 10
        assert db.data_version(con) == 3
        # The columns stand where a new database has them: the import's history copy is positional.
        for table in ("callbacks", "callbacks_history"):
            assert columns(con, table) == columns(fresh, table)
        assert columns(con, "callbacks") == [*db.CALLBACK_COLUMNS, "import_id"]
        assert columns(con, "callbacks_history") == [*db.CALLBACK_COLUMNS, "import_id", "replaced_by"]
        old_rows = "SELECT * EXCLUDE (customer_name, phone, store) FROM callbacks ORDER BY callback_id"
        assert con.execute(old_rows).fetchall() == before
        old_history = "SELECT * EXCLUDE (customer_name, phone, store) FROM callbacks_history"
        assert con.execute(old_history).fetchall() == history
        assert con.execute(
            "SELECT count(*) FROM callbacks WHERE customer_name IS NOT NULL OR phone IS NOT NULL"
        ).fetchone() == (0,)
        # The upgraded database takes a named file, and a rollback of it restores the old row.
        result = load.import_file(
            con,
            "回访编号,车架号,客户姓名,联系电话,回访日期\nD1,V1,赵新车,13800138000,2024-03-05 10:00\n".encode(),
            file_name="named.csv",
        )
        assert (result.inserted, result.updated) == (0, 1)
        assert con.execute(
            "SELECT customer_name, phone, overall_score FROM callbacks WHERE callback_id = 'D1'"
        ).fetchone() == (
            "赵新车",
            "13800138000",
            4.0,
        )
        load.rollback(con, result.import_id)
        assert con.execute(
            "SELECT customer_name, phone, overall_score, import_id FROM callbacks WHERE callback_id = 'D1'"
        ).fetchone() == (
            None,
            None,
            4.0,
            8,
        )
    finally:
        con.close()
        fresh.close()


# --------------------------------------------------------------------------- the demo and the roles


def test_the_demos_delivery_calls_name_their_buyers(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        flags = overview.overview(con, "2026-10").red_flags
        listed = overview.open_followups(con, "2026-10")
    finally:
        con.close()
    for frame in (flags, listed):
        delivery = frame[frame["callback_type"] == "7DC"]
        assert len(delivery)
        assert delivery["customer_name"].notna().all()
        assert delivery["phone"].str.fullmatch(r"1\d{10}").all()


@pytest.fixture
def names_env(demo_copy):
    return demo_copy


def _unserviced_delivery_phones(path) -> list[str]:
    """The phones of October's unsatisfied 7DC buyers whose cars have no work order: callback phones only."""
    con = db.connect(path, read_only=True)
    try:
        listed = overview.open_followups(con, "2026-10")
        vins = {r[0] for r in con.execute("SELECT DISTINCT vin FROM service_orders").fetchall()}
    finally:
        con.close()
    rows = listed[(listed["callback_type"] == "7DC") & ~listed["vin"].isin(vins)]
    return rows["phone"].dropna().tolist()


@pytest.mark.parametrize(("username", "sees"), [("liuyang", False), ("chenjing", True)])
def test_a_callbacks_phone_is_masked_for_a_role_that_does_not_call(names_env, with_accounts, username, sees):
    from tests.signing_in import sign_in
    from tests.test_roles import MASKED, phones

    clear = _unserviced_delivery_phones(names_env)
    assert clear
    masked = {f"{p[:3]}****{p[-4:]}" for p in clear}
    at = sign_in(username)
    for page in ("pages/overview.py", "pages/satisfaction.py"):
        at.session_state["month"] = "2026-10"
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        shown = phones(at)
        texts = " ".join(str(v) for d in at.dataframe for v in d.value.astype(str).to_numpy().ravel())
        if sees:
            assert set(clear) <= set(shown), page
        else:
            assert masked <= set(shown), page
            assert all(MASKED.match(v) for v in shown), page
            assert not any(p in texts for p in clear), page
            assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", texts), page
