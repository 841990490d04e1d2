"""A workbook imports whatever its sheets are called (openpyxl's default ``Sheet`` too), read by
calamine or by openpyxl, and an empty first sheet is named and skipped."""

from __future__ import annotations

import openpyxl
import pytest

from analytics import cli
from analytics.ingest import read
from analytics.store import db

HEADER = ["工单号", "车架号", "进厂日期"]
ROW = ["0001234", "LSVAU2A37N2183746", "2026-10-02"]


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
@pytest.mark.parametrize(
    "titles",
    [["Sheet"], ["Sheet1"], ["工作表1"], ["Sheet 1"], ["O'Brien's"], ["Sheet", "Sheet1"]],
    ids=["Sheet", "Sheet1", "工作表1", "Sheet 1", "quote", "empty first"],
)
def test_a_workbook_imports_whatever_its_sheets_are_called(tmp_path, capsys, monkeypatch, titles, reader):
    if reader == "openpyxl":
        # The reader of workbooks calamine must not hold as a grid (a far stray cell, prefixed tags).
        monkeypatch.setattr(read, "_check_xlsx_size", lambda data, name: read._WorkbookScan(calamine=False))
    book = openpyxl.Workbook()
    book.active.title = titles[0]
    for title in titles[1:]:
        book.create_sheet(title)
    sheet = book.worksheets[-1]
    sheet.append(HEADER)
    sheet.append(ROW)
    path = tmp_path / "orders.xlsx"
    book.save(path)
    database = tmp_path / "titles.duckdb"

    code = cli.main(["import", str(path), "--db", str(database), "--no-marts"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in out + err
    if len(titles) > 1:
        assert f"sheet {titles[0]}: 0 rows" in out and "(the sheet is empty)" in out
    con = db.connect(database)
    assert con.execute("SELECT order_id FROM service_orders").fetchall() == [("0001234",)]


def _survey_book(path, sheets: dict[str, list[int]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for n, (title, answers) in enumerate(sheets.items()):
        sheet = book.create_sheet(title)
        sheet.append(["回访编号", "工单号", "回访日期", "满意度"])
        for i, answer in enumerate(answers):
            sheet.append([f"CB{n}{i:03d}", f"WO{n}{i:03d}", f"202{3 + n}-04-{10 + i:02d}", answer])
    book.save(path)


def test_a_sheet_whose_answers_all_fit_a_narrower_scale_than_the_workbook_says_so(tmp_path):
    """Session 42: a yearly sheet of a 1-5 survey beside a 0-10 one was read on the workbook's 0-10
    scale (its 5s landed as 5 of 10) without a word. The file's scale is kept (a month of low
    0-10 answers looks the same), and the sheet's line says so, in both languages."""
    from analytics.ingest import import_file, sheet_table

    path = tmp_path / "回访.xlsx"
    _survey_book(path, {"2023年": [5, 4, 5, 3, 5], "2024年": [10, 9, 7, 8, 10]})
    con = db.connect(tmp_path / "scales.duckdb")
    try:
        result = import_file(con, path, kind="callback")
        assert result.mapping["scales"] == {"overall_score": "0-10"}
        reasons = {s["sheet"]: s["reason"] for s in result.sheets}
        assert reasons["2023年"] == (
            "满意度: answers all within 1-5 here; read on the file's 0-10 scale "
            "(import this sheet alone if it is a 1-5 survey)"
        )
        assert reasons["2024年"] == ""
        zh = sheet_table(result.sheets, "zh")["reason"].tolist()[0]
        assert zh.startswith("满意度：本表的回答都在 1-5 之内") and "answers" not in zh
        # Two sheets on the same scale, or one sheet alone, say nothing of it.
        _survey_book(path, {"2023年": [10, 9, 6, 8], "2024年": [10, 9, 7, 8, 10]})
        again = import_file(con, path, kind="callback")
        assert all(not s["reason"] for s in again.sheets)
    finally:
        con.close()
