"""The pages' default views: which analytics calls a page makes when it opens.

``rebuild`` computes these right after an import, for all stores and for each store, so
the first visitor of a page finds its results ready. The arguments must be exactly those the
pages pass (same values, same types); ``tests/test_marts.py`` opens every page on the demo
after a rebuild and fails if a page computes anything these calls did not cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from analytics.core.months import month_ends
from analytics.domain import churn, facts, maintenance, overview, quality, themes
from analytics.domain import satisfaction as sat
from analytics.services import marts, sql_marts
from analytics.services.marts import Call, Progress, call_of
from analytics.store import db

DEFAULT_WINDOW = 12
SATISFACTION_BREAKDOWN = "advisor"
RETENTION_GROUP = "model"


def page_calls(month: str, months: Sequence[str], stores: list[str] | None) -> list[Call]:
    """Return the expensive calls of every page for one month, trend window and store choice."""
    start, end = months[0], month
    as_of = month_ends([month])[0]
    churn_stores = tuple(stores) if stores else None
    driver_start, driver_end = sat.driver_window(month)
    return [
        call_of(overview.overview, month, stores),
        call_of(overview.why_tables, month, stores),
        call_of(overview.month_as_of, month),
        call_of(overview.open_followups, month, stores),
        call_of(sat.monthly_satisfaction, stores, start, end),
        call_of(sat.dimension_drivers, stores, driver_start, driver_end),
        call_of(sat.dimension_scores, stores, start, end),
        call_of(sat.breakdown, SATISFACTION_BREAKDOWN, (start, end), stores),
        call_of(themes.monthly_themes, month, "praise", stores),
        call_of(themes.monthly_themes, month, "complaint", stores),
        call_of(themes.themes_by_advisor, month, stores),
        month_comments_call(month, "praise", stores),
        month_comments_call(month, "complaint", stores),
        call_of(churn.snapshot, as_of, churn_stores),
        call_of(churn.status_trend, tuple(month_ends(months)), churn_stores),
        call_of(churn.retention_curve, as_of, RETENTION_GROUP, churn_stores),
        call_of(churn.retention_rates, as_of, RETENTION_GROUP, churn_stores),
        # one model for the group: the same call for every store choice
        call_of(maintenance.snapshot, as_of),
    ]


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Make what the pages read outside the marts: the tokens of the comments an import brought,
    and every comment's theme under the data version's models (``themes.store_assignments``).

    An import commits its callbacks without segmenting their comments (jieba is most of the
    time a callback file would take); the themes segment a comment that has no stored tokens
    when they read it, so they are right before this runs, and faster after. (The maintenance
    page reads one kept snapshot per month, which ``page_calls`` covers.)
    """
    with db.write_transaction(con) as cur:
        themes.tokenize_pending(cur)
    # Every comment's theme under the data version's models, so another month or store choice
    # reads its themes instead of assigning every comment of its window again.
    with db.write_transaction(con) as cur:
        themes.store_assignments(cur)


def global_calls() -> list[Call]:
    """Return the calls that do not depend on a month or store choice: the sidebar's facts and the
    Data page's quality checks."""
    return [
        call_of(facts.available_months),
        call_of(facts.stores),
        call_of(facts.data_summary),
        call_of(quality.summary),
        *(call_of(quality.finding, check) for check in quality.CHECKS),
    ]


def default_calls(con: duckdb.DuckDBPyConnection) -> list[Call]:
    """Return the calls of every page's default view, for all stores and then each store."""
    months = facts.available_months(con)
    if not months:
        return []
    summary = facts.data_summary(con)
    month = facts.default_month(months, str(summary["last_visit"] or ""))
    window = facts.window_months(months, month, DEFAULT_WINDOW)
    stores = facts.stores(con)
    choices: list[list[str] | None] = [None]
    if len(stores) > 1:
        choices += [[store] for store in stores]
    calls = global_calls()
    for chosen in choices:
        calls += page_calls(month, window, chosen)
    return calls


def month_comments_call(month: str, side: str, stores: Sequence[str] | None) -> Call:
    """Return the call of ``themes.month_comments`` that ``themes.theme_comments`` reads (its default
    window, themes and seed), so the drill-down of a page's default view is ready."""
    store_key = tuple(sorted(stores)) if stores else None
    return call_of(themes.month_comments, month, side, store_key, themes.MONTHS_BACK, 8, 0)


def rebuild(con: duckdb.DuckDBPyConnection, progress: Progress | None = None) -> dict[str, Any]:
    """Refresh the SQL marts, then compute every page's default views for the current data version (after
    an import); return timings, the marts' under ``sql_marts``."""
    refreshed = sql_marts.refresh(con)
    return {**marts.rebuild(con, default_calls(con), progress, prepare=prepare), "sql_marts": refreshed}
