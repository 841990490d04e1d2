"""One writer, many readers (issue 21 item 1): a running dashboard and command-line jobs at once.

The server keeps no database handle between uses (``db.Handles``, ui/data.py), so a
command-line import, ``report``, ``audit`` and ``backup`` open the file while sessions are open,
and two servers share one database. Sessions here are real server sessions spoken to over the
server's WebSocket (``tests.streamlit_server.Session``), so no browser is needed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from analytics.devtools import bench_browser
from analytics.store import db
from tests.db_state import ROOT, run_cli
from tests.hostile_corpus import service_csv
from tests.streamlit_server import Run, Session, serve

SESSIONS = 5
NEW_ORDERS = 5_000


def orders_shown(run: Run) -> int:
    """The work orders the sidebar says the database holds ("3,888 张工单 · ...")."""
    for text in run.texts():
        found = re.match(r"([\d,]+) 张工单 · ", text)
        if found:
            return int(found.group(1).replace(",", ""))
    raise AssertionError(f"no work-order count on the page: {run.texts()[:12]}")


def orders_in(path: Path) -> int:
    con = db.connect(path, read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM service_orders").fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


@pytest.fixture
def served(demo_db: Path, tmp_path: Path):
    """A server on a copy of the demo, and its database path."""
    path = tmp_path / "served.duckdb"
    shutil.copy(demo_db, path)
    with serve(path) as url:
        yield url, path


def test_five_sessions_and_a_command_line_import_both_succeed_and_the_pages_show_it(served, tmp_path):
    url, path = served
    before = orders_in(path)
    sessions = [Session(url) for _ in range(SESSIONS)]
    try:
        first = [s.run() for s in sessions]
        assert all(not r.problems() for r in first), [r.problems() for r in first]
        assert [orders_shown(r) for r in first] == [before] * SESSIONS

        drop = tmp_path / "orders.csv"
        drop.write_bytes(service_csv(NEW_ORDERS))
        runs: list[Run] = []
        errors: list[BaseException] = []
        importing = threading.Event()

        def browse(session: Session) -> None:
            # Each session keeps running its page while the import runs, and once more after.
            try:
                while importing.is_set():
                    runs.append(session.run())
            except BaseException as exc:  # any failure at all fails the test
                errors.append(exc)

        importing.set()
        readers = [threading.Thread(target=browse, args=(s,)) for s in sessions]
        for reader in readers:
            reader.start()
        started = time.monotonic()
        done = run_cli("import", str(drop), "--db", str(path), "--json", timeout=900)
        took = time.monotonic() - started
        importing.clear()
        for reader in readers:
            reader.join(timeout=900)
        assert errors == []
        assert done.returncode == 0, done.stderr
        [result] = json.loads(done.stdout)
        assert result["inserted"] == NEW_ORDERS
        after = orders_in(path)
        assert after == before + NEW_ORDERS
        # The sessions ran while the import did, never with a traceback or an error box, and
        # each run showed the state before the import or after it.
        assert len(runs) >= SESSIONS, (len(runs), took)
        assert all(not r.problems() for r in runs), [r.problems() for r in runs if r.problems()]
        assert {orders_shown(r) for r in runs if not _waited_out(r)} <= {before, after}
        # After the commit every session's page shows the new data.
        last = [s.run() for s in sessions]
        assert all(not r.problems() for r in last)
        assert [orders_shown(r) for r in last] == [after] * SESSIONS
    finally:
        for session in sessions:
            session.close()


def _waited_out(run: Run) -> bool:
    """A run that gave up waiting for the writer (it says so, and shows no figures)."""
    return any(
        "has been writing to the database" in text or "正在向数据库写入" in text for text in run.texts()
    )


def test_report_audit_and_backup_run_while_the_server_is_up(served):
    url, path = served
    session = Session(url)
    try:
        assert not session.run().problems()
        month = "2026-10"
        for args in (["report", "--month", month], ["audit", "--limit", "5"], ["backup"]):
            done = run_cli(*args, "--db", str(path), timeout=300)
            assert done.returncode == 0, (args, done.stderr)
            assert "Traceback" not in done.stderr
            # The session keeps working between the commands.
            assert not session.run().problems()
        backups = sorted(db.backup_dir(path).glob("*.duckdb"))
        assert len(backups) == 1
        assert orders_in(backups[0]) == orders_in(path)
    finally:
        session.close()


def test_two_servers_on_one_database_serve_pages_side_by_side(demo_db, tmp_path):
    path = tmp_path / "two.duckdb"
    shutil.copy(demo_db, path)
    expected = orders_in(path)
    with serve(path) as first_url, serve(path) as second_url:
        urls = [first_url, second_url, first_url, second_url]
        sessions = [Session(url) for url in urls]
        try:
            runs: list[Run] = []
            errors: list[tuple[str, BaseException]] = []

            def browse(url: str, session: Session) -> None:
                try:
                    for page in ("", "satisfaction", ""):
                        runs.append(session.run(page))
                except BaseException as exc:
                    errors.append((url, exc))

            threads = [
                threading.Thread(target=browse, args=pair) for pair in zip(urls, sessions, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
            # Once in CI two sessions lost their connection with no closing frame: say which server
            # they were on and whether it still answers, so that a dead server shows as one.
            assert errors == [], (
                errors,
                {url: (_answers(url), bench_browser.server_state(url)) for url in (first_url, second_url)},
            )
            assert len(runs) == 3 * len(sessions)
            assert all(not r.problems() for r in runs), [r.problems() for r in runs if r.problems()]
            assert {orders_shown(r) for r in runs} == {expected}
        finally:
            for session in sessions:
                session.close()


def _answers(url: str) -> str:
    """Return what the server's health check says now (or why it says nothing)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as resp:
            return resp.read().decode(errors="replace").strip()
    except OSError as exc:
        return f"no answer: {exc}"


# --------------------------------------------------------------------------- the handles themselves


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.duckdb"
    con = db.connect(path)
    con.execute("CREATE TABLE t (x INTEGER)")
    con.execute("INSERT INTO t VALUES (1)")
    con.close()
    return path


def _other_program_can_write(path: Path) -> bool:
    code = "import sys, duckdb; duckdb.connect(sys.argv[1]).close()"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True).returncode == 0


def test_handles_read_only_while_reading_and_give_the_file_back_when_done(small):
    handles = db.Handles(small, keep_open=0.3)
    with handles.reading() as one, handles.reading() as two:
        assert one.execute("SELECT x FROM t").fetchall() == [(1,)]
        assert two.execute(
            "SELECT readonly FROM duckdb_databases() WHERE database_name = 'small'"
        ).fetchall() == [(True,)]
        # Another program may read meanwhile, not write.
        other = duckdb.connect(str(small), read_only=True)
        other.close()
        assert not _other_program_can_write(small)
    assert handles.is_open()  # kept a moment for the next query of the page
    time.sleep(0.6)
    assert not handles.is_open()
    assert _other_program_can_write(small)
    # One open for both readers (the schema is current, so no writable open checks it first).
    assert handles.opened == 1


def test_a_first_read_needs_no_write_lock_when_the_schema_is_current(small, monkeypatch):
    # Another program (a second dashboard) reads the file and keeps it open: this process's first
    # read opens it read-only beside it at once, instead of waiting for a writable open to check
    # the schema (which used to cost every fresh lender the other's keep-open time, or a lock).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=True); sys.stdin.read()",
            str(small),
        ],
        stdin=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while _other_program_can_write(small) and time.monotonic() < deadline:
            time.sleep(0.05)
        monkeypatch.setattr(db, "lock_wait_seconds", lambda: 0.0)
        handles = db.Handles(small, keep_open=0)
        clock = time.monotonic()
        with handles.reading() as cur:
            assert cur.execute("SELECT x FROM t").fetchall() == [(1,)]
        assert time.monotonic() - clock < 1.0 and handles.opened == 1
    finally:
        holder.communicate(b"", timeout=10)


def test_a_first_read_of_an_older_schema_brings_it_up_to_date(small, monkeypatch):
    # A release with one more migration than the file has: its first read migrates, then reads.
    monkeypatch.setitem(db.MIGRATIONS, db.SCHEMA_VERSION + 1, ["CREATE TABLE added_later (y INTEGER)"])
    monkeypatch.setattr(db, "SCHEMA_VERSION", db.SCHEMA_VERSION + 1)
    handles = db.Handles(small, keep_open=0)
    with handles.reading() as cur:
        assert db.schema_version(cur) == db.SCHEMA_VERSION
        assert cur.execute("SELECT count(*) FROM added_later").fetchone() == (0,)
        assert cur.execute(
            "SELECT readonly FROM duckdb_databases() WHERE database_name = 'small'"
        ).fetchall() == [(True,)]
    fresh = db.Handles(small.with_name("new.duckdb"), keep_open=0)
    with fresh.reading() as cur:  # a file that does not exist yet is created with the schema
        assert db.schema_version(cur) == db.SCHEMA_VERSION


def test_a_writer_waits_for_the_readers_and_readers_arriving_meanwhile_read_its_handle(small):
    handles = db.Handles(small, keep_open=0)
    order: list[str] = []
    reading = threading.Event()
    release = threading.Event()

    def long_read() -> None:
        with handles.reading() as cur:
            reading.set()
            release.wait(10)
            seen = cur.execute("SELECT count(*) FROM t").fetchone()
            order.append(f"read {seen}")

    reader = threading.Thread(target=long_read)
    reader.start()
    reading.wait(10)

    def write() -> None:
        with handles.writing() as cur, db.write_transaction(cur) as tx:
            tx.execute("INSERT INTO t VALUES (2)")
            order.append("written")
            with handles.reading() as inner:  # joins the writable handle, sees the committed state
                seen = inner.execute("SELECT count(*) FROM t").fetchone()
                order.append(f"inner {seen}")

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    assert order == []  # the writer waits for the reader
    release.set()
    reader.join(10)
    writer.join(10)
    assert order == ["read (1,)", "written", "inner (1,)"]
    assert not handles.is_open()
    with handles.reading() as cur:
        assert cur.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_a_write_inside_a_read_of_the_same_thread_is_refused_not_a_deadlock(small):
    handles = db.Handles(small, keep_open=0)
    with handles.reading(), pytest.raises(RuntimeError, match="inside a read"):
        with handles.writing():
            pass
    assert not handles.is_open()


def test_readers_give_way_to_another_program_waiting_to_write(small):
    handles = db.Handles(small, keep_open=5.0)
    with handles.reading() as cur:
        cur.execute("SELECT 1")
    assert handles.is_open()  # kept open for five seconds
    # Another program wants to write: it finds the file held and says so beside it.
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from analytics.store import db; db.connect(sys.argv[1]).close()",
            str(small),
        ],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    deadline = time.monotonic() + 10
    while not db.write_wanted(small) and writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    # The next reader here gives the idle handle back, and the writer gets in well before five seconds.
    with handles.reading() as cur:
        assert cur.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert writer.wait(10) == 0
    assert not db.write_wanted(small)
