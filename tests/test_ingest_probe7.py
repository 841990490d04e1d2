"""A seventh probe of real-style exports: plates written with dots, spaces or full-width letters,
yes/no cells with a note, names with a role title in brackets, phone cells with an extension or
two numbers. Each test builds the file the way a DMS writes it and failed before its fix."""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd
import pytest

from analytics.domain import quality
from analytics.ingest import import_file, values
from analytics.store import db
from tests.db_state import imported_twice


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe7.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_one_cars_plate_written_with_a_dot_a_space_lower_case_or_full_width_is_one_plate(con):
    # The same car's plate as four advisors typed it used to be four plates; 无牌 is no plate and
    # stays as written, as does a plate typed with a letter too few.
    text = (
        "工单号,车架号,车牌号,进厂日期,结算金额\n"
        "WO1,LSVAU2A37N2000001,浙A·12345,2026-03-05,100\n"
        "WO2,LSVAU2A37N2000001,浙A 12345,2026-03-06,100\n"
        "WO3,LSVAU2A37N2000001,浙a12345,2026-03-07,100\n"
        "WO4,LSVAU2A37N2000001,浙Ａ１２３４５,2026-03-08,100\n"
        "WO5,LSVAU2A37N2000002,浙A•D12345,2026-03-08,100\n"
        "WO6,LSVAU2A37N2000003,无牌,2026-03-08,100\n"
        "WO7,LSVAU2A37N2000004,浙 123,2026-03-08,100\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (7, 0)
    assert _rows(con, "SELECT order_id, plate FROM service_orders ORDER BY 1") == [
        ("WO1", "浙A12345"),
        ("WO2", "浙A12345"),
        ("WO3", "浙A12345"),
        ("WO4", "浙A12345"),
        ("WO5", "浙AD12345"),
        ("WO6", "无牌"),
        ("WO7", "浙 123"),
    ]


@pytest.mark.parametrize(
    ("cell", "plate"),
    [
        ("粤B・12345", "粤B12345"),
        ("京A 12345挂", "京A12345挂"),
        ("京A1234学", "京A1234学"),
        ("沪a‧b1234", "沪AB1234"),
    ],
)
def test_a_plates_dots_and_spaces_are_not_part_of_it(cell, plate):
    assert values.clean_plates(pd.Series([cell], dtype="str")).tolist() == [plate]


def test_a_yes_no_cell_with_a_note_in_brackets_or_after_a_dash_reads_as_its_word(con):
    # 否(自然到店), 是（预约）, Y-预约: each rejected its order as an unreadable yes/no value.
    text = (
        "工单号,进厂日期,是否预约,结算金额\n"
        "WO1,2026-03-05,否(自然到店),100\n"
        "WO2,2026-03-05,是（预约）,100\n"
        "WO3,2026-03-05,Y-预约,100\n"
        "WO4,2026-03-05,N - 自然到店,100\n"
        "WO5,2026-03-05,是【电话预约】,100\n"
        "WO6,2026-03-05,待定(预约),100\n"
    )
    result = imported_twice(con, text.encode("gbk"), "工单.csv")
    # 待定 says neither: since probe 11 its order lands with the answer blank and a note.
    assert (result.inserted, result.rejected, result.blanked) == (6, 0, 1)
    assert _rows(con, "SELECT order_id, is_appointment FROM service_orders ORDER BY 1") == [
        ("WO1", False),
        ("WO2", True),
        ("WO3", True),
        ("WO4", False),
        ("WO5", True),
        ("WO6", None),
    ]


@pytest.mark.parametrize("cell", ["1-5", "是否", "(是)", "是(", "预约-"])
def test_a_yes_no_cell_whose_word_is_not_followed_by_a_note_stays_unreadable(cell):
    _, bad = values.parse_booleans(pd.Series([cell], dtype="str"))
    assert bad.tolist() == [True]


def test_an_advisor_with_a_role_title_in_brackets_is_the_same_advisor(con):
    # 张三(服务顾问) counted as another advisor than 张三; 张三(二店) names another person who shares
    # the name, and stays.
    text = (
        "工单号,进厂日期,服务顾问,结算金额\n"
        "WO1,2026-03-05,张三,100\n"
        "WO2,2026-03-05,张三(服务顾问),100\n"
        "WO3,2026-03-05,张三（高级服务顾问）,100\n"
        "WO4,2026-03-05,张三 【前台】,100\n"
        "WO5,2026-03-05,张三(二店),100\n"
        "WO6,2026-03-05,张三(二店顾问),100\n"
    )
    result = imported_twice(con, text.encode("gbk"), "工单.csv")
    assert (result.inserted, result.rejected) == (6, 0)
    assert _rows(con, "SELECT order_id, advisor FROM service_orders ORDER BY 1") == [
        ("WO1", "张三"),
        ("WO2", "张三"),
        ("WO3", "张三"),
        ("WO4", "张三"),
        ("WO5", "张三(二店)"),
        ("WO6", "张三(二店顾问)"),
    ]


AGENT_CALLS = (
    "回访日期,工单号,回访人,是否接通,满意度\n"
    "2026-03-06 10:00,WO1,李四（回访专员）,是,满意\n"
    "2026-03-06 11:00,WO2,李四,是,满意\n"
    "2026-03-06 12:00,WO3,王五(客服),是,满意\n"
)


def _content_id(content: str) -> str:
    return "CB-" + hashlib.sha1(content.encode()).hexdigest()[:16]  # noqa: S324 - an id, as stage.py's


def test_an_agent_with_a_role_title_is_the_same_agent_and_the_call_keeps_its_id(con):
    result = imported_twice(con, AGENT_CALLS.encode("gbk"), "回访.csv")
    assert (result.inserted, result.rejected) == (3, 0)
    # The ids are made from the name as written, as they were before the title was set aside.
    assert _rows(con, "SELECT callback_id, agent FROM callbacks ORDER BY callback_date") == [
        (_content_id("WO1||3DC|2026-03-06 10:00:00|李四（回访专员）"), "李四"),
        (_content_id("WO2||3DC|2026-03-06 11:00:00|李四"), "李四"),
        (_content_id("WO3||3DC|2026-03-06 12:00:00|王五(客服)"), "王五"),
    ]


def test_a_call_stored_with_its_agents_title_is_updated_not_added_again(con):
    import_file(con, AGENT_CALLS.encode("gbk"), file_name="回访.csv")
    # As the import stored them before the title was set aside.
    con.execute("UPDATE callbacks SET agent = '李四（回访专员）' WHERE order_id = 'WO1'")
    con.execute("UPDATE callbacks SET agent = '王五(客服)' WHERE order_id = 'WO3'")
    ids = _rows(con, "SELECT callback_id FROM callbacks ORDER BY 1")
    again = import_file(con, AGENT_CALLS.encode("gbk"), file_name="回访.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 2, 1)
    assert _rows(con, "SELECT callback_id FROM callbacks ORDER BY 1") == ids
    assert _rows(con, "SELECT agent FROM callbacks ORDER BY callback_date") == [
        ("李四",),
        ("李四",),
        ("王五",),
    ]


@pytest.mark.parametrize(
    ("cell", "phone"),
    [
        # An extension after a dash: the digits run together were one 15-digit number.
        ("0571-88888888-123", "0571-88888888-123"),
        ("0571 88888888 8001", "0571 88888888 8001"),
        ("0571-88888888转123", "0571-88888888转123"),
        # Two numbers in one cell: the first is the customer's own (they ran into 22 digits, or
        # stayed as written).
        ("13800138000 13900139000", "13800138000"),
        ("13800138000/13900139000", "13800138000"),
        ("13800138000，13900139000", "13800138000"),
        ("13800138000、0571-88888888", "13800138000"),
        ("0571-88888888 / 13800138000", "057188888888"),
        ("无 / 13900139000", "13900139000"),
        # One number written in groups is still one number.
        ("138 0013 8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0571 8888 8888", "057188888888"),
        # Excel's scientific notation lost the digits: kept as written, never as a phone.
        ("1.38001E+10", "1.38001E+10"),
    ],
)
def test_a_phone_cell_with_an_extension_or_two_numbers(cell, phone):
    assert values.normalise_phones(pd.Series([cell], dtype="str")).tolist() == [phone]


def test_phones_with_two_numbers_land_as_the_first_and_a_lost_number_is_an_invalid_phone(con):
    text = (
        "工单号,车架号,联系电话,进厂日期,结算金额\n"
        "WO1,LSVAU2A37N2000001,13800138000 13900139000,2026-03-05,100\n"
        "WO2,LSVAU2A37N2000002,1.38001E+10,2026-03-05,100\n"
        "WO3,LSVAU2A37N2000003,0571-88888888-123,2026-03-05,100\n"
    )
    result = imported_twice(con, text.encode("gbk"), "工单.csv")
    assert (result.inserted, result.rejected) == (3, 0)
    assert _rows(con, "SELECT order_id, phone FROM service_orders ORDER BY 1") == [
        ("WO1", "13800138000"),
        ("WO2", "1.38001E+10"),
        ("WO3", "0571-88888888-123"),
    ]
    flagged = quality.finding(con, "invalid_phones")
    assert sorted(flagged["phone"]) == ["0571-88888888-123", "1.38001E+10"]
