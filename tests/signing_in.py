"""Helpers for tests that sign in through the dashboard's form (accounts in tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.conftest import ACCOUNTS

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"


def t_(key, lang="en", **params):
    from analytics.core.i18n import text

    return text(key, lang, **params)


def start(lang="en", page=None):
    """Run the app (and switch to ``page``) without signing in."""
    at = AppTest.from_file(str(APP), default_timeout=240)
    at.session_state["lang"] = lang
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def submit(at, username, password):
    """Fill in the sign-in form and submit it."""
    at.text_input(key="_sign_in_user").input(username)
    at.text_input(key="_sign_in_password").input(password)
    next(b for b in at.button if b.label == t_("auth.sign_in", at.session_state["lang"])).click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def sign_in(username, lang="en", page=None):
    """Run the app, sign in as ``username`` with the right password, then switch to ``page``."""
    at = submit(start(lang), username, ACCOUNTS[username][2])
    if page:
        at.switch_page(page)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
    return at


def audit_rows():
    from ui.data import audit_reading

    # The database file's log, also when the pages read a Parquet export.
    with audit_reading() as cur:
        rows = cur.execute("SELECT who, role, action, detail FROM audit_log ORDER BY audit_id").fetchall()
    return [(who, role, action, json.loads(detail or "{}")) for who, role, action, detail in rows]


def shows_data(at):
    return bool(at.metric or at.dataframe or at.get("vega_lite_chart"))
