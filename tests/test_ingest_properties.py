"""Property-based tests of the readers and value parsers: any input gives a result or a refusal.

Arbitrary bytes and arbitrary text tables never raise anything but ImportRefused; a table the
program can read comes back cell for cell whatever its encoding, delimiter or line ends; parsed
dates are real dates in range or marked unreadable; numbers are finite or marked; every row read
is counted once.
"""

from __future__ import annotations

import csv
import io
import math
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.core.errors import ImportRefused
from analytics.ingest import import_file, plan_import, read_table, values
from analytics.ingest.read import SOURCE_ROW
from analytics.ingest.stage import NUMBER_RANGES
from analytics.store import db
from tests.hostile_corpus import SERVICE_HEADER

FAST = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-32")
# Characters DMS cells are made of, plus the ones that break parsers: quotes, delimiters, line ends.
CELL_CHARS = "张伟李娜城东店保养维修朗逸满意是否0123456789-/.:年月日 ,;\t\"'=+@¥元AbZ"
HOSTILE_CHARS = CELL_CHARS + "\n\r\x00\x01\ufeff\u3000"

cells = st.text(alphabet=CELL_CHARS, max_size=12)
hostile_cells = st.text(alphabet=HOSTILE_CHARS, max_size=12)


def _csv(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


@FAST
@given(
    rows=st.lists(st.lists(hostile_cells, max_size=8), max_size=12),
    encoding=st.sampled_from(ENCODINGS),
    delimiter=st.sampled_from([",", "\t", ";", "|"]),
    junk=st.binary(max_size=20),
    junk_first=st.booleans(),
)
def test_arbitrary_text_tables_in_any_encoding_give_a_table_or_a_refusal(
    rows, encoding, delimiter, junk, junk_first
):
    text = _encode(_csv(rows, delimiter), encoding)
    data = junk + text if junk_first else text + junk
    try:
        raw = read_table(data, "fuzz.csv")
    except ImportRefused as refused:
        message = str(refused)
        assert message.startswith("fuzz.csv ") and message.endswith(".") and "\n" not in message
    else:
        assert len(raw.rows) >= 1
        assert list(raw.rows.columns) == [*raw.headers, SOURCE_ROW]


@FAST
@given(
    body=st.lists(
        st.lists(cells, min_size=len(SERVICE_HEADER), max_size=len(SERVICE_HEADER)), min_size=1, max_size=8
    ),
    encoding=st.sampled_from(ENCODINGS),
    delimiter=st.sampled_from([",", "\t", ";"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    title=st.booleans(),
)
def test_a_readable_table_comes_back_cell_for_cell(body, encoding, delimiter, newline, title):
    rows = ([["维修工单导出"], []] if title else []) + [SERVICE_HEADER] + body
    data = _csv(rows, delimiter, newline).encode(encoding)
    # A row holding nothing but placeholders ("--", "/", null) is a blank row, as an empty one is.
    kept = [
        row
        for row in ([cell.strip() for cell in row] for row in body)
        if any(cell and cell.lower() not in values.MISSING_TOKENS for cell in row)
    ]
    if not kept:
        with pytest.raises(ImportRefused, match="has a header row but no data rows"):
            read_table(data, "table.csv")
        return
    raw = read_table(data, "table.csv")
    assert raw.headers == SERVICE_HEADER
    assert raw.header_row == (3 if title else 1)
    assert raw.rows[SERVICE_HEADER].fillna("").values.tolist() == kept


@pytest.fixture(scope="module")
def memory_con():
    con = db.connect(":memory:")
    yield con
    con.close()


@FAST
@given(
    body=st.lists(
        st.lists(hostile_cells, min_size=len(SERVICE_HEADER), max_size=len(SERVICE_HEADER)),
        min_size=1,
        max_size=10,
    )
)
def test_every_row_read_is_counted_once_and_what_lands_is_in_range(memory_con, body):
    data = _csv([SERVICE_HEADER] + body).encode("utf-8")
    try:
        raw = read_table(data, "orders.csv")
        plan = plan_import(memory_con, raw, "service")
    except ImportRefused:
        return
    counted = plan.to_insert + plan.to_update + plan.unchanged + plan.rejected + plan.duplicates_in_file
    assert counted == plan.rows_read == len(raw.rows)
    staged = plan.staged
    assert staged["order_id"].notna().all()
    assert staged["visit_date"].between(pd.Timestamp("1900-01-01"), pd.Timestamp("2099-12-31")).all()
    for column, (low, high) in NUMBER_RANGES.items():
        present = staged[column].dropna()
        assert present.between(low, high).all(), column


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(
        st.lists(hostile_cells, min_size=len(SERVICE_HEADER), max_size=len(SERVICE_HEADER)),
        min_size=1,
        max_size=6,
    )
)
def test_importing_arbitrary_rows_lands_them_whole_or_refuses(tmp_path_factory, body):
    con = db.connect(tmp_path_factory.mktemp("prop") / "p.duckdb")
    try:
        data = _csv([SERVICE_HEADER] + body).encode("utf-8")
        try:
            result = import_file(con, data, file_name="orders.csv", kind="service")
        except ImportRefused:
            assert con.execute("SELECT count(*) FROM imports").fetchall() == [(0,)]
            return
        stored = con.execute("SELECT count(*) FROM service_orders").fetchall()[0][0]
        assert stored == result.inserted
        assert con.execute("SELECT count(DISTINCT source_row) FROM rejected_rows").fetchall() == [
            (result.rejected,)
        ]
    finally:
        con.close()


@FAST
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=20))
def test_any_text_is_a_date_in_range_or_marked_unreadable(texts):
    series = pd.Series(texts, dtype="str")
    for keep_time in (False, True):
        parsed, bad = values.parse_datetimes(series, keep_time=keep_time)
        assert len(parsed) == len(series) and len(bad) == len(series)
        present = parsed.dropna()
        assert present.between(pd.Timestamp("1900-01-01"), pd.Timestamp("2100-01-01")).all()
        assert not (bad & parsed.notna()).any()
        assert not bad[series.isna()].any()


@FAST
@given(
    moment=st.datetimes(
        min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2099-12-31").to_pydatetime(),
    ),
    style=st.sampled_from(
        ["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}年{m}月{d}日", "{y}{m:02d}{d:02d}", "{y}.{m}.{d}"]
    ),
    with_time=st.booleans(),
)
def test_a_real_date_in_any_common_form_reads_back_exactly(moment, style, with_time):
    moment = moment.replace(microsecond=0)
    text = style.format(y=moment.year, m=moment.month, d=moment.day)
    if with_time and not style.startswith("{y}{m"):
        text += f" {moment.hour}:{moment.minute:02d}:{moment.second:02d}"
    parsed, bad = values.parse_datetimes(pd.Series([text], dtype="str"), keep_time=True)
    expected = (
        moment if with_time and not style.startswith("{y}{m") else moment.replace(hour=0, minute=0, second=0)
    )
    assert not bad.iloc[0]
    assert parsed.iloc[0] == pd.Timestamp(expected)


@FAST
@given(st.integers(1900, 2099), st.integers(1, 12), st.integers(29, 35))
def test_days_past_the_end_of_the_month_are_unreadable(year, month, day):
    last = (pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)).day
    parsed, bad = values.parse_datetimes(pd.Series([f"{year}/{month}/{day}"], dtype="str"), keep_time=False)
    assert bool(bad.iloc[0]) == (day > last)
    assert pd.isna(parsed.iloc[0]) == (day > last)


@FAST
@given(st.lists(st.one_of(st.none(), st.text(max_size=25)), max_size=20))
def test_any_text_is_a_finite_number_or_marked(texts):
    series = pd.Series(texts, dtype="str")
    parsed, bad = values.parse_numbers(series)
    assert all(math.isfinite(v) for v in parsed.dropna())
    assert (bad == (values.clean_typed(series).notna() & parsed.isna())).all()
    whole, whole_bad = values.parse_integers(series)
    assert whole.dropna().abs().lt(2**31).all()
    assert not (whole_bad & whole.notna()).any()


@FAST
@given(
    st.decimals(min_value=-99_999_999, max_value=99_999_999, places=2, allow_nan=False),
    st.sampled_from(["{:,.2f}", "{:.2f}", "¥{:,.2f}", "{:,.2f}元", "￥{:.2f}"]),
)
def test_amounts_with_separators_and_currency_read_back(amount, style):
    parsed, bad = values.parse_numbers(pd.Series([style.format(amount)], dtype="str"))
    assert not bad.iloc[0]
    assert parsed.iloc[0] == pytest.approx(float(amount), abs=0.005)


@FAST
@given(st.lists(st.one_of(st.none(), st.text(max_size=8)), max_size=20))
def test_yes_no_and_reached_are_true_false_or_marked(texts):
    series = pd.Series(texts, dtype="str")
    for parse in (values.parse_booleans, values.parse_reached):
        parsed, bad = parse(series)
        assert set(parsed.dropna().tolist()) <= {True, False}
        assert (bad == (values.clean_typed(series).notna() & parsed.isna())).all()


@FAST
@given(st.lists(st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 200).map(str)), max_size=20))
def test_scores_are_on_zero_to_ten_or_marked(texts):
    series = pd.Series(texts, dtype="str")
    parsed, bad, scale = values.parse_scores(series)
    assert scale in ("1-5", "0-10", "0-100", "labels")
    assert parsed.dropna().between(0, 10).all()
    assert not (bad & parsed.notna()).any()


@FAST
@given(st.lists(st.integers(1, 5), min_size=1, max_size=30))
def test_a_one_to_five_column_doubles(scores):
    parsed, bad, scale = values.parse_scores(pd.Series([str(s) for s in scores], dtype="str"))
    assert scale == "1-5"
    assert parsed.tolist() == [2.0 * s for s in scores]
    assert not bad.any()
