"""Feature matrices made safe for gradient boosting whatever data a store has imported so far."""

from __future__ import annotations

from typing import Any

import numpy as np


def binnable(x: np.ndarray) -> np.ndarray:
    """Return x with every column that holds no value at all set to 0 (a copy when one is changed).

    HistGradientBoosting bins each column from its distinct values and fails ("window shape
    cannot be larger than input array shape") on a column with none: a feature fed only by
    callbacks before any callback was imported, say. A constant column gives no split, so the
    model is the one it would be without the feature, and scoring later rows (which may hold
    values) reads the same trees.
    """
    if x.ndim != 2 or x.shape[0] == 0:
        return x
    empty = np.isnan(x).all(axis=0)
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
