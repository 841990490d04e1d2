"""A sixteenth attack (session 45), each reproduced first and failing before its fix: an outsider's
look at sign-in, the audit log and local single-user mode, through the server's WebSocket as a
browser speaks it and through ``AppTest``."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from analytics.services import warehouse
from analytics.store import db
from tests.signing_in import audit_rows, start, submit, t_

# --------------------------------------------------------------------------- Parquet mode


@pytest.fixture(scope="module")
def parquet_export(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exported as Parquet (README "Scale-out"), once for the module."""
    target = tmp_path_factory.mktemp("export") / "warehouse"
    con = db.connect(demo_db, read_only=True)
    try:
        warehouse.export(con, target)
    finally:
        con.close()
    return target


def test_over_a_parquet_export_sign_ins_are_audited_in_the_database_file(
    parquet_export, writable_demo, with_accounts, monkeypatch
):
    """With ANALYTICS_PARQUET every audit row went to the export's read-only in-memory DuckDB,
    which has no audit log: a correct sign-in showed an error box, a wrong password skipped its
    pause (the failed write came first), the manager's audit tab showed nothing, and nothing was
    recorded."""
    import ui.auth

    monkeypatch.setenv("ANALYTICS_PARQUET", str(parquet_export))
    pauses: list[float] = []
    monkeypatch.setattr(ui.auth, "time", SimpleNamespace(sleep=pauses.append))
    at = submit(start(), "zhangli", "example-only-wrong")
    assert [e.value for e in at.error] == [t_("auth.failed")]
    assert len(pauses) == 1 and pauses[0] > 0
    submit(at, "wangqiang", "example-only-manager")
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["_user"].role == "manager"
    assert [(who, action) for who, _, action, _ in audit_rows()] == [
        ("zhangli", "sign_in_failed"),
        ("wangqiang", "sign_in"),
    ]
    # The manager's audit tab reads the database file's log while the pages read the export.
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = at.dataframe[-1].value
    assert len(shown) == 2 and "wangqiang" in shown.astype(str).to_numpy().ravel().tolist()


# --------------------------------------------------------------------------- downloads


def test_a_list_fetched_without_its_click_is_recorded_once(writable_demo, with_accounts, fetch_download):
    """The audit row hung on the button's click (``on_click``), while the file came from a request
    of its own: a client that asked only for the churn list's file (474 rows with phone numbers)
    got it with no audit row. The row is now written when the file is built, once per file."""
    from tests.signing_in import sign_in

    at = sign_in("chenjing", page="pages/churn.py")
    button = next(b for b in at.get("download_button") if b.key == "churn_list_dl_csv")
    before = len(audit_rows())
    rows = fetch_download(button).decode("utf-8-sig").splitlines()
    exports = [row for row in audit_rows()[before:] if row[2] == "export"]
    assert len(exports) == 1, exports
    who, role, _, detail = exports[0]
    assert (who, role) == ("chenjing", "agent")
    assert detail["what"].startswith("churn_list_") and detail["what"].endswith(".csv")
    assert detail["rows"] == len(rows) - 1 and detail["has_phone"] is True
    # The click itself records nothing more (it reruns nothing): one download, one row.
    button.click().run()
    assert not at.exception
    assert len([row for row in audit_rows()[before:] if row[2] == "export"]) == 1


def test_the_deck_fetched_without_its_click_is_recorded(
    writable_demo, with_accounts, fetch_download, monkeypatch
):
    """The deck's button was given the built bytes, which Streamlit serves at an address of their own
    as soon as the button is drawn: a client could fetch the deck (red-flag customers by name)
    without the click that recorded it."""
    from analytics.reports import deck
    from tests.signing_in import sign_in

    monkeypatch.setattr(deck, "build_deck", lambda cur, month, stores, language, progress=None: b"pptx")
    at = sign_in("wangqiang")
    at.button(key="deck_build").click().run()
    button = next(b for b in at.get("download_button") if "deck_download" in b.proto.id)
    before = len(audit_rows())
    assert fetch_download(button) == b"pptx"
    exports = [row for row in audit_rows()[before:] if row[2] == "export"]
    assert [(who, role, detail["file_format"]) for who, role, _, detail in exports] == [
        ("wangqiang", "manager", "pptx")
    ]


# --------------------------------------------------------------------------- the audit log's size


def test_refused_sign_ins_write_one_row_per_lock_and_each_still_pauses(
    writable_demo, with_accounts, monkeypatch
):
    """Without an account, 120 tries from one computer wrote 20 wrong-password rows and then one
    ``client_locked`` row per refused try (100), as fast as the form reran: no pause for a refused
    try. Anyone who can open the sign-in page could push the real events (exports, imports) out of
    the 500 entries the Data page shows. One row per lock (and per user name's wait) now, and every
    refused try pauses as a wrong password does."""
    import ui.auth
    from analytics.core.config import settings

    pauses: list[float] = []
    monkeypatch.setattr(ui.auth, "time", SimpleNamespace(sleep=pauses.append))
    limit = settings().auth.client_max_failures
    at = start()
    for i in range(limit + 10):
        submit(at, f"x{i}", "wrong")
    assert [e.value for e in at.error] == [
        t_("auth.client_locked", minutes=math.ceil(settings().auth.lock_minutes))
    ]
    reasons = [detail["reason"] for _, _, action, detail in audit_rows() if action == "sign_in_failed"]
    assert reasons == ["wrong user name or password"] * limit + ["client_locked"]
    assert len(pauses) == limit + 10 and min(pauses) > 0


def test_a_user_names_wait_is_recorded_once_however_often_it_is_refused(monkeypatch):
    from analytics.core import auth

    throttle = auth.SignInThrottle(max_failures=5, window_seconds=300, client_max_failures=1000)
    account = auth.Account("li", "li", "agent", auth.hash_password("right-password-1"))
    seen = [
        auth.attempt_sign_in(throttle, {"li": account}, "li", "guess", f"pc{i}", now=100.0 + i / 100)
        for i in range(30)
    ]
    assert [o.reason for o in seen] == ["wrong"] * 5 + ["user_wait"] * 25
    assert [o.worth_recording for o in seen] == [True] * 6 + [False] * 24
    # The wait over, the next wrong password is recorded, and so is the first refusal after it.
    later = [
        auth.attempt_sign_in(throttle, {"li": account}, "li", "guess", "pc", now=now)
        for now in (110.0, 110.1, 110.2)
    ]
    assert [(o.reason, o.worth_recording) for o in later] == [
        ("wrong", True),
        ("user_wait", True),
        ("user_wait", False),
    ]


def test_the_audit_tab_shows_one_kind_of_event_so_failed_sign_ins_hide_no_export(
    writable_demo, with_accounts
):
    """The tab showed the newest 500 events of every kind: 500 failed sign-ins by anyone who can open
    the page pushed an export of the call list out of it."""
    from analytics.store import audit
    from tests.signing_in import sign_in
    from ui.data import audit_writing

    with audit_writing() as cur:
        audit.record(cur, "chenjing", "agent", "export", {"what": "churn_list.csv", "rows": 474})
        for i in range(500):
            audit.record(cur, f"unknown account {i}", "none", "sign_in_failed", {"reason": "client_locked"})
    at = sign_in("zhangli", page="pages/data.py")
    assert "chenjing" not in at.dataframe[-1].value.astype(str).to_numpy().ravel().tolist()
    at.selectbox(key="audit_action").select_index(1 + audit.ACTIONS.index("export")).run()
    shown = at.dataframe[-1].value
    assert len(shown) == 1 and "chenjing" in shown.astype(str).to_numpy().ravel().tolist()


# --------------------------------------------------------------------------- what the log keeps


def test_a_password_typed_into_the_user_name_field_never_reaches_the_audit_tab(writable_demo, with_accounts):
    """A failed sign-in was recorded under the user name as typed, and the CS lead who typed her
    password into that field left it on the manager's audit tab:
    ``Zl-Secret-2026!  (not signed in)  Sign-in failed``."""
    from tests.signing_in import sign_in

    at = start()
    submit(at, "Zl-Secret-2026!", "")
    submit(at, "Zl-Secret-2026!", "")
    submit(at, "chenjing", "example-only-wrong")  # an account's name is kept, as before
    at = sign_in("wangqiang", page="pages/data.py")
    shown = at.dataframe[-1].value.astype(str).to_numpy().ravel().tolist()
    assert not [cell for cell in shown if "Secret" in cell], shown
    who = [row[0] for row in audit_rows() if row[2] == "sign_in_failed"]
    assert who[0] == who[1] and re.fullmatch(r"unknown account [0-9a-f]{6}", who[0]), who
    assert who[2] == "chenjing"


# --------------------------------------------------------------------------- X-Forwarded-For


def test_a_program_on_this_machine_cannot_name_a_new_client_for_each_guess(monkeypatch):
    """The shipped settings trusted this machine as a reverse proxy, and Streamlit gives no address
    for a connection from this machine: any program here (another user of a shared server, an SSH
    tunnel) wrote a new X-Forwarded-For for each try and was never locked (30 guesses, none
    refused). A header is believed now only from a proxy the settings name, and they name none."""
    from streamlit.runtime.context import StreamlitHeaders

    import ui.auth
    from analytics.core import auth
    from analytics.core.config import settings

    assert settings().auth.trusted_proxies == []
    throttle = auth.SignInThrottle(max_failures=1000, window_seconds=300, client_max_failures=20)
    outcomes = []
    for i in range(30):
        headers = StreamlitHeaders([("X-Forwarded-For", f"10.9.0.{i + 1}")])
        context = SimpleNamespace(ip_address=None, headers=headers)
        monkeypatch.setattr(ui.auth, "st", SimpleNamespace(context=context))
        client = ui.auth._client()
        assert client == "local"
        outcomes.append(throttle.begin(f"user{i}", client, 1000.0 + i)[0])
    assert outcomes == ["ok"] * 20 + ["client_locked"] * 10
    # Local mode still refuses a browser that a proxy here brings from another computer.
    assert ui.auth._client(ui.auth.THIS_MACHINE) == "10.9.0.30"


# --------------------------------------------------------------------------- local mode by name


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost:8501", True),
        ("LOCALHOST", True),
        ("localhost.:8501", True),
        ("127.0.0.1:8501", True),
        ("127.0.0.2", True),
        ("[::1]:8501", True),
        ("rebind.evil.example:8501", False),
        ("evil.localhost:8501", False),  # a name some browsers ask a DNS server for
        ("localhost.evil.example", False),
        ("127.0.0.1.evil.example", False),
        ("192.168.1.20:8501", False),
        ("user@localhost", False),
        ("localhost:port", False),
        ("localhost/x", False),
        ("", False),
        (None, False),
    ],
)
def test_which_host_names_this_machine(host, loopback):
    from analytics.core import auth

    assert auth.loopback_host(host) is loopback


@pytest.fixture(scope="module")
def served_without_accounts(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """A real server on a copy of the demo, without accounts (local single-user mode)."""
    import os
    import shutil

    from tests.streamlit_server import serve

    folder = tmp_path_factory.mktemp("served")
    path = folder / "served.duckdb"
    shutil.copy(demo_db, path)
    with serve(
        path, env={"ANALYTICS_SECRETS": os.devnull, "ANALYTICS_MODEL_DIR": str(folder / "models")}
    ) as url:
        yield url


def test_local_mode_serves_no_browser_that_names_another_site(served_without_accounts):
    """Without accounts every visitor has the CS lead's rights, which the README grants only to this
    machine; the server took a connection whose Host and Origin named ``rebind.evil.example``, what a
    browser on this machine sends after DNS rebinding, so that site's script read the churn call
    list with every phone number and fetched its CSV. Only a loopback name gets local mode now."""
    from urllib.parse import urlsplit

    from tests.streamlit_server import Session

    port = urlsplit(served_without_accounts).port
    rebound = Session(served_without_accounts, host=f"rebind.evil.example:{port}")
    try:
        run = rebound.run("churn")
    finally:
        rebound.close()
    assert t_("auth.host_without_accounts", "zh", port=port) in run.texts(), run.texts()
    kinds = {kind for kind, _ in run.elements}
    assert not kinds & {"download_button", "arrow_data_frame", "metric", "arrow_vega_lite_chart"}, kinds
    assert not re.search(r"1[3-9]\d{9}", " ".join(run.texts()))  # no phone number
    # This machine's own browser, by its loopback names, keeps local mode.
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        own = Session(served_without_accounts, host=host)
        try:
            run = own.run("churn")
        finally:
            own.close()
        assert not run.problems(), run.problems()
        assert any(kind == "download_button" for kind, _ in run.elements), host


# --------------------------------------------------------------------------- sessions


def _give_new_password(secrets: Path, username: str, password: str) -> None:
    from analytics.core.auth import hash_password

    text = secrets.read_text(encoding="utf-8")
    start_at = text.index(f"[auth.accounts.{username}]")
    end_at = text.find("[auth.accounts.", start_at + 1)
    block = text[start_at : end_at if end_at > 0 else len(text)]
    old_hash = re.search(r'password_hash = "([^"]+)"', block)
    assert old_hash
    secrets.write_text(text.replace(old_hash.group(1), hash_password(password)), "utf-8")


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(writable_demo, with_accounts):
    """The session kept only the user name: whoever had signed in with a leaked password kept the
    agent's rights (phone numbers in full) after the CS lead gave the account a new password, for
    as long as the tab stayed open."""
    from tests.signing_in import shows_data, sign_in

    at = sign_in("chenjing", page="pages/churn.py")
    assert at.session_state["_user"].role == "agent" and shows_data(at)
    _give_new_password(with_accounts, "chenjing", "a-new-password-after-the-leak")
    at.run()
    assert at.session_state["_user"].role == "viewer" and not shows_data(at)
    assert at.title[0].value == t_("auth.title")
    assert t_("auth.ended_account_changed") in [i.value for i in at.info]
    assert audit_rows()[-1] == ("chenjing", "agent", "sign_out", {"reason": "account_changed"})
    # The new password signs in.
    submit(at, "chenjing", "a-new-password-after-the-leak")
    assert at.session_state["_user"].role == "agent"


def test_a_session_left_idle_is_signed_out_at_its_next_run(writable_demo, with_accounts, monkeypatch):
    import ui.auth
    from analytics.core.config import settings
    from tests.signing_in import shows_data, sign_in

    assert settings().auth.idle_minutes == 480
    at = sign_in("chenjing", page="pages/churn.py")
    now = ui.auth.monotonic()
    monkeypatch.setattr(ui.auth, "monotonic", lambda: now + 479 * 60)
    at.run()
    assert at.session_state["_user"].role == "agent" and shows_data(at)
    monkeypatch.setattr(ui.auth, "monotonic", lambda: now + 479 * 60 + 481 * 60)
    at.run()
    assert at.session_state["_user"].role == "viewer" and not shows_data(at)
    assert t_("auth.ended_idle", minutes="480") in [i.value for i in at.info]
    assert audit_rows()[-1] == ("chenjing", "agent", "sign_out", {"reason": "idle"})


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "client"),
    [
        # What uvicorn makes of a connection from this machine: the header's right-most entry
        # that is not 127.0.0.1 or ::1, port dropped, or anything malformed as written.
        ("10.9.0.5", "10.9.0.5", [], "local"),
        ("10.9.0.5", "198.51.100.1, 10.9.0.5:4444", [], "local"),
        ("10.0.0.1", "10.0.0.1, 127.0.0.1:80", [], "local"),
        ("2001:db8::1", "[2001:db8::1]:443", [], "local"),
        ("junk", "junk", [], "local"),
        # nginx on this machine, trusted: the browser it saw.
        ("203.0.113.7", "203.0.113.7", ["127.0.0.1", "::1"], "203.0.113.7"),
        # A browser that reaches the dashboard itself is its address, whatever it writes.
        ("203.0.113.7", "198.51.100.1", [], "203.0.113.7"),
        ("203.0.113.7", "127.0.0.1", [], "203.0.113.7"),
    ],
)
def test_the_address_uvicorn_takes_from_the_header_is_this_machine(peer, forwarded_for, trusted, client):
    from analytics.core import auth

    assert auth.client_address(peer, forwarded_for, trusted) == client


def test_a_program_on_this_machine_is_locked_however_it_fills_in_x_forwarded_for(
    demo_db, tmp_path, accounts_text, monkeypatch
):
    """The same, on the running server: Streamlit's server (uvicorn) itself gives a connection from
    this machine the address its X-Forwarded-For names, so even with no proxy trusted, 30 connections
    from here naming 10.9.0.1, 10.9.0.2 ... were 30 clients, and none was locked after 20 failures."""
    import os
    import shutil

    from analytics.store import audit as audit_log
    from tests.streamlit_server import Session, serve

    path = tmp_path / "served.duckdb"
    shutil.copy(demo_db, path)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(accounts_text, encoding="utf-8")
    env = {"ANALYTICS_SECRETS": str(secrets), "ANALYTICS_MODEL_DIR": str(tmp_path / "models")}
    assert "FORWARDED_ALLOW_IPS" not in os.environ  # uvicorn's default: this machine's proxies
    with serve(path, env=env) as url:
        for i in range(23):
            session = Session(url, headers={"X-Forwarded-For": f"10.9.0.{i + 1}"})
            try:
                run = session.sign_in(f"user{i}", "guess", page="overview")
            finally:
                session.close()
    con = db.connect(path, read_only=True)
    try:
        reasons = audit_log.entries(con, 100, action="sign_in_failed")["detail"].tolist()
    finally:
        con.close()
    assert reasons[::-1] == ['{"reason": "wrong user name or password"}'] * 20 + [
        '{"reason": "client_locked"}'
    ]
    # The minutes left count down while a loaded machine runs the 21 tries (it read 4 in one run).
    assert any(re.search(r"请 [1-5] 分钟后再试", text) for text in run.texts()), run.texts()


# --------------------------------------------------------------------------- in a real browser


@pytest.mark.browser
def test_a_list_downloaded_in_a_real_browser_is_recorded_once(demo_db, tmp_path):
    """Guards the fix above in Chromium: what a browser does on a click (ask for the file, report
    the click) makes one audit row, not one for the file and one for the click. (Not a failure
    before the fix: the click's row was the only one then.)"""
    import shutil

    from analytics.store import audit as audit_log
    from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, serve

    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (scripts/test.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "browser.duckdb"
    shutil.copy(demo_db, path)
    with serve(path) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
            page.goto(f"{url}/churn?lang=en")
            button = page.locator(".st-key-churn_list_dl_csv").get_by_role("button", name="Download CSV")
            sync_api.expect(button).to_be_visible(timeout=120_000)
            with page.expect_download(timeout=120_000) as info:
                button.click()
            lines = open(info.value.path(), encoding="utf-8-sig").read().splitlines()
            time.sleep(3)  # a rerun the click might still cause, and its row
        finally:
            browser.close()
    con = db.connect(path, read_only=True)
    try:
        exports = audit_log.entries(con, 10, action="export")
    finally:
        con.close()
    assert len(exports) == 1, exports
    assert exports["who"].iloc[0] == "local" and f'"rows": {len(lines) - 1}' in exports["detail"].iloc[0]
