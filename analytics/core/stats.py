"""The significance tests shared by "what changed" (overview, deck) and the themes' rising flags, and
the calibration table of every model card."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def two_proportion_z(x1: int, n1: int, x0: int, n0: int) -> float | None:
    """Return the pooled two-proportion z statistic of x1/n1 against x0/n0; None when a sample is empty
    or both proportions are 0 or 1 (no variance: the test says nothing)."""
    if not n1 or not n0:
        return None
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return (x1 / n1 - x0 / n0) / se if se else None


def poisson_z(x1: int, x0: int) -> float | None:
    """Return the z statistic of two event counts under a Poisson model; None when both are 0."""
    return (x1 - x0) / math.sqrt(x1 + x0) if x1 + x0 else None


def compound_poisson_z(total1: float, squares1: float, total0: float, squares0: float) -> float | None:
    """Return the z statistic of two sums of amounts (revenue) whose events arrive as a Poisson process:
    the variance of each sum is the sum of its squared amounts; None when both are 0."""
    variance = squares1 + squares0
    return (total1 - total0) / math.sqrt(variance) if variance > 0 else None


# The chance beyond one three-sigma limit of a normal distribution: what a p-chart's limit stands for.
THREE_SIGMA_TAIL = 0.5 * math.erfc(3 / math.sqrt(2))


def binomial_tail(x: int, n: int, p: float, lower: bool) -> float:
    """Return the exact chance of ``x`` or fewer (``lower``) or ``x`` or more successes in ``n`` trials at
    rate ``p``: how often chance alone gives a month at least this far from the centre."""
    if lower:
        ks = range(0, min(x, n) + 1)
    else:
        ks = range(max(x, 0), n + 1)
    if p <= 0.0 or p >= 1.0:
        certain = 0 if p <= 0.0 else n
        return 1.0 if certain in ks else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    return min(
        1.0,
        math.fsum(
            math.exp(base - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
            for k in ks
        ),
    )


def calibration_bins(outcome: Any, probability: Any, bins: int = 10) -> pd.DataFrame:
    """Return one row per equal-count bin of predicted probability (lowest first): ``bin`` (1..bins),
    ``n``, mean ``predicted``, ``observed`` share; the one calibration table of every model card.

    Equal counts rather than equal widths: predicted probabilities bunch near 0, where fixed-width
    bins would leave most bins nearly empty and one bin holding most vehicles.
    """
    frame = pd.DataFrame({"y": np.asarray(outcome, dtype=float), "p": np.asarray(probability, dtype=float)})
    if frame.empty:
        return pd.DataFrame(columns=["bin", "n", "predicted", "observed"])
    ranks = frame["p"].rank(method="first")
    frame["bin"] = np.ceil(ranks * bins / len(frame)).astype(int).clip(1, bins)
    table = frame.groupby("bin").agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    return table.reset_index()
