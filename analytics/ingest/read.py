"""Bytes or a path to a raw table of strings: format, encoding, delimiter and header row sniffed.

The format is told by content, never by the file name: a ZIP signature means XLSX, an OLE2 one an
Excel 97-2003 workbook (``ingest.biff`` looks inside first), text that opens with an HTML tag an
HTML table saved as .xls, and XML in Excel's spreadsheet namespace the Excel 2003 XML Spreadsheet
(both read by ``ingest.markup``); any other text is CSV. CSV text
is tried as UTF-16/32 (by BOM, or by the pattern of zero bytes without one), strict UTF-8 (with
or without BOM), UTF-8 and GB18030 line by line (two exports pasted together), GB18030 (a
superset of GBK), then charset-normalizer's best guess. The header row is the row among the
first 30 that names the most known columns, so title lines and blank rows above it do not matter.

The reader bounds its work: a row with values in more than ``MAX_COLUMNS`` columns, a "header"
that is a long run of text, or a quote left open that swallows the rest of the file is refused
with a sentence rather than parsed for minutes or read as one giant cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import os
import posixpath
import re
import struct
import warnings
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from analytics.core.config import settings
from analytics.core.errors import ImportRefused
from analytics.ingest import biff, markup, number_formats, refusal_words
from analytics.ingest.mapping import (
    FIELDS_BY_KIND,
    KIND_LABELS,
    detect_kind,
    match_header,
    matched_fields,
    normalise_header,
)
from analytics.ingest.values import MISSING_TOKENS

SOURCE_ROW = "_source_row"
# The sheet a row of a workbook came from (workbooks only).
SOURCE_SHEET = "_source_sheet"
# The name a column without a header gets ("column F").
_UNNAMED = re.compile(r"column [A-Z]+")
# What a group label above sub-columns adds to its subject: 客户信息 is about the 客户.
_GROUP_SUFFIX = re.compile(r"(?:信息|资料|情况|档案)$")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_PLAIN_ROW_TAG = re.compile(rb"<row[\s>/]")
# Cell and row tags, references past column Z (r="AB12") and row numbers, as calamine reads them.
# A cell tag (<c followed by a space, > or /) that does not open with a reference (r="..."):
# searched for, rather than every cell tag counted, since a sheet holds hundreds of thousands.
_CELL_WITHOUT_REF = re.compile(rb'<c(?:[>/\t\n\r\x0b\x0c]| (?!r="))')
_PREFIXED_CELL = re.compile(rb":(?:c|row)[\s>/]")
_WIDE_CELL = re.compile(rb'<c r="([A-Za-z]{2,})')
# The end of a formula cell with no saved value (no <v>, or an empty one): a workbook written by
# a program and never opened in Excel, whose cells read as blank. Anchored on the formula's end,
# which only formula cells hold, so a sheet of values is scanned quickly.
_FORMULA_TAG = re.compile(rb"<f[\s>/]")
_UNSAVED_FORMULA_END = re.compile(rb"(?:<f\b[^>]*/>|</f>)\s*(?:<v\s*/>|<v></v>)?\s*</c>")
_CELL_REF = re.compile(rb'<c r="([A-Za-z]+\d+)"')
# The most cells (rows times columns, from A1) a sheet may span for calamine to read it.
MAX_GRID_CELLS = 20_000_000  # 500,000 rows of 40 columns
HEADER_SEARCH_ROWS = 30
# No DMS export is this wide; a wider row is a wrong file or a wrong delimiter. Empty cells at
# the end of a row (Excel writes them for formatted columns) do not count.
MAX_COLUMNS = 1000
# A header cell longer than this is a line of text, not a column name.
MAX_HEADER_CHARS = 200
# A quoted cell spanning more lines than this has swallowed records: a quote was left open.
MAX_CELL_LINES = 50
DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")
_SNIFF_CHARS = 65536
_SNIFF_RECORDS = 200

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"RIFF", "a media file"),
    (b"\x00\x00\x01\x00", "an icon image"),
)
# Leading blank space and <!-- comments --> are skipped before looking for markup.
_MARKUP_START = re.compile(r"^(?:\s|<!--.*?-->)*", re.DOTALL)
_HTML = re.compile(r"<(!doctype\s+html|html|head|body|table|meta|div|style|script|title)\b", re.IGNORECASE)
_XML = re.compile(r"<\?xml\b", re.IGNORECASE)
_EXCEL_XML = "urn:schemas-microsoft-com:office:spreadsheet"
# Two Chinese characters in a row encoded as UTF-8: some lines of a non-UTF-8 file may be UTF-8.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SAVE_AS = "open it in Excel and save it as .xlsx or CSV, then import that file"
_AGAIN = "export the records again from the DMS and import that file"
_HEADER_ONLY = "has a header row but no data rows"
_UNZIP = "unzip it and import the files inside"
# DOS's end-of-file mark (Ctrl-Z) after the last line, as old DMSs and `copy /a` write it.
_DOS_END = re.compile(r"\x1a[\x1a\s]*\Z")
# pandas' text dtype, the one every grid column has.
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


@dataclass
class SheetReport:
    """One sheet of a file (a CSV is one sheet named ""): its data rows, blank rows, and whether
    it was read as part of the table or skipped, with the reason."""

    name: str
    rows: int
    blank: int = 0
    header_row: int = 0
    imported: bool = True
    reason: str = ""
    # The table's columns this sheet does not have (stacked with sheets that do): its rows supply
    # no value for them, so a stored value stays.
    lacking: tuple[str, ...] = ()


@dataclass
class RawTable:
    """A file read as text: its header row and one row of strings (missing cells NA) per record."""

    file_name: str
    encoding: str | None
    header_row: int
    headers: list[str]
    rows: pd.DataFrame
    format: str = "csv"
    delimiter: str | None = None
    sha256: str = ""
    sheets: list[SheetReport] = field(default_factory=list)
    # A workbook's formula cells that hold no saved value (written by a program, never opened in
    # Excel): (sheet title, or None when the workbook does not say which sheet; cell; row).
    unsaved_formulas: tuple[tuple[str | None, str, int], ...] = ()


def import_limits() -> tuple[int, int]:
    """Return (most data rows, most expanded megabytes) a file may have, from data/settings.toml."""
    section = settings().import_
    return section.max_rows, int(section.max_expanded_mb)


_RAISE_LIMIT = "if the file is genuine, raise {key} in the [import] section of data/settings.toml"


def _check_bytes(data: bytes, name: str) -> None:
    """Refuse a file of more bytes than the bounds allow, before decoding or parsing it."""
    check_size(len(data), name)


def check_size(size: int, name: str) -> None:
    """Refuse a file of ``size`` bytes when it is more than the bounds allow: called with the size
    the file system gives before a file is read (a sparse file of gigabytes costs its maker no
    disk, and reading it would take that much memory), and again on the bytes read."""
    _, max_mb = import_limits()
    if size > max_mb * 1_000_000:
        raise _refuse(
            name,
            f"is {size / 1_000_000:,.0f} MB, more than the {max_mb:,} MB an import reads",
            "split the export into smaller files (by month or year), or "
            + _RAISE_LIMIT.format(key="max_expanded_mb"),
        )


def _check_csv_size(data: bytes, name: str) -> None:
    """Refuse a text file with more lines than the bounds allow (its bytes are checked before decoding)."""
    max_rows, _ = import_limits()
    lines = data.count(b"\n")
    if lines > max_rows + HEADER_SEARCH_ROWS:
        raise _refuse(
            name,
            f"has {lines:,} lines, more than the {max_rows:,} rows an import reads",
            "split the export into smaller files (by month or year), or "
            + _RAISE_LIMIT.format(key="max_rows"),
        )


_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb'(\w+)\s*=\s*"([^"]*)"')


def _worksheet_parts(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo] | None:
    """Return the ZIP parts the workbook's relationships name as worksheets (where calamine reads
    them, whatever their names), with every part under xl/worksheets/; None when a named part is
    missing."""
    names = {info.filename: info for info in archive.infolist()}
    found: dict[str, zipfile.ZipInfo] = {n: i for n, i in names.items() if n.startswith("xl/worksheets/")}
    try:
        rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
        return None
    for kind, path in _relationships(rels).values():
        if not kind.endswith("/worksheet"):
            continue
        if path not in names:
            return None
        found[path] = names[path]
    return list(found.values())


def _attributes(tag: bytes) -> dict[str, str]:
    """Return a tag's attributes by lower-case name, a namespace left off (r:id is "id")."""
    return {k.decode("ascii").lower(): v.decode("utf-8", "replace") for k, v in _ATTRIBUTE.findall(tag)}


def _relationships(rels: bytes) -> dict[str, tuple[str, str]]:
    """Return the workbook's relationships by id: (type, the part's path in the archive)."""
    found: dict[str, tuple[str, str]] = {}
    for tag in _RELATIONSHIP.findall(rels):
        attributes = _attributes(tag)
        target = attributes.get("target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
        found[attributes.get("id", "")] = (attributes.get("type", ""), path)
    return found


# Cells whose text the scan of a sheet's XML gives, by sheet title (None when the workbook does not
# name the sheet): (row, column, text), 1-based.
_Shown = dict[str | None, list[tuple[int, int, str]]]


@dataclass
class _WorkbookScan:
    """What the scan of a workbook's parts found, before any sheet is parsed."""

    # Whether calamine may open the workbook: every sheet places its cells by reference, without
    # prefixed tags; otherwise (and for damaged workbooks) openpyxl streams every sheet.
    calamine: bool = False
    # Formula cells that hold no saved value: (sheet title or None, cell, row).
    unsaved: list[tuple[str | None, str, int]] = field(default_factory=list)
    # Cells whose text calamine does not give: error values (``_error_cells``), and numbers whose
    # format makes them say something else (``_shaped_cells``: 001234, WO001235, 90%).
    shown: _Shown = field(default_factory=dict)
    # Sheets streamed row by row, their empty rows never held, instead of held as calamine's grid
    # from A1 to the farthest cell: mostly empty rows (a stray value far below the table), or a grid
    # of more than MAX_GRID_CELLS.
    streamed: set[str] = field(default_factory=set)


def _check_xlsx_size(data: bytes, name: str) -> _WorkbookScan:
    """Refuse a workbook whose sheets expand beyond the bounds, reading its ZIP directory and
    counting row tags (a small file can expand to millions of rows); return what calamine may read
    and what else the sheets' XML says (``_WorkbookScan``): formula cells that hold no saved value,
    which ``refuse_unsaved_formulas`` judges once the rows are known, and error cells.

    calamine holds a sheet as a full grid from A1 to its farthest cell, so a stray cell at
    XFD1048576 would ask it for billions of cells, and one at row 200,000 for millions of empty
    ones: such sheets are streamed by openpyxl, which keeps the rows holding values. Damaged
    workbooks and ZIP files that are not XLSX go to openpyxl, which refuses what it cannot open.
    """
    max_rows, max_mb = import_limits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return _WorkbookScan()
    scan = _WorkbookScan(calamine=True)
    with archive:
        if "xl/workbook.xml" not in archive.namelist():
            _refuse_archive(archive, name)
            return _WorkbookScan()
        # Every part counts, whatever its name: a sheet stored as xl/worksheets/sheet1.dat or
        # /data/sheet1.xml is read by calamine all the same (seen to abort the process).
        parts = archive.infolist()
        expanded = sum(i.file_size for i in parts)
        if expanded > max_mb * 1_000_000:
            raise _refuse(
                name,
                f"expands to {expanded / 1_000_000:,.0f} MB of sheet data, more than the {max_mb:,} MB an "
                "import reads",
                "split the export into smaller files (by month or year), or "
                + _RAISE_LIMIT.format(key="max_expanded_mb"),
            )
        sheets = _worksheet_parts(archive)
        if sheets is None:
            return _WorkbookScan()  # a sheet the workbook names is not in the file: openpyxl refuses it below
        titles = _sheet_titles(archive)
        styles = _shaping_styles(archive)
        rows = 0
        for info in sheets:
            try:
                # At most the size the ZIP directory declares, checked above.
                sheet = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
                return _WorkbookScan()  # damaged: openpyxl refuses it below with its own sentence
            title = titles.get(info.filename)
            # A prefixed tag (<x:row>, <x:c>) is counted by the wider pattern, and calamine does not
            # place such cells by reference; without one, the plain row tags are the rows.
            prefixed = _PREFIXED_CELL.search(sheet) is not None
            sheet_rows = len((_ROW_TAG if prefixed else _PLAIN_ROW_TAG).findall(sheet))
            rows += sheet_rows
            if rows > max_rows + HEADER_SEARCH_ROWS:
                raise _refuse(
                    name,
                    f"has more than {max_rows:,} rows in its sheets, more than an import reads",
                    "split the export into smaller files (by month or year), or "
                    + _RAISE_LIMIT.format(key="max_rows"),
                )
            extent = None if prefixed else _grid_extent(sheet, sheet_rows)
            if extent is None:
                scan.calamine = False
            elif not _held_as_grid(extent, sheet_rows):
                if title is None:
                    scan.calamine = False  # calamine names the sheet otherwise: stream them all
                else:
                    scan.streamed.add(title)
            if _FORMULA_TAG.search(sheet):
                scan.unsaved.extend((title, ref, _ref_row(ref)) for ref in _unsaved_formulas(sheet))
            if b't="e"' in sheet:
                scan.shown.setdefault(title, []).extend(_error_cells(sheet))
            if styles:
                shaped = _shaped_cells(sheet, styles)
                if shaped:
                    scan.shown.setdefault(title, []).extend(shaped)
    return scan


_NUMBER_FORMAT_TAG = re.compile(rb"<(?:\w+:)?numFmt\b[^>]*>")
_CELL_FORMATS = re.compile(rb"<(?:\w+:)?cellXfs\b.*?</(?:\w+:)?cellXfs>", re.DOTALL)
_FORMAT_TAG = re.compile(rb"<(?:\w+:)?xf\b[^>]*>")


def _shaping_styles(archive: zipfile.ZipFile) -> dict[bytes, number_formats.NumberFormat]:
    """Return the cell styles (their index as a cell's s="..." writes it) whose number format changes
    what a number says (``number_formats``: 000000, "WO"000000, 0%); most workbooks have none, and
    their sheets are not searched for such cells."""
    try:
        rels = archive.read("xl/_rels/workbook.xml.rels")
        path = next(
            (p for kind, p in _relationships(rels).values() if kind.endswith("/styles")), "xl/styles.xml"
        )
        styles = archive.read(path)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
        return {}
    codes: dict[int, str] = dict(number_formats.BUILT_IN)
    for tag in _NUMBER_FORMAT_TAG.findall(styles):
        attributes = _attributes(tag)
        if attributes.get("numfmtid", "").isdigit() and "formatcode" in attributes:
            codes[int(attributes["numfmtid"])] = html.unescape(attributes["formatcode"])
    block = _CELL_FORMATS.search(styles)
    compiled: dict[int, number_formats.NumberFormat | None] = {}
    found: dict[bytes, number_formats.NumberFormat] = {}
    for index, tag in enumerate(_FORMAT_TAG.findall(block.group(0)) if block else ()):
        number = _attributes(tag).get("numfmtid", "0")
        fmt = int(number) if number.isdigit() else 0
        if fmt not in compiled:
            compiled[fmt] = number_formats.shaping_format(codes[fmt]) if fmt in codes else None
        shaping = compiled[fmt]
        if shaping is not None:
            found[str(index).encode("ascii")] = shaping
    return found


def _shaped_cells(
    sheet: bytes, styles: dict[bytes, number_formats.NumberFormat]
) -> list[tuple[int, int, str]]:
    """Return the number cells of a worksheet whose style's number format changes what they say, as
    (row, column, the text Excel shows), 1-based: 1234 formatted 000000 is 001234, as a CSV saved
    from the sheet writes it (calamine gives the number). A sheet that uses none of those styles
    costs a search for each; the cells are found by one pattern, in C, in the form Excel, WPS,
    openpyxl and XlsxWriter write them (r, then s, then t="n" or no type; a formula before the value)."""
    used = [style for style in styles if b' s="' + style + b'"' in sheet]
    if not used:
        return []
    pattern = re.compile(
        rb'r="([A-Z]{1,3})(\d{1,7})" s="(%s)"(?: t="n")?>(?:<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>))?'
        rb"<(?:\w+:)?v>([^<]*)</" % b"|".join(used)
    )
    written: dict[bytes, dict[bytes, str | None]] = {style: {} for style in used}
    columns: dict[bytes, int] = {}
    found: list[tuple[int, int, str]] = []
    for letters, row, style, value in pattern.findall(sheet):
        texts = written[style]
        text = texts.get(value, _UNWRITTEN)
        if text is _UNWRITTEN:
            text = texts[value] = styles[style].text(value.decode("ascii", "replace"))
        if text is not None:
            column = columns.get(letters) or columns.setdefault(letters, _column_number(letters))
            found.append((int(row), column, text))
    return found


_UNWRITTEN = "\x00"  # a value not yet written by its format (no text a format writes)


# How many of a ZIP archive's files its refusal names.
_ARCHIVE_NAMES = 3


def _refuse_archive(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a ZIP archive that is no Office or OpenDocument package (a DMS download zipped, the
    export inside), naming what it holds: Excel cannot open it, so "save it as .xlsx" would not do."""
    names = archive.namelist()
    if "[Content_Types].xml" in names or "mimetype" in names:
        return  # a package (a Word file, a workbook without its part, an .ods): openpyxl's sentence
    files = [_archived_name(info) for info in archive.infolist() if not info.is_dir()]
    if not files:
        raise _refuse(name, "is an empty ZIP archive, not an Excel workbook", _AGAIN)
    held = ", ".join(files[:_ARCHIVE_NAMES])
    if len(files) > _ARCHIVE_NAMES:
        held = f"{held} and {len(files) - _ARCHIVE_NAMES:,} more files"
    raise _refuse(name, f"is a ZIP archive holding {held}, not an Excel workbook", _UNZIP)


def _archived_name(info: zipfile.ZipInfo) -> str:
    """Return a file's name in a ZIP archive as text: Chinese Windows zips GBK names without the
    flag that says UTF-8 (Python then reads them as code page 437)."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437", "replace")
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return info.filename


_ERROR_CELL = re.compile(rb'<c\b[^>]*\bt="e"[^>]*>')
_ERROR_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _error_cells(sheet: bytes) -> list[tuple[int, int, str]]:
    """Return a worksheet's cells holding an error value (#DIV/0!, #N/A, #REF!) as (row, column, text),
    1-based. calamine gives them as empty cells: a row would land with the value blank and no word
    (as a CSV of the same sheet, which writes #DIV/0!, says "number not readable")."""
    found = []
    for tag in _ERROR_CELL.finditer(sheet):
        ref = _REF_PARTS.match(_attributes(tag.group(0)).get("r", ""))
        end = sheet.find(b"</c>", tag.end())
        value = _ERROR_VALUE.search(sheet, tag.end(), end if end >= 0 else tag.end())
        if ref and value:
            column = _column_number(ref.group(1).upper().encode("ascii"))
            found.append((int(ref.group(2)), column, value.group(1).decode("utf-8", "replace")))
    return found


_REF_PARTS = re.compile(r"([A-Za-z]{1,3})(\d+)$")


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>", re.IGNORECASE)
_REF_ROW = re.compile(r"[A-Za-z]+(\d+)$")


def _ref_row(ref: str) -> int:
    """Return the row number of a cell reference ("K9" -> 9); 0 when it has none."""
    found = _REF_ROW.match(ref)
    return int(found.group(1)) if found else 0


def _sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Return each worksheet part's sheet title, from the workbook and its relationships (a part
    the workbook does not name, or names unreadably, is left out)."""
    try:
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
        return {}
    targets = _relationships(rels)
    titles: dict[str, str] = {}
    for tag in _SHEET_TAG.findall(book):
        attributes = _attributes(tag)
        if attributes.get("id") in targets and "name" in attributes:
            titles[targets[attributes["id"]][1]] = html.unescape(attributes["name"])
    return titles


def refuse_unsaved_formulas(raw: RawTable, totals: set[tuple[str, int]]) -> None:
    """Refuse a workbook with formula cells that hold no saved value (they would read blank,
    unnoticed), unless each is where no record is: in a total row (``totals``: (sheet, row), told
    by its words, which a blank cell cannot fake: a program's =SUM under the table), or in a title
    above a sheet's header (not in the row just above it, which may be the header's upper half). A
    blank record, a note or a sheet skipped as empty may be what a blank formula made: those refuse."""
    sheets = {report.name: report.header_row for report in raw.sheets if report.imported}

    def harmless(title: str | None, row: int) -> bool:
        if title is None or title not in sheets or row <= 0:
            return False
        return row < sheets[title] - 1 or (title, row) in totals

    cells = [ref for title, ref, row in raw.unsaved_formulas if not harmless(title, row)]
    if cells:
        first = cells[0]
        more = f" and {len(cells) - 1:,} more" if len(cells) > 1 else ""
        raise _refuse(
            raw.file_name,
            f"has formulas whose values were never saved (cell {first}{more}): it was written by "
            "a program and not yet opened in Excel, so those cells would import blank",
            "open it in Excel or WPS, save it, and import the saved file",
        )


def _unsaved_formulas(sheet: bytes) -> list[str]:
    """Return the references of the formula cells of a worksheet that hold no saved value."""
    cells = []
    for end in _UNSAVED_FORMULA_END.finditer(sheet):
        start = sheet.rfind(b"<c", 0, end.start())
        tag = sheet[start : sheet.find(b">", start) + 1]
        if b't="str"' in tag:
            continue  # a formula giving "" is saved as an empty value of type text
        ref = _CELL_REF.match(tag)
        cells.append(ref.group(1).decode("ascii") if ref else "?")
    return cells


def _grid_extent(sheet: bytes, rows: int) -> tuple[int, int] | None:
    """Return (rows, columns) a worksheet without prefixed tags, holding ``rows`` plain row tags,
    spans from A1 as calamine holds it (row numbers too short to make a grid of ``MAX_GRID_CELLS``
    are counted only in the last row tag); None when its cells do not all say where they are."""
    # calamine places a cell by its reference, or after the previous cell when it has none: only
    # when every cell and row leads with a reference in the usual form do the references bound the grid.
    if _CELL_WITHOUT_REF.search(sheet) or rows != sheet.count(b'<row r="'):
        return None
    width = max((_column_number(letters.upper()) for letters in set(_WIDE_CELL.findall(sheet))), default=26)
    # Row numbers shorter than this many digits fit the grid whatever they are (as many rows as the
    # sheet has tags do too); only longer ones, in a row or a cell reference, are read.
    digits = len(str(MAX_GRID_CELLS // width))
    tall = re.findall(rb'<c r="[A-Za-z]+(\d{%d,})' % digits, sheet)
    high = re.findall(rb'<row r="(\d{%d,})"' % digits, sheet)
    # Rows come in order: the last tag's number is the sheet's height, empty rows between included.
    last = _LAST_ROW.search(sheet, max(0, sheet.rfind(b'<row r="')))
    return max([rows, int(last.group(1)) if last else 0, *map(int, high), *map(int, tall)]), width


_LAST_ROW = re.compile(rb'<row r="(\d{1,7})"')


def _held_as_grid(extent: tuple[int, int], rows: int) -> bool:
    """Return whether calamine may hold a sheet spanning ``extent`` (rows, columns) with ``rows`` row
    tags as its grid: at most ``MAX_GRID_CELLS``, and not mostly empty rows (a grid of over a million
    cells and more than ``biff.SPARSE_FACTOR`` times as many rows as hold anything, as .xls sheets
    are judged), which openpyxl streams faster and without holding them."""
    height, width = extent
    grid = height * width
    if grid > MAX_GRID_CELLS:
        return False
    return grid <= biff.SPARSE_GRID_CELLS or height <= biff.SPARSE_FACTOR * max(rows, 1)


def _refuse(name: str, problem: str, remedy: str) -> ImportRefused:
    """Return the refusal "{name} {problem}; {remedy}." with its Chinese sentence built from the
    same parts (``refusal_words``); a sheet's name (``_in_sheet``) is named in each language."""
    return ImportRefused(
        f"{name} {problem}; {remedy}.",
        zh=refusal_words.refusal_words(getattr(name, "zh", name), problem, remedy),
    )


class _InSheet(str):
    """A file's name with the sheet a refusal is about, "a.xlsx (sheet 明细)", that also knows
    itself in Chinese, "a.xlsx（工作表 明细）"."""

    zh: str


def _in_sheet(name: str, title: str) -> str:
    named = _InSheet(f"{name} (sheet {title})")
    named.zh = f"{name}（工作表 {title}）"
    return named


def readable_name(name: str) -> str:
    """Return a file name as text that can be stored and written: as it is when it is text; a name
    whose bytes are not UTF-8 (a Windows share or an unzip leaves 回访记录.csv in GBK; Python holds
    such bytes as surrogates) read as GB18030, else with its undecodable bytes replaced."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _source_bytes(source: str | Path | bytes, file_name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), readable_name(file_name or "the uploaded file")
    path = Path(source)
    name = readable_name(file_name or path.name)
    if not path.exists():
        raise _refuse(
            readable_name(str(path)), "does not exist", "check the file name and the folder, then try again"
        )
    if path.is_dir():
        raise _refuse(
            readable_name(str(path)), "is a folder, not a file", "name the exported CSV or XLSX file itself"
        )
    try:
        with path.open("rb") as handle:
            check_size(os.fstat(handle.fileno()).st_size, name)  # before reading, not after
            return handle.read(), name
    except OSError as exc:
        raise _refuse(
            readable_name(str(path)), f"cannot be read ({exc.strerror})", "check its permissions"
        ) from exc


def _sniff_format(data: bytes, name: str) -> str:
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise _refuse(name, "is empty", "export the records again from the DMS and import that file")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise _refuse(
                name, f"is not a table (it is {what})", "export the records from the DMS as CSV or XLSX"
            )
    return "csv"


def _wide_encoding(data: bytes) -> str | None:
    """Return the UTF-16/32 codec a file without BOM is in, told by where its zero bytes fall."""
    head = data[:4096]
    size = len(head) // 4 * 4
    if size < 8 or b"\x00" not in head:
        return None
    quarter = size // 4
    zeros = [head[offset:size:4].count(0) for offset in range(4)]
    # ASCII (digits, commas, dates, line ends) fills most of an export; in UTF-16 each such
    # character has one zero byte, in UTF-32 three (two for Chinese characters).
    if zeros[2] == zeros[3] == quarter and zeros[0] < quarter // 10:
        return "utf-32-le"
    if zeros[0] == zeros[1] == quarter and zeros[3] < quarter // 10:
        return "utf-32-be"
    even, odd = zeros[0] + zeros[2], zeros[1] + zeros[3]
    # A few zero bytes on the other side are allowed (一 is 0x4E00): one in 200 bytes, and none in a
    # file under 200 bytes (a one-row export), which would otherwise allow fewer than none.
    stray = max(1, size // 200)
    if odd >= size * 0.15 and even < stray:
        return "utf-16-le"
    if even >= size * 0.15 and odd < stray:
        return "utf-16-be"
    return None


def _cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"


def _chinese_text(text: str) -> bool:
    """Return whether decoded text reads as Chinese rather than as GBK bytes taken for UTF-8."""
    # A GBK line is valid UTF-8 only by chance, and then decodes mostly to Latin, Greek or
    # Cyrillic letters: three Chinese characters, and few others, tell real UTF-8 apart.
    wide = [c for c in text if ord(c) > 0x7F]
    chinese = sum(1 for c in wide if _cjk(c))
    return chinese >= 3 and chinese >= 0.8 * len(wide)


def _utf8_line(line: bytes) -> str | None:
    """Return the line as UTF-8 text when it is valid UTF-8 holding Chinese text, else None."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if _chinese_text(text) else None


# A line of ASCII and UTF-8-shaped multi-byte sequences, with at least one of the latter.
_UTF8_SEQUENCE = rb"(?:[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3})"
_UTF8_SHAPED_LINE = re.compile(
    rb"^[\x00-\x09\x0b-\x7f]*+" + _UTF8_SEQUENCE + rb"(?:[\x00-\x09\x0b-\x7f]|" + _UTF8_SEQUENCE + rb")*+$",
    re.MULTILINE,
)


def _has_utf8_line(data: bytes) -> bool:
    """Return whether a line of the (not wholly UTF-8) data is UTF-8 Chinese text."""
    # The lines whose bytes have UTF-8's shape (a superset of valid UTF-8), found by one scan in
    # C, are decoded and checked; a GBK line almost always breaks that shape at its first
    # Chinese character. Twice as fast as decoding every line with replacement, and as exact.
    return any(
        _utf8_line(candidate.group().removeprefix(b"\xef\xbb\xbf")) is not None
        for candidate in _UTF8_SHAPED_LINE.finditer(data)
    )


def _decode_mixed(data: bytes) -> str | None:
    """Return the text of a file whose lines are partly UTF-8 and partly GB18030, or None."""
    parts: list[str] = []
    utf8_lines = gbk_lines = 0
    for line in data.removeprefix(b"\xef\xbb\xbf").split(b"\n"):
        if line.isascii():
            parts.append(line.decode("ascii"))
            continue
        text = _utf8_line(line)
        if text is not None:
            utf8_lines += 1
            parts.append(text)
            continue
        try:
            parts.append(line.decode("gb18030"))
            gbk_lines += 1
        except UnicodeDecodeError:
            try:
                parts.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                return None
    return "\n".join(parts) if utf8_lines and gbk_lines else None


def _decode(data: bytes, name: str) -> tuple[str, str]:
    boms = (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    )
    for bom, codec in boms:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                break
    wide = _wide_encoding(data)
    if wide is not None:
        try:
            return data.decode(wide), wide
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            # UTF-8 to its last bytes, which begin a character that never ends: the file was cut
            # short (a copy not finished, an export that stopped), not written in another encoding.
            raise _refuse(
                name,
                "ends in the middle of a character: it was cut short (a copy that had not finished, or an "
                "export that stopped), so its last rows are missing",
                "export it again, or wait until the copy has finished, and import the whole file",
            ) from None
    if _has_utf8_line(data):
        mixed = _decode_mixed(data)
        if mixed is not None:
            return mixed, "utf-8+gb18030"
    try:
        # Without the BOM GB18030 has of its own (read as U+FEFF) or the UTF-8 one some exporters
        # write before GBK bytes for Excel's sake: either would stick to the first header.
        return data.removeprefix(b"\xef\xbb\xbf").decode("gb18030").removeprefix("\ufeff"), "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise _refuse(
            name,
            "is not in a text encoding that can be read (UTF-8 or GBK expected)",
            'save it from Excel as "CSV UTF-8" or as .xlsx and import that file',
        )
    return str(best), best.encoding


def _markup_format(text: str, name: str) -> str | None:
    """Return "html" or "xml" (an Excel 2003 XML Spreadsheet) for decoded text that is markup a
    DMS saves as "Excel", None for other text; refuse any other XML document."""
    head = text[:8192]
    skipped = _MARKUP_START.match(head)
    start = head[skipped.end() :] if skipped else head
    if _XML.match(start) or start.startswith("<Workbook"):
        if _EXCEL_XML in head:
            return "xml"
        if re.search(r"<html\b", head, re.IGNORECASE):
            return "html"  # XHTML opens with an XML declaration
        raise _refuse(
            name, "is an XML document, not a table file", "export the records from the DMS as CSV or XLSX"
        )
    if _HTML.match(start):
        # Some DMS "Excel" exports are HTML tables named .xls.
        return "html"
    return None


# Characters that print as nothing (the zero-width space and the word joiner), left in cells copied
# from a web page or a chat: "工单号\u200b" is no header and "WO1\u200b" no order WO1, yet both
# look right in Excel. They carry nothing and are dropped from every cell.
_INVISIBLE = "[\u200b\u2060]"


def _visible(text: str) -> str:
    """Return the text without the characters that print as nothing."""
    return re.sub(_INVISIBLE, "", text) if "\u200b" in text or "\u2060" in text else text


def _visible_grid(grid: pd.DataFrame) -> pd.DataFrame:
    """Return a sheet's grid of strings without the characters that print as nothing."""
    marked = [c for c in grid.columns if grid[c].str.contains(_INVISIBLE, regex=True).fillna(False).any()]
    if not marked:
        return grid
    grid = grid.copy()
    for c in marked:
        grid[c] = grid[c].str.replace(_INVISIBLE, "", regex=True)
    return grid


def _clean_text(text: str, name: str) -> str:
    """Return the decoded text with stray NUL bytes dropped and line ends as "\\n"; refuse non-tables."""
    head = text[:8192]
    if len(_CONTROL.findall(head)) > max(2, len(head) // 100):
        raise _refuse(
            name,
            "is not a table (it looks like a binary file)",
            "export the records from the DMS as CSV or XLSX",
        )
    if "\x1a" in text[-16:]:
        text = _DOS_END.sub("", text)  # it used to be a last record, rejected as missing its date
    if "\x00" in text:
        # NUL bytes (padding at the end, a damaged copy) carry nothing in a text file; binary
        # files also hold the other control characters counted above.
        text = text.replace("\x00", "")
    if "\r" in text:
        # Old Mac files end lines with CR alone; the parsers and row numbers below expect LF.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _sample(text: str) -> str:
    """Return the start of the text, cut at a line end, for sniffing."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    return sample


def _sniff_delimiter(text: str) -> tuple[str, int]:
    """Return the delimiter that splits most sampled records alike, and the widest record it gives."""
    sample = _sample(text)
    best: tuple[int, int, str] = (0, 0, ",")
    widths = {",": 1}
    for delimiter in DELIMITERS:
        try:
            records = list(islice(csv.reader(io.StringIO(sample), delimiter=delimiter), _SNIFF_RECORDS))
        except csv.Error:
            continue
        widths[delimiter] = max((len(r) for r in records), default=1)
        counts = [len(r) for r in records if any(cell.strip() for cell in r)]
        multi = [c for c in counts if c > 1]
        if not multi:
            continue
        width, frequency = Counter(multi).most_common(1)[0]
        if (frequency, width) > best[:2]:
            best = (frequency, width, delimiter)
    return best[2], widths.get(best[2], 1)


def _csv_fast(
    text: str, delimiter: str, width: int, name: str
) -> tuple[int, list[str], pd.DataFrame, int] | None:
    """Read a regular CSV with pyarrow below its header; None when it needs the general parser."""
    reader = csv.reader(io.StringIO(_sample(text)), delimiter=delimiter)
    head: list[list[str]] = []
    lines: list[int] = []
    try:
        for record in islice(reader, HEADER_SEARCH_ROWS):
            head.append([cell.strip() for cell in record])
            lines.append(reader.line_num)
    except csv.Error:
        return None
    if not any(any(cells) for cells in head):
        return None
    header_at, header_cells = _find_header(head)
    _check_header(name, header_cells, header_at)
    offset = 0
    for _ in range(lines[header_at]):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return None
    names = [f"c{i}" for i in range(max(width, 1))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text[offset:].encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError):
        # Ragged rows, stray quotes: the general parser copes and pads.
        return None
    body = pd.DataFrame({i: pd.array(table.column(i), dtype="str") for i in range(len(names))})
    # pyarrow keeps blank lines as empty rows, so record i sits on row header + 1 + i.
    source_rows = header_at + 2 + np.arange(len(body), dtype="int64")
    headers, rows, blank = _assemble(name, header_cells, body, source_rows)
    return header_at + 1, headers, rows, blank


def _csv_grid(text: str, delimiter: str, width: int, name: str) -> pd.DataFrame:
    """Return every record of the text as a grid of strings (general parser)."""
    if width > MAX_COLUMNS:
        # Mostly empty cells at the ends of rows, or a row far too wide: only the record-by-record
        # parser below trims the one and stops at the other without building a huge grid.
        return _csv_records(text, delimiter, name)
    try:
        with warnings.catch_warnings():
            # pandas only warns when a record is wider than the names it was given and drops
            # the extra cells; that must fall through to the padding parser below instead.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                header=None,
                names=range(max(width, 1)),
                index_col=False,
                dtype="str",
                na_filter=False,
                skip_blank_lines=False,
                quotechar='"',
                engine="c",
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError, OverflowError):
        pass
    # A record wider than the sampled ones, or quoting the C parser rejects: the csv module
    # reads every record, and short records are padded.
    return _csv_records(text, delimiter, name)


def _csv_records(text: str, delimiter: str, name: str) -> pd.DataFrame:
    """Return the records of the text as a padded grid, read one by one with empty trailing cells dropped."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            while record and not record[-1].strip():
                record.pop()
            if len(record) > MAX_COLUMNS:
                raise _too_wide(name, len(record), f"line {reader.line_num:,}")
            records.append(record)
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise _refuse(
                name,
                f"has a cell longer than {csv.field_size_limit():,} characters on line {reader.line_num:,}, "
                "which no DMS export has",
                "check that it is the exported file and that its quotes are closed",
            ) from exc
        raise _refuse(name, f"cannot be read as a table (line {reader.line_num:,}: {exc})", _SAVE_AS) from exc
    return _padded(records)


def _padded(records: list[list[str]], index: list[int] | None = None) -> pd.DataFrame:
    width = max((len(r) for r in records), default=1) or 1
    padded = [r + [""] * (width - len(r)) for r in records]
    return pd.DataFrame(padded, columns=range(width), index=index, dtype="str")


def _too_wide(name: str, cells: int, where: str, *, sheet: bool = False) -> ImportRefused:
    remedy = (
        "delete the stray cells to the right of the table and import it again"
        if sheet
        else "check that it is the exported file itself and that its columns are separated by commas, "
        "tabs or semicolons, then import it again"
    )
    return _refuse(
        name,
        f"has a row with values in {cells:,} columns ({where}), more than the {MAX_COLUMNS:,} "
        "any DMS export has",
        remedy,
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        # Every integer up to 2**53 is a double exactly: a 16-digit work-order number written as
        # a number cell (2026110500000001) is that number, not 2026110500000001.0.
        if value.is_integer() and abs(value) <= 2**53:
            return str(int(value))
        return repr(value)
    return str(value)


def _xlsx_grids(data: bytes, name: str, scan: _WorkbookScan) -> list[tuple[str, pd.DataFrame | None]]:
    """Return every sheet of the workbook as (title, grid of strings), in the workbook's order."""
    if not scan.calamine:
        return _openpyxl_grids(data, name, scan.shown)
    return _calamine_grids(data, name, shown=scan.shown, streamed=scan.streamed)


def _xls_grids(data: bytes, name: str) -> list[tuple[str, pd.DataFrame | None]]:
    """Return every worksheet of an Excel 97-2003 workbook as (title, grid of strings), read by
    calamine once ``biff`` has found the file to be a .xls whose sheets span bounded grids."""
    try:
        extents = biff.sheet_extents(biff.workbook_stream(data))
    except biff.Refusal as refusal:
        raise _refuse(name, refusal.problem, refusal.remedy) from None
    except (struct.error, IndexError, ValueError, UnicodeError) as exc:
        raise _refuse(name, "is an Excel 97-2003 (.xls) file that is damaged", _SAVE_AS) from exc
    max_rows, _ = import_limits()
    if sum(sheet.rows for sheet in extents) > max_rows + HEADER_SEARCH_ROWS:
        raise _refuse(
            name,
            f"has more than {max_rows:,} rows in its sheets, more than an import reads",
            "split the export into smaller files (by month or year), or "
            + _RAISE_LIMIT.format(key="max_rows"),
        )
    for sheet in extents:
        if sheet.columns > MAX_COLUMNS:
            raise _too_wide(name, sheet.columns, f"sheet {sheet.name}", sheet=True)
        if sheet.grid > biff.SPARSE_GRID_CELLS and sheet.grid > biff.SPARSE_FACTOR * sheet.values:
            # calamine would hold every cell from A1 to the farthest one (a gigabyte for IV65536).
            raise _refuse(
                name,
                f"has values as far out as row {sheet.rows:,} and column {_column_letter(sheet.columns - 1)} "
                f"in sheet {sheet.name}, a grid of {sheet.grid:,} cells for {sheet.values:,} values",
                "delete the stray cells outside the table, or open it in Excel and save it as .xlsx, "
                "then import that file",
            )
    if sum(sheet.grid for sheet in extents) > MAX_GRID_CELLS:
        raise _refuse(
            name,
            f"has sheets spanning {sum(sheet.grid for sheet in extents):,} cells, more than the "
            f"{MAX_GRID_CELLS:,} an import reads",
            "split the export into smaller files (by month or year)",
        )
    return _calamine_grids(data, name, what="is an Excel 97-2003 (.xls) file that cannot be opened")


def _calamine_grids(
    data: bytes,
    name: str,
    what: str = "is a ZIP file but not an Excel workbook that can be opened",
    shown: _Shown | None = None,
    streamed: set[str] | None = None,
) -> list[tuple[str, pd.DataFrame | None]]:
    """Return every worksheet as (title, grid of strings), read by calamine; ``what`` says what the
    file is when calamine cannot open it; ``shown`` (by sheet title) are cells whose text calamine
    does not give (an error cell, #DIV/0!, it gives as empty), written in; the sheets ``streamed``
    are read by openpyxl instead, their empty rows left out (``_openpyxl_grids``)."""
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several types for damaged or non-Excel files
        raise _refuse(name, what, _SAVE_AS) from exc
    except BaseException as exc:
        # A Rust panic inside calamine (pyo3's PanicException derives from BaseException).
        if not _is_panic(exc):
            raise
        raise _refuse(name, what, _SAVE_AS) from exc
    grids: list[tuple[str, pd.DataFrame | None]] = []
    try:
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # chart and macro sheets hold no cells (openpyxl leaves them out too)
            if meta.visible != SheetVisibleEnum.Visible:
                # An old copy or a lookup list the exporter hid: never read as records (stacked, an
                # old copy's rows replaced the visible ones), but named in the report.
                grids.append((str(meta.name), None))
                continue
            if str(meta.name) in (streamed or ()):
                grids.append((str(meta.name), None))  # read below
                continue
            # From A1, so that list positions are the sheet's row and column numbers.
            sheet = book.get_sheet_by_name(meta.name)
            cells = sheet.to_python(skip_empty_area=False)
            height = len(cells)
            for at_row, column, text in (shown or {}).get(str(meta.name), ()):
                if at_row <= height and column <= len(row := cells[at_row - 1]):
                    _write_shown(row, column - 1, text)
            cells = _merges_filled_down(cells, sheet.merged_cell_ranges)
            width = max((len(r) for r in cells), default=0)
            if width > MAX_COLUMNS:
                for number, row in enumerate(cells, start=1):
                    record = [_cell_text(v) for v in row]
                    used = next((i + 1 for i in range(len(record) - 1, -1, -1) if record[i].strip()), 0)
                    if used > MAX_COLUMNS:
                        raise _too_wide(name, used, f"row {number:,} of sheet {meta.name}", sheet=True)
                # Only blank cells lie past the limit.
                cells = [row[:MAX_COLUMNS] for row in cells]
            grids.append((str(meta.name), _text_grid(cells)))
    except ImportRefused:
        raise
    except MemoryError as exc:
        raise _out_of_memory(name) from exc
    except Exception as exc:  # a damaged sheet inside a readable workbook
        raise _refuse(name, "is an Excel workbook whose sheets cannot be read", _SAVE_AS) from exc
    except BaseException as exc:
        if not _is_panic(exc):
            raise
        raise _refuse(name, "is an Excel workbook whose sheets cannot be read", _SAVE_AS) from exc
    finally:
        book.close()
    if streamed:
        by_title = dict(_openpyxl_grids(data, name, shown, only=streamed))
        grids = [(title, by_title[title] if title in streamed else grid) for title, grid in grids]
    return grids


def _write_shown(row: list[Any], at: int, text: str) -> None:
    """Write a cell's text from the sheet's XML over the value read: an error calamine gives as
    empty, a number whose format makes it text; a value of another kind (a date) stays."""
    value = row[at]
    if value is None or value == "" or value.__class__ in (int, float):
        row[at] = text


def _out_of_memory(name: str) -> ImportRefused:
    """Return the refusal of a workbook whose sheets did not fit in the memory left."""
    return _refuse(
        name,
        "needs more memory to read than this computer has free",
        "close other programs and import it again, or split the export into smaller files (by month or year)",
    )


def _merges_filled_down(
    cells: list[list[Any]], merges: list[tuple[tuple[int, int], tuple[int, int]]] | None
) -> list[list[Any]]:
    """Return the rows with the value of each cell merged down over several rows (a customer's name
    over the item rows of one work order, a store over a group) in the same column of every row it
    covers, as an HTML table's rowspan is read; a merge across columns leaves the others blank.

    Each column's rows are filled at most once: merges never overlap in a workbook Excel saved, and
    a file repeating one merge 100,000 times over 20,000 rows (two billion copies, minutes of CPU)
    is read as that merge once."""
    reach: dict[int, int] = {}  # column -> the last row a merge has filled (merges sorted by top)
    for (top, left), (bottom, _right) in sorted(set(merges or ())):
        if top >= len(cells) or left >= len(cells[top]):
            continue
        start = max(top + 1, reach.get(left, -1) + 1)
        if bottom < start:
            continue  # inside rows filled already (a repeated or nested merge)
        reach[left] = bottom
        value = cells[top][left]
        for row in cells[start : bottom + 1]:
            if left < len(row) and row[left] in ("", None):
                row[left] = value
    return cells


def _is_panic(exc: BaseException) -> bool:
    """Return whether the exception is a Rust panic raised through pyo3 (not an interrupt or exit)."""
    return type(exc).__name__ == "PanicException"


def _text_grid(cells: list[list[Any]]) -> pd.DataFrame:
    """Return calamine's rows of cell values (all of one length) as a grid of strings, column by column."""
    if not cells or not cells[0]:
        return _padded([[] for _ in cells])
    columns: dict[int, pd.Series] = {}
    for i, column in enumerate(zip(*cells, strict=True)):
        try:
            # Most columns hold text only: Arrow takes them as they are, and stops at the first
            # cell of another type (a number, a date), which the lines below write.
            whole = pa.array(column, type=pa.large_string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            whole = None
        if whole is not None and not whole.null_count:
            columns[i] = pd.Series(whole, dtype=_TEXT)
            continue
        kinds = set(map(type, column))
        text: Any = column
        if dt.datetime in kinds and kinds <= {str, dt.datetime}:
            text = _with_datetimes_written(column)
        if text is column and kinds != {str}:
            # Dates, numbers and booleans repeat (a score column holds a handful): each distinct
            # value is written once. True == 1 == 1.0 as keys, so a column mixing those types is
            # keyed by type too.
            if len(kinds & {bool, int, float}) <= 1:
                cells_of = np.fromiter(column, dtype=object, count=len(column))
                codes, uniques = pd.factorize(cells_of, use_na_sentinel=False)
                texts = np.array([v if v.__class__ is str else _cell_text(v) for v in uniques], dtype=object)
                text = texts[codes]
            else:
                typed: dict[tuple[type, Any], str] = {}
                for value in column:
                    if value.__class__ is not str and (value.__class__, value) not in typed:
                        typed[(value.__class__, value)] = _cell_text(value)
                text = [
                    value if value.__class__ is str else typed[(value.__class__, value)] for value in column
                ]
        columns[i] = pd.Series(pa.array(text, type=pa.large_string()), dtype=_TEXT)
    return pd.DataFrame(columns)


def _with_datetimes_written(column: tuple[Any, ...]) -> Any:
    """Return the column of texts and datetimes with each datetime written as ``_cell_text``
    writes it, in Arrow (a column of times of day has about as many distinct values as rows,
    so writing them one by one in Python cost most of a workbook's conversion); the column
    itself when a datetime has a time zone or a year before 1000."""
    # One dimension whatever the cells (np.array would look into each for a sequence, slowly).
    values = np.fromiter(column, dtype=object, count=len(column))
    # Types compare by identity, as ``value.__class__ is dt.datetime`` would, without a Python loop.
    at = np.fromiter(map(type, column), dtype=object, count=len(column)) == dt.datetime
    moments = values[at]
    if set(map(attrgetter("tzinfo"), moments)) != {None} or min(map(attrgetter("year"), moments)) < 1000:
        return column
    stamps = pa.array(moments, type=pa.timestamp("us"))
    # Arrow's casts write ISO dates and "YYYY-MM-DD HH:MM:SS" (its strftime is ten times slower).
    written = pc.if_else(
        pc.equal(stamps, pc.floor_temporal(stamps, unit="day")),
        stamps.cast(pa.date32()).cast(pa.string()),
        pc.floor_temporal(stamps, unit="second").cast(pa.timestamp("s")).cast(pa.string()),
    )
    values[at] = written.to_numpy(zero_copy_only=False)
    return values


def _openpyxl_grids(
    data: bytes, name: str, shown: _Shown | None = None, only: set[str] | None = None
) -> list[tuple[str, pd.DataFrame | None]]:
    """Return every sheet of the workbook (or those titled ``only``) as (title, grid of strings),
    streamed by openpyxl: a hidden sheet as None, as calamine's reading names it; ``shown`` as in
    ``_calamine_grids``. A grid holds every row up to the header's furthest place and, below it,
    only the rows holding a value, indexed by their row numbers (from 0): a stray value a million
    rows below the table costs one row, not a million."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged or non-Excel ZIP files
        raise _refuse(name, "is a ZIP file but not an Excel workbook that can be opened", _SAVE_AS) from exc
    grids: list[tuple[str, pd.DataFrame | None]] = []
    try:
        for sheet in book.worksheets:
            title = str(sheet.title)
            if only is not None and title not in only:
                continue
            if getattr(sheet, "sheet_state", "visible") != "visible":
                grids.append((title, None))
                continue
            grids.append((title, _streamed_grid(sheet, name, (shown or {}).get(title, ()))))
    except ImportRefused:
        raise
    except MemoryError as exc:
        raise _out_of_memory(name) from exc
    except Exception as exc:  # a damaged sheet inside a readable workbook
        raise _refuse(name, "is an Excel workbook whose sheets cannot be read", _SAVE_AS) from exc
    finally:
        book.close()
    return grids


def _streamed_grid(sheet: Any, name: str, shown: Sequence[tuple[int, int, str]]) -> pd.DataFrame:
    """Return an openpyxl sheet's rows as a grid of strings: every row of the first
    ``HEADER_SEARCH_ROWS`` + 1 (where the header is looked for, with the row under it), then the
    rows holding a value, the grid's index giving each row's number (from 0)."""
    by_row: dict[int, list[tuple[int, str]]] = {}
    for at_row, column, text in shown:
        by_row.setdefault(at_row, []).append((column, text))
    # The declared size is often far larger than the cells (formatting down to row 1,048,576);
    # reading the cells themselves keeps a blank sheet cheap.
    sheet.reset_dimensions()
    records: list[list[str]] = []
    numbers: list[int] = []
    dense = HEADER_SEARCH_ROWS + 1
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        # An empty row (a row without a tag comes as an empty list) is counted by the numbers.
        if number > dense and (not row or not any(value is not None and value != "" for value in row)):
            continue
        if number in by_row:
            row = list(row)
            for column, text in by_row[number]:
                if column - 1 < len(row):
                    _write_shown(row, column - 1, text)
        cells = [_cell_text(v) for v in row]
        while cells and not cells[-1].strip():
            cells.pop()
        if len(cells) > MAX_COLUMNS:
            raise _too_wide(name, len(cells), f"row {number:,} of sheet {sheet.title}", sheet=True)
        records.append(cells)
        numbers.append(number - 1)
    return _padded(records, index=numbers)


def _column_number(letters: bytes) -> int:
    """Return the 1-based number of a column from its letters (b"AB" -> 28)."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _unique_headers(cells: list[str]) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(cells):
        base = cell or f"column {_column_letter(i)}"
        if base == SOURCE_ROW:
            base = f"{base} (file)"
        name, n = base, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def _find_header(records: list[list[str]]) -> tuple[int, list[str]]:
    """Return the position of the header's last row among the first records (cells already
    stripped) and its cells; a header merged over two rows gives the cells of both."""
    records = records[:HEADER_SEARCH_ROWS]
    best_position, best_score = -1, 1
    for position, cells in enumerate(records):
        score = len(matched_fields(cells)) if any(cells) else 0
        if score > best_score:
            best_position, best_score = position, score
    if best_position < 0:
        # No row names two known columns: take the widest early row so a user mapping can name them.
        widths = [sum(1 for cell in cells if cell) for cells in records]
        widest = widths.index(max(widths))
        return widest, records[widest]
    found = (best_score, best_position, records[best_position])
    for top in (best_position - 1, best_position):
        if top < 0 or top + 1 >= len(records):
            continue
        joined = _two_row_header(records[top], records[top + 1])
        if joined is None:
            continue
        score = len(matched_fields(joined))
        if score > found[0] or (top + 1 == best_position and _tells_apart(records[best_position], joined)):
            found = (score, top + 1, joined)
    _, position, cells = found
    if position + 1 < len(records):
        # A two-language export writes its header again in the other language on the next row
        # (工单号 over RO No.): a header row too, not the first record.
        translated = _translated_header(cells, records[position + 1])
        if translated is not None:
            return position + 1, translated
    return position, cells


def _translated_header(header: list[str], row: list[str]) -> list[str] | None:
    """Return the header's cells completed by the row under it when that row writes the same header
    in another language (工单号 over RO No., 进厂日期 over Visit Date): at least two of its cells, and
    most of those filled, name the field their column's header names, and none names another. A
    column whose header names no field takes the other language's name when that one is known.
    None when the row is no such header."""
    width = max(len(header), len(row))
    header = header + [""] * (width - len(header))
    row = row + [""] * (width - len(row))
    filled = same = 0
    cells: list[str] = []
    for top, cell in zip(header, row, strict=True):
        hit = match_header(cell) if cell else None
        mine = match_header(top) if top else None
        if cell:
            filled += 1
            if hit is not None and mine is not None:
                if hit[0] != mine[0]:
                    return None
                same += 1
        cells.append(top if top and (mine is not None or hit is None) else cell or top)
    return cells if same >= 2 and 2 * same > filled else None


def _tells_apart(row: list[str], joined: list[str]) -> bool:
    """Return whether a two-row header ending on ``row`` names its columns better than ``row`` alone:
    it differs, and every field it no longer names was named only by a name ``row`` repeats (金额
    under 工时 and under 材料 is neither part's amount; each merged cell is read into both rows)."""
    if joined == row:
        return False
    names = [normalise_header(cell) for cell in row if cell]
    repeated = {name for name in names if names.count(name) > 1}
    kept = matched_fields(joined)
    lost = matched_fields(row) - kept
    return all(
        normalise_header(cell) in repeated
        for cell in row
        if cell and (hit := match_header(cell)) and hit[0] in lost
    )


def _two_row_header(top: list[str], bottom: list[str]) -> list[str] | None:
    """Return the cells of a header merged over two rows (a group label above its sub-columns, the
    single columns merged down both rows), or None when the lower row is not such a second row."""
    width = max(len(top), len(bottom))
    top = top + [""] * (width - len(top))
    bottom = bottom + [""] * (width - len(bottom))
    # A merged cell keeps its text in its top cell, so a column the upper row names is blank below;
    # a record under a header fills those columns.
    # (A merged cell read into each row it covers names its column twice.)
    if any(
        upper and lower and lower != upper and match_header(upper) is not None
        for upper, lower in zip(top, bottom, strict=True)
    ):
        return None
    groups: list[str] = []
    group = ""
    for upper, lower in zip(top, bottom, strict=True):
        # A group label merged across its sub-columns holds its text in the first of them only.
        if upper and lower and lower != upper:
            group = upper
        elif upper or not lower:
            group = ""
        groups.append(group)
    # A sub-column name under more than one group (金额 under 工时, 材料 and 合计) is not the same
    # column each time: each takes its group's name (合计金额 is the amount, 工时金额 is not).
    under: dict[str, set[str]] = {}
    for lower, group in zip(bottom, groups, strict=True):
        if lower and group:
            under.setdefault(normalise_header(lower), set()).add(group)
    repeated = {name for name, named_by in under.items() if len(named_by) > 1}
    cells: list[str] = []
    for upper, lower, group in zip(top, bottom, groups, strict=True):
        if lower and lower != upper:
            cells.append(_in_group(lower, group, always=normalise_header(lower) in repeated))
        else:
            cells.append(upper or lower)
    return cells


def _in_group(cell: str, group: str, *, always: bool = False) -> str:
    """Return a sub-column's name as its group label makes it: 姓名 under 客户信息 is 客户姓名 (the
    name of the customer, not of the adviser), when the name alone is not a known header, and
    always when ``always`` (a name several groups repeat)."""
    if not group or (match_header(cell) is not None and not always):
        return cell
    named = _GROUP_SUFFIX.sub("", group) + cell
    return named if always or match_header(named) is not None else cell


def _check_header(name: str, cells: list[str], position: int) -> None:
    """Refuse a header row that is a run of text rather than column names."""
    longest = max((len(cell) for cell in cells), default=0)
    if longest > MAX_HEADER_CHARS and len(matched_fields(cells)) < 2:
        raise _refuse(
            name,
            f"has no row of column names in its first {HEADER_SEARCH_ROWS} rows (row {position + 1:,} "
            f"holds a run of text more than {MAX_HEADER_CHARS} characters long)",
            "check that it is a DMS export of work orders or callbacks, saved as CSV or XLSX",
        )


def _swallowed(cell: object, delimiter: str, fields: int) -> bool:
    """Return whether a cell read across line breaks holds a line that is a record of its own: as
    many delimiters as a record has between its fields."""
    if not isinstance(cell, str) or "\n" not in cell:
        return False
    # Every line after the first is a whole record, but the last may be the start of the record in
    # which a quote closed the cell.
    whole = [line.count(delimiter) >= fields - 1 for line in cell.splitlines()[1:]]
    return any(whole) and all(whole[:-1])


def _multiline(rows: pd.DataFrame, headers: list[str]) -> list[tuple[str, int]]:
    """Return (header, row position) of every cell that runs over more than one line."""
    found: list[tuple[str, int]] = []
    for header in headers:
        column = rows[header]
        if column.dtype != object and not pd.api.types.is_string_dtype(column):
            continue
        where = column.str.contains("\n", regex=False, na=False).to_numpy(dtype=bool)
        found += [(header, int(i)) for i in np.flatnonzero(where)]
    return found


def _check_swallowed_records(name: str, rows: pd.DataFrame, headers: list[str], delimiter: str) -> None:
    """Refuse a CSV in which a cell read across line breaks holds records of their own (a quote that
    the DMS did not mean as one opened it), naming the row it opened in. (Read without quoting such
    a file would land, but a file that does quote, with one quote too many, would then land cells
    cut at their commas: the file is refused either way, with the row to correct.)"""
    fields = sum(1 for h in headers if not _UNNAMED.fullmatch(h))
    if fields < 3:
        return  # too few delimiters in a record to tell one from a comment's own commas
    for header, i in _multiline(rows, headers):
        if _swallowed(rows[header].iloc[i], delimiter, fields):
            row = int(rows[SOURCE_ROW].to_numpy()[i])
            lines = rows[header].iloc[i].count("\n")
            raise _refuse(
                name,
                f'has a quote (") at the start of a cell in row {row:,} (column {header}) that would join '
                f"the {lines:,} lines after it, records of their own, into that cell",
                'remove that quote (or write it twice, "", inside a quoted cell), then import the file again',
            )


def _check_quotes(name: str, text: str, headers: list[str], rows: pd.DataFrame) -> None:
    """Refuse a CSV whose quote was left open: one cell swallows the records after it."""
    if '"' not in text:
        return  # only a quoted cell can hold a line break
    end = text.rstrip()
    last = rows.iloc[-1]
    for header in headers:
        cell = last[header]
        if isinstance(cell, str) and "\n" in cell and end.endswith(cell):
            opened = text.rfind('"', 0, len(end) - len(cell) + 1)
            line = text.count("\n", 0, max(opened, 0)) + 1
            raise _refuse(
                name,
                f'has a quote (") on line {line:,} that is never closed, so the rest of the file '
                "would be read as one cell",
                "remove that quote or close it, then import the file again",
            )
    for header in headers:
        column = rows[header]
        if not column.str.contains("\n", regex=False, na=False).any():
            continue
        breaks = column.str.count("\n").fillna(0).to_numpy(dtype="int64")
        worst = int(breaks.argmax())
        if breaks[worst] >= MAX_CELL_LINES:
            raise _refuse(
                name,
                f"has a cell in row {int(rows[SOURCE_ROW].to_numpy()[worst]):,} (column {header}) that runs "
                f'over {int(breaks[worst]) + 1:,} lines, so a quote (") was probably left open there',
                "check the quotes in that row, then import the file again",
            )


def overfull_rows(raw: RawTable) -> np.ndarray:
    """Return where a CSV row has values past the header's last name while other rows have none
    there: a cell with an unquoted delimiter (1,234.50) split in two and shifted the cells after
    it. A column no header names but every row fills is a column, not a shift; a workbook's
    cells cannot shift."""
    none = np.zeros(len(raw.rows), dtype=bool)
    headers = raw.headers
    named = max((i + 1 for i, h in enumerate(headers) if not _UNNAMED.fullmatch(h)), default=0)
    if raw.format != "csv" or named == len(headers):
        return none
    beyond = raw.rows[headers[named:]].notna().any(axis=1).to_numpy(dtype=bool)
    return beyond if beyond.any() and not beyond.all() else none


def _assemble(
    name: str, header_cells: list[str], body: pd.DataFrame, source_rows: np.ndarray
) -> tuple[list[str], pd.DataFrame, int]:
    """Return (headers, rows, blank rows dropped) from the header cells and the grid below them."""
    body = body.apply(lambda column: column.str.strip())
    empty = body == ""
    filled = ~(empty.all(axis=1).to_numpy() | _placeholder_rows(body, empty))
    positions = np.flatnonzero(filled)
    # Blank rows between the header and the last record (those after it are not rows of the table),
    # by row numbers: a workbook's sheet streamed without its empty rows counts them all the same.
    blank = int(source_rows[positions[-1]] - source_rows[0] + 1 - len(positions)) if len(positions) else 0
    body, empty = body[filled], empty[filled]
    if body.empty:
        raise _refuse(name, _HEADER_ONLY, "export it again with the records included")
    filled_columns = np.flatnonzero((~empty).any(axis=0).to_numpy())
    named = [i for i, cell in enumerate(header_cells) if cell]
    # A column with neither a header nor a value (those left of a table that starts at column C)
    # is no column of the table, and is not listed among the columns not imported.
    used = sorted(set(named) | {int(i) for i in filled_columns})
    cells = header_cells + [""] * (used[-1] + 1 - len(header_cells))
    headers = _unique_headers(cells[: used[-1] + 1])
    rows = body.iloc[:, : used[-1] + 1].mask(empty.iloc[:, : used[-1] + 1])
    rows.columns = pd.Index(headers)
    if len(used) < len(headers):
        rows = rows.iloc[:, used]
        headers = [headers[i] for i in used]
    rows[SOURCE_ROW] = source_rows[filled]
    return headers, rows.reset_index(drop=True), blank


def _placeholder_rows(body: pd.DataFrame, empty: pd.DataFrame) -> np.ndarray:
    """Return where a row that is not empty holds placeholders only ("--" or "/" in every cell it
    fills, as some reports draw a separator): a blank row, not a record. Column by column, over the rows still
    in question (after the first column, hardly any)."""
    maybe = ~empty.all(axis=1).to_numpy()
    for i in range(body.shape[1]):
        rows = np.flatnonzero(maybe)
        if not len(rows):
            break
        column = body.iloc[rows, i]
        token = column.str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
        maybe[rows] = token | empty.iloc[rows, i].to_numpy(dtype=bool)
    return maybe


def _grid_table(grid: pd.DataFrame, name: str) -> tuple[int, list[str], pd.DataFrame, int]:
    """Return (header row number, headers, rows, blank rows) from a grid holding every record of the file."""
    head = [[str(cell).strip() for cell in record] for record in grid.iloc[:HEADER_SEARCH_ROWS].to_numpy()]
    if not any(any(cells) for cells in head):
        if (grid.apply(lambda column: column.str.strip()) == "").all(axis=None):
            raise _refuse(name, "is empty", "export the records again from the DMS and import that file")
        raise _refuse(
            name,
            f"has no header row within its first {HEADER_SEARCH_ROWS} rows",
            "delete the blank rows above the header and import it again",
        )
    header_at, header_cells = _find_header(head)
    _check_header(name, header_cells, header_at)
    body = grid.iloc[header_at + 1 :]
    headers, rows, blank = _assemble(name, header_cells, body, body.index.to_numpy() + 1)
    return header_at + 1, headers, rows, blank


# What names the vehicle or the call on a row: a sheet of the same kind without it, where the main
# sheet has it, is another table (a work order's items: 工单号, 项目, 金额).
_IDENTITY = {"service": frozenset({"vin", "plate"}), "callback": frozenset({"callback_date"})}


def _same_table(headers: list[str], main: list[str], kind: str | None) -> bool:
    """Return whether a sheet with these headers holds the same table as the main sheet: the same
    headers, or the same kind of records with the main sheet's vehicle or call identity and at least
    half of its recognised columns. A sheet of a work order's items (工单号, 进厂日期, 项目, 金额) is
    not: stacked, each item would be read as the order itself and replace it."""
    if {normalise_header(h) for h in headers} == {normalise_header(h) for h in main}:
        return True
    if kind is None or detect_kind(headers) != kind:
        return False
    fields = set(FIELDS_BY_KIND[kind])
    mine, theirs = matched_fields(headers) & fields, matched_fields(main) & fields
    identity = _IDENTITY[kind] & theirs
    if identity and not identity & mine:
        return False
    return 2 * len(mine & theirs) >= len(theirs)


def _aligned(headers: list[str], main: list[str]) -> dict[str, str]:
    """Return sheet header -> main header for the columns that mean the same: the same name first;
    then, for each field the main sheet names under another header, the sheet's most specific header
    of that field (a later sheet that adds 原工单号 before 工单号 still reads 工单号 as the number)."""
    by_name = {normalise_header(h): h for h in main}
    renames: dict[str, str] = {}
    for h in headers:
        target = by_name.get(normalise_header(h))
        if target is not None and target not in renames.values():
            renames[h] = target
    hits = {h: match_header(h) for h in headers if h not in renames}
    taken = set(renames.values())
    named = sorted(
        ((hit[1], i, h, hit[0]) for i, h in enumerate(main) if h not in taken and (hit := match_header(h))),
    )
    for _, _, target, named_field in named:
        candidates = [
            (hit[1], i, h)
            for i, (h, hit) in enumerate(hits.items())
            if hit is not None and hit[0] == named_field
        ]
        if candidates:
            chosen = min(candidates)[2]
            renames[chosen] = target
            del hits[chosen]
    return renames


def _workbook_table(
    grids: Sequence[tuple[str, pd.DataFrame | None]], name: str, kind: str | None = None
) -> tuple[int, list[str], pd.DataFrame, list[SheetReport]]:
    """Return (header row, headers, rows, sheet reports) from a workbook's sheets: every sheet holding
    the same table as the first sheet with a recognised table (of ``kind`` when one is asked for and
    a sheet holds it), stacked; the other sheets are named with the reason."""
    found: list[tuple[str, int, list[str], pd.DataFrame, int]] = []
    reports: dict[str, SheetReport] = {}
    first_error: ImportRefused | None = None
    hidden: list[str] = []
    for title, grid in grids:
        if grid is None:
            hidden.append(title)
            reports[title] = SheetReport(
                title,
                0,
                imported=False,
                reason="the sheet is hidden in the workbook; unhide it in Excel to import it",
            )
            continue
        grid = _visible_grid(grid)
        if not grid.size or (grid.apply(lambda column: column.str.strip()) == "").all(axis=None):
            reports[title] = SheetReport(title, 0, imported=False, reason="the sheet is empty")
            continue
        try:
            header_row, headers, rows, blank = _grid_table(
                grid, name if len(grids) == 1 else _in_sheet(name, title)
            )
        except ImportRefused as exc:
            first_error = first_error or exc
            # Its rows, unless it has a header and nothing under it (the header is no row of records).
            filled = int((grid.apply(lambda column: column.str.strip()) != "").any(axis=1).sum())
            counted = 0 if _HEADER_ONLY in str(exc) else filled
            reports[title] = SheetReport(title, counted, imported=False, reason=str(exc))
            continue
        found.append((title, header_row, headers, rows, blank))
        reports[title] = SheetReport(title, len(rows), blank=blank, header_row=header_row)
    if not found:
        if first_error is not None:
            raise first_error
        if hidden:
            raise _refuse(
                name,
                f"has its only sheets with values hidden ({', '.join(hidden)})",
                "unhide the sheet in Excel (right-click a sheet tab, Unhide), save, and import it again",
            )
        raise _refuse(name, "is empty", "export the records again from the DMS and import that file")
    kinds = [detect_kind(headers) for _, _, headers, _, _ in found]
    main_at = next((i for i, k in enumerate(kinds) if k is not None and k == kind), None)
    if main_at is None:
        main_at = next((i for i, k in enumerate(kinds) if k is not None), 0)
    _, header_row, main_headers, _, _ = found[main_at]
    kind = kinds[main_at]
    headers = list(main_headers)
    parts: list[pd.DataFrame] = []
    titles: list[str] = []
    for (title, _, sheet_headers, rows, _), sheet_kind in zip(found, kinds, strict=True):
        if not _same_table(sheet_headers, main_headers, kind):
            main_what = KIND_LABELS[kind] if kind else f"sheet {found[main_at][0]}"
            reports[title].imported = False
            # Each reason spelled out whole, for its Chinese words (refusal_words.sheet_reason_words).
            if sheet_kind is not None and sheet_kind == kind:
                reports[title].reason = (
                    f"its columns are another table than sheet {found[main_at][0]} (without its vehicle or "
                    f"call, or most of its columns: a work order's items, say), so its rows are not read as "
                    f"{KIND_LABELS[sheet_kind]}; import it as a file of its own if it holds whole records"
                )
            elif sheet_kind is not None:
                reports[
                    title
                ].reason = (
                    f"it holds {KIND_LABELS[sheet_kind]}, not {main_what}; import it as a file of its own"
                )
            else:
                reports[title].reason = f"it has no columns of the same table as {main_what}"
            continue
        renames = _aligned(sheet_headers, main_headers)
        for h in sheet_headers:
            if h not in renames:
                new = h
                n = 2
                while new in headers:
                    new, n = f"{h} ({n})", n + 1
                renames[h] = new
                headers.append(new)
        part = rows.rename(columns=renames)
        part[SOURCE_SHEET] = title
        parts.append(part)
        titles.append(title)
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    for h in headers:
        if h not in rows.columns:
            rows[h] = pd.Series(pd.NA, index=rows.index, dtype="str")
    # Known once every sheet is lined up (a later sheet may add a column the earlier ones lack).
    for title, part in zip(titles, parts, strict=True):
        reports[title].lacking = tuple(h for h in headers if h not in part.columns)
    if _named_for_stores(titles, headers):
        # Each sheet's name is its rows' store, in a column named as a store column is.
        headers.append(SHEET_STORE_HEADER)
        rows[SHEET_STORE_HEADER] = rows[SOURCE_SHEET].astype("str").str.strip()
    rows = rows[[*headers, SOURCE_ROW, SOURCE_SHEET]]
    return header_row, headers, rows, list(reports.values())


# A workbook of one sheet per store (西湖店, 滨江店, 一店) without a store column: the column made
# of each row's sheet name, a store column by its name.
SHEET_STORE_HEADER = "门店(工作表名)"
# A sheet named for a store: ends in 店 (a month, a year or Sheet1 does not).
_STORE_SHEET_NAME = re.compile(r"\S.{0,40}店")


def _named_for_stores(titles: list[str], headers: list[str]) -> bool:
    """Return whether the sheets read are each named for a store and no column names the store."""
    if not titles or any((hit := match_header(h)) is not None and hit[0] == "store" for h in headers):
        return False
    return all(_STORE_SHEET_NAME.fullmatch(title.strip()) is not None for title in titles)


def read_table(source: str | Path | bytes, file_name: str | None = None, kind: str | None = None) -> RawTable:
    """Return the file's header row and data rows as text; raise ImportRefused if it is not a usable table.

    A workbook gives every sheet that holds the same table (stacked, each row marked with its
    sheet): the table of the first sheet whose table is recognised, or of ``kind`` ("service",
    "callback") when a sheet holds that; ``sheets`` reports each sheet's rows and why a sheet was
    skipped.
    """
    data, name = _source_bytes(source, file_name)
    fmt = _sniff_format(data, name)
    encoding: str | None = None
    delimiter: str | None = None
    unsaved: list[tuple[str | None, str, int]] = []
    if fmt == "xlsx":
        scan = _check_xlsx_size(data, name)
        unsaved = scan.unsaved
        header_row, headers, rows, sheets = _workbook_table(_xlsx_grids(data, name, scan), name, kind)
    elif fmt == "xls":
        _check_bytes(data, name)
        header_row, headers, rows, sheets = _workbook_table(_xls_grids(data, name), name, kind)
    else:
        _check_bytes(data, name)
        text, encoding = _decode(data, name)
        text = _visible(text)
        fmt = _markup_format(text, name) or "csv"
    if fmt in ("html", "xml"):
        limits = markup.Limits(rows=import_limits()[0] + HEADER_SEARCH_ROWS, columns=MAX_COLUMNS)
        try:
            if fmt == "html":
                records = markup.html_table(text, limits, lambda cells: len(matched_fields(cells)))
                # Entities (&#8203;) are characters only once the markup is read.
                sheet_grids = [("", _visible_grid(_padded(records)))]
            else:
                sheet_grids = [(title, _padded(r)) for title, r in markup.spreadsheet_sheets(text, limits)]
        except markup.Refusal as refusal:
            raise _refuse(name, refusal.problem, refusal.remedy) from None
        if fmt == "html":
            header_row, headers, rows, blank = _grid_table(sheet_grids[0][1], name)
            sheets = [SheetReport("", len(rows), blank=blank, header_row=header_row)]
        else:
            header_row, headers, rows, sheets = _workbook_table(sheet_grids, name, kind)
    elif fmt == "csv":
        _check_csv_size(data, name)
        text = _clean_text(text, name)
        delimiter, width = _sniff_delimiter(text)
        fast = _csv_fast(text, delimiter, width, name) if width <= MAX_COLUMNS else None
        if fast is None:
            fast = _grid_table(_csv_grid(text, delimiter, width, name), name)
        header_row, headers, rows, blank = fast
        _check_quotes(name, text, headers, rows)
        # A DMS that quotes nothing, and a cell that starts with a quote ("师傅很专业): read as a
        # quote, it makes one cell of the records after it, up to the next quote, however few lines.
        if '"' in text:  # only a quoted cell can hold a line break
            _check_swallowed_records(name, rows, headers, delimiter)
        sheets = [SheetReport("", len(rows), blank=blank, header_row=header_row)]
    return RawTable(
        file_name=name,
        encoding=encoding,
        header_row=header_row,
        headers=headers,
        rows=rows,
        format=fmt,
        delimiter=delimiter,
        sha256=hashlib.sha256(data).hexdigest(),
        sheets=sheets,
        unsaved_formulas=tuple(unsaved),
    )
