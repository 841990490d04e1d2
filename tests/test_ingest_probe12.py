"""The twelfth import probe: exports as a second and third DMS vendor and a store clerk with Excel
write them. English dates with their weekday and a CST zone, star ratings written with the review
word (五星好评), dates typed in full-width digits, a printed report's footer of two notes, and the
note of an update that kept the stored value of a cell it could not read. Each test failed before
its fix."""

from __future__ import annotations

import io

import duckdb
import openpyxl
import pandas as pd
import pytest

from analytics.core.errors import ImportRefused
from analytics.ingest import import_file, rejected_rows, stage, values
from analytics.store import db


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe12.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _moments(*cells: str) -> tuple[list[str | None], list[bool]]:
    parsed, bad = values.parse_datetimes(pd.Series(list(cells), dtype="str"), keep_time=True)
    return [None if pd.isna(v) else str(v) for v in parsed.tolist()], bad.tolist()


# 1. English dates with their weekday (as mail and Java/.NET exports write them), and CST.


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("Tue, 05 Mar 2024", "2024-03-05 00:00:00"),
        ("Tue, 5 Mar 2024", "2024-03-05 00:00:00"),
        ("Tue 05 Mar 2024 14:30", "2024-03-05 14:30:00"),
        ("Tue, 05 Mar 2024 14:30:00 +0800", "2024-03-05 14:30:00"),
        ("Tue, 05 Mar 2024 06:30:00 GMT", "2024-03-05 14:30:00"),
        ("Tuesday, March 5, 2024", "2024-03-05 00:00:00"),
        ("TUE, 05-MAR-2024", "2024-03-05 00:00:00"),
        ("Tue. Mar 5 2024 2:30 PM", "2024-03-05 14:30:00"),
        ("2024-03-05 14:30 CST", "2024-03-05 14:30:00"),
        ("2024-03-05 14:30:00 cst", "2024-03-05 14:30:00"),
        ("Tue, 05 Mar 2024 14:30:00 CST", "2024-03-05 14:30:00"),
    ],
)
def test_an_english_date_with_its_weekday_or_china_standard_time_reads(cell, moment):
    assert _moments("2024-03-01", cell) == (["2024-03-01 00:00:00", moment], [False, False])


@pytest.mark.parametrize(
    "cell", ["Mon, 05 Mar 2024", "Tue, 31 Feb 2024", "Tux, 05 Mar 2024", "Tue, 05 Mar 24"]
)
def test_an_english_weekday_that_is_not_the_dates_own_or_a_broken_date_stays_unreadable(cell):
    assert _moments(cell) == ([None], [True])


def test_a_callback_export_with_english_weekday_dates_and_cst_lands_every_call(con):
    data = (
        "Callback ID,RO No.,Callback Time,Result,Overall Satisfaction\n"
        'C1,WO1,"Tue, 05 Mar 2024 14:30:00 +0800",接通,5\n'
        "C2,WO2,2024-03-06 09:00 CST,接通,4\n"
        'C3,WO3,"Thu, 07 Mar 2024",未接通,\n'
    )
    result = import_file(con, data.encode(), file_name="callbacks.csv", kind="callback")
    assert (result.rows_read, result.inserted, result.rejected) == (3, 3, 0)
    assert _rows(
        con, "SELECT callback_id, strftime(callback_date, '%Y-%m-%d %H:%M') FROM callbacks ORDER BY 1"
    ) == [
        ("C1", "2024-03-05 14:30"),
        ("C2", "2024-03-06 09:00"),
        ("C3", "2024-03-07 00:00"),
    ]


# 2. Stars written with the review word: 五星好评, 5星好评, 一星差评.


@pytest.mark.parametrize(
    ("cell", "score"),
    [
        ("五星好评", 10.0),
        ("5星好评", 10.0),
        ("五颗星好评", 10.0),
        ("四星好评", 8.0),
        ("三星中评", 6.0),
        ("一星差评", 2.0),
        ("好评五星", 10.0),
        ("好评(五星)", 10.0),
        ("五星级", 10.0),
        ("★★★★☆ 好评", 8.0),
        ("差评 ★☆☆☆☆", 2.0),
    ],
)
def test_stars_written_with_the_review_word_score_as_the_stars(cell, score):
    for others in (["3", "4"], ["7", "9"], ["满意", "一般"]):
        parsed, bad, _ = values.parse_scores(pd.Series([*others, cell], dtype="str"))
        assert float(parsed.iloc[-1]) == pytest.approx(score)
        assert not bad.any()


def test_a_callback_file_of_star_reviews_lands_every_score_without_a_note(con):
    data = "回访单号,工单号,回访时间,回访结果,总体满意度\nC1,WO1,2024-03-05,接通,五星好评\nC2,WO2,2024-03-05,接通,四星好评\n"
    result = import_file(con, data.encode(), file_name="回访.csv")
    assert (result.inserted, result.blanked) == (2, 0)
    assert _rows(con, "SELECT callback_id, overall_score FROM callbacks ORDER BY 1") == [
        ("C1", 10.0),
        ("C2", 8.0),
    ]


# 3. A visit or call date typed in full-width digits (a Chinese input method left in full-width mode).


def test_a_date_typed_in_full_width_digits_reads_as_the_date():
    assert _moments(
        "２０２４－０３－０９", "２０２４年３月９日", "２０２４/３/９ １４:３０", "２０２４０３０９"
    ) == (
        ["2024-03-09 00:00:00", "2024-03-09 00:00:00", "2024-03-09 14:30:00", "2024-03-09 00:00:00"],
        [False] * 4,
    )


def test_a_work_order_whose_visit_date_is_in_full_width_digits_lands(con):
    data = "工单号,进厂日期,车架号\nWO1,２０２４－０３－０９,LSVAU2A37N2800001\nWO2,2024-03-10,LSVAU2A37N2800002\n"
    result = import_file(con, data.encode(), file_name="工单.csv")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(con, "SELECT order_id, visit_date::VARCHAR FROM service_orders ORDER BY 1") == [
        ("WO1", "2024-03-09"),
        ("WO2", "2024-03-10"),
    ]


# 4. A printed report's footer with more than one note in its row.


def test_a_footer_row_of_several_notes_is_named_a_note_not_a_record_missing_its_date(con):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["XX店维修工单明细"])
    sheet.append(["工单号", "进厂日期", "车架号", "车牌号", "结算金额"])
    sheet.append(["WO1", "2024-03-05", "LSVAU2A37N2800001", "浙A12345", 100])
    sheet.append(["WO2", "2024-03-06", "LSVAU2A37N2800002", "浙A23456", 200])
    sheet.append(["打印人：张三", None, None, "打印时间：2024-04-01 10:00"])
    sheet.append(["制表人：李四", "审核人：王五"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_file(con, buffer.getvalue(), file_name="工单明细.xlsx")
    assert (result.rows_read, result.inserted, result.rejected) == (4, 2, 2)
    rejects = rejected_rows(con, result.import_id)
    assert rejects[["source_row", "reason"]].values.tolist() == [
        [5, stage.NOTE_ROW],
        [6, stage.NOTE_ROW],
    ]


def test_a_record_with_a_note_word_in_one_cell_is_still_a_record(con):
    # Only a row whose every filled cell is a note is one: a record's remark ("备注：客户自带机油")
    # in a column of its own keeps the record.
    data = "工单号,进厂日期,车架号,备注\nWO1,2024-03-05,LSVAU2A37N2800001,备注：客户自带机油\n"
    result = import_file(con, data.encode(), file_name="工单.csv")
    assert (result.inserted, result.rejected) == (1, 0)


# 5. An update that could not read a cell keeps the stored value, and its note says so.


def test_the_note_of_an_unreadable_cell_says_the_stored_value_was_kept_when_it_was(con):
    header = "工单号,进厂日期,车架号,结算金额,进厂里程\n"
    first = header + "WO1,2024-03-05,LSVAU2A37N2800001,300,12345\nWO2,2024-03-05,LSVAU2A37N2800002,,500\n"
    import_file(con, first.encode(), file_name="工单_1.csv")
    later = (
        header + 'WO1,2024-03-05,LSVAU2A37N2800001,"100,50",12400\n'  # stored 300 kept
        'WO2,2024-03-05,LSVAU2A37N2800002,"100,50",600\n'  # nothing stored: left blank
        'WO3,2024-03-06,LSVAU2A37N2800003,"100,50",700\n'  # a new order: left blank
    )
    result = import_file(con, later.encode(), file_name="工单_2.csv")
    assert (result.inserted, result.updated, result.blanked) == (1, 2, 3)
    assert _rows(con, "SELECT order_id, amount::VARCHAR FROM service_orders ORDER BY 1") == [
        ("WO1", "300.00"),
        ("WO2", None),
        ("WO3", None),
    ]
    notes = rejected_rows(con, result.import_id)
    assert notes[["source_row", "reason", "kept"]].values.tolist() == [
        [2, "number not readable, stored value kept", True],
        [3, "number not readable, left blank", True],
        [4, "number not readable, left blank", True],
    ]
    assert result.notes == ["number not readable, stored value kept", "number not readable, left blank"]
    assert (
        stage.reason_words("number not readable, stored value kept", "zh") == "数字无法识别，已保留原有的值"
    )
    assert stage.reason_words("score not readable on the 1-5 scale, stored value kept", "zh") == (
        "按 1-5 分制无法识别该评分，已保留原有的值"
    )


def test_the_preview_of_an_update_says_the_stored_score_is_kept(con):
    from analytics.ingest.load import plan_import
    from analytics.ingest.read import read_table

    header = "回访单号,工单号,回访时间,回访结果,总体满意度\n"
    import_file(con, (header + "C1,WO1,2024-03-05 10:00,接通,5\n").encode(), file_name="回访_1.csv")
    later = (header + "C1,WO1,2024-03-05 10:00,接通,非常好\nC2,WO2,2024-03-05 11:00,接通,非常好\n").encode()
    plan = plan_import(con, read_table(later, "回访_2.csv"))
    assert plan.notes[["source_row", "reason"]].values.tolist() == [
        [2, "score not readable on the labels scale, stored value kept"],
        [3, "score not readable on the labels scale, left blank"],
    ]
    result = import_file(con, later, file_name="回访_2.csv")
    assert _rows(con, "SELECT callback_id, overall_score FROM callbacks ORDER BY 1") == [
        ("C1", 10.0),
        ("C2", None),
    ]
    assert rejected_rows(con, result.import_id)["reason"].tolist() == plan.notes["reason"].tolist()


def test_a_printed_pages_number_under_the_table_is_a_note(con):
    data = (
        "工单号,进厂日期,车架号\nWO1,2024-03-05,LSVAU2A37N2800001\n"
        "第1页 共2页,,\n第 2 页/共 2 页,,\nPage 2 of 2,,\n"
    )
    result = import_file(con, data.encode(), file_name="工单.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (4, 1, 3)
    assert rejected_rows(con, result.import_id)["reason"].tolist() == [stage.NOTE_ROW] * 3


# 6. A work-order number a program wrote as a float in scientific notation with every digit.


def test_a_key_in_scientific_notation_with_every_digit_is_the_number_and_links(con):
    orders = "工单号,进厂日期,车架号\n12347,2024-03-05,LSVAU2A37N2800001\n202403050001,2024-03-05,LSVAU2A37N2800002\n"
    import_file(con, orders.encode(), file_name="工单.csv")
    calls = (
        "回访单号,工单号,回访日期,回访结果\n"
        "C1,1.2347E+4,2024-03-08,接通\n"
        "C2,2.02403050001E+11,2024-03-08,接通\n"
        "C3,2.02403E+11,2024-03-08,接通\n"  # Excel's: digits lost, rejected as before
    )
    result = import_file(con, calls.encode(), file_name="回访.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    assert result.reasons == [values.SCIENTIFIC_KEY]
    assert _rows(con, "SELECT callback_id, order_id FROM callbacks ORDER BY 1") == [
        ("C1", "12347"),
        ("C2", "202403050001"),
    ]


# 7. A plate typed with a full stop or a dash for its dot; a time said to be Beijing time.


@pytest.mark.parametrize(
    ("cell", "plate"),
    [
        ("浙A.12345", "浙A12345"),
        ("浙A-12345", "浙A12345"),
        ("浙Ａ－１２３４５", "浙A12345"),
        ("浙A—D12345", "浙AD12345"),
    ],
)
def test_a_plate_typed_with_a_full_stop_or_a_dash_for_its_dot_is_the_plate(cell, plate):
    assert values.clean_plates(pd.Series([cell, "无牌", "临-时"], dtype="str")).tolist() == [
        plate,
        "无牌",
        "临-时",
    ]


def test_a_time_said_to_be_beijing_time_reads_as_it_is():
    assert _moments("2024-03-05 14:30:00 (北京时间)", "2024-03-05 14:30 北京时间") == (
        ["2024-03-05 14:30:00", "2024-03-05 14:30:00"],
        [False, False],
    )


# 8. A workbook of two stores' sheets whose stores number their orders alike.


def test_another_stores_order_with_the_same_number_in_one_workbook_is_named_as_such(con):
    book = openpyxl.Workbook()
    first = book.active
    first.title = "一店"
    header = ["门店", "工单号", "进厂日期", "车架号", "结算金额"]
    first.append(header)
    first.append(["一店", "000001", "2024-03-05", "LSVAU2A37N2800001", 100])
    first.append(["一店", "000002", "2024-03-05", "LSVAU2A37N2800002", 100])
    second = book.create_sheet("二店")
    second.append(header)
    second.append(["二店", "000001", "2024-03-06", "LSVAU2A37N2800009", 200])
    # The same store's order twice, corrected further down: the later row is the order.
    second.append(["二店", "000003", "2024-03-06", "LSVAU2A37N2800003", 200])
    second.append(["二店", "000003", "2024-03-06", "LSVAU2A37N2800003", 250])
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_file(con, buffer.getvalue(), file_name="两店.xlsx")
    assert (result.rows_read, result.inserted, result.rejected) == (5, 3, 2)
    rejects = rejected_rows(con, result.import_id)
    assert rejects[["sheet", "source_row", "reason"]].values.tolist() == [
        ["一店", 2, stage.OTHER_STORE_IN_FILE],
        ["二店", 3, stage.DUPLICATE_KEY],
    ]
    assert "门店" in stage.reason_words(stage.OTHER_STORE_IN_FILE, "zh")


# 9. A yes/no flag a program kept as a float (a pandas column of 1 and 0 with blanks in it).


def test_a_flag_written_as_a_float_is_yes_or_no(con):
    data = (
        "工单号,进厂日期,车架号,是否预约\n"
        "WO1,2024-03-05,LSVAU2A37N2800001,1.0\n"
        "WO2,2024-03-05,LSVAU2A37N2800002,0.0\n"
        "WO3,2024-03-05,LSVAU2A37N2800003,\n"
    )
    result = import_file(con, data.encode(), file_name="工单.csv")
    assert (result.inserted, result.rejected, result.blanked) == (3, 0, 0)
    assert _rows(con, "SELECT order_id, is_appointment FROM service_orders ORDER BY 1") == [
        ("WO1", True),
        ("WO2", False),
        ("WO3", None),
    ]
    reached, bad = values.parse_reached(pd.Series(["1.0", "0.0", "2.0"], dtype="str"))
    assert reached.tolist()[:2] == [True, False] and bad.tolist() == [False, False, True]


# 10. A count of the records written under a CSV export's table.


def test_a_count_of_the_records_under_the_table_is_a_total_row(con):
    data = (
        "维修工单明细,,,\n导出时间：2024-04-01,,,\n工单号,进厂日期,车架号,结算金额\n"
        "WO1,2024-03-05,LSVAU2A37N2800001,100\nWO2,2024-03-05,LSVAU2A37N2800002,200\n"
        "共2条记录,,,300\n记录数：2,,,\n总条数: 2,,,\n共 2 笔,,,\n"
    )
    result = import_file(con, data.encode("gbk"), file_name="工单.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (6, 2, 4)
    reasons = rejected_rows(con, result.import_id).drop_duplicates("source_row")["reason"].tolist()
    assert reasons == ["total row, not a record"] * 4


# 11. A date and time typed as they are said: 5号, 14点30分.


def test_a_date_and_time_typed_as_said_reads():
    assert _moments(
        "2024年3月5号", "2024年3月5日14点30分", "2024年3月5日 下午2点30分", "2024-03-05 9点05分"
    ) == (
        ["2024-03-05 00:00:00", "2024-03-05 14:30:00", "2024-03-05 14:30:00", "2024-03-05 09:05:00"],
        [False] * 4,
    )


# 12. English headers written without the abbreviation's full stop, or with a number sign.


def test_english_headers_without_the_full_stop_or_with_a_number_sign_are_known(con):
    data = (
        "RO No,RO Date,VIN No,Plate No,Mobile No,Total Amount\n"
        "RO1,2024-03-05,LSVAU2A37N2800001,浙A12345,13800138000,100\n"
    )
    result = import_file(con, data.encode(), file_name="ro.csv")
    assert (result.inserted, result.unmapped) == (1, [])
    assert _rows(con, "SELECT order_id, vin, plate, phone, amount::VARCHAR FROM service_orders") == [
        ("RO1", "LSVAU2A37N2800001", "浙A12345", "13800138000", "100.00")
    ]
    calls = "Callback #,RO#,Call Date,Call Result\nC1,RO1,2024-03-08,接通\n"
    result = import_file(con, calls.encode(), file_name="calls.csv")
    assert (result.inserted, result.unmapped) == (1, [])
    assert _rows(con, "SELECT callback_id, order_id FROM callbacks") == [("C1", "RO1")]


# 13. A file whose known columns say neither kind is told what it lacks, not that nothing is known.


def test_a_file_with_known_columns_but_neither_kinds_key_names_them_and_what_is_missing(con):
    with pytest.raises(ImportRefused) as refused:
        import_file(con, "回访单号,满意度\nC1,4\n".encode("gbk"), file_name="回访更正.csv")
    message = str(refused.value)
    assert "回访单号, 满意度" in message and "回访日期" in message and "no columns recognised" not in message
    assert "Traceback" not in message and "\n" not in message


# 14. Characters that print as nothing, left in cells pasted from a web page or a chat.


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_zero_width_space_in_a_header_or_a_cell_is_dropped(con, form):
    rows = [
        ["工单号\u200b", "\u200b进厂日期", "车架号"],
        ["WO1\u200b", "2024-03-05\u200b", "LSVAU2A37N\u20602800001"],
    ]
    if form == "csv":
        data = "\n".join(",".join(row) for row in rows).encode()
    else:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        data = buffer.getvalue()
    result = import_file(con, data, file_name=f"工单.{form}")
    assert (result.inserted, result.rejected, result.unmapped) == (1, 0, [])
    assert _rows(con, "SELECT order_id, visit_date::VARCHAR, vin FROM service_orders") == [
        ("WO1", "2024-03-05", "LSVAU2A37N2800001")
    ]


def test_a_zero_width_space_written_as_an_entity_in_a_web_dms_page_is_dropped(con):
    page = (
        "<html><head><meta charset='utf-8'></head><body><table>"
        "<tr><td>工单号&#8203;</td><td>进厂日期</td><td>车架号</td></tr>"
        "<tr><td>WO1&#x200B;</td><td>2024-03-05&#8203;</td><td>LSVAU2A37N2800001</td></tr>"
        "</table></body></html>"
    )
    result = import_file(con, page.encode(), file_name="工单.xls")
    assert (result.inserted, result.rejected, result.unmapped) == (1, 0, [])
    assert _rows(con, "SELECT order_id, visit_date::VARCHAR FROM service_orders") == [("WO1", "2024-03-05")]
