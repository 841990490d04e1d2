"""Scheduled pushes: ``python -m analytics send --month M`` mails the month's deck with a short summary
and posts the summary to a group-chat robot (WeCom or DingTalk).

The summary reuses the figures the Overview and the deck show (``deck.deck_data``): KPIs against
their targets, what changed beyond noise, red flags, the size of the lists to call, and alerts: a
rate KPI outside its p-chart control limits (``satisfaction.p_chart``, the limits the satisfaction
chart draws, over the months the history can give) by more than chance would take it there as often
as a three-sigma limit stands for (one late complaint of one is no alert), or a complaint theme whose share of the month's complaints is more than two standard
deviations above its recent months. SMTP and webhook settings come from the secrets file
(``[smtp]`` and ``[webhook]`` in ``.streamlit/secrets.toml``); nothing is sent with ``--dry-run``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import smtplib
import ssl
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.core import formatting, stats
from analytics.core.auth import mask_text
from analytics.core.config import ROOT, settings
from analytics.core.errors import UserError
from analytics.core.i18n import text
from analytics.domain import churn, churn_model, kpi, satisfaction, themes
from analytics.reports import deck

SECRETS_ENV = "ANALYTICS_SECRETS"
DEFAULT_SECRETS = ROOT / ".streamlit" / "secrets.toml"
SPIKE_SD = 2.0  # a complaint theme spikes when its share exceeds its recent mean by this many SDs
MIN_SPIKE_MONTHS = 3  # recent months with complaints needed before a spread means anything
TIMEOUT_SECONDS = 30.0
WEBHOOK_KINDS: tuple[str, ...] = ("wecom", "dingtalk")
WECOM_MAX_BYTES = 4096  # the WeCom robot refuses markdown content longer than this
# The characters that make chat markdown of a name (links, bare addresses, images, <font>, emphasis,
# code), turned into their full-width look-alikes: the robots' markdown knows no backslash escape.
_CHAT_INERT = str.maketrans("[]()<>*`_#!:", "［］（）＜＞＊｀＿＃！：")


@dataclass(frozen=True)
class Alert:
    """One alert: a KPI outside its control limits (``kpi_limits``) or a complaint theme spike (``theme_spike``)."""

    kind: str
    subject: str  # the KPI name or the theme id
    value: float
    low: float | None  # control limit or spike threshold
    high: float | None
    n: int
    so_far: bool = False  # the month is not over: its value so far (a daily run on the current month)


@dataclass
class Summary:
    """The month's push: figures in no particular language, worded by ``summary_text``/``summary_markdown``."""

    month: str
    stores: list[str] | None
    as_of: date
    report: dict[str, Any]  # kpi.report
    provisional: dict[str, bool]
    changes: list[dict[str, Any]]  # satisfaction.what_changed
    red_flags: dict[str, int]
    lists: dict[str, int]  # follow_ups, churn_calls, due_next
    alerts: list[Alert] = field(default_factory=list)
    theme_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # theme id -> {en, zh}


# --------------------------------------------------------------------------- alerts


def kpi_limit_alerts(series: pd.DataFrame, month: str) -> list[Alert]:
    """Return the rate KPIs whose ``month`` value lies outside its p-chart limits over ``series`` (kpi.monthly_series)
    and is that far from the centre by chance no more often than a three-sigma limit stands for."""
    alerts = []
    # Months the history cannot give (insufficient_history: their counts come from a partial past) set
    # no limits, as they are no chart point.
    judged = (
        series["status"] != "insufficient_history"
        if "status" in series
        else pd.Series(True, index=series.index)
    )
    for name in sorted(kpi.RATE_KPIS):
        # The limits come from final months. The month itself is judged while it is not over when its
        # counts wait for nothing after it (a reached call is satisfied or not on the day): else the
        # daily run on the current month (README) could never raise a KPI alert. 3DC coverage,
        # complaint timeliness and the return rate so far lack the calls, answers and returns to come.
        so_far = name not in kpi.WAITING_KPIS and (series["month"] == month)
        rows = series[(series["kpi"] == name) & (~series["provisional"].astype(bool) | so_far) & judged]
        # A month with no value sets no limit either: a month without one work order (not imported)
        # keeps its due cars (num 0 of den) but is no 0% return rate.
        shown = rows["value"].notna() if "value" in rows else rows["den"].fillna(0) > 0
        rows = rows[shown & (rows["den"].fillna(0) > 0)].reset_index(drop=True)
        if len(rows) < MIN_SPIKE_MONTHS or month not in set(rows["month"]):
            continue
        limits = satisfaction.p_chart(rows["num"].astype(float), rows["den"].astype(float))
        at = int(rows.index[rows["month"] == month][0])
        num, den, centre = (
            int(rows["num"].iloc[at]),
            int(rows["den"].iloc[at]),
            float(limits["centre"].iloc[at]),
        )
        # A month too small to judge (one complaint, three due cars) can lie outside the normal-theory
        # limits by chance far more often than they stand for: it alerts only when the exact chance of a
        # month at least this far from the centre is as small as a three-sigma limit's.
        chance = stats.binomial_tail(num, den, centre, lower=num / den < centre)
        if bool(limits["signal"].iloc[at]) and chance <= stats.THREE_SIGMA_TAIL:
            alerts.append(
                Alert(
                    kind="kpi_limits",
                    subject=name,
                    value=num / den,
                    low=float(limits["lcl"].iloc[at]),
                    high=float(limits["ucl"].iloc[at]),
                    n=den,
                    so_far=bool(rows["provisional"].iloc[at]),
                )
            )
    return alerts


def theme_spike_alerts(complaint: Mapping[str, Any]) -> list[Alert]:
    """Return the complaint themes whose share this month exceeds their recent months' mean by more than
    two standard deviations (``themes.monthly_themes`` result; themes with fewer than MIN_FLAG_N comments, or
    whose rise over the recent months' pooled comments is within chance (z below RISING_Z), skipped)."""
    alerts = []
    for theme in complaint.get("themes", []):
        recent = [float(v) for v in theme["trend"] if v is not None]
        if theme["n"] < themes.MIN_FLAG_N or len(recent) < MIN_SPIKE_MONTHS:
            continue
        # The rise must be more than chance against the recent months' comments pooled, as the themes'
        # own rising flag tests it: a share of 0 in three months of one comment each is no baseline.
        if "z" in theme and float(theme["z"]) < themes.RISING_Z:
            continue
        threshold = statistics.fmean(recent) + SPIKE_SD * statistics.stdev(recent)
        if theme["share"] > threshold:
            alerts.append(
                Alert(
                    kind="theme_spike",
                    subject=str(theme["id"]),
                    value=float(theme["share"]),
                    low=None,
                    high=threshold,
                    n=int(theme["n"]),
                )
            )
    return alerts


# --------------------------------------------------------------------------- summary


def call_list_sizes(
    con: duckdb.DuckDBPyConnection, as_of: date, stores: list[str] | None, data: deck.DeckData
) -> dict[str, int]:
    """Return the size of the lists to work on at ``as_of``: red-flag follow-ups, churn calls (at the call
    capacity of settings, open complaints and recent calls skipped) and vehicles due next month."""
    cfg = settings().churn
    vehicles = churn.churn_list(churn_model.features(con, [as_of], stores), None, as_of)
    candidates = churn.prioritise(vehicles[vehicles["status"].isin(["lost", "at_risk"])])
    calls = churn.call_list(candidates, cfg.call_capacity, as_of, called_within_days=cfg.suppress_called_days)
    return {
        "follow_ups": int(len(data.red_flag_rows)),
        "churn_calls": int(len(calls.calls)),
        "due_next": int(len(data.due_next)),
    }


def build_summary(con: duckdb.DuckDBPyConnection, data: deck.DeckData) -> Summary:
    """Return the push's summary of the deck's figures, with the list sizes and the alerts."""
    theme_labels = {
        str(t["id"]): {"en": str(t["label_en"]), "zh": str(t["label_zh"])}
        for t in data.complaint.get("themes", [])
    }
    return Summary(
        month=data.month,
        stores=data.stores,
        as_of=data.as_of,
        report=data.report,
        provisional=data.provisional,
        changes=data.changes,
        red_flags=data.red_flags,
        lists=call_list_sizes(con, data.as_of, data.stores, data),
        alerts=kpi_limit_alerts(data.series, data.month) + theme_spike_alerts(data.complaint),
        theme_labels=theme_labels,
    )


def target_state(value: float | None, band: list[float] | None, provisional: bool) -> str:
    """Return "met", "missed", "pending" (provisional) or "" (no target or no value), as the deck judges:
    every target is a floor, so above the band is met."""
    if value is None or band is None:
        return ""
    if provisional:
        return "pending"
    return "met" if value >= band[0] else "missed"


def alert_sentence(alert: Alert, summary: Summary, lang: str, chat: bool = False) -> str:
    """Return one alert as a sentence in ``lang`` (``chat``: for the robot's markdown)."""
    if alert.kind == "kpi_limits":
        return text(
            "send.alert_kpi_so_far" if alert.so_far else "send.alert_kpi",
            lang,
            label=kpi.KPI_LABELS[lang][alert.subject],
            value=kpi.format_value(alert.subject, alert.value),
            low=kpi.format_value(alert.subject, alert.low),
            high=kpi.format_value(alert.subject, alert.high),
            n=f"{alert.n:,}",
        )
    label = summary.theme_labels.get(alert.subject, {}).get(lang, alert.subject)
    return text(
        "send.alert_theme",
        lang,
        label=_data(label, chat),
        share=f"{alert.value:.1%}",
        threshold=f"{(alert.high or 0.0):.1%}",
        n=f"{alert.n:,}",
    )


def _kpi_lines(summary: Summary, lang: str) -> list[str]:
    lines = []
    for name, figure in summary.report["kpis"].items():
        state = target_state(figure["value"], figure["target"], bool(summary.provisional.get(name)))
        mark = {"met": "✓", "missed": "✗", "pending": "…"}.get(state, "·")
        target = (
            ""
            if figure["target"] is None
            else text("send.target", lang, target=kpi.format_target(name, figure["target"]))
        )
        star = "*" if summary.provisional.get(name) else ""
        shown = f"{kpi.format_value(name, figure['value'])}{star}"
        if figure["status"] == "insufficient_history":
            # Said as the deck and the report say it: a dash beside a count reads as "none".
            shown = formatting.status_note(figure["status"], figure["needs_from"], lang) or shown
        elif figure["status"] == "missing_field" and figure.get("reason"):
            shown = text(str(figure["reason"]), lang)  # the field the data lack (no callbacks imported)
        lines.append(f"{mark} {kpi.KPI_LABELS[lang][name]}: {shown} (n={figure['n']:,}){target}")
    return lines


def _data(value: object, chat: bool = False) -> str:
    """Return a name from data (store, advisor, theme) as the summary may carry it: on one line,
    mobile and other personal numbers masked (the summary goes to every role, as the deck does),
    without the characters that show nothing of their own (controls, which would drive the terminal
    of a dry run, and direction overrides and isolates, which would reverse the mail's subject so a
    name passes for another), and for the chat without the characters that would make it a link,
    an image or a format."""
    masked = " ".join(str(mask_text(str(value))).split())
    line = "".join(ch for ch in masked if ch.isprintable())
    return line.translate(_CHAT_INERT) if chat else line


def _scope(summary: Summary, lang: str, chat: bool = False) -> str:
    stores = [_data(s, chat) for s in summary.stores] if summary.stores else summary.stores
    return deck.scope_label(stores, lang)


def _change(item: Mapping[str, Any], lang: str, chat: bool) -> str:
    """Return one ``what_changed`` item as a sentence, the names it quotes from data made safe."""
    safe = dict(item)
    if item.get("segment"):
        safe["segment"] = {
            **item["segment"],
            "advisor": item["segment"].get("advisor") and _data(item["segment"]["advisor"], chat),
        }
    if item.get("source"):
        safe["source"] = {
            k: (
                {
                    **v,
                    "label": _data(v.get("label", ""), chat),
                    "tied": [_data(t, chat) for t in v.get("tied") or []],
                }
                if isinstance(v, Mapping)
                else v
            )
            for k, v in item["source"].items()
        }
    return satisfaction.describe_change(safe, lang)


def _sections(summary: Summary, lang: str, chat: bool = False) -> list[tuple[str, list[str]]]:
    scope = _scope(summary, lang, chat)
    lists = summary.lists
    return [
        (text("send.kpis", lang), _kpi_lines(summary, lang)),
        (
            text("send.changes", lang),
            [_change(item, lang, chat) for item in summary.changes] or [text("deck.nothing_changed", lang)],
        ),
        (
            text("send.alerts", lang),
            [alert_sentence(a, summary, lang, chat) for a in summary.alerts]
            or [text("send.no_alerts", lang)],
        ),
        (
            text("send.red_flags", lang, as_of=summary.as_of.isoformat()),
            [
                f"{text('deck.flag_no_followup', lang)}: {summary.red_flags.get('no_followup', 0):,}",
                f"{text('deck.flag_complaint_overdue', lang)}: {summary.red_flags.get('complaint_overdue', 0):,}",
            ],
        ),
        (
            text("send.lists", lang, as_of=summary.as_of.isoformat()),
            [
                text("send.list_follow_ups", lang, n=f"{lists['follow_ups']:,}"),
                text("send.list_churn_calls", lang, n=f"{lists['churn_calls']:,}"),
                text("send.list_due_next", lang, n=f"{lists['due_next']:,}"),
            ],
        ),
        ("", [text("send.scope", lang, scope=scope, month=summary.month)]),
    ]


def subject_line(summary: Summary, lang: str, chat: bool = False) -> str:
    """Return the e-mail subject (and chat title): month, scope and the number of alerts."""
    title = text("send.subject", lang, month=summary.month, scope=_scope(summary, lang, chat))
    if summary.alerts:
        title = text("send.subject_alerts", lang, n=len(summary.alerts)) + " " + title
    return title


def summary_text(summary: Summary, lang: str) -> str:
    """Return the summary as plain text (the e-mail body)."""
    out = [subject_line(summary, lang), ""]
    for heading, lines in _sections(summary, lang):
        if heading:
            out.append(heading)
        out.extend(f"  {line}" if heading else line for line in lines)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def summary_markdown(summary: Summary, lang: str) -> str:
    """Return the summary as chat markdown (the subset both WeCom and DingTalk robots render)."""
    out = [f"### {subject_line(summary, lang, chat=True)}"]
    for heading, lines in _sections(summary, lang, chat=True):
        if heading:
            out.append(f"**{heading}**")
        out.extend(f"> {line}" if heading else line for line in lines)
    return "\n".join(out)


# --------------------------------------------------------------------------- channels


def secrets_path(explicit: str | None = None) -> Path:
    """Return the secrets file: ``--secrets``, then ``$ANALYTICS_SECRETS``, then ``.streamlit/secrets.toml``."""
    return Path(explicit or os.environ.get(SECRETS_ENV) or DEFAULT_SECRETS)


def _recipients(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    return [a.strip() for item in items for a in str(item).split(",") if a.strip()]


def check_smtp(section: Mapping[str, Any]) -> dict[str, Any]:
    """Return the [smtp] settings with defaults filled in; raise UserError naming what is missing or wrong."""
    missing = [k for k in ("host", "from") if not section.get(k)]
    if missing:
        raise UserError(
            f"[smtp] in the secrets file has no {' or '.join(missing)}; add it (see secrets.toml.example)."
        )
    try:
        port = int(section.get("port", 587))
    except (TypeError, ValueError) as exc:
        raise UserError(
            f"[smtp] port {section.get('port')!r} is not a number; write e.g. port = 587."
        ) from exc
    return {
        "host": str(section["host"]),
        "port": port,
        "user": str(section.get("user", "") or ""),
        "password": str(section.get("password", "") or ""),
        "from": str(section["from"]),
        "starttls": bool(section.get("starttls", True)),
        "ssl": bool(section.get("ssl", False)),
        "to": _recipients(section.get("to")),
    }


def email_message(
    summary: Summary, lang: str, sender: str, to: Sequence[str], deck_bytes: bytes | None, deck_name: str
) -> EmailMessage:
    """Return the e-mail: subject, the plain-text summary and the deck attached."""
    msg = EmailMessage()
    msg["Subject"] = subject_line(summary, lang)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(summary_text(summary, lang))
    if deck_bytes is not None:
        msg.add_attachment(
            deck_bytes,
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.presentationml.presentation",
            filename=deck_name,
        )
    return msg


def _login(client: smtplib.SMTP, user: str, password: str, server: str) -> None:
    try:
        client.login(user, password)
    except UnicodeEncodeError:
        # smtplib sends the sign-in as ASCII; its own words would quote a character of the password.
        raise UserError(
            f"The mail server {server} cannot be signed in to: the user name or password in [smtp] "
            "holds characters other than ASCII letters, digits and signs, which SMTP sign-in cannot carry; "
            "check them in the secrets file."
        ) from None


def send_email(smtp: Mapping[str, Any], msg: EmailMessage) -> None:
    """Send ``msg`` through the SMTP server of ``smtp``; raise UserError with a sentence when it fails."""
    host, port = smtp["host"], smtp["port"]
    try:
        client: smtplib.SMTP
        if smtp["ssl"]:
            client = smtplib.SMTP_SSL(
                host, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
        with client:
            if smtp["starttls"] and not smtp["ssl"]:
                client.starttls(context=ssl.create_default_context())
            if smtp["user"]:
                _login(client, smtp["user"], smtp["password"], f"{host}:{port}")
            client.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise UserError(
            f"The mail server {host}:{port} refused the user name or password in [smtp] ({exc.smtp_code}); "
            "check them in the secrets file."
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise UserError(
            f"The e-mail could not be sent through {host}:{port} ({exc}); check [smtp] in the secrets file "
            "and that this machine can reach the mail server."
        ) from exc


def webhook_kind(section: Mapping[str, Any]) -> str:
    """Return the robot's format: ``kind`` in [webhook], else told from the URL (WeCom or DingTalk)."""
    kind = str(section.get("kind", "") or "").lower()
    if kind:
        if kind not in WEBHOOK_KINDS:
            raise UserError(f"[webhook] kind {kind!r} is not known; use wecom or dingtalk.")
        return kind
    host = urllib.parse.urlsplit(str(section.get("url", ""))).hostname or ""
    if host.endswith("dingtalk.com"):
        return "dingtalk"
    if host.endswith("qq.com"):
        return "wecom"
    raise UserError(
        '[webhook] kind is not set and cannot be told from the URL; add kind = "wecom" or kind = "dingtalk".'
    )


def webhook_payload(kind: str, title: str, markdown: str) -> dict[str, Any]:
    """Return the robot message: WeCom ``{msgtype: markdown, markdown: {content}}``, DingTalk with a title."""
    if kind == "wecom":
        body = markdown.encode("utf-8")
        if len(body) > WECOM_MAX_BYTES:
            markdown = body[: WECOM_MAX_BYTES - 3].decode("utf-8", "ignore") + "…"
        return {"msgtype": "markdown", "markdown": {"content": markdown}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}


def signed_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """Return a DingTalk robot URL with the ``timestamp`` and ``sign`` its signing secret requires."""
    stamp = int(time.time() * 1000) if now_ms is None else now_ms
    digest = hmac.new(secret.encode("utf-8"), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))
    return f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"


def _robot_host(url: str) -> str:
    """Return the robot's host (and port) to name in messages; a URL urllib cannot use raises
    UserError. The URL itself is never quoted: its query holds the robot's key."""
    bad = "[webhook] url in the secrets file is not a valid address"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise UserError(f"{bad}: it holds a space or a line break; paste the robot's URL again.")
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise UserError(f"{bad}: its port is not a number; paste the robot's URL again.") from None
    if parts.username is not None or parts.password is not None:
        raise UserError(
            f"{bad}: it holds a user name or password before the host; paste the robot's URL again."
        )
    if not parts.hostname:
        raise UserError(f"{bad}: it names no host; paste the robot's URL again.")
    return parts.hostname if port is None else f"{parts.hostname}:{port}"


def post_webhook(section: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    """POST the robot message as JSON; raise UserError with a sentence when it is not accepted."""
    url = str(section.get("url", "") or "")
    if not url.startswith(("https://", "http://")):
        raise UserError(
            "[webhook] url in the secrets file is missing or not an http(s) address; paste the robot's URL."
        )
    host = _robot_host(url)
    kind = webhook_kind(section)
    if kind == "dingtalk" and section.get("secret"):
        url = signed_url(url, str(section["secret"]))
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) checked above
            answer = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise UserError(f"The chat robot at {host} answered HTTP {exc.code}; check [webhook] url.") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(
            f"The chat robot at {host} could not be reached ({reason}); check [webhook] url and the network."
        ) from exc
    except (http.client.HTTPException, ValueError) as exc:
        # urllib's own words would quote the URL, and with it the robot's key.
        raise UserError(
            f"The chat robot at {host} could not be asked: {type(exc).__name__}; check [webhook] url."
        ) from exc
    try:
        code = json.loads(answer).get("errcode", 0)
    except (json.JSONDecodeError, AttributeError):
        code = 0  # a robot that answers 200 without JSON has taken the message
    if code:
        raise UserError(
            f"The chat robot at {host} refused the message: {answer.strip()[:200]}; check [webhook]."
        )
