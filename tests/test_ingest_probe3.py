"""A third probe of real-style exports: each test builds a file the way a DMS or an Excel user
writes it, and failed before the fix it names."""

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
    connection = db.connect(tmp_path / "probe3.duckdb")
    yield connection
    connection.close()


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("1,234.50", 1234.5),
        ("12,345 km", 12345.0),
        ("1,234,567", 1234567.0),
        ("(123.00)", -123.0),
        ("（1,234.50）", -1234.5),
        ("¥(50)", -50.0),
        ("(1,234.50)元", -1234.5),
        ("'1234", 1234.0),
        # A comma that does not group thousands is a decimal comma or a typo: never 100 times the amount.
        ("100,50", None),
        ("1 234,50", None),
        ("1,2345", None),
        ("((12))", None),
    ],
)
def test_numbers_as_accounting_and_excel_write_them(cell, number):
    parsed, bad = values.parse_numbers(pd.Series([cell], dtype="str"))
    if number is None:
        assert bad.tolist() == [True] and parsed.isna().all()
    else:
        assert parsed.tolist() == [number] and bad.tolist() == [False]


def test_a_comma_that_does_not_group_thousands_never_lands_a_hundredfold_amount(con):
    data = "工单号;车架号;进厂日期;结算金额\nWO1;LSVAU2A37N2000001;2024-03-05;100,50\nWO2;LSVAU2A37N2000002;2024-03-05;2.000,00\n"
    result = import_file(con, _csv(data), file_name="semi.csv")
    # Probe 11 left both amounts blank with a note; probe 13 reads the column, whose commas can only
    # be decimal ones and whose points none, with a decimal comma (the European locale's).
    assert (result.inserted, result.rejected, result.blanked) == (2, 0, 0)
    assert con.execute("SELECT order_id, amount::VARCHAR FROM service_orders ORDER BY 1").fetchall() == [
        ("WO1", "100.50"),
        ("WO2", "2000.00"),
    ]


def test_excel_apostrophe_text_marker_is_not_part_of_the_value(con):
    data = (
        "工单号,车架号,进厂日期,联系电话,结算金额,行驶里程\n"
        "'0001234,LSVAU2A37N2000001,'2024-03-05,'13812345678,'1234,'12345\n"
        "'WO-9,LSVAU2A37N2000002,2024-03-06,13800138000,'(20.00),800\n"
    )
    result = import_file(con, _csv(data), file_name="apos.csv")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(
        con,
        "SELECT order_id, visit_date::VARCHAR, phone, amount::VARCHAR, mileage_km FROM service_orders ORDER BY 1",
    ) == [
        ("0001234", "2024-03-05", "13812345678", "1234.00", 12345),
        ("WO-9", "2024-03-06", "13800138000", "-20.00", 800),
    ]


def test_an_apostrophe_inside_text_stays():
    assert values.clean_text(pd.Series(["'好'", "it's", "'张三"], dtype="str")).tolist() == [
        "'好'",
        "it's",
        "'张三",
    ]


def test_a_mobile_number_with_country_code_86_and_no_plus_is_the_mobile(con):
    data = "工单号,车架号,进厂日期,联系电话\nWO1,LSVAU2A37N2000001,2024-03-05,86-13812345678\nWO2,LSVAU2A37N2000002,2024-03-05,8613812345678\n"
    import_file(con, _csv(data), file_name="phones.csv")
    assert _rows(con, "SELECT phone FROM service_orders ORDER BY 1") == [("13812345678",), ("13812345678",)]


def _merged_name_workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["工单号", "车架号", "客户姓名", "维修项目", "进厂日期", "结算金额"])
    sheet.append(["WO1", "LSVAU2A37N2000001", "张三", "更换机油", "2024-03-05", 500])
    sheet.append(["WO1", "LSVAU2A37N2000001", None, "更换机滤", "2024-03-05", 500])
    sheet.append(["WO1", "LSVAU2A37N2000001", None, "四轮定位", "2024-03-05", 500])
    sheet.append(["WO2", "LSVAU2A37N2000002", "李四", "保养", "2024-03-06", 200])
    sheet.merge_cells("C2:C4")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_cell_merged_down_over_the_rows_of_one_order_stands_in_each_of_them(con):
    result = import_file(con, _merged_name_workbook(), file_name="merged.xlsx")
    # The three item rows repeat the order: one lands, the others are exact duplicates, and the
    # name merged over them is not lost to the blank cells below the merge.
    assert (result.rows_read, result.inserted, result.rejected) == (4, 2, 0)
    assert result.sheets[0]["skipped"] == 2
    assert _rows(con, "SELECT order_id, customer_name, amount::VARCHAR FROM service_orders ORDER BY 1") == [
        ("WO1", "张三", "500.00"),
        ("WO2", "李四", "200.00"),
    ]


@pytest.mark.parametrize(
    ("cell", "score"),
    [
        ("不满意(服务态度)", 4.0),
        ("不满意（等待时间长）", 4.0),
        ("满意【洗车干净】", 8.0),
        ("非常满意 (5分)", 10.0),
        ("不知道(客户挂断)", None),
    ],
)
def test_a_label_with_its_reason_in_brackets_scores_as_the_label(cell, score):
    parsed, bad, _ = values.parse_scores(pd.Series([cell, "满意"], dtype="str"))
    assert parsed.iloc[0] == score if score is not None else pd.isna(parsed.iloc[0])
    assert bad.iloc[0] == (score is None)


@pytest.mark.parametrize(
    ("cells", "dates"),
    [
        # One day past 12 in the first place tells the column is day-first.
        (["05/03/2024", "13/03/2024"], ["2024-03-05", "2024-03-13"]),
        (["03/05/2024", "3/13/2024"], ["2024-03-05", "2024-03-13"]),
        (["2024-03-05", "5/3/2024", "25/12/2023"], ["2024-03-05", "2024-03-05", "2023-12-25"]),
        (["05.03.2024 09:30", "31.12.2023"], ["2024-03-05 09:30", "2023-12-31"]),
        # Nothing tells the order: neither is guessed.
        (["05/03/2024", "01/02/2024"], [None, None]),
        # Both orders in one column: the values contradict each other.
        (["13/03/2024", "03/13/2024"], [None, None]),
    ],
)
def test_a_day_and_month_order_is_taken_from_the_column_never_guessed(cells, dates):
    parsed, bad = values.parse_datetimes(pd.Series(cells, dtype="str"), keep_time=True)
    assert [None if pd.isna(v) else v for v in parsed] == [
        None if d is None else pd.Timestamp(d) for d in dates
    ]
    assert bad.tolist() == [d is None for d in dates]


def test_an_ambiguous_day_and_month_rejects_the_row_saying_so(con):
    data = "工单号,车架号,进厂日期\nWO1,LSVAU2A37N2000001,05/03/2024\nWO2,LSVAU2A37N2000002,01/02/2024\n"
    result = import_file(con, _csv(data), file_name="dmy.csv")
    assert (result.inserted, result.rejected) == (0, 2)
    assert set(rejected_rows(con, result.import_id)["reason"]) == {"unreadable date"}


def test_a_row_of_dashes_or_spaces_is_a_blank_row(con):
    data = (
        "工单号,车架号,进厂日期,结算金额\n"
        "WO1,LSVAU2A37N2000001,2024-03-05,100\n"
        "--,--,--,--\n"
        " , , , \n"
        "—,/,-,\n"
        "WO2,LSVAU2A37N2000002,2024-03-06,200\n"
    )
    result = import_file(con, _csv(data), file_name="dashes.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (2, 2, 0)
    assert (result.sheets[0]["rows"], result.sheets[0]["skipped"]) == (2, 0)
    assert result.sheets[0]["reason"] == "3 blank rows not counted"


def _titled_workbook() -> bytes:
    """A report as an Excel user leaves it: title and export-time rows, a frozen, filtered header
    with a line break in one name and a trailing space in another, a hidden and an empty column,
    two 备注 columns, a row of dashes, and a notes block under the table."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["XX店维修工单明细 2024年3月"])
    sheet.append(["导出时间：2024-04-01 09:00:00", None, "导出人：张三"])
    sheet.append(["工单\n号", "车架号 ", "客户姓名", None, "进厂日期", "结算金额", "备注", "备注"])
    sheet.append(["WO1", "LSVAU2A37N2000001", "张三", None, "2024-03-05", 100, "a", "b"])
    sheet.append(["WO2", "LSVAU2A37N2000002", "李四", None, "2024-03-06", 200, "c", "d"])
    sheet.append(["--", "--", "--", None, "--", "--", "--", "--"])
    sheet.append(["WO3", "LSVAU2A37N2000003", "王五", None, "2024-03-07", 300, None, None])
    sheet.append([])
    sheet.append(["备注：1. 金额含税；2. 数据来源DMS"])
    sheet.append(["制表人：李四", None, None, None, None, None, None, None])
    sheet.freeze_panes = "A4"
    sheet.auto_filter.ref = "A3:H7"
    sheet.column_dimensions["C"].hidden = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_notes_under_a_report_are_named_notes_not_records_missing_their_date(con):
    result = import_file(con, _titled_workbook(), file_name="工单明细.xlsx")
    assert (result.inserted, result.rejected) == (3, 2)
    assert _rows(con, "SELECT order_id, customer_name, amount::VARCHAR FROM service_orders ORDER BY 1") == [
        ("WO1", "张三", "100.00"),
        ("WO2", "李四", "200.00"),
        ("WO3", "王五", "300.00"),
    ]
    rejects = rejected_rows(con, result.import_id)
    assert rejects[["source_row", "reason"]].values.tolist() == [
        [9, "note below the table, not a record"],
        [10, "note below the table, not a record"],
    ]


def test_a_csv_row_with_more_cells_than_its_header_is_rejected_not_landed_shifted(con):
    # 1,234.50 written without quotes: the row has one cell too many, every cell after it shifted.
    data = (
        "工单号,车架号,进厂日期,结算金额,服务顾问\n"
        "WO1,LSVAU2A37N2000001,2024-03-05,1,234.50,张\n"
        "WO2,LSVAU2A37N2000002,2024-03-05,200,李\n"
        "WO3,LSVAU2A37N2000003,2024-03-06,300,王\n"
    )
    result = import_file(con, _csv(data), file_name="unquoted.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    assert _rows(con, "SELECT order_id, amount::VARCHAR, advisor FROM service_orders ORDER BY 1") == [
        ("WO2", "200.00", "李"),
        ("WO3", "300.00", "王"),
    ]
    rejects = rejected_rows(con, result.import_id)
    assert rejects[["source_row", "reason"]].values.tolist() == [
        [
            2,
            "more cells than the header names: a value holds an unquoted delimiter (1,234.50), shifting the row",
        ]
    ]


def test_a_csv_column_without_a_header_in_every_row_is_a_column_not_a_shift(con):
    data = "工单号,车架号,进厂日期,结算金额\nWO1,LSVAU2A37N2000001,2024-03-05,100,x\nWO2,LSVAU2A37N2000002,2024-03-05,200,y\n"
    result = import_file(con, _csv(data), file_name="unnamed.csv")
    assert (result.inserted, result.rejected, result.unmapped) == (2, 0, ["column E"])


def test_a_number_excel_wrote_in_scientific_notation_is_rejected_as_a_key_that_lost_its_digits(con):
    # A CSV saved from Excel with a 12-digit work-order number in a General cell: 202403050001 and
    # 202403050002 both become 2.02403E+11, and would land as one order.
    data = (
        "工单号,车架号,进厂日期,结算金额\n"
        "2.02403E+11,LSVAU2A37N2000001,2024-03-05,100\n"
        "2.02403E+11,LSVAU2A37N2000002,2024-03-05,200\n"
        "202403050003,LSVAU2A37N2000003,2024-03-05,300\n"
    )
    result = import_file(con, _csv(data), file_name="sci.csv")
    assert (result.inserted, result.rejected) == (1, 2)
    reasons = rejected_rows(con, result.import_id)["reason"].tolist()
    assert reasons == [values.SCIENTIFIC_KEY] * 2
    assert "scientific notation" in values.SCIENTIFIC_KEY


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("2024年3月5日星期二", "2024-03-05"),
        ("2024-03-05 星期二", "2024-03-05"),
        ("2024/3/5 周二 14:30", "2024-03-05 14:30"),
        ("2024-03-05(周二)", "2024-03-05"),
        ("2024-03-10（星期日）", "2024-03-10"),
        ("2024-03-05 14:30 星期二", "2024-03-05 14:30"),
    ],
)
def test_a_date_with_its_weekday_as_excel_long_date_writes_it_reads_as_the_date(cell, moment):
    parsed, bad = values.parse_datetimes(pd.Series([cell], dtype="str"), keep_time=True)
    assert parsed.tolist() == [pd.Timestamp(moment)] and bad.tolist() == [False]


def test_a_weekday_that_is_not_the_dates_own_makes_the_date_unreadable():
    parsed, bad = values.parse_datetimes(pd.Series(["2024-03-05 星期三"], dtype="str"), keep_time=False)
    assert parsed.isna().all() and bad.tolist() == [True]


def test_a_cell_merged_down_in_an_excel_97_workbook_stands_in_each_row_too(con):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("工单")
    for c, header in enumerate(["工单号", "车架号", "客户姓名", "维修项目", "进厂日期", "结算金额"]):
        sheet.write(0, c, header)
    for r, (order, vin, item, day, amount) in enumerate(
        [
            ("WO1", "LSVAU2A37N2000001", "更换机油", "2024-03-05", 500),
            ("WO1", "LSVAU2A37N2000001", "更换机滤", "2024-03-05", 500),
            ("WO2", "LSVAU2A37N2000002", "保养", "2024-03-06", 200),
        ],
        start=1,
    ):
        for c, value in zip((0, 1, 3, 4, 5), (order, vin, item, day, amount), strict=True):
            sheet.write(r, c, value)
    sheet.write_merge(1, 2, 2, 2, "张三")
    sheet.write(3, 2, "李四")
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_file(con, buffer.getvalue(), file_name="工单.xls")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(con, "SELECT order_id, customer_name FROM service_orders ORDER BY 1") == [
        ("WO1", "张三"),
        ("WO2", "李四"),
    ]
