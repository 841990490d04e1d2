"""The three kinds of file a DMS exports as "Excel" besides XLSX, written at test time.

``xls_bytes`` writes a BIFF8 workbook with xlwt (dates as date cells, numbers as numbers, like a
DMS's own writer), ``html_bytes`` an HTML table (as web DMSs save ".xls" files, GBK with a
``<meta charset>`` by default), ``spreadsheetml_bytes`` an Excel 2003 XML Spreadsheet. ``typed``
turns the text of a golden CSV cell into the cell a workbook would hold. The ``ole2_*`` helpers
edit an xlwt file into the hostile OLE2 files of the corpus (a Word document, a password-protected
workbook, a lying DIMENSIONS record).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
from html import escape
from xml.sax.saxutils import escape as xml_escape

import openpyxl
import xlwt

_DATE = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$")
_MOMENT = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d+\.\d+$")
_SMALL_INT = re.compile(r"^\d{1,6}$")

Cell = str | int | float | dt.date | dt.datetime


def typed(cell: str) -> Cell:
    """Return the cell as a workbook holds it: dates and times as dates, amounts and counts as numbers."""
    if match := _MOMENT.match(cell):
        year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
        return dt.datetime(year, month, day, hour, minute, second)
    if match := _DATE.match(cell):
        return dt.date(*map(int, match.groups()))
    if _GROUPED.match(cell):
        return float(cell.replace(",", ""))
    if _SMALL_INT.match(cell):
        return int(cell)
    return cell


def xls_bytes(sheets: dict[str, list[list[Cell]]]) -> bytes:
    """Return a BIFF8 .xls workbook with one sheet per entry (rows of typed cells)."""
    book = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    moment = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    for title, rows in sheets.items():
        sheet = book.add_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value == "":
                    continue
                if isinstance(value, dt.datetime):
                    sheet.write(r, c, value, moment)
                elif isinstance(value, dt.date):
                    sheet.write(r, c, value, day)
                else:
                    sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[Cell]]]) -> bytes:
    """Return the same workbook as XLSX (openpyxl), for comparison."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append([None if value == "" else value for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def html_bytes(rows: list[list[str]], encoding: str = "gbk", title: str | None = "工单导出") -> bytes:
    """Return the rows as an HTML table the way web DMSs save ".xls": header cells as <th>, a title
    row spanning the table, and a ``<meta charset>`` naming the encoding."""
    width = max(len(row) for row in rows)
    lines = [
        '<html xmlns:x="urn:schemas-microsoft-com:office:excel">',
        f'<head><meta http-equiv="Content-Type" content="text/html; charset={encoding}"></head>',
        "<body><table border=1>",
    ]
    if title:
        lines.append(f'<tr><td colspan="{width}"><b>{escape(title)}</b></td></tr>')
    for number, row in enumerate(rows):
        tag = "th" if number == 0 else "td"
        lines.append("<tr>" + "".join(f"<{tag}>{escape(cell)}</{tag}>" for cell in row) + "</tr>")
    lines.append("</table></body></html>")
    return "\n".join(lines).encode(encoding)


def _ss_cell(value: Cell) -> str:
    if value == "":
        return ""
    if isinstance(value, dt.datetime):
        kind, text = "DateTime", value.strftime("%Y-%m-%dT%H:%M:%S.000")
    elif isinstance(value, dt.date):
        kind, text = "DateTime", value.strftime("%Y-%m-%dT00:00:00.000")
    elif isinstance(value, int | float):
        kind, text = "Number", repr(value)
    else:
        kind, text = "String", xml_escape(value)
    return f'<Data ss:Type="{kind}">{text}</Data>'


def spreadsheetml_bytes(sheets: dict[str, list[list[Cell]]], doctype: str = "") -> bytes:
    """Return the workbook as an Excel 2003 XML Spreadsheet; empty cells are left out and the next
    cell carries ss:Index, as Excel writes them."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?mso-application progid="Excel.Sheet"?>',
        doctype,
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">',
    ]
    for title, rows in sheets.items():
        parts.append(f'<Worksheet ss:Name="{xml_escape(title)}"><Table>')
        for row in rows:
            cells, skipped = [], False
            for c, value in enumerate(row, start=1):
                if value == "":
                    skipped = True
                    continue
                index = f' ss:Index="{c}"' if skipped else ""
                cells.append(f"<Cell{index}>{_ss_cell(value)}</Cell>")
                skipped = False
            parts.append("<Row>" + "".join(cells) + "</Row>")
        parts.append("</Table></Worksheet>")
    parts.append("</Workbook>")
    return "\n".join(parts).encode("utf-8")


def ole2_renamed(data: bytes, old: str, new: str) -> bytes:
    """Return the compound file with its directory entry ``old`` renamed ``new`` (a .xls made a
    Word document by its directory, say)."""
    name = (old + "\x00").encode("utf-16-le")
    at = data.index(name)
    assert at % 128 == 0, "directory entries start on 128-byte boundaries"
    encoded = (new + "\x00").encode("utf-16-le")
    entry = bytearray(data[at : at + 128])
    entry[:64] = encoded.ljust(64, b"\x00")
    entry[0x40:0x42] = struct.pack("<H", len(encoded))
    return data[:at] + bytes(entry) + data[at + 128 :]


def _biff_records(data: bytes, start: int):
    offset = start
    while offset + 4 <= len(data):
        kind, length = struct.unpack_from("<HH", data, offset)
        yield kind, offset, length
        if kind == 0x000A:
            return
        offset += 4 + length


def ole2_with_password(data: bytes) -> bytes:
    """Return the .xls with a FILEPASS record (RC4 encryption) in its globals, as Excel writes one
    for a workbook saved with a password: an existing two-byte record is overwritten in place."""
    start = data.index(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # BOF of the workbook globals
    for kind, offset, length in _biff_records(data, start):
        if kind != 0x0809 and length == 2:
            return data[:offset] + struct.pack("<HHH", 0x002F, 2, 1) + data[offset + 6 :]
    raise AssertionError("no two-byte record to overwrite")


def ole2_with_dimensions(data: bytes, last_row: int) -> bytes:
    """Return the .xls with its first sheet's DIMENSIONS record claiming ``last_row`` rows."""
    start = data.index(b"\x09\x08\x10\x00\x00\x06\x10\x00")  # BOF of the first worksheet
    for kind, offset, length in _biff_records(data, start):
        if kind == 0x0200 and length == 14:
            return data[: offset + 8] + struct.pack("<I", last_row) + data[offset + 12 :]
    raise AssertionError("no DIMENSIONS record")


def ole2_with_string_count(data: bytes, count: int) -> bytes:
    """Return the .xls with its shared-string table claiming ``count`` strings."""
    start = data.index(b"\x09\x08\x10\x00\x00\x06\x05\x00")
    for kind, offset, _ in _biff_records(data, start):
        if kind == 0x00FC:
            return data[: offset + 8] + struct.pack("<i", count) + data[offset + 12 :]
    raise AssertionError("no SST record")
