"""Roles, phone masking, password hashes and account configuration (analytics.core.auth), and the
audit log with its commands (analytics.store.audit)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli import main
from analytics.core import auth
from analytics.store import audit, db

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812341234", "138****1234"),
        (13812341234, "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("138-1234-1234", "138****1234"),
        ("+86 138 1234 1234", "138****1234"),
        ("+8613812341234", "138****1234"),
        ("008613812341234", "138****1234"),
        ("手机13812341234（本人）", "138****1234"),
        ("0571-87654321", "057*****4321"),  # landline with area code
        ("1321231623", "13****1623"),  # a digit short: still four hidden
        ("87654321", "****4321"),  # landline without area code
        ("123456", "****56"),
        ("12345", "****"),
        ("1234", "****"),
        ("无", "****"),
        ("138****1234", "138****1234"),  # already masked: unchanged, so masking twice is harmless
    ],
)
def test_mask_phone_hides_the_middle_digits(raw, masked):
    assert auth.mask_phone(raw) == masked


@pytest.mark.parametrize("empty", [None, "", float("nan")])
def test_mask_phone_leaves_missing_values_alone(empty):
    result = auth.mask_phone(empty)
    assert result is empty or (result != result and empty != empty)


def test_mask_phone_never_shows_more_than_seven_digits_and_always_hides_four():
    for raw in (
        "1" * 20,
        "13812341234" * 2,
        "+86-(0)571-8765-4321 ext 99",
        "*13812341234",
        *("9" * n for n in range(1, 16)),
    ):
        masked = str(auth.mask_phone(raw))
        assert sum(c.isdigit() for c in masked) <= 7, raw
        assert masked.count("*") >= 4, raw


def test_mask_text_masks_mobile_numbers_in_comments_but_not_vins_or_longer_numbers():
    text = "请打13812341234或 +86 139 1234 5678，车架号LGB13812341234567，工单WO2013812341234"
    assert (
        auth.mask_text(text) == "请打138****1234或 139****5678，车架号LGB13812341234567，工单WO2013812341234"
    )
    # After letters a mobile is still a mobile (微信wx13700000001): a code of exactly a mobile's
    # shape is masked too, which errs on the side of the customer.
    assert auth.mask_text("工单WO13812341234") == "工单WO138****1234"
    assert auth.mask_text(None) is None


def test_mask_frame_masks_every_phone_column_and_comments_and_keeps_the_rest():
    frame = pd.DataFrame(
        {
            "vin": ["LGB1", "LGB2"],
            "phone": ["13812341234", None],
            "mobile": ["13912345678", "13912345678"],
            "comment": ["回电13812341234", "很好"],
        }
    )
    masked = auth.mask_frame(frame)
    assert masked["phone"][0] == "138****1234" and pd.isna(masked["phone"][1])
    assert masked.drop(columns="phone").to_dict("list") == {
        "vin": ["LGB1", "LGB2"],
        "mobile": ["139****5678", "139****5678"],
        "comment": ["回电138****1234", "很好"],
    }
    assert frame["phone"][0] == "13812341234"  # the original is untouched


def test_the_role_policy():
    table = {role: (p.sees_phone, p.export_lists, p.import_data) for role, p in auth.POLICY.items()}
    assert table == {
        "manager": (False, False, False),
        "cs_lead": (True, True, True),
        "agent": (True, True, False),
        "viewer": (False, False, False),
    }
    assert auth.permissions(auth.LOCAL_ROLE) == auth.POLICY["cs_lead"]
    with pytest.raises(ValueError, match="unknown role"):
        auth.permissions("admin")


def test_password_hashes_verify_and_are_salted():
    first = auth.hash_password("example-only-1")
    assert first.startswith("$argon2id$")
    assert first != auth.hash_password("example-only-1")
    assert auth.verify_password(first, "example-only-1")
    assert not auth.verify_password(first, "example-only-2")
    assert not auth.verify_password("not a hash", "example-only-1")


def _secrets(**accounts):
    return {"auth": {"accounts": accounts}}


def test_accounts_load_from_secrets_and_check_passwords():
    hashed = auth.hash_password("example-only-1")
    accounts = auth.load_accounts(
        _secrets(
            zhangli={"name": "张丽", "role": "cs_lead", "password_hash": hashed},
            li={"role": "viewer", "password_hash": hashed},
        )
    )
    assert {k: (a.name, a.role) for k, a in accounts.items()} == {
        "zhangli": ("张丽", "cs_lead"),
        "li": ("li", "viewer"),
    }
    assert auth.check_password(accounts, "zhangli", "example-only-1") == accounts["zhangli"]
    assert auth.check_password(accounts, "zhangli", "wrong") is None
    assert auth.check_password(accounts, "nobody", "example-only-1") is None
    assert "password_hash" not in repr(accounts["zhangli"])
    assert auth.load_accounts({}) == {} and auth.load_accounts({"auth": {}}) == {}


def test_bad_account_configuration_is_refused_with_one_sentence_per_fault():
    with pytest.raises(auth.AccountsError) as caught:
        auth.load_accounts(
            _secrets(
                a={"role": "admin", "password_hash": "$argon2id$x"},
                b={"role": "agent"},
                c={"role": "viewer", "password_hash": "secret123"},
                d="zhang",
                **{"e f": {"role": "viewer", "password_hash": "$argon2id$x"}},
            )
        )
    problems = caught.value.problems
    assert len(problems) == 5
    assert "unknown role 'admin'" in problems[0] and "manager, cs_lead, agent, viewer" in problems[0]
    assert "no password_hash" in problems[1] and "hash-password" in problems[1]
    assert "not an argon2 hash" in problems[2]
    assert "must be a table" in problems[3]
    assert "user name" in problems[4]


def test_oidc_keys_without_accounts_are_refused_rather_than_opening_local_mode():
    with pytest.raises(auth.AccountsError, match="OIDC"):
        auth.load_accounts(
            {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x"}}
        )
    with pytest.raises(auth.AccountsError, match="OIDC"):
        auth.load_accounts({"auth": {"google": {"client_id": "x", "client_secret": "y"}}})


def test_the_committed_example_accounts_are_refused_because_their_passwords_are_published():
    example = ROOT / ".streamlit" / "secrets.toml.example"
    text = example.read_text(encoding="utf-8")
    entries = auth.read_secrets(example)["auth"]["accounts"]
    assert {e["role"] for e in entries.values()} >= {"cs_lead", "manager", "agent"}
    for username, entry in entries.items():
        # The documented password of each example account is in the published list ...
        assert f'"example-only-{username}"' in text
        assert f"example-only-{username}" in auth.EXAMPLE_PASSWORDS
        assert auth.verify_password(entry["password_hash"], f"example-only-{username}")
        assert auth.uses_example_password(entry["password_hash"])
    # ... so the file, used as secrets.toml, stops the dashboard with one sentence per account.
    with pytest.raises(auth.AccountsError) as caught:
        auth.load_accounts(auth.read_secrets(example))
    assert len(caught.value.problems) == len(entries)
    assert caught.value.problems[0] == (
        "Account 'zhangli' in secrets.toml has a password published in .streamlit/secrets.toml.example, "
        "so anyone can sign in with it; give it a new hash made with `python -m analytics hash-password`."
    )


def test_an_account_whose_own_hash_verifies_against_an_example_password_is_refused():
    fresh = auth.hash_password("example-only-chenjing")  # a new salt, the published password
    secrets = {"auth": {"accounts": {"boss": {"role": "manager", "password_hash": fresh}}}}
    with pytest.raises(auth.AccountsError, match="'boss' in secrets.toml has a password published"):
        auth.load_accounts(secrets)
    own = {
        "auth": {"accounts": {"boss": {"role": "manager", "password_hash": auth.hash_password("s3cret-pw!")}}}
    }
    assert list(auth.load_accounts(own)) == ["boss"]


def test_hash_password_refuses_a_published_example_password(monkeypatch, capsys):
    import io

    from analytics.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("example-only-zhangli\n"))
    assert main(["hash-password", "--stdin"]) == 2
    assert "published" in capsys.readouterr().err


def test_secrets_file_that_is_not_toml_is_refused_and_a_missing_one_is_empty(tmp_path):
    broken = tmp_path / "secrets.toml"
    broken.write_text("[auth.accounts.zhangli\nrole = ", encoding="utf-8")
    with pytest.raises(auth.AccountsError, match="not valid TOML"):
        auth.read_secrets(broken)
    assert auth.read_secrets(tmp_path / "missing.toml") == {}


def test_sign_in_throttle_makes_a_user_name_wait_longer_after_each_failure_but_never_locks_it():
    throttle = auth.SignInThrottle(max_failures=3, window_seconds=60, client_max_failures=100)
    for second in range(3):
        assert throttle.begin("li", f"pc{second}", 100.0 + second) == ("ok", 0.0)
    assert throttle.begin("li", "pc9", 102.5) == ("user_wait", pytest.approx(0.5))  # 1 s after the last
    assert throttle.begin("wang", "pc9", 102.5) == ("ok", 0.0)  # other names are not affected
    assert throttle.begin("li", "pc9", 103.0) == ("ok", 0.0)
    assert throttle.begin("li", "pc9", 104.0) == ("user_wait", pytest.approx(1.0))  # now 2 s
    assert throttle.begin("li", "pc9", 105.0) == ("ok", 0.0)
    assert throttle.begin("li", "pc9", 108.0) == ("user_wait", pytest.approx(1.0))  # now 4 s
    assert throttle.begin("li", "pc9", 170.0) == ("ok", 0.0)  # the failures have aged out
    throttle.succeeded("li", "pc9", 170.0)
    assert throttle.begin("li", "pc9", 170.5) == ("ok", 0.0)


def test_sign_in_throttle_locks_a_client_after_its_limit_whatever_the_user_names():
    throttle = auth.SignInThrottle(max_failures=100, window_seconds=60, client_max_failures=4)
    for second in range(4):
        assert throttle.begin(f"user{second}", "10.0.0.9", 100.0 + second) == ("ok", 0.0)
    assert throttle.begin("zhangli", "10.0.0.9", 104.0) == ("client_locked", pytest.approx(56.0))
    assert throttle.begin("zhangli", "10.0.0.7", 104.0) == ("ok", 0.0)  # another computer may try
    assert throttle.begin("zhangli", "10.0.0.9", 160.0) == ("ok", 0.0)


PROXIES = ["127.0.0.1", "::1", "10.1.0.0/16"]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        (None, None, "local"),  # this machine, no proxy in front
        ("203.0.113.7", None, "203.0.113.7"),  # a browser straight to the dashboard
        (None, "203.0.113.7", "203.0.113.7"),  # through nginx on this machine
        (None, "203.0.113.7:51234", "203.0.113.7"),  # an entry with its port
        (None, "[2001:db8::7]:443", "2001:db8::7"),
        ("10.1.2.3", "203.0.113.7, 10.1.9.9", "203.0.113.7"),  # two proxies of the trusted network
        # A browser that writes the header itself: the proxy appends what it saw, the right-most.
        (None, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (None, "127.0.0.1, 203.0.113.7", "203.0.113.7"),
        # A browser straight to the dashboard cannot choose its address with the header.
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),
        ("203.0.113.7", "127.0.0.1", "203.0.113.7"),
        # A right-most entry that is no address (a misconfigured proxy): the connection itself.
        (None, "198.51.100.1, unknown", "local"),
        (None, "", "local"),
        (None, "10.1.0.5", "local"),  # only trusted proxies in the chain
    ],
)
def test_the_client_behind_a_trusted_proxy_is_what_the_proxy_saw(peer, forwarded_for, client):
    assert auth.client_address(peer, forwarded_for, PROXIES) == client


def test_one_browsers_failures_through_the_proxy_lock_it_and_not_the_other_users():
    # Behind nginx every connection comes from this machine: counted by the connection, one
    # attacker's twenty failures locked every user of the dealership out for the lock's minutes.
    throttle = auth.SignInThrottle(max_failures=100, window_seconds=300, client_max_failures=20)
    attacker = "203.0.113.66"
    for second in range(20):
        # The attacker writes a new X-Forwarded-For each time; nginx appends its real address.
        forged = f"198.51.100.{second}, {attacker}"
        client = auth.client_address(None, forged, PROXIES)
        assert throttle.begin(f"user{second}", client, 100.0 + second) == ("ok", 0.0)
    locked = auth.client_address(None, f"198.51.100.99, {attacker}", PROXIES)
    assert throttle.begin("zhangli", locked, 121.0)[0] == "client_locked"
    colleague = auth.client_address(None, "192.0.2.10", PROXIES)
    assert throttle.begin("zhangli", colleague, 121.0) == ("ok", 0.0)
    # Without the proxy setting (a proxy the file does not name), all share one client: the old way.
    assert auth.client_address(None, "192.0.2.10", []) == auth.client_address(None, attacker, []) == "local"


@pytest.mark.parametrize("burst", [10, 15])
def test_parallel_wrong_passwords_get_no_more_evaluations_than_the_limit(monkeypatch, burst):
    """Ten (or fifteen) sessions submitting at the same moment used to get ten evaluations."""
    import threading
    import time

    account = auth.Account("zhangli", "张丽", "cs_lead", "$argon2id$unused")
    evaluations = []

    def slow_check(accounts, username, password):
        evaluations.append(username)
        time.sleep(0.05)  # argon2 takes this long: every thread is inside at once
        return None

    monkeypatch.setattr(auth, "check_password", slow_check)
    throttle = auth.SignInThrottle(max_failures=5, window_seconds=300, client_max_failures=100)
    barrier = threading.Barrier(burst)
    outcomes: list[auth.SignInOutcome] = []

    def session(i: int) -> None:
        barrier.wait()
        outcomes.append(auth.attempt_sign_in(throttle, {"zhangli": account}, "zhangli", "guess", f"pc{i}"))

    threads = [threading.Thread(target=session, args=(i,)) for i in range(burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(evaluations) == 5
    assert sorted(o.reason for o in outcomes) == ["user_wait"] * (burst - 5) + ["wrong"] * 5


def test_hash_password_command_reads_stdin_and_prints_a_verifiable_hash(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("example-only-pw\n"))
    assert main(["hash-password", "--stdin"]) == 0
    printed = capsys.readouterr().out.strip()
    assert auth.verify_password(printed, "example-only-pw")
    assert "example-only-pw" not in printed


def test_hash_password_command_asks_twice_and_refuses_a_mismatch_or_a_short_password(monkeypatch, capsys):
    answers = iter(["example-only-pw", "example-only-pw2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["hash-password"]) == 2
    assert "differ" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["hash-password", "--stdin"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err


def test_audit_log_records_and_reads_events_newest_first(tmp_path):
    from datetime import datetime

    con = db.connect(tmp_path / "audit.duckdb")
    audit.record(con, "zhangli", "cs_lead", "sign_in", at=datetime(2026, 9, 30, 9))
    audit.record(
        con,
        "zhangli",
        "cs_lead",
        "import",
        {"import_id": 3, "file": "工单.csv"},
        at=datetime(2026, 9, 30, 10),
    )
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(con, "zhangli", "cs_lead", "delete_everything")
    log = audit.entries(con)
    assert log[["who", "role", "action"]].to_dict("records") == [
        {"who": "zhangli", "role": "cs_lead", "action": "import"},
        {"who": "zhangli", "role": "cs_lead", "action": "sign_in"},
    ]
    assert json.loads(log["detail"][0]) == {"import_id": 3, "file": "工单.csv"}
    assert list(audit.entries(con, action="sign_in")["action"]) == ["sign_in"]
    assert len(audit.entries(con, limit=1)) == 1
    con.close()


def test_cli_imports_and_rollbacks_land_in_the_audit_log_under_the_os_user(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    path = str(tmp_path / "cli.duckdb")
    golden = str(ROOT / "tests" / "data" / "service_orders_gbk.csv")
    assert main(["import", golden, "--kind", "service", "--db", path]) == 0
    assert main(["rollback", "1", "--db", path]) == 0
    capsys.readouterr()
    assert main(["audit", "--json", "--db", path]) == 0
    events = json.loads(capsys.readouterr().out)
    assert [(e["who"], e["role"], e["action"]) for e in events] == [
        ("ops", "cli", "rollback"),
        ("ops", "cli", "import"),
    ]
    assert events[1]["detail"]["file"] == golden and events[1]["detail"]["inserted"] == 8
    assert events[0]["detail"] == {"import_id": 1, "deleted": 8, "restored": 0, "kept": 0}
    assert main(["audit", "--db", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "ops (cli)  rollback  import_id=1" in lines[0]


def test_the_server_binds_to_localhost_and_secrets_stay_out_of_git():
    import subprocess
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "localhost"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=ROOT, check=False
    ).returncode
    assert ignored == 0
    assert (ROOT / ".streamlit" / "secrets.toml.example").is_file()
