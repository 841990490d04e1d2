"""The fifteenth import probe (session 45): exports of manufacturer DMSs and of users with fewer
rights, tried by an outside tester. Each test failed before its fix:
- an export made by a user who may not see customers' details (138****8000, 张*) wrote its masks
  over the stored numbers and names ("2 updated"), in orders, calls and vehicles, and stored them
  in new rows;
- an amount headed in fen (结算金额(分)) or in thousands of yuan (结算金额（千元）) was read as yuan;
- a manufacturer's service-type codes (PM, EM, GR, BP, B&P, WTY, 1st Service, 质量担保) and call types
  (PSFU, CSI回访, 服务跟踪, 满意度回访, SSI回访) were all "other", without a word;
- 投诉 (投诉(已处理), 一般投诉, 重大投诉) in 是否投诉 was an unreadable yes/no value, left blank;
- a recommend question answered in words (非常愿意 ... 非常不愿意) landed blank, so no NPS.
The other tests hold what was found to work and must stay so."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics.cli.ingest import _summary
from analytics.ingest import import_file, rejected_rows, stage
from analytics.store import db

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe15.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# 1. Masked exports.

ORDERS = "工单号,车架号,车牌号,客户姓名,联系电话,进厂日期,维修类型,结算金额\n"
FULL = ORDERS + (
    "WO1,LSVAU2A37N2000001,浙A12345,张三,13800138000,2024-01-03,保养,350\n"
    "WO2,LSVAU2A37N2000002,浙A12346,李四,13900139000,2024-01-04,维修,800\n"
)
MASKED = ORDERS + (
    "WO1,LSVAU2A3****00001,浙A***45,张*,138****8000,2024-01-03,保养,350\n"
    "WO2,LSVAU2A37N2000002,浙A12346,*四,139-xxxx-9000,2024-01-04,维修,800\n"
    "WO3,LSVAU2A37N2000003,浙A***47,王**,137****7000,2024-01-05,维修,120\n"
)


def test_a_masked_export_keeps_the_stored_numbers_and_names_and_stores_none_in_new_rows(con):
    """Before: the masked re-export counted 2 updated and stored 138****8000 and 张* over 13800138000
    and 张三 in service_orders and vehicles; WO3 stored 137****7000."""
    import_file(con, FULL.encode("gbk"), file_name="工单.csv", kind="service")
    result = import_file(con, MASKED.encode("gbk"), file_name="工单_脱敏.csv", kind="service")
    assert (result.inserted, result.updated, result.unchanged, result.rejected, result.blanked) == (
        1,
        0,
        2,
        0,
        3,
    )
    assert result.notes == [
        "VIN masked in the export, stored value kept",
        "plate masked in the export, stored value kept",
        "customer name masked in the export, stored value kept",
        "phone number masked in the export, stored value kept",
        "plate masked in the export, left blank",
    ]
    assert _rows(con, "SELECT order_id, vin, plate, customer_name, phone FROM service_orders ORDER BY 1") == [
        ("WO1", "LSVAU2A37N2000001", "浙A12345", "张三", "13800138000"),
        ("WO2", "LSVAU2A37N2000002", "浙A12346", "李四", "13900139000"),
        ("WO3", "LSVAU2A37N2000003", None, None, None),
    ]
    assert _rows(con, "SELECT vin, customer_name, phone FROM vehicles ORDER BY 1") == [
        ("LSVAU2A37N2000001", "张三", "13800138000"),
        ("LSVAU2A37N2000002", "李四", "13900139000"),
        ("LSVAU2A37N2000003", None, None),
    ]
    noted = rejected_rows(con, result.import_id)
    assert noted[["source_row", "column_name", "reason"]].values.tolist() == [
        [2, "车架号", "VIN masked in the export, stored value kept"],
        [2, "车牌号", "plate masked in the export, stored value kept"],
        [2, "客户姓名", "customer name masked in the export, stored value kept"],
        [2, "联系电话", "phone number masked in the export, stored value kept"],
        [3, "客户姓名", "customer name masked in the export, stored value kept"],
        [3, "联系电话", "phone number masked in the export, stored value kept"],
        [4, "车牌号", "plate masked in the export, left blank"],
        [4, "客户姓名", "customer name masked in the export, left blank"],
        [4, "联系电话", "phone number masked in the export, left blank"],
    ]
    assert noted["kept"].tolist() == [True] * 9
    assert stage.reason_words("phone number masked in the export, stored value kept", "zh") == (
        "导出的电话号码已打码，已保留原有的值"
    )
    # The masked export again changes nothing; the full one again neither.
    again = import_file(con, MASKED.encode("gbk"), file_name="工单_脱敏.csv", kind="service")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    full_again = import_file(con, FULL.encode("gbk"), file_name="工单.csv", kind="service")
    assert (full_again.updated, full_again.unchanged) == (0, 2)


CALLS = "回访编号,工单号,车架号,客户姓名,手机号,回访日期,回访类型,是否接通\n"


def test_a_masked_call_export_keeps_the_stored_phone_and_a_masked_vin_alone_names_no_car(con):
    """Before: C1 stored 王* and 137****7000 over 王五 and 13700137000; C3, a delivery call whose only
    tie is its masked VIN, landed with the VIN LSVAU2A3****00009 that names no car."""
    full = CALLS + "C1,,LSVAU2A37N2000009,王五,13700137000,2024-01-05,新车7日回访,是\n"
    masked = CALLS + (
        "C1,,LSVAU2A37N2000009,王*,137****7000,2024-01-05,新车7日回访,是\n"
        "C2,WO2,LSVAU2A3****00002,李*,139****9000,2024-01-06,3DC,是\n"
        "C3,,LSVAU2A3****00009,赵*,136****6000,2024-01-07,新车7日回访,是\n"
    )
    import_file(con, full.encode("gbk"), file_name="回访.csv", kind="callback")
    result = import_file(con, masked.encode("gbk"), file_name="回访_脱敏.csv", kind="callback")
    assert (result.rows_read, result.inserted, result.updated, result.unchanged, result.rejected) == (
        3,
        1,
        0,
        1,
        1,
    )
    assert result.reasons == [stage.VIN_MASKED_ALONE]
    assert _rows(
        con, "SELECT callback_id, order_id, vin, customer_name, phone FROM callbacks ORDER BY 1"
    ) == [
        ("C1", None, "LSVAU2A37N2000009", "王五", "13700137000"),
        ("C2", "WO2", None, None, None),
    ]
    assert (
        stage.reason_words(stage.VIN_MASKED_ALONE, "zh")
        == "导出的车架号已打码且没有工单号：无法确定是哪辆车的回访"
    )


# 2. Amounts in fen and in thousands of yuan.


def test_amounts_headed_in_fen_or_in_thousands_of_yuan_are_read_in_yuan(con):
    """Before: 35000 under 结算金额(分) landed as 35,000.00 yuan, 3.5 under 结算金额（千元） as 3.50."""
    fen = (
        '工单号,进厂日期,结算金额(分)\nWO1,2024-01-03,35000\nWO2,2024-01-04,"128,050"\nWO3,2024-01-05,(500)\n'
    )
    thousands = (
        "工单号,进厂日期,结算金额（千元）\nWO4,2024-01-05,3.5\nWO5,2024-01-06,1.2345\nWO6,2024-01-06,1.2万\n"
    )
    import_file(con, fen.encode("gbk"), file_name="工单_分.csv", kind="service")
    import_file(con, thousands.encode("gbk"), file_name="工单_千元.csv", kind="service")
    assert _rows(con, "SELECT order_id, amount::VARCHAR FROM service_orders ORDER BY 1") == [
        ("WO1", "350.00"),
        ("WO2", "1280.50"),
        ("WO3", "-5.00"),
        ("WO4", "3500.00"),
        ("WO5", "1234.50"),
        ("WO6", "12000.00"),
    ]
    again = import_file(con, fen.encode("gbk"), file_name="工单_分.csv", kind="service")
    assert (again.updated, again.unchanged) == (0, 3)


def test_fen_in_a_score_header_is_points_and_a_kilometre_header_stays_kilometres(con):
    """分 under a score is points (9 of 10), 千米 is the kilometre, not thousands of metres."""
    calls = (
        "回访编号,工单号,回访日期,是否接通,总体满意度(分)\nC1,WO1,2024-01-05,是,9\nC2,WO2,2024-01-05,是,10\n"
    )
    import_file(con, calls.encode("gbk"), file_name="回访_分.csv", kind="callback")
    assert _rows(con, "SELECT overall_score FROM callbacks ORDER BY 1") == [(9.0,), (10.0,)]
    orders = "工单号,进厂日期,行驶里程(千米),结算金额\nWO1,2024-01-03,12000,1\n"
    import_file(con, orders.encode("gbk"), file_name="工单_千米.csv", kind="service")
    assert _rows(con, "SELECT mileage_km FROM service_orders") == [(12000,)]


# 3. Manufacturers' codes.


def test_a_manufacturers_service_type_codes_are_their_types_and_unknown_ones_are_said(con):
    """Before: all eight landed as other, and the import said nothing."""
    codes = ["PM", "EM", "GR", "BP", "WTY", "1st Service", "B&P", "质量担保", "WTY-维修", "PM保养"]
    codes += ["洗车", "ZZ", "ZZ", "QX"]
    data = "工单号,进厂日期,工单类型,结算金额\n" + "".join(
        f"RO{i:02d},2024-01-03,{code},500\n" for i, code in enumerate(codes, start=1)
    )
    result = import_file(con, data.encode("gbk"), file_name="工单_代码.csv", kind="service")
    assert [t for (t,) in _rows(con, "SELECT service_type FROM service_orders ORDER BY order_id")] == [
        "maintenance",
        "maintenance",
        "repair",
        "body_paint",
        "warranty",
        "first_maintenance",
        "body_paint",
        "warranty",
        "warranty",
        "maintenance",
        "other",
        "other",
        "other",
        "other",
    ]
    # 洗车 names a job of none of the five kinds: other, and known; ZZ and QX name nothing known.
    assert result.unrecognised == {"service_type": {"ZZ": 2, "QX": 1}}
    assert "\n  工单类型: 3 rows of a type not recognised, read as other: ZZ (2), QX (1)" in _summary(
        "f.csv", result
    )


def test_a_manufacturers_callback_types_are_3dc_or_7dc_by_their_meaning(con):
    """Before: PSFU, CSI回访, 服务跟踪, 满意度回访 and SSI回访 were all other: no 3DC coverage."""
    types = ["PSFU", "CSI回访", "服务跟踪", "满意度回访", "SSI回访", "满意度回访", "投诉回访", "神秘回访"]
    data = "回访编号,工单号,车架号,回访日期,回访类型,是否接通\n" + "".join(
        f"C{i},{'' if i == 6 else f'RO{i:02d}'},LSVAU2A37N200000{i},2024-01-05,{t},是\n"
        for i, t in enumerate(types, start=1)
    )
    result = import_file(con, data.encode("gbk"), file_name="回访_代码.csv", kind="callback")
    # 满意度回访 names no visit or sale: its type is its work order's (C6 has none: a delivery call).
    assert _rows(con, "SELECT callback_id, callback_type FROM callbacks ORDER BY 1") == [
        ("C1", "3DC"),
        ("C2", "3DC"),
        ("C3", "3DC"),
        ("C4", "3DC"),
        ("C5", "7DC"),
        ("C6", "7DC"),
        ("C7", "other"),
        ("C8", "other"),
    ]
    assert result.unrecognised == {"callback_type": {"神秘回访": 1}}


def test_the_data_page_says_the_types_it_read_as_other_in_the_readers_language(tmp_path, monkeypatch):
    """Before: the preview said nothing of the types it read as other."""
    monkeypatch.setenv("ANALYTICS_DB", str(tmp_path / "data_page.duckdb"))
    data = (
        "工单号,进厂日期,工单类型,结算金额\nRO1,2024-01-03,ZZ,1\nRO2,2024-01-03,PM,1\nRO3,2024-01-04,ZZ,1\n"
    )
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.file_uploader(key="uploads").set_value(("工单.csv", data.encode("gbk"), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert "工单类型：2 行的类型无法识别，已按“其他”读取：ZZ (2)。" in [c.value for c in at.caption]


# 4. The subject of a yes/no column.


def test_the_subject_word_of_a_yes_no_column_reads_yes_and_its_negation_no(con):
    """Before: 投诉, 投诉(已处理), 一般投诉 and 重大投诉 landed blank (yes/no value not readable)."""
    answers = [
        "投诉",
        "投诉(已处理)",
        "一般投诉",
        "重大投诉",
        "无",
        "有投诉",
        "是",
        "未投诉",
        "无投诉",
        "客户未投诉",
    ]
    data = "回访编号,工单号,回访日期,是否接通,满意度,是否投诉\n" + "".join(
        f"C{i:02d},WO{i},2024-01-05,是,不满意,{a}\n" for i, a in enumerate(answers, start=1)
    )
    result = import_file(con, data.encode("gbk"), file_name="回访_投诉.csv", kind="callback")
    assert (result.inserted, result.blanked) == (10, 1)
    assert result.notes == ["yes/no value not readable, left blank"]
    assert [c for (c,) in _rows(con, "SELECT is_complaint FROM callbacks ORDER BY callback_id")] == [
        True,
        True,
        True,
        True,
        False,
        True,
        True,
        False,
        False,
        None,
    ]


def test_the_subject_of_one_yes_no_column_is_no_answer_in_another(con):
    """投诉 under 是否预约 says nothing of an appointment: it stays unreadable there."""
    data = "工单号,进厂日期,是否预约\nWO1,2024-01-03,投诉\nWO2,2024-01-03,电话预约\n"
    result = import_file(con, data.encode("gbk"), file_name="工单_预约.csv", kind="service")
    assert result.notes == ["yes/no value not readable, left blank"]
    assert _rows(con, "SELECT order_id, is_appointment FROM service_orders ORDER BY 1") == [
        ("WO1", None),
        ("WO2", True),
    ]


# 5. A recommend question answered in words.


def test_a_recommend_question_answered_in_words_gives_the_five_point_scores_and_an_nps(con):
    """Before: every answer was 'score not readable on the labels scale, left blank'."""
    words = ["非常愿意", "愿意", "不确定", "不愿意", "非常不愿意", "A.非常愿意", "愿意推荐", "一般"]
    data = "回访编号,工单号,回访日期,是否接通,满意度,是否愿意推荐\n" + "".join(
        f"C{i},WO{i},2024-01-05,是,满意,{w}\n" for i, w in enumerate(words, start=1)
    )
    result = import_file(con, data.encode("gbk"), file_name="回访_推荐.csv", kind="callback")
    assert (result.inserted, result.blanked, result.mapping["scales"]["recommend_score"]) == (8, 0, "labels")
    assert [s for (s,) in _rows(con, "SELECT recommend_score FROM callbacks ORDER BY callback_id")] == [
        10.0,
        8.0,
        6.0,
        4.0,
        2.0,
        10.0,
        8.0,
        6.0,
    ]
    # Promoters 2 (非常愿意), detractors 4 (不确定, 不愿意, 非常不愿意, 一般) of 8: NPS -25.
    assert _rows(
        con,
        "SELECT round(100 * (avg((recommend_score >= 9)::INT) - avg((recommend_score <= 6)::INT))) FROM callbacks",
    ) == [(-25.0,)]


def test_willingness_words_answer_no_question_of_satisfaction(con):
    """愿意 under 总体满意度 is no satisfaction answer: it stays unreadable there."""
    data = (
        "回访编号,工单号,回访日期,是否接通,总体满意度\nC1,WO1,2024-01-05,是,愿意\nC2,WO2,2024-01-05,是,满意\n"
    )
    result = import_file(con, data.encode("gbk"), file_name="回访_满意.csv", kind="callback")
    assert result.notes == ["score not readable on the labels scale, left blank"]
    assert _rows(con, "SELECT callback_id, overall_score FROM callbacks ORDER BY 1") == [
        ("C1", None),
        ("C2", 8.0),
    ]
