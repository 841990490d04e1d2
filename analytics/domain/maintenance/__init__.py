"""Predictive maintenance: which vehicles will come in for maintenance soon.

The modules, lowest first: ``features`` <- ``model`` <- ``scoring`` <- ``persistence`` (fitted models kept, snapshots);
``card`` reads a fitted model.
The names other layers use are exported here."""

from __future__ import annotations

from analytics.domain.maintenance.card import (
    backtest_summary,
    backtest_table,
    calibration_table,
    importance_table,
    weakest_segment,
)
from analytics.domain.maintenance.features import FEATURES, rule_score, vehicle_state
from analytics.domain.maintenance.model import (
    HORIZONS,
    METHODS,
    TARGETS,
    MaintenanceModel,
    Progress,
    fit,
)
from analytics.domain.maintenance.persistence import (
    MaintenanceSnapshot,
    fitted_model,
    load_model,
    save_model,
    snapshot,
)
from analytics.domain.maintenance.scoring import (
    LIST_COLUMNS,
    daily_invitations,
    expected_visits_by_week,
    expected_within,
    invitation_list,
    item_names,
    labelled,
    outlook,
    overdue_counts,
    overdue_items,
    overdue_words,
    score,
)

__all__ = [
    "FEATURES",
    "rule_score",
    "vehicle_state",
    "HORIZONS",
    "METHODS",
    "MaintenanceModel",
    "Progress",
    "TARGETS",
    "fit",
    "LIST_COLUMNS",
    "daily_invitations",
    "expected_visits_by_week",
    "expected_within",
    "invitation_list",
    "item_names",
    "labelled",
    "outlook",
    "overdue_counts",
    "overdue_items",
    "overdue_words",
    "score",
    "MaintenanceSnapshot",
    "fitted_model",
    "load_model",
    "save_model",
    "snapshot",
    "backtest_summary",
    "backtest_table",
    "calibration_table",
    "importance_table",
    "weakest_segment",
]
