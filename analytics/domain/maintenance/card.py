"""The model card: backtest against both rules, calibration, importance and the weakest segment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # scikit-learn loads where a model is fitted or scored, not with the page's kept results
    pass
from analytics.domain.maintenance.model import MaintenanceModel


def backtest_summary(model: MaintenanceModel) -> dict[str, Any]:
    """Return the backtest as plain values: cutoffs, and per horizon the model's and the rule's figures."""
    bt = model.backtest
    targets: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for row in bt.metrics.to_dict("records"):
        figures = {str(k): _plain(v) for k, v in row.items() if k not in ("target", "horizon", "method")}
        by_horizon = targets.setdefault(str(row["target"]), {})
        by_horizon.setdefault(str(row["horizon"]), {})[str(row["method"])] = figures
    return {
        "as_of": model.as_of.isoformat(),
        "backtest_cutoff": bt.cutoff.isoformat(),
        "training_cutoffs": [d.isoformat() for d in bt.training_cutoffs],
        "vehicles": bt.vehicles,
        # the maintenance target (what an invitation is for); "targets" holds both
        "horizons": targets.get("maintenance", {}),
        "targets": targets,
        "due_date_error_days": {k: _plain(v) for k, v in bt.due_error.items()},
        "model_training_cutoffs": [d.isoformat() for d in model.cutoffs],
        "training_rows": model.rows,
        "train_seconds": model.train_seconds,
        "trained_at": model.trained_at.isoformat(),
        "data_version": model.data_version,
        "seed": model.seed,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else round(float(value), 4)
    return value


def backtest_table(
    model: MaintenanceModel, target: str | None = "maintenance", methods: Sequence[str] = ("model", "rule")
) -> pd.DataFrame:
    """Return one row per horizon and method (per target too when ``target`` is None) with ROC AUC,
    PR AUC, top-decile lift, Brier score and calibration error; by default the maintenance target,
    model against the schedule rule."""
    m = model.backtest.metrics
    keep = m["method"].isin(list(methods))
    if target is not None:
        keep &= m["target"] == target
    out = m[keep].reset_index(drop=True)
    return out if target is None else out.drop(columns=["target"])


def calibration_table(model: MaintenanceModel, target: str = "maintenance") -> pd.DataFrame:
    """Return one row per horizon, method and probability bin: mean predicted against observed rate."""
    c = model.backtest.calibration
    return c[c["target"] == target].drop(columns=["target"]).reset_index(drop=True)


def importance_table(model: MaintenanceModel, horizon: int = 30, top: int = 12) -> pd.DataFrame:
    """Return the ``top`` features at ``horizon`` by the drop in ROC AUC when each is shuffled."""
    imp = model.backtest.importance
    return imp[imp["horizon"] == horizon].head(top).reset_index(drop=True)


def weakest_segment(model: MaintenanceModel, horizon: int = 30, min_n: int = 30) -> dict[str, Any] | None:
    """Return the segment (with at least ``min_n`` vehicles) where the model's ROC AUC is lowest."""
    seg = model.backtest.segments
    rows = seg[(seg["horizon"] == horizon) & (seg["segment"] != "all") & (seg["n"] >= min_n)]
    mod = rows[rows["method"] == "model"].dropna(subset=["roc_auc"])
    if mod.empty:
        return None
    worst = mod.sort_values(["roc_auc", "segment"]).iloc[0]
    rule = rows[(rows["method"] == "rule") & (rows["segment"] == worst["segment"])]
    return {
        "segment": str(worst["segment"]),
        "n": int(worst["n"]),
        "model_auc": float(worst["roc_auc"]),
        "rule_auc": float(rule["roc_auc"].iloc[0]) if len(rule) else float("nan"),
    }
