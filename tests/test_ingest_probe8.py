"""An eighth probe of real-style exports (session 20): a blank type cell, Chinese dash
placeholders, databases' sentinel dates, units in square or lenticular brackets, 16-digit work-order
numbers written as number cells, and a ``--save-map`` file that cannot be written. Each test builds
the file the way a DMS writes it and failed before its fix (the blank type cell and the mapping file
ended in a traceback)."""

from __future__ import annotations

import io

import duckdb
import openpyxl
import pytest

from analytics import cli
from analytics.core.errors import ImportRefused
from analytics.ingest import import_file
from analytics.store import db
from tests.db_state import imported_twice


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe8.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_a_blank_service_type_cell_reads_as_other_instead_of_failing_the_file(con):
    text = (
        "工单号,进厂日期,车架号,维修类型,结算金额\n"
        "WO1,2026-08-01,LSVAU2A37N2800001,保养,100\n"
        "WO2,2026-08-02,LSVAU2A37N2800002,,200\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(con, "SELECT order_id, service_type FROM service_orders ORDER BY 1") == [
        ("WO1", "maintenance"),
        ("WO2", "other"),
    ]


def test_a_blank_callback_type_cell_reads_by_its_work_order_instead_of_failing_the_file(con):
    text = (
        "回访编号,工单号,车架号,回访类型,回访日期,是否接通,满意度\n"
        "CB1,WO1,LSVAU2A37N2800001,3DC,2026-08-03 10:00,是,10\n"
        "CB2,WO2,LSVAU2A37N2800002,,2026-08-04 10:00,是,9\n"
        "CB3,,LSVAU2A37N2800003,,2026-08-05 10:00,是,8\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert (result.inserted, result.rejected) == (3, 0)
    assert _rows(con, "SELECT callback_id, callback_type FROM callbacks ORDER BY 1") == [
        ("CB1", "3DC"),
        ("CB2", "3DC"),
        ("CB3", "7DC"),
    ]


@pytest.mark.parametrize("dash", ["——", "—", "–", "――"])
def test_a_chinese_keyboards_dash_is_no_value(con, dash):
    text = f"工单号,进厂日期,车架号,进厂里程,结算金额,维修类型\nWO1,2026-08-01,LSVAU2A37N2800001,{dash},{dash},保养\n"
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT mileage_km, amount FROM service_orders") == [(None, None)]


@pytest.mark.parametrize(
    "cell", ["1900-01-01 00:00:00.000", "1900-01-01", "1899-12-30", "0001-01-01", "9999-12-31 23:59:59"]
)
def test_a_databases_no_date_sentinel_is_no_date_not_a_purchase_in_1900_or_a_rejected_order(con, cell):
    text = f"工单号,进厂日期,车架号,购车日期,结算金额\nWO1,2026-08-01,LSVAU2A37N2800001,{cell},100\n"
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT purchase_date FROM service_orders") == [(None,)]


def test_a_real_date_of_1900_with_a_time_and_an_ordinary_date_are_kept(con):
    text = "工单号,进厂日期,车架号,购车日期,结算金额\nWO1,2026-08-01,LSVAU2A37N2800001,2019-05-06,100\n"
    imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert str(_rows(con, "SELECT purchase_date FROM service_orders")[0][0]) == "2019-05-06"


@pytest.mark.parametrize(
    ("amount", "mileage"),
    [
        ("结算金额[元]", "行驶里程[km]"),
        ("结算金额【元】", "行驶里程【公里】"),
        ("结算金额/元", "行驶里程/km"),
    ],
)
def test_a_unit_in_square_or_lenticular_brackets_or_after_a_slash_keeps_the_column(con, amount, mileage):
    text = f"工单号,进厂日期,车架号,{amount},{mileage}\nWO1,2026-08-01,LSVAU2A37N2800001,1234.5,35420\n"
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert result.inserted == 1
    assert _rows(con, "SELECT amount, mileage_km FROM service_orders") == [(1234.5, 35420)]


def test_a_16_digit_work_order_number_in_a_number_cell_is_the_same_order_as_its_text(con):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["工单号", "进厂日期", "车架号", "结算金额"])
    sheet.append([2026110500000001, "2026-11-05", "LSVAU2A37N2800001", 100])
    buffer = io.BytesIO()
    book.save(buffer)
    imported_twice(con, buffer.getvalue(), "工单.xlsx")
    assert _rows(con, "SELECT order_id FROM service_orders") == [("2026110500000001",)]
    text = "工单号,进厂日期,车架号,结算金额\n2026110500000001,2026-11-05,LSVAU2A37N2800001,100\n"
    again = import_file(con, text.encode("utf-8"), file_name="工单.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)


def test_a_save_map_file_that_cannot_be_written_is_refused_before_anything_lands(tmp_path, capsys):
    source = tmp_path / "工单.csv"
    source.write_text(
        "工单号,进厂日期,车架号,结算金额\nWO1,2026-08-01,LSVAU2A37N2800001,100\n", encoding="utf-8"
    )
    path = tmp_path / "m.duckdb"
    for target in (tmp_path / "missing" / "m.toml", tmp_path):
        assert (
            cli.main(["import", str(source), "--save-map", str(target), "--db", str(path), "--no-marts"]) == 2
        )
        err = capsys.readouterr().err
        assert "--save-map" in err and "Traceback" not in err
    con = db.connect(path)
    try:
        assert _rows(con, "SELECT count(*) FROM service_orders") == [(0,)]
    finally:
        con.close()


def test_yes_no_cells_that_name_their_subject_and_the_ways_of_booking_are_read(con):
    text = (
        "工单号,进厂日期,车架号,是否预约,结算金额\n"
        "WO1,2026-08-01,LSVAU2A37N2800001,电话预约,100\n"
        "WO2,2026-08-01,LSVAU2A37N2800002,APP预约,100\n"
        "WO3,2026-08-01,LSVAU2A37N2800003,自然到店,100\n"
        "WO4,2026-08-01,LSVAU2A37N2800004,未知,100\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    # 未知 ("unknown") says nothing: it is not read as "no"; since probe 11 its order lands with the
    # answer blank and the reason noted.
    assert (result.inserted, result.rejected, result.blanked) == (4, 0, 1)
    assert result.notes == ["yes/no value not readable, left blank"]
    assert _rows(con, "SELECT order_id, is_appointment FROM service_orders ORDER BY 1") == [
        ("WO1", True),
        ("WO2", True),
        ("WO3", False),
        ("WO4", None),
    ]


def test_a_crm_call_list_complaint_flags_results_and_reminder_calls(con):
    text = (
        "回访编号,回访类型,车架号,回访日期,回访结果,满意度,是否投诉\n"
        "C1,3DC,LSVAU2A37N2800001,2026-11-04 09:00,已回访（满意）,10,无投诉\n"
        "C2,3DC,LSVAU2A37N2800002,2026-11-04 09:10,已回访-满意,9,否\n"
        "C3,3DC,LSVAU2A37N2800003,2026-11-04 09:20,不满意,3,有投诉\n"
        "C4,保养到期提醒,LSVAU2A37N2800004,2026-11-04 09:30,接通,,否\n"
        "C5,事故车招揽,LSVAU2A37N2800005,2026-11-04 09:40,未接通,,否\n"
        "C6,维修进度通知,LSVAU2A37N2800006,2026-11-04 09:50,接通,,否\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert (result.inserted, result.rejected) == (6, 0)
    assert _rows(
        con, "SELECT callback_id, callback_type, reached, is_complaint FROM callbacks ORDER BY 1"
    ) == [
        ("C1", "3DC", True, False),
        ("C2", "3DC", True, False),
        ("C3", "3DC", True, True),
        ("C4", "other", True, False),
        ("C5", "other", False, False),
        ("C6", "other", True, False),
    ]


CALLBACKS_WITH_VISIT = (
    "工单号,车牌号,车型,进厂日期,维修类型,服务顾问,结算金额,回访日期,回访人,回访结果,满意度,客户意见\n"
    "WO1,浙A12345,轩逸,2026-10-31,维修,张三,1140.06,2026-11-02 10:00,李四,接通,非常满意,很好\n"
)


def test_a_callback_export_repeating_the_visit_is_not_guessed_and_imports_as_callbacks_when_asked(con):
    # Guessed as work orders it used to rewrite the stored orders' type and amount.
    with pytest.raises(ImportRefused, match="both service orders"):
        import_file(con, CALLBACKS_WITH_VISIT.encode("utf-8"), file_name="回访.csv")
    assert _rows(con, "SELECT count(*) FROM service_orders") == [(0,)]
    result = import_file(con, CALLBACKS_WITH_VISIT.encode("utf-8"), file_name="回访.csv", kind="callback")
    assert result.inserted == 1
    assert _rows(con, "SELECT order_id, overall_score, comment FROM callbacks") == [("WO1", 10.0, "很好")]
    assert _rows(con, "SELECT count(*) FROM service_orders") == [(0,)]


def test_a_crm_outbound_call_list_is_read_as_callbacks_and_its_leave_date_is_no_visit(con):
    text = (
        "工单号,车架号,出厂日期,外呼时间,通话状态,满意度\n"
        "WO1,LSVAU2A37N2800001,2026-11-01,2026-11-02 10:00,接通,满意\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "外呼.csv")
    assert result.kind == "callback"
    assert _rows(con, "SELECT order_id, callback_date FROM callbacks")[0][0] == "WO1"
    assert _rows(con, "SELECT count(*) FROM service_orders") == [(0,)]


def test_total_rows_written_with_what_they_count_are_named_total_rows(con):
    text = (
        "工单号\t进厂日期\t车架号\t结算金额\n"
        "WO1\t2026-09-01\tLSVAU2A37N2900000\t100\n"
        "\t2026-09-01 小计\t\t100\n"
        "WO2\t2026-09-02\tLSVAU2A37N2900001\t300\n"
        "合计：2单\t\t\t400\n"
        "共计\t\t\t400\n"
        "总金额：400元\t\t\t\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.txt")
    assert (result.inserted, result.rejected) == (2, 4)
    first = _rows(
        con,
        "SELECT source_row, min_by(reason, rowid) FROM rejected_rows GROUP BY source_row ORDER BY source_row",
    )
    assert [reason for _, reason in first] == ["total row, not a record"] * 4


def test_a_time_column_with_the_half_of_the_day_written_keeps_every_calls_time(con):
    # One 下午3:10 used to leave the whole 回访时间 column out: every call landed at midnight.
    text = (
        "回访编号,工单号,回访日期,回访时间,满意度\n"
        "C1,WO1,2026-11-05,09:05,10\n"
        "C2,WO2,2026-11-05,14:30:15,9\n"
        "C3,WO3,2026-11-06,下午3:10,8\n"
        "C4,WO4,2026-11-06,上午8:20,8\n"
    )
    imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert [str(r[0]) for r in _rows(con, "SELECT callback_date FROM callbacks ORDER BY callback_id")] == [
        "2026-11-05 09:05:00",
        "2026-11-05 14:30:15",
        "2026-11-06 15:10:00",
        "2026-11-06 08:20:00",
    ]


def test_a_time_column_said_by_the_hour_gives_each_call_its_time(con):
    # 下午3点 and 3点半 in 回访时间 left the column out: every call landed at midnight.
    text = (
        "回访编号,工单号,回访日期,回访时间,满意度\n"
        "C1,WO1,2026-11-05,下午3点,10\n"
        "C2,WO2,2026-11-05,上午9点半,9\n"
        "C3,WO3,2026-11-06,14:10,8\n"
    )
    imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert [str(r[0]) for r in _rows(con, "SELECT callback_date FROM callbacks ORDER BY callback_id")] == [
        "2026-11-05 15:00:00",
        "2026-11-05 09:30:00",
        "2026-11-06 14:10:00",
    ]


# --------------------------------------------------------------------------- the probe's second round


def test_a_hidden_sheet_is_named_and_never_read_over_the_visible_one(con):
    book = openpyxl.Workbook()
    visible = book.active
    visible.title = "工单"
    old = book.create_sheet("工单(旧)")
    for sheet, amount in ((visible, 100), (old, 999)):
        sheet.append(["工单号", "进厂日期", "车架号", "结算金额"])
        sheet.append(["WO1", "2026-11-05", "LSVAU2A37N2800001", amount])
    old.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    result = imported_twice(con, buffer.getvalue(), "工单.xlsx")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT amount FROM service_orders") == [(100.0,)]
    hidden = next(sheet for sheet in result.sheets if sheet["sheet"] == "工单(旧)")
    assert "hidden" in hidden["reason"]


def test_after_sales_callback_names_are_3dc_and_a_name_of_no_kind_stays_other(con):
    text = (
        "回访编号,工单号,车架号,回访类型,回访日期,满意度\n"
        "C1,WO1,LSVAU2A37N2800001,出厂回访,2026-11-04 09:00,10\n"
        "C2,WO2,LSVAU2A37N2800002,72小时回访,2026-11-04 09:10,9\n"
        "C3,WO3,LSVAU2A37N2800003,返修回访,2026-11-04 09:20,9\n"
        "C4,WO4,LSVAU2A37N2800004,电话回访,2026-11-04 09:30,9\n"
        "C5,,LSVAU2A37N2800005,电话回访,2026-11-04 09:40,9\n"
        "C6,WO6,LSVAU2A37N2800006,其他,2026-11-04 09:50,9\n"
    )
    imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert _rows(con, "SELECT callback_id, callback_type FROM callbacks ORDER BY 1") == [
        ("C1", "3DC"),
        ("C2", "3DC"),
        ("C3", "3DC"),
        ("C4", "other"),  # 电话回访 says how, not after what (as 投诉回访 and 流失客户回访 stay other)
        ("C5", "other"),
        ("C6", "other"),
    ]


def test_service_type_words_of_other_dms_free_jobs_walk_ins_and_text_marks_are_read(con):
    text = (
        "工单号,进厂日期,车架号,维修类型,实收金额,是否预约,进厂里程\n"
        "WO1,2026-11-01,LSVAU2A37N2800001,二保,免费,自然进店,'8000公里\n"
        "WO2,2026-11-01,LSVAU2A37N2800002,保险理赔,\"'¥1,234.50\",预约到店,' 9000\n"
        "WO3,2026-11-01,LSVAU2A37N2800003,快修,'-88.00,预约进店,100\n"
        "WO4,2026-11-01,LSVAU2A37N2800004,返修,赠送,是,100\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (4, 0)
    assert _rows(
        con,
        "SELECT order_id, service_type, amount, is_appointment, mileage_km FROM service_orders ORDER BY 1",
    ) == [
        ("WO1", "maintenance", 0.0, False, 8000),
        ("WO2", "body_paint", 1234.5, True, 9000),
        ("WO3", "repair", -88.0, True, 100),
        ("WO4", "repair", 0.0, True, 100),
    ]


def test_call_log_result_words_are_read(con):
    text = "回访编号,工单号,回访日期,回访结果\n" + "".join(
        f"C{i},WO{i},2026-11-04 09:0{i},{word}\n"
        for i, word in enumerate(["未接", "忙音", "无人应答", "无效号码", "已完成", "非本人"])
    )
    imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert [r[0] for r in _rows(con, "SELECT reached FROM callbacks ORDER BY callback_id")] == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]


def test_an_empty_column_gives_way_to_a_filled_one_naming_the_same_field(con):
    text = (
        "工单号,进厂日期,开单时间,车架号,应收金额,费用合计\n"
        "WO1,,2026-11-01 09:00,LSVAU2A37N2800001,,300\n"
        "WO2,,2026-11-02 10:00,LSVAU2A37N2800002,,400\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (2, 0)
    assert [
        (str(d), a) for d, a in _rows(con, "SELECT visit_date, amount FROM service_orders ORDER BY 1")
    ] == [
        ("2026-11-01", 300.0),
        ("2026-11-02", 400.0),
    ]


def test_a_work_orders_hand_back_date_is_not_the_purchase_date(con):
    text = "工单号,进厂日期,交车日期,车架号,结算金额\nWO1,2026-11-01,2026-11-02,LSVAU2A37N2800001,100\n"
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert "交车日期" in result.unmapped
    assert _rows(con, "SELECT purchase_date FROM service_orders") == [(None,)]
