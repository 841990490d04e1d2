"""Markup that DMS systems save as "Excel": an HTML table named .xls, and the Excel 2003 XML
Spreadsheet (SpreadsheetML), each read into rows of strings with lxml.

Both are parsed from text already decoded (``read._decode`` honours GBK), with no network, no
DTD loaded and no entity resolved: a file that declares entities (billion laughs, an external
entity naming ``file:///etc/passwd``) is refused before any of its cells is read, and nesting
deeper than libxml2's 256 levels is refused too. Work is bounded by the caller's row and column
limits, counted before the tree's cells are walked. Nothing in a cell is evaluated: a
SpreadsheetML ``ss:Formula`` is ignored and its cached ``Data`` is read as the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree, html

_SS = "urn:schemas-microsoft-com:office:spreadsheet"
_INDEX = f"{{{_SS}}}Index"
_MERGE = f"{{{_SS}}}MergeAcross"
_TYPE = f"{{{_SS}}}Type"
_NAME = f"{{{_SS}}}Name"
_HTML_ROW = re.compile(r"<tr[\s>/]", re.IGNORECASE)
_XML_ROW = re.compile(r"<(?:\w+:)?Row[\s>/]")
_DEEP = "Excessive depth"
# A DOCTYPE with an internal subset that declares an entity, looked for before parsing: libxml2's
# HTML parser skips the subset, and its XML parser refuses a billion laughs only by its own
# amplification limit; neither reads or expands anything, but no export declares an entity.
_DECLARED_ENTITY = re.compile(r"<!DOCTYPE\b[^\[>]*\[[^\]]*<!ENTITY", re.IGNORECASE)


class Refusal(Exception):
    """What is wrong with the file and what to do, for ``read`` to phrase with the file's name."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}; {remedy}")
        self.problem = problem
        self.remedy = remedy


@dataclass(frozen=True)
class Limits:
    """The most rows (all sheets or tables together) and columns a markup file may have."""

    rows: int
    columns: int


_EXPORT_AGAIN = "export the records again from the DMS and import that file"
_ENTITIES = (
    "is {what} that declares entities (<!ENTITY ...>), which no DMS export does and which are not read"
)


def _refuse_entities(tree: etree._ElementTree, what: str) -> None:
    dtd = tree.docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise Refusal(_ENTITIES.format(what=what), _EXPORT_AGAIN)


def _too_many_rows(count: int, limits: Limits) -> Refusal:
    return Refusal(
        f"has {count:,} rows, more than the {limits.rows:,} rows an import reads",
        "split the export into smaller files (by month or year), or raise max_rows in the [import] "
        "section of data/settings.toml",
    )


def _too_wide(columns: int, where: str, limits: Limits) -> Refusal:
    return Refusal(
        f"has a row with values in {columns:,} columns ({where}), more than the {limits.columns:,} "
        "any DMS export has",
        "check that it is the exported file itself, then import it again",
    )


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split()) if len(element) else (element.text or "").strip()


def _html_rows(table: html.HtmlElement) -> list[html.HtmlElement]:
    """Return the table's own rows (in thead, tbody, tfoot or directly), not those of a table inside it."""
    return [
        row
        for row in table.iter("tr")
        if next((a for a in row.iterancestors() if a.tag == "table"), None) is table
    ]


def _span(cell: etree._Element, limits: Limits) -> int:
    try:
        span = int(str(cell.get("colspan", "1")).strip() or 1)
    except ValueError:
        return 1
    return min(max(span, 1), limits.columns + 1)


def _html_records(table: html.HtmlElement, limits: Limits) -> list[list[str]]:
    """Return the table's rows as cells of text; a cell spanning columns fills the first, blanks the rest."""
    records: list[list[str]] = []
    for number, row in enumerate(_html_rows(table), start=1):
        cells: list[str] = []
        for cell in row:
            if cell.tag not in ("td", "th"):
                continue
            cells.append(_text(cell))
            cells.extend([""] * (_span(cell, limits) - 1))
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) > limits.columns:
            raise _too_wide(len(cells), f"row {number:,} of the table", limits)
        records.append(cells)
    return records


def html_table(text: str, limits: Limits, score: Callable[[list[str]], int]) -> list[list[str]]:
    """Return the rows of the page's table holding the header: the one whose early rows name the
    most known columns (``score`` of a row's cells), then the one with the most rows."""
    rows = len(_HTML_ROW.findall(text))
    if rows > limits.rows:
        raise _too_many_rows(rows, limits)
    if _DECLARED_ENTITY.search(text, 0, 65536):
        raise Refusal(_ENTITIES.format(what="a web page (HTML)"), _EXPORT_AGAIN)
    parser = html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)
    try:
        document = html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise Refusal("is a web page (HTML) that cannot be read", _EXPORT_AGAIN) from exc
    if any(_DEEP in entry.message for entry in parser.error_log):
        raise Refusal(
            "is a web page (HTML) nested more than 256 tags deep, which no DMS export is", _EXPORT_AGAIN
        )
    _refuse_entities(document.getroottree(), "a web page (HTML)")
    tables = list(document.iter("table"))
    if not tables:
        raise Refusal(
            "is a web page (HTML) without a table", "export the records from the DMS as Excel or CSV"
        )
    best: tuple[int, int] | None = None
    chosen: list[list[str]] = []
    for table in tables:
        records = _html_records(table, limits)
        key = (max((score(cells) for cells in records[:30]), default=0), len(records))
        if best is None or key > best:
            best, chosen = key, records
    return chosen


def _number_text(value: str) -> str:
    """Return a Number cell as a spreadsheet cell's number is written (45000.0 -> "45000")."""
    try:
        number = float(value)
    except ValueError:
        return value.strip()
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _datetime_text(value: str) -> str:
    """Return a DateTime cell (2024-03-05T09:30:00.000) as a workbook date cell is written."""
    day, _, clock = value.strip().partition("T")
    clock = clock.split(".")[0]
    return day if clock in ("", "00:00:00", "00:00") else f"{day} {clock}"


def _cell_value(cell: etree._Element) -> str:
    data = next((child for child in cell if etree.QName(child).localname == "Data"), None)
    if data is None:
        return ""
    kind = data.get(_TYPE, "String")
    text = "".join(data.itertext())
    if kind == "Number":
        return _number_text(text)
    if kind == "DateTime":
        return _datetime_text(text)
    if kind == "Boolean":
        return {"1": "true", "0": "false"}.get(text.strip(), text.strip())
    return text.strip()


def _position(element: etree._Element, after: int) -> int:
    """Return the 1-based position an ss:Index gives, else (or when it points back) the one after ``after``."""
    index = element.get(_INDEX)
    try:
        position = int(index) if index is not None else 0
    except ValueError:
        position = 0
    return max(position, after + 1)


def spreadsheet_sheets(text: str, limits: Limits) -> list[tuple[str, list[list[str]]]]:
    """Return each worksheet of an Excel 2003 XML Spreadsheet as (name, rows of cell texts)."""
    rows = len(_XML_ROW.findall(text))
    if rows > limits.rows:
        raise _too_many_rows(rows, limits)
    if _DECLARED_ENTITY.search(text, 0, 65536):
        raise Refusal(_ENTITIES.format(what="an XML spreadsheet"), _EXPORT_AGAIN)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    # lxml refuses a str that declares its encoding; the text is already decoded.
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text.lstrip("\ufeff"), count=1)
    try:
        root = etree.fromstring(body.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError as exc:
        if _DEEP in str(exc):
            raise Refusal(
                "is an XML spreadsheet nested more than 256 tags deep, which no Excel export is",
                _EXPORT_AGAIN,
            ) from exc
        raise Refusal(
            f"is an Excel 2003 XML spreadsheet that is not well-formed ({exc.msg})",
            "open it in Excel and save it as .xlsx, then import that file",
        ) from exc
    _refuse_entities(root.getroottree(), "an XML spreadsheet")
    sheets: list[tuple[str, list[list[str]]]] = []
    total = 0
    for number, sheet in enumerate(root.iter(f"{{{_SS}}}Worksheet"), start=1):
        title = sheet.get(_NAME) or f"Sheet{number}"
        records: list[list[str]] = []
        for table in sheet.iter(f"{{{_SS}}}Table"):
            for row in table.iter(f"{{{_SS}}}Row"):
                at = _position(row, len(records))
                if total + at > limits.rows:
                    raise _too_many_rows(total + at, limits)
                records.extend([] for _ in range(at - 1 - len(records)))
                cells: list[str] = []
                for cell in row.iter(f"{{{_SS}}}Cell"):
                    column = _position(cell, len(cells))
                    value = _cell_value(cell)
                    if column > limits.columns:
                        if not value:
                            continue  # a formatted empty cell far to the right
                        raise _too_wide(column, f"row {at:,} of sheet {title}", limits)
                    cells.extend([""] * (column - 1 - len(cells)))
                    cells.append(value)
                    merge = cell.get(_MERGE)
                    if merge is not None and merge.strip().isdigit():
                        # The merged cells to the right are blank; past the limit they are dropped.
                        cells.extend([""] * min(int(merge), limits.columns - len(cells)))
                while cells and not cells[-1]:
                    cells.pop()
                records.append(cells)
        total += len(records)
        sheets.append((title, records))
    if not sheets:
        raise Refusal("is an Excel 2003 XML spreadsheet without a worksheet", _EXPORT_AGAIN)
    return sheets
