"""Predictive maintenance: each active vehicle's odometer trend, the items due by the schedule, and
the probability of a maintenance visit within 30, 60 and 90 days from a calibrated scikit-learn
model, backtested against the schedule rule it has to beat.

Grain: one row per vehicle in the active base at an as-of date. Every figure at a date D comes
from records dated on or before D only, so a model trained at past dates sees exactly what it
would have seen then. The schedule (intervals, items, the next-due-date rule) lives in
``analytics.domain.schedule``; this module applies it with a km-per-day estimate that survives keying
errors in the odometer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import joblib
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics.core import private_files
from analytics.core.config import DATA_DIR, settings
from analytics.core.errors import UserError
from analytics.core.i18n import text
from analytics.domain import schedule
from analytics.store import db, queries

if TYPE_CHECKING:  # scikit-learn loads where a model is fitted or scored, not with the page's kept results
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.isotonic import IsotonicRegression

HORIZONS: tuple[int, ...] = (30, 60, 90)
# What the model predicts: a maintenance visit (首保/定保/保养: what an invitation is for) and a
# visit of any kind (what the "expected visits" figures of the workshop count).
TARGETS: tuple[str, ...] = ("maintenance", "any")
# The backtest's methods: the model and the two rules it has to beat (schedule, own rhythm).
METHODS: tuple[str, ...] = ("model", "rule", "rhythm")
MODEL_FORMAT = 2
FIRST_MAINTENANCE = "first_maintenance"
REACHABILITY: tuple[str, ...] = ("reachable", "untried", "hard_to_reach", "no_phone")

# Model inputs, all known at the snapshot date; the order is the fitted model's column order.
# The last two are categories (car model, type of the last visit); the others are numbers.
FEATURES: tuple[str, ...] = (
    "days_to_due",
    "rhythm_days_to_due",
    "due_fraction",
    "km_since_service",
    "days_since_service",
    "km_per_day",
    "km_now",
    "odometer_readings",
    "trend_from_fleet",
    "age_days",
    "new_car",
    "first_maintenance_done",
    "warranty_active",
    "days_since_visit",
    "visits",
    "visits_365",
    "maintenance_visits",
    "maintenance_gap_days",
    "gap_ratio",
    "repairs_365",
    "body_paint_730",
    "spend_730",
    "appointment_share",
    "callback_attempts",
    "last_reached",
    "last_score",
    "complaints_730",
    "items_due_count",
    "month_of_year",
    "car_model",
    "last_service_type",
)
CATEGORICAL: tuple[str, ...] = ("car_model", "last_service_type")
# Directions known beforehand (+1: a higher value never lowers the chance of a visit; -1: never
# raises it). The rest are left free: a long-overdue car is as likely lapsed as about to come.
MONOTONE: dict[str, int] = {"visits_365": 1, "appointment_share": 1, "complaints_730": -1}
# Car models get codes in order of frequency; the rarest beyond this count share "unknown".
MAX_CAR_MODELS = 60

# Backtest segments where a model is often weak; each is a rule on the snapshot's columns.
SEGMENTS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "all": lambda f: pd.Series(True, index=f.index),
    "new_car": lambda f: f["new_car"] > 0,
    "one_reading": lambda f: f["odometer_readings"] < 2,
    "lapsed": lambda f: f["days_since_visit"] > 365,
    "regular": lambda f: f["maintenance_visits"] >= 3,
}

Progress = Callable[[float, str], None]


def _quiet(fraction: float, step: str) -> None:
    return None


def _config() -> dict[str, Any]:
    cfg = settings().get("maintenance", {})
    return {
        "training_cutoffs": int(cfg.get("training_cutoffs", 12)),
        "cutoff_step_days": int(cfg.get("cutoff_step_days", 30)),
        "min_history_days": int(cfg.get("min_history_days", 365)),
        "max_km_per_day": float(cfg.get("max_km_per_day", 400)),
        "default_km_per_day": float(cfg.get("default_km_per_day", 40)),
        "seed": int(cfg.get("seed", 0)),
        "rule_overdue_days": float(cfg.get("rule_overdue_days", 30)),
        "threads": int(cfg.get("threads", 1)),
        "calibration": str(cfg.get("calibration", "sigmoid")),
        "max_training_rows": int(cfg.get("max_training_rows", 200_000)),
    }


def _base_days() -> int:
    return int(settings().get("churn", {}).get("base_days", 730))


def last_visit_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """Return the latest visit date in the work orders (the default as-of date), or None when empty."""
    row = con.execute("SELECT max(visit_date) FROM service_orders").fetchone()
    return row[0] if row and row[0] else None


def _resolve_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date:
    if as_of is not None:
        return as_of
    last = last_visit_date(con)
    if last is None:
        raise UserError("There are no work orders yet; import service records or build the demo first.")
    return last


# --- the vehicle at a date: odometer trend, schedule, rule ----------------------------------------


def vehicle_state(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Return one row per active-base vehicle at ``as_of``: km per day, estimated km now, km and days
    since the last maintenance, the schedule's due date, items due and the rule score, from records
    dated on or before ``as_of`` only."""
    cfg = _config()
    history = queries.run(con, "maintenance_vehicle_history", {"as_of": as_of, "base_days": _base_days()})
    trend = queries.run(
        con, "maintenance_odometer_trend", {"as_of": as_of, "max_km_per_day": cfg["max_km_per_day"]}
    )
    visits = queries.run(con, "maintenance_visits", {"as_of": as_of})
    state = history.merge(trend, on="vin", how="left")
    return _with_schedule(state, visits, as_of, cfg)


def _with_schedule(
    state: pd.DataFrame, visits: pd.DataFrame, as_of: dt.date, cfg: dict[str, Any]
) -> pd.DataFrame:
    out = state.copy()
    known = out["km_per_day"].to_numpy(dtype=float)
    finite = known[np.isfinite(known)]
    fleet = float(np.median(finite)) if finite.size else cfg["default_km_per_day"]
    from_fleet = ~np.isfinite(known)
    kmpd = np.where(from_fleet, fleet, known)
    km_now = out["km_now"].to_numpy(dtype=float)
    # One reading and no purchase date: project that reading at the fleet's pace.
    projected = out["last_reading_km"].to_numpy(dtype=float) + kmpd * out["days_since_reading"].to_numpy(
        dtype=float
    )
    out["km_per_day"] = kmpd
    out["trend_from_fleet"] = from_fleet.astype(float)
    out["km_now"] = np.where(np.isfinite(km_now), km_now, projected)
    out["as_of"] = pd.Timestamp(as_of)
    for name, values in _schedule_plan(out, visits, as_of).items():
        out[name] = values
    gap = out["maintenance_gap_days"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["gap_ratio"] = np.where(gap > 0, out["days_since_service"].to_numpy(dtype=float) / gap, np.nan)
    # The owner's own rhythm: next maintenance one median interval after the last one (two or more
    # maintenance visits); the schedule's due date for the others.
    since_maint = (pd.Timestamp(as_of) - pd.to_datetime(out["last_maintenance"])).dt.days.to_numpy(
        dtype=float
    )
    own = np.isfinite(gap) & (gap > 0) & np.isfinite(since_maint)
    out["rhythm_days_to_due"] = np.where(own, gap - since_maint, out["days_to_due"].to_numpy(dtype=float))
    churn_cfg = settings().get("churn", {})
    age = out["age_days"].to_numpy(dtype=float)
    in_warranty = (age <= 365.25 * float(churn_cfg.get("warranty_years", 3))) & (
        out["km_now"].to_numpy(dtype=float) <= float(churn_cfg.get("warranty_km", 100000))
    )
    out["warranty_active"] = np.where(np.isfinite(age), in_warranty.astype(float), np.nan)
    out["first_maintenance_done"] = out["first_maintenance_done"].astype(float)
    out["month_of_year"] = float(as_of.month)
    out["last_reached"] = out["last_reached"].astype(float)
    out["reachability"] = _reachability(out)
    return out


def _schedule_plan(state: pd.DataFrame, visits: pd.DataFrame, as_of: dt.date) -> dict[str, Any]:
    """Apply the schedule: the rule's due date, and each item replayed over the maintenance visits."""
    kmpd = state["km_per_day"].to_numpy(dtype=float)
    km_now = state["km_now"].to_numpy(dtype=float)
    age = state["age_days"].to_numpy(dtype=float)
    since_first = state["days_since_first_visit"].to_numpy(dtype=float)
    has_purchase = np.isfinite(age)
    # The history is complete when the car was bought inside the data or its first maintenance is
    # on record; otherwise the replay starts at the first visit we know of, assuming the items
    # were in order then (starting at purchase would call every item of an old car overdue).
    complete = has_purchase & (
        state["first_maintenance_done"].to_numpy(dtype=bool)
        | (age <= state["days_since_data_start"].to_numpy(dtype=float))
    )
    start_ago = np.where(complete, age, since_first)
    start_km = np.where(complete, 0.0, np.clip(km_now - kmpd * since_first, 0, None))
    ago, km = _visit_grid(state, visits, kmpd, km_now)

    items = schedule.items()
    routine = schedule.routine_maintenance()
    done_ago = {it.key: start_ago.copy() for it in items}
    done_km = {it.key: start_km.copy() for it in items}
    for j in range(ago.shape[1]):
        a, m = ago[:, j], km[:, j]
        visited = np.isfinite(a)
        for it in items:
            # The workshop does an item at a visit once it is in its range, or when it would run past
            # the range's end before the next routine visit.
            hit = visited & (it.routine | _reached(it, done_ago[it.key] - a, m - done_km[it.key], routine))
            done_ago[it.key] = np.where(hit, a, done_ago[it.key])
            done_km[it.key] = np.where(hit, m, done_km[it.key])

    last_maintenance = state["last_maintenance"]
    new_car = last_maintenance.isna().to_numpy() & complete
    # The rule sees the vehicle's own pace only, as the due-maintenance KPI does.
    trend_kmpd = np.where(state["trend_from_fleet"].to_numpy(dtype=float) > 0, np.nan, kmpd)
    since_maint = (pd.Timestamp(as_of) - pd.to_datetime(last_maintenance)).dt.days.to_numpy(dtype=float)
    days_to_due = schedule.days_to_due(since_maint, age, trend_kmpd)
    due_dates = pd.Timestamp(as_of) + pd.to_timedelta(days_to_due, unit="D")
    maintained = np.isfinite(since_maint)
    routine_key = next((it.key for it in items if it.routine), None)
    if routine_key is not None:
        km_since = km_now - done_km[routine_key]
    else:
        km_since = km_now - start_km
    days_since = np.where(maintained, since_maint, start_ago)
    first = schedule.first_maintenance()
    interval_days = np.where(new_car, first.days, routine.days)
    interval_km = np.where(new_car, first.km, routine.km)
    fraction = np.fmax(days_since / interval_days, km_since / interval_km)

    at = np.clip(np.nan_to_num(days_to_due, nan=0.0), 0, None)
    codes: list[list[str]] = [[FIRST_MAINTENANCE] if flag else [] for flag in new_car]
    # How far past its interval each due item is at the as-of date: (code, km over, days over).
    overdue: list[list[tuple[str, float, float]]] = [
        [(FIRST_MAINTENANCE, km_now[i] - first.km, age[i] - first.days)] if flag else []
        for i, flag in enumerate(new_car)
    ]
    for it in items:
        if it.routine:
            flag = ~new_car
            km_over, days_over = km_since - routine.km, days_since - routine.days
        else:
            flag = _reached(it, done_ago[it.key] + at, km_now + kmpd * at - done_km[it.key], None)
            km_over = km_now - done_km[it.key] - it.km[0] if it.km else np.full(len(flag), np.nan)
            days_over = done_ago[it.key] - it.days[0] if it.days else np.full(len(flag), np.nan)
        for i in np.flatnonzero(flag):
            codes[i].append(it.key)
            overdue[i].append((it.key, float(km_over[i]), float(days_over[i])))
    return {
        "new_car": new_car.astype(float),
        "km_since_service": km_since,
        "days_since_service": days_since,
        "days_to_due": days_to_due,
        "due_fraction": fraction,
        "rule_due_date": due_dates,
        "rule_due_km": km_now + kmpd * at,
        "items_due": [",".join(c) for c in codes],
        "items_overdue": overdue,
        "items_due_count": np.array([float(len(c)) for c in codes]),
    }


def _visit_grid(
    state: pd.DataFrame, visits: pd.DataFrame, kmpd: np.ndarray, km_now: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (days ago, km) of each vehicle's maintenance visits as rows of a padded grid, oldest first."""
    n = len(state)
    pos = pd.Series(np.arange(n), index=state["vin"].to_numpy())
    v = visits[visits["vin"].isin(pos.index)]
    if v.empty:
        return np.full((n, 0), np.nan), np.full((n, 0), np.nan)
    rows = pos.loc[v["vin"]].to_numpy()
    order = v.groupby("vin", sort=False).cumcount().to_numpy()
    width = int(order.max()) + 1
    ago, km = np.full((n, width), np.nan), np.full((n, width), np.nan)
    days_ago = v["days_ago"].to_numpy(dtype=float)
    reading = v["km"].to_numpy(dtype=float)
    fitted = np.clip(km_now[rows] - kmpd[rows] * days_ago, 0, None)
    # A reading far off the vehicle's own trend is a keying error: trust the trend there.
    plausible = np.abs(reading - fitted) <= np.maximum(2000.0, 0.25 * fitted)
    ago[rows, order] = days_ago
    km[rows, order] = np.where(np.isfinite(reading) & plausible, reading, fitted)
    return ago, km


def _reached(
    item: schedule.Item, days: np.ndarray, km: np.ndarray, step: schedule.Interval | None
) -> np.ndarray:
    """Return where an item is due after ``days`` and ``km``: in its range, or past its end by the next step."""
    flag = np.zeros(len(days), dtype=bool)
    with np.errstate(invalid="ignore"):
        if item.days:
            flag |= days >= item.days[0]
            if step is not None:
                flag |= days + step.days > item.days[1]
        if item.km:
            flag |= km >= item.km[0]
            if step is not None:
                flag |= km + step.km > item.km[1]
    return flag


def _reachability(state: pd.DataFrame) -> list[str]:
    """Return one code per vehicle: no_phone, hard_to_reach, reachable or untried."""
    out: list[str] = []
    for phone_ok, unreached, attempts, last in zip(
        state["phone_ok"],
        state["last_two_unreached"],
        state["callback_attempts"],
        state["last_reached"],
        strict=True,
    ):
        if not bool(phone_ok):
            out.append("no_phone")
        elif attempts == 0:
            out.append("untried")
        elif bool(unreached) or not last:
            out.append("hard_to_reach")
        else:
            out.append("reachable")
    return out


def rule_score(days_to_due: np.ndarray, horizon: int) -> np.ndarray:
    """Return the schedule rule's score for a visit within ``horizon`` days: 1 when the due date falls
    in the horizon (or at most ``rule_overdue_days`` before today), falling with the distance in
    months outside it; 0 where the schedule cannot place the vehicle."""
    overdue = _config()["rule_overdue_days"]
    days = np.asarray(days_to_due, dtype=float)
    distance = np.where(days < -overdue, -overdue - days, np.where(days > horizon, days - horizon, 0.0))
    return np.where(np.isfinite(days), 1.0 / (1.0 + distance / 30.0), 0.0)


def next_visits(con: duckdb.DuckDBPyConnection, as_of: dt.date, until: dt.date) -> pd.DataFrame:
    """Return one row per vehicle with a visit in (as_of, until]: days to the first maintenance visit
    (``days_to_next_visit``, NaN without one) and to the first visit of any kind (``days_to_next_any``)."""
    return queries.run(
        con,
        "maintenance_next_visit",
        {"as_of": as_of, "until": until, "service_types": list(schedule.MAINTENANCE_TYPES)},
    )


def _snapshot(con: duckdb.DuckDBPyConnection, cutoff: dt.date, until: dt.date) -> pd.DataFrame:
    """Return the vehicle state at ``cutoff`` with its outcomes up to ``until``: days to the next
    maintenance visit and to the next visit of any kind."""
    state = vehicle_state(con, cutoff)
    outcome = next_visits(con, cutoff, until)
    frame = state.merge(outcome, on="vin", how="left")
    frame["cutoff"] = pd.Timestamp(cutoff)
    return frame


_OUTCOME = {"maintenance": "days_to_next_visit", "any": "days_to_next_any"}


def _labels(frame: pd.DataFrame, horizon: int, target: str = "maintenance") -> np.ndarray:
    return (frame[_OUTCOME[target]].to_numpy(dtype=float) <= horizon).astype(int)


def _vocabulary(frame: pd.DataFrame) -> tuple[str, ...]:
    """Return the car models to give codes to, most frequent first (ties by name)."""
    counts = frame["model"].dropna().astype(str).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(str(name) for name, _ in ordered[:MAX_CAR_MODELS])


def _matrix(frame: pd.DataFrame, vocab: Sequence[str]) -> np.ndarray:
    numeric = frame[[f for f in FEATURES if f not in CATEGORICAL]].to_numpy(dtype=float)
    models = pd.Categorical(frame["model"], categories=list(vocab)).codes.astype(float)
    kinds = pd.Categorical(frame["last_service_type"], categories=list(db.SERVICE_TYPES)).codes.astype(float)
    return np.column_stack(
        [numeric, np.where(models < 0, np.nan, models), np.where(kinds < 0, np.nan, kinds)]
    )


def _rule_days(frame: pd.DataFrame, method: str) -> np.ndarray:
    """Return each vehicle's days to its due date by a rule: the schedule, or the owner's own rhythm."""
    column = "days_to_due" if method == "rule" else "rhythm_days_to_due"
    return frame[column].to_numpy(dtype=float)


# --- the model --------------------------------------------------------------------------------


@dataclass
class Backtest:
    """Quality of the model and of both rules at the latest complete cutoff, for both targets."""

    cutoff: dt.date
    training_cutoffs: list[dt.date]
    vehicles: int
    metrics: pd.DataFrame  # one row per target, horizon and method (model, rule, rhythm)
    calibration: pd.DataFrame  # one row per target, horizon, method and probability bin
    importance: pd.DataFrame  # one row per horizon and feature: drop in ROC AUC when shuffled (maintenance)
    segments: pd.DataFrame  # one row per segment, horizon and method: ROC AUC there (maintenance)
    due_error: dict[str, float]  # predicted due date against the actual next maintenance visit, in days


@dataclass
class Fitted:
    """Calibrated classifiers per target and horizon with the car models they know, and the calibrated rules."""

    vocab: tuple[str, ...]
    classifiers: dict[tuple[str, int], Any]
    rules: dict[tuple[str, str, int], IsotonicRegression]
    empty: tuple[int, ...] = ()  # input columns with no value at all in training, read as 0

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the input matrix the classifiers were fitted on."""
        x = _matrix(frame, self.vocab)
        if self.empty:
            x[:, list(self.empty)] = 0.0
        return x

    def predict(self, frame: pd.DataFrame, target: str = "maintenance") -> np.ndarray:
        """Return an (n, 3) array of visit probabilities by 30, 60 and 90 days, never decreasing."""
        if frame.empty:
            return np.zeros((0, len(HORIZONS)))
        x = self.matrix(frame)
        probs = np.column_stack([self.classifiers[(target, h)].predict_proba(x)[:, 1] for h in HORIZONS])
        return np.maximum.accumulate(probs, axis=1)


@dataclass
class MaintenanceModel:
    """A fitted model: a calibrated classifier per target and horizon, the calibrated rules, and its
    backtest. ``fitted`` is None in a model card (see ``card``)."""

    as_of: dt.date
    database: str
    data_version: int
    seed: int
    trained_at: dt.datetime
    cutoffs: list[dt.date]
    rows: int
    fitted: Fitted | None
    backtest: Backtest
    train_seconds: float
    sklearn_version: str = ""
    format: int = MODEL_FORMAT

    def card(self) -> MaintenanceModel:
        """Return what the page shows of the model (training and backtest) without the fitted
        estimators, so reading a kept snapshot back does not load scikit-learn."""
        return replace(self, fitted=None)


def _classifier(seed: int, rows: int) -> HistGradientBoostingClassifier:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=80,
        learning_rate=0.1,
        max_leaf_nodes=15,
        max_bins=63,
        # Small stores still split; large ones do not chase single vehicles.
        min_samples_leaf=max(5, min(40, rows // 200)),
        l2_regularization=1.0,
        early_stopping=False,
        categorical_features=[name in CATEGORICAL for name in FEATURES],
        monotonic_cst=[MONOTONE.get(name, 0) for name in FEATURES],
        random_state=seed,
    )


def _fit_horizons(frames: dict[dt.date, pd.DataFrame], seed: int) -> Fitted:
    """Fit a classifier per target and horizon on all cutoffs but the latest, calibrate it on the latest."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.isotonic import IsotonicRegression

    latest = max(frames)
    cap = _config()["max_training_rows"]
    fit_frame = pd.concat([f for d, f in frames.items() if d != latest], ignore_index=True)
    calib_frame = frames[latest]
    # A group of stores has millions of snapshots; a seeded sample keeps training within minutes.
    if len(fit_frame) > cap:
        fit_frame = fit_frame.sample(n=cap, random_state=seed).sort_index()
    if len(calib_frame) > cap // 4:
        calib_frame = calib_frame.sample(n=cap // 4, random_state=seed).sort_index()
    everything = pd.concat(frames.values(), ignore_index=True)
    if len(everything) > cap:
        everything = everything.sample(n=cap, random_state=seed).sort_index()
    vocab = _vocabulary(fit_frame)
    raw = _matrix(fit_frame, vocab)
    # A column with no value at all (no callbacks imported yet, no purchase dates) cannot be binned.
    empty = tuple(int(i) for i in np.flatnonzero(~np.isfinite(raw).any(axis=0)))
    fitted = Fitted(vocab=vocab, classifiers={}, rules={}, empty=empty)
    x_fit, x_cal = fitted.matrix(fit_frame), fitted.matrix(calib_frame)
    for target in TARGETS:
        for horizon in HORIZONS:
            y_fit, y_cal = _labels(fit_frame, horizon, target), _labels(calib_frame, horizon, target)
            # The calibration splits the latest date in five (stratified): it needs both kinds there,
            # and five of the commoner kind, or scikit-learn refuses to split.
            counts = np.bincount(np.asarray(y_cal, dtype=int), minlength=2)
            if len(set(y_fit)) < 2 or min(counts) < 1 or max(counts) < 5:
                raise UserError(
                    "Too little history to train: the training dates need both vehicles that came in for "
                    "maintenance and vehicles that did not. Import more months of work orders."
                )
            base = _classifier(seed, len(y_fit)).fit(x_fit, y_fit)
            # Calibrate on a later date than the fit, as the model will be used: on the future.
            calibrated = CalibratedClassifierCV(FrozenEstimator(base), method=_config()["calibration"])
            fitted.classifiers[(target, horizon)] = calibrated.fit(x_cal, y_cal)
            y_all = _labels(everything, horizon, target)
            for method in METHODS[1:]:
                fitted.rules[(method, target, horizon)] = IsotonicRegression(
                    out_of_bounds="clip", y_min=0.0, y_max=1.0
                ).fit(rule_score(_rule_days(everything, method), horizon), y_all)
    return fitted


def _due_in_days(probs: np.ndarray) -> np.ndarray:
    """Return the day the visit probability reaches one half (linear between horizons); NaN beyond 90."""
    days = np.array((0, *HORIZONS), dtype=float)
    curve = np.column_stack([np.zeros(len(probs)), probs])
    out = np.full(len(probs), np.nan)
    for i in range(len(HORIZONS)):
        lo, hi = curve[:, i], curve[:, i + 1]
        crossing = np.isnan(out) & (hi >= 0.5) & (lo < 0.5)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = (0.5 - lo) / (hi - lo)
        out = np.where(crossing, days[i] + share * (days[i + 1] - days[i]), out)
    return out


def _cutoffs(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> tuple[dt.date, list[dt.date], list[dt.date]]:
    """Return the backtest cutoff, the backtest's training cutoffs and the final model's cutoffs."""
    cfg = _config()
    row = con.execute(
        "SELECT min(visit_date) FROM service_orders WHERE visit_date <= $d", {"d": as_of}
    ).fetchone()
    if not row or row[0] is None:
        raise UserError(f"There are no work orders on or before {as_of}; choose a later --as-of date.")
    earliest = row[0] + dt.timedelta(days=cfg["min_history_days"])
    longest = dt.timedelta(days=max(HORIZONS))
    step = dt.timedelta(days=cfg["cutoff_step_days"])
    backtest_cutoff = as_of - longest
    final = [backtest_cutoff - k * step for k in range(cfg["training_cutoffs"])]
    training = [backtest_cutoff - longest - k * step for k in range(cfg["training_cutoffs"])]
    final = sorted(d for d in final if d >= earliest)
    training = sorted(d for d in training if d >= earliest)
    if len(training) < 2:
        months = (cfg["min_history_days"] + 2 * max(HORIZONS) + cfg["cutoff_step_days"]) // 30 + 1
        raise UserError(
            f"Training needs about {months} months of work orders before {as_of}; the data start on "
            f"{row[0]}. Import more history or choose a later --as-of date."
        )
    return backtest_cutoff, training, final


def _load_openmp() -> None:
    """Load scikit-learn's compiled trees before ``threadpool_limits``: it limits only the thread
    pools already loaded, and trees on unlimited OpenMP threads crawl on a busy machine."""
    import sklearn.ensemble  # noqa: F401


def fit(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> MaintenanceModel:
    """Return a model trained on snapshots before ``as_of`` (default: the last visit date), with its
    backtest at the latest cutoff whose 90-day outcome is complete; deterministic for a seed."""
    _load_openmp()
    with threadpool_limits(limits=_config()["threads"]):
        return _fit(con, as_of, seed, progress or _quiet)


def _fit(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None, seed: int | None, report: Progress
) -> MaintenanceModel:
    import sklearn

    started = time.perf_counter()
    as_of = _resolve_as_of(con, as_of)
    seed = _config()["seed"] if seed is None else seed
    backtest_cutoff, training, final = _cutoffs(con, as_of)
    dates = sorted({*training, *final, backtest_cutoff})
    frames: dict[dt.date, pd.DataFrame] = {}
    for i, cutoff in enumerate(dates):
        report(0.6 * i / len(dates), "snapshots")
        # Outcomes are read up to the date the model is used at, never later: a training date's
        # label window closes on or before ``as_of`` (the backtest's on or before its cutoff + 90).
        until = min(as_of, cutoff + dt.timedelta(days=max(HORIZONS)))
        frames[cutoff] = _snapshot(con, cutoff, until)
    report(0.6, "backtest")
    backtest_fit = _fit_horizons({d: frames[d] for d in training}, seed)
    report(0.7, "importance")
    backtest = _evaluate(frames[backtest_cutoff], backtest_fit, seed)
    backtest.training_cutoffs = training
    report(0.85, "final")
    fitted = _fit_horizons({d: frames[d] for d in final}, seed)
    report(1.0, "done")
    return MaintenanceModel(
        as_of=as_of,
        database=_database_name(con),
        data_version=db.data_version(con),
        seed=seed,
        trained_at=dt.datetime.now().replace(microsecond=0),
        cutoffs=final,
        rows=int(sum(len(frames[d]) for d in final)),
        fitted=fitted,
        backtest=backtest,
        train_seconds=round(time.perf_counter() - started, 2),
        sklearn_version=sklearn.__version__,
    )


def _lift_top_decile(y: np.ndarray, score: np.ndarray, order: np.ndarray) -> float:
    """Return the visit rate in the top tenth by score over the overall rate (ties broken by ``order``)."""
    if y.sum() == 0:
        return float("nan")
    ranked = np.lexsort((order, -score))
    top = ranked[: max(1, int(np.ceil(len(y) / 10)))]
    return float(y[top].mean() / y.mean())


def _calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    index = np.minimum((p * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": index, "predicted": p, "observed": y})
    out = frame.groupby("bin", as_index=False).agg(
        predicted=("predicted", "mean"), observed=("observed", "mean"), n=("observed", "size")
    )
    return out


def _evaluate(frame: pd.DataFrame, fitted: Fitted, seed: int) -> Backtest:
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    vin_order = frame["vin"].rank(method="first").to_numpy()
    metrics, calibration, segments, importance = [], [], [], []
    probs_by_target = {target: fitted.predict(frame, target) for target in TARGETS}
    for target in TARGETS:
        probs = probs_by_target[target]
        for k, horizon in enumerate(HORIZONS):
            y = _labels(frame, horizon, target)
            scored = {"model": (probs[:, k], probs[:, k])}
            for method in METHODS[1:]:
                by_rule = rule_score(_rule_days(frame, method), horizon)
                scored[method] = (by_rule, fitted.rules[(method, target, horizon)].predict(by_rule))
            two_classes = len(set(y)) == 2
            for method, (rank_score, prob) in scored.items():
                bins = _calibration_bins(y, prob)
                ece = float((bins["n"] * (bins["predicted"] - bins["observed"]).abs()).sum() / max(len(y), 1))
                metrics.append(
                    {
                        "target": target,
                        "horizon": horizon,
                        "method": method,
                        "n": len(y),
                        "visits": int(y.sum()),
                        "base_rate": float(y.mean()) if len(y) else float("nan"),
                        "roc_auc": float(roc_auc_score(y, rank_score)) if two_classes else float("nan"),
                        "pr_auc": float(average_precision_score(y, rank_score))
                        if two_classes
                        else float("nan"),
                        "lift_top_decile": _lift_top_decile(y, rank_score, vin_order),
                        "brier": float(brier_score_loss(y, prob)) if len(y) else float("nan"),
                        "calibration_error": ece,
                    }
                )
                calibration.append(bins.assign(target=target, horizon=horizon, method=method))
                if target != "maintenance":
                    continue
                for segment, rule in SEGMENTS.items():
                    mask = rule(frame).to_numpy()
                    ys = y[mask]
                    auc = float(roc_auc_score(ys, rank_score[mask])) if len(set(ys)) == 2 else float("nan")
                    segments.append(
                        {
                            "segment": segment,
                            "horizon": horizon,
                            "method": method,
                            "n": int(mask.sum()),
                            "visits": int(ys.sum()),
                            "roc_auc": auc,
                        }
                    )
            if target == "maintenance" and two_classes:
                # A sample keeps the shuffling affordable; the ranking of features is stable at this size.
                sample = frame.sample(n=1000, random_state=seed) if len(frame) > 1000 else frame
                result = permutation_importance(
                    fitted.classifiers[(target, horizon)],
                    fitted.matrix(sample),
                    _labels(sample, horizon, target),
                    scoring="roc_auc",
                    n_repeats=2,
                    random_state=seed,
                )
                importance.append(
                    pd.DataFrame(
                        {"horizon": horizon, "feature": FEATURES, "importance": result.importances_mean}
                    )
                )
    return Backtest(
        cutoff=pd.Timestamp(frame["cutoff"].iloc[0]).date() if len(frame) else dt.date.min,
        training_cutoffs=[],
        vehicles=len(frame),
        metrics=pd.DataFrame(metrics),
        calibration=pd.concat(calibration, ignore_index=True)[
            ["target", "horizon", "method", "bin", "predicted", "observed", "n"]
        ],
        importance=(
            pd.concat(importance, ignore_index=True).sort_values(
                ["horizon", "importance", "feature"], ascending=[True, False, True], ignore_index=True
            )
            if importance
            else pd.DataFrame(columns=["horizon", "feature", "importance"])
        ),
        segments=pd.DataFrame(segments),
        due_error=_due_error(frame, probs_by_target["maintenance"]),
    )


def _due_error(frame: pd.DataFrame, probs: np.ndarray) -> dict[str, float]:
    """Return the error in days of the predicted and the schedule's due dates, for vehicles that came in."""
    actual = frame["days_to_next_visit"].to_numpy(dtype=float)
    came = actual <= max(HORIZONS)
    model_days = _due_in_days(probs)
    rule_days = np.clip(frame["days_to_due"].to_numpy(dtype=float), 0, None)
    dated = came & np.isfinite(model_days) & np.isfinite(rule_days)
    model_err = np.abs(model_days[dated] - actual[dated])
    rule_err = np.abs(rule_days[dated] - actual[dated])
    return {
        "came_in": int(came.sum()),
        "dated": int(dated.sum()),
        "model_mae_days": float(model_err.mean()) if dated.any() else float("nan"),
        "rule_mae_days": float(rule_err.mean()) if dated.any() else float("nan"),
        "model_median_days": float(np.median(model_err)) if dated.any() else float("nan"),
        "rule_median_days": float(np.median(rule_err)) if dated.any() else float("nan"),
    }


# --- persistence: one fitted model per database, data version and as-of date ---------------------


def model_dir() -> Path:
    """Return the folder for fitted models (``ANALYTICS_MODEL_DIR`` or data/models, ignored by git)."""
    env = os.environ.get("ANALYTICS_MODEL_DIR")
    return Path(env) if env else DATA_DIR / "models"


def _database_name(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return str(Path(row[0]).resolve()) if row and row[0] else ":memory:"


def _model_prefix(con: duckdb.DuckDBPyConnection) -> str:
    key = hashlib.sha256(_database_name(con).encode("utf-8")).hexdigest()[:12]
    return f"maintenance-{key}"


def _model_path(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> Path:
    return model_dir() / f"{_model_prefix(con)}-v{db.data_version(con)}-{as_of.isoformat()}.joblib"


def save_model(con: duckdb.DuckDBPyConnection, model: MaintenanceModel) -> Path:
    """Write the model where ``load_model`` finds it for this database and data version; return the path."""
    path = _model_path(con, model.as_of)
    private_files.private_dir(path.parent)
    current = f"{_model_prefix(con)}-v{db.data_version(con)}-"
    # Models of older data versions of the same database will never be read again.
    for stale in path.parent.glob(f"{_model_prefix(con)}-v*.joblib"):
        if not stale.name.startswith(current):
            stale.unlink(missing_ok=True)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    digest = private_files.write_private(path, buffer.getvalue())
    # The checksum goes into the database (on a cursor of its own, outside a caller's read
    # transaction): load_model unpickles only the file this wrote.
    writer = con.cursor()
    try:
        writer.execute(
            "DELETE FROM meta WHERE key LIKE 'model_sha256:' || $prefix || '-v%' AND NOT starts_with(key, $current)",
            {"prefix": _model_prefix(con), "current": f"model_sha256:{current}"},
        )
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
    """Return the saved model for this database, data version and as-of date, or None if there is none."""
    import sklearn

    if last_visit_date(con) is None and as_of is None:
        return None
    path = _model_path(con, _resolve_as_of(con, as_of))
    if not path.exists():
        return None
    row = con.execute("SELECT value FROM meta WHERE key = $key", {"key": _checksum_key(path)}).fetchone()
    data = private_files.read_verified(path, row[0] if row else None)
    if data is None:
        # Not the file this program wrote for this data version (or no checksum): never unpickled.
        return None
    try:
        model = joblib.load(io.BytesIO(data))
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
    """Return the saved model for this data version, training and saving one first when there is none."""
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


def page_as_of(con: duckdb.DuckDBPyConnection, month_end: dt.date) -> dt.date:
    """Return the date the page scores at for a month: its last day, or the last data day when earlier."""
    last = last_visit_date(con)
    return month_end if last is None else min(month_end, last)


def snapshot(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> MaintenanceSnapshot:
    """Return the active base at ``as_of`` scored by the model trained at that date (trained and saved
    when there is none), with the model card; no model and the reason when the history is too short."""
    try:
        model = fitted_model(con, as_of)
    except UserError as exc:
        return MaintenanceSnapshot(
            as_of=as_of, scores=pd.DataFrame(columns=list(SCORE_COLUMNS)), model=None, note=str(exc)
        )
    return MaintenanceSnapshot(as_of=as_of, scores=score(con, model, as_of), model=model.card(), note=None)


# --- scoring and the invitation list ------------------------------------------------------------

SCORE_COLUMNS: tuple[str, ...] = (
    "vin",
    "plate",
    "customer_name",
    "phone",
    "model",
    "store",
    "p30",
    "p60",
    "p90",
    "any30",
    "any60",
    "any90",
    "due_date",
    "due_km",
    "km_now",
    "km_per_day",
    "km_since_service",
    "days_since_service",
    "items_due",
    "items_overdue",
    "rule_due_date",
    "last_visit",
    "last_service_type",
    "reachability",
    "last_called",
    "open_complaint",
)


# The invitation list as the CS lead reads it: who, how likely, when, what, how to reach.
LIST_COLUMNS: tuple[str, ...] = (
    "rank",
    "plate",
    "customer_name",
    "phone",
    "model",
    "p30",
    "p60",
    "p90",
    "due_date",
    "due_km",
    "km_since_service",
    "items_due",
    "last_visit",
    "reachability",
    "any30",
    "rule_due_date",
    "days_since_service",
    "km_now",
    "km_per_day",
    "last_service_type",
    "last_called",
    "store",
    "vin",
)


def score(
    con: duckdb.DuckDBPyConnection, model: MaintenanceModel, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Return one row per active-base vehicle at ``as_of`` (default: the model's date), most likely
    maintenance visitor in 30 days first: p30, p60, p90 (maintenance visit), any30, any60, any90
    (visit of any kind), predicted due date and km, items due, reachability."""
    as_of = as_of or model.as_of
    if as_of < model.as_of:
        raise UserError(
            f"The model was trained on data up to {model.as_of}; scoring at {as_of} would use what it learnt "
            "later. Train at that date first (maintenance train --as-of)."
        )
    if model.fitted is None:
        raise ValueError("a model card cannot score: use the fitted model it was made from")
    state = vehicle_state(con, as_of)
    _load_openmp()
    with threadpool_limits(limits=_config()["threads"]):
        probs = model.fitted.predict(state, "maintenance")
        anyp = model.fitted.predict(state, "any")
    due_in = _due_in_days(probs)
    out = state.assign(
        p30=probs[:, 0],
        p60=probs[:, 1],
        p90=probs[:, 2],
        any30=anyp[:, 0],
        any60=anyp[:, 1],
        any90=anyp[:, 2],
        due_date=pd.Timestamp(as_of) + pd.to_timedelta(np.round(due_in), unit="D"),
        due_km=np.round(
            state["km_now"].to_numpy(dtype=float) + state["km_per_day"].to_numpy(dtype=float) * due_in
        ),
    )
    for column in ("due_km", "km_now", "km_since_service", "days_since_service"):
        out[column] = out[column].round().astype("Int64")
    out["km_per_day"] = out["km_per_day"].round(1)
    for column in ("p30", "p60", "p90", "any30", "any60", "any90"):
        out[column] = out[column].round(4)
    out["open_complaint"] = out["open_complaint"].astype(bool)
    out = out.sort_values(
        ["p30", "p60", "p90", "vin"], ascending=[False, False, False, True], ignore_index=True
    )
    return out[list(SCORE_COLUMNS)]


def invitation_list(
    scores: pd.DataFrame,
    *,
    horizon: int = 30,
    min_probability: float = 0.0,
    stores: Sequence[str] | None = None,
    items: Sequence[str] | None = None,
    reachable_only: bool = False,
) -> pd.DataFrame:
    """Return the scored vehicles that pass the filters, ranked by the maintenance probability at ``horizon``."""
    if horizon not in HORIZONS:
        raise ValueError(f"horizon must be one of {HORIZONS}")
    column = f"p{horizon}"
    keep = scores[column] >= min_probability
    if stores:
        keep &= scores["store"].isin(list(stores))
    if items:
        wanted = set(items)
        keep &= scores["items_due"].map(lambda codes: bool(wanted & set(str(codes).split(","))))
    if reachable_only:
        keep &= scores["reachability"].isin(["reachable", "untried"])
    out = scores[keep].sort_values([column, "vin"], ascending=[False, True], ignore_index=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


@dataclass
class Invitations:
    """Today's invitations: the top of the ranked list after suppression, cut to the daily capacity."""

    calls: pd.DataFrame
    candidates: int
    suppressed_complaint: int
    suppressed_recent: int


def daily_invitations(
    ranked: pd.DataFrame,
    capacity: int,
    as_of: dt.date,
    *,
    skip_open_complaints: bool = True,
    called_within_days: int = 0,
) -> Invitations:
    """Return the first ``capacity`` rows of a ranked invitation list, skipping vehicles with an open
    complaint (the complaint process owns them) and customers called in the last ``called_within_days``
    days (0: no such rule); ranks are renumbered 1..n."""
    complaint = (
        ranked["open_complaint"].astype(bool)
        if skip_open_complaints
        else pd.Series(False, index=ranked.index)
    )
    recent = pd.Series(False, index=ranked.index)
    if called_within_days > 0:
        since = pd.Timestamp(as_of - dt.timedelta(days=int(called_within_days)))
        recent = pd.to_datetime(ranked["last_called"], errors="coerce").gt(since)
    kept = ranked[~complaint & ~recent].head(max(int(capacity), 0)).reset_index(drop=True)
    kept["rank"] = np.arange(1, len(kept) + 1)
    return Invitations(
        calls=kept,
        candidates=int(len(ranked)),
        suppressed_complaint=int(complaint.sum()),
        suppressed_recent=int((recent & ~complaint).sum()),
    )


def outlook(scores: pd.DataFrame, stores: Sequence[str] | None = None) -> dict[str, float]:
    """Return the number of vehicles scored and the expected maintenance visits (``p30``...) and visits
    of any kind (``any30``...) within each horizon (sums of the probabilities), for the chosen stores."""
    chosen = scores[scores["store"].isin(list(stores))] if stores else scores
    out: dict[str, float] = {"vehicles": float(len(chosen))}
    for h in HORIZONS:
        out[f"p{h}"] = round(float(chosen[f"p{h}"].sum()), 1)
        out[f"any{h}"] = round(float(chosen[f"any{h}"].sum()), 1)
    return out


def item_names(lang: str) -> dict[str, str]:
    """Return the readable name of every item code in ``lang`` (first maintenance included)."""
    names = {FIRST_MAINTENANCE: text("maintenance.first_maintenance", lang)}
    for it in schedule.items():
        names[it.key] = it.name_zh if lang == "zh" else it.name_en
    return names


def overdue_words(overdue: Sequence[tuple[str, float, float]], lang: str) -> str:
    """Return the due items in words with how far each is past its interval, e.g. "Engine oil and
    filter (1,200 km overdue)"; an item not yet past it reads "due soon"."""
    names = item_names(lang)
    parts = []
    for code, km_over, days_over in overdue:
        amounts = []
        if np.isfinite(km_over) and km_over >= 1:
            amounts.append(text("maintenance.over_km", lang, km=f"{km_over:,.0f}"))
        if np.isfinite(days_over) and days_over >= 15:
            amounts.append(
                text("maintenance.over_months", lang, months=f"{max(1, round(days_over / 30.4)):d}")
            )
        name = names.get(code, code)
        if amounts:
            parts.append(text("maintenance.item_overdue", lang, item=name, by=" / ".join(amounts)))
        else:
            parts.append(text("maintenance.item_due_soon", lang, item=name))
    return ("；" if lang == "zh" else "; ").join(parts)


def labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return a copy with items due in words (with km or months overdue), reachability and
    service-type codes as readable text in ``lang``."""
    out = frame.copy()
    if "items_overdue" in out:
        out["items_due"] = out["items_overdue"].map(lambda overdue: overdue_words(overdue, lang))
        out = out.drop(columns=["items_overdue"])
    else:
        names = item_names(lang)
        sep = "、" if lang == "zh" else ", "
        out["items_due"] = out["items_due"].map(
            lambda codes: sep.join(names.get(c, c) for c in str(codes).split(",") if c)
        )
    out["reachability"] = out["reachability"].map(lambda code: text(f"maintenance.reach.{code}", lang))
    out["last_service_type"] = out["last_service_type"].map(
        lambda code: text(f"maintenance.service_type.{code}", lang) if code in db.SERVICE_TYPES else code
    )
    return out


def expected_within(scores: pd.DataFrame, days: float, prefix: str = "p") -> float:
    """Return the expected number of visits within ``days`` (at most 90): the sum over vehicles of the
    probability curve through 0, 30, 60 and 90 days, linear in between; ``prefix`` "p" for a
    maintenance visit, "any" for a visit of any kind."""
    probs = scores[[f"{prefix}{h}" for h in HORIZONS]].to_numpy(dtype=float)
    curve = np.interp(
        min(float(days), float(max(HORIZONS))), (0.0, *map(float, HORIZONS)), (0.0, 1.0, 2.0, 3.0)
    )
    lo = int(np.floor(curve))
    share = curve - lo
    full = np.column_stack([np.zeros(len(probs)), probs])
    if lo >= len(HORIZONS):
        return float(full[:, -1].sum())
    return float((full[:, lo] + share * (full[:, lo + 1] - full[:, lo])).sum())


def expected_visits_by_week(scores: pd.DataFrame, as_of: dt.date, weeks: int = 13) -> pd.DataFrame:
    """Return one row per week after ``as_of`` (days 1-7, 8-14, ...): the expected maintenance visits and
    visits of any kind in it, sums of the probabilities, so the weeks up to day 30 add up to the
    30-day figure (the curve is linear between 0, 30, 60 and 90 days, flat after 90)."""
    start = pd.Timestamp(as_of)
    out = pd.DataFrame({"week": np.arange(1, weeks + 1)})
    out["week_start"] = start + pd.to_timedelta((out["week"] - 1) * 7 + 1, unit="D")
    for source, prefix in (("maintenance", "p"), ("any", "any")):
        ends = [expected_within(scores, 7 * w, prefix) for w in range(weeks + 1)]
        out[source] = np.diff(ends)
    return out


def overdue_counts(scores: pd.DataFrame, as_of: dt.date) -> dict[str, int]:
    """Return how many vehicles are already past their predicted (model) and schedule (rule) due date."""
    start = pd.Timestamp(as_of)
    return {
        source: int(((pd.to_datetime(scores[column]) - start).dt.days < 1).sum())
        for source, column in (("model", "due_date"), ("rule", "rule_due_date"))
    }


# --- the model card -------------------------------------------------------------------------------


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
