"""What a fitted model depends on, as a key: the records up to its as-of day, the settings and the code.

A model is fitted from the records dated on or before its as-of day and nothing later (its
backtest and outcomes included), so an import that only brings later days (a store's nightly
export in the middle of a month) leaves it exactly as it was: the refresh scores with the model
already fitted instead of fitting the same one again (two to three minutes at a million work
orders, issue 20). ``digest`` names those records; a key built from it, the settings and the
code differs whenever a refit could give another model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from functools import cache

import duckdb

from analytics.core import memo
from analytics.core.config import DATA_DIR, settings
from analytics.domain import counts
from analytics.store import db, derived, queries


def digest(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    """Return a fingerprint of every record a model fitted at ``as_of`` reads (``model_inputs.sql``).

    The callbacks are read as the callback_facts mart resolves them; while the mart is not
    current for this data version, the fingerprint is the data version itself, which no other
    version shares (the model is fitted again, as before)."""
    if not derived.ready(con, ["callback_facts"], counts.sql_params(None), []):
        return f"version-{db.data_version(con)}"
    # Held in the process while the file is unchanged: a page's churn and themes reads each ask.
    return memo.held(con, _fingerprint, as_of)


def through(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    """Return what a view at ``as_of`` that reads nothing dated later depends on: the day and
    ``digest`` of the records up to it (``memo.carried_while``)."""
    return f"{as_of.isoformat()}|{digest(con, as_of)}"


# A fitted model that scores a view: the day it was fitted at and what names it among the kept
# ones (the churn model's record digest, the maintenance model's file name).
Scorer = tuple[date, str]


def scoring_model(exact: Scorer, exact_kept: bool, newest: Scorer | None) -> Scorer:
    """Return the model that scores a view: ``exact`` (fitted at ``facts.model_as_of`` on the
    records there are now) when it is kept, or when ``newest`` (the newest model kept, None when
    none is) was fitted at a later day; else ``newest``.

    An import of a new month moves the month the pages open on, and with it the day the models
    are wanted at; a correction changes what the wanted model reads. Fitting takes minutes at group
    scale, so the refresh after an import does not: the pages score with the newest model kept,
    fitted before the import (each model card says when), until ``views.refit`` (run by the import
    command, the drop folder and the Data page once the refresh is done) has fitted the one
    wanted. With no model kept at all (a first import), the model is fitted at once.
    """
    if exact_kept or newest is None or newest[0] > exact[0]:
        return exact
    return newest


def scored_through(scorer: Callable[[duckdb.DuckDBPyConnection, date], Scorer]) -> memo.Inputs:
    """Return the ``memo.carried_while`` inputs of a view scored by ``scorer(con, as_of)``: the
    view's day, the model's day and name, and the records up to the later day."""

    def inputs(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
        trained, name = scorer(con, as_of)
        return f"{as_of.isoformat()}|{trained.isoformat()}|{name}|{through(con, max(as_of, trained))}"

    return inputs


@memo.of_records
def _fingerprint(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    return str(queries.run(con, "model_inputs", {"as_of": as_of}).iloc[0]["inputs"])


@memo.primes
def hold_digests(con: duckdb.DuckDBPyConnection, days: list[date]) -> None:
    """Work out ``digest`` of each of ``days`` in one pass over the records
    (``model_inputs_days.sql``) and hold them for the ``digest`` calls that follow: the refresh
    after an import checks the kept views of every month computed ahead, one digest per month
    (0.2 s each at a million work orders, one scan of the records for all of them here)."""
    if len(days) < 2 or not derived.ready(con, ["callback_facts"], counts.sql_params(None), []):
        return
    found = queries.run(con, "model_inputs_days", {"days": sorted(set(days))})
    for day, inputs in zip(found["day"].dt.date, found["inputs"], strict=True):
        memo.hold_given(con, _fingerprint, (day,), str(inputs))


@cache
def code() -> str:
    """Return a fingerprint of the code and data files a model's fit reads: the domain modules, the
    SQL files and the maintenance schedule (any change to them fits the model again)."""
    package = DATA_DIR.parent / "analytics"
    files = sorted([*(package / "domain").rglob("*.py"), *(package / "store").rglob("*.sql")])
    files.append(DATA_DIR / "schedule.toml")
    sha = hashlib.sha256()
    for path in files:
        sha.update(str(path.relative_to(DATA_DIR.parent)).encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def key(con: duckdb.DuckDBPyConnection, as_of: date, model_format: int) -> str:
    """Return the key of a model fitted at ``as_of``: its records, the settings, the code and its file format."""
    sha = hashlib.sha256(settings().fingerprint())
    sha.update(f"|{model_format}|{as_of.isoformat()}|{code()}|{digest(con, as_of)}".encode())
    return sha.hexdigest()[:16]
