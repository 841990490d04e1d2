"""Predictive maintenance: the odometer trend and the schedule rule on hand-built vehicles, no
leakage across a cutoff, determinism, the invitation list, and the command line."""

from __future__ import annotations

import datetime as dt
import gc
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import cli
from analytics.core import safe_payload
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.i18n import catalog, text
from analytics.domain import facts, maintenance, schedule
from analytics.domain.maintenance import features, persistence
from analytics.domain.maintenance import model as maint_model
from analytics.services import marts
from analytics.store import db
from tests import maintenance_data

COLUMN_CODES = [k.split(".")[-1] for k in catalog() if k.startswith("maintenance.col.")]

D = dt.date


def _order(con, order_id, vin, visit, km, service_type="maintenance", purchase=None, phone="13812345678"):
    con.execute(
        "INSERT INTO service_orders (order_id, store, vin, plate, customer_name, phone, model, purchase_date,"
        " visit_date, mileage_km, service_type, amount, advisor, is_appointment, import_id)"
        " VALUES ($o, 'S1', $v, '浙A12345', '张三', $p, '轩逸', $pd, $d, $km, $st, 300, '李明', false, 1)",
        {"o": order_id, "v": vin, "p": phone, "pd": purchase, "d": visit, "km": km, "st": service_type},
    )


def _callback(con, callback_id, vin, when, reached):
    con.execute(
        "INSERT INTO callbacks (callback_id, vin, callback_type, callback_date, reached, import_id)"
        " VALUES ($c, $v, '3DC', $d, $r, 1)",
        {"c": callback_id, "v": vin, "d": dt.datetime.combine(when, dt.time(10)), "r": reached},
    )


@pytest.fixture
def hand_built(tmp_path):
    """Four vehicles whose odometers run at exactly known paces, seen on 2024-06-01."""
    con = db.connect(tmp_path / "hand.duckdb")
    # New car: bought 2024-03-01, one repair at 560 km 70 days later, no maintenance yet (8 km a day).
    _order(con, "N1", "NEW", D(2024, 5, 10), 560, "repair", purchase=D(2024, 3, 1))
    # High mileage: 150 km a day since 2024-01-01.
    _order(con, "H1", "HIGH", D(2024, 2, 3), 4950, "first_maintenance", purchase=D(2024, 1, 1))
    _order(con, "H2", "HIGH", D(2024, 3, 24), 12450, purchase=D(2024, 1, 1))
    # Low mileage: 10 km a day since 2023-01-01.
    _order(con, "L1", "LOW", D(2023, 6, 30), 1800, "first_maintenance", purchase=D(2023, 1, 1))
    _order(con, "L2", "LOW", D(2024, 3, 26), 4500, purchase=D(2023, 1, 1))
    # 30 km a day since 2023-01-01; the second maintenance was keyed 90,000 instead of 9,000.
    _order(con, "K1", "KEYED", D(2023, 5, 1), 3600, "first_maintenance", purchase=D(2023, 1, 1))
    _order(con, "K2", "KEYED", D(2023, 10, 28), 90000, purchase=D(2023, 1, 1), phone="0571-8888666")
    _order(con, "K3", "KEYED", D(2024, 4, 25), 14400, purchase=D(2023, 1, 1), phone="0571-8888666")
    _callback(con, "C1", "HIGH", D(2024, 3, 25), True)
    _callback(con, "C2", "LOW", D(2023, 7, 1), False)
    _callback(con, "C3", "LOW", D(2024, 3, 27), False)
    yield con
    con.close()


def test_rule_due_dates_and_odometer_trend_on_hand_built_vehicles(hand_built):
    state = maintenance.vehicle_state(hand_built, D(2024, 6, 1)).set_index("vin")
    got = state.loc[
        ["NEW", "HIGH", "LOW", "KEYED"],
        ["km_per_day", "km_now", "km_since_service", "days_since_service", "rule_due_date", "items_due"],
    ]
    got["rule_due_date"] = got["rule_due_date"].dt.date
    expected = pd.DataFrame(
        {
            # New car: first maintenance 180 days after purchase (5,000 km would take 625 days).
            # High: 7,500 km at 150 km a day is 50 days after the last maintenance.
            # Low: 270 days after the last maintenance (7,500 km would take 750 days).
            # Keyed: the 90,000 reading is ignored; 7,500 km at 30 km a day is 250 days.
            "km_per_day": [8.0, 150.0, 10.0, 30.0],
            "km_now": [736.0, 22800.0, 5170.0, 15510.0],
            "km_since_service": [736.0, 10350.0, 670.0, 1110.0],
            "days_since_service": [92.0, 69.0, 67.0, 37.0],
            "rule_due_date": [D(2024, 8, 28), D(2024, 5, 13), D(2024, 12, 21), D(2024, 12, 31)],
            # The high-mileage car is past 15,000 km on its first air filter.
            "items_due": [
                "first_maintenance",
                "engine_oil_filter,air_filter",
                "engine_oil_filter",
                "engine_oil_filter",
            ],
        },
        index=pd.Index(["NEW", "HIGH", "LOW", "KEYED"], name="vin"),
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert state.loc["HIGH", "days_to_due"] == -19
    assert state.loc[["NEW", "HIGH", "LOW", "KEYED"], "reachability"].tolist() == [
        "untried",
        "reachable",
        "hard_to_reach",
        "no_phone",
    ]


def test_long_interval_items_fall_due_once_in_their_range(hand_built):
    # The low-mileage car skips a year: at its visit of 2025-12-20 the brake fluid (past two
    # years) and the air conditioning (past one) are done; the battery (3-5 years) is not yet in
    # its range then but is by the next due date.
    _order(hand_built, "L3", "LOW", D(2025, 12, 20), 10840, purchase=D(2023, 1, 1))
    state = maintenance.vehicle_state(hand_built, D(2026, 1, 5)).set_index("vin")
    assert state.loc["LOW", "items_due"] == "engine_oil_filter,battery"
    assert state.loc["LOW", "rule_due_date"].date() == D(2026, 9, 16)


def test_rule_score_is_one_inside_the_horizon_and_falls_with_distance():
    days = np.array([-60.0, -30.0, 0.0, 30.0, 60.0, np.nan])
    assert maintenance.rule_score(days, 30).tolist() == [0.5, 1.0, 1.0, 1.0, 0.5, 0.0]


def test_due_day_is_where_the_probability_reaches_one_half():
    probs = np.array([[0.25, 0.5, 0.9], [0.6, 0.8, 0.9], [0.1, 0.2, 0.4], [0.0, 0.5, 0.5]])
    got = maint_model._due_in_days(probs)
    assert got[:2].tolist() == [60.0, 25.0]
    assert np.isnan(got[2])
    assert got[3] == 60.0


# --- the simulated store: leakage, determinism, scoring, command line ----------------------------

AS_OF = D(2025, 6, 30)


@pytest.fixture(scope="module")
def store_db(tmp_path_factory):
    """A simulated store of 300 vehicles over three years, closed after building."""
    path = tmp_path_factory.mktemp("maint") / "store.duckdb"
    con = db.connect(path)
    maintenance_data.build(con, vehicles=300, seed=3)
    # A name a spreadsheet would run as a formula.
    con.execute(
        "UPDATE service_orders SET customer_name = '=HYPERLINK(\"x\")' WHERE vin = 'LSIM0000000000007'"
    )
    con.close()
    return path


@pytest.fixture(autouse=True)
def fewer_cutoffs(monkeypatch, tmp_path):
    """Train on four dates instead of twelve and keep fitted models out of data/models."""
    monkeypatch.setattr(settings().maintenance, "training_cutoffs", 4)
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    yield


@pytest.fixture(scope="module")
def fitted(store_db):
    con = db.connect(store_db, read_only=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings().maintenance, "training_cutoffs", 4)
        try:
            model = maintenance.fit(con, AS_OF, seed=0)
        finally:
            con.close()
    return model


def _add_later_history(path: Path, after: dt.date) -> None:
    """Append visits and callbacks dated after ``after``, for known and new vehicles."""
    con = db.connect(path)
    for i in range(40):
        vin = f"LSIM{i:013d}"
        day = after + dt.timedelta(days=1 + i)
        _order(con, f"LATE{i}", vin, day, 999999, "maintenance", purchase=D(2020, 1, 1), phone="13900000000")
        _callback(con, f"LATECB{i}", vin, day, False)
    _order(con, "LATENEW", "LNEWCAR0000000001", after + dt.timedelta(days=3), 10, "repair", purchase=after)
    con.close()


def test_features_at_a_cutoff_do_not_change_when_later_records_arrive(store_db, tmp_path):
    cutoff = D(2024, 9, 30)
    copy = tmp_path / "later.duckdb"
    shutil.copy(store_db, copy)
    con = db.connect(store_db, read_only=True)
    before = maintenance.vehicle_state(con, cutoff)
    con.close()
    _add_later_history(copy, cutoff)
    con = db.connect(copy, read_only=True)
    after = maintenance.vehicle_state(con, cutoff)
    con.close()
    assert len(before) > 200
    pd.testing.assert_frame_equal(before, after)


def test_training_ignores_records_after_its_date_and_repeats_exactly(store_db, fitted, tmp_path):
    copy = tmp_path / "later.duckdb"
    shutil.copy(store_db, copy)
    _add_later_history(copy, AS_OF)
    con = db.connect(copy, read_only=True)
    again = maintenance.fit(con, AS_OF, seed=0)
    scores_again = maintenance.score(con, again)
    con.close()
    pd.testing.assert_frame_equal(again.backtest.metrics, fitted.backtest.metrics)
    con = db.connect(store_db, read_only=True)
    scores = maintenance.score(con, fitted)
    con.close()
    pd.testing.assert_frame_equal(scores, scores_again)
    # Monthly dates ending 90 days before the as-of date; the backtest's end 90 days before its cutoff.
    assert again.cutoffs == fitted.cutoffs == [D(2025, 1, 1), D(2025, 1, 31), D(2025, 3, 2), D(2025, 4, 1)]
    assert fitted.backtest.cutoff == D(2025, 4, 1)
    assert fitted.backtest.training_cutoffs == [D(2024, 10, 3), D(2024, 11, 2), D(2024, 12, 2), D(2025, 1, 1)]


def test_backtest_reports_every_metric_for_the_model_and_both_rules_on_both_targets(fitted):
    metrics = fitted.backtest.metrics
    assert metrics[["target", "horizon", "method"]].values.tolist() == [
        [target, horizon, method]
        for target in ("maintenance", "any")
        for horizon in (30, 60, 90)
        for method in ("model", "rule", "rhythm")
    ]
    assert metrics[["roc_auc", "pr_auc", "lift_top_decile", "brier", "calibration_error"]].notna().all().all()
    # A visit of any kind includes every maintenance visit.
    wide_visits = metrics.pivot_table(index="horizon", columns="target", values="visits", aggfunc="first")
    assert (wide_visits["any"] >= wide_visits["maintenance"]).all()
    maint = metrics[metrics["target"] == "maintenance"]
    wide = maint.pivot(index="horizon", columns="method", values="roc_auc")
    assert (wide["model"] > wide["rule"]).all()
    # The deck's table keeps its shape: the maintenance target, model against the schedule rule.
    assert maintenance.backtest_table(fitted)[["horizon", "method"]].values.tolist() == [
        [30, "model"],
        [30, "rule"],
        [60, "model"],
        [60, "rule"],
        [90, "model"],
        [90, "rule"],
    ]


def test_the_rhythm_rule_counts_the_owners_median_interval_from_the_last_maintenance(hand_built):
    # KEYED: maintenance on 2023-05-01, 2023-10-28 and 2024-04-25: gaps 180 and 180 days; on 2024-06-01
    # it is 37 days past its last one, so its own rhythm puts it 143 days ahead. LOW has a single
    # gap (270 days) and is 67 days past, 203 ahead; HIGH has one gap of 50 days and is 69 past.
    # NEW has no maintenance: the schedule's due date stands in.
    state = maintenance.vehicle_state(hand_built, D(2024, 6, 1)).set_index("vin")
    assert state.loc[["KEYED", "LOW", "HIGH", "NEW"], "rhythm_days_to_due"].tolist() == [
        143.0,
        203.0,
        -19.0,
        state.loc["NEW", "days_to_due"],
    ]


def test_scores_are_ordered_probabilities_one_row_per_active_vehicle(store_db, fitted):
    con = db.connect(store_db, read_only=True)
    scores = maintenance.score(con, fitted)
    base = con.execute(
        "SELECT count(DISTINCT vin) FROM service_orders WHERE visit_date > DATE '2025-06-30' - 730"
    ).fetchall()[0][0]
    con.close()
    assert len(scores) == base == scores["vin"].nunique()
    assert ((scores["p30"] <= scores["p60"]) & (scores["p60"] <= scores["p90"])).all()
    assert scores["p30"].is_monotonic_decreasing
    dated = scores.dropna(subset=["due_date"])
    assert (dated["p90"] >= 0.5).all() and (scores.loc[scores["due_date"].isna(), "p90"] < 0.5).all()


def test_scores_keep_overdue_items_as_strings_that_read_back_as_the_state_gives_them(store_db, fitted):
    """A server keeps a group's scores (200,000 vehicles): a list per vehicle was an object every full
    garbage collection walks. The scores keep a JSON string (untracked) that reads back exactly."""
    con = db.connect(store_db, read_only=True)
    try:
        scores = maintenance.score(con, fitted).set_index("vin")
        state = maintenance.vehicle_state(con, fitted.as_of).set_index("vin")
    finally:
        con.close()
    kept = scores["items_overdue"].tolist()
    assert all(isinstance(v, str) and not gc.is_tracked(v) for v in kept)
    assert any("NaN" in v for v in kept)  # an item without a km interval: NaN km, read back as NaN
    for vin, items in scores["items_overdue"].items():
        back, given = maintenance.overdue_items(items), state.loc[vin, "items_overdue"]
        assert [code for code, _, _ in back] == [code for code, _, _ in given]
        np.testing.assert_array_equal([v[1:] for v in back] or None, [v[1:] for v in given] or None)
        assert maintenance.overdue_words(items, "zh") == maintenance.overdue_words(given, "zh")


def test_scoring_before_the_training_date_is_refused(store_db, fitted):
    con = db.connect(store_db, read_only=True)
    with pytest.raises(UserError, match="trained on data up to 2025-06-30"):
        maintenance.score(con, fitted, D(2025, 1, 1))
    con.close()


def test_an_earlier_month_is_scored_at_its_end_by_the_data_versions_model_trained_once(
    store_db, monkeypatch, tmp_path
):
    from analytics.domain.maintenance import persistence

    trainings: list[dt.date] = []
    real_fit = persistence.fit
    monkeypatch.setattr(
        persistence, "fit", lambda con, as_of, **kw: trainings.append(as_of) or real_fit(con, as_of, **kw)
    )
    copy = tmp_path / "store.duckdb"
    shutil.copy(store_db, copy)
    con = db.connect(copy)  # the saved model's checksum is written beside the data
    trained = facts.model_as_of(con, AS_OF)
    latest = facts.model_as_of(con, trained)
    earlier = maintenance.snapshot(con, AS_OF)
    opened = maintenance.snapshot(con, latest)
    base = con.execute(
        "SELECT count(DISTINCT vin) FROM service_orders WHERE visit_date > DATE '2025-06-30' - 730"
        " AND visit_date <= DATE '2025-06-30'"
    ).fetchall()[0][0]
    con.close()
    assert AS_OF < trained == latest  # the data go on after AS_OF: the pages open on a later month
    assert trainings == [trained]  # one model for both months
    assert earlier.model is not None and earlier.model.as_of == trained and earlier.as_of == AS_OF
    assert opened.model is not None and opened.model.as_of == trained
    assert len(earlier.scores) == base  # the base on AS_OF, not on the training date
    assert not earlier.scores.equals(opened.scores)


def test_invitation_list_filters_and_ranks():
    scores = pd.DataFrame(
        {
            "vin": ["A", "B", "C", "D"],
            "store": ["S1", "S2", "S1", "S1"],
            "p30": [0.2, 0.9, 0.6, 0.6],
            "p60": [0.3, 0.95, 0.7, 0.8],
            "p90": [0.4, 0.97, 0.9, 0.9],
            "items_due": [
                "engine_oil_filter",
                "first_maintenance",
                "engine_oil_filter,battery",
                "engine_oil_filter",
            ],
            "reachability": ["reachable", "untried", "hard_to_reach", "reachable"],
        }
    )
    assert maintenance.invitation_list(scores)["vin"].tolist() == ["B", "C", "D", "A"]
    assert maintenance.invitation_list(scores, horizon=60, min_probability=0.5)["vin"].tolist() == [
        "B",
        "D",
        "C",
    ]
    assert maintenance.invitation_list(scores, stores=["S1"], reachable_only=True)["vin"].tolist() == [
        "D",
        "A",
    ]
    picked = maintenance.invitation_list(scores, items=["battery", "first_maintenance"])
    assert picked[["rank", "vin"]].values.tolist() == [[1, "B"], [2, "C"]]


def test_saved_model_is_found_for_its_data_version_only(store_db, fitted, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(store_db, copy)
    con = db.connect(copy)
    assert maintenance.load_model(con) is None
    leftover = persistence.model_dir() / f"{persistence._model_prefix(con)}-2025-06-30-0.joblib"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"a pickle an earlier version kept")
    path = maintenance.save_model(con, fitted)
    # Kept in the safe format (the estimators through skops), never a pickle: an earlier version's
    # pickle is removed, and the model read back scores exactly as the one fitted.
    kept = path.read_bytes()
    assert not leftover.exists()
    assert safe_payload.is_safe(kept) or kept.startswith(safe_payload.ZSTD_MAGIC)  # compressed from 1 MB
    assert type(safe_payload.unpack(kept)) is type(fitted)
    loaded = maintenance.load_model(con)
    assert loaded.trained_at == fitted.trained_at
    state = maintenance.vehicle_state(con, dt.date(2025, 6, 30))
    np.testing.assert_array_equal(loaded.fitted.predict(state), fitted.fitted.predict(state))
    db.bump_data_version(con)
    assert maintenance.load_model(con) is None
    con.close()


def test_cli_train_then_backtest_json_give_each_metric_per_horizon_for_model_and_rule(store_db, capsys):
    assert cli.main(["maintenance", "train", "--json", "--db", str(store_db)]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert Path(trained["model_file"]).exists()
    assert cli.main(["maintenance", "backtest", "--json", "--db", str(store_db)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trained_at"] == trained["trained_at"]  # the saved model, not a second training
    assert out["as_of"] == "2025-06-30" and out["backtest_cutoff"] == "2025-04-01"
    assert sorted(out["horizons"]) == ["30", "60", "90"]
    for methods in out["horizons"].values():
        assert sorted(methods) == ["model", "rhythm", "rule"]
        for figures in methods.values():
            assert {"roc_auc", "pr_auc", "lift_top_decile", "brier", "calibration_error", "n"} <= set(figures)
    assert set(out["due_date_error_days"]) == {
        "came_in",
        "dated",
        "model_mae_days",
        "rule_mae_days",
        "model_median_days",
        "rule_median_days",
    }


def test_cli_score_writes_one_formula_safe_row_per_active_vehicle_with_a_bom(
    store_db, fitted, tmp_path, capsys
):
    con = db.connect(store_db, read_only=True)
    maintenance.save_model(con, fitted)
    con.close()
    out = tmp_path / "due.csv"
    code = cli.main(
        [
            "maintenance",
            "score",
            "--as-of",
            "2025-06-30",
            "--out",
            str(out),
            "--lang",
            "en",
            "--db",
            str(store_db),
        ]
    )
    assert code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    # The dashboard's download: the language's headers (read back under their codes here).
    assert {"VIN", "Owner", "Items due"} <= set(frame.columns)
    frame = frame.rename(columns={text(f"maintenance.col.{c}", "en"): c for c in COLUMN_CODES})
    required = {"vin", "plate", "customer_name", "phone", "model", "p30", "p60", "p90", "due_date"}
    assert required | {"km_since_service", "items_due"} <= set(frame.columns)
    con = db.connect(store_db, read_only=True)
    base = con.execute(
        "SELECT count(DISTINCT vin) FROM service_orders WHERE visit_date > DATE '2025-06-30' - 730"
    ).fetchall()[0][0]
    con.close()
    assert len(frame) == base
    assert frame.loc[frame["vin"] == "LSIM0000000000007", "customer_name"].tolist() == ['\'=HYPERLINK("x")']
    assert frame["items_due"].str.contains(r"^Engine oil and filter \(", regex=True).any()
    assert "scored" in capsys.readouterr().out


def test_cli_refuses_bad_input_with_one_sentence(store_db, tmp_path, capsys):
    assert cli.main(["maintenance", "train", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "There is no database" in capsys.readouterr().err
    assert cli.main(["maintenance", "train", "--as-of", "2022-09-01", "--db", str(store_db)]) == 2
    assert "Training needs about" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["maintenance", "score", "--as-of", "30/06/2025", "--db", str(store_db)])
    assert exit_info.value.code == 2
    assert "write it as YYYY-MM-DD" in capsys.readouterr().err
    # Session 42: the page said "choose a later --as-of date" (an option of the command line), also
    # to a store that had imported no work order at all.
    assert cli.main(["maintenance", "train", "--as-of", "2020-01-31", "--db", str(store_db)]) == 2
    said = capsys.readouterr().err
    assert "the first is dated" in said and "--as-of" not in said
    empty = tmp_path / "empty.duckdb"
    db.connect(empty).close()
    assert cli.main(["maintenance", "train", "--as-of", "2026-10-31", "--db", str(empty)]) == 2
    assert "There are no work orders yet; import the DMS's work-order export" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["train", "backtest", "score"])
def test_every_maintenance_action_has_help(action, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["maintenance", action, "--help"])
    assert exit_info.value.code == 0
    assert "--as-of" in capsys.readouterr().out


def test_vectorised_due_days_agree_with_the_schedules_next_due_date():
    as_of = D(2024, 6, 1)
    cases = [
        (D(2024, 3, 24), D(2024, 1, 1), 150.0),
        (D(2024, 3, 26), D(2023, 1, 1), 10.0),
        (None, D(2024, 3, 1), 8.0),
        (None, D(2024, 3, 1), None),
        (D(2024, 1, 10), None, 0.0),
        (None, None, 30.0),
    ]
    since_maintenance = np.array([(as_of - m).days if m else np.nan for m, _, _ in cases], dtype=float)
    since_purchase = np.array([(as_of - p).days if p else np.nan for _, p, _ in cases], dtype=float)
    pace = np.array([np.nan if k is None else k for _, _, k in cases])
    got = schedule.days_to_due(since_maintenance, since_purchase, pace)
    for value, (maint, purchase, km_per_day) in zip(got, cases, strict=True):
        expected = schedule.next_due_date(maint, purchase, km_per_day)
        assert (np.isnan(value) and expected is None) or as_of + dt.timedelta(days=int(value)) == expected


def test_weekly_forecast_is_the_sum_of_the_probabilities_and_agrees_with_the_tiles():
    as_of = D(2026, 10, 31)
    scores = pd.DataFrame(
        {
            "store": ["S1", "S1"],
            "p30": [0.3, 0.6],
            "p60": [0.6, 0.6],
            "p90": [0.9, 0.9],
            "any30": [0.6, 0.9],
            "any60": [0.9, 0.9],
            "any90": [0.9, 1.0],
        }
    )
    weeks = maintenance.expected_visits_by_week(scores, as_of, weeks=13)
    # 0.9 over the first 30 days, spread evenly: 0.03 a day, 0.21 a week.
    assert weeks["maintenance"].round(6).tolist()[:4] == [0.21, 0.21, 0.21, 0.21]
    # Week 5 is days 29-35: two days at 0.03, then five at 0.01 (only the first car still rises).
    assert round(weeks["maintenance"].iloc[4], 6) == 0.11
    assert weeks["week_start"].iloc[0] == pd.Timestamp(2026, 11, 1)
    tiles = maintenance.outlook(scores)
    assert maintenance.expected_within(scores, 30) == pytest.approx(tiles["p30"]) == pytest.approx(0.9)
    assert weeks["maintenance"].sum() == pytest.approx(tiles["p90"])  # 13 weeks cover the 90 days
    assert weeks["any"].sum() == pytest.approx(tiles["any90"])
    assert maintenance.expected_within(scores, 45, "any") == pytest.approx(1.5 + 0.15)


def test_overdue_counts_use_the_predicted_and_the_schedule_due_dates():
    as_of = D(2026, 10, 31)
    scores = pd.DataFrame(
        {
            "due_date": [D(2026, 10, 1), D(2026, 11, 1), D(2026, 11, 8), None],
            "rule_due_date": [D(2025, 1, 1), D(2024, 1, 1), D(2026, 11, 7), D(2026, 11, 20)],
        }
    )
    assert maintenance.overdue_counts(scores, as_of) == {"model": 1, "rule": 2}


def test_items_due_read_in_words_with_how_far_each_is_overdue(hand_built):
    state = maintenance.vehicle_state(hand_built, D(2024, 6, 1)).set_index("vin")
    # HIGH: 10,350 km since its last maintenance (interval 7,500) and 22,800 km on its first air
    # filter (due from 15,000); NEW: 736 km and 92 days since purchase, first maintenance not yet due.
    assert maintenance.overdue_words(state.loc["HIGH", "items_overdue"], "en") == (
        "Engine oil and filter (2,850 km overdue); Air filter (7,800 km overdue)"
    )
    assert maintenance.overdue_words(state.loc["HIGH", "items_overdue"], "zh") == (
        "机油机滤（超期 2,850 公里）；空气滤清器（超期 7,800 公里）"
    )
    # Session 43: it read "due soon", as every item not yet past its interval did (a routine item 30
    # days after its service too); now how far it is from its interval, "due soon" within a month or
    # 1,000 km.
    assert maintenance.overdue_words(state.loc["NEW", "items_overdue"], "en") == (
        "First maintenance (due in 4,264 km / 3 months)"
    )
    assert (
        maintenance.overdue_words(state.loc["NEW", "items_overdue"], "zh")
        == "首保（4,264 公里 / 3 个月后到期）"
    )
    assert maintenance.overdue_words([("brake_fluid", -400.0, -200.0)], "en") == "Brake fluid (due soon)"
    assert maintenance.overdue_words([("brake_fluid", -4000.0, -20.0)], "en") == "Brake fluid (due soon)"
    # Months: brake fluid done at purchase (2023-01-01), 2 years on; 26 months later it is 3 months over.
    assert (
        maintenance.overdue_words([("brake_fluid", -5000.0, 91.0)], "en") == "Brake fluid (3 months overdue)"
    )
    labelled = maintenance.labelled(
        state.reset_index().loc[
            lambda f: f["vin"] == "HIGH", ["items_due", "items_overdue", "reachability", "last_service_type"]
        ],
        "en",
    )
    assert labelled["items_due"].tolist() == [
        "Engine oil and filter (2,850 km overdue); Air filter (7,800 km overdue)"
    ]
    assert "items_overdue" not in labelled


def test_an_item_not_yet_due_is_read_at_the_cars_own_pace():
    """Session 45: a car doing 200 km a day, 3,511 km from its oil service, read "due in 3,511 km /
    8 months", so the invitation list's first rows looked months from due. With the car's pace the item
    falls due at its km or its months, whichever comes first, and only that one is said."""
    oil = [("engine_oil_filter", -3511.0, -240.0)]
    assert (
        maintenance.overdue_words(oil, "en", 200.0)
        == "Engine oil and filter (due in 3,511 km, about 18 days)"
    )
    assert maintenance.overdue_words(oil, "zh", 200.0) == "机油机滤（还有 3,511 公里，约 18 天后到期）"
    assert (
        maintenance.overdue_words(oil, "en", 50.0)
        == "Engine oil and filter (due in 3,511 km, about 2 months)"
    )
    # A car doing 10 km a day reaches the months first: only the months are said.
    assert maintenance.overdue_words(oil, "en", 10.0) == "Engine oil and filter (due in 8 months)"
    assert maintenance.overdue_words([("engine_oil_filter", -800.0, -240.0)], "en", 10.0) == (
        "Engine oil and filter (due soon)"
    )
    assert maintenance.overdue_words([("engine_oil_filter", -5000.0, -20.0)], "en", 10.0) == (
        "Engine oil and filter (due soon)"
    )
    # Without a pace (or a pace of 0) both are said, as before.
    assert (
        maintenance.overdue_words(oil, "en")
        == maintenance.overdue_words(oil, "en", 0.0)
        == ("Engine oil and filter (due in 3,511 km / 8 months)")
    )
    frame = pd.DataFrame(
        {
            "items_overdue": [json.dumps(oil), json.dumps(oil)],
            "km_per_day": [200.0, None],
            "items_due": ["engine_oil_filter", "engine_oil_filter"],
            "reachability": ["reachable", "reachable"],
            "last_service_type": ["maintenance", "maintenance"],
        }
    )
    assert maintenance.labelled(frame, "en")["items_due"].tolist() == [
        "Engine oil and filter (due in 3,511 km, about 18 days)",
        "Engine oil and filter (due in 3,511 km / 8 months)",
    ]


def test_daily_invitations_fill_the_capacity_after_skipping_complaints_and_recent_calls():
    ranked = maintenance.invitation_list(
        pd.DataFrame(
            {
                "vin": list("ABCDEF"),
                "store": ["S1"] * 6,
                "p30": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
                "items_due": [""] * 6,
                "reachability": ["reachable"] * 6,
                "open_complaint": [False, True, False, False, False, False],
                "last_called": [None, None, D(2026, 10, 25), D(2026, 10, 1), None, None],
            }
        )
    )
    today = maintenance.daily_invitations(ranked, 3, D(2026, 10, 31), called_within_days=14)
    assert today.calls[["rank", "vin"]].values.tolist() == [[1, "A"], [2, "D"], [3, "E"]]
    assert (today.candidates, today.suppressed_complaint, today.suppressed_recent) == (6, 1, 1)
    everyone = maintenance.daily_invitations(ranked, 10, D(2026, 10, 31), skip_open_complaints=False)
    assert everyone.calls["vin"].tolist() == list("ABCDEF")
    assert maintenance.daily_invitations(ranked, 0, D(2026, 10, 31)).calls.empty


def test_features_and_training_labels_at_a_cutoff_ignore_changed_and_shifted_later_rows(store_db, tmp_path):
    cutoff = D(2024, 9, 30)
    copy = tmp_path / "altered.duckdb"
    shutil.copy(store_db, copy)
    con = db.connect(store_db, read_only=True)
    before = maintenance.vehicle_state(con, cutoff)
    labels_before = features._snapshot(con, D(2024, 3, 1), cutoff)
    con.close()
    con = db.connect(copy)
    # Rewrite the future: later visits move a week later with other odometers and service types,
    # later callbacks turn into unreached complaints.
    changed = con.execute(
        "UPDATE service_orders SET visit_date = visit_date + 7, mileage_km = mileage_km * 3 + 11,"
        " service_type = 'repair', purchase_date = NULL WHERE visit_date > $c",
        {"c": cutoff},
    ).fetchall()
    con.execute(
        "UPDATE callbacks SET callback_date = callback_date + INTERVAL 3 DAY, reached = false,"
        " is_complaint = true WHERE callback_date >= $c + 1",
        {"c": cutoff},
    )
    con.close()
    assert changed[0][0] > 100
    con = db.connect(copy, read_only=True)
    after = maintenance.vehicle_state(con, cutoff)
    labels_after = features._snapshot(con, D(2024, 3, 1), cutoff)
    con.close()
    pd.testing.assert_frame_equal(before, after)
    # A training date's labels close at the date the model is used at: nothing after it is read.
    pd.testing.assert_frame_equal(labels_before, labels_after)


def test_probabilities_never_fall_from_30_to_60_to_90_days_for_both_targets(store_db, fitted):
    con = db.connect(store_db, read_only=True)
    state = maintenance.vehicle_state(con, AS_OF)
    con.close()
    for target in maintenance.TARGETS:
        probs = fitted.fitted.predict(state, target)
        assert probs.shape == (len(state), 3)
        assert (np.diff(probs, axis=1) >= 0).all()
        assert ((probs >= 0) & (probs <= 1)).all()
    # Without the running maximum the 30-day classifier alone sometimes says more than the 60-day one;
    # the ordering is a property of predict, not of luck.
    x = fitted.fitted.matrix(state)
    raw = np.column_stack(
        [fitted.fitted.classifiers[("any", h)].predict_proba(x)[:, 1] for h in maintenance.HORIZONS]
    )
    assert np.allclose(np.maximum.accumulate(raw, axis=1), fitted.fitted.predict(state, "any"))


def test_the_kept_snapshot_opens_in_a_fresh_process_without_scikit_learn(store_db, tmp_path, monkeypatch):
    import subprocess
    import sys

    from analytics.services import marts

    copy = tmp_path / "fresh.duckdb"
    shutil.copy(store_db, copy)
    con = db.connect(copy)
    shot = marts.cached(con, marts.call_of(maintenance.snapshot, AS_OF), keep=True, as_is=True)
    trained = facts.model_as_of(con, AS_OF)
    con.close()
    assert shot.model is not None and shot.model.fitted is None and len(shot.scores) > 200
    script = (
        "import sys, datetime as dt\n"
        "from analytics.store import db\nfrom analytics.services import marts\nfrom analytics.domain import maintenance\n"
        # the settings of this process (the fixture trains on four dates), so the same key
        "from analytics.core.config import settings\nsettings().maintenance.training_cutoffs = 4\n"
        f"con = db.connect({str(copy)!r}, read_only=True)\n"
        "shot = marts.cached(con, marts.call_of(maintenance.snapshot, dt.date(2025, 6, 30)), as_is=True)\n"
        "print(len(shot.scores), shot.model.fitted is None, maintenance.backtest_summary(shot.model)['as_of'],"
        " 'sklearn' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.split() == [str(len(shot.scores)), "True", trained.isoformat(), "False"], out.stderr


def test_training_survives_columns_with_no_value_and_a_tiny_store(tmp_path):
    # Work orders only (no callbacks imported yet) and no purchase dates, for forty vehicles.
    con = db.connect(tmp_path / "tiny.duckdb")
    maintenance_data.build(con, vehicles=40, seed=5)
    con.execute("DELETE FROM callbacks")
    con.execute("UPDATE service_orders SET purchase_date = NULL")
    try:
        model = maintenance.fit(con, AS_OF, seed=0)
    except UserError as exc:  # too few vehicles is a sentence, never a crash
        pytest.fail(f"a tiny store should still train here: {exc}")
    empty = {maintenance.FEATURES[i] for i in model.fitted.empty}
    assert {"last_score", "age_days", "warranty_active"} <= empty
    scores = maintenance.score(con, model)
    con.close()
    assert len(scores) > 0 and scores[["p30", "any30"]].notna().all().all()


def test_a_stores_scores_are_the_groups_rows_of_that_store(store_db, fitted):
    con = db.connect(store_db, read_only=True)
    # Two stores; cars without a km trend of their own take the whole base's pace in either.
    group = maintenance.score(con, fitted)
    con.close()
    stores = sorted(group["store"].dropna().unique())
    assert len(stores) >= 2, "the simulated data should hold more than one store"
    con = db.connect(store_db, read_only=True)
    for chosen in ([stores[0]], stores[1:]):
        mine = maintenance.score(con, fitted, stores=chosen)
        expected = group[group["store"].isin(chosen)].reset_index(drop=True)
        assert 0 < len(mine) < len(group)
        pd.testing.assert_frame_equal(mine, expected)
    con.close()


def test_a_training_sample_is_the_same_vehicles_at_every_date_with_their_full_rows(store_db):
    """Below a share of one, a date's snapshot is the complete snapshot's rows of the sampled
    vehicles (the fleet's pace still the whole base's), the same vehicles at every date."""
    con = db.connect(store_db, read_only=True)
    try:
        picked: list[set[str]] = []
        for day in (AS_OF - dt.timedelta(days=120), AS_OF):
            full = features.vehicle_state(con, day)
            part = features.vehicle_state(con, day, share=0.4, seed=5)
            keep = features.sampled_vins(full["vin"], 0.4, 5)
            assert 0.2 * len(full) < len(part) < 0.6 * len(full)
            pd.testing.assert_frame_equal(part, full[keep].reset_index(drop=True))
            picked.append(set(part["vin"]))
        older, newer = picked
        # A vehicle in both bases is in both samples or in neither.
        both = set(features.vehicle_state(con, AS_OF - dt.timedelta(days=120))["vin"]) & set(
            features.vehicle_state(con, AS_OF)["vin"]
        )
        assert {v for v in both if v in older} == {v for v in both if v in newer}
        # Another seed draws other vehicles; a share of one keeps everyone.
        assert set(features.vehicle_state(con, AS_OF, share=0.4, seed=6)["vin"]) != newer
        assert len(features.vehicle_state(con, AS_OF, share=1.0)) == len(features.vehicle_state(con, AS_OF))
    finally:
        con.close()


def test_a_group_trains_on_a_sample_of_vehicles_but_backtests_on_every_one(store_db, monkeypatch):
    """With a training cap far below the base, the snapshots replayed for training are about
    ``TRAINING_MARGIN`` times the cap, and the backtest still scores every vehicle of its date."""
    cap = 200
    monkeypatch.setattr(settings().maintenance, "max_training_rows", cap)
    assert maint_model.training_share(1000, 10) == pytest.approx(1.5 * 200 / 10_000)
    assert maint_model.training_share(10, 10) == 1.0
    con = db.connect(store_db, read_only=True)
    try:
        with marts.bypassed():
            model = maintenance.fit(con, AS_OF, seed=0)
        complete = features.vehicle_state(con, model.backtest.cutoff)
    finally:
        con.close()
    assert model.backtest.vehicles == len(complete)
    # Three training dates besides the newest of the four, each a share of about 1.5 x 200 / (3 x base).
    assert model.rows < 0.8 * 4 * len(complete)
    assert model.rows >= cap


def test_a_stores_snapshot_is_the_kept_group_snapshot_filtered_or_scored_alike(store_db, monkeypatch):
    """With the group's snapshot of a date kept, a store's snapshot is its rows (no queries); it is
    the same as scoring that store afresh; without one kept, the store is scored."""
    from analytics.core import memo
    from analytics.domain.maintenance import persistence

    con = db.connect(store_db, read_only=True)
    try:
        with marts.bypassed():
            group = persistence.snapshot(con, AS_OF)
            stores = sorted(group.scores["store"].dropna().unique())
            fresh = persistence.snapshot(con, AS_OF, [stores[0]])
        peeked: list[tuple] = []

        def peek(con, fn, args):
            peeked.append(args)
            return (True, group) if args == (AS_OF, None) else (False, None)

        monkeypatch.setattr(memo, "_peek", [peek])
        monkeypatch.setattr(
            persistence, "score", lambda *a, **k: pytest.fail("a kept group was scored again")
        )
        sliced = persistence.snapshot(con, AS_OF, [stores[0]])
    finally:
        con.close()
    assert peeked == [(AS_OF, None)]
    assert 0 < len(sliced.scores) < len(group.scores)
    pd.testing.assert_frame_equal(sliced.scores, fresh.scores)
    assert sliced.model is group.model
    # (Trained twice on a read-only handle here: the same model but for its training time.)
    for field in ("as_of", "data_version", "rows", "cutoffs"):
        assert getattr(sliced.model, field) == getattr(fresh.model, field), field
