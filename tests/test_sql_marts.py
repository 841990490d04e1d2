"""SQL marts (store.derived, services.sql_marts): the reads they serve give exactly what the queries
they were built from give, after a full build, after an import of another month's files refreshed
incrementally, and after a rollback; a stale or changed mart is never read."""

from __future__ import annotations

import dataclasses
import math
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics.core.months import month_end, shift_month
from analytics.domain import churn, churn_model, facts, kpi, overview
from analytics.domain import counts as kpi_counts
from analytics.domain import satisfaction as sat
from analytics.domain.maintenance import features as maintenance_features
from analytics.ingest import import_file, rollback
from analytics.services import marts, sql_marts
from analytics.store import db, derived, queries

SCALE = 0.03
# The generated group's files split at this day: the months from it on come as "another month's files".
CUTOFF = date(2026, 10, 1)


def _same(a: Any, b: Any) -> bool:
    """Whether two results are equal, NaN equal to NaN, frames cell by cell."""
    if isinstance(a, pd.DataFrame):
        if not isinstance(b, pd.DataFrame):
            return False
        try:
            pd.testing.assert_frame_equal(a, b)
        except AssertionError:
            return False
        return True
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        fields = dataclasses.fields(a)
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return bool(a == b)


def _writable_copy(demo_db: Path, tmp_path: Path):
    """Return a connection to a copy of the demo database, to change and refresh."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    return db.connect(path)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def assert_marts_match(con, store_sets: list[list[str] | None]) -> None:
    """Every month-end the marts cover, every store set: each mart read equals its query run afresh."""
    ends = derived.covered_ends(con)
    assert ends and derived.ready(con, derived.MARTS, kpi.sql_params(None), ends)
    kept = _sorted(con.execute("SELECT * FROM mart_callback_facts").df(), ["callback_id"])
    assert len(kept)
    fresh = queries.run(con, "callback_facts", kpi.sql_params(None))
    pd.testing.assert_frame_equal(kept, _sorted(fresh, ["callback_id"]))
    # The odometer trends of every month-end and of days inside months, looked up in mart_trend_days,
    # as the query gives them for all those days at once.
    days = sorted({*ends, *_lookup_dates(con)})
    trend_params = {**kpi.sql_params(None), "as_of_dates": days}
    looked_up = frozenset({"maintenance_odometer_points"})
    trend = queries.run(con, "maintenance_odometer_trend", trend_params, looked_up)
    assert len(trend) and trend["as_of"].nunique() > 3
    pd.testing.assert_frame_equal(trend, queries.run(con, "maintenance_odometer_trend", trend_params))
    firsts = [e.replace(day=1) for e in ends[1:]]
    as_of = sorted({month_end(m) for m in firsts} | {m - timedelta(days=1) for m in firsts})
    for stores in store_sets:
        params = {**kpi.sql_params(stores), "months": firsts, "as_of_dates": as_of}
        counts = queries.run(con, "monthly_vehicle_counts_mart", params)
        assert counts["base"].sum() > 0
        pd.testing.assert_frame_equal(counts, queries.run(con, "monthly_vehicle_counts", params))
        rows = _sorted(queries.run(con, "kpi_vehicle_rows_mart", params), ["as_of", "vin"])
        pd.testing.assert_frame_equal(
            rows, _sorted(queries.run(con, "kpi_vehicle_rows", params), ["as_of", "vin"])
        )
        due = queries.run(con, "due_maintenance_mart", params)
        assert len(due)
        pd.testing.assert_frame_equal(due, queries.run(con, "due_maintenance", params))


def _lookup_dates(con) -> list[date]:
    """Month-ends, days inside months, a day before the data and one after: the as-of dates compared."""
    ends = derived.covered_ends(con)
    inside = [e - timedelta(days=9) for e in ends[2::5]]
    return sorted(
        {ends[0] - timedelta(days=40), *ends[1::4], ends[-1], *inside, ends[-1] + timedelta(days=45)}
    )


def assert_lookups_match(con, store_sets: list[list[str] | None]) -> None:
    """A vehicle's history as of a date looked up in mart_vehicle_days equals the query that reads
    every work order up to it: vehicle_history, the churn features' vehicles, the maintenance
    features' vehicles, and the domain's reads built on them, at month-ends and other days."""
    assert derived.ready(con, ["vehicle_days"], kpi.sql_params(None), [])
    dates = _lookup_dates(con)
    history = {"as_of_dates": dates, "max_km_per_day": kpi.sql_params(None)["max_km_per_day"]}
    kept = _sorted(queries.run(con, "vehicle_history_mart", history), ["as_of", "vin"])
    assert len(kept) and kept["as_of"].nunique() > 3
    pd.testing.assert_frame_equal(
        kept, _sorted(queries.run(con, "vehicle_history", history), ["as_of", "vin"])
    )
    for stores in store_sets:
        params = {**churn_model.feature_params(stores), "cutoffs": dates}
        kept = _sorted(queries.run(con, "churn_vehicles_mart", params), ["cutoff", "vin"])
        assert len(kept)
        pd.testing.assert_frame_equal(
            kept, _sorted(queries.run(con, "churn_vehicles", params), ["cutoff", "vin"])
        )
    for day in dates:
        params = {"as_of": day, "base_days": kpi.sql_params(None)["base_days"]}
        kept = _sorted(queries.run(con, "maintenance_vehicles_mart", params), ["vin"])
        pd.testing.assert_frame_equal(
            kept, _sorted(queries.run(con, "maintenance_vehicles", params), ["vin"])
        )
    # The churn features read the callbacks' vehicles from callback_facts: each callback's own VIN,
    # else its order's, as a plain join gives them.
    plain = con.execute(
        "SELECT c.callback_id, coalesce(c.vin, o.vin) AS vin, CAST(c.callback_date AS DATE) AS callback_day, "
        "coalesce(c.is_complaint, false) AS is_complaint FROM callbacks AS c "
        "LEFT JOIN service_orders AS o ON o.order_id = c.order_id ORDER BY c.callback_id"
    ).df()
    facts_rows = derived.run(con, "callback_facts", kpi.sql_params(None))
    facts_rows = _sorted(facts_rows[["callback_id", "vin", "callback_day", "is_complaint"]], ["callback_id"])
    assert len(plain)
    pd.testing.assert_frame_equal(plain, facts_rows)
    # The domain's reads: the mart used (derived.run) and not.
    day = dates[len(dates) // 2]
    lookup = [
        churn_model.features(con, dates[1:-1], store_sets[-1]),
        churn.status_trend(con, dates[1:-1], store_sets[-1]),
        maintenance_features.vehicle_state(con, day),
    ]
    real_ready = derived.ready
    derived.ready = lambda *a, **k: False  # type: ignore[assignment]
    try:
        fresh = [
            churn_model.features(con, dates[1:-1], store_sets[-1]),
            churn.status_trend(con, dates[1:-1], store_sets[-1]),
            maintenance_features.vehicle_state(con, day),
        ]
    finally:
        derived.ready = real_ready  # type: ignore[assignment]
    assert len(lookup[0]) and len(lookup[2])
    for i, (a, b) in enumerate(zip(lookup, fresh, strict=True)):
        assert _same(a, b), i


def assert_pages_match(con, months: list[str], store_sets: list[list[str] | None], monkeypatch) -> None:
    """The overview (KPIs over thirteen months, the why-breakdowns, red flags), the due list and the
    satisfaction page's reads from the marts equal those computed without them."""

    def reads(month: str, stores: list[str] | None) -> list[Any]:
        start = shift_month(date.fromisoformat(f"{month}-01"), -11).strftime("%Y-%m")
        return [
            overview.overview(con, month, stores),
            kpi.due_vehicles(con, month, stores),
            overview.open_followups(con, month, stores),
            sat.monthly_satisfaction(con, stores, start, month),
            sat.dimension_scores(con, stores, start, month),
            sat.dimension_drivers(con, stores, *sat.driver_window(month)),
            sat.breakdown(con, "advisor", (start, month), stores),
            sat.responses(con, stores, start, month),
            # the maintenance scores' vehicle state at the month-end (the odometer trends' mart)
            maintenance_features.vehicle_state(con, month_end(date.fromisoformat(f"{month}-01")), stores),
        ]

    for month in months:
        for stores in store_sets:
            with marts.bypassed():
                from_marts = reads(month, stores)
                rows = overview.month_rows(con, month, stores)
                with monkeypatch.context() as m:
                    m.setattr(derived, "ready", lambda *a, **k: False)
                    fresh = reads(month, stores)
                    fresh_rows = overview.month_rows(con, month, stores)
            for i, (a, b) in enumerate(zip(from_marts, fresh, strict=True)):
                assert _same(a, b), (i, month, stores)
            for name in rows:
                keys = [c for c in rows[name].columns if c not in ("amount", "km_per_day")]
                assert _same(_sorted(rows[name], keys), _sorted(fresh_rows[name], keys)), (
                    name,
                    month,
                    stores,
                )


@pytest.fixture(scope="module")
def split_files(tmp_path_factory) -> dict[str, list[tuple[Path, str]]]:
    """A generated two-store group's DMS files: those before CUTOFF and those of the month from it."""
    demo = pytest.importorskip("analytics.devtools.demo")
    cfg = demo.DemoConfig(scale=SCALE, stores=2, seed=11)
    frames = demo.generate(cfg)
    service, callback = frames["service"], frames["callback"]
    late_service = service["visit_date"] >= pd.Timestamp(CUTOFF)
    late_callback = callback["callback_date"] >= pd.Timestamp(CUTOFF)
    out = {}
    for part, keep_service, keep_callback in (
        ("early", ~late_service, ~late_callback),
        ("late", late_service, late_callback),
    ):
        folder = tmp_path_factory.mktemp(f"sql_marts_{part}")
        chosen = {**frames, "service": service[keep_service], "callback": callback[keep_callback]}
        out[part] = demo.write_dms_files(chosen, folder, cfg, xlsx=False)
    return out


def test_a_full_build_reads_as_the_queries_on_the_demo(demo_db, tmp_path, monkeypatch):
    con = _writable_copy(demo_db, tmp_path)
    assert not derived.ready(con, derived.MARTS, kpi.sql_params(None), [date(2026, 9, 30)])
    outcome = sql_marts.refresh(con)
    assert {entry["mode"] for entry in outcome.values()} == {"full"}
    stores = facts.stores(con)
    assert_marts_match(con, [None, stores[:1]])
    assert_lookups_match(con, [None, stores[:1]])
    months = facts.available_months(con)
    assert_pages_match(con, [months[-1], months[-7], months[12]], [None], monkeypatch)
    # Nothing changed since: the refresh has nothing to do.
    assert {entry["mode"] for entry in sql_marts.refresh(con).values()} == {"current"}
    con.close()


def test_an_import_of_another_month_refreshes_only_what_it_touched_and_a_rollback_too(
    split_files, tmp_path, monkeypatch
):
    con = db.connect(tmp_path / "group.duckdb")
    for path, kind in split_files["early"]:
        import_file(con, path, kind=kind)
    assert {entry["mode"] for entry in sql_marts.refresh(con).values()} == {"full"}
    stores = facts.stores(con)
    assert len(stores) == 2
    store_sets: list[list[str] | None] = [None, stores[:1], stores[1:], stores]
    assert_marts_match(con, store_sets)

    imported = [import_file(con, path, kind=kind) for path, kind in split_files["late"]]
    assert any(r.inserted for r in imported)
    # Until the refresh, the marts are stale and never read: the figures come from the queries.
    assert not derived.ready(con, derived.MARTS, kpi.sql_params(None), derived.covered_ends(con))
    # What changed is found once for the five marts (they were built at one version), not per mart.
    finds: list[int] = []
    real_changed_since = derived.changed_since
    monkeypatch.setattr(
        derived,
        "changed_since",
        lambda cur, since, now: finds.append(since) or real_changed_since(cur, since, now),
    )
    outcome = sql_marts.refresh(con)
    monkeypatch.setattr(derived, "changed_since", real_changed_since)
    assert len(finds) == 1
    assert {entry["mode"] for entry in outcome.values()} == {"incremental"}
    assert derived.covered_ends(con)[-1] == month_end(CUTOFF)
    assert_marts_match(con, store_sets)
    assert_lookups_match(con, store_sets)
    month = CUTOFF.strftime("%Y-%m")
    earlier = shift_month(CUTOFF, -5).strftime("%Y-%m")
    assert_pages_match(con, [month, earlier], [None, stores[:1]], monkeypatch)

    # Roll back the new month's work orders: their vehicles are recomputed, the month-end kept.
    service = next(r for r in imported if r.kind == "service")
    rollback(con, service.import_id)
    outcome = sql_marts.refresh(con)
    assert {entry["mode"] for entry in outcome.values()} == {"incremental"}
    assert_marts_match(con, store_sets)
    assert_lookups_match(con, store_sets)
    assert_pages_match(con, [month], [None, stores[1:]], monkeypatch)
    con.close()


def test_a_changed_mart_or_data_written_by_other_means_is_built_in_full(demo_db, tmp_path):
    con = _writable_copy(demo_db, tmp_path)
    sql_marts.refresh(con)
    ends = derived.covered_ends(con)
    params = kpi.sql_params(None)
    # The SQL or the settings bound to it changed: its fingerprint no longer matches.
    con.execute("UPDATE mart_state SET fingerprint = 'changed' WHERE name = 'due_months'")
    assert derived.ready(con, ["vehicle_months"], params, ends)
    assert not derived.ready(con, ["due_months"], params, ends)
    outcome = sql_marts.refresh(con)
    assert outcome["due_months"]["mode"] == "full" and outcome["vehicle_months"]["mode"] == "current"
    # A new data version that recorded no changes (not an import): only a full build is sure.
    con.execute("DELETE FROM service_orders WHERE order_id IN (SELECT order_id FROM service_orders LIMIT 50)")
    db.bump_data_version(con)
    assert not derived.ready(con, ["vehicle_months"], params, ends)
    assert {entry["mode"] for entry in sql_marts.refresh(con).values()} == {"full"}
    assert_marts_match(con, [None])
    # A mart table gone is never read, and built again.
    con.execute("DROP TABLE mart_callback_facts")
    assert not derived.ready(con, ["callback_facts"], params, [])
    assert len(
        satisfaction_rows := derived.run(
            con, "survey_responses", {**params, "start": ends[0], "end": ends[-1]}
        )
    )
    assert sql_marts.refresh(con)["callback_facts"]["mode"] == "full"
    assert derived.run(con, "survey_responses", {**params, "start": ends[0], "end": ends[-1]}).equals(
        satisfaction_rows
    )
    # A settings change is a changed fingerprint too.
    other = {**params, "lost_days": params["lost_days"] + 1}
    assert derived.fingerprint("vehicle_months", other) != derived.fingerprint("vehicle_months", params)
    con.close()


def test_a_month_end_the_marts_do_not_cover_is_computed_by_the_queries(demo_db, tmp_path):
    con = _writable_copy(demo_db, tmp_path)
    sql_marts.refresh(con)
    params = kpi.sql_params(None)
    ends = derived.covered_ends(con)
    later = month_end(shift_month(ends[-1].replace(day=1), 1))
    assert not derived.ready(con, derived.MARTS, params, [later])
    assert not derived.ready(con, derived.MARTS, params, [ends[-1] - timedelta(days=1)])  # not a month-end
    later_month = shift_month(ends[-1].replace(day=1), 1)
    counts = kpi_counts.monthly_counts(con, [later_month])
    assert int(counts["base"].iloc[0]) > 0
    con.close()


def test_the_why_breakdowns_of_summed_segments_equal_those_of_one_row_per_callback_and_vehicle(demo_db):
    con = db.connect(demo_db, read_only=True)
    month = facts.available_months(con)[-3]
    after = date.fromisoformat(f"{month}-01")
    before = shift_month(after, -1)
    summed = overview.month_rows(con, month, None)

    def period(values):
        return ["after" if pd.Timestamp(v).date() >= after else "before" for v in values]

    params = {**kpi.sql_params(None), "start": before, "end": month_end(after)}
    calls = queries.run(con, "kpi_callback_rows", params)
    calls = calls.assign(
        period=period(calls["month"]),
        one=1,
        net=calls["promoter"].astype(int) - calls["detractor"].astype(int),
    )
    vehicles = queries.run(
        con, "kpi_vehicle_rows", {**params, "as_of_dates": [month_end(before), month_end(after)]}
    )
    vehicles = vehicles.assign(
        period=period(vehicles["as_of"]),
        one=1,
        is_lost=vehicles["status"] == "lost",
        is_at_risk=vehicles["status"] == "at_risk",
    )
    rows = {**summed, "callbacks": calls, "vehicles": vehicles}
    assert len(summed["vehicles"]) < len(vehicles) and len(summed["callbacks"]) < len(calls)
    compared = 0
    for name in kpi.KPI_NAMES:
        for by in overview.BREAKDOWN_BY:
            a, b = overview.breakdown(summed, name, by), overview.breakdown(rows, name, by)
            pd.testing.assert_frame_equal(a, b, check_exact=True)
            compared += len(a)
    assert compared > 50
    con.close()


def test_a_callback_is_recomputed_when_the_order_it_names_changes_whatever_its_own_vin(demo_db, tmp_path):
    con = _writable_copy(demo_db, tmp_path)
    sql_marts.refresh(con)
    callback_id, order_id = con.execute(
        "SELECT c.callback_id, c.order_id FROM callbacks AS c JOIN service_orders AS o USING (order_id) "
        "WHERE c.vin IS NOT NULL ORDER BY c.callback_id LIMIT 1"
    ).fetchone()
    other_vin = con.execute(
        "SELECT vin FROM vehicles WHERE vin <> (SELECT vin FROM service_orders WHERE order_id = $o) ORDER BY vin LIMIT 1",
        {"o": order_id},
    ).fetchone()[0]
    # The callback names another vehicle than its order's; then the order moves to another store.
    changes = "SELECT $vin AS vin, $order AS order_id, $callback AS callback_id"
    for statement, params in (
        (
            "UPDATE callbacks SET vin = $vin WHERE callback_id = $callback",
            {"vin": other_vin, "callback": callback_id},
        ),
        (
            "UPDATE service_orders SET store = $store WHERE order_id = $order",
            {"store": "另一店", "order": order_id},
        ),
    ):
        con.execute(statement, params)
        version = db.bump_data_version(con)
        vin = con.execute("SELECT vin FROM service_orders WHERE order_id = $o", {"o": order_id}).fetchone()[0]
        derived.record_changes(
            con,
            version,
            changes,
            {"vin": vin, "order": order_id, "callback": callback_id if "callbacks" in statement else None},
        )
        assert {e["mode"] for e in sql_marts.refresh(con).values()} == {"incremental"}
        assert_marts_match(con, [None])
    store = con.execute(
        "SELECT store FROM mart_callback_facts WHERE callback_id = $c", {"c": callback_id}
    ).fetchone()
    assert store == ("另一店",)
    con.close()


def test_marts_of_several_row_groups_read_right_on_the_connection_that_built_them(tmp_path):
    # DuckDB 2.0.0 reads a table created empty and filled in one transaction (more than one row
    # group of 122,880 rows) as empty on the other connections of the process that wrote it: the
    # pages a server or an import computes right after a refresh then counted no vehicles at all.
    demo = pytest.importorskip("analytics.devtools.demo")
    path = tmp_path / "group.duckdb"
    demo.build_demo(path, demo.DemoConfig(scale=0.6), files_dir=tmp_path / "files")
    con = db.connect(path)
    sql_marts.refresh(con)
    assert con.execute("SELECT count(*) FROM mart_vehicle_months").fetchone()[0] > 122_880
    ends = derived.covered_ends(con)
    firsts = [e.replace(day=1) for e in ends[-3:]]
    as_of = sorted({month_end(m) for m in firsts} | {m - timedelta(days=1) for m in firsts})
    params = {**kpi.sql_params(None), "months": firsts, "as_of_dates": as_of}
    counts = queries.run(con, "monthly_vehicle_counts_mart", params)
    assert counts["base"].min() > 0
    pd.testing.assert_frame_equal(counts, queries.run(con, "monthly_vehicle_counts", params))
    con.close()


def test_the_visit_day_mart_over_several_row_groups_reads_right_on_another_cursor(demo_db, tmp_path):
    # The demo's work orders copied under other VINs and order numbers until the mart has more
    # than one row group (122,880 rows): it is built afresh in one statement, and the lookups on
    # another cursor of the process see its rows (see the test above).
    con = _writable_copy(demo_db, tmp_path)
    orders = con.execute("SELECT count(*) FROM service_orders").fetchone()[0]
    copies = 122_880 // orders + 1
    con.execute(
        "INSERT INTO service_orders SELECT o.* REPLACE (o.order_id || '-' || c AS order_id, o.vin || '-' || c AS vin) "
        "FROM service_orders AS o, range(1, $copies) AS r(c)",
        {"copies": copies},
    )
    db.bump_data_version(con)
    assert sql_marts.refresh(con)["vehicle_days"]["mode"] == "full"
    other = con.cursor()
    assert other.execute("SELECT count(*) FROM mart_vehicle_days").fetchone()[0] > 122_880
    assert derived.ready(other, ["vehicle_days"], kpi.sql_params(None), [])
    dates = _lookup_dates(other)
    lookup = {**churn_model.feature_params(None), "cutoffs": dates}
    kept = _sorted(queries.run(other, "churn_vehicles_mart", lookup), ["cutoff", "vin"])
    assert len(kept) > 122_880 / 10
    pd.testing.assert_frame_equal(
        kept, _sorted(queries.run(other, "churn_vehicles", lookup), ["cutoff", "vin"])
    )
    history = {"as_of_dates": dates, "max_km_per_day": kpi.sql_params(None)["max_km_per_day"]}
    pd.testing.assert_frame_equal(
        _sorted(queries.run(other, "vehicle_history_mart", history), ["as_of", "vin"]),
        _sorted(queries.run(other, "vehicle_history", history), ["as_of", "vin"]),
    )
    con.close()


def test_vehicles_with_several_purchase_dates_or_none_look_up_as_the_queries_give_them(demo_db, tmp_path):
    # The purchase date's mode is a lookup only while a vehicle has one purchase date; vehicles
    # given a second one (on some of their orders) or none at all are read from their orders.
    con = _writable_copy(demo_db, tmp_path)
    vins = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT vin FROM service_orders WHERE vin IS NOT NULL ORDER BY vin"
        ).fetchall()
    ]
    mixed, empty = vins[::7], vins[3::11]
    con.execute(
        "UPDATE service_orders SET purchase_date = purchase_date + 30 "
        "WHERE list_contains($vins, vin) AND hash(order_id) % 2 = 0",
        {"vins": mixed},
    )
    con.execute(
        "UPDATE service_orders SET purchase_date = NULL, mileage_km = NULL WHERE list_contains($vins, vin)",
        {"vins": empty},
    )
    db.bump_data_version(con)
    sql_marts.refresh(con)
    several = con.execute(
        "SELECT count(*) FROM mart_vehicle_days WHERE purchase_min <> purchase_max AND next_visit IS NULL"
    ).fetchone()[0]
    assert several > 10
    assert_lookups_match(con, [None])
    con.close()


def test_odometer_trends_read_from_the_mart_equal_the_query_even_where_a_purchase_date_follows_a_visit(
    demo_db, tmp_path, monkeypatch
):
    """mart_trend_days holds a vehicle's points as of each visit day; between two visits they stand,
    unless an order carries a purchase date after its visit (keyed before the car was sold): its
    purchase day becomes a point once the as-of date passes it. The read then runs the query."""
    con = _writable_copy(demo_db, tmp_path)
    vins = [
        row[0]
        for row in con.execute(
            "SELECT vin FROM service_orders WHERE vin IS NOT NULL AND mileage_km > 0 GROUP BY vin "
            "HAVING count(DISTINCT visit_date) >= 3 ORDER BY vin LIMIT 2"
        ).fetchall()
    ]
    assert len(vins) == 2
    days = {
        vin: [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT visit_date FROM service_orders WHERE vin = $v ORDER BY 1", {"v": vin}
            ).fetchall()
        ]
        for vin in vins
    }
    # The first: its first order sold ten days after its second visit. The second: no reading at
    # all, sold five days after its last visit.
    sold_first = days[vins[0]][1] + timedelta(days=10)
    con.execute(
        "UPDATE service_orders SET purchase_date = $p WHERE vin = $v AND visit_date = $d",
        {"p": sold_first, "v": vins[0], "d": days[vins[0]][0]},
    )
    sold_second = days[vins[1]][-1] + timedelta(days=5)
    con.execute(
        "UPDATE service_orders SET purchase_date = $p, mileage_km = NULL WHERE vin = $v",
        {"p": sold_second, "v": vins[1]},
    )
    db.bump_data_version(con)
    sql_marts.refresh(con)
    params = kpi.sql_params(None)
    assert derived.ready(con, ["trend_days"], params, [])

    used: list[frozenset[str]] = []
    real_run = queries.run

    def spy(c, name, p, tables=frozenset()):
        if name == "maintenance_odometer_trend":
            used.append(tables)
        return real_run(c, name, p, tables)

    monkeypatch.setattr(queries, "run", spy)
    checked = [
        days[vins[0]][0] + timedelta(days=3),
        days[vins[0]][1] + timedelta(days=12),
        days[vins[1]][-1] + timedelta(days=2),
        days[vins[1]][-1] + timedelta(days=7),
        *derived.covered_ends(con)[2::6],
    ]
    for day in checked:
        used.clear()
        kept = maintenance_features.odometer_trend(con, day)
        with monkeypatch.context() as m:
            m.setattr(derived, "ready", lambda *a, **k: False)
            fresh = maintenance_features.odometer_trend(con, day)
        pd.testing.assert_frame_equal(kept, fresh)
        assert len(kept)
    # The second vehicle, in the base after its last visit, is a point once it is sold.
    after_sale = maintenance_features.odometer_trend(con, days[vins[1]][-1] + timedelta(days=7))
    assert vins[1] in set(after_sale["vin"])
    # The mart was read where no such vehicle is in the base (before either's first visit),
    # and not where one is.
    used.clear()
    maintenance_features.odometer_trend(con, min(days[vins[0]][0], days[vins[1]][0]) - timedelta(days=1))
    assert used == [frozenset({"maintenance_odometer_points"})]
    used.clear()
    maintenance_features.odometer_trend(con, days[vins[1]][-1] + timedelta(days=2))
    assert used == [frozenset()]
    con.close()
