"""A ninth probe of real-style exports (session 21): a workbook whose later sheets add a column
naming the same field before the first sheet's (原工单号 before 工单号), and a two-row header whose
upper row groups columns of one name (工时 / 材料 / 合计 over 金额). Each test builds the file the
way a DMS writes it and failed before its fix (the wrong column's values landed)."""

from __future__ import annotations

import io

import duckdb
import openpyxl
import pytest

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
    assert _rows(con, "SELECT order_id, amount FROM service_orders ORDER BY 1") == [("WO1", 300), ("WO2", 400)]


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
    assert _rows(con, "SELECT order_id, amount FROM service_orders ORDER BY 1") == [("WO1", 500), ("WO2", 200)]


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
