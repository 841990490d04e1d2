"""The fifteenth import probe (session 45): headers as other vendors write them, found by an outside
tester. Each test failed before its fix:
- a score column's header that names its scale (满意度(10分制), 推荐意愿(0-10分), 服务态度（满分10分）) was
  ignored: a month whose answers all fell within 1-5 was read on 1-5, every answer doubled, and an
  NPS of -100 stored as -25;
- any bracket after a header was stripped as if it held a unit: 进厂日期(预约) beside 进厂日期(实际),
  进厂里程(上次) beside 进厂里程(本次) and 结算金额(不含税) beside 结算金额(含税) each named one field, and the
  first in the file won without a word (the booked date, the last visit's mileage, the pre-tax
  amount landed);
- common vendor headers were no aliases (号牌号码, 客户, 行驶公里, 维修方式, 接待员, 实收; 实际回访时间, 客服专员,
  评价内容): a work order landed without its plate, customer, mileage, type, advisor and amount, and a
  CRM's callback file was refused until --kind callback, then had its planned time (计划回访时间, first
  in the file) guessed as the time of the call;
- a call's length under 通话时间 (00:02:35, an alias of the callback date) beside 回访日期 was taken for the
  time of day: the call landed at 00:02:35;
- a row of units under the header (,,,km,元) was rejected as a record missing its work-order number and
  visit date;
- Excel's subtotal rows (分类汇总: 李娜 汇总, in English 李娜 Total, Grand Total) were rejected as records
  missing their number and date, not as total rows; a workbook whose SUBTOTAL formulas had no saved
  value was refused whole for them;
- a callback list of one row per work order with the attempts in columns (首次回访时间, 首次回访结果,
  二次回访时间, 二次回访结果, 满意度, 客户意见) landed as work orders (visits without amounts), and with
  --kind callback was refused as "looks like a service file (it has 进厂日期 columns)"."""

from __future__ import annotations

import io

import duckdb
import openpyxl
import pandas as pd
import pytest

from analytics.core.errors import ImportRefused
from analytics.ingest import import_file, mapping, read_table, suggested_mapping
from analytics.ingest.stage import TOTAL_ROW_REASON
from analytics.store import db


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe15.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[tuple]:
    return con.execute(sql, params or {}).fetchall()


def _csv(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("gbk")


# A bad month of a 0-10 survey: every answer within 1-5, every recommend answer a detractor's.
LOW_MONTH = (
    "回访编号,工单号,回访日期,是否接通,满意度(10分制),推荐意愿(0-10分),服务态度（满分10分）\n"
    "C1,WO1,2024-03-05,是,5,5,5\n"
    "C2,WO2,2024-03-05,是,4,3,4\n"
    "C3,WO3,2024-03-06,是,3,2,3\n"
    "C4,WO4,2024-03-06,是,5,4,5\n"
)


def test_a_header_that_names_its_scale_decides_it(con):
    """Before: the scales were detected from the answers as 1-5, the answers stored doubled (5 as 10,
    3 as 6) and the month's NPS read -25 for -100."""
    result = import_file(con, _csv(LOW_MONTH), file_name="回访.csv")
    assert result.mapping["scales"] == {
        "overall_score": "0-10",
        "attitude_score": "0-10",
        "recommend_score": "0-10",
    }
    assert _rows(
        con, "SELECT callback_id, overall_score, recommend_score, attitude_score FROM callbacks ORDER BY 1"
    ) == [("C1", 5.0, 5.0, 5.0), ("C2", 4.0, 3.0, 4.0), ("C3", 3.0, 2.0, 3.0), ("C4", 5.0, 4.0, 5.0)]
    nps = _rows(
        con,
        "SELECT 100 * (avg((recommend_score >= 9)::int) - avg((recommend_score <= 6)::int)) FROM callbacks",
    )
    assert nps == [(-100.0,)]


def test_a_scale_the_mapping_gives_wins_over_the_headers(con):
    mapping = {"kind": "callback", "columns": {}, "scales": {"overall_score": "1-5"}}
    result = import_file(con, _csv(LOW_MONTH), file_name="回访.csv", mapping=mapping)
    assert result.mapping["scales"]["overall_score"] == "1-5"
    assert _rows(con, "SELECT overall_score FROM callbacks ORDER BY callback_id") == [
        (10.0,),
        (8.0,),
        (6.0,),
        (10.0,),
    ]


@pytest.mark.parametrize(
    ("header", "scale"),
    [
        ("满意度(10分制)", "0-10"),
        ("推荐意愿(0-10)", "0-10"),
        ("推荐意愿(0-10分)", "0-10"),
        ("推荐意愿（1～10分）", "0-10"),
        ("服务态度（满分10分）", "0-10"),
        ("满意度(10分)", "0-10"),
        ("十分制满意度", "0-10"),
        ("NPS (0-10)", "0-10"),
        ("Satisfaction (out of 10)", "0-10"),
        ("满意度(5分制)", "1-5"),
        ("满意度(满分5分)", "1-5"),
        ("满意度(1-5分)", "1-5"),
        ("满意度【5分】", "1-5"),
        ("满意度(百分制)", "0-100"),
        ("满意度(满分100分)", "0-100"),
        ("满意度", None),
        ("满意度(分)", None),
        ("满意度(15分制)", None),
        ("满意度(1-5分，折算10分制)", None),
    ],
)
def test_the_scale_a_header_names(header, scale):
    assert mapping.header_scale(header) == scale


QUALIFIED = (
    "工单号,车架号,进厂日期(预约),进厂日期(实际),进厂里程(上次),进厂里程(本次),结算金额(不含税),结算金额(含税)\n"
    "WO1,LSVAU2A37N2000001,2024-01-02,2024-01-05,5000,10000,100.00,113.00\n"
)


def test_a_qualifier_in_brackets_keeps_a_header_apart_and_the_records_own_column_is_read(con):
    """Before: the visit landed on the booked 2024-01-02 with the last visit's 5,000 km and the pre-tax
    100.00; the right columns were listed as not imported."""
    result = import_file(con, _csv(QUALIFIED), file_name="工单.csv")
    assert result.mapping["columns"] == {
        "order_id": "工单号",
        "vin": "车架号",
        "visit_date": "进厂日期(实际)",
        "mileage_km": "进厂里程(本次)",
        "amount": "结算金额(含税)",
    }
    assert result.unmapped == ["进厂日期(预约)", "进厂里程(上次)", "结算金额(不含税)"]
    assert _rows(
        con, "SELECT order_id, visit_date::VARCHAR, mileage_km, amount::VARCHAR FROM service_orders"
    ) == [("WO1", "2024-01-05", 10000, "113.00")]


@pytest.mark.parametrize(
    ("header", "hit"),
    [
        # a unit, a mark, a scale or a format in brackets is no part of the name
        ("结算金额(元)", ("amount", 1)),
        ("结算金额【元】", ("amount", 1)),
        ("行驶里程(万公里)", ("mileage_km", 2)),
        ("车架号(*)", ("vin", 1)),
        ("客户姓名(必填)", ("customer_name", 1)),
        ("满意度(10分制)", ("overall_score", 2)),
        ("进厂日期(yyyy-mm-dd)", ("visit_date", 1)),
        ("结算金额(含税)(元)", ("amount", 1)),
        # a qualifier alone still names the field
        ("结算金额(不含税)", ("amount", 1)),
        ("进厂日期(实际)", ("visit_date", 1)),
        # another moment's column names none
        ("进厂日期(预约)", None),
        ("进厂日期（计划）", None),
        ("进厂里程(上次)", None),
        ("进厂日期\n(预约)", None),
        ("1.进厂日期(预约)", None),
    ],
)
def test_what_a_bracket_after_a_header_holds(header, hit):
    assert mapping.match_header(header) == hit


def test_two_columns_qualified_alike_are_refused_until_a_mapping_chooses(con):
    """Before: the first of 进厂里程(客户报) and 进厂里程(仪表) was read without a word."""
    data = _csv("工单号,进厂日期,进厂里程(客户报),进厂里程(仪表)\nWO1,2024-01-02,100,200\n")
    with pytest.raises(ImportRefused) as refused:
        import_file(con, data, file_name="里程.csv")
    assert str(refused.value) == (
        "里程.csv has 2 columns that may hold the mileage_km (进厂里程(客户报) and 进厂里程(仪表)) and no bracket "
        "says which is the record's own (实际, 本次, 含税); choose one with a mapping "
        '(--map with columns mileage_km = "进厂里程(客户报)"), or on the Data page.'
    )
    assert refused.value.words("zh").startswith("里程.csv 中有 2 列都可能是")
    assert _rows(con, "SELECT count(*) FROM imports") == [(0,)]
    # The Data page leaves the field for the user to choose.
    assert "mileage_km" not in suggested_mapping(read_table(data, "里程.csv"), "service")[0]
    chosen = {"kind": "service", "columns": {"mileage_km": "进厂里程(仪表)"}}
    result = import_file(con, data, file_name="里程.csv", mapping=chosen)
    assert result.inserted == 1
    assert _rows(con, "SELECT mileage_km FROM service_orders") == [(200,)]


VENDOR_ORDERS = (
    "委托书号,号牌号码,VIN码,客户,联系人电话,工单日期,行驶公里,维修方式,接待员,实收\n"
    "WO1,浙A12345,LSVAU2A37N2000001,张三,13800138000,2024-01-03,12000,保养,李娜,350\n"
)
VENDOR_CALLS = (
    "任务编号,委托书号,计划回访时间,实际回访时间,客服专员,接听状态,客户评价,推荐指数,评价内容\n"
    "T1,WO1,2024-01-05 09:00,2024-01-06 10:30,小王,已接听,非常满意,10,很好\n"
    "T2,WO2,2024-01-05 09:00,2024-01-05 16:10,小王,未接听,,,\n"
    "T3,WO3,2024-01-05 09:00,2024-01-07 11:00,小李,已接听,一般,6,等太久\n"
)


def test_a_vendors_work_order_headers_name_their_fields(con):
    """Before: the order landed without plate, customer, mileage, type, advisor and amount, those six
    columns listed as not imported."""
    result = import_file(con, _csv(VENDOR_ORDERS), file_name="工单.csv")
    assert (result.kind, result.unmapped, result.guessed) == ("service", [], {})
    assert _rows(
        con,
        "SELECT order_id, plate, customer_name, phone, visit_date::VARCHAR, mileage_km, service_type, advisor, "
        "amount::VARCHAR FROM service_orders",
    ) == [("WO1", "浙A12345", "张三", "13800138000", "2024-01-03", 12000, "maintenance", "李娜", "350.00")]


def test_a_crms_callback_file_lands_at_the_times_the_calls_were_made(con):
    """Before: refused as of no kind; with --kind callback every call landed at the planned
    2024-01-05 09:00, without its agent or comment."""
    result = import_file(con, _csv(VENDOR_CALLS), file_name="回访.csv")
    assert result.kind == "callback"
    assert result.mapping["columns"]["callback_date"] == "实际回访时间"
    assert result.unmapped == ["任务编号", "计划回访时间"]
    assert _rows(
        con,
        "SELECT order_id, callback_date::VARCHAR, agent, reached, overall_score, recommend_score, comment "
        "FROM callbacks ORDER BY order_id",
    ) == [
        ("WO1", "2024-01-06 10:30:00", "小王", True, 10.0, 10.0, "很好"),
        ("WO2", "2024-01-05 16:10:00", "小王", False, None, None, None),
        ("WO3", "2024-01-07 11:00:00", "小李", True, 6.0, 6.0, "等太久"),
    ]


def test_a_date_said_to_be_done_is_read_before_the_others_of_its_field():
    headers = ["回访日期", "工单号", "实际回访时间", "是否接通"]
    assert mapping.auto_mapping(headers, "callback")["callback_date"] == "实际回访时间"


def test_a_planned_date_is_never_guessed_as_the_records(con):
    """Before: the first date-like column was guessed, the plan (计划联系时间) or the next call (下次回访日期)."""
    data = "工单号,计划联系时间,联系完成时间,是否接通\nWO1,2024-01-05 09:00,2024-01-06 10:30,是\n"
    result = import_file(con, _csv(data), file_name="联系.csv", kind="callback")
    assert result.guessed == {"callback_date": "联系完成时间"}
    assert _rows(con, "SELECT callback_date::VARCHAR FROM callbacks") == [("2024-01-06 10:30:00",)]
    planned_only = "工单号,下次回访日期,是否接通\nWO1,2024-02-05,是\n"
    with pytest.raises(ImportRefused, match="has no callback-date column"):
        import_file(con, _csv(planned_only), file_name="计划.csv", kind="callback")


def test_a_calls_length_is_not_its_time_of_day(con):
    """Before: the call landed at 2024-01-05 00:02:35 (complaint hours counted from it)."""
    data = (
        "回访编号,工单号,回访日期,通话时间,是否接通,是否投诉,处理完成时间\n"
        "C1,WO1,2024-01-05,00:02:35,是,是,2024-01-05 18:00\n"
        "C2,WO2,2024-01-05,00:12:10,是,否,\n"
        "C3,WO3,2024-01-06,00:00:48,否,否,\n"
    )
    result = import_file(con, _csv(data), file_name="通话.csv")
    assert result.unmapped == ["通话时间"]
    assert _rows(con, "SELECT callback_id, callback_date::VARCHAR FROM callbacks ORDER BY 1") == [
        ("C1", "2024-01-05 00:00:00"),
        ("C2", "2024-01-05 00:00:00"),
        ("C3", "2024-01-06 00:00:00"),
    ]


@pytest.mark.parametrize(
    ("cells", "lengths"),
    [
        (["00:02:35"], True),
        (["00:02:35", "00:12:00", "0:03:10"], True),
        # under an hour but mostly long: not as calls last, so read as written
        (["00:35:00", "00:45:00", "00:05:00"], False),
        (["10:30:00", "00:02:35"], False),
        (["10:30", "14:05"], False),
        (["00:02"], False),
    ],
)
def test_call_lengths_told_from_times_of_day(cells, lengths):
    assert mapping.call_lengths(pd.Series(cells, dtype="str")) is lengths


def test_a_column_headed_as_a_length_is_no_time_of_day(con):
    data = "回访编号,工单号,回访日期,回访时间(时长),是否接通\nC1,WO1,2024-01-05,2:35,是\n"
    import_file(con, _csv(data), file_name="时长.csv")
    assert _rows(con, "SELECT callback_date::VARCHAR FROM callbacks") == [("2024-01-05 00:00:00",)]


def test_a_row_of_units_under_the_header_is_skipped_as_part_of_it(con):
    """Before: 2 rows read, 1 inserted, 1 rejected ("missing work-order number; missing visit date")."""
    data = "工单号,车架号,进厂日期,进厂里程,结算金额\n,,,km,元\nWO1,LSVAU2A37N2000001,2024-01-03,12000,350\n"
    result = import_file(con, _csv(data), file_name="单位.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (1, 1, 0)
    assert result.sheets == [
        {
            "sheet": "",
            "rows": 2,
            "landed": 1,
            "rejected": 0,
            "skipped": 1,
            "reason": "units row under the header: km / 元",
        }
    ]
    assert _rows(con, "SELECT count(*) FROM rejected_rows") == [(0,)]
    assert _rows(con, "SELECT order_id, mileage_km, amount::VARCHAR FROM service_orders") == [
        ("WO1", 12000, "350.00")
    ]


def test_a_unit_in_ten_thousands_under_the_header_is_read_as_in_its_brackets(con):
    data = "工单号,进厂日期,行驶里程,结算金额\n（必填）,(yyyy-mm-dd),(万公里),元\nWO1,2024-01-03,1.2,350\n"
    result = import_file(con, _csv(data), file_name="万公里.csv")
    assert (result.inserted, result.rejected, result.sheets[0]["skipped"]) == (1, 0, 1)
    assert _rows(con, "SELECT mileage_km FROM service_orders") == [(12000,)]


SUBTOTALS = [
    ["工单号", "进厂日期", "服务顾问", "结算金额"],
    ["WO1", "2024-01-03", "李娜", 350],
    ["WO2", "2024-01-04", "李娜", 450],
    [None, None, "李娜 汇总", "=SUBTOTAL(9,D2:D3)"],
    ["WO3", "2024-01-04", "王强", 500],
    [None, None, "王强 Total", "=SUBTOTAL(9,D5:D5)"],
    ["WO4", "2024-01-05", "张伟", 200],
    [None, None, "张伟 彙總", "=SUBTOTAL(9,D7:D7)"],
    [None, None, "Grand Total", "=SUBTOTAL(9,D2:D8)"],
]


def test_each_sheets_units_row_is_read_for_that_sheet(con):
    book = openpyxl.Workbook()
    book.active.title = "2023年"
    for row in [["工单号", "进厂日期", "行驶里程"], [None, None, "万公里"], ["A1", "2023-01-03", "1.5"]]:
        book.active.append(row)
    later = book.create_sheet("2024年")
    for row in [["工单号", "进厂日期", "行驶里程"], [None, None, "km"], ["B1", "2024-01-03", "16000"]]:
        later.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_file(con, buffer.getvalue(), file_name="两年.xlsx")
    assert [(s["sheet"], s["rows"], s["landed"], s["skipped"], s["reason"]) for s in result.sheets] == [
        ("2023年", 2, 1, 1, "units row under the header: 万公里"),
        ("2024年", 2, 1, 1, "units row under the header: km"),
    ]
    assert _rows(con, "SELECT order_id, mileage_km FROM service_orders ORDER BY 1") == [
        ("A1", 15000),
        ("B1", 16000),
    ]


def test_excels_subtotal_rows_are_total_rows(con):
    """Before: the four subtotal rows were rejected as "missing work-order number; missing visit date"."""
    data = "".join(
        ",".join("1300" if str(c).startswith("=") else str(c or "") for c in row) + "\n" for row in SUBTOTALS
    )
    result = import_file(con, _csv(data), file_name="分类汇总.csv")
    assert (result.inserted, result.rejected) == (4, 4)
    assert _rows(
        con,
        "SELECT source_row FROM rejected_rows WHERE reason = $reason ORDER BY 1",
        {"reason": TOTAL_ROW_REASON},
    ) == [(4,), (6,), (8,), (9,)]


def test_a_workbook_whose_subtotals_were_never_calculated_imports_its_records(con):
    """Before: refused whole ("has formulas whose values were never saved (cell D4 and 3 more)")."""
    book = openpyxl.Workbook()
    for row in SUBTOTALS:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_file(con, buffer.getvalue(), file_name="分类汇总.xlsx")
    assert (result.inserted, result.rejected) == (4, 4)
    assert _rows(con, "SELECT order_id, amount::VARCHAR FROM service_orders ORDER BY 1") == [
        ("WO1", "350.00"),
        ("WO2", "450.00"),
        ("WO3", "500.00"),
        ("WO4", "200.00"),
    ]


ATTEMPTS = (
    "工单号,车架号,进厂日期,首次回访时间,首次回访结果,二次回访时间,二次回访结果,满意度,客户意见\n"
    "WO1,LSVAU2A37N2000001,2024-01-03,2024-01-05 10:00,未接通,2024-01-06 15:00,已接通,满意,\n"
    "WO2,LSVAU2A37N2000002,2024-01-03,2024-01-05 10:30,已接通,,,不满意,等太久\n"
)


@pytest.mark.parametrize("kind", [None, "callback"])
def test_callback_attempts_in_columns_are_refused_with_the_shape_said(con, kind):
    """Before: by default 2 work orders inserted (no amounts), 满意度 and 客户意见 not imported; with
    --kind callback refused as a service file."""
    with pytest.raises(ImportRefused) as refused:
        import_file(con, _csv(ATTEMPTS), file_name="回访跟踪.csv", kind=kind)
    assert str(refused.value) == (
        "回访跟踪.csv has its callback attempts in columns (首次回访时间, 首次回访结果, 二次回访时间, 二次回访结果), "
        "one row per work order where callback records have one row per call, so which attempt each answer "
        "belongs to cannot be told; export the callback list with one row per call, or import one attempt as "
        'the calls with --kind callback and a mapping (--map) naming its columns (callback_date = "二次回访时间", '
        'reached = "二次回访结果"), or import the work orders alone with --kind service.'
    )
    assert refused.value.words("zh").startswith("回访跟踪.csv 把每次回访放在不同的列中")
    assert _rows(con, "SELECT count(*) FROM imports") == [(0,)]


def test_one_attempt_named_in_a_mapping_is_imported_as_the_calls(con):
    chosen = {"kind": "callback", "columns": {"callback_date": "二次回访时间", "reached": "二次回访结果"}}
    result = import_file(con, _csv(ATTEMPTS), file_name="回访跟踪.csv", mapping=chosen)
    assert (result.inserted, result.rejected, result.guessed) == (1, 1, {})
    assert result.reasons == ["missing callback date"]
    assert _rows(con, "SELECT order_id, callback_date::VARCHAR, reached, overall_score FROM callbacks") == [
        ("WO1", "2024-01-06 15:00:00", True, 8.0)
    ]
    orders = import_file(con, _csv(ATTEMPTS), file_name="回访跟踪.csv", kind="service")
    assert (orders.inserted, orders.unmapped[:2]) == (2, ["首次回访时间", "首次回访结果"])


def test_a_file_asked_for_as_callbacks_is_told_the_callback_date_it_lacks(con):
    """Before: "looks like a service file (it has 进厂日期 columns), not callback records", though it has
    the callbacks' answers and lacks only a callback date a header names."""
    data = "工单号,车架号,进厂日期,呼出时间,满意度,客户意见\nWO1,LSVAU2A37N2000001,2024-01-03,2024-01-05 10:00,满意,好\n"
    with pytest.raises(ImportRefused) as refused:
        import_file(con, _csv(data), file_name="呼出.csv", kind="callback")
    assert str(refused.value) == (
        "呼出.csv has 满意度, 客户意见 but no callback-date column (回访日期, 回访时间 or 回访日期时间) to key callback "
        "records on, and looks like a service file (it has 进厂日期 columns); name that column in a mapping "
        "(--map), or import it as service orders (--kind service)."
    )
