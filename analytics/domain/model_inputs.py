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
from datetime import date
from functools import cache

import duckdb

from analytics.core import memo
from analytics.core.config import DATA_DIR, settings
from analytics.domain import counts, facts
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


def scored_through(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    """Return what a view at ``as_of`` scored by the group's models depends on: the day the models
    are fitted at (``facts.model_as_of``, never before ``as_of``) and the records up to it."""
    trained = facts.model_as_of(con, as_of)
    return f"{as_of.isoformat()}|{through(con, max(as_of, trained))}"


def _fingerprint(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    return str(queries.run(con, "model_inputs", {"as_of": as_of}).iloc[0]["inputs"])


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
