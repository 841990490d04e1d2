"""Exports as Chinese Excel and PowerPoint open them, read from the files' bytes and XML rather
than through the library that wrote them: a CSV opened by double-click, an XLSX's styles and
sheet, a PPTX's runs, charts and theme."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pandas as pd
from lxml import etree

from analytics.core.config import settings
from analytics.reports import deck, export

A = "http://schemas.openxmlformats.org/drawingml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS = {"a": A, "s": S}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_cells_are_written_as_they_are_and_none_starts_with_a_formula_sign():
    """Digits stay plain digits (no ="..." guard, which is itself a formula a scan for formula signs
    would flag); leading zeros and all 18 digits are in the file for any program that reads text."""
    frame = pd.DataFrame(
        {
            "phone": ["13800000001", "013912345678"],
            "id_number": ["330102199001011234", "33010219900101123X"],
            "amount": [1.5, 20.0],
        }
    )
    rows = _csv_rows(export.csv_bytes(frame))
    assert rows[1:] == [
        ["13800000001", "330102199001011234", "1.5"],
        ["013912345678", "33010219900101123X", "20.0"],
    ]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_keeps_the_time_of_day_and_writes_days_as_dates():
    frame = pd.DataFrame(
        {
            "callback_date": pd.to_datetime(["2026-10-02 09:30", None]),
            "last_visit": pd.to_datetime(["2025-09-30", "2026-01-05"]),
        }
    )
    rows = _csv_rows(export.csv_bytes(frame))
    assert rows[1:] == [["2026-10-02 09:30", "2025-09-30"], ["", "2026-01-05"]]


def _xlsx_parts(data: bytes) -> tuple[etree._Element, etree._Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return etree.fromstring(z.read("xl/styles.xml")), etree.fromstring(z.read("xl/worksheets/sheet1.xml"))


def test_xlsx_title_and_header_fonts_are_the_workbooks_font_with_its_chinese_theme_face():
    """A font record with no name or scheme (<font><b/></font>) leaves the header's Chinese to
    whatever Excel falls back to; the body's font follows the theme, whose minor font names 宋体
    for simplified Chinese."""
    frame = pd.DataFrame({"name": ["张三"], "amount": [1.5]})
    styles, sheet = _xlsx_parts(
        export.xlsx_bytes(frame, {"name": "客户姓名", "amount": "金额"}, title="名单")
    )
    fonts = styles.findall("s:fonts/s:font", NS)
    xfs = styles.findall("s:cellXfs/s:xf", NS)
    for ref in ("A1", "A2", "B2", "A3"):
        cell = sheet.find(f".//s:c[@r='{ref}']", NS)
        font = fonts[int(xfs[int(cell.get("s", "0"))].get("fontId"))]
        assert font.find("s:name", NS).get("val") == "Calibri", ref
        assert font.find("s:scheme", NS).get("val") == "minor", ref
    title, header = (
        fonts[int(xfs[int(sheet.find(f".//s:c[@r='{r}']", NS).get("s"))].get("fontId"))] for r in ("A1", "A2")
    )
    assert title.find("s:b", NS) is not None and title.find("s:sz", NS).get("val") == "13"
    assert header.find("s:b", NS) is not None and header.find("s:sz", NS).get("val") == "11"


def test_a_sheet_name_neither_starts_nor_ends_with_an_apostrophe():
    """Excel refuses a sheet named 'x' (it repairs the file on opening)."""
    frame = pd.DataFrame({"a": [1]})
    for name, expected in (("'杭州西湖店'", "杭州西湖店"), ("''", "data"), ("店'名", "店'名")):
        with zipfile.ZipFile(io.BytesIO(export.xlsx_bytes(frame, sheet=name))) as z:
            book = etree.fromstring(z.read("xl/workbook.xml"))
        assert book.find("s:sheets/s:sheet", NS).get("name") == expected


def _tiny_deck() -> bytes:
    chart = deck.Chart(
        key="c",
        kind="bar",
        title="流失原因",
        categories=["质保到期", "多次未接通"],
        series=[deck.Series("车辆数", [3.0, 2.0])],
        labels=True,
    )
    slides = [
        deck.Slide(key="title", title="月度汇报", takeaway="杭州西湖店"),
        deck.Slide(key="churn", title="流失", takeaway="质保到期最多", charts=[chart]),
        deck.Slide(key="kpis", title="指标", takeaway="达标", table=[["指标", "值"], ["回访率", "77%"]]),
    ]
    return deck.render(slides, "数据来源 · 全部门店 · 2026-09")


def test_the_deck_theme_names_the_deck_fonts_so_any_text_without_its_own_reads_in_them():
    """python-pptx's default theme has <a:ea typeface=""/> and Calibri: text typed into the deck
    later, and chart text that carries no font of its own, fell back to 宋体 beside Calibri."""
    fonts = settings().deck
    with zipfile.ZipFile(io.BytesIO(_tiny_deck())) as z:
        theme = etree.fromstring(z.read("ppt/theme/theme1.xml"))
    for kind in ("majorFont", "minorFont"):
        scheme = theme.find(f".//a:fontScheme/a:{kind}", NS)
        assert scheme.find("a:latin", NS).get("typeface") == fonts.latin_font
        assert scheme.find("a:ea", NS).get("typeface") == fonts.east_asian_font
        assert scheme.find("a:font[@script='Hans']", NS).get("typeface") == fonts.east_asian_font


def test_every_chinese_run_in_the_deck_names_the_east_asian_font():
    east_asian = settings().deck.east_asian_font
    seen = 0
    with zipfile.ZipFile(io.BytesIO(_tiny_deck())) as z:
        for name in z.namelist():
            if not re.match(r"ppt/(slides/slide|charts/chart)\d+\.xml$", name):
                continue
            root = etree.fromstring(z.read(name))
            for run in root.iter(f"{{{A}}}r"):
                if CJK.search("".join(run.itertext())):
                    seen += 1
                    assert run.xpath("./a:rPr/a:ea/@typeface", namespaces=NS) == [east_asian], name
    assert seen >= 8


def test_data_quality_findings_download_in_chinese_with_no_english_codes_or_headers(demo_db, tmp_path):
    """The findings' lists went out with table_name service_orders, problem check digit, an English
    reason and the headers reason and candidate_order_ids in the Chinese file."""
    import shutil

    from analytics.core.i18n import catalog
    from analytics.domain import quality
    from analytics.reports.export import coded_values
    from analytics.services import reads
    from analytics.store import db

    # A copy: the test process may hold the shared demo open read-write (AppTests).
    copy = tmp_path / "quality.duckdb"
    shutil.copy(demo_db, copy)
    con = db.connect(copy, read_only=True)
    try:
        columns = {
            c for check in quality.CHECKS for c in reads.read(con, "quality.finding", check=check).columns
        }
    finally:
        con.close()
    assert sorted(c for c in columns if f"field.{c}" not in catalog()) == []
    frame = pd.DataFrame(
        {
            "table_name": ["service_orders", "callbacks", "callbacks"],
            "problem": ["length", "characters", "check digit"],
            "reason": ["several work orders have this number", "the work order is another vehicle's", None],
        }
    )
    people = export.for_people(frame, "zh", coded_values("zh"))
    assert not [v for c in people.columns for v in people[c] if re.search("[A-Za-z]", str(v))]
    english = export.for_people(frame, "en", coded_values("en"))
    assert list(english["table_name"]) == ["Work orders", "Callbacks", "Callbacks"]


def test_the_overviews_red_flag_download_names_the_flag_in_the_users_language():
    """The red-flag lists went out with flag no_followup or complaint_overdue in the Chinese file."""
    from analytics.reports.export import coded_values

    frame = pd.DataFrame({"flag": ["no_followup", "complaint_overdue"]})
    assert list(export.for_people(frame, "zh", coded_values("zh"))["flag"]) == ["未跟进", "投诉超时"]
    assert list(export.for_people(frame, "en", coded_values("en"))["flag"]) == [
        "Not followed up",
        "Complaint overdue",
    ]
