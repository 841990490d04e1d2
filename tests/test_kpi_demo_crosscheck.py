"""The report on the demo equals the PRODUCT.md definitions written again as plain SQL.

The SQL here is deliberately independent of analytics/store/sql: one query per KPI, straight from
the definitions, so a mistake in the shared query layer cannot hide in both.
"""

import duckdb
import pytest

from analytics.domain import kpi

MONTH = "2026-06"
START, END = "2026-06-01", "2026-06-30"


@pytest.fixture(scope="module")
def con(demo_db):
    # Read-only, as every other connection to the shared demo is: what a test wrote to it (kept
    # results), the tests after it would copy.
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


def one(con, sql):
    params = {k: v for k, v in {"s": START, "e": END}.items() if f"${k}" in sql}
    return con.execute(sql, params).fetchone()


def test_report_equals_the_definitions_on_the_demo(con):
    got = kpi.report(con, MONTH)["kpis"]
    visits, revenue, booked = one(
        con,
        "SELECT count(*), sum(amount), count(*) FILTER (WHERE is_appointment) FROM service_orders "
        "WHERE visit_date BETWEEN $s AND $e",
    )
    assert got["visits"]["value"] == visits
    assert got["revenue"]["value"] == pytest.approx(float(revenue))  # DuckDB sums DECIMAL to Decimal
    assert got["appointment_rate"]["value"] == pytest.approx(booked / visits)

    (covered,) = one(
        con,
        "SELECT count(*) FROM service_orders o WHERE o.visit_date BETWEEN $s AND $e AND EXISTS ("
        " SELECT 1 FROM callbacks c WHERE c.order_id = o.order_id AND c.callback_type = '3DC'"
        " AND date_diff('day', o.visit_date, CAST(c.callback_date AS DATE)) BETWEEN 0 AND 3)",
    )
    assert got["coverage_3dc"]["value"] == pytest.approx(covered / visits)

    attempts, reached = one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE reached) FROM callbacks "
        "WHERE callback_type = '3DC' AND CAST(callback_date AS DATE) BETWEEN $s AND $e",
    )
    assert (got["reach_rate"]["value"], got["reach_rate"]["n"]) == (
        pytest.approx(reached / attempts),
        attempts,
    )

    scored, satisfied = one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE overall_score >= 8) FROM callbacks "
        "WHERE reached AND overall_score IS NOT NULL AND callback_type IN ('3DC', '7DC') "
        "AND CAST(callback_date AS DATE) BETWEEN $s AND $e",
    )
    assert (got["satisfaction_rate"]["value"], got["satisfaction_rate"]["n"]) == (
        pytest.approx(satisfied / scored),
        scored,
    )

    answered, promoters, detractors = one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE recommend_score >= 9), count(*) FILTER (WHERE recommend_score <= 6) "
        "FROM callbacks WHERE reached AND recommend_score IS NOT NULL AND callback_type IN ('3DC', '7DC') "
        "AND CAST(callback_date AS DATE) BETWEEN $s AND $e",
    )
    assert got["nps"]["value"] == pytest.approx(100 * (promoters - detractors) / answered)

    complaints, timely = one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE resolved_at IS NOT NULL AND "
        " date_diff('second', callback_date, resolved_at) <= 3600 * CASE complaint_level "
        " WHEN 1 THEN 24 WHEN 2 THEN 48 WHEN 3 THEN 72 WHEN 4 THEN 24 ELSE 48 END) "
        "FROM callbacks WHERE is_complaint AND CAST(callback_date AS DATE) BETWEEN $s AND $e",
    )
    assert got["complaints"]["value"] == complaints
    assert got["complaint_timeliness"]["value"] == pytest.approx(timely / complaints)

    base, lost = one(
        con,
        "WITH v AS (SELECT vin, max(visit_date) AS last FROM service_orders WHERE visit_date <= $e GROUP BY vin) "
        "SELECT count(*), count(*) FILTER (WHERE last <= CAST($e AS DATE) - 365) FROM v "
        "WHERE last > CAST($e AS DATE) - 730",
    )
    assert (got["lost"]["value"], got["lost"]["n"]) == (lost, base)
