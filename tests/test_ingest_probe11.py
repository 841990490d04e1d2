"""The import defects the earlier probes found and left (README, "found and not changed"): scores
written as words, fractions and stars; dates with English month names or a time zone; an English
header row under the Chinese one; an unreadable optional value that rejected its whole row. Each
test builds the file the way a DMS or CRM writes it and failed before its fix."""

from __future__ import annotations

import io

import duckdb
import openpyxl
import pandas as pd
import pytest

from analytics.ingest import import_file, rejected_rows, rollback, values
from analytics.ingest.stage import HEADER_ROW
from analytics.store import db
from tests.db_state import imported_twice


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe11.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _scores(*cells: str | None, scale: str | None = None) -> tuple[list[float | None], list[bool], str]:
    parsed, bad, used = values.parse_scores(pd.Series(list(cells), dtype="str"), scale)
    return [None if pd.isna(v) else float(v) for v in parsed.tolist()], bad.tolist(), used


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# 1. Scores written as words, fractions and stars.


@pytest.mark.parametrize(
    ("cell", "score"),
    [
        ("5/5", 10.0),
        ("4/5", 8.0),
        ("1/5", 2.0),
        ("4.5/5", 9.0),
        ("9/10", 9.0),
        ("10/10", 10.0),
        ("0/10", 0.0),
        ("8分/10分", 8.0),
        ("8/10分", 8.0),
        ("4分/5分", 8.0),
        ("9 / 10", 9.0),
        ("９／１０", 9.0),
        ("85/100", 8.5),
        ("2/4", 5.0),
    ],
)
def test_a_fraction_reads_on_its_denominators_scale_whatever_the_columns(cell, score):
    # In a 1-5 column, a 0-10 column and a 0-100 column alike (detected or given by --map scales):
    # the fraction says its own scale.
    for others, scale in ((["3", "4"], "1-5"), (["7", "9"], "0-10"), (["70", "95"], "0-100")):
        for given in (None, scale):
            parsed, bad, _ = _scores(*others, cell, scale=given)
            assert parsed[-1] == pytest.approx(score)
            assert not any(bad)


@pytest.mark.parametrize("cell", ["6/5", "11/10", "0/5", "3/0", "1/2/3"])
def test_a_fraction_off_its_own_scale_is_unreadable(cell):
    parsed, bad, _ = _scores("3", "4", cell)
    assert parsed[-1] is None and bad[-1]


@pytest.mark.parametrize(
    ("cell", "score"),
    [
        ("五星", 10.0),
        ("四星", 8.0),
        ("三星", 6.0),
        ("两星", 4.0),
        ("二星", 4.0),
        ("一星", 2.0),
        ("五颗星", 10.0),
        ("5星", 10.0),
        ("4颗星", 8.0),
        ("3 stars", 6.0),
        ("★★★★★", 10.0),
        ("★★★☆☆", 6.0),
    ],
)
def test_stars_count_on_a_one_to_five_scale_in_any_column(cell, score):
    # A 0-10 column with a star answer among its numbers: five stars are the top, not 5 of 10.
    parsed, bad, used = _scores("9", "10", "7", cell)
    assert used == "0-10"
    assert parsed[-1] == score
    assert not any(bad)
    alone, _, used_alone = _scores(cell, "★★")
    assert used_alone == "1-5"
    assert alone[0] == score


@pytest.mark.parametrize(
    ("others", "scale"), [(["3", "4"], "1-5"), (["7", "9"], "0-10"), (["60", "95"], "0-100")]
)
def test_full_marks_is_the_top_of_the_columns_scale(others, scale):
    parsed, bad, used = _scores(*others, "满分")
    assert used == scale
    assert parsed[-1] == 10.0
    assert not any(bad)


def test_good_neutral_and_bad_reviews_are_labels_like_satisfied_neutral_unsatisfied():
    parsed, bad, used = _scores("好评", "中评", "差评")
    assert used == "labels"
    assert parsed == [values.LABEL_SCORES["满意"], values.LABEL_SCORES["一般"], values.LABEL_SCORES["不满意"]]
    assert not any(bad)
    mixed, _, used_mixed = _scores("好评", "差评", "5", "3")
    assert (mixed, used_mixed) == ([8.0, 4.0, 10.0, 6.0], "1-5")


@pytest.mark.parametrize(
    ("column", "scale", "scores"),
    [
        # Words that say their own value do not move the scale the numbers give.
        (["满分", "好评", "五星", "4", "5", "3"], "1-5", [10.0, 8.0, 10.0, 8.0, 10.0, 6.0]),
        (["满分", "9", "10", "7"], "0-10", [10.0, 9.0, 10.0, 7.0]),
        # Numbers that fit both scales read on the scale the column's fractions name.
        (["9/10", "8/10", "5", "4"], "0-10", [9.0, 8.0, 5.0, 4.0]),
        (["4/5", "3/5", "5", "4"], "1-5", [8.0, 6.0, 10.0, 8.0]),
        (["87/100", "60", "9"], "0-100", [8.7, 6.0, 0.9]),
        # Numbers the fractions' scale cannot hold decide as before.
        (["4/5", "9", "7"], "0-10", [8.0, 9.0, 7.0]),
        (["★★★★★", "9", "8"], "0-10", [10.0, 9.0, 8.0]),
        (["★★★★☆", "3"], "1-5", [8.0, 6.0]),
        # Only fractions: the scale they share.
        (["9/10", "7/10"], "0-10", [9.0, 7.0]),
    ],
)
def test_a_column_mixing_such_words_with_numbers_keeps_the_scale_of_its_numbers(column, scale, scores):
    parsed, bad, used = _scores(*column)
    assert used == scale
    assert parsed == pytest.approx(scores)
    assert not any(bad)


def test_a_callback_file_with_words_stars_and_fractions_lands_every_score_without_a_note(con):
    text = (
        "回访编号,工单号,回访日期,是否接通,满意度,推荐意愿\n"
        "CB1,WO1,2026-08-03 10:00,接通,满分,9/10\n"
        "CB2,WO2,2026-08-03 11:00,接通,五星,10\n"
        "CB3,WO3,2026-08-03 12:00,接通,4/5,8\n"
        "CB4,WO4,2026-08-03 13:00,接通,好评,满分\n"
        "CB5,WO5,2026-08-03 14:00,接通,差评,3\n"
        "CB6,WO6,2026-08-03 15:00,接通,3,5\n"
        "CB7,WO7,2026-08-03 16:00,接通,中评,7\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert (result.inserted, result.rejected, result.blanked) == (7, 0, 0)
    assert result.mapping["scales"] == {"overall_score": "1-5", "recommend_score": "0-10"}
    assert _rows(con, "SELECT callback_id, overall_score, recommend_score FROM callbacks ORDER BY 1") == [
        ("CB1", 10, 9),
        ("CB2", 10, 10),
        ("CB3", 8, 8),
        ("CB4", 8, 10),
        ("CB5", 4, 3),
        ("CB6", 6, 5),
        ("CB7", 6, 7),
    ]


# 2. Dates with English month names, and times with a zone.


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("05-Mar-2024", "2024-03-05 00:00"),
        ("5-Mar-2024", "2024-03-05 00:00"),
        ("05-MAR-2024", "2024-03-05 00:00"),
        ("05 Mar 2024", "2024-03-05 00:00"),
        ("5 March 2024", "2024-03-05 00:00"),
        ("5-March-2024", "2024-03-05 00:00"),
        ("Mar 5, 2024", "2024-03-05 00:00"),
        ("March 5 2024", "2024-03-05 00:00"),
        ("March 5th, 2024", "2024-03-05 00:00"),
        ("Sept 5, 2024", "2024-09-05 00:00"),
        ("Sep. 5, 2024", "2024-09-05 00:00"),
        ("05-Mar-2024 14:30", "2024-03-05 14:30"),
        ("05-Mar-2024 14:30:15", "2024-03-05 14:30"),
        ("Mar 5, 2024 2:30 PM", "2024-03-05 14:30"),
        ("Mar 5, 2024, 14:30", "2024-03-05 14:30"),
        ("5 March 2024 09:05", "2024-03-05 09:05"),
    ],
)
def test_a_date_with_an_english_month_name_lands(con, cell, moment):
    text = f'回访编号,工单号,回访日期,是否接通\nCB1,WO1,"{cell}",接通\n'
    result = imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT strftime(callback_date, '%Y-%m-%d %H:%M') FROM callbacks") == [(moment,)]


def test_a_visit_date_with_an_english_month_name_lands_in_a_work_order_file(con):
    text = (
        "工单号,进厂日期,车架号,购车日期\n"
        "WO1,05-Mar-2024,LSVAU2A37N2800001,12-Jan-2022\n"
        'WO2,"Mar 6, 2024",LSVAU2A37N2800002,"Dec 1, 2021"\n'
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(
        con, "SELECT order_id, visit_date::VARCHAR, purchase_date::VARCHAR FROM service_orders ORDER BY 1"
    ) == [
        ("WO1", "2024-03-05", "2022-01-12"),
        ("WO2", "2024-03-06", "2021-12-01"),
    ]


@pytest.mark.parametrize(
    "cell", ["5-Mar-24", "05-Mar-24", "Mar 5, 24", "31-Feb-2024", "5-Foo-2024", "Mar 2024"]
)
def test_a_two_digit_year_or_a_day_that_does_not_exist_is_still_an_unreadable_date(con, cell):
    text = f'工单号,进厂日期,车架号\nWO1,"{cell}",LSVAU2A37N2800001\nWO2,2024-03-06,LSVAU2A37N2800002\n'
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected) == (1, 1)
    assert rejected_rows(con, result.import_id)["reason"].tolist() == ["unreadable date"]


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("2024-03-05T14:30:00+08:00", "2024-03-05 14:30:00"),
        ("2024-03-05T14:30:00+0800", "2024-03-05 14:30:00"),
        ("2024-03-05 14:30:00 +08:00", "2024-03-05 14:30:00"),
        ("2024-03-05T06:30:00Z", "2024-03-05 14:30:00"),
        ("2024-03-05T06:30:00.000Z", "2024-03-05 14:30:00"),
        ("2024-03-05T06:30Z", "2024-03-05 14:30:00"),
        ("2024-03-05T01:30:00-05:00", "2024-03-05 14:30:00"),
        ("2024-03-05T20:00:00Z", "2024-03-06 04:00:00"),
        ("2024-03-05 06:30:00 UTC", "2024-03-05 14:30:00"),
        ("2024-03-05 14:30:00 UTC+8", "2024-03-05 14:30:00"),
        ("2024-03-05 14:30:00 GMT+08:00", "2024-03-05 14:30:00"),
    ],
)
def test_a_time_with_a_zone_is_read_as_china_standard_time(con, cell, moment):
    text = f"回访编号,工单号,回访日期,是否接通\nCB1,WO1,{cell},接通\n"
    result = imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert (result.inserted, result.rejected) == (1, 0)
    assert _rows(con, "SELECT strftime(callback_date, '%Y-%m-%d %H:%M:%S') FROM callbacks") == [(moment,)]


def test_a_visit_date_with_a_zone_is_the_day_in_china(con):
    text = "工单号,进厂日期,车架号\nWO1,2024-03-04T20:00:00Z,LSVAU2A37N2800001\n"
    imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert _rows(con, "SELECT visit_date::VARCHAR FROM service_orders") == [("2024-03-05",)]


@pytest.mark.parametrize(
    "cell",
    [
        "2024-03-05T14:30:00+25:00",
        "2024-03-05+08:00",
        "2024-03-05T14:30:00+08:61",
        # A booked time slot, not a zone: never a call at 06:00 the next day.
        "2024-03-05 10:00-12:00",
    ],
)
def test_a_zone_that_cannot_be_is_an_unreadable_date(con, cell):
    text = f"回访编号,工单号,回访日期\nCB1,WO1,{cell}\nCB2,WO2,2024-03-05 10:00\n"
    result = imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert (result.inserted, result.rejected) == (1, 1)


# 3. An English header row under the Chinese one.

TWO_LANGUAGE_ORDERS = [
    ["工单号", "进厂日期", "车架号", "结算金额", "服务顾问", "工位"],
    ["RO No.", "Visit Date", "VIN", "Amount", "Service Advisor", "Bay"],
    ["WO1", "2026-08-01", "LSVAU2A37N2800001", "300", "王伟", "A1"],
    ["WO2", "2026-08-02", "LSVAU2A37N2800002", "450", "李娜", "A2"],
]


def test_an_english_header_row_under_the_chinese_one_is_a_header_not_a_rejected_record(con):
    text = "\n".join(",".join(row) for row in TWO_LANGUAGE_ORDERS) + "\n"
    result = imported_twice(con, text.encode("utf-8"), "工单_双语表头.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (2, 2, 0)
    assert _rows(con, "SELECT order_id, amount, advisor FROM service_orders ORDER BY 1") == [
        ("WO1", 300, "王伟"),
        ("WO2", 450, "李娜"),
    ]


def test_an_english_header_row_in_a_workbook_is_a_header_and_the_sheet_counts_add_up(con):
    result = imported_twice(con, _workbook(TWO_LANGUAGE_ORDERS), "工单_双语表头.xlsx")
    assert (result.rows_read, result.inserted, result.rejected) == (2, 2, 0)
    assert [(s["rows"], s["landed"], s["rejected"], s["skipped"]) for s in result.sheets] == [(2, 2, 0, 0)]


def test_an_english_header_row_in_a_callback_export_is_a_header(con):
    text = (
        "回访编号,工单号,回访日期,回访人,是否接通,满意度,客户意见\n"
        "Callback ID,RO No.,Call Date,Agent,Call Status,CSI Score,Comments\n"
        "CB1,WO1,2026-08-03 10:00,李娜,接通,5,很好\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "回访_双语表头.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (1, 1, 0)
    assert _rows(con, "SELECT callback_id, overall_score, comment FROM callbacks") == [("CB1", 10, "很好")]


def test_both_header_rows_repeated_inside_the_table_are_rejected_as_repeated_headers(con):
    rows = [
        *TWO_LANGUAGE_ORDERS,
        *TWO_LANGUAGE_ORDERS[:2],
        ["WO3", "2026-08-03", "LSVAU2A37N2800003", "500", "王伟", "A1"],
    ]
    text = "\n".join(",".join(row) for row in rows) + "\n"
    result = imported_twice(con, text.encode("utf-8"), "工单_分页.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (5, 3, 2)
    assert rejected_rows(con, result.import_id)["reason"].tolist() == [HEADER_ROW, HEADER_ROW]


def test_a_first_record_that_happens_to_hold_a_header_word_is_still_a_record(con):
    # "VIN" as a plate and "Amount" as an advisor's name name fields, but the other cells are values.
    text = "工单号,进厂日期,车架号,车牌号,服务顾问\nWO1,2026-08-01,LSVAU2A37N2800001,VIN,Amount\n"
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.rows_read, result.inserted) == (1, 1)


# 4. An unreadable value in an optional column keeps its row, the cell blank, with a note.


def test_an_sms_callback_answered_is_reached_and_one_without_an_answer_keeps_its_row_with_reached_blank(con):
    text = (
        "回访编号,工单号,回访日期,回访结果,满意度,客户意见\n"
        "CB1,WO1,2026-08-03 10:00,接通,5,很好\n"
        "CB2,WO2,2026-08-03 11:00,短信回访,4,短信回复：满意\n"
        "CB3,WO3,2026-08-03 12:00,短信回访,,\n"
        "CB4,WO4,2026-08-03 13:00,稍后再打,,客户在开车\n"
        "CB5,WO5,2026-08-03 14:00,微信回访,未评价,\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.blanked) == (5, 5, 0, 3)
    assert result.notes == ["reached value not readable (接通/未接通 expected), left blank"]
    assert _rows(con, "SELECT callback_id, reached, overall_score, comment FROM callbacks ORDER BY 1") == [
        ("CB1", True, 10, "很好"),
        ("CB2", True, 8, "短信回复：满意"),
        ("CB3", None, None, None),
        ("CB4", None, None, "客户在开车"),
        ("CB5", None, None, None),
    ]
    notes = rejected_rows(con, result.import_id)
    assert notes[["source_row", "column_name", "kept"]].values.tolist() == [
        [4, "回访结果", True],
        [5, "回访结果", True],
        [6, "回访结果", True],
    ]


def test_an_unreadable_complaint_flag_keeps_the_call(con):
    text = "回访编号,工单号,回访日期,是否投诉,客户意见\nCB1,WO1,2026-08-03 10:00,未知,等了很久\n"
    result = imported_twice(con, text.encode("utf-8"), "回访.csv")
    assert (result.inserted, result.rejected, result.blanked) == (1, 0, 1)
    assert result.notes == ["yes/no value not readable, left blank"]
    assert _rows(con, "SELECT is_complaint, comment FROM callbacks") == [(None, "等了很久")]


def test_unreadable_optional_values_of_a_work_order_keep_the_order_with_those_cells_blank(con):
    text = (
        "工单号,进厂日期,车架号,购车日期,进厂里程,结算金额,是否预约\n"
        "WO1,2026-08-01,LSVAU2A37N2800001,2023-02-30,12345,300,是\n"
        "WO2,2026-08-02,LSVAU2A37N2800002,2022-05-01,约一万,450,否\n"
        'WO3,2026-08-03,LSVAU2A37N2800003,2022-05-01,8000,"100,50",否\n'
        "WO4,2026-08-04,LSVAU2A37N2800004,2022-05-01,9000,200,未知\n"
        "WO5,2026-08-40,LSVAU2A37N2800005,2022-05-01,9000,200,是\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    # The visit date is required: an unreadable one still rejects its order.
    assert (result.rows_read, result.inserted, result.rejected, result.blanked) == (5, 4, 1, 4)
    assert result.notes == [
        "date not readable, left blank",
        "number not readable, left blank",
        "yes/no value not readable, left blank",
    ]
    assert _rows(
        con,
        "SELECT order_id, purchase_date::VARCHAR, mileage_km, amount, is_appointment FROM service_orders ORDER BY 1",
    ) == [
        ("WO1", None, 12345, 300, True),
        ("WO2", "2022-05-01", None, 450, False),
        ("WO3", "2022-05-01", 8000, None, False),
        ("WO4", "2022-05-01", 9000, 200, None),
    ]
    log = rejected_rows(con, result.import_id)
    assert log[["source_row", "column_name", "reason", "kept"]].values.tolist() == [
        [6, "进厂日期", "unreadable date", False],
        [2, "购车日期", "date not readable, left blank", True],
        [3, "进厂里程", "number not readable, left blank", True],
        [4, "结算金额", "number not readable, left blank", True],
        [5, "是否预约", "yes/no value not readable, left blank", True],
    ]


def test_a_work_order_keeps_its_keys_exactly_and_callback_ids_are_unchanged(con):
    # Unchanged on purpose: leading zeros make another work order; a generated id is the same.
    text = "工单号,进厂日期,车架号\n0026110001,2026-08-01,LSVAU2A37N2800001\n26110001,2026-08-01,LSVAU2A37N2800001\n"
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert result.inserted == 2
    calls = "工单号,回访日期,回访人,是否接通\n0026110001,2026-08-03 10:00,李娜,短信回访\n"
    first = import_file(con, calls.encode("utf-8"), file_name="回访.csv")
    ids = _rows(con, "SELECT callback_id FROM callbacks")
    assert first.inserted == 1 and ids[0][0].startswith("CB-")
    again = import_file(con, calls.encode("utf-8"), file_name="回访.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    assert _rows(con, "SELECT callback_id FROM callbacks") == ids


def test_an_amount_or_odometer_outside_its_plausible_range_keeps_the_order_with_the_cell_blank(con):
    text = (
        "工单号,进厂日期,车架号,进厂里程,结算金额\n"
        "WO1,2026-08-01,LSVAU2A37N2800001,-5,300\n"
        "WO2,2026-08-02,LSVAU2A37N2800002,12345,1e308\n"
        "WO3,2026-08-03,LSVAU2A37N2800003,12345,-350\n"
    )
    result = imported_twice(con, text.encode("utf-8"), "工单.csv")
    assert (result.inserted, result.rejected, result.blanked) == (3, 0, 2)
    assert _rows(con, "SELECT order_id, mileage_km, amount FROM service_orders ORDER BY 1") == [
        ("WO1", None, 300),
        ("WO2", 12345, None),
        ("WO3", 12345, -350),
    ]
    assert rejected_rows(con, result.import_id)[["source_row", "reason", "kept"]].values.tolist() == [
        [2, "number outside 0 to 9,999,999, left blank", True],
        [3, "number outside -100,000,000 to 100,000,000, left blank", True],
    ]


def _imported_again_unchanged(con: duckdb.DuckDBPyConnection, data: bytes, name: str):
    """Import a file that updates stored rows; check its counts and that a second import changes
    nothing; return the first result."""
    result = import_file(con, data, file_name=name)
    assert result.rows_read == result.inserted + result.updated + result.unchanged + result.rejected
    again = import_file(con, data, file_name=name)
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged == result.inserted + result.updated + result.unchanged
    return result


def test_a_cell_left_blank_keeps_the_value_stored_before_and_a_rollback_restores(con):
    # An unreadable value says nothing of the field: a later export must not erase what was stored.
    header = "工单号,进厂日期,车架号,结算金额,是否预约,进厂里程\n"
    imported_twice(con, (header + "WO1,2026-08-01,LSVAU2A37N2800001,300,是,12345\n").encode(), "工单_1.csv")
    same = header + 'WO1,2026-08-01,LSVAU2A37N2800001,"100,50",未知,12345\n'
    unchanged = _imported_again_unchanged(con, same.encode(), "工单_2.csv")
    assert (unchanged.updated, unchanged.unchanged, unchanged.blanked) == (0, 1, 1)
    later = header + 'WO1,2026-08-01,LSVAU2A37N2800001,"100,50",未知,12400\n'
    result = _imported_again_unchanged(con, later.encode(), "工单_3.csv")
    assert (result.updated, result.blanked) == (1, 1)
    assert _rows(con, "SELECT amount, is_appointment, mileage_km FROM service_orders") == [(300, True, 12400)]
    # The same file imported again holds the row as it stands: rolled back first, then the update.
    rollback(con, result.import_id + 1)
    rollback(con, result.import_id)
    assert _rows(con, "SELECT amount, is_appointment, mileage_km FROM service_orders") == [(300, True, 12345)]


def test_a_call_status_or_score_left_blank_keeps_what_was_stored_for_the_call(con):
    header = "回访编号,工单号,回访日期,回访结果,满意度,客户意见\n"
    first = header + "CB1,WO1,2026-08-03 10:00,接通,5,很好\n"
    imported_twice(con, first.encode(), "回访_1.csv")
    later = header + "CB1,WO1,2026-08-03 10:00,短信回访,非常好,很好，洗车也干净\n"
    result = _imported_again_unchanged(con, later.encode(), "回访_2.csv")
    assert (result.updated, result.blanked) == (1, 1)
    assert _rows(con, "SELECT reached, overall_score, comment FROM callbacks") == [
        (True, 10, "很好，洗车也干净")
    ]
