"""Import staging in SQL (issue 21): the shapes SQL types itself agree with the Python rules.

``stage.stage(..., sql_shapes=False)`` types every value by its rule in ``values.py`` (once per
distinct value); the default lets SQL type the common shapes. Both must give the same typed rows,
the same rejects and notes with the same sentences, on real files (GBK, UTF-8 with BOM, a
workbook, the demo's exports) and on arbitrary cells. And the comment tokens an import no longer
stores inside its transaction change nothing the themes show.
"""

from __future__ import annotations

import csv
import functools
import io
import os
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.core.errors import ImportRefused
from analytics.domain import themes
from analytics.ingest import import_file, load, read_table, stage, values
from analytics.services import views
from analytics.store import db
from tests.hostile_corpus import SERVICE_HEADER

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = [
    "service_orders_gbk.csv",
    "service_orders_gbk_corrected.csv",
    "service_orders_bad_rows.csv",
    "callbacks_bad_rows.csv",
    "callbacks_bom.csv",
    "service_orders_titled.xlsx",
]
STAGE = stage.stage
CALLBACK_HEADER = [
    "回访编号",
    "工单号",
    "车架号",
    "回访类型",
    "回访日期",
    "回访人",
    "是否接通",
    "总体满意度",
    "客户意见",
]


def _both(raw, kind=None, mapping=None):
    """Return (plan with SQL shapes, plan with every value typed in Python) of one raw table."""
    plans = []
    for sql_shapes in (True, False):
        with mock.patch.object(stage, "stage", functools.partial(STAGE, sql_shapes=sql_shapes)):
            plans.append(load._prepare(raw, kind, mapping))
    return plans


def _same(fast, python):
    assert fast.typed.equals(python.typed), (fast.typed.to_pandas(), python.typed.to_pandas())
    pd.testing.assert_frame_equal(fast.rejects, python.rejects)
    pd.testing.assert_frame_equal(fast.notes, python.notes)
    assert (fast.rejected, fast.duplicates_in_file, fast.scales, fast.sheets) == (
        python.rejected,
        python.duplicates_in_file,
        python.scales,
        python.sheets,
    )


@pytest.mark.parametrize("name", GOLDEN)
def test_sql_shapes_and_python_rules_give_the_same_rows_and_rejects(name):
    fast, python = _both(read_table(DATA / name))
    _same(fast, python)


def test_golden_bad_rows_keep_their_reasons_in_file_order():
    fast, _ = _both(read_table(DATA / "service_orders_bad_rows.csv"))
    assert fast.rejects[["source_row", "column_name", "reason"]].values.tolist() == [
        [3, "工单号", "missing work-order number"],
        [4, "进厂日期", "unreadable date"],
        [8, "工单号", "duplicate key in file, later row kept"],
        [10, "进厂日期", "missing visit date"],
    ]
    # An unreadable amount leaves the amount blank; the order lands (probe 11).
    assert fast.notes[["source_row", "column_name", "reason"]].values.tolist() == [
        [5, "结算金额", "number not readable, left blank"],
    ]
    assert fast.duplicates_in_file == 1


def _service_file(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([SERVICE_HEADER, *rows])
    return buffer.getvalue().encode("utf-8-sig")


def _row(order: str, **cells: str) -> list[str]:
    base = dict.fromkeys(SERVICE_HEADER, "")
    base.update({"工单号": order, "进厂日期": "2024-05-01"}, **cells)
    return [base[h] for h in SERVICE_HEADER]


def test_odd_shapes_blank_rows_and_duplicates_agree_in_both_paths():
    rows = [
        _row("A1", 进厂日期="2024/05/02 08:30:00", 结算金额="1,234.50", 联系电话="+86 138-0013-8000"),
        _row("A2", 进厂日期="2024年5月3日", 结算金额="1.2万", 车架号="lsvau2a37n2183746"),
        _row("A3", 进厂日期="45412", 结算金额="¥88", 进厂里程="12,000 公里"),
        _row("A4", 进厂日期="2023-02-30", 结算金额="12x"),
        _row("A5", 进厂日期="0000-00-00"),
        _row("A6", 进厂日期="2024-05-01 23:59:60", 结算金额="1e308"),
        _row("A7", 工单号='="007"', 进厂日期="1899-12-31", 进厂里程="-5"),
        [""] * len(SERVICE_HEADER),
        _row("A8", 进厂日期="2024-05-04", 结算金额="99.999", 是否预约="是"),
        _row("A8", 进厂日期="2024-05-04", 结算金额="99.999", 是否预约="是"),
        _row("A9", 进厂日期="２０２４-０５-０５", 结算金额="１２３"),
        _row("A9", 进厂日期="2024-05-06"),
        _row("合计", 进厂日期="", 结算金额="10000"),
        _row("A10", 进厂日期="2024-05-07 7:05", 进厂里程="1234567890123"),
    ]
    raw = read_table(_service_file(rows), "odd.csv")
    fast, python = _both(raw)
    _same(fast, python)
    assert fast.duplicates_in_file == 1
    assert {"unreadable date", "total row, not a record"} <= set(fast.rejects["reason"])
    # A10's odometer reading past 2^31 is left blank; its order lands (probe 11).
    assert set(fast.notes["reason"]) == {"number not readable, left blank"}


def test_a_padded_chinese_name_is_one_person_in_both_paths():
    """A table pads a short name to line up (李　娜, 王 强): the advisor is the same person as 李娜
    and 王强, in SQL and in Python; two names in one cell, or a Latin name, stay as written."""
    advisors = [
        "李　娜",
        "李娜",
        "王 强",
        "王强",
        "欧阳 娜",
        "李 小娜(服务顾问)",
        "王强 李娜",
        "John Smith",
        "李\u00a0娜",
    ]
    rows = [_row(f"N{i}", 服务顾问=name) for i, name in enumerate(advisors)]
    raw = read_table(_service_file(rows), "padded.csv")
    fast, python = _both(raw, "service")
    _same(fast, python)
    assert fast.typed.column("advisor").to_pylist() == [
        "李娜", "李娜", "王强", "王强", "欧阳娜", "李小娜", "王强 李娜", "John Smith", "李娜",
    ]  # fmt: skip


dates = st.builds(
    "{}-{:02d}-{:02d}{}".format,
    st.integers(1890, 2110),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["", " 00:00", " 23:59:59", " 24:00:00", " 12:60", " 07:08:09"]),
).map(lambda s: s.replace("-", "/") if len(s) % 3 == 0 else s)
numbers = st.one_of(
    st.from_regex(r"-?[0-9]{1,16}(\.[0-9]{1,4})?", fullmatch=True),
    st.from_regex(r"-?[0-9]{1,4}(,[0-9]{2,4}){0,5}(\.[0-9]{1,3})?", fullmatch=True),
)
cells = st.text(alphabet='0123456789-/.: 年月日万元,¥="abcVIN', max_size=14)


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.one_of(dates, cells),
            st.one_of(numbers, cells),
            st.one_of(st.from_regex(r"(0086)?1[0-9]{10}", fullmatch=True), cells),
            st.one_of(st.from_regex(r"[0-9]{1,10}", fullmatch=True), cells),
            st.one_of(st.from_regex(r"[a-zA-Z0-9 ]{1,17}", fullmatch=True), cells),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_cells_are_typed_alike_by_sql_shapes_and_python_rules(cells_of_rows):
    rows = [
        _row(f"P{i}", 进厂日期=d, 结算金额=n, 联系电话=p, 进厂里程=k, 车架号=v)
        for i, (d, n, p, k, v) in enumerate(cells_of_rows)
    ]
    try:
        raw = read_table(_service_file(rows), "prop.csv")
    except ImportRefused:
        return
    fast, python = _both(raw, "service")
    _same(fast, python)


def test_callbacks_numbered_by_content_agree_in_both_paths():
    rows = [CALLBACK_HEADER] + [
        ["", "WO1", "", "3DC", "2024-05-02 10:00", "小王", "接通", "5", "很好"],
        ["", "WO1", "", "3DC", "2024-05-02 10:00", "小王", "接通", "4", "还行"],
        ["", "WO1", "", "3DC", "2024-05-02 10:00", "小王", "接通", "4", "还行"],
        ["C9", "", "LSVAU2A37N2183746", "7DC", "2024/05/03", "", "未接通", "", ""],
        ["", "", "", "3DC", "2024-05-03 11:00", "", "接通", "3", ""],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    fast, python = _both(read_table(buffer.getvalue().encode("utf-8"), "cb.csv"))
    _same(fast, python)
    ids = fast.typed.column("callback_id").to_pylist()
    # Two distinct attempts with the same content keep apart by their order; the exact duplicate lands once.
    assert len(ids) == 3 and ids[1] == ids[0] + "-2" and ids[2] == "C9"
    assert fast.duplicates_in_file == 1 and fast.rejected == 1


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    demo = pytest.importorskip("analytics.devtools.demo")
    cfg = demo.DemoConfig(scale=0.05)
    return demo.write_dms_files(demo.generate(cfg), tmp_path_factory.mktemp("demo_files"), cfg, xlsx=True)


def test_the_demo_exports_are_typed_alike_by_both_paths(demo_files):
    for path, kind in demo_files:
        fast, python = _both(read_table(path), kind)
        _same(fast, python)


def test_themes_right_after_an_import_equal_those_after_its_tokens_are_stored(demo_files, tmp_path):
    con = db.connect(tmp_path / "fresh.duckdb")
    try:
        for path, kind in demo_files:
            import_file(con, path, kind=kind)
        # The import commits its callbacks; their comments' tokens come afterwards.
        assert con.execute("SELECT count(*) FROM comment_tokens").fetchone() == (0,)
        month = con.execute("SELECT strftime(max(callback_date), '%Y-%m') FROM callbacks").fetchone()[0]
        before = [themes.monthly_themes(con, month, side) for side in ("praise", "complaint")]
        views.prepare(con)
        assert con.execute("SELECT count(*) FROM comment_tokens").fetchone()[0] > 0
        after = [themes.monthly_themes(con, month, side) for side in ("praise", "complaint")]
        assert after == before
        assert before[0]["n_comments"] > 0
    finally:
        con.close()


def test_fields_of_one_type_parsed_together_are_each_typed_as_alone():
    # Score columns with different values (one of them on another scale) and two yes/no columns:
    # each field's values are parsed with the others of its type, and each must come out as the
    # column's own rule types it.
    header = [
        "回访编号",
        "工单号",
        "回访日期",
        "是否接通",
        "总体满意度",
        "服务态度",
        "维修质量",
        "推荐意愿",
        "是否投诉",
    ]
    rows = [
        ["C1", "W1", "2024-05-02", "接通", "满意", "5", "2", "9", "是"],
        ["C2", "W2", "2024-05-02", "未接通", "一般", "4分", "★★★★☆", "10", "否"],
        ["C3", "W3", "2024-05-03", "关机", "非常满意", "3", "5", "0", "Y"],
        ["C4", "W4", "2024-05-03", "接通", "满意", "五", "4", "7", "N"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    raw = read_table(buffer.getvalue().encode("utf-8"), "cb.csv")
    plan = load._prepare(raw, "callback", None)
    typed = plan.typed.to_pandas()
    for field_name, position in (
        ("overall_score", 4),
        ("attitude_score", 5),
        ("quality_score", 6),
        ("recommend_score", 7),
    ):
        alone, _, scale = values.parse_scores(pd.Series([r[position] for r in rows], dtype="str"))
        assert plan.scales[field_name] == scale
        assert typed[field_name].tolist() == pytest.approx(alone.tolist(), nan_ok=True), field_name
    assert plan.scales["recommend_score"] == "0-10" and plan.scales["attitude_score"] == "1-5"
    reached, _ = values.parse_reached(pd.Series([r[3] for r in rows], dtype="str"))
    complaint, _ = values.parse_booleans(pd.Series([r[8] for r in rows], dtype="str"))
    assert typed["reached"].tolist() == reached.tolist()
    assert typed["is_complaint"].tolist() == complaint.tolist()
