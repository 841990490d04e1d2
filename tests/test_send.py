"""The monthly push (``python -m analytics send``) against a local SMTP server and a local robot webhook."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import io
import shutil
import socket
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation

from analytics.core.errors import UserError
from analytics.core.months import month_label, parse_month, shift_month
from analytics.domain import kpi
from analytics.reports import notify
from analytics.store import db
from tests.db_state import run_cli
from tests.local_servers import smtp_server, webhook_server

MONTH = "2026-09"  # the demo's data end on 2026-10-31, so every figure of September is final
SECRET = "SECexample-only"


@pytest.fixture
def own_demo(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo: other tests in this process may hold the shared file open."""
    path = tmp_path / "own.duckdb"
    shutil.copy(demo_db, path)
    return path


def secrets_file(
    tmp_path: Path, smtp_port: int | None, hook_port: int | None, kind: str = "dingtalk"
) -> Path:
    parts = []
    if smtp_port is not None:
        parts.append(
            f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nuser = "robot"\npassword = "example-only"\n'
            'from = "dashboard@store.example"\nto = ["gm@store.example", "cs@store.example"]\nstarttls = false\n'
        )
    if hook_port is not None:
        parts.append(
            f'[webhook]\nurl = "http://127.0.0.1:{hook_port}/robot/send?access_token=abc"\nkind = "{kind}"\n'
            f'secret = "{SECRET}"\n'
        )
    path = tmp_path / "secrets.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def send(database: Path, secrets: Path, *extra: str):
    return run_cli(
        "send", "--month", MONTH, "--lang", "en", "--no-model", "--db", str(database), "--secrets", str(secrets),
        *extra, timeout=300,
    )  # fmt: skip


def test_send_mails_the_deck_and_posts_the_summary(own_demo: Path, tmp_path: Path):
    with smtp_server() as (smtp_port, mailbox), webhook_server() as (hook_port, posts):
        done = send(own_demo, secrets_file(tmp_path, smtp_port, hook_port), "--to", "lead@store.example")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"e-mail sent to lead@store.example with CS_review_{MONTH}.pptx",
        "summary posted to the dingtalk robot",
    ]
    con = db.connect(own_demo, read_only=True)
    try:
        report = kpi.report(con, MONTH)  # the report command's figures, computed independently of the push
    finally:
        con.close()
    sat = report["kpis"]["satisfaction_rate"]

    assert mailbox.logins == [("robot", "example-only")]
    assert [(m["mail_from"], m["rcpt_to"]) for m in mailbox.messages] == [
        ("dashboard@store.example", ["lead@store.example"])
    ]
    msg = email.message_from_bytes(mailbox.messages[0]["data"], policy=email.policy.default)
    assert msg["Subject"] == f"After-sales CS · {MONTH} · All stores"
    body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert (
        f"Satisfaction rate: {kpi.format_value('satisfaction_rate', sat['value'])} (n={sat['n']:,})" in body
    )
    assert "Alerts\n  No KPI outside its control limits and no complaint theme spiking." in body
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"CS_review_{MONTH}.pptx"]
    deck = Presentation(io.BytesIO(attachments[0].get_content()))
    assert len(deck.slides) == 9

    assert len(posts.received) == 1
    path, payload = posts.received[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert query["access_token"] == ["abc"]
    stamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == msg["Subject"]
    assert payload["markdown"]["text"].startswith(f"### {msg['Subject']}\n**KPIs against targets")
    assert "> Churn calls (today's call list): " in payload["markdown"]["text"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_failed_send_exits_2_with_a_sentence(own_demo: Path, tmp_path: Path):
    smtp_port = _closed_port()  # nothing listens there
    with webhook_server({"errcode": 310000, "errmsg": "keywords not in content"}) as (hook_port, posts):
        done = send(own_demo, secrets_file(tmp_path, smtp_port, hook_port))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: The e-mail could not be sent through 127.0.0.1:{smtp_port} (")
    assert lines[0].endswith(
        f"The chat robot at 127.0.0.1:{hook_port} refused the message: "
        '{"errcode": 310000, "errmsg": "keywords not in content"}; check [webhook].'
    )
    assert len(posts.received) == 1


def test_a_password_smtp_cannot_carry_is_a_sentence_and_the_robot_still_gets_the_summary(
    own_demo: Path, tmp_path: Path
):
    """A non-ASCII password in [smtp] raised UnicodeEncodeError from smtplib: a traceback quoting a
    character of the password, and the robot was never tried."""
    with smtp_server() as (smtp_port, mailbox), webhook_server() as (hook_port, posts):
        secrets = secrets_file(tmp_path, smtp_port, hook_port)
        secrets.write_text(
            secrets.read_text(encoding="utf-8").replace('password = "example-only"', 'password = "pässwörd"'),
            encoding="utf-8",
        )
        done = send(own_demo, secrets)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: The mail server 127.0.0.1:{smtp_port} cannot be signed in to: the user name or password "
        "in [smtp] holds characters other than ASCII letters, digits and signs, which SMTP sign-in "
        "cannot carry; check them in the secrets file.\n"
    )
    assert "Traceback" not in done.stderr and "ä" not in done.stderr
    assert len(posts.received) == 1 and done.stdout == "summary posted to the dingtalk robot\n"


def test_nothing_configured_exits_2_before_any_work(own_demo: Path, tmp_path: Path):
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    done = send(own_demo, empty)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: Nothing to send to: {empty} has neither [smtp] nor [webhook]; add them "
        "(see .streamlit/secrets.toml.example) or use --dry-run.\n"
    )


def test_wecom_gets_markdown_content_cut_to_its_limit():
    assert notify.webhook_payload("wecom", "T", "### T\n> a") == {
        "msgtype": "markdown",
        "markdown": {"content": "### T\n> a"},
    }
    long = notify.webhook_payload("wecom", "T", "满" * 2000)["markdown"]["content"]
    assert len(long.encode("utf-8")) <= notify.WECOM_MAX_BYTES
    assert long == "满" * 1364 + "…"
    assert notify.webhook_payload("dingtalk", "T", "x") == {
        "msgtype": "markdown",
        "markdown": {"title": "T", "text": "x"},
    }


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "wecom"),
        ("https://oapi.dingtalk.com/robot/send?access_token=t", "dingtalk"),
    ],
)
def test_the_robot_kind_is_told_from_its_url(url: str, kind: str):
    assert notify.webhook_kind({"url": url}) == kind


@pytest.mark.parametrize(
    "url",
    [
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6 SECRET-7e2b",  # a space pasted in
        "https://robot:SECRET-pw@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",  # credentials in the URL
        "https://qyapi.weixin.qq.com:44x/cgi-bin/webhook/send?key=SECRET-k",
    ],
)
def test_a_malformed_robot_url_is_a_sentence_that_never_shows_its_key(url: str):
    """urllib's InvalidURL escaped as a traceback (into cron's log) quoting the path with the key."""
    with pytest.raises(UserError) as refused:
        notify.post_webhook({"url": url, "kind": "wecom"}, {"msgtype": "markdown"})
    message = str(refused.value)
    assert "SECRET" not in message
    assert message.startswith("[webhook] url in the secrets file is not a valid address")


def _series(rates: list[tuple[int, int]], provisional_last: bool = False) -> pd.DataFrame:
    months = [month_label(shift_month(parse_month(MONTH), -k)) for k in range(len(rates) - 1, -1, -1)]
    return pd.DataFrame(
        {
            "month": months,
            "kpi": "satisfaction_rate",
            "value": [x / n for x, n in rates],
            "n": [n for _, n in rates],
            "num": [x for x, _ in rates],
            "den": [n for _, n in rates],
            "provisional": [False] * (len(rates) - 1) + [provisional_last],
        }
    )


def test_a_kpi_outside_its_p_chart_limits_alerts():
    # Eleven months at 80 of 100, then 50 of 100: centre 930/1200, limits centre ± 3·sqrt(p(1-p)/100).
    alerts = notify.kpi_limit_alerts(_series([(80, 100)] * 11 + [(50, 100)]), MONTH)
    centre = 930 / 1200
    sigma = (centre * (1 - centre) / 100) ** 0.5
    assert alerts == [
        notify.Alert(
            "kpi_limits",
            "satisfaction_rate",
            0.5,
            pytest.approx(centre - 3 * sigma),
            pytest.approx(centre + 3 * sigma),
            100,
        )
    ]
    # 70 of 100 is inside the limits (lcl about 0.65). A month not over is judged so far when its counts
    # wait for nothing after it (satisfaction), not when they do (3DC coverage: calls still to come).
    assert notify.kpi_limit_alerts(_series([(80, 100)] * 11 + [(70, 100)]), MONTH) == []
    so_far = notify.kpi_limit_alerts(_series([(80, 100)] * 11 + [(50, 100)], provisional_last=True), MONTH)
    assert [(a.subject, a.so_far) for a in so_far] == [("satisfaction_rate", True)]
    coverage = _series([(80, 100)] * 11 + [(50, 100)], provisional_last=True).assign(kpi="coverage_3dc")
    assert notify.kpi_limit_alerts(coverage, MONTH) == []


def _theme(share: float, n: int) -> dict[str, object]:
    return {"id": "waiting", "label_en": "Waiting", "label_zh": "等待", "n": n, "share": share,
            "trend": [0.10, 0.12, 0.08, None, 0.10, 0.11]}  # fmt: skip


def test_a_complaint_theme_beyond_two_sd_of_its_recent_months_alerts():
    recent = [0.10, 0.12, 0.08, 0.10, 0.11]
    mean = sum(recent) / 5
    sd = (sum((r - mean) ** 2 for r in recent) / 4) ** 0.5
    assert notify.theme_spike_alerts({"themes": [_theme(0.20, 10)]}) == [
        notify.Alert("theme_spike", "waiting", 0.20, None, pytest.approx(mean + 2 * sd), 10)
    ]
    assert notify.theme_spike_alerts({"themes": [_theme(0.13, 10)]}) == []  # below 0.1317
    assert notify.theme_spike_alerts({"themes": [_theme(0.50, 4)]}) == []  # too few comments to flag


def test_targets_are_floors_and_provisional_figures_are_not_judged():
    assert notify.target_state(0.538, [0.25, 0.30], False) == "met"
    assert notify.target_state(0.20, [0.25, 0.30], False) == "missed"
    assert notify.target_state(0.20, [0.25, 0.30], True) == "pending"
    assert notify.target_state(None, [0.25, 0.30], False) == ""


def test_names_from_data_never_become_links_images_or_phone_numbers_in_the_chat_or_mail():
    """A store, advisor or theme named with chat markdown (a link, an image that the group's
    clients fetch, <font>) or holding a mobile went into the robot's message as written, and a
    store name with a line break made the mail's subject a header the mail library refused."""
    hostile = (
        '[领奖](http://evil.example)![](http://evil.example/p.png)<font color="warning">13812345678</font>'
    )
    summary = notify.Summary(
        month=MONTH,
        stores=[hostile, "西湖店\nBcc: x@evil.example"],
        as_of=pd.Timestamp("2026-09-30").date(),
        report={"kpis": {}},
        provisional={},
        changes=[
            {
                "kpi": "satisfaction_rate",
                "key": "kpi_fell",
                "params": {"before": 0.9, "after": 0.8, "n_before": 100, "n_after": 100, "z": -3.0},
                "segment": {"service_type": "maintenance", "advisor": hostile},
            }
        ],
        red_flags={},
        lists={"follow_ups": 0, "churn_calls": 0, "due_next": 0},
        alerts=[notify.Alert("theme_spike", "t1", 0.5, None, 0.2, 10)],
        theme_labels={"t1": {"en": hostile, "zh": hostile}},
    )
    for lang in ("en", "zh"):
        chat = notify.summary_markdown(summary, lang)
        for active in ("](", "![", "<font", "://", "13812345678", "\nBcc"):
            assert active not in chat, (lang, active)
        assert "138＊＊＊＊5678" in chat  # masked, its stars no emphasis
        mail = notify.summary_text(summary, lang)
        assert "13812345678" not in mail and "\nBcc" not in mail
        subject = notify.subject_line(summary, lang)
        assert "\n" not in subject and "13812345678" not in subject
