"""Fitted models replaced on request: the maintenance model retrained from the page."""

from __future__ import annotations

import datetime as dt

import duckdb

from analytics.domain.maintenance import (
    MaintenanceModel,
    MaintenanceSnapshot,
    Progress,
    fit,
    save_model,
    score,
    snapshot,
)
from analytics.services import marts
from analytics.store import db


def retrain(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, *, progress: Progress | None = None
) -> MaintenanceModel:
    """Return a model fitted afresh at ``as_of``; it replaces the saved one and the kept snapshot."""
    model = fit(con, as_of, progress=progress)
    save_model(con, model)
    shot = MaintenanceSnapshot(as_of=as_of, scores=score(con, model, as_of), model=model.card(), note=None)
    marts.store(con, marts.call_of(snapshot, as_of), db.data_version(con), shot, model.train_seconds)
    return model
