"""Sign-in through the entrypoint: local single-user mode without accounts, the form with them,
wrong passwords refused, logged and throttled, sign-out, and bad configuration refused."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ACCOUNTS
from tests.signing_in import APP, audit_rows, shows_data, sign_in, start, submit, t_


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_accounts_the_dashboard_runs_in_local_mode_and_says_so(demo_env, lang):
    at = start(lang)
    assert t_("app.local_mode", lang) in [c.value for c in at.sidebar.caption]
    assert not at.text_input and len(at.metric) == 12
    assert at.session_state["_user"].role == "cs_lead"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", [None, "pages/churn.py", "pages/data.py"])
def test_with_accounts_every_page_shows_only_the_sign_in_form(demo_env, with_accounts, page, lang):
    at = start(lang, page)
    assert at.title[0].value == t_("auth.title", lang)
    assert [w.label for w in at.text_input] == [t_("auth.username", lang), t_("auth.password", lang)]
    assert not shows_data(at)
    assert not at.get("download_button") and not at.get("file_uploader")
    assert t_("app.local_mode", lang) not in [c.value for c in at.sidebar.caption]
    # The language can be switched on the form itself.
    at.button_group(key="_lang_widget").set_value("zh" if lang == "en" else "en").run()
    assert at.title[0].value == t_("auth.title", "zh" if lang == "en" else "en")


def test_a_wrong_password_is_refused_and_logged(writable_demo, with_accounts):
    at = submit(start(), "zhangli", "example-only-wrong")
    assert [e.value for e in at.error] == [t_("auth.failed")]
    assert "_signed_in" not in at.session_state and not shows_data(at)
    submit(at, "nobody'; DROP TABLE audit_log; --", "x")
    assert [e.value for e in at.error] == [t_("auth.failed")]
    rows = audit_rows()
    assert rows[0] == ("zhangli", "none", "sign_in_failed", {"reason": "wrong user name or password"})
    # A name that is no account is recorded as such (it may be a password typed in the wrong field).
    who, role, action, detail = rows[1]
    assert len(rows) == 2 and re.fullmatch(r"unknown account [0-9a-f]{6}", who)
    assert (role, action, detail) == ("none", "sign_in_failed", {"reason": "wrong user name or password"})


def test_repeated_failures_make_the_user_name_wait_even_for_the_right_password(
    writable_demo, with_accounts, monkeypatch
):
    from analytics.core.config import settings

    monkeypatch.setattr(settings().auth, "failure_delay_seconds", 0.0)
    # Long waits, so a slow machine cannot outlast them between the tries of this test.
    monkeypatch.setattr(settings().auth, "first_wait_seconds", 600)
    monkeypatch.setattr(settings().auth, "max_wait_seconds", 600)
    at = start()
    for _ in range(settings().auth.max_failures):
        submit(at, "chenjing", "example-only-wrong")
    submit(at, "chenjing", ACCOUNTS["chenjing"][2])
    waits = [t_("auth.wait", seconds=s) for s in range(400, 601)]
    assert len(at.error) == 1 and at.error[0].value in waits
    assert not shows_data(at)
    assert audit_rows()[-1] == ("chenjing", "none", "sign_in_failed", {"reason": "user_wait"})
    # Another user name does not wait.
    submit(at, "zhangli", ACCOUNTS["zhangli"][2])
    assert len(at.metric) == 12


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_signing_in_shows_who_and_the_role_and_signing_out_returns_to_the_form(
    writable_demo, with_accounts, lang
):
    at = sign_in("zhangli", lang)
    assert len(at.metric) == 12
    expected = t_("auth.signed_in_as", lang, name="张丽", role=t_("auth.role.cs_lead", lang))
    assert expected in [c.value for c in at.sidebar.caption]
    at.sidebar.button(key="_sign_out").click().run()
    assert at.title[0].value == t_("auth.title", lang) and not shows_data(at)
    assert [(who, role, action) for who, role, action, _ in audit_rows()] == [
        ("zhangli", "cs_lead", "sign_in"),
        ("zhangli", "cs_lead", "sign_out"),
    ]


def test_an_account_removed_from_secrets_is_signed_out_on_its_next_run(writable_demo, with_accounts):
    at = sign_in("chenjing")
    text = with_accounts.read_text(encoding="utf-8")
    with_accounts.write_text(
        text.replace("[auth.accounts.chenjing]", "[auth.accounts.chenjing_old]"), "utf-8"
    )
    at.run()
    assert at.title[0].value == t_("auth.title") and not shows_data(at)


def test_bad_account_configuration_stops_the_dashboard_with_sentences(
    demo_env, tmp_path, monkeypatch, capsys
):
    # The sentences saying what to fix name the accounts: they go to the server's log, and the page
    # (seen by whoever opens it, signed in or not) says only how many there are.
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth.accounts.li]\nrole = "admin"\npassword_hash = "hunter2"\n', encoding="utf-8")
    monkeypatch.setenv("ANALYTICS_SECRETS", str(secrets))
    capsys.readouterr()
    at = start()
    assert len(at.error) == 1
    assert "2 problem(s)" in at.error[0].value and "'li'" not in at.error[0].value
    logged = capsys.readouterr().err
    assert "unknown role 'admin'" in logged and "not an argon2 hash" in logged
    assert not shows_data(at) and not at.text_input
    secrets.write_text("[auth.accounts.li\n", encoding="utf-8")
    at = start()
    assert "1 problem(s)" in at.error[0].value and not shows_data(at)
    assert "not valid TOML" in capsys.readouterr().err


def test_accounts_can_come_from_st_secrets(demo_env, accounts_text, monkeypatch):
    import tomllib

    monkeypatch.delenv("ANALYTICS_SECRETS")
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.secrets = tomllib.loads(accounts_text)
    at.session_state["lang"] = "en"
    at.run()
    assert at.title[0].value == t_("auth.title") and not shows_data(at)


def test_signing_out_leaves_nothing_of_the_session_but_the_view_for_the_next_user(
    writable_demo, with_accounts
):
    """The CS lead's parsed uploads (every row of a DMS file, phones in full), the deck and the values
    of the widgets they typed stayed in the browser session after signing out, for whoever signed in
    next on the same browser; only the shared view (language, month, window, stores) carries over."""
    at = sign_in("zhangli")
    at.session_state["parsed_uploads"] = {"abc": "rows of 13812345678"}
    at.session_state["churn_search"] = "张三"
    month = at.session_state["month"]
    at.sidebar.button(key="_sign_out").click().run()
    assert at.title[0].value == t_("auth.title") and not shows_data(at)
    assert "parsed_uploads" not in at.session_state and "churn_search" not in at.session_state
    assert at.session_state["month"] == month and at.session_state["lang"] == "en"
