"""Session 44's attack on the number masks: a landline, a bank card or an ID card set apart by the
separators a mobile may have (``0571 - 8888 - 6666``, ``6222.0212.3456.7890.128``,
``110101/19900307/1234``) was shown in clear to the roles that see no phones, on the satisfaction
and themes pages and in the deck; and behind a trusted proxy that adds an X-Forwarded-For line of
its own, the sign-in lock per client counted whatever address the browser wrote."""

from __future__ import annotations

import re
import unicodedata
from types import SimpleNamespace

import pytest
from streamlit.runtime.context import StreamlitHeaders

from analytics.core import auth
from ui.auth import forwarded_for


def _digits(text: object) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", str(text)))


@pytest.mark.parametrize(
    "text",
    [
        "0571 - 8888 - 6666",
        "0571 - 88886666",
        "0571 / 8888 / 6666",
        "(0571) - 8888 - 6666",
        "0571 8 8 8 8 6 6 6 6",
        "+86 - 571 - 8888 - 6666",
        "0571 ｜ 8888 ｜ 6666",
    ],
)
def test_a_landline_set_apart_as_a_mobile_may_be_is_masked(text):
    masked = auth.mask_text("请回电座机" + text + "，谢谢")
    assert "88886666" not in _digits(masked), masked
    assert "6666" in str(masked)


@pytest.mark.parametrize(
    "text",
    [
        "6222 0212 3456 7890 128",
        "6222.0212.3456.7890.128",
        "6222/0212/3456/7890/128",
        "6222 - 0212 - 3456 - 7890 - 128",
    ],
)
def test_a_bank_card_in_groups_set_apart_by_any_sign_is_masked_whole(text):
    masked = auth.mask_text("退款卡号" + text)
    assert _digits(masked) == "0128", masked


@pytest.mark.parametrize(
    "text",
    ["110101/19900307/1234", "110101.19900307.1234", "110101 1990-03-07 1234", "110101-1990/03/07-1234"],
)
def test_an_id_card_with_its_birth_date_written_apart_is_masked(text):
    masked = auth.mask_text("身份证" + text)
    assert "19900307" not in _digits(masked), masked
    assert _digits(masked) == "1101234", masked


@pytest.mark.parametrize(
    "text",
    [
        "活动期 2024/01/01 - 2024/12/31，有效",
        "2024-01-01 ~ 2024-12-31",
        "金额 1,234.50 元，里程 12345 km",
        "评分 0, 5, 7, 1, 8, 8, 8, 8, 6, 6",
    ],
)
def test_dates_and_ordinary_numbers_stay_as_written(text):
    assert auth.mask_text(text) == text


def test_every_line_of_x_forwarded_for_is_read_in_order_so_the_proxys_line_is_the_client(monkeypatch):
    import ui.auth
    from analytics.core.config import settings

    # A proxy on this machine, configured as trusted (it is not by default since session 45).
    monkeypatch.setattr(settings().auth, "trusted_proxies", ["127.0.0.1", "::1"])
    throttle = auth.SignInThrottle(max_failures=1000, window_seconds=300, client_max_failures=20)
    outcomes = []
    for i in range(25):
        # The browser forges a line; a proxy on this machine that adds a line of its own appends the
        # address it saw. Streamlit gives no address for a connection from this machine.
        headers = StreamlitHeaders(
            [("X-Forwarded-For", f"203.0.113.{i}"), ("X-Forwarded-For", "198.51.100.7")]
        )
        context = SimpleNamespace(ip_address=None, headers=headers)
        monkeypatch.setattr(ui.auth, "st", SimpleNamespace(context=context))
        client = ui.auth._client()
        assert client == "198.51.100.7"
        outcomes.append(throttle.begin(f"guess{i}", client, 1000.0 + i)[0])
    assert outcomes[:20] == ["ok"] * 20 and set(outcomes[20:]) == {"client_locked"}
    assert forwarded_for([]) is None and forwarded_for(None) is None
    assert forwarded_for(["1.2.3.4, 5.6.7.8", "9.9.9.9"]) == "1.2.3.4, 5.6.7.8, 9.9.9.9"


def test_the_audit_logs_detail_reads_in_words_masked_and_escaped(monkeypatch):
    # The Data page's audit log showed each entry's detail as raw JSON
    # ({"file": "demo", "kind": "demo", "inserted": {...}}): it reads in words now, in the interface's
    # language, with a mobile in a file name masked before the controls in it are escaped.
    import json

    import pandas as pd

    import ui.formatting
    from analytics.core.i18n import text
    from analytics.store import audit

    monkeypatch.setattr(ui.formatting, "t", lambda key, **kw: text(key, "zh", **kw))
    detail = {
        "file": "回访_1381234\u200b5678.xlsx",
        "rows": 1204,
        "has_phone": True,
        "stored": {"orders": 3},
        "odd": None,
    }
    entries = pd.DataFrame(
        {"who": ["zhangli"], "role": ["cs_lead"], "action": ["export"], "detail": [json.dumps(detail)]}
    )
    shown = audit.readable(entries, auth.mask_text, ui.formatting.detail_words)["detail"].iloc[0]
    assert shown == "文件: 回访_138****5678.xlsx; 行数: 1,204; 含电话号码: 是; 已存入: (工单: 3); odd: —"
    hostile = pd.DataFrame(
        {
            "who": ["a"],
            "role": ["cs_lead"],
            "action": ["import"],
            "detail": [json.dumps({"file": "a\x1b[31mb"})],
        }
    )
    assert (
        audit.readable(hostile, auth.mask_text, ui.formatting.detail_words)["detail"].iloc[0]
        == "文件: a\\x1b[31mb"
    )
