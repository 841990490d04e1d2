"""The ``send`` command: push the month's deck and summary by e-mail and group-chat webhook."""

from __future__ import annotations

import argparse

from analytics.cli import add_db_option, existing_db
from analytics.cli.stores import named_stores
from analytics.core.auth import read_secrets
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.i18n import LANGUAGES, text
from analytics.core.months import month_label, parse_month
from analytics.reports import deck
from analytics.reports.export import record_cli_export
from analytics.reports.notify import (
    _recipients,
    build_summary,
    check_smtp,
    email_message,
    post_webhook,
    secrets_path,
    send_email,
    subject_line,
    summary_markdown,
    summary_text,
    webhook_kind,
    webhook_payload,
)
from analytics.store import db

# --------------------------------------------------------------------------- command


def deck_file_name(month: str, lang: str) -> str:
    """Return the attachment's file name for ``month`` in ``lang``."""
    return text("send.deck_file", lang, month=month)


def _cmd_send(args: argparse.Namespace) -> int:
    target = existing_db(args.db)
    month = month_label(parse_month(args.month))
    secrets = read_secrets(secrets_path(args.secrets))
    smtp = check_smtp(secrets["smtp"]) if secrets.get("smtp") else None
    webhook = dict(secrets.get("webhook") or {}) or None
    to = _recipients(args.to) if args.to else (smtp["to"] if smtp else [])
    if smtp is not None and not to:
        raise UserError(
            "No one to mail: give --to ADDRESS or add to = [...] under [smtp] in the secrets file."
        )
    if smtp is None and webhook is None and not args.dry_run:
        raise UserError(
            f"Nothing to send to: {secrets_path(args.secrets)} has neither [smtp] nor [webhook]; "
            "add them (see .streamlit/secrets.toml.example) or use --dry-run."
        )
    if webhook is not None:
        webhook_kind(webhook)
    con = db.connect(target, read_only=True)
    try:
        stores = named_stores(con, args.store)
        if con.execute("SELECT count(*) FROM service_orders").fetchone() == (0,):
            raise UserError("The database holds no work orders yet; import files or build the demo first.")
        data = deck.deck_data(con, month, stores, maintenance_model=not args.no_model)
        summary = build_summary(con, data)
    finally:
        con.close()
    if args.alerts_only and not summary.alerts:
        print(f"{month}: no alerts; nothing sent")
        return 0
    slides = deck.deck_slides(data, args.lang)
    deck_bytes = deck.render(slides, deck.footer_line(data, args.lang))
    if args.dry_run:
        print(summary_text(summary, args.lang))
        print(
            f"(dry run) e-mail to: {', '.join(to) or '-'}; webhook: {'yes' if webhook else '-'}; deck {len(deck_bytes):,} bytes"
        )
        return 0
    failures = []
    sent: list[str] = []
    if smtp is not None:
        msg = email_message(
            summary, args.lang, smtp["from"], to, deck_bytes, deck_file_name(month, args.lang)
        )
        try:
            send_email(smtp, msg)
            print(f"e-mail sent to {', '.join(to)} with {deck_file_name(month, args.lang)}")
            sent.append(f"e-mail to {', '.join(to)}")
        except UserError as exc:
            failures.append(str(exc))
    if webhook is not None:
        kind = webhook_kind(webhook)
        try:
            post_webhook(
                webhook,
                webhook_payload(kind, subject_line(summary, args.lang), summary_markdown(summary, args.lang)),
            )
            print(f"summary posted to the {kind} robot")
            sent.append(f"summary to the {kind} robot")
        except UserError as exc:
            failures.append(str(exc))
    if sent:
        # What left the machine is audited, as the deck written by ``deck`` is.
        record_cli_export(target, "deck_sent", "; ".join(sent), len(slides), False)
    if failures:
        raise UserError(" ".join(failures))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``send`` command."""
    p = sub.add_parser(
        "send",
        help="mail the month's deck with a short summary and post the summary to a WeCom/DingTalk robot",
        description="Send the monthly deck and a summary (KPIs against targets, what changed, alerts, red flags, "
        "the size of the lists to call) by e-mail ([smtp] in the secrets file) and to a group-chat robot "
        "([webhook]). Alerts: a rate KPI outside its p-chart control limits (a month not over: so far, on the "
        "rates that wait for nothing after it), or a complaint theme more than two standard deviations above "
        "its recent months. Exit 2 with a sentence when a send fails.",
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="calendar month to send")
    p.add_argument(
        "--to", action="append", metavar="ADDR", help="mail to these addresses instead of [smtp] to (repeat)"
    )
    p.add_argument(
        "--store", action="append", metavar="S", help="restrict to this store (repeat); default all stores"
    )
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=settings().display.default_language,
        help="language of the summary and the deck (default from settings)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the summary and send nothing")
    p.add_argument(
        "--alerts-only", action="store_true", help="send only when there is an alert (for a daily run)"
    )
    p.add_argument(
        "--no-model", action="store_true", help="leave the maintenance model's figures out of the deck"
    )
    p.add_argument(
        "--secrets", metavar="F", help="secrets file (default $ANALYTICS_SECRETS or .streamlit/secrets.toml)"
    )
    add_db_option(p)
    p.set_defaults(handler=_cmd_send)
