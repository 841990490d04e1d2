"""Feature matrices made safe for gradient boosting whatever data a store has imported so far."""

from __future__ import annotations

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
