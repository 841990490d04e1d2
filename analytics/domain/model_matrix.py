"""Feature matrices made safe for gradient boosting whatever data a store has imported so far."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def binnable(x: np.ndarray, fitted_rows: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Return x with every column that holds no value at all set to 0 (a copy when one is changed).

    HistGradientBoosting bins each column from its distinct values and fails ("window shape
    cannot be larger than input array shape") on a column with none: a feature fed only by
    callbacks before any callback was imported, say. A constant column gives no split, so the
    model is the one it would be without the feature, and scoring later rows (which may hold
    values) reads the same trees. ``fitted_rows``: the rows each cross-validation fold fits on; a
    column with no value in one of them is set to 0 as well.
    """
    if x.ndim != 2 or x.shape[0] == 0:
        return x
    empty = np.isnan(x).all(axis=0)
    # A fold's trees bin the rows they are fitted on alone: a column with values only in the
    # rows a fold holds out (purchase dates known for two cars, both held out) is as empty to them.
    for rows in fitted_rows:
        if len(rows):
            empty |= np.isnan(x[rows]).all(axis=0)
    if not empty.any():
        return x
    out = x.copy()
    out[:, empty] = 0.0
    return out


# Rows scored at a time by ``positive_probability``; 4,096 and 16,384 measured close behind.
PREDICT_BLOCK = 65_536


def positive_probability(estimator: Any, x: np.ndarray) -> np.ndarray:
    """Return ``estimator``'s probability of the positive class for each row of x, scored block by
    block: on 200,178 vehicles the maintenance page's six classifiers took 3.8-4.0 s in blocks
    against 5.0-5.6 s over the whole matrix at once, with the same probabilities."""
    if x.shape[0] == 0:
        return np.zeros(0)
    return np.concatenate(
        [
            estimator.predict_proba(x[start : start + PREDICT_BLOCK])[:, 1]
            for start in range(0, x.shape[0], PREDICT_BLOCK)
        ]
    )


def positive_probabilities(estimators: Sequence[Any], x: np.ndarray) -> list[np.ndarray]:
    """Return ``positive_probability(e, x)`` for each of ``estimators``, the same numbers.

    Calibrated gradient-boosted classifiers fitted on the same rows bin their inputs alike (the
    maintenance model's six do): x is then binned once and each tree compares one byte per
    split, as the trees do while they are fitted. On the 200,178 vehicles of a group the six
    took 3.2 s one after the other and take 2.6 s so (binning 0.16 s once, each classifier 0.36 s
    instead of 0.53 s). Any other estimator is scored by ``predict_proba``.
    """
    out: list[np.ndarray] = []
    binned: list[tuple[Any, np.ndarray]] = []  # (binner, x binned by it)
    for estimator in estimators:
        parts = _binned_parts(estimator) if x.shape[0] else None
        if parts is None:
            out.append(positive_probability(estimator, x))
            continue
        trees, calibrator = parts
        shared = next((b for binner, b in binned if _same_bins(binner, trees._bin_mapper)), None)
        if shared is None:
            shared = trees._bin_mapper.transform(trees._preprocess_X(x, reset=False))
            binned.append((trees._bin_mapper, shared))
        out.append(np.asarray(calibrator.predict(_binned_decision(trees, shared)), dtype=float))
    return out


def _binned_parts(estimator: Any) -> tuple[Any, Any] | None:
    """Return (the boosted trees, the calibrator) of a binary ``CalibratedClassifierCV`` over one
    ``HistGradientBoostingClassifier`` that ``predict_proba`` scores as (trees' decision function,
    then the calibrator), else None."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.frozen import FrozenEstimator

    if not isinstance(estimator, CalibratedClassifierCV) or len(estimator.calibrated_classifiers_) != 1:
        return None
    calibrated = estimator.calibrated_classifiers_[0]
    trees = calibrated.estimator
    if isinstance(trees, FrozenEstimator):
        trees = trees.estimator
    if (
        not isinstance(trees, HistGradientBoostingClassifier)
        or list(trees.classes_) != list(estimator.classes_)
        or len(trees.classes_) != 2
        or trees.n_trees_per_iteration_ != 1
        or calibrated.method not in ("sigmoid", "isotonic")
        or len(calibrated.calibrators) != 1
        or not all(hasattr(trees, a) for a in ("_bin_mapper", "_predictors", "_baseline_prediction"))
    ):
        return None
    return trees, calibrated.calibrators[0]


def _same_bins(a: Any, b: Any) -> bool:
    """Whether two fitted binners map every value to the same bin."""
    return a is b or (
        np.array_equal(a.is_categorical_, b.is_categorical_)
        and np.array_equal(a.n_bins_non_missing_, b.n_bins_non_missing_)
        and a.missing_values_bin_idx_ == b.missing_values_bin_idx_
        and len(a.bin_thresholds_) == len(b.bin_thresholds_)
        and all(np.array_equal(s, t) for s, t in zip(a.bin_thresholds_, b.bin_thresholds_, strict=True))
    )


def _binned_decision(trees: Any, binned: np.ndarray) -> np.ndarray:
    """Return ``trees.decision_function(x)`` from x binned by the trees' binner: the baseline and
    each tree's value added in the order ``decision_function`` adds them, so the same numbers.

    This reads the fitted trees' private parts in the pinned scikit-learn (the binner and
    predictors it uses on binned values while fitting); ``tests/test_model_matrix.py`` compares
    the result with ``predict_proba``.
    """
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    missing = trees._bin_mapper.missing_values_bin_idx_
    threads = _openmp_effective_n_threads()
    baseline = np.asarray(trees._baseline_prediction)
    out = np.zeros(binned.shape[0], dtype=baseline.dtype)
    out += baseline.ravel()[0]
    for (predictor,) in trees._predictors:
        out += predictor.predict_binned(binned, missing, threads)
    return out
