"""Churn probability: a calibrated scikit-learn model of "no visit in the next horizon_days".

The model learns from snapshots of the active base taken at past cutoffs (month ends every
``cutoff_step_months``). A snapshot's features come from ``analytics/store/sql/churn_features.sql``,
which reads only rows dated on or before its cutoff, and its label is whether the vehicle came
back within ``horizon_days`` after it. Training for a scoring date D uses only cutoffs whose
label year has ended by D (and by the end of the data), so nothing after D is ever read.

The backtest replays that at the latest cutoff T whose year is complete: a model trained on
cutoffs whose label years ended by T scores the base at T, and is compared with the simple rule
"days since the last visit" on ROC AUC, lift and capture in the top 10% and 20%, and calibration.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics.core import memo, stats
from analytics.core.config import Churn, settings
from analytics.core.errors import UserError
from analytics.core.months import month_end, month_end_on_or_before, shift_month
from analytics.domain import counts, facts, schedule
from analytics.domain.model_matrix import binnable, positive_probability
from analytics.store import derived, queries

if TYPE_CHECKING:  # scikit-learn loads where a model is fitted or scored, not with the churn page
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

# The model's inputs, all numeric and all known at the cutoff (NaN where unknown).
FEATURES: tuple[str, ...] = (
    "days_since",
    "days_since_maintenance",
    "overdue_ratio",
    "expected_interval_days",
    "median_gap_days",
    "max_gap_days",
    "tenure_days",
    "vehicle_age_days",
    "days_to_warranty_end",
    "warranty_active",
    "last_km",
    "km_per_day",
    "visits",
    "visits_total",
    "maintenance_share",
    "repair_share",
    "warranty_share",
    "body_paint_share",
    "last_was_maintenance",
    "spend",
    "avg_ticket",
    "appointment_share",
    "callbacks",
    "reach_last3",
    "unreached_streak",
    "last_overall",
    "worst_overall",
    "last_price",
    "last_recommend",
    "unsatisfied_callbacks",
    "complaints",
    "open_complaints",
    "last_visit_complaints",
    "last_visit_overall",
    "last_visit_price",
    "last_amount",
    "last_was_first_maintenance",
    "km_warranty_days_left",
)
Gaps = Sequence[tuple[date, date]]  # months without work orders: first and last day (facts.gap_months)
RULE = "days_since"
TOP_SHARES: tuple[float, ...] = (0.1, 0.2)
IMPORTANCE_SAMPLE = 2500
CALIBRATION_FOLDS = 3  # out-of-fold scores by vehicle calibrate the probabilities


class NotEnoughHistory(UserError):
    """The data are too short or too uniform to train or backtest the churn model."""


def churn_settings() -> Churn:
    """Return the ``[churn]`` settings."""
    return settings().churn


def status_params(stores: list[str] | None = None) -> dict[str, Any]:
    """Return the bound parameters of the status rule (vehicle_status.sql, shared with the KPIs)."""
    return counts.sql_params(stores)


def feature_params(stores: list[str] | None = None) -> dict[str, Any]:
    """Return the bound parameters of churn_features.sql and churn_returns.sql."""
    cfg = churn_settings()
    return {
        **status_params(stores),
        "value_days": cfg.value_days,
        "horizon_days": cfg.horizon_days,
        "warranty_years": cfg.warranty_years,
        "warranty_km": cfg.warranty_km,
        "complaint_window_days": cfg.complaint_window_days,
        "satisfied_threshold": settings().kpi.satisfied_threshold,
    }


def _dates(series: pd.Series) -> pd.Series:
    # Missing dates become None, not NaT: NaT passes isinstance(x, date) and then fails comparisons.
    # numpy writes each day as a date and NaT as None, in C (``.dt.date`` made a Timestamp per
    # value first: 1.3 s of a group's churn fit, now 0.5 s).
    days = pd.to_datetime(series).to_numpy(dtype="datetime64[D]").astype(object)
    return pd.Series(days, index=series.index, dtype=object, name=series.name)


def features(
    con: duckdb.DuckDBPyConnection, cutoffs: Sequence[date], stores: list[str] | None = None
) -> pd.DataFrame:
    """Return one row per (cutoff, base vehicle): identity, status by the rule, and every model feature."""
    params = {**feature_params(stores), "cutoffs": sorted(set(cutoffs)), "as_of_dates": sorted(set(cutoffs))}
    frame = derived.run(con, "churn_features", params)
    status = derived.run(con, "vehicle_status", params)[
        ["as_of", "vin", "expected_interval_days", "interval_source", "overdue_ratio", "status"]
    ].rename(columns={"as_of": "cutoff"})
    frame = frame.merge(status, on=["cutoff", "vin"], how="left", validate="one_to_one")
    for column in (
        "cutoff",
        "purchase_date",
        "first_visit",
        "last_visit",
        "last_maintenance",
        "last_called",
        "warranty_end_by_date",
        "warranty_km_date",
    ):
        frame[column] = _dates(frame[column])
    visits = frame["visits"].where(frame["visits"] > 0)
    for kind in ("maintenance", "repair", "warranty", "body_paint"):
        frame[f"{kind}_share"] = frame[f"{kind}_visits"] / visits
    frame["avg_ticket"] = frame["spend"] / visits
    frame["last_was_maintenance"] = frame["last_service_type"].isin(schedule.MAINTENANCE_TYPES).astype(float)
    frame["last_was_first_maintenance"] = (frame["last_service_type"] == "first_maintenance").astype(float)
    # The warranty ends at warranty_years after purchase or at the first visit that read
    # warranty_km or more, whichever came first (unknown without either).
    # (Whole columns at once: a comprehension per row took a few tenths of a second at group scale.)
    by_km = pd.to_datetime(frame["warranty_km_date"])
    by_date = pd.to_datetime(frame["warranty_end_by_date"])
    end = by_date.where(by_km.isna() | (by_date <= by_km), by_km)
    frame["warranty_end"] = _dates(end)
    cause = np.where(end == by_km, "km", "date").astype(object)
    cause[end.isna().to_numpy()] = None
    frame["warranty_end_cause"] = cause.tolist()
    frame["days_to_warranty_end"] = (end - pd.to_datetime(frame["cutoff"])).dt.days.astype(float)
    frame["warranty_active"] = (
        (frame["days_to_warranty_end"] > 0).astype(float).where(frame["warranty_end"].notna())
    )
    # Days from the cutoff until the odometer reaches warranty_km at the car's pace (negative: passed).
    pace = frame["km_per_day"].astype(float)
    km_left = float(feature_params()["warranty_km"]) - frame["last_km"].astype(float)
    frame["km_warranty_days_left"] = km_left / pace.where(pace > 0) - frame["days_since"].astype(float)
    for column in FEATURES:
        # A zero expected interval (two maintenance visits on consecutive days) gives an infinite
        # ratio; unknown is the honest value, and the trees handle it.
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        frame[column] = values.where(np.isfinite(values))
    return frame.reset_index(drop=True)


def outcomes(con: duckdb.DuckDBPyConnection, snapshots: pd.DataFrame) -> pd.Series:
    """Return, aligned with ``snapshots``, True where the vehicle made no visit within horizon_days after its cutoff."""
    cutoffs = sorted(set(snapshots["cutoff"]))
    returns = queries.run(con, "churn_returns", {**feature_params(), "cutoffs": cutoffs})
    returns["cutoff"] = _dates(returns["cutoff"])
    marked = snapshots[["cutoff", "vin"]].merge(
        returns[["cutoff", "vin"]].assign(returned=True), on=["cutoff", "vin"], how="left"
    )
    return (~marked["returned"].astype("boolean").fillna(False).astype(bool)).set_axis(snapshots.index)


def _months_back(day: date, months: int) -> date:
    """Return the last day of the month ``months`` before ``day``'s month."""
    return month_end(shift_month(day.replace(day=1), -months))


def training_cutoffs(first_day: date, known_end: date, gaps: Gaps = ()) -> list[date]:
    """Return the month-end cutoffs (oldest first) whose label year has ended by ``known_end``, but
    none whose label year meets a month without work orders (``facts.gap_months``): every car
    would seem to have left then."""
    cfg = churn_settings()
    latest = month_end_on_or_before(known_end - timedelta(days=cfg.horizon_days))
    earliest = first_day + timedelta(days=cfg.min_history_days)
    out: list[date] = []
    for step in range(cfg.max_cutoffs):
        cutoff = _months_back(latest, step * cfg.cutoff_step_months)
        if cutoff < earliest:
            break
        if not facts.overlaps_gap(cutoff, cutoff + timedelta(days=cfg.horizon_days), list(gaps)):
            out.append(cutoff)
    return sorted(out)


def data_span(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[date, date] | None:
    """Return the first visit date and the last day the data know (latest visit or callback), both
    on or before ``as_of``; None without work orders."""
    row = con.execute(
        """
        SELECT (SELECT min(visit_date) FROM service_orders WHERE visit_date <= $as_of),
               greatest(
                   (SELECT max(visit_date) FROM service_orders WHERE visit_date <= $as_of),
                   (SELECT max(CAST(callback_date AS DATE)) FROM callbacks
                    WHERE CAST(callback_date AS DATE) <= $as_of)
               )
        """,
        {"as_of": as_of},
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


def ranking_metrics(churned: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Return ROC AUC, and lift and capture in the top 10% and 20% of ``score`` (ties in input order)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(churned, dtype=bool)
    s = np.asarray(score, dtype=float)
    rate = float(y.mean())
    out: dict[str, float] = {"auc": float(roc_auc_score(y, s))}
    order = np.argsort(-s, kind="stable")
    for share in TOP_SHARES:
        k = max(1, math.ceil(share * len(y)))
        hits = float(y[order[:k]].sum())
        label = f"{round(share * 100)}"
        out[f"lift_{label}"] = (hits / k) / rate if rate else float("nan")
        out[f"capture_{label}"] = hits / float(y.sum()) if y.sum() else float("nan")
    return out


def calibration_table(churned: np.ndarray, probability: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Return one row per decile of predicted probability: n, mean predicted, observed churn share."""
    return stats.calibration_bins(churned, probability, bins).rename(columns={"bin": "decile"})


@dataclass
class Backtest:
    """How the model and the rule ranked the base at a past cutoff whose year is complete."""

    cutoff: date
    train_cutoffs: list[date]
    n: int
    churned: int
    model: dict[str, float]
    rule: dict[str, float]
    calibration: pd.DataFrame  # scorer (model, rule), decile, n, predicted, observed
    importance: pd.DataFrame  # feature, importance (drop in AUC when shuffled), std

    def summary(self) -> dict[str, Any]:
        """Return the figures as plain JSON-ready values."""
        return {
            "cutoff": self.cutoff.isoformat(),
            "train_cutoffs": [c.isoformat() for c in self.train_cutoffs],
            "n": int(self.n),
            "churned": int(self.churned),
            "churn_rate": round(self.churned / self.n, 4) if self.n else None,
            "model": {k: round(v, 4) for k, v in self.model.items()},
            "rule": {k: round(v, 4) for k, v in self.rule.items()},
            "calibration": [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.calibration.to_dict("records")
            ],
        }


# Text features given to the trees as categories (the car's model, the advisor of its last visit).
CATEGORICAL: tuple[str, ...] = ("model", "advisor")
INPUTS: tuple[str, ...] = FEATURES + CATEGORICAL
MAX_CATEGORIES = 250  # the trees bin categories into at most 255 codes; rarer ones count as unknown


@dataclass
class Scorer:
    """A calibrated classifier and the category codes its inputs were built with."""

    estimator: CalibratedClassifierCV
    categories: dict[str, dict[str, int]]

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the input matrix (numeric features, then category codes; NaN where unknown)."""
        return _matrix(frame, self.categories)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the probability of no visit in the next horizon_days for each row of a feature frame."""
        if frame.empty:
            return np.zeros(0)
        with threadpool_limits(limits=1, user_api="openmp"):
            return positive_probability(self.estimator, self.matrix(frame))


@dataclass
class ChurnModel:
    """A fitted churn model, what it was trained on, and its backtest (None when the data are too short)."""

    scorer: Scorer | None  # None in a model card (see ``card``)
    as_of: date
    train_cutoffs: list[date]
    n_train: int
    churn_rate: float
    backtest: Backtest | None
    backtest_note: str | None = None  # why there is no backtest, when there is none

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the probability of no visit in the next horizon_days for each row of a feature frame."""
        if self.scorer is None:
            raise ValueError("a model card cannot score: use the fitted model it was made from")
        return self.scorer.predict(frame)

    def card(self) -> ChurnModel:
        """Return what the page shows of the model (its training and backtest) without the fitted
        estimator, so reading a kept list back does not load scikit-learn."""
        return replace(self, scorer=None)


def _codes(values: pd.Series) -> dict[str, int]:
    counts = values.dropna().astype(str).value_counts()
    # Most frequent first, ties by name, so the codes are the same on every run.
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORIES]
    return {str(name): code for code, (name, _) in enumerate(ordered)}


def _category_codes(values: pd.Series, codes: Mapping[str, int]) -> np.ndarray:
    """Return the code of each value (NaN when unknown or missing), looked up once per distinct
    value: a lookup per row took most of a group's scoring time outside the trees."""

    def code(value: Any) -> float:
        return float(codes.get(str(value), np.nan)) if value is not None else np.nan

    index, uniques = pd.factorize(values)
    table = np.array([*(code(v) for v in uniques), np.nan], dtype=float)
    out = table[index]  # a missing value (-1) reads the trailing NaN
    missing = np.flatnonzero(index < 0)
    if missing.size:
        out[missing] = [code(v) for v in values.iloc[missing]]
    return out


def _matrix(frame: pd.DataFrame, categories: Mapping[str, Mapping[str, int]]) -> np.ndarray:
    numeric = frame[list(FEATURES)].to_numpy(dtype=float)
    coded = [_category_codes(frame[column], categories[column]) for column in CATEGORICAL]
    return np.column_stack([numeric, *coded])


# Features whose growth can only raise the risk: more days since the last visit (or maintenance,
# or against the expected interval) never makes a return more likely. The constraint keeps the
# trees sensible where the training cutoffs, early in the data, saw shorter absences than today.
INCREASING: tuple[str, ...] = ("days_since", "days_since_maintenance", "overdue_ratio")


def _estimator(seed: int) -> HistGradientBoostingClassifier:
    from sklearn.ensemble import HistGradientBoostingClassifier

    # Small trees, a large leaf minimum and a slow rate: one store's history is a few thousand
    # cars, and at a tenth of the demo's size looser settings lost to the days-since rule.
    return HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.05,
        max_leaf_nodes=8,
        min_samples_leaf=80,
        l2_regularization=1.0,
        categorical_features=[len(FEATURES) + i for i in range(len(CATEGORICAL))],
        monotonic_cst=[1 if f in INCREASING else 0 for f in FEATURES] + [0] * len(CATEGORICAL),
        early_stopping=False,
        random_state=seed,
    )


def _fit_calibrated(snapshots: pd.DataFrame, churned: pd.Series, seed: int) -> Scorer:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import GroupKFold

    y = churned.to_numpy(dtype=int)
    # No rows at all: cutoffs whose base is empty (a gap in the work orders, a typo dated decades ahead).
    if len(y) == 0 or y.min() == y.max() or min(y.sum(), len(y) - y.sum()) < 10:
        raise NotEnoughHistory(
            "The history holds too few vehicles that came back or left to learn from; import more months."
        )
    categories = {column: _codes(snapshots[column]) for column in CATEGORICAL}
    x = _matrix(snapshots, categories)
    # The isotonic calibration learns from out-of-fold scores, with folds by vehicle (not by row:
    # one car's snapshots at several cutoffs must not sit on both sides); the trees are then
    # refitted on every row.
    groups = snapshots["vin"].to_numpy()
    splits = list(GroupKFold(n_splits=CALIBRATION_FOLDS).split(x, y, groups))
    x = binnable(x, [train for train, _ in splits])
    model = CalibratedClassifierCV(_estimator(seed), method="isotonic", cv=splits, ensemble=False)
    # One thread: on a small shared machine OpenMP threads spin against each other and the
    # other processes, which made a fit ten times slower than on one core.
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(x, y)
        fitted = positive_probability(model, x)
    # A few hundred rows may not fill two leaves of 80 cars (``_estimator``): the trees then give every car
    # the same probability, and its AUC of 0.5 and lifts by input order would pass for a model.
    if np.ptp(fitted) == 0:
        raise NotEnoughHistory(
            "The history holds too few vehicles to tell leaving from returning customers apart; import more months."
        )
    return Scorer(estimator=model, categories=categories)


@dataclass(frozen=True)
class History:
    """Every (cutoff, base vehicle) row of some cutoffs with its features, and whether it churned.

    The fit and its backtest read one history: the backtest's cutoffs (its training years and its
    test date) are mostly the fit's, and at a million work orders each separate read of the
    features cost 5-8 s. A cutoff's rows do not depend on which other cutoffs are read with it.
    """

    snapshots: pd.DataFrame
    churned: pd.Series

    @classmethod
    def read(
        cls, con: duckdb.DuckDBPyConnection, cutoffs: Sequence[date], stores: list[str] | None
    ) -> History:
        snapshots = features(con, cutoffs, stores)
        return cls(snapshots, outcomes(con, snapshots))

    def training_set(self, cutoffs: Sequence[date]) -> tuple[pd.DataFrame, pd.Series]:
        """Return the rows of ``cutoffs`` (as ``features`` orders them) and their outcomes, a
        seeded sample of ``max_training_rows`` beyond that size."""
        keep = self.snapshots["cutoff"].isin(set(cutoffs)).to_numpy()
        snapshots = self.snapshots[keep].reset_index(drop=True)
        churned = self.churned[keep].reset_index(drop=True)
        # A group of stores has millions of (vehicle, cutoff) rows; a seeded sample keeps training
        # within a minute without changing what the model can learn from a single store.
        cap = churn_settings().max_training_rows
        if len(snapshots) > cap:
            picked = snapshots.sample(n=cap, random_state=churn_settings().seed).sort_index().index
            snapshots = snapshots.loc[picked].reset_index(drop=True)
            churned = churned.loc[picked].reset_index(drop=True)
        return snapshots, churned


def _importance(scorer: Scorer, test: pd.DataFrame, churned: np.ndarray, seed: int) -> pd.DataFrame:
    from sklearn.inspection import permutation_importance

    sample = test
    y = churned
    if len(test) > IMPORTANCE_SAMPLE:
        picked = np.sort(np.random.default_rng(seed).choice(len(test), IMPORTANCE_SAMPLE, replace=False))
        sample, y = test.iloc[picked], churned[picked]
    with threadpool_limits(limits=1, user_api="openmp"):
        result = permutation_importance(
            scorer.estimator,
            scorer.matrix(sample),
            y.astype(int),
            scoring="roc_auc",
            n_repeats=3,
            random_state=seed,
        )
    table = pd.DataFrame(
        {"feature": list(INPUTS), "importance": result.importances_mean, "std": result.importances_std}
    )
    return table.sort_values(["importance", "feature"], ascending=[False, True]).reset_index(drop=True)


def backtest(
    con: duckdb.DuckDBPyConnection,
    test_cutoff: date,
    first_day: date,
    stores: list[str] | None = None,
    seed: int = 0,
    history: History | None = None,
    gaps: Gaps = (),
) -> Backtest:
    """Return the model against the rule at ``test_cutoff``, trained only on years that ended by then
    (rows from ``history`` when it holds those cutoffs, read otherwise); none when the test year
    meets a month of ``gaps``."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.metrics import brier_score_loss

    if facts.overlaps_gap(
        test_cutoff, test_cutoff + timedelta(days=churn_settings().horizon_days), list(gaps)
    ):
        raise NotEnoughHistory(
            f"The year after {test_cutoff} has months without any work order, so who left then is unknown."
        )
    train_cutoffs = training_cutoffs(first_day, test_cutoff, gaps)
    if not train_cutoffs:
        raise NotEnoughHistory(
            "There is not enough history before the backtest date to train on; import older work orders."
        )
    needed = {*train_cutoffs, test_cutoff}
    if history is None or not needed <= set(history.snapshots["cutoff"]):
        history = History.read(con, sorted(needed), stores)
    train, train_y = history.training_set(train_cutoffs)
    model = _fit_calibrated(train, train_y, seed)
    test, test_y = history.training_set([test_cutoff])
    y = test_y.to_numpy(dtype=bool)
    if len(test) == 0 or y.min() == y.max():
        raise NotEnoughHistory("The backtest year has only one kind of outcome; import more months.")
    probability = model.predict(test)
    # The rule ranks by days since the last visit; to compare calibration it is turned into a
    # probability by the churn share at each number of days on the training cutoffs.
    rule_map = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(
        train[RULE].to_numpy(), train_y.to_numpy(dtype=float)
    )
    rule_probability = rule_map.predict(test[RULE].to_numpy())
    model_metrics = ranking_metrics(y, probability)
    rule_metrics = ranking_metrics(y, test[RULE].to_numpy())
    model_metrics["brier"] = float(brier_score_loss(y, probability))
    rule_metrics["brier"] = float(brier_score_loss(y, rule_probability))
    calibration = pd.concat(
        [
            calibration_table(y, probability).assign(scorer="model"),
            calibration_table(y, rule_probability).assign(scorer="rule"),
        ],
        ignore_index=True,
    )[["scorer", "decile", "n", "predicted", "observed"]]
    return Backtest(
        cutoff=test_cutoff,
        train_cutoffs=train_cutoffs,
        n=len(test),
        churned=int(y.sum()),
        model=model_metrics,
        rule=rule_metrics,
        calibration=calibration,
        importance=_importance(model, test, y, seed),
    )


def known_end(as_of: date, last_day: date) -> date:
    """Return the last day the data cover: the as-of date, unless the data stop more than
    ``data_end_slack_days`` before it (then the last day with a visit or callback)."""
    slack = churn_settings().data_end_slack_days
    return as_of if last_day >= as_of - timedelta(days=slack) else last_day


def fit(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    stores: list[str] | None = None,
    seed: int | None = None,
    *,
    with_backtest: bool = True,
) -> ChurnModel:
    """Return the churn model for scoring on ``as_of``, trained (and backtested) on data up to that day only."""
    seed = churn_settings().seed if seed is None else seed
    span = data_span(con, as_of)
    if span is None:
        raise NotEnoughHistory("There are no work orders on or before that date.")
    first_day, last_day = span
    horizon = churn_settings().horizon_days
    # Labels need a whole year after a cutoff; the data may stop before the as-of date.
    end = known_end(as_of, last_day)
    gaps = facts.gap_months(con, as_of)
    cutoffs = training_cutoffs(first_day, end, gaps)
    if not cutoffs and gaps:
        raise NotEnoughHistory(
            f"The work orders have no visit from {gaps[0][0]} to {gaps[-1][1]}; training needs {horizon} days "
            "of history without such a gap, so import the missing months."
        )
    if not cutoffs:
        raise NotEnoughHistory(
            f"Training needs at least {horizon} days of history after the first months; import older work orders."
        )
    test_cutoff = month_end_on_or_before(end - timedelta(days=horizon))
    # One read of the features for the fit's cutoffs and the backtest's (see ``History``).
    wanted = set(cutoffs)
    if with_backtest:
        wanted |= {*training_cutoffs(first_day, test_cutoff, gaps), test_cutoff}
    history = History.read(con, sorted(wanted), stores)
    train, train_y = history.training_set(cutoffs)
    scorer = _fit_calibrated(train, train_y, seed)
    result: Backtest | None = None
    note: str | None = None
    if with_backtest:
        try:
            result = backtest(con, test_cutoff, first_day, stores, seed, history, gaps)
        except NotEnoughHistory as exc:
            note = str(exc)
    return ChurnModel(
        scorer=scorer,
        as_of=as_of,
        train_cutoffs=cutoffs,
        n_train=len(train),
        churn_rate=float(train_y.mean()),
        backtest=result,
        backtest_note=note,
    )


BACKTEST_METRICS: tuple[str, ...] = ("auc", "lift_10", "capture_10", "lift_20", "capture_20", "brier")


@memo.carried
def group_model(
    con: duckdb.DuckDBPyConnection, as_of: date, seed: int | None = None, inputs: str | None = None
) -> tuple[ChurnModel | None, str | None]:
    """Return the churn model trained on every store's history up to ``as_of``, or why there is none.

    Kept by ``memo.remembered``, under the fingerprint of this module and what it imports: none
    of it reads the text catalogue, so editing a translation or the churn list's wording
    (``domain.churn``) keeps the fitted model. ``inputs`` is ``model_inputs.digest`` of the
    records the fit reads (only part of the key): the result is carried to the next data version
    while they are the same (``memo.carried``), so an import of later days does not fit it again.
    """
    try:
        return fit(con, as_of, None, seed), None
    except NotEnoughHistory as exc:
        return None, str(exc)


def backtest_table(result: Backtest, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return one row per backtest metric (AUC, lift and capture at 10% and 20%, Brier) with model
    and rule; ``names`` renames the metrics for people to read."""
    return pd.DataFrame(
        {
            "metric": [(names or {}).get(m, m) for m in BACKTEST_METRICS],
            "model": [result.model[m] for m in BACKTEST_METRICS],
            "rule": [result.rule[m] for m in BACKTEST_METRICS],
        }
    )
