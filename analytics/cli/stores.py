"""The stores a command is limited to (``--store``), checked against the data."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from analytics.core.errors import UserError
from analytics.services import reads


def named_stores(con: duckdb.DuckDBPyConnection, stores: Sequence[str] | None) -> list[str] | None:
    """Return the stores a command was limited to (None for all), or refuse with the sentence
    naming those the data does not hold and the stores it does."""
    if not stores:
        return None
    known = reads.read(con, "facts.stores")
    unknown = [s for s in stores if s not in known]
    if unknown:
        raise UserError(
            f"Unknown store {', '.join(unknown)}; the stores in the data are: {', '.join(known) or 'none'}."
        )
    return list(stores)
