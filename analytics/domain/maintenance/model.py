"""The maintenance model: a panel of monthly cutoffs, gradient boosting per target and horizon, calibrated; the backtest."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics.core import stats
from analytics.core.errors import UserError
from analytics.domain import facts, schedule
from analytics.store import db

if TYPE_CHECKING:  # scikit-learn loads where a model is fitted or scored, not with the page's kept results
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.isotonic import IsotonicRegression
from analytics.domain.maintenance.features import (
    CATEGORICAL,
    FEATURES,
    _config,
    _database_name,
    _labels,
    _matrix,
    _resolve_as_of,
    _rule_days,
    _snapshot,
    _vocabulary,
    rule_score,
    sampled_vins,
)
from analytics.domain.model_matrix import positive_probabilities

HORIZONS: tuple[int, ...] = (30, 60, 90)


# What the model predicts: a maintenance visit (首保/定保/保养: what an invitation is for) and a
# visit of any kind (what the "expected visits" figures of the workshop count).
TARGETS: tuple[str, ...] = ("maintenance", "any")


# The backtest's methods: the model and the two rules it has to beat (schedule, own rhythm).
METHODS: tuple[str, ...] = ("model", "rule", "rhythm")


MODEL_FORMAT = 2


# Directions known beforehand (+1: a higher value never lowers the chance of a visit; -1: never
# raises it). The rest are left free: a long-overdue car is as likely lapsed as about to come.
MONOTONE: dict[str, int] = {"visits_365": 1, "appointment_share": 1, "complaints_730": -1}


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
        return self.predict_targets(frame, (target,))[target]

    def predict_targets(self, frame: pd.DataFrame, targets: Sequence[str] = TARGETS) -> dict[str, np.ndarray]:
        """Return ``predict(frame, target)`` for each of ``targets``, the input matrix built (and
        binned, ``positive_probabilities``) once for all their classifiers."""
        if frame.empty:
            return {target: np.zeros((0, len(HORIZONS))) for target in targets}
        keys = [(target, h) for target in targets for h in HORIZONS]
        probs = positive_probabilities([self.classifiers[key] for key in keys], self.matrix(frame))
        by_key = dict(zip(keys, probs, strict=True))
        return {
            target: np.maximum.accumulate(np.column_stack([by_key[(target, h)] for h in HORIZONS]), axis=1)
            for target in targets
        }


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
    cap = _config().max_training_rows
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
            calibrated = CalibratedClassifierCV(FrozenEstimator(base), method=_config().calibration)
            fitted.classifiers[(target, horizon)] = calibrated.fit(x_cal, y_cal)
            y_all = _labels(everything, horizon, target)
            for method in METHODS[1:]:
                fitted.rules[(method, target, horizon)] = IsotonicRegression(
                    out_of_bounds="clip", y_min=0.0, y_max=1.0
                ).fit(rule_score(_rule_days(everything, method), horizon), y_all)
    return fitted


# Snapshots built per training row the model learns from (a seeded sample of ``max_training_rows``
# is then drawn from them): a margin for the bases of older dates being smaller than the newest.
TRAINING_MARGIN = 1.5


def training_share(base: int, dates: int) -> float:
    """Return the share of vehicles whose snapshots are built at each training date.

    A group's bases hold far more (vehicle, date) rows than the model learns from: at a million
    work orders 15 dates of about 200,000 vehicles, of which 200,000 rows were drawn and the rest
    replayed through the schedule for nothing (about half of a fit's minute and a half). With
    ``base`` vehicles at the newest date and ``dates`` dates to learn from, the share builds about
    ``TRAINING_MARGIN`` times the rows needed; one when everything is needed (a single store).
    """
    needed = TRAINING_MARGIN * _config().max_training_rows
    return 1.0 if base * dates <= needed else needed / (base * dates)


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
        "SELECT min(visit_date), count(*) FILTER (WHERE list_contains($kinds, service_type)) "
        "FROM service_orders WHERE visit_date <= $d",
        {"d": as_of, "kinds": list(schedule.MAINTENANCE_TYPES)},
    ).fetchone()
    if not row or row[0] is None:
        # Said the same on the page and the command line (no option named): with no work order at
        # all, a later date cannot help.
        first = con.execute("SELECT min(visit_date) FROM service_orders").fetchone()
        if not first or first[0] is None:
            raise UserError(
                "There are no work orders yet; import the DMS's work-order export (维修工单) first.",
                zh="尚未导入维修工单；请先导入 DMS 导出的维修工单。",
            )
        raise UserError(
            f"There are no work orders on or before {as_of}; the first is dated {first[0]}: choose a date after it.",
            zh=f"{as_of} 及之前没有维修工单；最早的工单日期为 {first[0]}，请选择其后的日期。",
        )
    if not row[1]:
        # More months would not help: the outcome the model learns is a maintenance visit.
        raise UserError(
            f"The work orders up to {as_of} hold no maintenance visit (首保, 定保 or 保养), only repairs, "
            "warranty or body work; import the maintenance orders or map their service type."
        )
    earliest = row[0] + dt.timedelta(days=cfg.min_history_days)
    longest = dt.timedelta(days=max(HORIZONS))
    step = dt.timedelta(days=cfg.cutoff_step_days)
    backtest_cutoff = as_of - longest
    final = [backtest_cutoff - k * step for k in range(cfg.training_cutoffs)]
    training = [backtest_cutoff - longest - k * step for k in range(cfg.training_cutoffs)]
    # A date whose 90 days meet a month without work orders would teach that nobody came in.
    gaps = facts.gap_months(con, as_of)
    if facts.overlaps_gap(backtest_cutoff, as_of, gaps):
        raise UserError(
            f"The work orders have no visit in some month between {backtest_cutoff} and {as_of}; the model "
            "needs the last 90 days complete, so import the missing months or choose an earlier date."
        )
    final = sorted(d for d in final if d >= earliest and not facts.overlaps_gap(d, d + longest, gaps))
    training = sorted(d for d in training if d >= earliest and not facts.overlaps_gap(d, d + longest, gaps))
    if len(training) < 2 and gaps:
        raise UserError(
            f"The work orders have no visit from {gaps[0][0]} to {gaps[-1][1]}; training needs about "
            f"{(cfg.min_history_days + 2 * max(HORIZONS)) // 30 + 1} months of history around no such gap, "
            "so import the missing months."
        )
    if len(training) < 2:
        months = (cfg.min_history_days + 2 * max(HORIZONS) + cfg.cutoff_step_days) // 30 + 1
        raise UserError(
            f"Training needs about {months} months of work orders before {as_of}; the data start on "
            f"{row[0]}. Import more history or choose a later date."
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
    with threadpool_limits(limits=_config().threads):
        return _fit(con, as_of, seed, progress or _quiet)


def _fit(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None, seed: int | None, report: Progress
) -> MaintenanceModel:
    import sklearn

    started = time.perf_counter()
    as_of = _resolve_as_of(con, as_of)
    seed = _config().seed if seed is None else seed
    backtest_cutoff, training, final = _cutoffs(con, as_of)
    # Newest first: the backtest date's snapshot, of every vehicle, sizes the training sample.
    dates = sorted({*training, *final, backtest_cutoff}, reverse=True)
    frames: dict[dt.date, pd.DataFrame] = {}
    share = 1.0
    for i, cutoff in enumerate(dates):
        report(0.6 * i / len(dates), "snapshots")
        # Outcomes are read up to the date the model is used at, never later: a training date's
        # label window closes on or before ``as_of`` (the backtest's on or before its cutoff + 90).
        until = min(as_of, cutoff + dt.timedelta(days=max(HORIZONS)))
        if cutoff == backtest_cutoff:
            frames[cutoff] = _snapshot(con, cutoff, until)
            share = training_share(len(frames[cutoff]), max(len(training), len(final)) - 1)
        else:
            frames[cutoff] = _snapshot(con, cutoff, until, share, seed)
    report(0.6, "backtest")
    backtest_fit = _fit_horizons({d: frames[d] for d in training}, seed)
    report(0.7, "importance")
    # The backtest scores every vehicle at its date; the final model learns from the same sample
    # of vehicles there as at its other dates.
    backtest = _evaluate(frames[backtest_cutoff], backtest_fit, seed)
    backtest.training_cutoffs = training
    report(0.85, "final")
    latest = frames[backtest_cutoff]
    frames[backtest_cutoff] = latest[sampled_vins(latest["vin"], share, seed)].reset_index(drop=True)
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
    # Equal-count bins, as on the churn card: the calibration error below is their weighted gap.
    return stats.calibration_bins(y, p, bins)


def _evaluate(frame: pd.DataFrame, fitted: Fitted, seed: int) -> Backtest:
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    vin_order = frame["vin"].rank(method="first").to_numpy()
    metrics, calibration, segments, importance = [], [], [], []
    probs_by_target = fitted.predict_targets(frame, TARGETS)
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
