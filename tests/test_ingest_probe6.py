"""A sixth probe of real-style exports: placeholders a DMS writes for "nothing here" in text
columns, a DOS end-of-file mark, phones a program kept as floats, scores as percentages,
odometers in 千米. Each test builds the file the way a DMS writes it and failed before its fix."""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd
import pytest

from analytics.ingest import import_file, rejected_rows, values
from analytics.store import db
from tests.db_state import imported_twice


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe6.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_placeholders_in_a_work_orders_text_columns_are_blanks_not_values(con):
    # "--", "/" and "NULL" for a car without plate or VIN yet, an unknown customer or advisor: they
    # used to land as written, and every order with VIN "--" was one vehicle named "--".
    data = (
        "工单号,车架号,车牌号,客户姓名,联系电话,车型,进厂日期,服务顾问,结算金额\n"
        "WO1,--,--,NULL,NULL,null,2026-03-05,--,100\n"
        "WO2,/,/,/,/,/,2026-03-06,/,200\n"
        "WO3,--,无,张三,13800138000,朗逸,2026-03-07,N/A,300\n"
        "WO4,LSVAU2A37N2000001,浙A12345,李四,13800138001,朗逸,2026-03-08,王五,400\n"
    ).encode("gbk")
    result = imported_twice(con, data, "工单.csv")
    assert (result.inserted, result.rejected) == (4, 0)
    assert _rows(
        con,
        "SELECT order_id, vin, plate, customer_name, phone, model, advisor FROM service_orders ORDER BY 1",
    ) == [
        ("WO1", None, None, None, None, None, None),
        ("WO2", None, None, None, None, None, None),
        ("WO3", None, "无", "张三", "13800138000", "朗逸", None),
        ("WO4", "LSVAU2A37N2000001", "浙A12345", "李四", "13800138001", "朗逸", "王五"),
    ]
    assert _rows(con, "SELECT vin FROM vehicles") == [("LSVAU2A37N2000001",)]


CALLS = (
    "回访日期,工单号,车架号,回访人,是否接通,满意度\n"
    "2026-03-06 10:00,WO1,LSVAU2A37N2000001,小王,是,非常满意\n"
    "2026-03-07 10:00,/,LSVAU2A37N2000009,小王,是,满意\n"
    "2026-03-07 11:00,--,--,NULL,是,满意\n"
)


def test_a_delivery_call_whose_work_order_number_is_a_placeholder_is_a_7dc_call(con):
    # A 7DC call's 工单号 written "/" used to tie it to a work order "/", so it counted as a 3DC
    # call; a call with neither number nor VIN landed as the vehicle "--"'s.
    result = imported_twice(con, CALLS.encode("gbk"), "回访.csv")
    assert (result.inserted, result.rejected) == (2, 1)
    assert rejected_rows(con, result.import_id)["reason"].tolist() == [
        "missing both work-order number and VIN"
    ]
    assert _rows(con, "SELECT order_id, vin, callback_type, agent FROM callbacks ORDER BY callback_date") == [
        ("WO1", "LSVAU2A37N2000001", "3DC", "小王"),
        (None, "LSVAU2A37N2000009", "7DC", "小王"),
    ]


def test_a_call_stored_with_its_placeholder_before_keeps_its_id_when_its_file_is_imported_again(con):
    import_file(con, CALLS.encode("gbk"), file_name="回访.csv")
    # As the import stored it before placeholders were read as blanks: its id made from "/" and 3DC.
    content = "/|LSVAU2A37N2000009|3DC|2026-03-07 10:00:00|小王"
    old_id = "CB-" + hashlib.sha1(content.encode()).hexdigest()[:16]  # noqa: S324 - an id, as stage.py's
    con.execute(
        "UPDATE callbacks SET callback_id = $id, order_id = '/', callback_type = '3DC' WHERE order_id IS NULL",
        {"id": old_id},
    )
    ids = _rows(con, "SELECT callback_id FROM callbacks ORDER BY 1")
    again = import_file(con, CALLS.encode("gbk"), file_name="回访.csv")
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 1, 1, 1)
    assert _rows(con, "SELECT callback_id FROM callbacks ORDER BY 1") == ids
    # The order number is corrected; the type stays as stored, as a file without a type column
    # leaves every stored call's type alone.
    assert _rows(con, "SELECT order_id, callback_type FROM callbacks ORDER BY callback_date") == [
        ("WO1", "3DC"),
        (None, "3DC"),
    ]


def test_a_dos_end_of_file_mark_after_the_last_line_is_not_a_record(con):
    # GB18030 with a name outside GBK (𠮷), CRLF, LF and CR line ends mixed, and Ctrl-Z (0x1A) at
    # the end as old DMSs and `copy /a` write it: the mark was a last record missing its date.
    text = (
        "工单号,车架号,客户姓名,进厂日期,结算金额\r\n"
        "WO1,LSVAU2A37N2000001,𠮷野家,2026-03-05,100\n"
        "WO2,LSVAU2A37N2000002,张三,2026-03-06,200\r"
        "WO3,LSVAU2A37N2000003,李四,2026-03-07,300\r\n\x1a"
    )
    result = imported_twice(con, text.encode("gb18030"), "工单.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (3, 3, 0)
    assert _rows(con, "SELECT order_id, customer_name FROM service_orders ORDER BY 1") == [
        ("WO1", "𠮷野家"),
        ("WO2", "张三"),
        ("WO3", "李四"),
    ]


@pytest.mark.parametrize(
    ("cell", "phone"),
    [
        ("13800138000.0", "13800138000"),
        ("057188888888.00", "057188888888"),
        ("138.0013.8000", "13800138000"),
    ],
)
def test_a_phone_a_program_kept_as_a_float_is_its_digits(cell, phone):
    # 13800138000.0 (a phone column with blanks, read as floats and written back) used to give
    # the 12 digits 138001380000.
    assert values.normalise_phones(pd.Series([cell], dtype="str")).tolist() == [phone]


def test_scores_written_as_percentages_are_on_the_0_100_scale(con):
    # A CRM's 满意度 as 100%/80%: every score used to be blank as unreadable.
    data = (
        "回访日期,工单号,是否接通,满意度,服务态度\n"
        "2026-03-06,WO1,是,100%,5%\n"
        "2026-03-07,WO2,是,80%,4%\n"
        "2026-03-08,WO3,是,65.5%,--\n"
    ).encode("gbk")
    result = imported_twice(con, data, "回访.csv")
    assert (result.inserted, result.rejected) == (3, 0)
    assert result.mapping["scales"] == {"overall_score": "0-100", "attitude_score": "0-100"}
    assert _rows(con, "SELECT order_id, overall_score, attitude_score FROM callbacks ORDER BY 1") == [
        ("WO1", 10.0, 0.5),
        ("WO2", 8.0, 0.4),
        ("WO3", 6.55, None),
    ]


def test_an_odometer_in_qianmi_is_kilometres(con):
    data = '工单号,进厂日期,行驶里程\nWO1,2026-03-05,12345千米\nWO2,2026-03-06,"23,456 千米"\n'.encode("gbk")
    result = imported_twice(con, data, "工单.csv")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(con, "SELECT order_id, mileage_km FROM service_orders ORDER BY 1") == [
        ("WO1", 12345),
        ("WO2", 23456),
    ]
