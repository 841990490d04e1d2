"""Fitted models on disk: one per database, as-of date and what the fit read (``model_inputs.key``),
owner-only files in the safe format (``safe_payload``: the estimators through skops, never a
pickle), never trusted unsigned."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from analytics.core import memo, private_files, safe_payload
from analytics.core.config import DATA_DIR
from analytics.core.errors import UserError
from analytics.domain import facts, model_inputs
from analytics.domain.maintenance.features import _database_name, _resolve_as_of, last_visit_date
from analytics.domain.maintenance.model import MODEL_FORMAT, MaintenanceModel, Progress, fit
from analytics.domain.maintenance.scoring import SCORE_COLUMNS, score


def model_dir() -> Path:
    """Return the folder for fitted models (``ANALYTICS_MODEL_DIR`` or data/models, ignored by git)."""
    env = os.environ.get("ANALYTICS_MODEL_DIR")
    return Path(env) if env else DATA_DIR / "models"


def _model_prefix(con: duckdb.DuckDBPyConnection) -> str:
    key = hashlib.sha256(_database_name(con).encode("utf-8")).hexdigest()[:12]
    return f"maintenance-{key}"


# Model files kept per database: the newest few, so that a rollback to the records an earlier
# model was fitted on finds it again; older ones are removed when a model is saved.
KEPT_MODELS = 3


# Model files end so; ``.joblib`` files (pickles) of earlier versions are removed, never read.
MODEL_SUFFIX = ".model"


def model_path(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> Path:
    """Return where the model fitted at ``as_of`` on the records there are now is saved."""
    # Named by what the fit reads, not by the data version: an import of later days keeps the name.
    key = model_inputs.key(con, as_of, MODEL_FORMAT)
    return model_dir() / f"{_model_prefix(con)}-{as_of.isoformat()}-{key}{MODEL_SUFFIX}"


def save_model(con: duckdb.DuckDBPyConnection, model: MaintenanceModel) -> Path:
    """Write the model where ``load_model`` finds it for this database, as-of date and records; return the path."""
    path = model_path(con, model.as_of)
    private_files.private_dir(path.parent)
    # The newest few models of this database stay (this one among them); the others will not be read again.
    others = sorted(
        (p for p in path.parent.glob(f"{_model_prefix(con)}-*{MODEL_SUFFIX}") if p != path),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    stale = others[KEPT_MODELS - 1 :] + sorted(path.parent.glob(f"{_model_prefix(con)}-*.joblib"))
    for old in stale:
        old.unlink(missing_ok=True)
    digest = private_files.write_private(path, safe_payload.pack(model))
    # The checksum goes into the database (on a cursor of its own, outside a caller's read
    # transaction): load_model reads only the file this wrote.
    writer = con.cursor()
    try:
        for old in stale:
            writer.execute("DELETE FROM meta WHERE key = $key", {"key": _checksum_key(old)})
        writer.execute(
            "INSERT OR REPLACE INTO meta VALUES ($key, $sha256)",
            {"key": _checksum_key(path), "sha256": digest},
        )
    except duckdb.Error:
        pass  # a read-only database: the model serves this run and is trained again next time
    finally:
        writer.close()
    return path


def _checksum_key(path: Path) -> str:
    return f"model_sha256:{path.name}"


def load_model(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> MaintenanceModel | None:
    """Return the saved model for this database and as-of date fitted on the records there are now
    up to that date (whatever import brought later ones), or None if there is none."""
    if last_visit_date(con) is None and as_of is None:
        return None
    return _load_path(con, model_path(con, _resolve_as_of(con, as_of)))


# The models read back, by file and checksum: skops rebuilds the 18 classifiers of a group's model
# in seconds, and the earlier months computed ahead (``views.keep_earlier``) score 35 month-ends
# with the same one. A model is never changed once fitted; a file replaced afterwards has another
# checksum recorded, or none, and is read (or refused) afresh.
HELD_MODELS = 2
_held: OrderedDict[tuple[str, str], MaintenanceModel] = OrderedDict()
_held_lock = threading.Lock()


def _load_path(con: duckdb.DuckDBPyConnection, path: Path) -> MaintenanceModel | None:
    """Return the model saved at ``path`` when its checksum is this database's and it loads
    into this program's model format and scikit-learn, else None."""
    if not path.exists():
        return None
    row = con.execute("SELECT value FROM meta WHERE key = $key", {"key": _checksum_key(path)}).fetchone()
    if row is None:
        return None  # no checksum recorded: never read
    key = (str(path), str(row[0]))
    with _held_lock:
        if key in _held:
            _held.move_to_end(key)
            return _held[key]
    model = _read_model(path, str(row[0]))
    if model is not None:
        with _held_lock:
            _held[key] = model
            while len(_held) > HELD_MODELS:
                _held.popitem(last=False)
    return model


def _read_model(path: Path, checksum: str) -> MaintenanceModel | None:
    """Return the model in ``path`` when the file's SHA-256 is ``checksum`` and it is this program's
    model format for this scikit-learn, else None."""
    import sklearn

    data = private_files.read_verified(path, checksum)
    if data is None:
        # Not the file this program wrote for this data version (or no checksum): never read.
        return None
    try:
        model = safe_payload.unpack(data)
    except Exception:
        # A file from another scikit-learn or an interrupted write: retrain rather than fail.
        return None
    if (
        not isinstance(model, MaintenanceModel)
        or model.format != MODEL_FORMAT
        or model.sklearn_version != sklearn.__version__
        or model.fitted is None
    ):
        return None
    return model


def fitted_model(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None, *, progress: Progress | None = None
) -> MaintenanceModel:
    """Return the saved model for these records (``load_model``), training and saving one first when there is none."""
    model = load_model(con, as_of)
    if model is None:
        model = fit(con, as_of, progress=progress)
        save_model(con, model)
    return model


def current_scores(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Return the active base scored by this data version's model (trained and saved if there is none)."""
    return score(con, fitted_model(con))


@dataclass
class MaintenanceSnapshot:
    """Everything the maintenance page shows for one as-of date: the scored base and the model card."""

    as_of: dt.date
    scores: pd.DataFrame  # score() rows, most likely maintenance visitor first; empty without a model
    model: MaintenanceModel | None  # the card: training and backtest, no estimators
    note: str | None  # why there is no model, when there is none

    def of_stores(self, stores: Sequence[str]) -> MaintenanceSnapshot:
        """Return the snapshot of ``stores``' vehicles: the group's rows of those stores, in order."""
        chosen = self.scores[self.scores["store"].isin(list(stores))].reset_index(drop=True)
        return replace(self, scores=chosen)


def page_as_of(con: duckdb.DuckDBPyConnection, month_end: dt.date) -> dt.date:
    """Return the date the page scores at for a month: its last day, or the last data day when earlier."""
    last = last_visit_date(con)
    return month_end if last is None else min(month_end, last)


def is_saved(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> bool:
    """Return whether a model fitted at ``as_of`` on the records there are now is saved with its
    checksum (what ``load_model`` looks for), without reading it."""
    return _saved(con, model_path(con, as_of))


def _saved(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    if not path.is_file():
        return False
    row = con.execute("SELECT 1 FROM meta WHERE key = $key", {"key": _checksum_key(path)}).fetchone()
    return row is not None


def _newest_saved(con: duckdb.DuckDBPyConnection) -> model_inputs.Scorer | None:
    """Return the day and file name of this database's newest saved model, or None."""
    prefix = _model_prefix(con)
    paths = sorted(
        model_dir().glob(f"{prefix}-*{MODEL_SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for path in paths:
        try:
            day = dt.date.fromisoformat(path.name[len(prefix) + 1 : len(prefix) + 11])
        except ValueError:
            continue
        if _saved(con, path):
            return day, path.name
    return None


def scoring_model(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> model_inputs.Scorer:
    """Return the day and file name of the maintenance model that scores ``as_of``: the one fitted
    at ``facts.model_as_of`` on the records there are now, or, until ``views.refit`` fits it after
    an import, the newest one saved (``model_inputs.scoring_model``)."""
    wanted = facts.model_as_of(con, as_of)
    path = model_path(con, wanted)
    if _saved(con, path):
        return wanted, path.name
    return model_inputs.scoring_model((wanted, path.name), False, _newest_saved(con))


@memo.carried_while(model_inputs.scored_through(scoring_model))
def snapshot(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, stores: Sequence[str] | None = None
) -> MaintenanceSnapshot:
    """Return the active base at ``as_of`` (``stores``' vehicles, all when None) scored by this data
    version's model (trained on every store at the end of the month the pages open on,
    ``facts.model_as_of``, and saved; until ``views.refit`` has fitted that one after an import of
    a new month, the newest saved: ``scoring_model``; its card's ``as_of`` says when), with the model card; no
    model and the reason when the history is too short. A store's rows are the group's rows of
    that store: one model for the group, only the chosen vehicles scored, or the kept group
    snapshot of that date filtered when there is one (the same rows, without the vehicle state's
    queries over every store's base: ``memo.kept``, the one a rebuild has just computed or the one
    kept for every month by ``views.keep_earlier``)."""
    if stores:
        found, group = memo.kept(con, snapshot, as_of, None)
        if found and isinstance(group, MaintenanceSnapshot):
            return group.of_stores(stores)
    try:
        day, name = scoring_model(con, as_of)
        model = _load_path(con, model_dir() / name) or fitted_model(con, day)
    except UserError as exc:
        return MaintenanceSnapshot(
            as_of=as_of, scores=pd.DataFrame(columns=list(SCORE_COLUMNS)), model=None, note=str(exc)
        )
    scores = score(con, model, as_of, hindsight=True, stores=stores)
    return MaintenanceSnapshot(as_of=as_of, scores=scores, model=model.card(), note=None)
