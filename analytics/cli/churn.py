"""The ``churn`` command: the churn list and model card as of a date."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from typing import Any

import pandas as pd

from analytics.cli import add_db_option, printable_table
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.i18n import LANGUAGES
from analytics.domain.churn import export_frame, prioritise
from analytics.reports.export import has_phone, record_cli_export, write_list
from analytics.services import reads
from analytics.store import db
from analytics.store.audit import dumps


def _as_of(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in the form YYYY-MM-DD") from exc


def _run(args: argparse.Namespace) -> int:
    out = args.out
    if out and not out.lower().endswith((".csv", ".xlsx")):
        raise UserError(f"--out {out}: the list can be written as .csv or .xlsx only.")
    lang = args.lang or str(settings().display.default_language)
    con = db.connect(args.db, read_only=True)
    try:
        shot = reads.read(con, "churn.snapshot", as_of=args.as_of)
        gap = reads.read(con, "churn.history_gap", as_of=args.as_of)
    finally:
        con.close()
    ranked = prioritise(shot.vehicles)
    exported = export_frame(ranked, lang)
    if out:
        write_list(exported, out, lang, "churn.col")
        record_cli_export(args.db, "churn_list", out, len(exported), has_phone(ranked))
    counts = shot.counts()
    backtest: dict[str, Any]
    if shot.model is None:
        backtest = {"available": False, "reason": shot.model_note}
    elif shot.model.backtest is None:
        backtest = {
            "available": False,
            "reason": shot.model.backtest_note or "the data hold no complete year to backtest on",
        }
    else:
        backtest = {"available": True, **shot.model.backtest.summary()}
    top = exported.head(args.top)
    if args.json:
        payload = {
            "as_of": args.as_of.isoformat(),
            # the model ranking the list: this data version's, trained at the month the pages open on
            "model_as_of": shot.model.as_of.isoformat() if shot.model is not None else None,
            **{k: counts[k] for k in ("base", "lost", "at_risk", "active")},
            # The base's window reaches before the first work order: the counts are not final figures
            # (the report and the pages withhold them), only what the data hold.
            "needs_data_from": gap.isoformat() if gap is not None else None,
            "backtest": backtest,
            "top": json.loads(top.to_json(orient="records", force_ascii=False)),
        }
        if out:
            payload["out"] = str(out)
        print(dumps(payload))
        return 0
    print(
        f"as of {args.as_of}: base {counts['base']:,}, lost {counts['lost']:,}, "
        f"at risk {counts['at_risk']:,}, active {counts['active']:,}"
        + (
            f" (not final figures: the base needs work orders from {gap} on, and the data start later; "
            "the report and the dashboard withhold them)"
            if gap is not None
            else ""
        )
    )
    if shot.model is not None and shot.model.as_of > args.as_of:
        print(
            f"ranked by this data version's model, trained on the history up to {shot.model.as_of}: it has seen "
            f"what happened after {args.as_of}"
        )
    if backtest.get("available"):
        m, r = backtest["model"], backtest["rule"]
        print(
            f"backtest at {backtest['cutoff']} (n={backtest['n']:,}, churned {backtest['churn_rate']:.1%}): "
            f"AUC model {m['auc']:.3f} vs rule {r['auc']:.3f}; top-10% lift {m['lift_10']:.2f} vs "
            f"{r['lift_10']:.2f}; top-20% capture {m['capture_20']:.1%} vs {r['capture_20']:.1%}"
        )
    else:
        print(f"no backtest: {backtest.get('reason')}")
    if len(top):
        shown = top[["vin", "customer_name", "status", "churn_probability", "value", "reasons"]].assign(
            # No model: no probability, shown as a dash rather than NaN.
            churn_probability=top["churn_probability"].map(lambda v: "—" if pd.isna(v) else f"{v:.1%}")
        )
        print(printable_table(shown))
    if out:
        print(f"wrote {len(exported):,} vehicles to {out}", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``churn`` command."""
    p = sub.add_parser(
        "churn",
        help="lost and at-risk customers on a date, their reasons, churn probability and backtest",
        description=(
            "List the active base on a date with status (lost, at_risk, active), reasons, value and a "
            "churn probability from a model trained on the history before that date; report the "
            "model's backtest against the rule 'days since last visit'."
        ),
    )
    p.add_argument("--as-of", required=True, type=_as_of, metavar="YYYY-MM-DD", help="the as-of date")
    p.add_argument("--json", action="store_true", help="print the counts and backtest as JSON")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write every base vehicle, highest priority first, to FILE.csv or FILE.xlsx",
    )
    p.add_argument(
        "--top", type=int, default=20, metavar="N", help="show the N highest-priority vehicles (20)"
    )
    p.add_argument("--lang", choices=LANGUAGES, help="language of the reasons (default: the setting)")
    add_db_option(p)
    p.set_defaults(handler=_run)
