"""Old .xls, HTML tables saved as .xls and Excel 2003 XML Spreadsheets import like XLSX and CSV.

The golden work orders and callbacks (tests/data/make_golden.py, plates from Zhejiang) are written
in every format (dates as date cells and amounts as numbers where the format has types) and each
file lands exactly the rows and values the same table as CSV and as XLSX lands.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from analytics.core.errors import ImportRefused
from analytics.ingest import import_file, read_table
from analytics.ingest.read import SOURCE_ROW
from analytics.store import db
from tests.excel_formats import html_bytes, spreadsheetml_bytes, typed, xls_bytes, xlsx_bytes

DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
assert _spec is not None and _spec.loader is not None
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


def _zhejiang(rows: list[list[str]]) -> list[list[str]]:
    return [[cell.replace("沪", "浙") for cell in row] for row in rows]


TABLES = {
    "service": [golden.SERVICE_HEADER, *_zhejiang(golden.SERVICE_ROWS)],
    "callback": [golden.CALLBACK_HEADER, *_zhejiang(golden.CALLBACK_ROWS)],
}


def _csv(rows: list[list[str]]) -> bytes:
    return golden._csv(rows).encode("gbk")


def _typed_rows(rows: list[list[str]]) -> list[list[object]]:
    return [rows[0], *([typed(cell) for cell in row] for row in rows[1:])]


WRITERS = {
    "csv": _csv,
    "xlsx": lambda rows: xlsx_bytes({"工单": _typed_rows(rows)}),
    "xls": lambda rows: xls_bytes({"工单": _typed_rows(rows)}),
    "html": html_bytes,
    "html_utf8": lambda rows: html_bytes(rows, encoding="utf-8"),
    "xml": lambda rows: spreadsheetml_bytes({"工单": _typed_rows(rows)}),
}
QUERIES = {
    "service": "SELECT * EXCLUDE (import_id) FROM service_orders ORDER BY order_id",
    "callback": "SELECT * EXCLUDE (import_id) FROM callbacks ORDER BY callback_id",
}


def _landed(tmp_path: Path, kind: str, fmt: str) -> tuple[object, list[tuple[object, ...]], list[object]]:
    """Import the table written as ``fmt`` into a new database; return (result, rows, rejected rows)."""
    data = WRITERS[fmt](TABLES[kind])
    con = db.connect(tmp_path / f"{kind}-{fmt}.duckdb")
    try:
        result = import_file(con, data, file_name=f"导出.{fmt}", kind=kind)
        rows = con.execute(QUERIES[kind]).fetchall()
        rejected = con.execute(
            "SELECT source_row, column_name, reason FROM rejected_rows ORDER BY ALL"
        ).fetchall()
        again = import_file(con, data, file_name=f"导出.{fmt}", kind=kind)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, result.inserted)
        return result, rows, rejected
    finally:
        con.close()


@pytest.mark.parametrize("kind", ["service", "callback"])
@pytest.mark.parametrize("fmt", ["xls", "html", "html_utf8", "xml"])
def test_each_excel_format_lands_the_same_rows_as_csv_and_xlsx(tmp_path, kind, fmt):
    csv_result, csv_rows, csv_rejected = _landed(tmp_path, kind, "csv")
    xlsx_result, xlsx_rows, _ = _landed(tmp_path, kind, "xlsx")
    result, rows, rejected = _landed(tmp_path, kind, fmt)
    assert (result.rows_read, result.inserted, result.rejected) == (
        csv_result.rows_read,
        csv_result.inserted,
        csv_result.rejected,
    )
    assert rows == csv_rows == xlsx_rows
    assert len(rows) == len(TABLES[kind]) - 1
    # The HTML title row sits above the header: the rows are numbered one further down.
    assert len(rejected) == len(csv_rejected)


def test_an_xls_keeps_date_cells_numbers_plates_and_comments():
    raw = read_table(WRITERS["xls"](TABLES["callback"]), "回访.xls")
    assert raw.format == "xls"
    assert raw.headers == golden.CALLBACK_HEADER
    first = raw.rows.iloc[0]
    assert first["回访日期"] == "2024-03-02 10:15:00"
    assert first["客户意见"] == "服务态度很好，洗车干净"
    assert first["服务态度"] == "5"
    service = read_table(WRITERS["xls"](TABLES["service"]), "工单.xls")
    row = service.rows.iloc[1]
    assert (row["车牌号"], row["进厂日期"], row["结算金额"], row["进厂里程"]) == (
        "浙B66K88",
        "2024-03-01",
        "1280",
        "23410",
    )
    assert service.rows[SOURCE_ROW].tolist() == list(range(2, 10))
    assert service.sheets[0].name == "工单"


def test_a_gbk_html_table_is_read_from_its_bytes_below_its_title_row():
    data = WRITERS["html"](TABLES["service"])
    assert b"charset=gbk" in data
    raw = read_table(data, "工单.xls")
    assert (raw.format, raw.encoding, raw.header_row) == ("html", "gb18030", 2)
    assert raw.headers == golden.SERVICE_HEADER
    assert raw.rows["客户姓名"].tolist()[:2] == ["张伟", "李娜"]
    assert raw.rows["车牌号"].iloc[0] == "浙A12345"


def test_the_html_table_holding_the_header_is_chosen_and_spans_fill_blank_cells():
    page = (
        "<html><body><table><tr><td>门店</td><td>城东店</td></tr></table>"
        "<table><tr><th>工单号</th><th colspan='2'>进厂日期</th><th>结算金额</th></tr>"
        "<tr><td>WO1</td><td colspan=2>2024-03-05</td><td>1,280.00</td></tr>"
        "<tr><td>WO2 <b>加急</b></td><td>2024-03-06</td><td>x</td><td>99</td></tr></table>"
        "<table><tr><td>a</td></tr><tr><td>b</td></tr><tr><td>c</td></tr><tr><td>d</td></tr></table>"
        "</body></html>"
    )
    raw = read_table(page.encode("utf-8"), "web.xls")
    assert raw.headers == ["工单号", "进厂日期", "column C", "结算金额"]
    assert raw.rows.drop(columns=SOURCE_ROW).fillna("").values.tolist() == [
        ["WO1", "2024-03-05", "", "1,280.00"],
        ["WO2 加急", "2024-03-06", "x", "99"],
    ]


def test_spreadsheetml_reads_every_worksheet_with_index_gaps_and_typed_cells():
    sheets = {
        "2023年": _typed_rows(
            [["工单号", "进厂日期", "结算金额", "备注"], ["WO1", "2023/5/1", "1,280.50", "=1+2"]]
        ),
        "2024年": _typed_rows([["工单号", "进厂日期", "结算金额"], ["WO2", "2024/5/1 09:30", "", ""]]),
    }
    raw = read_table(spreadsheetml_bytes(sheets), "workbook.xml")
    assert raw.format == "xml"
    assert [s.name for s in raw.sheets] == ["2023年", "2024年"]
    assert raw.rows.drop(columns=SOURCE_ROW).fillna("").values.tolist() == [
        ["WO1", "2023-05-01", "1280.5", "=1+2", "2023年"],
        ["WO2", "2024-05-01 09:30:00", "", "", "2024年"],
    ]


def test_the_format_is_told_by_content_whatever_the_name():
    for fmt in ("xls", "html", "xml"):
        raw = read_table(WRITERS[fmt](TABLES["service"]), "orders.csv")
        assert raw.format == fmt.split("_")[0]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"<html><body><p>no table here</p></body></html>", "is a web page (HTML) without a table"),
        (
            b"<?xml version='1.0'?><Workbook xmlns='urn:schemas-microsoft-com:office:spreadsheet'>",
            "not well-formed",
        ),
        (
            b"<?xml version='1.0'?><Workbook xmlns='urn:schemas-microsoft-com:office:spreadsheet'/>",
            "without a worksheet",
        ),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "is an XML document, not a table file"),
    ],
)
def test_markup_that_is_not_a_table_is_refused_in_one_sentence(data, fragment):
    with pytest.raises(ImportRefused) as refused:
        read_table(data, "upload.xls")
    message = str(refused.value)
    assert message.startswith("upload.xls ") and fragment in message and message.endswith(".")


def test_a_20000_row_xls_reads_in_about_the_time_of_the_same_xlsx():
    header = golden.SERVICE_HEADER
    rows = [header] + [
        [typed(cell) for cell in golden.SERVICE_ROWS[i % 8][:1]]
        + [f"WO{i:07d}"]
        + [typed(cell) for cell in golden.SERVICE_ROWS[i % 8][2:]]
        for i in range(20_000)
    ]
    timings = {}
    for fmt, data in (("xlsx", xlsx_bytes({"工单": rows})), ("xls", xls_bytes({"工单": rows}))):
        best = float("inf")
        for _ in range(2):
            clock = time.perf_counter()
            raw = read_table(data, f"big.{fmt}")
            best = min(best, time.perf_counter() - clock)
        assert len(raw.rows) == 20_000
        timings[fmt] = best
    # Not a benchmark: a guard against a reader that is an order of magnitude slower.
    assert timings["xls"] < 5 * timings["xlsx"] + 1.0, timings
