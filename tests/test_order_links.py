"""A callback whose 工单号 the DMS wrote differently (leading zeros dropped, a prefix added) still
belongs to its work order, whatever order the files arrive in; never to the wrong one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analytics.domain import kpi, quality
from analytics.domain.counts import sql_params
from analytics.ingest import import_file, rollback
from analytics.services import sql_marts
from analytics.store import db, derived, queries

VIN_A, VIN_B, VIN_C = "LSVAU2A37N2183746", "LFV2A21K5A4035642", "LGBH52E05BY094318"


def _orders(tmp_path: Path, rows: list[tuple[str, str]], name: str = "orders.csv") -> Path:
    path = tmp_path / name
    lines = ["工单号,门店,车架号,进厂日期"] + [f"{order_id},S1,{vin},2026-10-02" for order_id, vin in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _calls(tmp_path: Path, rows: list[tuple[str, str, str]], name: str = "calls.csv") -> Path:
    path = tmp_path / name
    lines = ["回访编号,工单号,车架号,回访类型,回访日期,是否接通,满意度"] + [
        f"{callback_id},{order_id},{vin},3DC,2026-10-03,是,5" for callback_id, order_id, vin in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _links(con) -> dict[str, str | None]:
    """The work order each callback counts for, as the callback facts give it."""
    facts = queries.run(con, "callback_facts", sql_params(None))
    return {
        r.callback_id: (None if pd.isna(r.linked_order_id) else r.linked_order_id) for r in facts.itertuples()
    }


def _coverage(con) -> tuple[int, int]:
    """3DC coverage of October as (visits covered, visits); the month is too short for a final value."""
    figure = kpi.month_kpis(con, "2026-10")["coverage_3dc"]
    return figure["num"], figure["den"]


def _marts_match(con) -> None:
    """The marts, refreshed incrementally, hold what a full build gives (and the callback facts what
    their query gives afresh)."""
    assert sql_marts.refresh(con)["callback_facts"]["mode"] == "incremental"
    kept = {name: _rows(con, name) for name in derived.MARTS}
    fresh = queries.run(con, "callback_facts", sql_params(None))
    pd.testing.assert_frame_equal(kept["callback_facts"], _sorted(fresh))
    sql_marts.refresh(con, full=True)
    for name in derived.MARTS:
        pd.testing.assert_frame_equal(kept[name], _rows(con, name), obj=name)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _rows(con, name: str) -> pd.DataFrame:
    cur = con.cursor()
    try:
        return _sorted(cur.table(derived.table(name)).df())
    finally:
        cur.close()


@pytest.mark.parametrize("callbacks_first", [True, False])
def test_a_number_without_its_zeros_or_with_a_prefix_links_in_either_order(tmp_path, callbacks_first):
    con = db.connect(tmp_path / "links.duckdb")
    orders = _orders(tmp_path, [("0001234", VIN_A), ("0001235", VIN_B)])
    calls = _calls(tmp_path, [("R1", "1234", VIN_A), ("R2", "WO0001235", "")])
    first, second = (calls, orders) if callbacks_first else (orders, calls)
    import_file(con, first)
    sql_marts.refresh(con)
    import_file(con, second)
    _marts_match(con)

    assert _coverage(con) == (2, 2)
    assert _links(con) == {"R1": "0001234", "R2": "0001235"}
    # The archive keeps what the file said.
    stored = con.execute("SELECT callback_id, order_id FROM callbacks ORDER BY 1").fetchall()
    assert stored == [("R1", "1234"), ("R2", "WO0001235")]
    # The quality check says these callbacks are linked by the normalised number, and lists none unlinked.
    assert quality.summary(con)["unlinked_callbacks"] == 0


def test_an_exact_number_wins_and_an_ambiguous_one_links_to_neither(tmp_path):
    con = db.connect(tmp_path / "links.duckdb")
    import_file(con, _orders(tmp_path, [("01234", VIN_A), ("1234", VIN_A), ("5678", VIN_B)]))
    sql_marts.refresh(con)
    import_file(con, _calls(tmp_path, [("R1", "1234", ""), ("R2", "WO001234", ""), ("R3", "ABC", "")]))
    _marts_match(con)

    assert _links(con) == {"R1": "1234", "R2": None, "R3": None}
    found = quality.finding(con, "unlinked_callbacks")
    assert found["callback_id"].tolist() == ["R2"]


def test_a_vin_that_disagrees_does_not_link(tmp_path):
    con = db.connect(tmp_path / "links.duckdb")
    import_file(con, _orders(tmp_path, [("0001234", VIN_A)]))
    import_file(con, _calls(tmp_path, [("R1", "1234", VIN_C)]))

    assert _links(con) == {"R1": None}
    assert _coverage(con) == (0, 1)


def test_rolling_back_the_work_orders_unlinks_and_a_second_order_makes_the_key_ambiguous(tmp_path):
    con = db.connect(tmp_path / "links.duckdb")
    first = import_file(con, _orders(tmp_path, [("0001234", VIN_A)]))
    import_file(con, _calls(tmp_path, [("R1", "1234", "")]))
    sql_marts.refresh(con)
    assert _links(con) == {"R1": "0001234"}
    assert _coverage(con) == (1, 1)

    # Another order with the same key: nobody can tell which one the callback means.
    second = import_file(con, _orders(tmp_path, [("WO-1234", VIN_A)], name="more.csv"))
    _marts_match(con)
    assert _links(con) == {"R1": None}
    rollback(con, second.import_id)
    _marts_match(con)
    assert _links(con) == {"R1": "0001234"}

    rollback(con, first.import_id)
    _marts_match(con)
    assert _links(con) == {"R1": None}
    assert _coverage(con) == (0, 0)


@pytest.mark.parametrize(
    ("order_id", "callback_order_id"),
    [
        ("0012", "12"),  # a key shorter than the four digits the orders are sorted out by
        ("WO0012", "0000012"),
        ("RO-2024-1234", "20241234"),  # separators inside the number
        ("0001234A", "1234"),  # an order number ending in a letter
        ("RO-12-34", "1234"),  # the last four characters are not all digits
        ("+1234", "1234"),
    ],
)
def test_a_loose_number_finds_its_order_whatever_the_order_number_ends_with(
    tmp_path, order_id, callback_order_id
):
    # The orders are keyed only where they can share a loose number's key (linked_callbacks.sql):
    # that shortcut must never lose a link.
    con = db.connect(tmp_path / "x.duckdb")
    import_file(con, _orders(tmp_path, [(order_id, VIN_A), ("9999", VIN_B)]), file_name="orders.csv")
    import_file(con, _calls(tmp_path, [("C1", callback_order_id, VIN_A)]), file_name="calls.csv")
    assert _links(con) == {"C1": order_id}
    con.close()


def test_a_number_typed_with_full_width_digits_links_to_its_order(tmp_path):
    # An IME left in full-width mode writes ＷＸＮ２６…; the number is the same (seen in a CRM export).
    con = db.connect(tmp_path / "links.duckdb")
    import_file(con, _orders(tmp_path, [("WXN2610001", VIN_A), ("WXN2610002", VIN_B)]))
    sql_marts.refresh(con)
    import_file(
        con, _calls(tmp_path, [("R1", "ＷＸＮ２６１０００１", ""), ("R2", "WXN２６１０００２", VIN_B)])
    )
    _marts_match(con)

    assert _links(con) == {"R1": "WXN2610001", "R2": "WXN2610002"}
    assert quality.summary(con)["unlinked_callbacks"] == 0
