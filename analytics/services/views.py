"""The pages' default views: which analytics calls a page makes when it opens.

``rebuild`` computes these right after an import, for all stores (and each store's maintenance
scores), so the first visitor of a page finds its results ready; a single store's other views are
computed on first use, with the group's models fitted here. The calls are the pages' named reads
(``reads.READS``), whose arguments the registry normalises, so a call here and the page's
``load`` of the same view are one key; ``tests/test_marts.py`` opens every page on the demo
after a rebuild and fails if a page computes anything these calls did not cover.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from typing import Any

import duckdb

from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.months import month_ends
from analytics.domain import churn, churn_model, facts, model_inputs, quality, themes
from analytics.domain import satisfaction as sat
from analytics.domain.maintenance import model as maintenance_model
from analytics.domain.maintenance import persistence
from analytics.services import marts, reads, sql_marts
from analytics.services.marts import Call, Progress
from analytics.store import db

DEFAULT_WINDOW = 12


def page_calls(month: str, months: Sequence[str], stores: Sequence[str] | None) -> list[Call]:
    """Return the expensive calls of every page for one month, trend window and store choice.

    The pages' reads by name (``reads.READS``) with the arguments the pages give them; the
    registry normalises them, so these are the keys the pages look up.
    """
    start, end = months[0], month
    as_of = month_ends([month])[0]
    driver_start, driver_end = sat.driver_window(month)
    return [
        reads.call("overview.kpis", month=month, stores=stores),
        reads.call("overview.as_of", month=month),
        reads.call("overview.followups", month=month, stores=stores),
        reads.call("satisfaction.monthly", stores=stores, start=start, end=end),
        reads.call("satisfaction.drivers", stores=stores, start=driver_start, end=driver_end),
        reads.call("satisfaction.dimensions", stores=stores, start=start, end=end),
        reads.call("satisfaction.breakdown", period=(start, end), stores=stores),
        reads.call("themes.monthly", month=month, side="praise", stores=stores),
        reads.call("themes.monthly", month=month, side="complaint", stores=stores),
        reads.call("themes.by_advisor", month=month, stores=stores),
        # what the drill-down of the page's default view reads
        reads.call("themes.month_comments", month=month, side="praise", stores=stores),
        reads.call("themes.month_comments", month=month, side="complaint", stores=stores),
        reads.call("churn.snapshot", as_of=as_of, stores=stores),
        reads.call("churn.trend", as_of_dates=month_ends(months), stores=stores),
        reads.call("churn.retention_curve", as_of=as_of, stores=stores),
        reads.call("churn.retention_rates", as_of=as_of, stores=stores),
        # one model for the group, scoring the chosen stores' vehicles only
        reads.call("maintenance.snapshot", as_of=as_of, stores=stores),
    ]


def prepare(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Make what the pages read outside the marts: the tokens of the comments an import brought,
    the satisfied comments read clause by clause (``themes.store_clauses``) and what the unsatisfied
    ones complain of (``themes.store_complaint_parts``), then every comment's
    theme under the data version's models (``themes.store_assignments``; a satisfied comment's
    praise theme is that of what it praises, read from the clauses).

    An import commits its callbacks without segmenting their comments (jieba is most of the
    time a callback file would take); the themes segment a comment that has no stored tokens
    when they read it, so they are right before this runs, and faster after. (The maintenance
    page reads one kept snapshot per month, which ``page_calls`` covers.) Return each step's seconds.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    with db.write_transaction(con) as cur:
        themes.tokenize_pending(cur)
    seconds["tokens"] = round(time.perf_counter() - clock, 2)
    # The satisfied customers' comments read clause by clause (hidden complaints, praise quotes),
    # first: the praise side's themes are those of what a comment praises, read from here.
    clock = time.perf_counter()
    with db.write_transaction(con) as cur:
        themes.store_clauses(cur)
        # The unsatisfied customers' comments too: what each complains of beside its praise.
        themes.store_complaint_parts(cur)
    seconds["clauses"] = round(time.perf_counter() - clock, 2)
    # Every comment's theme under the data version's models, so another month or store choice
    # reads its themes instead of assigning every comment of its window again.
    clock = time.perf_counter()
    with db.write_transaction(con) as cur:
        themes.store_assignments(cur)
    seconds["assignments"] = round(time.perf_counter() - clock, 2)
    return seconds


def global_calls() -> list[Call]:
    """Return the calls that do not depend on a month or store choice: the sidebar's facts and the
    Data page's quality checks."""
    return [
        reads.call("facts.months"),
        reads.call("facts.stores"),
        reads.call("facts.summary"),
        reads.call("quality.summary"),
        *(reads.call("quality.finding", check=check) for check in quality.CHECKS),
    ]


def _opened(con: duckdb.DuckDBPyConnection) -> tuple[list[str], str] | None:
    """Return the months with data and the month the pages open on, or None without data."""
    months = facts.available_months(con)
    if not months:
        return None
    summary = facts.data_summary(con)
    return months, facts.default_month(months, str(summary["last_visit"] or ""))


def default_calls(con: duckdb.DuckDBPyConnection) -> list[Call]:
    """Return the calls of every page's default view for all stores, and each store's maintenance scores.

    A store's other views are not computed here: the models they score with are the group's
    (fitted by the all-stores calls) and the rest is read from the SQL marts on first use, within
    the any-view budget (at a million work orders each of ten stores' views took about 75 s of the
    refresh in all). Its maintenance scores are the exception: the vehicle state's three queries
    read every store's base (the fleet's km per day needs it), about 3 s cold for one store there.
    """
    opened = _opened(con)
    if opened is None:
        return []
    months, month = opened
    window = facts.window_months(months, month, DEFAULT_WINDOW)
    calls = global_calls() + page_calls(month, window, None)
    stores = facts.stores(con)
    if len(stores) > 1:
        as_of = month_ends([month])[0]
        calls += [reads.call("maintenance.snapshot", as_of=as_of, stores=[store]) for store in stores]
    return calls


def refit(handles: db.Handles, say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Fit the group's churn, maintenance and theme models at the day the pages want them, where
    they are not fitted yet, then compute the default views they score; return what was done.

    After an import of a new month, ``rebuild`` scores the new month with the models fitted at
    the month before (the newest kept: ``model_inputs.scoring_model``; the themes' of
    ``theme_assignments``: ``themes.scoring_models``), so the pages show the new data within a
    minute at group scale; this fits the new ones afterwards (two minutes there, the fits side by
    side, every comment assigned to the new theme models on the themes' thread). The fits read on
    a read-only handle, so the dashboard's pages read meanwhile; the file is held for writing only
    to keep the models and compute the views that change with them. A fit whose records an import
    changed meanwhile is not kept (the next refit fits it again). ``say`` hears one line before
    the fits.
    """
    started = time.perf_counter()
    with handles.reading() as cur:
        wanted = facts.opened_month_end(cur)  # where ``facts.model_as_of`` wants the models
        if wanted is None:
            return {"fitted": [], "seconds": 0.0}
        inputs = model_inputs.digest(cur, wanted)
        # Only the models the views score with older ones for: with none kept, the refresh
        # fitted at ``wanted`` itself (or found too little history, which a second try would too).
        month = wanted.strftime("%Y-%m")
        scoring: dict[str, tuple[tuple[Any, str], tuple[Any, str]]] = {
            "churn": (churn.scoring_model(cur, wanted), (wanted, inputs)),
            "maintenance": (
                persistence.scoring_model(cur, wanted),
                (wanted, persistence.model_path(cur, wanted).name),
            ),
            # both sides' theme models, named by their month and the same records
            "themes": (themes.scoring_models(cur, month), (month, inputs)),
        }
        todo = [name for name, (scorer, exact) in scoring.items() if scorer != exact]
    if not todo:
        return {"as_of": wanted.isoformat(), "fitted": [], "seconds": round(time.perf_counter() - started, 1)}
    if say is not None:
        say(f"fitting the {' and '.join(todo)} model{'s' if len(todo) > 1 else ''} at {wanted.isoformat()}")
    fitted, seconds, failed = _fit_side_by_side(handles, wanted, inputs, todo)
    result: dict[str, Any] = {"as_of": wanted.isoformat(), "fitted": sorted(fitted), "fit_s": seconds}
    if failed:
        result["failed"] = failed
    if not fitted:  # too little history for either: nothing to keep, no view changes
        result["seconds"] = round(time.perf_counter() - started, 1)
        return result
    with handles.writing() as cur:
        if model_inputs.digest(cur, wanted) != inputs:
            result["discarded"] = "the records up to that day changed while the models were fitted"
            result["fitted"] = []
        else:
            if "churn" in fitted:
                call = marts.call_of(churn_model.group_model, wanted, None, inputs)
                marts.store(cur, call, db.data_version(cur), fitted["churn"], seconds["churn"])
            if "maintenance" in fitted:
                persistence.save_model(cur, fitted["maintenance"])
            if "themes" in fitted:
                _keep_themes(cur, fitted["themes"], seconds["themes"])
            # The views the old models scored are computed again (same data version, new models),
            # and the dashboard's cached copies are not read again. The earlier months' stand in
            # for theirs, the pages saying so, until ``keep_earlier`` has computed them.
            marts.drop_changed(cur, aside=computed_later(cur))
            db.stamp_models(cur)
            calls = default_calls(cur)
            with _fit_threads():
                built = marts.rebuild(cur, calls, ahead=lambda c: ahead_calls(calls, c))
            result["views_s"] = built["seconds"]
            if built["failed"]:
                result["views_failed"] = built["failed"]
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def refit_after_import(
    handles: db.Handles, say: Callable[[str], None] | None = None
) -> dict[str, Any] | None:
    """Run ``refit`` after an import has committed and its refresh is done; ``say`` hears what it
    fitted, or why it could not: a failure here never makes the import look failed (the pages
    go on scoring with the models fitted before). Return ``refit``'s result, or None on failure."""
    tell = say or (lambda line: None)
    try:
        result = refit(handles, tell)
    except Exception as exc:  # noqa: BLE001 - the import has committed; derived results must not fail it
        reason = _reason(exc)
        tell(
            f"note: the models could not be fitted now ({reason}); the pages score with the models "
            "fitted before until the next import or `python -m analytics marts` fits them."
        )
        return None
    if result["fitted"]:
        tell(f"models fitted at {result['as_of']} ({', '.join(result['fitted'])}) in {result['seconds']} s")
    for name, reason in result.get("failed", {}).items():
        tell(f"note: the {name} model could not be fitted: {reason}")
    if "discarded" in result:
        tell(f"note: the models were not kept: {result['discarded']}; the next import fits them again.")
        return result
    try:
        earlier = keep_earlier(handles, say)
    except Exception as exc:  # noqa: BLE001 - as above: an earlier month's page computes its own views
        tell(f"note: the earlier months' views were not computed ahead ({_reason(exc)}).")
        return result
    result["earlier"] = earlier
    if earlier["months"]:
        tell(
            f"the pages' views of {len(earlier['months'])} earlier months kept "
            f"({earlier['months'][-1]} to {earlier['months'][0]}) in {earlier['seconds']} s"
        )
    if "stopped" in earlier:
        tell(f"note: stopped computing earlier months: {earlier['stopped']}.")
    return result


# Every page's reads of an earlier month are computed ahead (``keep_earlier``): another month's
# churn list and maintenance scores, for all stores, cost 4-6 s at a million work orders, and its
# overview (the follow-up list, the "why?" tables), themes (the month's comments assigned to the
# models) and satisfaction views 1.5-2.3 s on a page's first visit, against a 2 s budget; read back,
# each page's are a few tenths of a second.
EARLIER_LANE = "maintenance.snapshot"  # computed beside the other reads, on a thread of its own


def earlier_calls(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[Call], list[Call]]]:
    """Return, newest first, each of the ``[database] months_ahead`` months before the month the
    pages open on ("all": every month the pages offer) with its pages' calls but the maintenance
    page's, and the maintenance page's (``EARLIER_LANE``), all stores, as the pages make them when
    that month is chosen (``page_calls``: the same keys)."""
    opened = _opened(con)
    ahead = settings().database.months_ahead
    if opened is None or ahead == 0:
        return []
    months, month = opened
    lane = marts.call_of(reads.READS[EARLIER_LANE].fn).fn
    found = []
    before = sorted((m for m in months if m < month), reverse=True)
    for earlier in before if ahead == "all" else before[:ahead]:
        calls = page_calls(earlier, facts.window_months(months, earlier, DEFAULT_WINDOW), None)
        found.append(
            (
                earlier,
                [call for call in calls if call.fn != lane],
                [call for call in calls if call.fn == lane],
            )
        )
    return found


# The earlier months' views a page shows as last computed until ``keep_earlier`` has computed them
# again (``marts.stand_in``): the churn list and the maintenance scores, 7-11 s to score afresh at a
# million work orders. (The churn page's trend and retention come from the SQL marts.)
STAND_IN_READS = ("churn.snapshot", "maintenance.snapshot")


def computed_later(con: duckdb.DuckDBPyConnection) -> list[Call]:
    """Return the calls of ``STAND_IN_READS`` that ``keep_earlier`` computes (``earlier_calls``):
    until it has, what they gave before the import or the refit stands in for them."""
    fns = {marts.call_of(reads.READS[name].fn).fn for name in STAND_IN_READS}
    return [call for _, calls, lane in earlier_calls(con) for call in (*calls, *lane) if call.fn in fns]


def keep_earlier(handles: db.Handles, say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Compute and keep every page's views of the months before the one the pages open on
    (``earlier_calls``, newest first) that are not kept for this data version and these models;
    return which months were done and the seconds.

    Choosing an earlier month then reads kept results instead of scoring 200,000 vehicles (4-6 s
    at a million work orders) or assigning the month's comments to the theme models. Run after
    ``refit``, whose new models would otherwise drop what this keeps. Each month is computed on
    read-only cursors, the maintenance scores beside the other pages' reads, and kept under a short
    hold of the file for writing, so the dashboard reads and an import can start meanwhile; a month
    is kept only when the data and the models are still those it was computed from, and the work
    stops at the first month they are not (the refresh after that import runs its own).
    """
    started = time.perf_counter()
    with handles.reading() as cur:
        wanted = facts.opened_month_end(cur)
        if wanted is None:
            return {"months": [], "failed": {}, "seconds": 0.0}
        if not (churn.model_kept(cur, wanted) and persistence.is_saved(cur, wanted)):
            # A view would fit the model itself, on a read-only handle that cannot keep it: once
            # for every month. ``refit`` fits and keeps it first; when it could not, nothing here.
            return {"months": [], "failed": {}, "seconds": 0.0, "skipped": "the models are not fitted"}
        version, stamp = db.data_version(cur), db.models_stamp(cur)
        todo = [
            (month, [c for c in (*calls, *lane) if not marts.is_kept(cur, c, version)])
            for month, calls, lane in earlier_calls(cur)
        ]
    todo = [(month, calls) for month, calls in todo if calls]
    result: dict[str, Any] = {"months": [], "failed": {}}
    if todo and say is not None:
        say(f"computing the pages' views of {len(todo)} earlier month{'s' * (len(todo) > 1)}")

    lane_fn = marts.call_of(reads.READS[EARLIER_LANE].fn).fn
    with _fit_threads(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="earlier") as pool:
        for month, calls in todo:
            beside = pool.submit(_compute, handles, [call for call in calls if call.fn == lane_fn])
            done = _compute(handles, [call for call in calls if call.fn != lane_fn]) + beside.result()
            with handles.writing() as cur:
                if (db.data_version(cur), db.models_stamp(cur)) != (version, stamp):
                    result["stopped"] = f"the data or the models changed while {month} was computed"
                    break
                for entry in done:
                    if len(entry) == 2:
                        result["failed"][f"{_view_name(entry[0])} {month}"] = _reason(entry[1])
                        continue
                    call, value, seconds = entry
                    marts.store(cur, call, version, value, seconds, marts.read_inputs(cur, call))
            result["months"].append(month)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


Computed = tuple[Call, Any, float] | tuple[Call, BaseException]


def _compute(handles: db.Handles, calls: list[Call]) -> list[Computed]:
    """Compute ``calls`` on a read-only cursor without keeping them; return each with its result
    and seconds, or with the exception it raised."""
    out: list[Computed] = []
    with handles.reading() as cur:
        for call in calls:
            clock = time.perf_counter()
            try:
                out.append((call, marts.cached(cur, call, keep=False), time.perf_counter() - clock))
            except Exception as exc:  # noqa: BLE001 - too little history, say: the page says why itself
                out.append((call, exc))
    return out


def _view_name(call: Call) -> str:
    return call.fn.rpartition(".")[2]


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"


def _fit_side_by_side(
    handles: db.Handles, wanted: date, inputs: str, todo: list[str]
) -> tuple[dict[str, Any], dict[str, float], dict[str, str]]:
    """Fit the ``todo`` models at ``wanted`` on threads of their own, each on a read-only cursor;
    return the fitted ones by name, each one's seconds and why any could not be fitted."""

    def fit_one(name: str) -> tuple[Any, float]:
        clock = time.perf_counter()
        with handles.reading() as cur:
            if name == "churn":
                value: Any = churn_model.group_model(cur, wanted, None, inputs)
            elif name == "themes":
                value = _fit_themes(cur, (wanted.strftime("%Y-%m"), inputs))
            else:
                value = maintenance_model.fit(cur, wanted)
        return value, round(time.perf_counter() - clock, 1)

    fitted: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    failed: dict[str, str] = {}
    with _fit_threads(), ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix="refit") as pool:
        futures = {name: pool.submit(fit_one, name) for name in todo}
        for name, future in futures.items():
            try:
                fitted[name], seconds[name] = future.result()
            except UserError as exc:  # too little history: the pages say so themselves
                failed[name] = str(exc)
    return fitted, seconds, failed


def _fit_themes(
    cur: duckdb.DuckDBPyConnection, key: themes.ModelKey
) -> tuple[dict[str, themes.ThemeModel], themes.Assignments]:
    """Fit both sides' theme models of ``key`` and assign every comment to them, reading only."""
    models = {
        side: themes.fit_model(cur, key[0], side, themes.MONTHS_BACK, 8, 0, key[1]) for side in themes.SIDES
    }
    return models, themes.assign_comments(cur, key, models)


def _keep_themes(
    cur: duckdb.DuckDBPyConnection,
    fitted: tuple[dict[str, themes.ThemeModel], themes.Assignments],
    seconds: float,
) -> None:
    """Keep the theme models ``_fit_themes`` fitted and every comment's theme under them (assigned
    again here when an import of later days changed the comments meanwhile), and drop the themes'
    views of this data version that the older models named."""
    models, assigned = fitted
    version = db.data_version(cur)
    for side, model in models.items():
        call = marts.call_of(
            themes.fit_model, assigned.key[0], side, themes.MONTHS_BACK, 8, 0, assigned.key[1]
        )
        marts.store(cur, call, version, model, seconds)
    with db.write_transaction(cur) as tx:  # the table and its key together
        if assigned.data_version == db.data_version(tx):
            themes.keep_assignments(tx, assigned)
        else:
            themes.store_assignments(tx)
    marts.drop_results(cur, f"{themes.__name__}.", keep=[marts.call_of(themes.fit_model).fn])


def _group_call(call: Call, name: str) -> bool:
    """Whether ``call`` is the read ``name`` at its as-of day for every store."""
    return (
        call.fn == marts.call_of(reads.READS[name].fn).fn
        and bool(call.args)
        and call == reads.call(name, as_of=call.args[0], stores=None)
    )


def ahead_calls(calls: Sequence[Call], con: duckdb.DuckDBPyConnection) -> list[Call]:
    """Return the calls among ``calls`` that the rebuild computes on a lane of their own beside
    ``prepare`` and the other calls (``marts.rebuild``'s ``ahead``), in the lane's order: the
    maintenance snapshot of every store, whose model fit is the longest step of a refresh, and each
    store's (its rows, sliced there); the churn list of every store when its model is kept (a model
    to fit is fitted on the rebuild's thread, beside the maintenance model's).

    After an import of a month at a million work orders, the rebuild's thread (segmenting and
    reading comments, the themes, the overview, the quality checks, writing each result) took 53 s
    and the lane 22 s; the ten stores' scores (5 s, written after the lane was done) and the churn
    list (9 s, a model that scores) fill the lane's slack. Asked after the rebuild has filed the
    models kept for earlier versions under this one (``marts.purge``), as ``memo.stored`` reads them.
    """
    group = [call for call in calls if _group_call(call, "maintenance.snapshot")]
    maintenance = marts.call_of(reads.READS["maintenance.snapshot"].fn).fn
    days = {call.args[0] for call in group}
    stores = [call for call in calls if call.fn == maintenance and call not in group and call.args[0] in days]
    lane = [call for call in calls if _group_call(call, "churn.snapshot")]
    churn_kept = bool(lane) and churn.scores_with_kept_model(con, lane[0].args[0])
    return [*group, *stores, *(lane if churn_kept else [])]


def rebuild(con: duckdb.DuckDBPyConnection, progress: Progress | None = None) -> dict[str, Any]:
    """Refresh the SQL marts, then compute every page's default views for the current data version (after
    an import); return timings, the marts' under ``sql_marts``."""
    refreshed = sql_marts.refresh(con)
    return {**rebuild_views(con, progress), "sql_marts": refreshed}


def rebuild_views(con: duckdb.DuckDBPyConnection, progress: Progress | None = None) -> dict[str, Any]:
    """Run ``prepare`` and compute every page's default view (what ``rebuild`` does after the SQL
    marts), the maintenance model fitted beside them; return ``marts.rebuild``'s timings."""
    calls = default_calls(con)
    with _fit_threads():
        return marts.rebuild(
            con, calls, progress, prepare=prepare, ahead=lambda c: ahead_calls(calls, c), aside=computed_later
        )


@contextmanager
def _fit_threads() -> Iterator[None]:
    """Hold the trees' OpenMP threads at the maintenance setting while models are fitted side by side.

    Each fit limits them itself and restores, on leaving, what it found on entering; two fits
    on two threads would leave whichever limit the later one found. Set here first (scikit-learn's
    trees loaded, since ``threadpool_limits`` limits only loaded libraries), every fit finds and
    restores the same limit, and this restores the process's own at the end.
    """
    import sklearn.ensemble  # noqa: F401 - loads the OpenMP runtime the limit applies to
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=settings().maintenance.threads, user_api="openmp"):
        yield
