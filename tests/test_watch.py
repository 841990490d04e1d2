"""The drop folder (``python -m analytics watch DIR --once``) through the real command line."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from analytics.services import watch
from analytics.store import audit, db
from tests.db_state import run_cli

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SERVICE = DATA / "service_orders_gbk.csv"  # 8 work orders
CALLBACKS = DATA / "callbacks_bom.csv"  # 10 callbacks
JUNK = DATA / "junk" / "picture.csv"  # a PNG named .csv


def counts(path: Path) -> tuple[int, int, int]:
    con = db.connect(path, read_only=True)
    try:
        row = con.execute(
            "SELECT (SELECT count(*) FROM service_orders), (SELECT count(*) FROM callbacks), "
            "(SELECT count(*) FROM imports)"
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])
    finally:
        con.close()


def canonical(path: Path) -> tuple[object, ...]:
    con = db.connect(path, read_only=True)
    try:
        return (
            con.execute("SELECT * FROM service_orders ORDER BY order_id").fetchall(),
            con.execute("SELECT * FROM callbacks ORDER BY callback_id").fetchall(),
            db.data_version(con),
        )
    finally:
        con.close()


def audit_details(path: Path) -> list[dict[str, object]]:
    con = db.connect(path, read_only=True)
    try:
        log = audit.entries(con, action="import")
    finally:
        con.close()
    return [json.loads(d) for d in reversed(list(log["detail"]))]


def watch_once(folder: Path, database: Path, *extra: str):
    return run_cli(
        "watch", str(folder), "--once", "--settle", "0", "--lang", "en", "--db", str(database), *extra
    )


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def test_watch_once_imports_what_it_recognises_and_refuses_junk(drop: Path, tmp_path: Path):
    database = tmp_path / "watch.duckdb"
    shutil.copy(SERVICE, drop / SERVICE.name)
    shutil.copy(CALLBACKS, drop / CALLBACKS.name)
    shutil.copy(JUNK, drop / JUNK.name)
    # Still being written by Excel or a download: never touched.
    (drop / "~$回访.xlsx").write_bytes(b"lock")
    (drop / "export.csv.part").write_text("工单号,进厂", encoding="utf-8")

    done = watch_once(drop, database)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines()[-1] == f"{drop}: 2 imported, 1 refused, 0 still being written"
    assert counts(database) == (8, 10, 2)
    assert sorted(p.name for p in drop.iterdir()) == ["done", "export.csv.part", "refused", "~$回访.xlsx"]
    assert sorted(p.name for p in (drop / "done").iterdir()) == [
        "callbacks_bom.csv",
        "callbacks_bom.csv.report.json",
        "callbacks_bom.csv.report.txt",
        "service_orders_gbk.csv",
        "service_orders_gbk.csv.report.json",
        "service_orders_gbk.csv.report.txt",
    ]
    assert sorted(p.name for p in (drop / "refused").iterdir()) == [
        "picture.csv",
        "picture.csv.report.json",
        "picture.csv.report.txt",
    ]
    assert (drop / "done" / SERVICE.name).read_bytes() == SERVICE.read_bytes()

    service = json.loads((drop / "done" / "service_orders_gbk.csv.report.json").read_text(encoding="utf-8"))
    assert {
        k: service[k] for k in ("file", "status", "moved_to", "kind", "rows_read", "inserted", "rejected")
    } == {
        "file": "service_orders_gbk.csv",
        "status": "done",
        "moved_to": "done/service_orders_gbk.csv",
        "kind": "service",
        "rows_read": 8,
        "inserted": 8,
        "rejected": 0,
    }
    refused = json.loads((drop / "refused" / "picture.csv.report.json").read_text(encoding="utf-8"))
    assert refused["status"] == "refused"
    assert refused["reason"].startswith("picture.csv is not a table (it is a PNG image)")
    lines = (drop / "done" / "callbacks_bom.csv.report.txt").read_text(encoding="utf-8").splitlines()
    assert lines[1] == (
        f"Import #{service['import_id'] + 1} (Callback records): 10 rows read, 10 inserted, 0 updated, "
        "0 unchanged, 0 rejected."
    )
    assert lines[-1] == "The file is now done/callbacks_bom.csv."

    details = audit_details(database)
    assert [(d["file"], d["via"], d["status"]) for d in details] == [
        ("service_orders_gbk.csv", "watch", "done"),
        ("callbacks_bom.csv", "watch", "done"),
        ("picture.csv", "watch", "refused"),
    ]
    assert [d.get("inserted") for d in details] == [8, 10, None]


def test_dropping_the_same_file_again_changes_nothing(drop: Path, tmp_path: Path):
    database = tmp_path / "again.duckdb"
    shutil.copy(SERVICE, drop / SERVICE.name)
    assert watch_once(drop, database).returncode == 0
    before = canonical(database)

    shutil.copy(SERVICE, drop / SERVICE.name)
    again = watch_once(drop, database)

    assert again.returncode == 0, again.stderr
    assert canonical(database) == before
    assert counts(database) == (8, 0, 2)  # a second import log line, no row changed
    report = json.loads((drop / "done" / "service_orders_gbk-2.csv.report.json").read_text(encoding="utf-8"))
    assert (report["inserted"], report["updated"], report["unchanged"]) == (0, 0, 8)
    assert (drop / "done" / "service_orders_gbk.csv").exists()  # the first one is not overwritten


def test_a_saved_mapping_reads_a_file_whose_headers_are_not_recognised(drop: Path, tmp_path: Path):
    database = tmp_path / "mapped.duckdb"
    (drop / "odd.csv").write_text(
        "Ticket,Chassis,Arrived\nT1,LSVAU2A37N2183746,2024-03-01\nT2,LFV2A21K7M3041122,2024-03-02\n",
        encoding="utf-8",
    )
    shutil.copy(SERVICE, drop / SERVICE.name)
    mapping = tmp_path / "odd.json"
    mapping.write_text(
        json.dumps(
            {"kind": "service", "columns": {"order_id": "Ticket", "vin": "Chassis", "visit_date": "Arrived"}}
        ),
        encoding="utf-8",
    )

    done = watch_once(drop, database, "--map", str(mapping))

    assert done.returncode == 0, done.stderr
    assert counts(database) == (10, 0, 2)
    odd = json.loads((drop / "done" / "odd.csv.report.json").read_text(encoding="utf-8"))
    assert (odd["kind"], odd["inserted"], odd["mapping"]) == ("service", 2, "odd.json")
    # A file the headers explain is read by them, not by the saved mapping.
    plain = json.loads((drop / "done" / "service_orders_gbk.csv.report.json").read_text(encoding="utf-8"))
    assert plain["mapping"] == ""


def test_a_missing_folder_exits_2_with_a_sentence(tmp_path: Path):
    done = watch_once(tmp_path / "nowhere", tmp_path / "x.duckdb")
    assert done.returncode == 2
    assert done.stderr == (
        f"error: The drop folder {tmp_path / 'nowhere'} does not exist or is not a folder; "
        "create it or check the path.\n"
    )


def test_a_file_still_growing_waits_and_a_quiet_one_is_ready(drop: Path):
    growing, quiet = drop / "growing.csv", drop / "quiet.csv"
    growing.write_text("工单号\n", encoding="utf-8")
    quiet.write_text("工单号\n", encoding="utf-8")
    clock = [growing.stat().st_mtime + 1.0]

    def sleep(seconds: float) -> None:
        # The exporter is still writing while the watcher waits.
        with growing.open("a", encoding="utf-8") as fh:
            fh.write("WO1\n")
        clock[0] += seconds

    ready, busy = watch.ready_files(drop, 5.0, sleep=sleep, now=lambda: clock[0])
    assert (ready, busy) == ([quiet], [growing])

    ready, busy = watch.ready_files(drop, 5.0, sleep=lambda s: None, now=lambda: clock[0] + 60)
    assert sorted(ready) == [growing, quiet] and busy == []


def test_temporary_names_are_never_candidates(drop: Path):
    names = [
        "~$a.xlsx",
        ".hidden.csv",
        "b.csv.part",
        "c.xlsx.crdownload",
        "d.tmp",
        "e.csv.report.json",
        "f.csv",
    ]
    for name in names:
        (drop / name).write_text("x", encoding="utf-8")
    (drop / "done").mkdir()
    assert [p.name for p in sorted(drop.iterdir()) if watch.is_candidate(p)] == ["f.csv"]


def test_an_unexpected_failure_refuses_that_file_and_the_next_still_imports(
    drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    bad, good = drop / "a_bad.csv", drop / "b_good.csv"
    shutil.copy(SERVICE, bad)
    shutil.copy(SERVICE, good)
    real = watch.import_file

    def flaky(con, source, **kwargs):
        # The pass hands the importer the file's bytes, read through a handle, and its name.
        if kwargs["file_name"] == bad.name:
            raise RuntimeError("reader crashed")
        return real(con, source, **kwargs)

    monkeypatch.setattr(watch, "import_file", flaky)
    con = db.connect(tmp_path / "flaky.duckdb")
    try:
        outcomes = watch.process_folder(con, drop, [bad, good], lang="en")
        landed = con.execute("SELECT count(*) FROM service_orders").fetchone()
    finally:
        con.close()
    assert [(o.name, o.status) for o in outcomes] == [("a_bad.csv", "refused"), ("b_good.csv", "done")]
    assert outcomes[0].reason == (
        "a_bad.csv could not be imported (RuntimeError: reader crashed); check the file or import it by hand."
    )
    assert landed == (8,)
    assert (drop / "refused" / "a_bad.csv").exists() and (drop / "done" / "b_good.csv").exists()


def test_the_server_option_is_off_by_default(monkeypatch: pytest.MonkeyPatch):
    from ui import drop_folder

    monkeypatch.delenv(drop_folder.WATCH_ENV, raising=False)
    assert drop_folder.configured_folder() == ""
    assert drop_folder.start_drop_folder() is None


def test_the_server_watches_its_folder_when_configured(
    drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from streamlit.testing.v1 import AppTest

    from ui import drop_folder

    database = tmp_path / "served.duckdb"
    shutil.copy(SERVICE, drop / SERVICE.name)
    old = time.time() - 3600  # dropped an hour ago: nothing to wait for
    os.utime(drop / SERVICE.name, (old, old))
    monkeypatch.setenv("ANALYTICS_DB", str(database))
    monkeypatch.setenv(drop_folder.WATCH_ENV, str(drop))

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    watcher = drop_folder.start_drop_folder()
    assert watcher is not None
    try:
        report = drop / "done" / "service_orders_gbk.csv.report.json"
        deadline = time.monotonic() + 60
        while not report.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert json.loads(report.read_text(encoding="utf-8"))["inserted"] == 8
        AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        # One thread per server process, however many sessions run the app.
        assert [t.name for t in threading.enumerate()].count("drop-folder") == 1
        assert drop_folder.start_drop_folder() is watcher
    finally:
        watcher.stop()
        for thread in threading.enumerate():
            if thread.name == "marts-rebuild":
                thread.join(60)
    assert not watcher.thread.is_alive()


def test_a_dropped_file_named_with_line_breaks_or_terminal_escapes_cannot_fake_a_line(
    drop: Path, tmp_path: Path
):
    """A file on the shared drop folder named `x.csv\\n....: import 9 ...` wrote a second, made-up line
    into the cron log, and an ESC sequence in its name reached the terminal of `imports`; the names
    are now printed with control characters as escapes, as `audit` prints them."""
    database = tmp_path / "names.duckdb"
    forged = "a.csv\nb.csv: import 99 (service): 0 rows read\x1b[2K.csv"
    shutil.copy(SERVICE, drop / forged)
    shutil.copy(JUNK, drop / "junk\r\x1b]0;owned\x07.csv")

    done = watch_once(drop, database)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, lines  # one per file and the total
    assert all("\x1b" not in line and "\r" not in line for line in lines)
    assert any(line.startswith("a.csv\\nb.csv: import 99") for line in lines)
    report = next((drop / "done").glob("*.report.txt")).read_text(encoding="utf-8")
    assert "\x1b" not in report and len(report.splitlines()) == 3, report

    listed = run_cli("imports", "--db", str(database))
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 1 and "\x1b" not in listed.stdout
    assert "a.csv\\nb.csv" in listed.stdout

    refused = run_cli("import", str(next((drop / "refused").glob("junk*.csv"))), "--db", str(database))
    assert refused.returncode == 2
    assert "\x1b" not in refused.stderr and "\r" not in refused.stderr
