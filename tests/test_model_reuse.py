"""Models are fitted again only when what they read changes (issue 20): an import of days after a
model's as-of date (a store's nightly export in the middle of a month) leaves the churn,
maintenance and theme models exactly what a new fit would give, so the refresh scores with them
instead of spending minutes fitting the same ones, and assigns a theme to the new comments only; a
correction to an earlier record, a settings change or new code fits them again."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import msgspec
import numpy as np
import pandas as pd
import pytest

from analytics.core import config
from analytics.domain import churn_model, facts, model_inputs
from analytics.domain.maintenance import features as maintenance_features
from analytics.domain.maintenance import model as maintenance_model
from analytics.domain.maintenance import persistence
from analytics.domain.themes import monthly
from analytics.ingest import load
from analytics.services import marts, views
from analytics.store import db

AS_OF = date(
    2026, 10, 31
)  # the demo's last complete month: the pages open on it, the models are fitted at its end

LATER_ORDERS = (
    "工单号,门店,车架号,车牌号,客户姓名,联系电话,车型,进厂日期,行驶里程,维修类型,结算金额,服务顾问\n"
    "RO-NIGHT-0001,杭州西湖店,LGBCAC110NA142118,浙A38919,马玉龙,15164282878,骐达,2026-11-02,31000,保养,612.0,张伟\n"
    "RO-NIGHT-0002,杭州西湖店,LNEWCAR0000000001,浙A00001,新客户,13800000001,轩逸,2026-11-02,1200,首保,0,李娜\n"
)
LATER_CALLBACKS = (
    "回访编号,工单号,门店,回访类型,回访时间,是否接通,总体评分,客户意见\n"
    "HF-NIGHT-0001,RO-NIGHT-0001,杭州西湖店,3DC,2026-11-03 10:00,是,9,服务很好\n"
)


@pytest.fixture
def demo(demo_db, tmp_path, monkeypatch):
    path = tmp_path / "reuse.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    con = db.connect(path)
    yield con
    con.close()


def _import(con, text: str, name: str, kind: str) -> None:
    result = load.import_file(con, text.encode("utf-8"), file_name=name, kind=kind)
    assert result.inserted and not result.rejected, result.reasons


def _kept_churn_models(con) -> list[tuple[str, int]]:
    return con.execute(
        "SELECT args, data_version FROM marts WHERE name = $n ORDER BY data_version",
        {"n": marts.call_of(churn_model.group_model).fn},
    ).fetchall()


def _assignments(con):
    return con.execute(
        "SELECT side, callback_id, theme, comment_hash FROM theme_assignments ORDER BY side, callback_id"
    ).df()


def test_an_import_of_later_days_keeps_both_models_and_they_are_what_a_new_fit_gives(demo, monkeypatch):
    views.rebuild(demo)  # the store's state before its nightly import: both models fitted
    assert facts.model_as_of(demo, AS_OF) == AS_OF
    before = model_inputs.digest(demo, AS_OF)
    churn_before = _kept_churn_models(demo)
    assert len(churn_before) == 1
    maintenance_key = model_inputs.key(demo, AS_OF, maintenance_model.MODEL_FORMAT)

    _import(demo, LATER_ORDERS, "orders-1102.csv", "service")
    _import(demo, LATER_CALLBACKS, "callbacks-1103.csv", "callback")
    fits: list[str] = []
    real_churn_fit, real_maintenance_fit, real_mine = churn_model.fit, persistence.fit, monthly.mine
    monkeypatch.setattr(churn_model, "fit", lambda *a, **k: fits.append("churn") or real_churn_fit(*a, **k))
    monkeypatch.setattr(
        persistence, "fit", lambda *a, **k: fits.append("maintenance") or real_maintenance_fit(*a, **k)
    )
    monkeypatch.setattr(monthly, "mine", lambda *a, **k: fits.append("themes") or real_mine(*a, **k))
    outcome = views.rebuild(demo)
    assert not outcome["failed"]
    # The days imported are after the models' as-of date: none was fitted again.
    assert fits == []
    assert model_inputs.digest(demo, AS_OF) == before
    assert model_inputs.key(demo, AS_OF, maintenance_model.MODEL_FORMAT) == maintenance_key
    # The churn model was carried to the new data version, not kept twice.
    carried = _kept_churn_models(demo)
    assert [args for args, _ in carried] == [args for args, _ in churn_before]
    assert carried[0][1] == db.data_version(demo) != churn_before[0][1]

    # Every comment has its theme, the night's among them, as assigning all of them again gives.
    assigned = _assignments(demo)
    assert "HF-NIGHT-0001" in set(assigned["callback_id"])
    demo.execute("DELETE FROM meta WHERE key = $k", {"k": monthly.ASSIGNMENTS_META})
    with db.write_transaction(demo) as cur:
        monthly.store_assignments(cur)
    assert assigned.equals(_assignments(demo))

    # And they are the models a fit on the records now would give: the same scores.
    monkeypatch.setattr(churn_model, "fit", real_churn_fit)
    monkeypatch.setattr(persistence, "fit", real_maintenance_fit)
    kept, _ = churn_model.group_model(demo, AS_OF)  # fitted afresh (no marts lookup inside the call)
    found, (reused, _) = marts.fetch(
        demo, marts.call_of(churn_model.group_model, AS_OF, None, before), db.data_version(demo)
    )
    assert found  # the kept model of the version before the import, as the pages read it
    rows = churn_model.features(demo, [AS_OF])
    assert np.array_equal(kept.predict(rows), reused.predict(rows))
    state = maintenance_features.vehicle_state(demo, AS_OF)
    loaded = persistence.load_model(demo, AS_OF)
    assert loaded is not None
    fresh = maintenance_model.fit(demo, AS_OF)
    for target in maintenance_model.TARGETS:
        assert np.array_equal(fresh.fitted.predict(state, target), loaded.fitted.predict(state, target))


def test_a_correction_to_an_earlier_record_or_a_settings_change_fits_the_models_again(demo, monkeypatch):
    views.sql_marts.refresh(demo)
    digest = model_inputs.digest(demo, AS_OF)
    key = model_inputs.key(demo, AS_OF, maintenance_model.MODEL_FORMAT)
    # A work order of the as-of month corrected (a new amount): the records the models read changed.
    order = demo.execute(
        "SELECT order_id, store, vin, visit_date, amount FROM service_orders WHERE visit_date = $d LIMIT 1",
        {"d": AS_OF},
    ).fetchone()
    corrected = f"工单号,门店,车架号,进厂日期,结算金额\n{order[0]},{order[1]},{order[2]},{order[3]},{float(order[4]) + 100}\n"
    result = load.import_file(demo, corrected.encode("utf-8"), file_name="fix.csv", kind="service")
    assert result.updated == 1
    views.sql_marts.refresh(demo)
    assert model_inputs.digest(demo, AS_OF) != digest
    assert model_inputs.key(demo, AS_OF, maintenance_model.MODEL_FORMAT) != key
    # A new callback dated in the month changes them too.
    now = model_inputs.digest(demo, AS_OF)
    _import(
        demo,
        "回访编号,工单号,门店,回访类型,回访时间,是否接通,总体评分\n"
        f"HF-LATE-0001,{order[0]},{order[1]},3DC,2026-10-31 18:00,是,6\n",
        "late-callback.csv",
        "callback",
    )
    views.sql_marts.refresh(demo)
    assert model_inputs.digest(demo, AS_OF) != now
    # So does a setting the fit reads.
    settled = model_inputs.key(demo, AS_OF, maintenance_model.MODEL_FORMAT)
    current = config.settings()
    changed = msgspec.structs.replace(
        current, maintenance=msgspec.structs.replace(current.maintenance, training_cutoffs=6)
    )
    monkeypatch.setattr(model_inputs, "settings", lambda: changed)
    assert model_inputs.key(demo, AS_OF, maintenance_model.MODEL_FORMAT) != settled


def test_while_the_callback_mart_is_not_current_a_model_is_keyed_by_the_data_version(demo):
    # An import without the refresh after it: the callbacks cannot be read as the mart resolves
    # them, so the fingerprint is the data version, which no other version shares.
    views.sql_marts.refresh(demo)
    assert not model_inputs.digest(demo, AS_OF).startswith("version-")
    _import(demo, LATER_ORDERS, "orders-1102.csv", "service")
    assert model_inputs.digest(demo, AS_OF) == f"version-{db.data_version(demo)}"


def _kept_views(con, names: list[str]) -> dict[tuple[str, str], tuple[int, object]]:
    rows = con.execute(
        "SELECT name, args, data_version, built_at FROM marts WHERE list_contains($n, name)", {"n": names}
    ).fetchall()
    return {(name, args): (version, built) for name, args, version, built in rows}


def test_the_views_of_the_month_an_import_of_later_days_leaves_as_it_was_are_carried_not_computed(
    demo, monkeypatch
):
    # The churn list, the maintenance scores and the retention of the month the pages open on read
    # nothing after its last day (nor do the models they score with): a store's nightly import of
    # the next days leaves them as they were, so the refresh after it files them under the new data
    # version instead of computing them again, and they are what computing them afresh gives.
    from analytics.domain import churn
    from analytics.domain.maintenance import persistence as maintenance_persistence
    from analytics.services import reads

    views.rebuild(demo)
    names = [
        marts.call_of(fn).fn
        for fn in (
            churn.snapshot,
            churn.retention_curve,
            churn.retention_rates,
            maintenance_persistence.snapshot,
        )
    ]
    before = _kept_views(demo, names)
    stores = facts.stores(demo)
    assert {name for name, _ in before} == set(names)
    # the group's scores, and each store's when there are several
    assert sum(name == names[-1] for name, _ in before) == 1 + (len(stores) if len(stores) > 1 else 0)

    _import(demo, LATER_ORDERS, "orders-1102.csv", "service")
    _import(demo, LATER_CALLBACKS, "callbacks-1103.csv", "callback")
    computed: list[str] = []
    real_score = maintenance_persistence.score
    monkeypatch.setattr(
        maintenance_persistence, "score", lambda *a, **k: computed.append("scores") or real_score(*a, **k)
    )
    real_features = churn_model.features
    monkeypatch.setattr(
        churn_model, "features", lambda *a, **k: computed.append("churn") or real_features(*a, **k)
    )
    outcome = views.rebuild(demo)
    assert not outcome["failed"]
    assert computed == []
    version = db.data_version(demo)
    after = _kept_views(demo, names)
    assert after.keys() == before.keys()
    for key, (kept_version, built) in after.items():
        assert kept_version == version != before[key][0]
        assert built == before[key][1]  # the same rows, filed under the new version
    monkeypatch.setattr(maintenance_persistence, "score", real_score)
    monkeypatch.setattr(churn_model, "features", real_features)

    # What the pages read now is what computing it afresh on the records now gives.
    for name, kwargs in (
        ("churn.snapshot", {"as_of": AS_OF}),
        ("maintenance.snapshot", {"as_of": AS_OF}),
        ("maintenance.snapshot", {"as_of": AS_OF, "stores": [stores[0]]}),
        ("churn.retention_rates", {"as_of": AS_OF}),
        ("churn.retention_curve", {"as_of": AS_OF}),
    ):
        kept = reads.read(demo, name, **kwargs)
        with marts.bypassed():
            fresh = reads.read(demo, name, **kwargs)
        if hasattr(kept, "vehicles"):
            kept, fresh = kept.vehicles, fresh.vehicles
        elif hasattr(kept, "scores"):
            kept, fresh = kept.scores, fresh.scores
        pd.testing.assert_frame_equal(kept.reset_index(drop=True), fresh.reset_index(drop=True), obj=name)

    # An import that changes a record of the month (a late callback dated in it) is not carried over.
    order = demo.execute(
        "SELECT order_id, store FROM service_orders WHERE visit_date = $d LIMIT 1", {"d": AS_OF}
    ).fetchone()
    _import(
        demo,
        "回访编号,工单号,门店,回访类型,回访时间,是否接通,总体评分\n"
        f"HF-LATE-0002,{order[0]},{order[1]},3DC,2026-10-31 19:00,是,3\n",
        "late-callback.csv",
        "callback",
    )
    views.rebuild(demo)
    later = _kept_views(demo, names)
    assert all(built != after[key][1] for key, (_, built) in later.items() if key in after)


def test_the_digests_of_many_days_in_one_pass_are_those_of_each_day_alone():
    # ``model_inputs_days.sql`` must give, for every day, exactly what ``model_inputs.sql`` gives
    # for that day alone: records on a day boundary, undated callbacks, days before any record,
    # days after the last one, a day asked twice, and days given out of order.
    from analytics.store import queries

    con = duckdb.connect()
    con.execute("CREATE TABLE service_orders (order_id VARCHAR, visit_date DATE, amount DOUBLE)")
    con.execute("CREATE TABLE mart_callback_facts (callback_id VARCHAR, callback_day DATE, score INTEGER)")
    con.execute(
        "INSERT INTO service_orders VALUES ('a', '2025-01-31', 1), ('b', '2025-02-01', 2), "
        "('c', '2025-02-28', NULL), ('d', '2025-04-15', 4), ('e', '2025-04-30', 5)"
    )
    con.execute(
        "INSERT INTO mart_callback_facts VALUES ('x', NULL, 9), ('y', '2025-01-31', 8), "
        "('z', '2025-03-31', NULL), ('w', NULL, NULL), ('v', '2025-05-02', 7)"
    )
    days = [date(2025, 4, 30), date(2024, 12, 31), date(2025, 1, 31), date(2025, 2, 28), date(2025, 2, 28)]
    days += [date(2025, 3, 31), date(2025, 5, 31), date(2025, 1, 30)]
    together = queries.run(con, "model_inputs_days", {"days": days})
    assert list(together["day"].dt.date) == sorted(set(days))
    for day, inputs in zip(together["day"].dt.date, together["inputs"], strict=True):
        alone = queries.run(con, "model_inputs", {"as_of": day}).iloc[0]["inputs"]
        assert inputs == alone, day
    # the undated callbacks (x and w) count from the first day asked on, before any work order
    undated = con.execute(
        "SELECT bit_xor(hash(f)) FROM mart_callback_facts AS f WHERE callback_day IS NULL"
    ).fetchone()[0]
    assert together["inputs"].iloc[0] == f"0:0|2:{undated}"


def test_the_refresh_works_out_the_digests_of_the_carried_months_in_one_pass(demo, monkeypatch):
    # After the primer, each day's digest is read from what it held: no query per day.
    from analytics.core import memo
    from analytics.core.months import month_ends
    from analytics.store import queries

    views.sql_marts.refresh(demo)
    # More days than the six large results a process holds: every month's digest must stay held.
    days = month_ends([f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-06"])
    assert len(days) > marts.NESTED_KEPT
    alone = {day: model_inputs._fingerprint(demo, day) for day in days}
    ran: list[str] = []
    real_run = queries.run
    monkeypatch.setattr(
        queries, "run", lambda con, name, *a, **k: ran.append(name) or real_run(con, name, *a, **k)
    )
    memo.prime(demo, days)
    assert ran == ["model_inputs_days"]
    assert {day: model_inputs.digest(demo, day) for day in days} == alone
    assert ran == ["model_inputs_days"]
