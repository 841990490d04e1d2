"""The thirteenth import probe: a store's year of DMS exports arriving in any order and subset (the
same rows as .xlsx and as GBK CSV, a month re-exported with corrections, callbacks before their
work orders, a file of only some columns), and the gaps earlier probes left: a European decimal
comma, a workbook with one sheet per store and no store column, a 1-5 score column writing 0 for
"not rated". Tests of defects failed before their fix; the others hold what was found to work."""

from __future__ import annotations

import csv
import io
import itertools
import time

import duckdb
import openpyxl
import pandas as pd
import pytest

from analytics.core.errors import ImportRefused
from analytics.ingest import import_file, values
from analytics.store import db


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe13.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _csv(header: list[str], rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(sheets: dict[str, tuple[list[str], list[list[object]]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# 1. A store's year of files in any order and subset.

ORDER_HEADER = [
    "工单号",
    "门店",
    "车架号",
    "车牌号",
    "客户姓名",
    "联系电话",
    "车型",
    "进厂日期",
    "行驶里程",
    "维修类型",
    "结算金额",
    "服务顾问",
    "是否预约",
]
JANUARY = [
    [
        "WO2401001",
        "西湖店",
        "LSVAU2A37N2000001",
        "浙A12345",
        "张三",
        "13800138000",
        "朗逸",
        "2024-01-05",
        "12000",
        "定保",
        "450.00",
        "王五",
        "是",
    ],
    [
        "WO2401002",
        "西湖店",
        "LSVAU2A37N2000002",
        "浙A22345",
        "李四",
        "13800138001",
        "帕萨特",
        "2024-01-09",
        "30000",
        "一般维修",
        "1,234.50",
        "王五",
        "否",
    ],
]
# January exported again after the accountant corrected WO2401002's amount and advisor.
JANUARY_CORRECTED = [JANUARY[0], [*JANUARY[1][:10], "1,300.00", "赵六", "否"]]
FEBRUARY = [
    [
        "WO2402001",
        "西湖店",
        "LSVAU2A37N2000001",
        "浙A12345",
        "张三",
        "13800138000",
        "朗逸",
        "2024-02-05",
        "13000",
        "一般维修",
        "88.00",
        "赵六",
        "否",
    ],
]
CALLBACK_HEADER = ["回访编号", "工单号", "车架号", "回访日期", "回访人", "是否接通", "总体满意度", "客户意见"]
CALLBACKS = [
    ["HF001", "WO2401001", "LSVAU2A37N2000001", "2024-01-07", "小陈", "接通", "5", "保养很快"],
    ["HF002", "WO2401002", "LSVAU2A37N2000002", "2024-01-11", "小陈", "接通", "3", "价格偏贵"],
    ["HF003", "WO2402001", "LSVAU2A37N2000001", "2024-02-07", "小陈", "未接通", "", ""],
]
FILES = {
    "1月工单.csv": (_csv(ORDER_HEADER, JANUARY, "gbk"), "service"),
    "1月工单.xlsx": (_xlsx({"1月": (ORDER_HEADER, JANUARY)}), "service"),
    "1月工单(更正).csv": (_csv(ORDER_HEADER, JANUARY_CORRECTED, "gbk"), "service"),
    "2月工单.csv": (_csv(ORDER_HEADER, FEBRUARY), "service"),
    "回访.csv": (_csv(CALLBACK_HEADER, CALLBACKS, "gbk"), "callback"),
}
# By hand: the corrected January, February, three calls each tied to its order and vehicle.
EXPECTED_ORDERS = [
    (
        "WO2401001",
        "西湖店",
        "LSVAU2A37N2000001",
        "浙A12345",
        "2024-01-05",
        12000,
        "maintenance",
        "450.00",
        "王五",
        True,
    ),
    (
        "WO2401002",
        "西湖店",
        "LSVAU2A37N2000002",
        "浙A22345",
        "2024-01-09",
        30000,
        "repair",
        "1300.00",
        "赵六",
        False,
    ),
    (
        "WO2402001",
        "西湖店",
        "LSVAU2A37N2000001",
        "浙A12345",
        "2024-02-05",
        13000,
        "repair",
        "88.00",
        "赵六",
        False,
    ),
]
EXPECTED_CALLBACKS = [
    ("HF001", "WO2401001", "LSVAU2A37N2000001", "3DC", True, 10.0, "保养很快"),
    ("HF002", "WO2401002", "LSVAU2A37N2000002", "3DC", True, 6.0, "价格偏贵"),
    ("HF003", "WO2402001", "LSVAU2A37N2000001", "3DC", False, None, None),
]


def _orders(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return _rows(
        con,
        "SELECT order_id, store, vin, plate, strftime(visit_date, '%Y-%m-%d'), mileage_km, service_type, "
        "CAST(amount AS VARCHAR), advisor, is_appointment FROM service_orders ORDER BY 1",
    )


def _callbacks(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return _rows(
        con,
        "SELECT callback_id, order_id, vin, callback_type, reached, overall_score, comment FROM callbacks ORDER BY 1",
    )


# The correction comes after both of January's first exports; everything else in any order.
ORDERS_OF_FILES = [
    order
    for order in itertools.permutations(FILES)
    if order.index("1月工单(更正).csv") > max(order.index("1月工单.csv"), order.index("1月工单.xlsx"))
][::5]


@pytest.mark.parametrize("order", ORDERS_OF_FILES, ids=lambda order: "→".join(order))
def test_a_years_files_in_any_order_end_in_the_same_tables_and_counts_add_up(tmp_path, order):
    connection = db.connect(tmp_path / "order.duckdb")
    try:
        for name in order:
            data, kind = FILES[name]
            result = import_file(connection, data, file_name=name, kind=kind)
            accounted = result.inserted + result.updated + result.unchanged + result.rejected
            assert result.rows_read == accounted + result.duplicates_in_file, name
            assert result.rejected == 0, name
        assert _orders(connection) == EXPECTED_ORDERS
        assert _callbacks(connection) == EXPECTED_CALLBACKS
        assert _rows(connection, "SELECT vin, visits FROM vehicles ORDER BY 1") == [
            ("LSVAU2A37N2000001", 2),
            ("LSVAU2A37N2000002", 1),
        ]
    finally:
        connection.close()


def test_the_same_rows_as_xlsx_after_gbk_csv_change_nothing(con):
    first = import_file(con, FILES["1月工单.csv"][0], file_name="1月工单.csv", kind="service")
    again = import_file(con, FILES["1月工单.xlsx"][0], file_name="1月工单.xlsx", kind="service")
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (2, 0, 0, 2)


def test_an_export_of_only_the_number_vin_and_amount_is_refused_in_both_languages(con):
    import_file(con, FILES["1月工单.csv"][0], file_name="1月工单.csv", kind="service")
    before = _orders(con)
    partial = _csv(["工单号", "车架号", "结算金额"], [["WO2401001", "LSVAU2A37N2000001", "460.00"]])
    with pytest.raises(ImportRefused) as refused:
        import_file(con, partial, file_name="金额.csv", kind="service")
    assert "visit-date" in str(refused.value)
    assert refused.value.zh and "进厂日期" in refused.value.zh
    assert _orders(con) == before


def test_a_file_of_some_columns_updates_those_and_keeps_every_other_stored_value(con):
    import_file(con, FILES["1月工单.csv"][0], file_name="1月工单.csv", kind="service")
    partial = _csv(["工单号", "进厂日期", "结算金额"], [["WO2401002", "2024-01-09", "1,300.00"]])
    result = import_file(con, partial, file_name="金额更正.csv", kind="service")
    assert (result.inserted, result.updated) == (0, 1)
    assert _orders(con)[1] == (
        "WO2401002", "西湖店", "LSVAU2A37N2000002", "浙A22345", "2024-01-09", 30000, "repair", "1300.00", "王五", False,
    )  # fmt: skip


# 2. A decimal comma, as a European-locale export writes amounts: 1.234,50 and 1 234,50.


@pytest.mark.parametrize(
    ("cells", "read"),
    [
        (["1.234,50", "88,00", "1.234"], [1234.5, 88.0, 1234.0]),
        (["1 234,50", "100,50", "12"], [1234.5, 100.5, 12.0]),
        (["1.234.567,89", "-5,5", "(1.234,50)"], [1234567.89, -5.5, -1234.5]),
        (["1.234,50元", "¥88,00", "0,5"], [1234.5, 88.0, 0.5]),
    ],
)
def test_a_column_of_decimal_commas_reads_its_commas_as_the_decimal_point(cells, read):
    parsed, bad = values.parse_numbers(
        pd.Series(cells, dtype="str"),
        decimal_comma=values.writes_decimal_comma(pd.Series(cells, dtype="str")),
    )
    assert parsed.tolist() == pytest.approx(read)
    assert not bad.any()


@pytest.mark.parametrize(
    "cells",
    [
        ["1,234.50", "100,50"],  # a Chinese column: its point is the decimal point
        ["12.50", "1.234,50"],
        ["1,234", "450"],  # nothing says a comma is a decimal one
        ["1,234", "100,50"],  # 1,234 groups thousands: one typed 100,50 does not turn it into 1.234
        ["1,234,567", "100,50"],
    ],
)
def test_a_column_whose_values_show_a_decimal_point_is_not_read_with_a_decimal_comma(cells):
    assert not values.writes_decimal_comma(pd.Series(cells, dtype="str"))


def test_a_european_export_lands_its_amounts_in_yuan(con):
    data = _csv(
        ["工单号", "车架号", "进厂日期", "结算金额"],
        [
            ["W1", "LSVAU2A37N2000001", "2024-01-05", "1.234,50"],
            ["W2", "LSVAU2A37N2000002", "2024-01-06", "1 234,50"],
            ["W3", "LSVAU2A37N2000003", "2024-01-06", "1.234"],
            ["W4", "LSVAU2A37N2000004", "2024-01-06", "100,50"],
            ["W5", "LSVAU2A37N2000005", "2024-01-06", "450"],
        ],
        delimiter=";",
    )
    result = import_file(con, data, file_name="eu.csv", kind="service")
    assert (result.inserted, result.rejected, result.blanked) == (5, 0, 0)
    assert _rows(con, "SELECT order_id, CAST(amount AS VARCHAR) FROM service_orders ORDER BY 1") == [
        ("W1", "1234.50"),
        ("W2", "1234.50"),
        ("W3", "1234.00"),  # it landed as 1.23: the dot groups thousands in this file
        ("W4", "100.50"),
        ("W5", "450.00"),
    ]


def test_a_chinese_export_with_one_decimal_comma_still_leaves_that_amount_blank(con):
    data = _csv(
        ["工单号", "车架号", "进厂日期", "结算金额"],
        [
            ["W1", "LSVAU2A37N2000001", "2024-01-05", "1,234.50"],
            ["W2", "LSVAU2A37N2000002", "2024-01-06", "100,50"],
        ],
    )
    result = import_file(con, data, file_name="cn.csv", kind="service")
    assert (result.inserted, result.blanked) == (2, 1)
    assert _rows(con, "SELECT order_id, CAST(amount AS VARCHAR) FROM service_orders ORDER BY 1") == [
        ("W1", "1234.50"),
        ("W2", None),
    ]


def test_in_a_comma_delimited_csv_only_grouped_thousands_say_decimal_comma():
    lone = pd.Series(["300", "100,50"], dtype="str")
    grouped = pd.Series(["300", "1.234,50"], dtype="str")
    assert values.writes_decimal_comma(lone) and not values.writes_decimal_comma(lone, comma_delimited=True)
    assert values.writes_decimal_comma(grouped, comma_delimited=True)


def test_a_comma_delimited_export_with_quoted_european_amounts_lands_them(con):
    data = _csv(
        ["工单号", "车架号", "进厂日期", "结算金额"],
        [
            ["W1", "LSVAU2A37N2000001", "2024-01-05", "1.234,50"],
            ["W2", "LSVAU2A37N2000002", "2024-01-06", "88,00"],
        ],
    )
    result = import_file(con, data, file_name="eu.csv", kind="service")
    assert (result.inserted, result.blanked) == (2, 0)
    assert _rows(con, "SELECT order_id, CAST(amount AS VARCHAR) FROM service_orders ORDER BY 1") == [
        ("W1", "1234.50"),
        ("W2", "88.00"),
    ]


def test_a_workbooks_european_amounts_and_odometer_land(con):
    header = ["工单号", "车架号", "进厂日期", "行驶里程", "结算金额"]
    book = _xlsx(
        {
            "工单": (
                header,
                [
                    ["W1", "LSVAU2A37N2000001", "2024-01-05", "12.345", "1\u00a0234,50"],
                    ["W2", "LSVAU2A37N2000002", "2024-01-06", "8.000,5", "450"],
                ],
            )
        }
    )
    result = import_file(con, book, file_name="eu.xlsx", kind="service")
    assert (result.inserted, result.blanked) == (2, 0)
    assert _rows(
        con, "SELECT order_id, mileage_km, CAST(amount AS VARCHAR) FROM service_orders ORDER BY 1"
    ) == [
        ("W1", 12345, "1234.50"),
        ("W2", 8000, "450.00"),
    ]


def test_deciding_a_decimal_comma_stays_fast_on_hostile_cells():
    hostile = pd.Series(["1" * 20000, " " * 20000 + ",5", "1." * 10000 + ",5", "1.234,5" * 3000], dtype="str")
    started = time.perf_counter()
    values.writes_decimal_comma(hostile)
    values.parse_numbers(hostile, decimal_comma=True)
    assert time.perf_counter() - started < 1.0


# 3. A workbook of one sheet per store, named for the store, without a store column.


def test_a_workbook_of_one_sheet_per_store_takes_each_sheets_name_as_its_store(con):
    header = ["工单号", "车架号", "进厂日期", "结算金额"]
    book = _xlsx(
        {
            "西湖店": (header, [["XH001", "LSVAU2A37N2000001", "2024-01-05", 100]]),
            "滨江店": (header, [["BJ001", "LSVAU2A37N2000002", "2024-01-06", 200]]),
        }
    )
    result = import_file(con, book, file_name="两店工单.xlsx", kind="service")
    assert (result.inserted, result.rejected) == (2, 0)
    assert _rows(con, "SELECT order_id, store FROM service_orders ORDER BY 1") == [
        ("BJ001", "滨江店"),
        ("XH001", "西湖店"),
    ]


def test_sheets_named_for_months_or_a_store_column_keep_their_stores(con):
    header = ["工单号", "车架号", "进厂日期"]
    months = _xlsx(
        {
            "1月": (header, [["A1", "LSVAU2A37N2000001", "2024-01-05"]]),
            "2月": (header, [["A2", "LSVAU2A37N2000002", "2024-02-05"]]),
        }
    )
    import_file(con, months, file_name="月度.xlsx", kind="service")
    named = _xlsx({"一店": (["门店", *header], [["西湖店", "B1", "LSVAU2A37N2000003", "2024-01-05"]])})
    import_file(con, named, file_name="门店列.xlsx", kind="service")
    assert _rows(con, "SELECT order_id, store FROM service_orders ORDER BY 1") == [
        ("A1", None),
        ("A2", None),
        ("B1", "西湖店"),
    ]


# 4. A 1-5 score column that writes 0 for "not rated".


def test_a_one_to_five_column_with_zero_for_not_rated_is_on_one_to_five(con):
    data = _csv(
        ["回访编号", "工单号", "回访日期", "是否接通", "服务态度", "维修质量", "总体满意度"],
        [
            ["C1", "W1", "2024-01-07", "接通", "5", "4", "5"],
            ["C2", "W2", "2024-01-07", "接通", "0", "3", "4"],
            ["C3", "W3", "2024-01-07", "接通", "4", "0", "0"],
        ],
    )
    result = import_file(con, data, file_name="回访.csv", kind="callback")
    assert (result.inserted, result.blanked) == (3, 0)
    assert _rows(
        con, "SELECT callback_id, attitude_score, quality_score, overall_score FROM callbacks ORDER BY 1"
    ) == [
        ("C1", 10.0, 8.0, 10.0),
        ("C2", None, 6.0, 8.0),
        ("C3", 8.0, None, None),
    ]


def test_a_zero_to_ten_column_keeps_its_zeros():
    parsed, bad, scale = values.parse_scores(pd.Series(["0", "7", "10", "9"], dtype="str"))
    assert (parsed.tolist(), bad.any(), scale) == ([0.0, 7.0, 10.0, 9.0], False, "0-10")


# 5. A second vendor's callback export: each question in its own column with its answer in words;
# work orders with ¥ and 元, VINs in lower case or with a space, full-width plates, Excel serials.


def test_a_second_vendors_question_columns_and_order_shapes_land(con):
    callbacks = _csv(
        [
            "回访编号",
            "工单号",
            "回访日期",
            "是否接通",
            "服务态度",
            "维修质量",
            "维修时效",
            "收费合理",
            "休息环境",
            "总体满意度",
        ],
        [
            ["C1", "W1", "2024-03-07", "接通", "非常满意", "满意", "一般", "不满意", "非常满意", "满意"],
            ["C2", "W2", "2024-03-08", "接通", "满意", "满意", "满意", "满意", "满意", "满意"],
        ],
        "gbk",
    )
    orders = _csv(
        ["工单号", "车架号", "车牌号", "进厂日期", "结算金额"],
        [
            ["W1", "lsvau2a37n2000001", "浙Ａ１２３４５", "45356", "¥1,234.50元"],
            ["W2", "LSVAU2A37N 2000002", "浙A 22345", "45357.5", "1234.50 元"],
        ],
        "gb18030",
    )
    import_file(con, callbacks, file_name="回访.csv", kind="callback")
    result = import_file(con, orders, file_name="工单.csv", kind="service")
    assert (result.inserted, result.rejected, result.blanked) == (2, 0, 0)
    assert _rows(
        con,
        "SELECT order_id, vin, plate, strftime(visit_date, '%Y-%m-%d'), CAST(amount AS VARCHAR) "
        "FROM service_orders ORDER BY 1",
    ) == [
        ("W1", "LSVAU2A37N2000001", "浙A12345", "2024-03-05", "1234.50"),
        ("W2", "LSVAU2A37N2000002", "浙A22345", "2024-03-06", "1234.50"),
    ]
    assert _rows(
        con,
        "SELECT callback_id, attitude_score, quality_score, timeliness_score, price_score, environment_score, "
        "overall_score FROM callbacks ORDER BY 1",
    ) == [("C1", 10.0, 8.0, 6.0, 4.0, 10.0, 8.0), ("C2", 8.0, 8.0, 8.0, 8.0, 8.0, 8.0)]


# 6. A questionnaire export: each question its own column, headed by the question itself.

QUESTIONS = [
    "回访单号",
    "工单号",
    "回访日期",
    "回访结果",
    "1.您对服务顾问的接待是否满意",
    "2.您对本次维修质量是否满意",
    "3.您对交车时间是否满意",
    "4.您对收费是否满意",
    "5.您对休息区环境是否满意",
    "6.您对本次服务的总体评价",
    "7.您是否愿意向亲友推荐本店(0-10分)",
]


def test_a_questionnaires_question_columns_land_in_their_dimensions(con):
    data = _csv(
        QUESTIONS,
        [
            ["C1", "W1", "2024-03-07", "接通", "非常满意", "满意", "一般", "不满意", "非常满意", "满意", "9"],
            ["C2", "W2", "2024-03-08", "接通", "满意", "非常满意", "满意", "一般", "满意", "非常满意", "10"],
        ],
        "gbk",
    )
    result = import_file(con, data, file_name="问卷回访.csv", kind="callback")
    assert (result.inserted, result.unmapped) == (2, [])
    assert result.guessed == {
        "attitude_score": QUESTIONS[4],
        "quality_score": QUESTIONS[5],
        "timeliness_score": QUESTIONS[6],
        "price_score": QUESTIONS[7],
        "environment_score": QUESTIONS[8],
        "overall_score": QUESTIONS[9],
        "recommend_score": QUESTIONS[10],
    }
    assert _rows(
        con,
        "SELECT callback_id, attitude_score, quality_score, timeliness_score, price_score, environment_score, "
        "overall_score, recommend_score FROM callbacks ORDER BY 1",
    ) == [("C1", 10.0, 8.0, 6.0, 4.0, 10.0, 8.0, 9.0), ("C2", 8.0, 10.0, 8.0, 6.0, 8.0, 10.0, 10.0)]


def test_a_question_about_two_dimensions_is_not_read_as_either():
    from analytics.ingest.mapping import guess_mapping

    header = "您对服务顾问解释的维修费用是否满意"
    rows = pd.DataFrame({header: ["满意", "不满意", "一般"]}, dtype="str")
    assert guess_mapping(rows, [header], "callback", {}) == {}


# 7. 单据编号: a work-order export's document number is its order's number; a CRM's names the call.


@pytest.mark.parametrize("kind", ["service", None])
def test_a_work_order_export_headed_danju_bianhao_lands_its_orders(con, kind):
    data = _csv(
        ["单据编号", "车架号", "进厂日期", "结算金额"],
        [
            ["JS2401001", "LSVAU2A37N2000001", "2024-01-05", "100"],
            ["JS2401002", "LSVAU2A37N2000002", "2024-01-06", "200"],
        ],
    )
    result = import_file(con, data, file_name="结算单.csv", kind=kind)
    assert (result.kind, result.inserted, result.rejected) == ("service", 2, 0)
    assert _rows(con, "SELECT order_id, CAST(amount AS VARCHAR) FROM service_orders ORDER BY 1") == [
        ("JS2401001", "100.00"),
        ("JS2401002", "200.00"),
    ]


def test_a_callback_exports_danju_bianhao_is_not_read_as_the_work_order(con):
    data = _csv(
        ["单据编号", "工单号", "车架号", "回访日期", "满意度"],
        [["HF01", "WO1", "LSVAU2A37N2000001", "2024-01-07", "满意"]],
    )
    result = import_file(con, data, file_name="回访.csv")
    assert (result.kind, result.inserted) == ("callback", 1)
    assert _rows(con, "SELECT order_id FROM callbacks") == [("WO1",)]
    assert "单据编号" in result.unmapped


# 8. A questionnaire's answers written with their option letter (A.非常满意, B、满意) and the
# spoken words for the middle of the scale.


@pytest.mark.parametrize(
    ("cell", "score"),
    [
        ("A.非常满意", 10.0),
        ("A、非常满意", 10.0),
        ("B、满意", 8.0),
        ("(A)非常满意", 10.0),
        ("（B）满意", 8.0),
        ("C:一般", 6.0),
        ("D 不满意", 4.0),
        ("E-非常不满意", 2.0),
        ("非常满意。", 10.0),
        ("特别满意", 10.0),
        ("一般般", 6.0),
        ("还可以", 6.0),
    ],
)
def test_an_answer_with_its_option_letter_or_in_spoken_words_scores_as_its_label(cell, score):
    parsed, bad, _ = values.parse_scores(pd.Series(["满意", "一般", cell], dtype="str"))
    assert float(parsed.iloc[-1]) == score
    assert not bad.any()


@pytest.mark.parametrize("cell", ["A", "A.", "AB满意", "F.满意", "A.很好"])
def test_a_letter_before_no_label_stays_unreadable(cell):
    _, bad, _ = values.parse_scores(pd.Series(["满意", cell], dtype="str"))
    assert bad.tolist() == [False, True]


def test_scoring_option_letters_stays_fast_on_hostile_cells():
    hostile = pd.Series(["A" + " " * 20000 + "满意", "A" + "." * 20000, "满意" + "。" * 20000], dtype="str")
    started = time.perf_counter()
    values.parse_scores(hostile)
    assert time.perf_counter() - started < 1.0


# 9. The first free maintenance as other DMSs name it.


@pytest.mark.parametrize("cell", ["首次免费保养", "首免", "首次强制保养", "首次强保", "首次保养", "首保"])
def test_the_first_free_maintenance_under_other_names_is_first_maintenance(cell):
    assert values.parse_service_types(pd.Series([cell], dtype="str")).tolist() == ["first_maintenance"]


@pytest.mark.parametrize("cell", ["强保", "二次强保", "免费保养", "二保"])
def test_a_mandatory_or_free_service_not_called_the_first_is_maintenance(cell):
    assert values.parse_service_types(pd.Series([cell], dtype="str")).tolist() == ["maintenance"]


def test_a_zero_among_satisfaction_labels_is_not_rated():
    parsed, bad, scale = values.parse_scores(pd.Series(["满意", "0", "不满意", "非常满意"], dtype="str"))
    assert (parsed.tolist()[::2], pd.isna(parsed.iloc[1]), bad.any(), scale) == (
        [8.0, 4.0],
        True,
        False,
        "labels",
    )


def test_a_question_column_with_zero_for_not_rated_is_still_guessed_as_its_score():
    from analytics.ingest.mapping import guess_mapping

    header = "您对本次服务的总体评价"
    rows = pd.DataFrame({header: ["满意", "0", "不满意"]}, dtype="str")
    assert guess_mapping(rows, [header], "callback", {}) == {"overall_score": header}
