"""Shared fixtures: a small demo database built once per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

DEMO_SCALE = 0.1  # about 1,000 vehicles: enough signal for every page, quick to build

# One account per role for the sign-in tests: user name -> (role, display name, password).
ACCOUNTS = {
    "wangqiang": ("manager", "王强", "example-only-manager"),
    "zhangli": ("cs_lead", "张丽", "example-only-cs-lead"),
    "chenjing": ("agent", "陈静", "example-only-agent"),
    "liuyang": ("viewer", "刘洋", "example-only-viewer"),
}


@pytest.fixture(autouse=True)
def local_mode(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test starts in local single-user mode, whatever secrets.toml this machine holds, and
    a test that names no database or model folder gets fresh ones of its own, never the
    checkout's data/dashboard.duckdb and data/models."""
    monkeypatch.setenv("ANALYTICS_SECRETS", os.devnull)
    scratch = tmp_path_factory.mktemp("default")
    monkeypatch.setenv("ANALYTICS_DB", str(scratch / "dashboard.duckdb"))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(scratch / "models"))


@pytest.fixture(scope="session")
def accounts_text() -> str:
    """A secrets.toml with the ACCOUNTS, their passwords hashed (once per session: argon2 is slow on purpose)."""
    from analytics.core.auth import hash_password

    blocks = [
        f'[auth.accounts.{user}]\nname = "{name}"\nrole = "{role}"\npassword_hash = "{hash_password(pw)}"\n'
        for user, (role, name, pw) in ACCOUNTS.items()
    ]
    return "\n".join(blocks)


@pytest.fixture
def with_accounts(accounts_text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Accounts configured through ANALYTICS_SECRETS (a file of this test's own, so its sign-in
    throttle starts afresh)."""
    path = tmp_path / "secrets.toml"
    path.write_text(accounts_text, encoding="utf-8")
    monkeypatch.setenv("ANALYTICS_SECRETS", str(path))
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a small demo database (scale 0.1, seed 7). Treat it as read-only; copy it to write
    (``shared_demo_left_as_built`` fails a test that writes to it)."""
    demo = pytest.importorskip("analytics.devtools.demo")
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    demo.build_demo(path, demo.DemoConfig(scale=DEMO_SCALE), files_dir=path.parent / "files")
    _SHARED_DEMO[:] = [(path, _file_state(path))]
    return path


# The session's demo and how its files stood when built (``shared_demo_left_as_built``).
_SHARED_DEMO: list[tuple[Path, tuple[object, ...]]] = []


def _file_state(path: Path) -> tuple[object, ...]:
    """The time and size of the database, its write-ahead log and its folder of kept results."""
    found: list[object] = []
    for part in (path, Path(f"{path}.wal"), Path(f"{path}.marts")):
        try:
            stat = part.stat()
        except FileNotFoundError:
            found.append(None)
        else:
            found.append((stat.st_mtime_ns, stat.st_size))
    return tuple(found)


@pytest.fixture(autouse=True)
def shared_demo_left_as_built(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that wrote to the session's shared demo: the tests after it in the same worker
    open or copy the file, and would see what it wrote (kept results, a changed row), so that
    whether they pass would depend on the order the tests ran in. Each change is reported once,
    by the test that made it."""
    yield
    if not _SHARED_DEMO:
        return
    path, built = _SHARED_DEMO[0]
    now = _file_state(path)
    if now != built:
        _SHARED_DEMO[:] = [(path, now)]
        pytest.fail(
            f"{request.node.nodeid} wrote to the session's shared demo {path}: open it read-only "
            "or work on a copy (demo_copy)"
        )


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder for the maintenance models fitted on the demo database during the session."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def demo_env(demo_db: Path, demo_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app (ANALYTICS_DB) at the shared demo database for an AppTest run; fitted
    maintenance models go to a session folder instead of data/models."""
    monkeypatch.setenv("ANALYTICS_DB", str(demo_db))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(demo_model_dir))
    return demo_db


@pytest.fixture
def demo_copy(demo_db: Path, demo_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at a private copy of the demo (a test that signs in, downloads or renames
    writes to it) with the session's models; return the copy's path."""
    path = tmp_path / "demo_copy.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(demo_model_dir))
    return path


@pytest.fixture
def writable_demo(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo database that a test may change; ANALYTICS_DB points at it."""
    path = tmp_path / "demo_copy.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    return path


@pytest.fixture(scope="session")
def kpi_db_path(tmp_path_factory):
    """The hand-built KPI fixture as a DuckDB file, built once per session and then closed."""
    from analytics.ingest import load
    from analytics.store import db
    from tests import fixtures_kpi

    path = tmp_path_factory.mktemp("kpi") / "kpi.duckdb"
    con = db.connect(path)
    fixtures_kpi.load(con)
    load.refresh_derived(con)
    con.close()
    return path


@pytest.fixture(scope="session")
def kpi_con(kpi_db_path):
    """A read-only connection to the KPI fixture."""
    from analytics.store import db

    con = db.connect(kpi_db_path, read_only=True)
    yield con
    con.close()


_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # Leave without the interpreter's shutdown: daemon threads that earlier tests' servers and
    # sessions leave inside DuckDB or Streamlit are unwound there, and C++ code aborts on it now and
    # then ("terminate called ... FATAL: exception not rethrown", exit 134) after every test passed.
    # The report is written by now; the exit status is pytest's own.
    if _EXIT_STATUS and os.environ.get("PYTEST_KEEP_SHUTDOWN") != "1":
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])


# A mobile typed into names (seen in DMS data: an advisor's or a store's number written after it).
PHONE_IN_NAMES = "13812345678"


@pytest.fixture
def phone_names_env(
    demo_db: Path, demo_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the app at a private demo whose advisors and car models have a mobile typed into their
    names (``PHONE_IN_NAMES``), for the tests that check every role without phones sees it masked."""
    from analytics.store import db

    path = tmp_path / "names.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        with db.write_transaction(con) as cur:
            cur.execute(
                "UPDATE service_orders SET advisor = advisor || $p WHERE advisor IS NOT NULL",
                {"p": PHONE_IN_NAMES},
            )
            cur.execute(
                "UPDATE vehicles SET model = model || $p WHERE model IS NOT NULL", {"p": PHONE_IN_NAMES}
            )
            db.bump_data_version(cur)
    finally:
        con.close()
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(demo_model_dir))
    return path


@pytest.fixture
def fetch_download(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], bytes]:
    """Return ``fetch(button) -> bytes``: what the browser gets when it asks for a download button's
    file. Streamlit keeps the button's callable and runs it on a thread of its own, outside any
    script run, when the browser's request for the file comes (with or without the click)."""
    import threading

    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict[str, Any] = {}
    original = MediaFileManager.add_deferred

    def add(self: MediaFileManager, data_callable: Any, *args: Any, **kwargs: Any) -> str:
        file_id = original(self, data_callable, *args, **kwargs)
        made[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add)

    def fetch(button: Any) -> bytes:
        build = made[button.proto.deferred_file_id]
        got: list[bytes] = []
        worker = threading.Thread(target=lambda: got.append(build()))
        worker.start()
        worker.join(120)
        assert got, "the file was not built"
        return got[0]

    return fetch
