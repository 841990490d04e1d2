"""Scoring calibrated boosted trees from binned values gives predict_proba's numbers exactly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from analytics.domain import model_matrix
from analytics.domain.model_matrix import positive_probabilities, positive_probability


def _data(seed: int, n: int = 3_000) -> tuple[np.ndarray, np.ndarray]:
    """Rows like the models': numbers with gaps, counts, and a category code column (NaN where unknown)."""
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.normal(300, 120, n),
            rng.integers(0, 12, n).astype(float),
            rng.exponential(40, n),
            rng.integers(0, 6, n).astype(float),
        ]
    )
    x[rng.random(n) < 0.15, 0] = np.nan
    x[rng.random(n) < 0.05, 3] = np.nan
    signal = 0.01 * np.nan_to_num(x[:, 0], nan=300) - 0.2 * x[:, 1] + 0.8 * (x[:, 3] == 2)
    y = (signal + rng.normal(0, 1, n) > np.median(signal)).astype(int)
    return x, y


def _trees(seed: int = 0) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=25,
        max_leaf_nodes=7,
        max_bins=31,
        categorical_features=[False, False, False, True],
        random_state=seed,
    )


def _unseen(x: np.ndarray) -> np.ndarray:
    """Rows to score beyond what was fitted on: values outside the fitted range, a category never
    seen, more missing values."""
    out = x.copy()
    out[::7, 0] = 5_000.0
    out[1::7, 2] = -3.0
    out[2::7, 3] = 9.0
    out[3::7, 1] = np.nan
    return out


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_frozen_trees_calibrated_later_score_as_predict_proba(method: str) -> None:
    # The maintenance model: trees fitted on earlier dates, calibrated on the latest one.
    x, y = _data(1)
    calibrated = CalibratedClassifierCV(FrozenEstimator(_trees().fit(x[:2_000], y[:2_000])), method=method)
    calibrated.fit(x[2_000:], y[2_000:])
    scored = _unseen(_data(2)[0])
    expected = calibrated.predict_proba(scored)[:, 1]
    (got,) = positive_probabilities([calibrated], scored)
    assert model_matrix._binned_parts(calibrated) is not None  # the binned route was taken
    np.testing.assert_array_equal(got, expected)


def test_trees_refitted_after_cross_validated_calibration_score_as_predict_proba() -> None:
    # The churn model: calibrated on out-of-fold scores, the trees refitted on every row.
    x, y = _data(3)
    calibrated = CalibratedClassifierCV(_trees(), method="isotonic", cv=3, ensemble=False).fit(x, y)
    scored = _unseen(_data(4)[0])
    (got,) = positive_probabilities([calibrated], scored)
    assert model_matrix._binned_parts(calibrated) is not None
    np.testing.assert_array_equal(got, calibrated.predict_proba(scored)[:, 1])


def test_classifiers_fitted_on_the_same_rows_share_one_binning_and_others_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x, y = _data(5)
    other_x, other_y = _data(6)
    same_rows = [
        CalibratedClassifierCV(FrozenEstimator(_trees(seed).fit(x, labels)), method="isotonic").fit(x, labels)
        for seed, labels in ((0, y), (1, 1 - y), (2, y))
    ]
    other_rows = CalibratedClassifierCV(
        FrozenEstimator(_trees().fit(other_x * 3.0, other_y)), method="isotonic"
    )
    other_rows.fit(other_x * 3.0, other_y)
    forest = CalibratedClassifierCV(LogisticRegression(), method="sigmoid", cv=3).fit(np.nan_to_num(x), y)
    scored = np.nan_to_num(_unseen(_data(7)[0]), nan=1.0)
    transforms = []
    original = type(same_rows[0].calibrated_classifiers_[0].estimator.estimator._bin_mapper).transform

    def counted(self: object, values: np.ndarray) -> np.ndarray:
        transforms.append(self)
        return original(self, values)

    monkeypatch.setattr(
        type(same_rows[0].calibrated_classifiers_[0].estimator.estimator._bin_mapper), "transform", counted
    )
    estimators = [*same_rows, other_rows, forest]
    got = positive_probabilities(estimators, scored)
    for estimator, probabilities in zip(estimators, got, strict=True):
        np.testing.assert_array_equal(probabilities, estimator.predict_proba(scored)[:, 1])
    # One binning for the three classifiers of the same rows, one for the other; none for the
    # logistic regression, scored by predict_proba (which compares the raw values, unbinned).
    assert model_matrix._binned_parts(forest) is None
    assert len(transforms) == 2


def test_no_rows_give_empty_probabilities() -> None:
    x, y = _data(8)
    calibrated = CalibratedClassifierCV(_trees(), method="isotonic", cv=3, ensemble=False).fit(x, y)
    empty = np.zeros((0, x.shape[1]))
    assert [len(p) for p in positive_probabilities([calibrated, calibrated], empty)] == [0, 0]
    assert len(positive_probability(calibrated, empty)) == 0
