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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

from analytics.core.config import settings
from analytics.core.months import month_ends
from analytics.domain import facts, quality, themes
from analytics.domain import satisfaction as sat
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


def default_calls(con: duckdb.DuckDBPyConnection) -> list[Call]:
    """Return the calls of every page's default view for all stores, and each store's maintenance scores.

    A store's other views are not computed here: the models they score with are the group's
    (fitted by the all-stores calls) and the rest is read from the SQL marts on first use, within
    the any-view budget (at a million work orders each of ten stores' views took about 75 s of the
    refresh in all). Its maintenance scores are the exception: the vehicle state's three queries
    read every store's base (the fleet's km per day needs it), about 3 s cold for one store there.
    """
    months = facts.available_months(con)
    if not months:
        return []
    summary = facts.data_summary(con)
    month = facts.default_month(months, str(summary["last_visit"] or ""))
    window = facts.window_months(months, month, DEFAULT_WINDOW)
    calls = global_calls() + page_calls(month, window, None)
    stores = facts.stores(con)
    if len(stores) > 1:
        as_of = month_ends([month])[0]
        calls += [reads.call("maintenance.snapshot", as_of=as_of, stores=[store]) for store in stores]
    return calls


def ahead_calls(calls: Sequence[Call]) -> list[Call]:
    """Return the calls among ``calls`` that the rebuild computes on a lane of their own beside
    ``prepare`` and the other calls (``marts.rebuild``'s ``ahead``): the maintenance snapshot of
    every store, whose model fit is the longest step of a refresh."""
    return [
        call
        for call in calls
        if call.fn == marts.call_of(reads.READS["maintenance.snapshot"].fn).fn
        and call.args
        and call == reads.call("maintenance.snapshot", as_of=call.args[0], stores=None)
    ]


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
        return marts.rebuild(con, calls, progress, prepare=prepare, ahead=ahead_calls(calls))


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
