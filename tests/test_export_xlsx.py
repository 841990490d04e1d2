"""Excel lists as a call centre expects them: title, bold frozen filtered header, text phones and
VINs, real dates, a rank, words instead of codes, blanks, whole days, a sheet in the user's language."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from analytics.reports import export

CODES = {"status": {"lost": "已流失", "at_risk": "流失预警"}, "value_tier": {"high": "高", "low": "低"}}
HEADERS = {
    "vin": "VIN",
    "phone": "电话",
    "status": "状态",
    "value_tier": "价值等级",
    "priority": "优先级",
    "rank": "排序（1 = 最先联系）",
    "last_visit": "最近进店",
    "callback_date": "回访时间",
    "followed_up": "已跟进",
    "days_since_callback": "距回访天数",
    "comment": "意见",
}


def _list() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vin": ["LSVAA4180E2100001", "00123456789012345", "LSVAA4180E2100003"],
            "phone": [13800000001.0, "013912345678", None],
            "status": ["lost", "at_risk", "lost"],
            "value_tier": ["high", "low", "high"],
            "priority": [120.5, 20742.11, 3.2],
            "last_visit": ["2025-09-30", "", "2026-01-05"],
            "callback_date": pd.to_datetime(["2026-10-02 09:30", "2026-10-03 14:05", None]),
            "followed_up": [True, False, True],
            "days_since_callback": [31.4, 2.6, 0.2],
            "comment": ['=HYPERLINK("x")', None, "None"],
        }
    )


def _sheet(frame: pd.DataFrame, lang: str = "zh", title: str | None = "杭州西湖店 · 流失客户召回名单"):
    people = export.for_people(frame, lang, CODES)
    data = export.xlsx_bytes(people, HEADERS, "流失客户召回名单", title=title)
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_for_people_words_codes_ranks_and_blanks():
    out = export.for_people(_list(), "zh", CODES)
    assert list(out.columns) == [
        "vin",
        "phone",
        "status",
        "value_tier",
        "rank",
        "last_visit",
        "callback_date",
        "followed_up",
        "days_since_callback",
        "comment",
    ]
    assert out["status"].tolist() == ["已流失", "流失预警", "已流失"]
    assert out["value_tier"].tolist() == ["高", "低", "高"]
    assert out["rank"].tolist() == [2, 1, 3]
    assert out["phone"].tolist() == ["13800000001", "013912345678", ""]
    assert out["followed_up"].tolist() == ["是", "否", "是"]
    assert out["days_since_callback"].tolist() == [31, 3, 0]
    assert out["comment"].tolist() == ['=HYPERLINK("x")', "", ""]
    assert out["last_visit"].iloc[0] == pd.Timestamp("2025-09-30") and pd.isna(out["last_visit"].iloc[1])
    english = export.for_people(_list(), "en", None)
    assert english["followed_up"].tolist() == ["yes", "no", "yes"]
    assert english["status"].tolist() == ["lost", "at_risk", "lost"]  # without codes nothing is guessed


def test_xlsx_has_title_bold_frozen_filtered_header_and_named_sheet():
    ws = _sheet(_list())
    assert ws.title == "流失客户召回名单"
    assert ws["A1"].value == "杭州西湖店 · 流失客户召回名单" and ws["A1"].font.bold
    header = [c.value for c in ws[2]]
    assert header == [
        "VIN",
        "电话",
        "状态",
        "价值等级",
        "排序（1 = 最先联系）",
        "最近进店",
        "回访时间",
        "已跟进",
        "距回访天数",
        "意见",
    ]
    assert all(c.font.bold for c in ws[2])
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:J5"


def test_xlsx_cells_are_text_dates_whole_numbers_and_blanks():
    ws = _sheet(_list())
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    # Phones and VINs as text, the leading zero kept.
    assert rows[0][0] == "LSVAA4180E2100001" and rows[1][0] == "00123456789012345"
    assert rows[0][1] == "13800000001" and rows[1][1] == "013912345678"
    assert ws["A3"].number_format == "@" and ws["B3"].number_format == "@"
    assert ws["A3"].data_type == "s" and ws["B3"].data_type == "s"
    # Dates as Excel dates: days only for a date, minutes for a time of day.
    assert rows[0][5] == datetime(2025, 9, 30) and ws["F3"].number_format == "YYYY-MM-DD"
    assert rows[1][5] is None
    assert rows[0][6] == datetime(2026, 10, 2, 9, 30) and ws["G3"].number_format == "YYYY-MM-DD HH:MM"
    assert [r[4] for r in rows] == [2, 1, 3]
    assert [r[2] for r in rows] == ["已流失", "流失预警", "已流失"]
    assert [r[7] for r in rows] == ["是", "否", "是"]
    assert [r[8] for r in rows] == [31, 3, 0]
    # Formula-safe (the neutralisation is issue 19's), and no "None" anywhere.
    assert rows[0][9] == '\'=HYPERLINK("x")'
    assert rows[1][9] is None and rows[2][9] is None
    assert not any(v == "None" for r in rows for v in r)


def test_xlsx_widths_follow_the_content_and_chinese_counts_double():
    ws = _sheet(_list())
    assert ws.column_dimensions["A"].width == pytest.approx(19)  # 17 characters + 2
    assert 8 <= ws.column_dimensions["C"].width <= 14  # "流失预警" = 8 columns wide
    assert ws.column_dimensions["F"].width == 14  # a date
    wide = pd.DataFrame({"comment": ["很" * 80]})
    assert _sheet(wide, title=None).column_dimensions["A"].width == 60


def test_without_a_title_the_header_is_the_first_row_and_sheet_names_are_made_safe():
    people = export.for_people(_list(), "en", None)
    data = export.xlsx_bytes(people, None, "Churn: call/list [October] and a very long name")
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:J4"
    assert ws.title == "Churn call list October and a v"
    assert len(ws.title) <= 31 and not set("[]:*?/\\") & set(ws.title)


def test_csv_keeps_utf8_bom_and_writes_dates_as_days():
    people = export.for_people(_list(), "zh", CODES)
    data = export.csv_bytes(people, HEADERS)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:6] == ["VIN", "电话", "状态", "价值等级", "排序（1 = 最先联系）", "最近进店"]
    assert lines[1].split(",")[:6] == ["LSVAA4180E2100001", "13800000001", "已流失", "高", "2", "2025-09-30"]
    assert "None" not in data.decode("utf-8-sig")


def test_the_demo_churn_list_in_excel_reads_in_chinese(demo_db, tmp_path):
    import shutil

    from analytics.domain import churn
    from analytics.reports.export import coded_values
    from analytics.store import db

    # A copy: the test process may hold the shared demo open read-write (AppTests).
    copy = tmp_path / "churn_xlsx.duckdb"
    shutil.copy(demo_db, copy)
    con = db.connect(copy, read_only=True)
    try:
        shot = churn.snapshot(con, date(2026, 10, 31))
    finally:
        con.close()
    ranked = churn.prioritise(shot.vehicles.head(200))
    frame = churn.export_frame(ranked, "zh")
    people = export.for_people(frame, "zh", coded_values("zh"))
    ws = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(people, None, "名单", title="t"))).active
    values = [v for r in ws.iter_rows(min_row=3, values_only=True) for v in r]
    assert not {v for v in values if isinstance(v, str)} & {
        "lost",
        "at_risk",
        "active",
        "high",
        "medium",
        "low",
        "None",
    }
    assert not any(isinstance(v, bool) for v in values)
    assert {"已流失", "流失预警"} & set(values)
    assert [c.value for c in ws[2]].count("rank") == 1
    ranks = [
        r[0]
        for r in ws.iter_rows(
            min_row=3,
            min_col=[c.value for c in ws[2]].index("rank") + 1,
            max_col=[c.value for c in ws[2]].index("rank") + 1,
            values_only=True,
        )
    ]
    assert ranks == list(range(1, len(ranked) + 1))
