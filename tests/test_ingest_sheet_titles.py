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
        monkeypatch.setattr(read, "_check_xlsx_size", lambda data, name: (False, []))
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
