"""A ninth probe of real-style exports (session 21): a workbook whose later sheets add a column
naming the same field before the first sheet's (原工单号 before 工单号), and a two-row header whose
upper row groups columns of one name (工时 / 材料 / 合计 over 金额). Each test builds the file the
way a DMS writes it and failed before its fix (the wrong column's values landed)."""

from __future__ import annotations

import io

import duckdb
import openpyxl
import pytest

from analytics import cli
from analytics.core.errors import ImportRefused, UserError
from analytics.ingest import import_file, load_mapping, rollback
from analytics.store import db
from tests.db_state import imported_twice


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe9.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _workbook(sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cells in (merges or {}).get(title, []):
            sheet.merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_later_sheet_adding_an_earlier_column_of_the_same_field_reads_the_column_the_first_sheet_read(con):
    data = _workbook(
        {
            "6月": [
                ["工单号", "进厂日期", "车架号", "结算金额"],
                ["WO601", "2026-06-03", "LSVAU2A37N2800001", 300],
            ],
            "7月": [
                ["原工单号", "工单号", "进厂日期", "车架号", "结算金额"],
                ["", "WO701", "2026-07-04", "LSVAU2A37N2800002", 400],
                ["WO601", "WO702", "2026-07-05", "LSVAU2A37N2800001", 500],
            ],
        }
    )
    result = imported_twice(con, data, "工单_按月.xlsx")
    assert (result.inserted, result.rejected) == (3, 0)
    assert _rows(con, "SELECT order_id, vin, amount FROM service_orders ORDER BY 1") == [
        ("WO601", "LSVAU2A37N2800001", 300),
        ("WO701", "LSVAU2A37N2800002", 400),
        ("WO702", "LSVAU2A37N2800001", 500),
    ]


def test_a_later_sheet_in_another_column_order_lines_up_by_name_first(con):
    data = _workbook(
        {
            "上半年": [
                ["工单号", "进厂日期", "车架号", "结算金额", "金额"],
                ["WO1", "2026-03-03", "LSVAU2A37N2800001", 300, 280],
            ],
            "下半年": [
                ["金额", "工单号", "车架号", "进厂日期", "结算金额"],
                [380, "WO2", "LSVAU2A37N2800002", "2026-08-04", 400],
            ],
        }
    )
    result = imported_twice(con, data, "工单_半年.xlsx")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(con, "SELECT order_id, amount FROM service_orders ORDER BY 1") == [
        ("WO1", 300),
        ("WO2", 400),
    ]


def test_a_grouped_two_row_header_reads_the_total_not_the_first_group_of_the_same_name(con):
    data = _workbook(
        {
            "工单": [
                ["工单号", "进厂日期", "车架号", "工时", "材料", "合计"],
                [None, None, None, "金额", "金额", "金额"],
                ["WO1", "2026-08-01", "LSVAU2A37N2800001", 120, 380, 500],
                ["WO2", "2026-08-02", "LSVAU2A37N2800002", 200, 0, 200],
            ]
        },
        {"工单": ["A1:A2", "B1:B2", "C1:C2"]},
    )
    result = imported_twice(con, data, "工单_分组表头.xlsx")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(con, "SELECT order_id, amount FROM service_orders ORDER BY 1") == [
        ("WO1", 500),
        ("WO2", 200),
    ]


def test_a_grouped_header_without_a_total_group_leaves_the_amount_unmapped_rather_than_reading_a_part(con):
    data = _workbook(
        {
            "工单": [
                ["工单号", "进厂日期", "车架号", "工时费用", None, "材料费用", None],
                [None, None, None, "金额", "折扣", "金额", "折扣"],
                ["WO1", "2026-08-01", "LSVAU2A37N2800001", 120, 0, 380, 20],
            ]
        },
        {"工单": ["A1:A2", "B1:B2", "C1:C2", "D1:E1", "F1:G1"]},
    )
    result = imported_twice(con, data, "工单_分组表头2.xlsx")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT order_id, amount FROM service_orders") == [("WO1", None)]


@pytest.mark.parametrize("header", ["合计金额", "金额合计", "总计金额", "结算总额", "工单总额"])
def test_a_total_amount_header_is_the_amount(con, header):
    text = f"工单号,进厂日期,车架号,{header}\nWO1,2026-08-01,LSVAU2A37N2800001,500\n"
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT amount FROM service_orders") == [(500,)]


def test_a_sheet_without_the_amount_column_keeps_the_amounts_stored_for_its_orders(con):
    first = "工单号,进厂日期,车架号,结算金额\nM201,2024-02-03,LSVAU2A37N2800001,555\nM202,2024-02-04,LSVAU2A37N2800002,666\n"
    imported_twice(con, first.encode("utf-8"), "二月.csv")
    data = _workbook(
        {
            "2024年1月": [
                ["工单号", "进厂日期", "车架号", "结算金额"],
                ["M101", "2024-01-05", "LSVAU2A37N2800003", 300],
            ],
            "2024年2月": [
                ["工单号", "进厂日期", "车架号", "进厂里程"],
                ["M201", "2024-02-03", "LSVAU2A37N2800001", 12000],
                ["M202", "2024-02-04", "LSVAU2A37N2800002", 15000],
            ],
        }
    )
    result = import_file(con, data, file_name="工单_按月.xlsx")
    assert (result.inserted, result.updated, result.rejected) == (1, 2, 0)
    again = import_file(con, data, file_name="工单_按月.xlsx")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert _rows(con, "SELECT order_id, amount, mileage_km FROM service_orders ORDER BY 1") == [
        ("M101", 300, None),
        ("M201", 555, 12000),
        ("M202", 666, 15000),
    ]


def test_a_callback_sheet_without_the_score_column_keeps_the_stored_scores(con):
    first = "回访编号,工单号,回访日期,是否接通,满意度\nCB1,WO1,2026-08-03 10:00,是,9\n"
    imported_twice(con, first.encode("utf-8"), "回访.csv")
    data = _workbook(
        {
            "评分": [
                ["回访编号", "工单号", "回访日期", "是否接通", "满意度"],
                ["CB2", "WO2", "2026-08-04 10:00", "是", 8],
            ],
            "备注": [
                ["回访编号", "工单号", "回访日期", "是否接通", "客户意见"],
                ["CB1", "WO1", "2026-08-03 10:00", "是", "很好"],
            ],
        }
    )
    result = import_file(con, data, file_name="回访_两表.xlsx")
    assert (result.inserted, result.updated, result.rejected) == (1, 1, 0)
    assert _rows(con, "SELECT callback_id, overall_score, comment FROM callbacks ORDER BY 1") == [
        ("CB1", 9, "很好"),
        ("CB2", 8, None),
    ]


def test_a_work_order_number_written_as_a_float_is_the_same_order_and_its_callbacks_link(con):
    orders = "工单号,进厂日期,车架号,结算金额\n2403001.0,2024-03-01,LSVAU2A37N2800001,300\n"
    imported_twice(con, orders.encode("utf-8"), "工单_程序导出.csv")
    data = _workbook(
        {
            "工单": [
                ["工单号", "进厂日期", "车架号", "结算金额"],
                [2403001, "2024-03-01", "LSVAU2A37N2800001", 300],
            ]
        }
    )
    again = import_file(con, data, file_name="工单.xlsx")
    assert (again.inserted, again.unchanged) == (0, 1)
    calls = "回访编号,工单号,回访日期,是否接通,满意度\nCB1,2403001.00,2024-03-04 10:00,是,9\n"
    imported_twice(con, calls.encode("utf-8"), "回访.csv")
    assert _rows(con, "SELECT order_id FROM service_orders") == [("2403001",)]
    assert _rows(con, "SELECT order_id FROM callbacks") == [("2403001",)]


@pytest.mark.parametrize(
    "name", ["D+3回访", "72H回访", "服务满意度回访", "T+1", "D3回访", "24h回访", "48H回访"]
)
def test_a_call_named_by_its_day_or_hours_after_the_visit_is_3dc(con, name):
    text = f"回访编号,工单号,回访类型,回访日期,是否接通,满意度\nCB1,WO1,{name},2026-08-03 10:00,是,9\n"
    imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert _rows(con, "SELECT callback_type FROM callbacks") == [("3DC",)]


@pytest.mark.parametrize(("name", "kind"), [("D+7", "7DC"), ("保养D+3提醒", "other"), ("D+30回访", "other")])
def test_a_seventh_day_call_is_7dc_and_a_reminder_stays_another_call(con, name, kind):
    text = f"回访编号,工单号,回访类型,回访日期,是否接通,满意度\nCB1,WO1,{name},2026-08-03 10:00,是,9\n"
    imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert _rows(con, "SELECT callback_type FROM callbacks") == [(kind,)]


def test_a_satisfaction_column_of_labels_under_an_unknown_header_is_the_score_not_reached(con):
    text = (
        "回访编号,工单号,回访日期,客户总体感受\n"
        "CB1,WO1,2026-08-03 10:00,非常满意\nCB2,WO2,2026-08-03 11:00,不满意\n"
        "CB3,WO3,2026-08-03 12:00,满意\nCB4,WO4,2026-08-03 13:00,一般\n"
    )
    result = import_file(con, text.encode("utf-8"), file_name="回访.csv")
    assert result.guessed == {"overall_score": "客户总体感受"}
    assert _rows(con, "SELECT callback_id, overall_score FROM callbacks ORDER BY 1") == [
        ("CB1", 10),
        ("CB2", 4),
        ("CB3", 8),
        ("CB4", 6),
    ]


def test_common_chinese_headers_of_other_vendors_are_recognised(con):
    text = "RO号,来店日期,车辆VIN,实收总额,服务专员\nWO1,2026-08-01,LSVAU2A37N2800001,300,王伟\n"
    imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert _rows(con, "SELECT order_id, visit_date::VARCHAR, vin, amount, advisor FROM service_orders") == [
        ("WO1", "2026-08-01", "LSVAU2A37N2800001", 300, "王伟")
    ]
    calls = "回访编号,工单号,回访日期,回访满意度,有无投诉\nCB1,WO1,2026-08-03 10:00,非常满意,无投诉\n"
    imported_twice(con, calls.encode("utf-8"), "回访.csv")
    assert _rows(con, "SELECT overall_score, is_complaint FROM callbacks") == [(10, False)]


def test_an_english_dms_export_lands_with_every_column(con):
    orders = (
        "RO No.,VIN,Plate No.,Mobile,Visit Date,Mileage,Service Type,Total Amount,Service Advisor\n"
        "RO1,LSVAU2A37N2800001,浙A12345,13900000001,2026-08-01,12345,Maintenance,300,Wang Wei\n"
    )
    imported_twice(con, orders.encode("utf-8"), "ro_export.csv")
    assert _rows(
        con, "SELECT order_id, plate, mileage_km, service_type, amount, advisor FROM service_orders"
    ) == [("RO1", "浙A12345", 12345, "maintenance", 300, "Wang Wei")]
    calls = (
        "Callback ID,RO No.,Callback Type,Call Date,Agent,Call Status,CSI Score,Comments\n"
        "CB1,RO1,3DC,2026-08-03 10:00,Li Na,Connected,9,good service\n"
        "CB2,RO1,3DC,2026-08-03 09:00,Li Na,No Answer,,\n"
    )
    imported_twice(con, calls.encode("utf-8"), "survey_export.csv")
    assert _rows(
        con, "SELECT callback_id, order_id, reached, overall_score, comment FROM callbacks ORDER BY 1"
    ) == [
        ("CB1", "RO1", True, 9, "good service"),
        ("CB2", "RO1", False, None, None),
    ]


def test_a_header_written_in_two_languages_in_one_cell_is_recognised(con):
    text = '"工单号\nRO No.","进厂日期\nVisit Date","车架号\nVIN","结算金额\nAmount"\nWO1,2026-08-01,LSVAU2A37N2800001,300\n'
    imported_twice(con, text.encode("utf-8"), "工单_双语.csv")
    assert _rows(con, "SELECT order_id, amount FROM service_orders") == [("WO1", 300)]


def test_two_attempts_on_one_day_keep_their_ids_in_another_order_or_an_export_of_the_answered_ones(con):
    header = "工单号,车架号,回访日期,是否接通,满意度\n"
    unanswered = "T001,LSVAU2A37N2800001,2026-08-03,未接通,\n"
    answered = "T001,LSVAU2A37N2800001,2026-08-03,接通,5\n"
    first = import_file(con, (header + unanswered + answered).encode("utf-8"), file_name="回访_全部.csv")
    assert first.inserted == 2
    again = import_file(con, (header + answered + unanswered).encode("utf-8"), file_name="回访_排序.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    subset = import_file(con, (header + answered).encode("utf-8"), file_name="回访_已接通.csv")
    assert (subset.inserted, subset.updated, subset.unchanged) == (0, 0, 1)
    assert _rows(con, "SELECT reached, overall_score FROM callbacks ORDER BY reached") == [
        (False, None),
        (True, 10),
    ]


@pytest.mark.parametrize(
    ("cell", "amount"), [("50.00-", -50), ("−50", -50), ("¥−8.50", -8.5), ("1,234.50-", -1234.5)]
)
def test_a_negative_amount_with_the_sign_after_it_or_a_typeset_minus_lands(con, cell, amount):
    text = f'工单号,进厂日期,车架号,结算金额\nWO1,2026-08-01,LSVAU2A37N2800001,"{cell}"\n'
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT amount FROM service_orders") == [(amount,)]


QUARTER = "工单号,进厂日期,车架号,结算金额\n" + "".join(
    f"Q{m}{d:02d},2024-0{m}-{d:02d},LSVAU2A37N28{m}{d:04d},{100 * m + d}\n" for m in (1, 2, 3) for d in (5, 6)
)
JANUARY = "".join(QUARTER.splitlines(keepends=True)[:3])


def test_rolling_back_a_month_keeps_the_rows_a_later_quarters_file_still_holds(con):
    january = import_file(con, JANUARY.encode("utf-8"), file_name="工单_202401.csv")
    quarter = import_file(con, QUARTER.encode("utf-8"), file_name="工单_2024Q1.csv")
    assert (quarter.inserted, quarter.unchanged) == (4, 2)
    counts = rollback(con, january.import_id)
    assert (counts["deleted"], counts["kept"]) == (0, 2)
    assert _rows(con, "SELECT count(*), count(DISTINCT import_id) FROM service_orders") == [(6, 1)]
    assert _rows(con, "SELECT count(*) FROM vehicles") == [(6,)]
    # The quarter's file now counts as having written January's rows: its rollback removes them.
    rollback(con, quarter.import_id)
    assert _rows(con, "SELECT count(*) FROM service_orders") == [(0,)]


def test_the_same_file_dropped_twice_and_the_first_rolled_back_keeps_every_row(con):
    first = import_file(con, JANUARY.encode("utf-8"), file_name="工单_202401.csv")
    again = import_file(con, JANUARY.encode("utf-8"), file_name="工单_202401 (1).csv")
    assert again.unchanged == 2
    rollback(con, first.import_id)
    assert _rows(con, "SELECT order_id FROM service_orders ORDER BY 1") == [("Q105",), ("Q106",)]


def test_a_row_a_later_file_corrected_and_another_held_goes_back_as_the_holder_wrote_it(con):
    first = import_file(con, JANUARY.encode("utf-8"), file_name="一月.csv")
    corrected = JANUARY.replace(",105\n", ",999\n")
    fix = import_file(con, corrected.encode("utf-8"), file_name="一月_更正.csv")
    assert fix.updated == 1
    import_file(con, corrected.encode("utf-8"), file_name="一月_更正_再导.csv")
    # The correction is held by the third import: rolling it back keeps the corrected amount, and
    # the first import stays blocked behind the one that replaced its row.
    rollback(con, fix.import_id)
    assert _rows(con, "SELECT order_id, amount FROM service_orders ORDER BY 1") == [
        ("Q105", 999),
        ("Q106", 106),
    ]
    with pytest.raises(UserError, match="roll back import"):
        rollback(con, first.import_id)


def test_a_saved_mapping_does_not_pin_the_scale_detected_from_one_months_values(tmp_path):
    first, second = tmp_path / "c1.csv", tmp_path / "c2.csv"
    first.write_text(
        "回访编号,工单号,回访日期,满意度\nC1,W1,2026-03-04 10:00,5\nC2,W2,2026-03-05 10:00,3\n", "utf-8"
    )
    second.write_text(
        "回访编号,工单号,回访日期,满意度\nC3,W3,2026-04-04 10:00,10\nC4,W4,2026-04-05 10:00,7\n", "utf-8"
    )
    saved, path = tmp_path / "saved.json", tmp_path / "sc.duckdb"
    assert cli.main(["import", str(first), "--save-map", str(saved), "--db", str(path), "--no-marts"]) == 0
    assert load_mapping(saved)["scales"] == {}
    assert cli.main(["import", str(second), "--map", str(saved), "--db", str(path), "--no-marts"]) == 0
    con = db.connect(path, read_only=True)
    try:
        assert _rows(con, "SELECT callback_id, overall_score FROM callbacks ORDER BY 1") == [
            ("C1", 10),
            ("C2", 6),
            ("C3", 10),
            ("C4", 7),
        ]
    finally:
        con.close()


def test_a_utf8_file_cut_in_the_middle_of_a_character_is_called_cut_short_not_a_wrong_encoding(con):
    whole = ("工单号,进厂日期,车架号,客户意见\n" + "WO1,2026-08-01,LSVAU2A37N2800001,服务很好\n" * 3).encode(
        "utf-8"
    )
    cut = whole[: len(whole) - 5]  # inside 好
    with pytest.raises(ImportRefused, match="cut short") as refused:
        import_file(con, cut, file_name="工单_复制中.csv")
    assert "encoding" not in str(refused.value)
    assert _rows(con, "SELECT count(*) FROM imports") == [(0,)]
