"""Sign-in and roles on the dashboard.

``require_user()`` runs from the shared sidebar before any page draws data. With accounts in
``.streamlit/secrets.toml`` it shows a sign-in form until the user signs in, then who is signed
in and a sign-out button; without accounts the dashboard runs in local single-user mode (the
``cs_lead`` role) and says so. A secrets file that exists but cannot be used stops the page
with sentences saying what to fix: a broken file never falls back to local mode.

The accounts come from ``$ANALYTICS_SECRETS`` (a TOML file; tests point it at their own) or
else ``st.secrets``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import Any

import pandas as pd
import streamlit as st

from analytics.core import auth
from analytics.core.config import settings
from analytics.store import audit
from ui.data import audit_writing
from ui.i18n import t

SECRETS_ENV = "ANALYTICS_SECRETS"
USER_KEY = "_signed_in"  # session state: the user name of the signed-in account
CURRENT_KEY = "_user"  # session state: the User this run acts as
NO_ROLE = "none"  # the role recorded for a failed sign-in
SESSION_KEY = "_signed_in_with"  # session state: SignedIn, what the sign-in holds to


@dataclass(frozen=True)
class SignedIn:
    """What a signed-in session holds to: the account's stamp (``auth.account_stamp``: its role and
    password hash at sign-in), that role, and when it last ran a page (``time.monotonic``)."""

    stamp: str
    role: str
    seen: float


@dataclass(frozen=True)
class User:
    """Who is using the dashboard in this session, and in which role."""

    username: str
    name: str
    role: str
    local: bool = False

    @property
    def can(self) -> auth.Permissions:
        """Return what this user's role may do."""
        return auth.permissions(self.role)


LOCAL = User(auth.LOCAL_USER, auth.LOCAL_USER, auth.LOCAL_ROLE, local=True)
# Who a helper acts as when accounts are configured but no page has signed anyone in: the least.
NOBODY = User("", "", "viewer")


def secrets_source() -> str:
    """Return where the accounts are read from: the ``$ANALYTICS_SECRETS`` path or ``st.secrets``."""
    return os.environ.get(SECRETS_ENV) or "st.secrets"


def _secrets() -> Mapping[str, Any]:
    path = os.environ.get(SECRETS_ENV)
    if path:
        return auth.read_secrets(path)
    # st.secrets treats a file it cannot parse like a missing one; parse the files here first so
    # a broken secrets.toml stops the dashboard instead of opening it in local mode.
    for name in st.get_option("secrets.files") or []:
        auth.read_secrets(Path(name))
    return st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}


def accounts() -> dict[str, auth.Account]:
    """Return the configured accounts ({} in local single-user mode); bad config raises AccountsError."""
    return auth.load_accounts(_secrets())


@st.cache_resource(show_spinner=False)
def _throttle(source: str) -> auth.SignInThrottle:
    # One per server process and accounts file, so a new browser session does not reset it.
    del source
    cfg = settings().auth
    return auth.SignInThrottle(
        max_failures=cfg.max_failures,
        window_seconds=60.0 * cfg.lock_minutes,
        client_max_failures=cfg.client_max_failures,
        max_wait_seconds=cfg.max_wait_seconds,
        first_wait_seconds=cfg.first_wait_seconds,
    )


# Proxies believed only to refuse local mode: a program on this machine that names another
# computer in X-Forwarded-For gains nothing by it but the refusal.
THIS_MACHINE = ("127.0.0.1", "::1")


def _client(also_trusted: tuple[str, ...] = ()) -> str:
    """Return who is trying to sign in, for the per-client limit: the browser's IP address, read
    from X-Forwarded-For only when the connection comes from one of ``[auth] trusted_proxies`` (or
    ``also_trusted``) (``auth.client_address``); ``local`` for this machine."""
    try:
        peer = st.context.ip_address
        lines = st.context.headers.get_all("X-Forwarded-For")
    except Exception:  # noqa: BLE001 - no request context (a test harness): one shared client
        return "unknown"
    if not isinstance(peer, str) and peer is not None:
        return "unknown"  # a test harness's stand-in for the connection, no address
    trusted = [*settings().auth.trusted_proxies, *also_trusted]
    return auth.client_address(peer, forwarded_for(lines), trusted)


def _request_host() -> str | None:
    """Return the Host header of the request that opened this session ("" when it sent none), or
    None without a request (a test harness)."""
    try:
        peer = st.context.ip_address
        host = st.context.headers.get("Host")
    except Exception:  # noqa: BLE001 - no request context
        return None
    if not isinstance(peer, str) and peer is not None:
        return None  # a test harness's stand-in for the connection
    return host if isinstance(host, str) else ""


def forwarded_for(lines: object) -> str | None:
    """Return the X-Forwarded-For header as one list, its lines joined in the order they came
    (RFC 9110: repeated fields are one comma-separated list). A proxy that adds a line of its own
    instead of extending the browser's leaves the browser's line first; ``headers.get`` returns
    only that first line, so what the browser wrote would be taken for the client."""
    if not isinstance(lines, list | tuple):
        return None
    texts = [line for line in lines if isinstance(line, str)]
    return ", ".join(texts) if texts else None


def require_user() -> User:
    """Return the signed-in user, or draw the sign-in form and stop the run until someone signs in."""
    try:
        configured = accounts()
    except auth.AccountsError as exc:
        # Whoever opens the page is not signed in: the problems name the accounts, so they go to
        # the server's log (the terminal or service that runs it), and the page only says where.
        print("secrets.toml: " + " ".join(exc.problems), file=sys.stderr, flush=True)
        st.error(t("auth.bad_config", count=len(exc.problems)))
        st.stop()
    if not configured:
        address = st.get_option("server.address")
        allow = bool(settings().auth.serve_network_without_accounts)
        if not auth.local_mode_allowed(address, allow):
            st.session_state[CURRENT_KEY] = NOBODY
            st.error(t("auth.network_without_accounts", address=address or "0.0.0.0"))
            st.stop()
        # A proxy on this machine that brings another computer (nginx forwarding the network to
        # localhost) says so in X-Forwarded-For, believed here whatever trusted_proxies says.
        client = _client(THIS_MACHINE)
        if not auth.local_mode_allowed(address, allow, client):
            # Bound to this machine, but a reverse proxy here brought another computer's browser.
            st.session_state[CURRENT_KEY] = NOBODY
            st.error(t("auth.proxied_without_accounts", client=client))
            st.stop()
        host = _request_host()
        if not allow and host is not None and not auth.loopback_host(host):
            # Reached by a name other than this machine's (DNS rebinding: a site's script naming
            # its own site, its name resolved to 127.0.0.1), full rights would be that site's.
            st.session_state[CURRENT_KEY] = NOBODY
            st.error(t("auth.host_without_accounts", port=st.get_option("server.port")))
            st.stop()
        st.session_state.pop(USER_KEY, None)
        st.session_state[CURRENT_KEY] = LOCAL
        st.sidebar.caption(t("app.local_mode"))
        return LOCAL
    account = _still_signed_in(configured)
    if account is None:
        # Signed out, never signed in, or the session just ended (``_still_signed_in``).
        st.session_state.pop(USER_KEY, None)
        st.session_state[CURRENT_KEY] = NOBODY
        _sign_in_form(configured)
        st.stop()
    user = User(account.username, account.name, account.role)
    st.session_state[CURRENT_KEY] = user
    with st.sidebar:
        st.caption(t("auth.signed_in_as", name=user.name, role=t(f"auth.role.{user.role}")))
        st.button(t("auth.sign_out"), key="_sign_out", on_click=_sign_out, icon=":material/logout:")
    return user


def _still_signed_in(configured: Mapping[str, auth.Account]) -> auth.Account | None:
    """Return the account this session signed in with, or None when it signed in with none, or its
    session has ended: the account removed from secrets.toml, given a new password or role there
    (whoever signed in with a leaked password keeps nothing once it is changed), or no page run
    for ``[auth] idle_minutes``. An ended session is recorded and cleared as a sign-out is."""
    username = st.session_state.get(USER_KEY)
    if not username:
        return None
    account = configured.get(username)
    held = st.session_state.get(SESSION_KEY)
    held = held if isinstance(held, SignedIn) else None
    idle = settings().auth.idle_minutes
    now = monotonic()
    if account is not None and held is not None and held.stamp == auth.account_stamp(account):
        if not idle or now - held.seen <= 60.0 * idle:
            st.session_state[SESSION_KEY] = SignedIn(held.stamp, held.role, now)
            return account
        reason = "idle"
    else:
        reason = "account_changed"
    _audit(str(username), held.role if held else NO_ROLE, "sign_out", {"reason": reason})
    _clear_session()
    st.info(
        t("auth.ended_idle", minutes=f"{idle:g}") if reason == "idle" else t("auth.ended_account_changed")
    )
    return None


def current_user() -> User:
    """Return who this run acts as, as set by ``require_user``; before that, local mode's user
    when no accounts are configured and the least privileged otherwise."""
    user = st.session_state.get(CURRENT_KEY)
    if isinstance(user, User):
        return user
    try:
        return NOBODY if accounts() else LOCAL
    except auth.AccountsError:
        return NOBODY


def can() -> auth.Permissions:
    """Return what the current user's role may do."""
    return current_user().can


def protect(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as the current role may see it: phone numbers masked unless it calls customers."""
    return frame if can().sees_phone else auth.mask_frame(frame)


def protect_text(text: str) -> str:
    """Return free text as the current role may see it: mobile numbers in it masked unless it calls customers."""
    return text if can().sees_phone else str(auth.mask_text(text))


# The writes a role needs ``import_data`` for; each is checked again when it runs, not only by
# hiding its button, and a refused one is audited.
WRITES: tuple[str, ...] = ("import", "demo", "rollback", "retrain")


def authorize(action: str) -> bool:
    """Return whether the current role may make the write ``action`` now; if not, say so and audit it."""
    if action not in WRITES:
        raise ValueError(f"unknown write {action!r}; the writes are {', '.join(WRITES)}")
    user = current_user()
    if user.can.import_data:
        return True
    record("refused", {"action": action})
    st.error(t("auth.refused", role=t(f"auth.role.{user.role}")))
    return False


def _audit(who: str, role: str, action: str, detail: Mapping[str, Any] | None = None) -> None:
    """Append one event to the audit log (the database file, also over a Parquet export)."""
    with audit_writing() as cur:
        audit.record(cur, who, role, action, detail)


def record(action: str, detail: Mapping[str, Any] | None = None) -> None:
    """Write an event by the current user to the audit log."""
    user = current_user()
    _audit(user.username, user.role, action, detail)


def _sign_in_form(configured: Mapping[str, auth.Account]) -> None:
    st.title(t("auth.title"))
    st.caption(t("auth.intro"))
    with st.form("sign_in", clear_on_submit=True):
        username = st.text_input(t("auth.username"), key="_sign_in_user", max_chars=64)
        password = st.text_input(t("auth.password"), type="password", key="_sign_in_password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if submitted:
        _attempt(configured, username.strip(), password)


def _attempt(configured: Mapping[str, auth.Account], username: str, password: str) -> None:
    outcome = auth.attempt_sign_in(_throttle(secrets_source()), configured, username, password, _client())
    account = outcome.account
    if account is not None:
        # Recorded first: a sign-in that cannot be recorded signs nobody in.
        _audit(account.username, account.role, "sign_in")
        st.session_state[SESSION_KEY] = SignedIn(auth.account_stamp(account), account.role, monotonic())
        st.session_state[USER_KEY] = account.username
        st.rerun()
    if outcome.reason == "user_wait":
        message = t("auth.wait", seconds=math.ceil(outcome.wait_seconds))
    elif outcome.reason == "client_locked":
        message = t("auth.client_locked", minutes=math.ceil(outcome.wait_seconds / 60))
    else:
        message = t("auth.failed")
    reason = outcome.reason if outcome.reason != "wrong" else "wrong user name or password"
    try:
        if outcome.worth_recording:
            # What was typed is kept only when it names an account: it may be a password.
            _audit(auth.recorded_name(configured, username), NO_ROLE, "sign_in_failed", {"reason": reason})
    finally:
        # A pause after every refused try makes guessing slow even before the waits grow, also
        # when the failure cannot be recorded.
        time.sleep(settings().auth.failure_delay_seconds)
    st.error(message)


# What the next user of the same browser finds after a sign-out: the shared view (language, month,
# trend window, stores, with their widgets) and the markers of the frame, nothing of the data.
SHARED_VIEW_KEYS: frozenset[str] = frozenset(
    {"lang", "_lang_widget", "month", "_w_month", "window", "_w_window", "stores", "_w_stores",
     "_link_restored", "_entrypoint_ran"}
)  # fmt: skip


def _sign_out() -> None:
    user = current_user()
    if user.username and not user.local:
        _audit(user.username, user.role, "sign_out")
    _clear_session()


def _clear_session() -> None:
    # Everything but the shared view goes: parsed uploads (a DMS file's rows, phones in full), the
    # deck, the values typed into widgets (a customer searched for), the rows selected in a list.
    for key in list(st.session_state.keys()):
        if key not in SHARED_VIEW_KEYS:
            del st.session_state[key]
