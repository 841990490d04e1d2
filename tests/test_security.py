"""Issue 19: defects found by trying to break the dashboard (binding, roles, masking, injection,
audit), each reproduced through the real entry point."""

from __future__ import annotations

import pytest
from streamlit import config as st_config

from analytics import auth
from tests.signing_in import shows_data, start, t_


@pytest.fixture
def bound_to(monkeypatch):
    """Set Streamlit's server.address for one test, as `streamlit run --server.address` would."""
    before = st_config.get_option("server.address")

    def bind(address: str | None) -> None:
        st_config.set_option("server.address", address)

    yield bind
    st_config.set_option("server.address", before)


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.20", None])
def test_local_mode_refuses_to_serve_the_network_without_accounts(demo_env, bound_to, address):
    bound_to(address)
    at = start()
    assert [e.value for e in at.error] == [t_("auth.network_without_accounts", address=address or "0.0.0.0")]
    assert not shows_data(at) and at.session_state["_user"].role == "viewer"


def test_local_mode_serves_the_network_without_accounts_only_when_the_setting_says_so(
    demo_env, bound_to, monkeypatch
):
    from analytics.config import settings

    bound_to("0.0.0.0")
    monkeypatch.setitem(settings()["auth"], "serve_network_without_accounts", True)
    at = start()
    assert not at.error and len(at.metric) == 12


def test_with_accounts_the_network_is_served_behind_the_sign_in_form(demo_env, with_accounts, bound_to):
    bound_to("0.0.0.0")
    at = start()
    assert not at.error and at.title[0].value == t_("auth.title")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("LOCALHOST ", True),
        ("0.0.0.0", False),
        ("", False),
    ],
)
def test_which_addresses_local_mode_may_serve(address, allowed):
    assert auth.local_mode_allowed(address, False) is allowed
    assert auth.local_mode_allowed(address, True) is True
