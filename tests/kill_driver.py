"""Import one file and say where it is, so that a test can SIGKILL it at a named stage.

Run as ``python -m tests.kill_driver DB FILE``. The process prints one line per stage, flushed:
``start`` (connected), ``progress 0.0`` / ``0.3`` / ``0.5`` (read, checked, about to write),
``refresh`` (inside the transaction, every row written, derived tables not yet rebuilt),
``refreshed`` (inside the transaction, just before COMMIT), ``progress 1.0`` (committed, the
database still open) and ``closed``. With ``KILL_PAUSE_AT=<stage>`` it stops at that stage and
waits to be killed. The stages come from the import's progress callback and from wrapping
``load.refresh_derived``; the import itself is the product's, unchanged.

With several files (``python -m tests.kill_driver DB FILE FILE...``) it imports them as the import
command does (``import_files``: one transaction a file, the next file read meanwhile) and prints
``committed N`` after the N-th file's commit, ``batch done`` once the batch is over, then
``closed``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from analytics.ingest import import_file, import_files, load
from analytics.store import db

PAUSE_AT = os.environ.get("KILL_PAUSE_AT", "")


def stage(name: str) -> None:
    """Print the stage and, when it is the one asked for, wait there to be killed."""
    print(name, flush=True)
    if name == PAUSE_AT:
        time.sleep(600)


def main(database: str, source: str) -> None:
    """Import ``source`` into ``database`` announcing each stage."""
    refresh = load.refresh_derived

    def announced_refresh(con: Any, **options: Any) -> None:
        stage("refresh")
        refresh(con, **options)
        stage("refreshed")

    load.refresh_derived = announced_refresh  # type: ignore[assignment]
    con = db.connect(database)
    stage("start")
    import_file(
        con, source, kind="service", progress=lambda fraction, _message: stage(f"progress {fraction}")
    )
    con.close()
    stage("closed")


def main_batch(database: str, sources: list[str]) -> None:
    """Import ``sources`` into ``database`` as one batch, announcing each commit."""
    con = db.connect(database)
    stage("start")
    for n, (_source, result) in enumerate(import_files(con, sources, kind="service"), start=1):
        if isinstance(result, Exception):
            raise result
        stage(f"committed {n}")
    stage("batch done")
    con.close()
    stage("closed")


if __name__ == "__main__":
    if len(sys.argv) > 3:
        main_batch(sys.argv[1], sys.argv[2:])
    else:
        main(sys.argv[1], sys.argv[2])
