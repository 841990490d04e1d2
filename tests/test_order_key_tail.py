"""The refresh's shortcut to the numbers that share a work-order key (mart_refresh_links.sql): a
number whose key is one of the keys sought always passes the cheap test on its last eight
characters, whatever its shape (prefixes, full-width digits, short numbers, leading zeros,
signs and spaces), so the regular expression is read only for the numbers that pass."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.store import queries

NUMBERS = st.text(alphabet="0123456789０１２３４５６７８９ROWXH-+ ./", min_size=0, max_size=16)


def _sql(name: str, column: str) -> str:
    """Return macro ``name`` over ``column`` as the SQL files expand it."""
    return queries._MACRO.sub(queries._expand_macro, "{{ macro('" + name + "', '" + column + "') }}")  # noqa: SLF001


def _passes(
    con: duckdb.DuckDBPyConnection, sought: list[str], numbers: list[str]
) -> list[tuple[str, bool, bool]]:
    con.execute("CREATE OR REPLACE TEMP TABLE sought (order_id VARCHAR)")
    con.executemany("INSERT INTO sought VALUES (?)", [[n] for n in sought])
    con.execute("CREATE OR REPLACE TEMP TABLE numbers (order_id VARCHAR)")
    con.executemany("INSERT INTO numbers VALUES (?)", [[n] for n in numbers])
    key = _sql("order_key", "order_id")
    tail = _sql("order_key_tail", "order_key")
    unsure = _sql("order_tail_unsure", "order_id")
    return con.execute(
        f"""
        WITH keys AS (SELECT DISTINCT {key} AS order_key FROM sought),
        tails AS (SELECT DISTINCT {tail} AS tail FROM keys WHERE order_key <> '')
        SELECT order_id,
               {key} IN (SELECT order_key FROM keys WHERE order_key <> '') AS shares_key,
               coalesce(right(order_id, 8) IN (SELECT tail FROM tails) OR {unsure}, false) AS passes
        FROM numbers
        """  # noqa: S608 - the project's own macros
    ).fetchall()


def test_numbers_of_every_shape_that_share_a_key_pass_the_tail_test():
    con = duckdb.connect()
    sought = ["ROXH2401020112", "0001234", "WO-00012345678", "１２３４５６７８９", "7", "ABC"]
    numbers = [
        "1234",
        "WO0001234",
        "ＷＯ１２３４",
        "12345678",
        "0012345678",
        "RO 12345678",
        "2401020112",
        "ROXH2401020112",
        "00000007",
        "7",
        "+7",
        "X7Y",
        "123456789",
        "1-2345-6789",
        "ROXH2401020113",
        None,
        "",
    ]
    rows = _passes(con, sought, numbers)
    assert [n for n, shares, passes in rows if shares and not passes] == []
    # The test is a filter worth having: numbers of the common shape with another key do not pass.
    assert ("ROXH2401020113", False, False) in rows
    assert ("12345678", True, True) in rows


@settings(max_examples=300, deadline=None)
@given(st.lists(NUMBERS, min_size=1, max_size=5), st.lists(NUMBERS, min_size=1, max_size=20))
def test_any_number_sharing_a_key_passes(sought, numbers):
    con = duckdb.connect()
    rows = _passes(con, sought, numbers + sought)
    assert [n for n, shares, passes in rows if shares and not passes] == []
