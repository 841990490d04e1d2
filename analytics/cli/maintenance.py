"""The ``maintenance`` commands: train, backtest and score the maintenance model."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

import duckdb
import pandas as pd

from analytics.cli import add_db_option, existing_db, printable_table
from analytics.core.config import settings
from analytics.core.i18n import LANGUAGES
from analytics.domain.maintenance import (
    HORIZONS,
    backtest_summary,
    fit,
    fitted_model,
    labelled,
    save_model,
    score,
)
from analytics.domain.maintenance.card import _plain
from analytics.reports.export import has_phone, record_cli_export, write_list
from analytics.store import db
from analytics.store.audit import dumps

# --- command line ---------------------------------------------------------------------------------


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


def _open(args: argparse.Namespace) -> duckdb.DuckDBPyConnection:
    target = existing_db(args.db)
    # Writable: a model it saves is trusted later only through the checksum it records (issue 19).
    return db.connect(target)


def _stderr_progress(fraction: float, step: str) -> None:
    print(f"  {fraction:4.0%} {step}", file=sys.stderr)


def _format_backtest(summary: dict[str, Any]) -> str:
    lines = [
        f"backtest at {summary['backtest_cutoff']} on {summary['vehicles']} vehicles "
        f"(trained on {len(summary['training_cutoffs'])} earlier dates, "
        f"{summary['training_cutoffs'][0]} to {summary['training_cutoffs'][-1]}); "
        "rule: the schedule from the last maintenance; rhythm: the owner's median interval",
        f"{'target':<11} {'horizon':>7}  {'method':<6} {'visits':>7} {'ROC AUC':>8} {'PR AUC':>7} "
        f"{'lift@10%':>9} {'Brier':>6} {'calib.err':>9}",
    ]
    for target, horizons in summary["targets"].items():
        for horizon, methods in horizons.items():
            for method, m in methods.items():
                lines.append(
                    f"{target:<11} {horizon + 'd':>7}  {method:<6} {m['visits']:>7} {_num(m['roc_auc'], 3):>8} "
                    f"{_num(m['pr_auc'], 3):>7} {_num(m['lift_top_decile'], 2):>9} {_num(m['brier'], 3):>6} "
                    f"{_num(m['calibration_error'], 3):>9}"
                )
    err = summary["due_date_error_days"]
    lines.append(
        f"due date, vehicles that came in within 90 days ({err['dated']}): mean error "
        f"{_num(err['model_mae_days'], 1)} days (model) vs {_num(err['rule_mae_days'], 1)} days (schedule rule)"
    )
    return "\n".join(lines)


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cmd_train(args: argparse.Namespace) -> int:
    con = _open(args)
    try:
        model = fit(con, args.as_of, seed=args.seed, progress=None if args.json else _stderr_progress)
        path = save_model(con, model)
    finally:
        con.close()
    summary = backtest_summary(model) | {"model_file": str(path)}
    if args.json:
        print(dumps(summary))
    else:
        print(
            f"trained at {model.as_of} on {model.rows} snapshots of {len(model.cutoffs)} dates "
            f"in {model.train_seconds:.1f} s; saved to {path}"
        )
        print(_format_backtest(summary))
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    con = _open(args)
    try:
        model = fitted_model(con, args.as_of, progress=None if args.json else _stderr_progress)
    finally:
        con.close()
    summary = backtest_summary(model)
    print(dumps(summary) if args.json else _format_backtest(summary))
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    con = _open(args)
    try:
        model = fitted_model(con, args.as_of, progress=None if args.json else _stderr_progress)
        started = time.perf_counter()
        scores = score(con, model, args.as_of)
        seconds = time.perf_counter() - started
    finally:
        con.close()
    readable = labelled(scores, args.lang)
    if args.out:
        write_list(readable, args.out, args.lang, "maintenance.col")
        record_cli_export(args.db, "maintenance_list", args.out, len(readable), has_phone(scores))
    summary = {
        "as_of": model.as_of.isoformat(),
        "vehicles": len(scores),
        "expected_visits": {f"{h}d": round(float(scores[f"p{h}"].sum()), 1) for h in HORIZONS},
        "expected_any_visits": {f"{h}d": round(float(scores[f"any{h}"].sum()), 1) for h in HORIZONS},
        "score_seconds": round(seconds, 2),
        "out": args.out,
    }
    if args.json:
        top = readable.head(10).astype(object).where(readable.head(10).notna(), None)
        summary["top"] = [{k: _plain_cell(v) for k, v in row.items()} for row in top.to_dict("records")]
        print(dumps(summary))
    else:
        print(
            f"scored {len(scores)} vehicles of the active base at {model.as_of} in {seconds:.2f} s; expected "
            f"maintenance visits: {summary['expected_visits']['30d']} in 30 days, "
            f"{summary['expected_visits']['60d']} in 60, {summary['expected_visits']['90d']} in 90"
        )
        if args.out:
            print(f"wrote {args.out}")
        else:
            cols = ["vin", "plate", "customer_name", "p30", "p60", "p90", "due_date", "items_due"]
            print(printable_table(readable[cols].head(20)))
    return 0


def _plain_cell(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | dt.date):
        return value.strftime("%Y-%m-%d")
    return _plain(value)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``maintenance train|backtest|score``."""
    parser = sub.add_parser(
        "maintenance",
        help="predictive maintenance: train the model, backtest it against the schedule, score vehicles",
        description="Probability of a maintenance visit within 30, 60 and 90 days for every vehicle of the "
        "active base, from a scikit-learn model trained on the store's own history.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    helps = {
        "train": "fit the model on past dates, backtest it and save it for this data version",
        "backtest": "print ROC AUC, PR AUC, top-decile lift, Brier score and calibration error per horizon, "
        "for the model and the schedule rule",
        "score": "score every vehicle of the active base; --out writes the invitation list (CSV or XLSX)",
    }
    handlers = {"train": _cmd_train, "backtest": _cmd_backtest, "score": _cmd_score}
    for name, help_text in helps.items():
        p = actions.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        p.add_argument(
            "--as-of",
            type=_parse_date,
            metavar="YYYY-MM-DD",
            help="act as if today were this date (default: the last visit date in the data)",
        )
        p.add_argument("--json", action="store_true", help="print JSON instead of text")
        if name == "train":
            p.add_argument("--seed", type=int, help="random seed (default from settings)")
        if name == "score":
            p.add_argument(
                "--out", metavar="F.csv", help="write the scored list here (.csv with BOM, or .xlsx)"
            )
            p.add_argument(
                "--lang",
                choices=LANGUAGES,
                default=settings().display.default_language,
                help="language of item names and reachability in the file (default from settings)",
            )
        add_db_option(p)
        p.set_defaults(handler=handlers[name])
