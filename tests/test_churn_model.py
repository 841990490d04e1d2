"""The churn model: features never see past their cutoff, cutoffs leave a whole year, metrics are exact,
and on a dealership with a planted mechanism the model beats the days-since-last-visit rule, repeatably."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.domain import churn, churn_model
from analytics.store import db
from tests import churn_synthetic

ROOT = Path(__file__).resolve().parents[1]

CUTOFFS = [date(2025, 3, 31), date(2025, 9, 30)]


def _synthetic(path, n: int):
    con = db.connect(path)
    churn_synthetic.build(con, n_vehicles=n, seed=3)
    return con


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    # A text column empty at one cutoff is typed by the other cutoff's rows; compare values only.
    return frame.astype(object).where(frame.notna(), None)


def test_features_at_a_cutoff_are_unchanged_when_later_rows_are_added(tmp_path):
    con = _synthetic(tmp_path / "leak.duckdb", 120)
    before = churn_model.features(con, CUTOFFS)
    vins = before["vin"].unique()[:40].tolist()
    cutoff = CUTOFFS[0]
    later = cutoff + timedelta(days=1)
    for i, vin in enumerate(vins):
        # a visit the day after the cutoff by the car's own customer (another name and phone would be
        # a new owner, whom the former owner's complaint below does not concern), and a complaint
        # callback about an order before it
        name, phone = con.execute(
            "SELECT arg_max(customer_name, order_id), arg_max(phone, order_id) FROM service_orders WHERE vin = $v",
            {"v": vin},
        ).fetchone()
        con.execute(
            "INSERT INTO service_orders (order_id, store, vin, plate, customer_name, phone, model, purchase_date,"
            " visit_date, mileage_km, service_type, amount, advisor, is_appointment, import_id)"
            " VALUES ($o, 'S1', $v, 'X', $n, $p, '轩逸', DATE '2010-01-01', $d, 999999, 'repair', 99999, 'Z',"
            " true, 2)",
            {"o": f"LATE{i}", "v": vin, "n": name, "p": phone, "d": later},
        )
        old_order = con.execute(
            "SELECT max(order_id) FROM service_orders WHERE vin = $v AND visit_date <= $c",
            {"v": vin, "c": cutoff},
        ).fetchone()[0]
        con.execute(
            "INSERT INTO callbacks (callback_id, order_id, vin, callback_type, callback_date, reached,"
            " overall_score, price_score, recommend_score, is_complaint, complaint_category, import_id)"
            " VALUES ($c, $o, NULL, 'other', $d, true, 0, 0, 0, true, '收费', 2)",
            {"c": f"LATE{i}", "o": old_order, "d": datetime.combine(later, datetime.min.time())},
        )
    # an open complaint before the cutoff, resolved only after it, stays open at the cutoff
    con.execute(
        "UPDATE callbacks SET resolved_at = $r WHERE is_complaint AND resolved_at IS NULL AND callback_date < $c",
        {
            "r": datetime.combine(later, datetime.min.time()),
            "c": datetime.combine(cutoff, datetime.min.time()),
        },
    )
    after = churn_model.features(con, CUTOFFS)
    first = after[after["cutoff"] == cutoff].reset_index(drop=True)
    expected = before[before["cutoff"] == cutoff].reset_index(drop=True)
    assert expected["open_complaints"].sum() > 0  # the fixture does exercise the open-complaint rule
    pd.testing.assert_frame_equal(_plain(first), _plain(expected))
    # the later cutoff does see the new rows
    second = after[after["cutoff"] == CUTOFFS[1]].set_index("vin")
    assert (second.loc[vins, "complaints"] >= 1).all()


def test_training_cutoffs_are_month_ends_whose_label_year_has_ended():
    assert churn_model.training_cutoffs(date(2023, 11, 3), date(2026, 10, 31)) == [
        date(2024, 7, 31),
        date(2024, 10, 31),
        date(2025, 1, 31),
        date(2025, 4, 30),
        date(2025, 7, 31),
        date(2025, 10, 31),
    ]
    # mid-month data end: the latest cutoff is the month end a whole year before
    assert churn_model.training_cutoffs(date(2023, 11, 3), date(2025, 11, 15))[-1] == date(2024, 10, 31)
    assert churn_model.training_cutoffs(date(2025, 1, 1), date(2025, 12, 31)) == []


def test_ranking_metrics_and_calibration_table_are_exact_on_a_small_example():
    churned = np.array([1, 0, 1, 0, 0, 0, 0, 0, 1, 0], dtype=bool)
    score = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.4, 0.5, 0.05, 0.6])
    metrics = churn_model.ranking_metrics(churned, score)
    # top 10% = 1 car (churned): lift 1 / 0.3; top 20% = 2 cars, 1 churned
    assert metrics == pytest.approx(
        {"auc": 13 / 21, "lift_10": 1 / 0.3, "capture_10": 1 / 3, "lift_20": 0.5 / 0.3, "capture_20": 1 / 3}
    )
    table = churn_model.calibration_table(churned, score, bins=5)
    assert table["n"].tolist() == [2, 2, 2, 2, 2]
    assert table["observed"].tolist() == [0.5, 0.0, 0.0, 0.5, 0.5]
    assert table["predicted"].tolist() == pytest.approx([0.075, 0.25, 0.45, 0.65, 0.85])


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    con = _synthetic(tmp_path_factory.mktemp("planted") / "planted.duckdb", 450)
    yield con
    con.close()


def test_model_beats_the_days_since_rule_where_bad_experiences_drive_churn(planted):
    model = churn_model.fit(planted, date(2026, 10, 31))
    result = model.backtest
    assert result is not None
    assert result.cutoff == date(2025, 10, 31)
    # first visit 2023-11-01, plus 180 days of history: 2024-04-29 is the earliest cutoff allowed
    assert result.train_cutoffs == [date(2024, 4, 30), date(2024, 7, 31), date(2024, 10, 31)]
    assert result.model["auc"] > result.rule["auc"] + 0.02
    assert result.model["brier"] < result.rule["brier"]
    # the planted cause is among the three strongest drivers
    assert {"last_overall", "last_visit_overall"} & set(result.importance["feature"].head(3))
    assert set(result.calibration["scorer"]) == {"model", "rule"}
    assert model.train_cutoffs[-1] == date(2025, 10, 31)


def test_fit_is_repeatable_with_a_seed_and_ignores_rows_after_the_as_of_date(planted, tmp_path):
    as_of = date(2026, 4, 30)
    current = churn_model.features(planted, [as_of])
    first = churn_model.fit(planted, as_of, seed=5, with_backtest=False)
    # the same history cut at the as-of date gives the same predictions: nothing after it was read,
    # and the fit is repeatable
    cut = db.connect(tmp_path / "cut.duckdb")
    orders = planted.execute("SELECT * FROM service_orders WHERE visit_date <= $d", {"d": as_of}).df()
    calls = planted.execute(
        "SELECT * FROM callbacks WHERE CAST(callback_date AS DATE) <= $d", {"d": as_of}
    ).df()
    cut.register("kept_orders", orders)
    cut.register("kept_calls", calls)
    cut.execute("INSERT INTO service_orders SELECT * FROM kept_orders")
    cut.execute("INSERT INTO callbacks SELECT * FROM kept_calls")
    trimmed = churn_model.fit(cut, as_of, seed=5, with_backtest=False)
    assert trimmed.backtest is None and trimmed.train_cutoffs == first.train_cutoffs
    np.testing.assert_array_equal(trimmed.predict(current), first.predict(current))
    cut.close()


def test_snapshot_ranks_by_overdue_ratio_when_there_is_too_little_history(tmp_path):
    con = db.connect(tmp_path / "short.duckdb")
    churn_synthetic.build(con, n_vehicles=30, seed=2, start=date(2026, 5, 1))
    shot = churn.snapshot(con, date(2026, 10, 31))
    assert shot.model is None and "history" in (shot.model_note or "")
    ranked = churn.prioritise(shot.vehicles, 0.0)
    assert ranked["churn_probability"].isna().all()
    assert ranked["priority"].tolist() == sorted(ranked["overdue_ratio"].tolist(), reverse=True)


def test_a_kept_snapshot_carries_the_model_card_and_reads_back_without_scikit_learn(planted, tmp_path):
    shot = churn.snapshot(planted, date(2026, 10, 31))
    assert shot.model is not None and shot.model.scorer is None and shot.model.backtest is not None
    assert shot.vehicles["churn_probability"].notna().all()
    with pytest.raises(ValueError, match="card"):
        shot.model.predict(shot.vehicles)
    # A fresh process (a server after a restart) reads the kept list back: no scikit-learn import.
    path = tmp_path / "snapshot.pickle"
    path.write_bytes(pickle.dumps(shot))
    code = (
        "import pickle, sys; from pathlib import Path; "
        f"shot = pickle.loads(Path({str(path)!r}).read_bytes()); "
        "print(len(shot.vehicles), shot.model.n_train, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == [str(len(shot.vehicles)), str(shot.model.n_train), "False"]


def test_an_earlier_month_end_is_listed_at_its_date_by_the_data_versions_model(planted, monkeypatch):
    trainings: list[date] = []
    real_fit = churn_model.fit
    monkeypatch.setattr(
        churn_model, "fit", lambda con, as_of, *a: trainings.append(as_of) or real_fit(con, as_of, *a)
    )
    opened = churn.facts.model_as_of(planted, date(2026, 10, 31))
    earlier = churn.snapshot(planted, date(2026, 4, 30))
    # Not trained at 2026-04-30: at most once, at the opened month (kept already if an earlier
    # test in this process ran the snapshot of that month with the marts installed).
    assert set(trainings) <= {opened} and len(trainings) <= 1 and opened >= date(2026, 10, 31)
    assert earlier.model is not None and earlier.model.as_of == opened and earlier.as_of == date(2026, 4, 30)
    # the list is the base on 2026-04-30 (the statuses the KPI counts then), ranked by that model
    assert earlier.counts() == churn.status_counts(planted, date(2026, 4, 30))
    assert earlier.vehicles["churn_probability"].notna().all()
