"""A fourth probe of real-style exports: a third vendor's DMS and a CRM's callback list, printed
reports and pasted files. Each test builds a file the way the DMS or an Excel user writes it, and
failed before the fix it names."""

from __future__ import annotations

import io

import duckdb
import openpyxl
import pandas as pd
import pytest

from analytics.ingest import import_file, rejected_rows, values
from analytics.store import db


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe4.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _accounted(result) -> None:
    """Every row is landed, rejected or skipped, sheet by sheet; every row read (blank rows are
    not) is written, rejected or an exact duplicate."""
    for sheet in result.sheets:
        assert sheet["rows"] == sheet["landed"] + sheet["rejected"] + sheet["skipped"]
    written = result.inserted + result.updated + result.unchanged
    assert result.rows_read == written + result.rejected + result.duplicates_in_file


# A work-order list as another group's DMS names its columns (saved by WPS as GBK CSV).
THIRD_VENDOR_SERVICE = """序号,委托单号,牌照号,车辆识别码,车主名称,客户手机,车型名称,到店时间,进站里程,维修类别,服务顾问姓名,费用合计,是否预约进站
1,WT240305001,粤A·12345,LSVAU2A37N2000001,张三,13800138000,朗逸,2024-03-05 09:30:00,"12,345",首保,王芳,"￥1,234.00",是
2,WT240305002,粤B 67890,LSVAU2A37N2000002,李四,13800138001,帕萨特,2024年3月5日 14时30分15秒,1.2万公里,一般维修,陈明,880.00元,否
"""


def test_a_third_vendors_work_order_headers_are_known(con):
    data = THIRD_VENDOR_SERVICE.encode("gbk")
    result = import_file(con, data, file_name="维修委托单.csv")
    assert (result.kind, result.inserted, result.rejected, result.unmapped, result.guessed) == (
        "service",
        2,
        0,
        ["序号"],
        {},
    )
    assert _rows(
        con,
        "SELECT order_id, plate, vin, customer_name, phone, model, visit_date::VARCHAR, mileage_km, "
        "service_type, advisor, amount::VARCHAR, is_appointment FROM service_orders ORDER BY 1",
    ) == [
        ("WT240305001", "粤A12345", "LSVAU2A37N2000001", "张三", "13800138000", "朗逸", "2024-03-05", 12345,
         "first_maintenance", "王芳", "1234.00", True),
        ("WT240305002", "粤B67890", "LSVAU2A37N2000002", "李四", "13800138001", "帕萨特", "2024-03-05", 12000,
         "repair", "陈明", "880.00", False),
    ]  # fmt: skip
    again = import_file(con, data, file_name="维修委托单.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


# A CRM's callback list: its own headers, and the call's status in the CRM's words under 回访结果.
CRM_CALLBACKS = """回访ID,关联工单号,车架号,回访类别,回访日期时间,回访坐席,回访结果,整体满意度,推荐指数,客户意见及建议,是否投诉
HF001,WT240305001,LSVAU2A37N2000001,售后回访,2024-03-08 10:00:00,小王,已回访,非常满意,10,服务很好,否
HF002,WT240305002,LSVAU2A37N2000002,售后回访,2024-03-08 10:05:00,小王,未接听,,,,
HF003,WT240305003,LSVAU2A37N2000003,售后回访,2024-03-08 10:10:00,小王,客户忙,,,,
HF004,WT240305004,LSVAU2A37N2000004,售后回访,2024-03-08 10:15:00,小王,接听,不满意,3,等待时间太长,✔
HF005,WT240305005,LSVAU2A37N2000005,售后回访,2024-03-08 10:20:00,小王,拒访,,,,✘
HF006,WT240305006,LSVAU2A37N2000006,售后回访,2024-03-08 10:25:00,小王,号码有误,,,,
HF007,WT240305007,LSVAU2A37N2000007,售后回访,2024-03-08 10:30:00,小王,稍后再打,,,,
"""


def test_a_crms_callback_headers_and_call_statuses_are_known(con):
    data = CRM_CALLBACKS.encode("utf-8-sig")
    result = import_file(con, data, file_name="回访记录.csv")
    _accounted(result)
    assert (result.kind, result.inserted, result.rejected, result.blanked) == ("callback", 7, 0, 1)
    assert result.mapping["columns"]["callback_date"] == "回访日期时间"
    assert _rows(
        con,
        "SELECT callback_id, order_id, callback_type, callback_date::VARCHAR, agent, reached, overall_score, "
        "recommend_score, comment, is_complaint FROM callbacks ORDER BY 1",
    ) == [
        ("HF001", "WT240305001", "3DC", "2024-03-08 10:00:00", "小王", True, 10.0, 10.0, "服务很好", False),
        ("HF002", "WT240305002", "3DC", "2024-03-08 10:05:00", "小王", False, None, None, None, None),
        ("HF003", "WT240305003", "3DC", "2024-03-08 10:10:00", "小王", False, None, None, None, None),
        ("HF004", "WT240305004", "3DC", "2024-03-08 10:15:00", "小王", True, 4.0, 3.0, "等待时间太长", True),
        ("HF005", "WT240305005", "3DC", "2024-03-08 10:20:00", "小王", True, None, None, None, False),
        ("HF006", "WT240305006", "3DC", "2024-03-08 10:25:00", "小王", False, None, None, None, None),
        ("HF007", "WT240305007", "3DC", "2024-03-08 10:30:00", "小王", None, None, None, None, None),
    ]
    # A status that says nothing of the call keeps the call (probe 11) with reached blank, saying
    # what was expected.
    assert rejected_rows(con, result.import_id)[["source_row", "reason", "kept"]].values.tolist() == [
        [8, "reached value not readable (接通/未接通 expected), left blank", True]
    ]
    again = import_file(con, data, file_name="回访记录.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7)


@pytest.mark.parametrize(
    ("cell", "reached"),
    [("已回访", True), ("接听", True), ("已接听", True), ("拒访", True), ("未接听", False),
     ("未接听-关机", False), ("客户忙", False), ("忙线", False), ("无法接听", False), ("号码有误", False),
     ("错号", False), ("未回访", False)],
)  # fmt: skip
def test_call_statuses_a_crm_writes_say_whether_the_call_got_through(cell, reached):
    parsed, bad = values.parse_reached(pd.Series([cell], dtype="str"))
    assert parsed.tolist() == [reached] and bad.tolist() == [False]


@pytest.mark.parametrize(
    ("cell", "flag"), [("✔", True), ("☑", True), ("✘", False), ("☒", False), ("☐", False)]
)
def test_ticks_and_crosses_from_the_symbol_menu_are_yes_and_no(cell, flag):
    parsed, bad = values.parse_booleans(pd.Series([cell], dtype="str"))
    assert parsed.tolist() == [flag] and bad.tolist() == [False]


HEADER = "工单号,车架号,客户姓名,进厂日期,结算金额\n"
ROWS = [
    "WO1,LSVAU2A37N2000001,张三,2024-03-05,100\n",
    "WO2,LSVAU2A37N2000002,李四,2024-03-06,200\n",
    "WO3,LSVAU2A37N2000003,王五,2024-03-07,300\n",
]


@pytest.mark.parametrize(
    "text",
    [
        # A printed report's page header, written again above each page's rows.
        HEADER + ROWS[0] + ROWS[1] + HEADER + ROWS[2],
        # Two exports pasted into one file, the second with its BOM.
        "\ufeff" + HEADER + ROWS[0] + ROWS[1] + "\ufeff" + HEADER + ROWS[2],
        # Pasted again with its spaces, as Excel's page header pads it.
        HEADER + ROWS[0] + ROWS[1] + " 工单号 , 车架号 ,客户姓名,进厂日期,结算金额\n" + ROWS[2],
    ],
)
def test_a_header_repeated_inside_the_table_is_named_not_an_unreadable_record(con, text):
    result = import_file(con, text.encode("utf-8"), file_name="pages.csv")
    _accounted(result)
    assert (result.rows_read, result.inserted, result.rejected) == (4, 3, 1)
    assert rejected_rows(con, result.import_id)[["source_row", "reason"]].values.tolist() == [
        [4, "header repeated inside the table, not a record"]
    ]


def test_a_header_repeated_on_each_printed_page_of_a_workbook_is_named(con):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["XX店维修工单"])
    headers = ["工单号", "车架号", "客户姓名", "进厂日期", "结算金额", "备注", "备注"]
    sheet.append(headers)
    sheet.append(["WO1", "LSVAU2A37N2000001", "张三", "2024-03-05", 100, None, None])
    sheet.append([])
    sheet.append(headers)
    sheet.append(["WO2", "LSVAU2A37N2000002", "李四", "2024-03-06", 200, "x", None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_file(con, buffer.getvalue(), file_name="打印.xlsx")
    _accounted(result)
    assert (result.inserted, result.rejected) == (2, 1)
    assert rejected_rows(con, result.import_id)[["source_row", "reason"]].values.tolist() == [
        [5, "header repeated inside the table, not a record"]
    ]


@pytest.mark.parametrize(
    ("cell", "vin"),
    [
        ("LSVAU2A37N2OOOOO1", "LSVAU2A37N2000001"),
        ("lsvau2a37n2ooooo1", "LSVAU2A37N2000001"),
        ("LSVAU2A37N2 OOO OO1", "LSVAU2A37N2000001"),
        ("LSVAU2A37NI000001", "LSVAU2A37N1000001"),
        ("LSVAU2A37NQ000001", "LSVAU2A37N0000001"),
        # Not 17 letters and digits: not a VIN with typos, left as written for the quality check.
        ("NO VIN", "NOVIN"),
        ("LSVAU2A37N2OOOOO", "LSVAU2A37N2OOOOO"),
        ("LSVAU2A37N2OOOO-1", "LSVAU2A37N2OOOO-1"),
    ],
)
def test_a_vin_typed_with_the_letters_no_vin_holds_reads_them_as_digits(cell, vin):
    assert values.clean_vin(pd.Series([cell], dtype="str")).tolist() == [vin]


def test_a_callback_whose_vin_was_typed_with_o_for_0_is_the_vehicles_call(con):
    import_file(
        con,
        "工单号,车架号,进厂日期,门店\nWO1,LSVAU2A37N2000001,2024-03-05,一店\n".encode(),
        file_name="工单.csv",
    )
    data = "回访日期,车架号,回访类型,满意度\n2024-03-10,lsvau2a37n2ooooo1,新车交付回访,满意\n"
    result = import_file(con, data.encode(), file_name="7DC.csv")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT vin, callback_type, store FROM callbacks") == [
        ("LSVAU2A37N2000001", "7DC", None)
    ]
    assert _rows(con, "SELECT vin FROM vehicles") == [("LSVAU2A37N2000001",)]


# Mileage and money in ten thousands, the unit stated in the header only (a used-car or fleet
# export): the numbers are read in that unit, never rounded to a few km or yuan.
TEN_THOUSANDS = """工单号,门店,车架号,进厂日期,行驶里程(万公里),维修类型,金额（万元）
A1,杭州店,LSVAU2A37N2000001,2024-03-05,1.23,保养,0.15
A2,杭州店,LSVAU2A37N2000002,2024-03-06,2.5万,保养,0.0875
A3,杭州店,LSVAU2A37N2000003,2024-03-06,,保养,
A4,杭州店,LSVAU2A37N2000004,2024-03-06,abc,保养,1
"""


def test_numbers_under_a_header_in_ten_thousands_are_read_in_that_unit(con):
    result = import_file(con, TEN_THOUSANDS.encode("gbk"), file_name="工单_万公里.csv", kind="service")
    _accounted(result)
    # Probe 11: an unreadable mileage (abc) keeps its order, the mileage blank.
    assert (result.inserted, result.rejected, result.blanked) == (4, 0, 1)
    assert _rows(con, "SELECT order_id, mileage_km, amount::VARCHAR FROM service_orders ORDER BY 1") == [
        ("A1", 12300, "1500.00"),
        ("A2", 25000, "875.00"),
        ("A3", None, None),
        ("A4", None, "10000.00"),
    ]
    # The noted row shows its cells as the file has them, without the 万 the reading adds.
    noted = rejected_rows(con, result.import_id)
    assert list(noted["reason"]) == ["number not readable, left blank"]
    assert '"行驶里程(万公里)": "abc"' in noted["raw_values"].iloc[0]
    assert '"金额（万元）": "1"' in noted["raw_values"].iloc[0]
    again = import_file(con, TEN_THOUSANDS.encode("gbk"), file_name="工单_万公里.csv", kind="service")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("行驶里程(万公里)", True),
        ("里程（万 km）", True),
        ("金额(万元)", True),
        ("行驶里程(公里)", False),
        ("金额(元)", False),
    ],
)
def test_which_headers_state_ten_thousands(header, expected):
    assert values.in_ten_thousands(header) is expected
