"""Several sessions on one server, and a second program on the same database file.

The dashboard borrows handles from one ``db.Handles`` per server process, a cursor of its own
for every query (ui/data.py). While one session imports through the Data page's code path, the
others keep reading without errors and each figure shows the state before the import or after
it, never a mix. A second process that finds the file held for longer than it waits gets a
sentence saying which program holds it and what to do, on the command line and on the page.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics.core.errors import DatabaseLocked
from analytics.domain import overview
from analytics.ingest import import_file
from analytics.store import db
from tests.db_state import ROOT, run_cli
from tests.hostile_corpus import SERVICE_HEADER, service_row, table_text

DATA = ROOT / "tests" / "data"
MONTH = "2024-03"
ROWS = 8_000


def state_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, str]:
    """Return (work orders, vehicles, imports, data version), read by one query."""
    row = con.execute(
        """SELECT (SELECT count(*) FROM service_orders), (SELECT count(*) FROM vehicles),
                  (SELECT count(*) FROM imports), (SELECT value FROM meta WHERE key = 'data_version')"""
    ).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2]), str(row[3])


def _overview_figures(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """Return the Overview page's KPI values and counts for the month, comparable across runs."""
    report = overview.overview(con, MONTH).report
    return tuple(sorted((name, entry["value"], entry["n"]) for name, entry in report["kpis"].items()))


def _export(first: int, rows: int = ROWS) -> bytes:
    lines = [SERVICE_HEADER] + [service_row(i) for i in range(first, first + rows)]
    return table_text(lines).encode("gbk")


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[db.Handles]:
    """The server's handles (ui.data) on a database holding the golden files."""
    from ui import data as ui_data

    path = tmp_path / "shared.duckdb"
    con = db.connect(path)
    import_file(con, DATA / "service_orders_gbk.csv")
    import_file(con, DATA / "callbacks_bom.csv")
    con.close()
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    yield ui_data.handles(str(path))
    ui_data._cached_call.clear()
    ui_data.handles(str(path)).close()


def _page_import(content: bytes, **kwargs: Any) -> Any:
    """The Data page's import: a writable handle of the server's, the uploaded bytes, one transaction."""
    from ui.data import writing

    with writing() as cur:
        return import_file(cur, content, **kwargs)


def _counts_now() -> tuple[int, int, int, str]:
    from ui.data import reading

    with reading() as cur:
        return state_counts(cur)


def _keep_reading(
    read: Callable[[], Any], stop: threading.Event, seen: list[tuple[float, Any]], errors: list[BaseException]
) -> None:
    """Call read() until told to stop, then once more; keep (finish time, result) of each call."""
    try:
        while not stop.is_set():
            seen.append((time.perf_counter(), read()))
        seen.append((time.perf_counter(), read()))
    except BaseException as exc:  # any error at all fails the test
        errors.append(exc)


def test_sessions_keep_reading_while_one_imports_and_see_before_or_after(shared):
    from ui.data import load, snapshot

    def figures() -> tuple[Any, ...]:
        with snapshot() as (cur, _version):  # what load() does for every figure
            return _overview_figures(cur), state_counts(cur)

    def single_query() -> tuple[int, int, int, str]:
        return _counts_now()

    def cached_summary() -> dict[str, Any]:
        return load("facts.summary")

    before = figures(), single_query(), cached_summary()
    readers = (figures, single_query, cached_summary)
    stop = threading.Event()
    seen: dict[int, list[tuple[float, Any]]] = {i: [] for i in range(len(readers))}
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_keep_reading, args=(read, stop, seen[i], errors))
        for i, read in enumerate(readers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    began = time.perf_counter()
    result = _page_import(_export(1), file_name="upload.csv", kind="service", who="dashboard")
    ended = time.perf_counter()
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert result.inserted == ROWS
    after = figures(), single_query(), cached_summary()
    assert after != before
    for i in range(len(readers)):
        assert set(repr(value) for _, value in seen[i]) <= {repr(before[i]), repr(after[i])}, f"reader {i}"
        assert repr(seen[i][-1][1]) == repr(after[i])
    # The readers really ran while the import did.
    assert any(began < when < ended for i in seen for when, _ in seen[i])


def test_two_sessions_importing_at_once_both_land(shared):
    results: list[Any] = []
    errors: list[BaseException] = []

    def upload(first: int) -> None:
        try:
            results.append(_page_import(_export(first, 3_000), file_name=f"{first}.csv", who="dashboard"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(first,)) for first in (1, 10_001, 20_001)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(r.inserted for r in results) == [3_000, 3_000, 3_000]
    assert _counts_now()[:3] == (8 + 9_000, 7 + 9_000, 5)
    # Every handle was given back: the file is closed, so other programs may open it for writing.
    shared.close()
    assert not shared.is_open()


def test_overview_page_runs_while_another_session_imports(shared):
    # AppTest runs share one mocked runtime, so the page runs one session at a time here, over
    # and over, while the import runs in another thread on the server's writable handle.
    def overview_visits() -> str:
        page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        page.session_state["lang"] = "en"
        page.run()
        assert not page.exception, [e.message for e in page.exception]
        assert not page.error, [e.value for e in page.error]
        return str(page.metric[0].value)

    before = overview_visits()
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            _page_import(_export(1, 20_000), file_name="upload.csv", kind="service", who="dashboard")
        except BaseException as exc:
            errors.append(exc)

    importer = threading.Thread(target=upload)
    importer.start()
    tiles = [overview_visits()]
    while importer.is_alive():
        tiles.append(overview_visits())
    importer.join()
    assert errors == []
    after = overview_visits()
    assert after != before
    assert set(tiles) <= {before, after}


# --------------------------------------------------------------------------- a second program


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A database file held open for writing by another process, as the dashboard or an import does."""
    path = tmp_path / "held.duckdb"
    db.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('holding', flush=True); time.sleep(600)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    yield path, holder
    holder.kill()
    holder.wait(timeout=30)


def test_the_command_line_says_who_holds_the_database_and_what_to_do(held):
    path, holder = held
    for args in (["import", str(DATA / "service_orders_gbk.csv")], ["imports"], ["rollback", "1"]):
        began = time.monotonic()
        done = run_cli(*args, "--db", str(path), ANALYTICS_LOCK_WAIT_SECONDS="1.5")
        assert done.returncode == 2
        # It waited the time it was given for the holder to let go, and not much more.
        assert 1.5 <= time.monotonic() - began < 30
        assert "Traceback" not in done.stderr
        [line] = done.stderr.splitlines()
        assert line == (
            f"error: The database {path} is in use by another program ({Path(sys.executable).name}, "
            f"process {holder.pid}), which kept it for more than 1.5 s; wait for it to finish (an import "
            "or a backup, say), then run this command again."
        )


def test_a_command_waits_for_a_holder_that_lets_go(held):
    path, holder = held
    # The holder lets go two seconds after the command started: the import then goes ahead.
    timer = threading.Timer(2.0, holder.kill)
    timer.start()
    began = time.monotonic()
    done = run_cli("import", str(DATA / "service_orders_gbk.csv"), "--db", str(path), "--no-marts")
    timer.join()
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - began >= 2.0
    con = db.connect(path, read_only=True)
    try:
        assert state_counts(con)[:3] == (8, 7, 1)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("command_line", "holder", "advice"),
    [
        (
            ["/srv/.venv/bin/python", "/srv/.venv/bin/streamlit", "run", "app.py"],
            "the dashboard, process 4242",
            "the dashboard holds it only while it writes (an import, a rollback, the views after one), so "
            "run this command again in a minute, or import on its Data page instead.",
        ),
        (
            ["/srv/.venv/bin/python", "-m", "analytics", "import", "a.csv"],
            "python -m analytics import, process 4242",
            "wait for that command to finish, then run this one again.",
        ),
        (
            [],
            "process 4242",
            "wait for it to finish (an import or a backup, say), then run this command again.",
        ),
    ],
)
def test_the_sentence_names_the_kind_of_program_holding_the_file(monkeypatch, command_line, holder, advice):
    monkeypatch.setattr(db, "_command_line", lambda pid: command_line if pid == 4242 else [])
    error = duckdb.IOException(
        'IO Error: Could not set lock on file "x.duckdb": Conflicting lock is held in /usr/bin/python3 (PID 4242).'
    )
    locked = db._locked(Path("x.duckdb"), error)
    assert isinstance(locked, DatabaseLocked)
    assert locked.holder == holder
    assert str(locked).startswith(f"The database x.duckdb is in use by another program ({holder}); ")
    assert advice in str(locked)


def test_the_page_says_the_database_is_in_use_and_works_once_it_is_free(held, monkeypatch):
    from analytics.core.i18n import text
    from ui import data as ui_data

    path, holder = held
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_LOCK_WAIT_SECONDS", "1")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    holder_text = f"{Path(sys.executable).name}, process {holder.pid}"
    # A note, not an error: the page shows the data once the other program has finished.
    assert not at.error
    assert [e.value for e in at.info] == [
        text("app.db_locked", "en", path=str(path), holder=holder_text, seconds="1")
    ]
    holder.kill()
    holder.wait(timeout=30)
    at.run()
    assert not at.exception and not at.error
    # The page's own notes now (the database is empty), no word of another program.
    notes = [e.value for e in at.info]
    assert notes[0] == text("app.empty_db", "en")
    assert not any("another program" in note or "being written" in note for note in notes), notes
    # The server keeps no handle between page runs: a command-line import goes ahead beside it.
    done = run_cli("import", str(DATA / "service_orders_gbk.csv"), "--db", str(path), "--no-marts")
    assert done.returncode == 0, done.stderr
    at.run()
    assert not at.exception and not at.error
    ui_data.handles(str(path)).close()
