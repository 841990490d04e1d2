"""Run the real ``marts`` command with two results to compute, the first a long DuckDB query, so a
test can press Ctrl-C (SIGINT) in the middle of it.

Run as ``python -m tests.rebuild_driver DB``. Prints ``slow`` when the long query starts and
``second`` if the rebuild went on to the second result after the interrupt.
"""

from __future__ import annotations

import sys

import duckdb

from analytics import cli
from analytics.services import marts, views


def slow(con: duckdb.DuckDBPyConnection) -> int:
    """A query that runs for minutes."""
    print("slow", flush=True)
    row = con.execute("SELECT sum(i * i % 7) FROM range(100000000000) t(i)").fetchone()
    return int(row[0]) if row else 0


def second(con: duckdb.DuckDBPyConnection) -> int:
    """The result after the slow one: computed only if the interrupt was swallowed."""
    print("second", flush=True)
    return 1


def main(database: str) -> int:
    """Run ``python -m analytics marts`` on ``database`` with the two results above."""
    views.default_calls = lambda con: [marts.Call(f"{__name__}.slow"), marts.Call(f"{__name__}.second")]
    views.prepare = lambda con: None  # no model to fit: the test is about the interrupt
    return cli.main(["marts", "--db", database])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
