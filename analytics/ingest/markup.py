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
_HUGE = "Resource limit exceeded"  # libxml2: a text or attribute over 10 MB without huge_tree
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


# Marks where a <br> stood while the cell's other whitespace is collapsed (a private-use character).
_BREAK = "\uf8ff"


def _text(element: etree._Element) -> str:
    if not len(element):
        return (element.text or "").strip()
    # A <br> is a line break in the cell, as a browser and Excel show it; other whitespace collapses.
    for br in element.iter("br"):
        br.tail = _BREAK + (br.tail or "")
    lines = (" ".join(line.split()) for line in "".join(element.itertext()).split(_BREAK))
    return "\n".join(line for line in lines if line)


def _html_rows(table: html.HtmlElement) -> list[html.HtmlElement]:
    """Return the table's own rows (in thead, tbody, tfoot or directly), not those of a table inside it."""
    return [
        row
        for row in table.iter("tr")
        if next((a for a in row.iterancestors() if a.tag == "table"), None) is table
    ]


# The HTML spec's clamps (browsers apply them): a colspan above 1000 counts as 1000, a rowspan
# above 65534 as 65534. A rowspan is further cut at the end of its row group, as a browser lays
# it out, so no span reaches past the rows the file holds.
_MAX_COLSPAN = 1000
_MAX_ROWSPAN = 65534
# A merged cell repeats its value in the rows it spans. In an export a few columns are merged
# (a store, a date), so the values repeated stay fewer than the cells the table writes; a small
# page whose spans would repeat far more (a bomb: 1,000 cells of rowspan 65534 over empty rows)
# is refused before any row is laid out. The floor leaves room for any header's spans.
_REPEAT_FLOOR = 100_000
_SPAN = re.compile(r"\s*(\d+)")


def _span(cell: etree._Element, attribute: str, most: int) -> int:
    """Return a cell's colspan or rowspan as a browser reads it: a number from 1 to ``most``;
    0 (a rowspan to the end of its row group) gives ``most``, anything unreadable 1."""
    value = cell.get(attribute)
    if value is None:
        return 1
    match = _SPAN.match(value)
    if match is None:
        return 1
    span = int(match.group(1)[:12])  # more digits than that are past any clamp
    return most if span == 0 and attribute == "rowspan" else min(max(span, 1), most)


@dataclass(frozen=True)
class _Spanned:
    """A cell spanning rows: where it stands, the last row it reaches and the value it repeats."""

    column: int
    width: int
    last_row: int
    text: str


def _rows_left_in_group(rows: list[html.HtmlElement]) -> list[int]:
    """Return, for each row, how many rows follow it in its row group (thead, tbody, tfoot)."""
    left = [0] * len(rows)
    for i in range(len(rows) - 2, -1, -1):
        if rows[i + 1].getparent() is rows[i].getparent():
            left[i] = left[i + 1] + 1
    return left


class _Row:
    """One row as it is laid out: the cells of the rows above that reach it, then its own cells.
    Values past the column limit are counted, never stored."""

    def __init__(self, limits: Limits, above: list[_Spanned]) -> None:
        self.cells: list[str] = []
        self.width = 0  # the next free column
        self.last_value = -1  # the rightmost column holding a value
        self.limit = limits.columns
        self.above = above  # by column
        self.placed = 0  # how many of ``above`` are placed

    def put(self, column: int, text: str, width: int) -> None:
        if text:
            if column > self.last_value:
                self.last_value = column
            if column < self.limit:
                if column > len(self.cells):
                    self.cells.extend([""] * (column - len(self.cells)))
                self.cells.append(text)
        if column + width > self.width:
            self.width = column + width

    def place_above(self, every: bool = False) -> None:
        """Place the cells from above that stand at the next free column (``every``: all that are left)."""
        while self.placed < len(self.above) and (every or self.above[self.placed].column <= self.width):
            cell = self.above[self.placed]
            if cell.column >= self.width:  # else a cell of this row overlaps it and wins
                self.put(cell.column, cell.text, cell.width)
            self.placed += 1


def _html_records(table: html.HtmlElement, limits: Limits) -> list[list[str]]:
    """Return the table's rows as cells of text, laid out as a browser lays them out.

    A cell spanning columns fills the first and blanks the rest (one value, one field). A cell
    spanning rows stands in the same columns of the rows below it, to the end of its row group
    at most, and its value is repeated in each: a store or a date merged over a group of rows
    belongs to every one of them, as the same export written as CSV has it.
    """
    rows = _html_rows(table)
    rows_left = _rows_left_in_group(rows)
    budget = max(sum(1 for _ in table.iter("td", "th")), _REPEAT_FLOOR)
    promised = 0
    records: list[list[str]] = []
    spanned: list[_Spanned] = []  # cells from the rows above reaching this row, by column
    for index, row in enumerate(rows):
        number = index + 1
        if index and row.getparent() is not rows[index - 1].getparent():
            spanned = []  # a span ends with its row group
        laid = _Row(limits, spanned)
        new: list[_Spanned] = []
        for cell in row:
            if cell.tag not in ("td", "th"):
                continue
            if laid.placed < len(spanned):
                laid.place_above()
            column, text = laid.width, _text(cell)
            width = _span(cell, "colspan", _MAX_COLSPAN)
            laid.put(column, text, width)
            if cell.get("rowspan") is None:
                continue
            height = _span(cell, "rowspan", min(_MAX_ROWSPAN, rows_left[index] + 1))
            if height > 1 and column < limits.columns:
                promised += height - 1
                if promised > budget:
                    raise Refusal(
                        f"is a web page (HTML) whose merged cells (rowspan) would repeat over {budget:,} "
                        "values in the rows below them, far more than the merged cells of an export do",
                        _EXPORT_AGAIN,
                    )
                new.append(_Spanned(column, width, index + height - 1, text))
        laid.place_above(every=True)
        if laid.last_value >= limits.columns:
            raise _too_wide(laid.last_value + 1, f"row {number:,} of the table", limits)
        records.append(laid.cells)
        if new or (spanned and min(s.last_row for s in spanned) <= index):
            # One cell per column: a cell of this row overlapping one from above takes its place.
            by_column = {s.column: s for s in spanned if s.last_row > index}
            by_column.update((s.column, s) for s in new)
            spanned = sorted(by_column.values(), key=lambda s: s.column)
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
    if any(_HUGE in entry.message for entry in parser.error_log):
        # lxml stops at the value and returns the page read so far, which would read as empty.
        raise Refusal(
            "is a web page (HTML) with a value or attribute over 10 MB (a picture embedded in the "
            "page?), which the reader does not take",
            "export the records from the DMS without pictures, or as Excel or CSV",
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
