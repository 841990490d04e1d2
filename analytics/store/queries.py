"""SQL files under ``analytics/store/sql/``: load them by name and run them with bound parameters.

A file may embed another as a subquery with ``{{ ref('name') }}`` (as in dbt), so a shared
grain such as "one row per callback with its store" is written once; and a rule written once as
an expression, ``sql/macros/<name>.sql``, with ``{{ macro('name', 'column') }}``, the column
standing where the rule says ``{{ value }}`` (a text macro rather than DuckDB's ``CREATE MACRO``,
so that the same SQL runs over a Parquet export and transpiles to Spark). Only file names from
this folder and column names from the SQL files themselves are ever spliced; values always travel
as bound ``$name`` parameters.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

SQL_DIR = Path(__file__).resolve().parent / "sql"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REF = re.compile(r"\{\{\s*ref\('([a-z][a-z0-9_]*)'\)\s*\}\}")
_MACRO = re.compile(
    r"\{\{\s*macro\('([a-z][a-z0-9_]*)',\s*'([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)'\)\s*\}\}"
)
_VALUE = re.compile(r"\{\{\s*value\s*\}\}")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@cache
def load(name: str, tables: frozenset[str] = frozenset()) -> str:
    """Return the text of ``analytics/store/sql/<name>.sql`` with its ``ref`` subqueries expanded.

    A ref named in ``tables`` reads a mart instead (``store.derived`` says when it may): the query
    ``<ref>_mart`` when there is one (a lookup that gives the ref's rows from a mart), else the table
    ``mart_<ref>``, which holds exactly that query's rows.
    """
    if not _NAME.match(name):
        raise ValueError(f"not a query name: {name!r}")
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")

    def expand(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref in tables:
            if (SQL_DIR / f"{ref}_mart.sql").is_file():
                return f"(\n{load(f'{ref}_mart', tables)}\n)"
            return f"(SELECT * FROM mart_{ref})"  # noqa: S608 - a file name that matched _REF
        return f"(\n{load(ref, tables)}\n)"

    return _MACRO.sub(_expand_macro, _REF.sub(expand, text))


@cache
def _macro(name: str) -> str:
    return (SQL_DIR / "macros" / f"{name}.sql").read_text(encoding="utf-8")


def _expand_macro(match: re.Match[str]) -> str:
    name, column = match.groups()
    # Parenthesised, on lines of their own: the rule's leading comment ends at its line.
    return "(\n" + _VALUE.sub(column, _macro(name)).strip() + "\n)"


@cache
def refs(name: str) -> frozenset[str]:
    """Return every query a named query embeds, directly or not."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    found = frozenset(_REF.findall(text))
    return found.union(*(refs(ref) for ref in found))


def parameters(sql: str) -> set[str]:
    """Return the names of the ``$parameters`` a query uses."""
    return set(_PARAM.findall(sql))


def run(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any], tables: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Run a named query, binding only the parameters it uses, and return its rows (``tables``: as in ``load``)."""
    sql = load(name, tables)
    used = parameters(sql)
    missing = used - params.keys()
    if missing:
        raise KeyError(f"query {name} needs parameters {sorted(missing)}")
    return con.execute(sql, {k: params[k] for k in used}).df()
