"""The ``themes`` command: themes of the database's comments or of any file of texts, and ``themes evaluate``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from analytics.cli import add_db_option, existing_db
from analytics.cli.stores import named_stores
from analytics.core.errors import UserError
from analytics.core.months import parse_month
from analytics.domain.themes import SIDES, read_texts, themes_of_texts
from analytics.domain.themes.corpora import (
    LABEL_RULES,
    PARTS,
    SPLIT_SEED,
    evaluate_polarity,
    evaluate_texts,
    labelled_texts,
    read_table,
    sentiment_texts,
)
from analytics.reports.export import write_table
from analytics.services import reads
from analytics.store import db
from analytics.store.audit import dumps, printable

# --------------------------------------------------------------------------- command line


def _json(value: object) -> str:
    """Return ``value`` as indented JSON in which every character prints as itself: the controls and
    bidirectional overrides of imported text that ``json`` leaves as they are (C1 controls, U+202E)
    are written as ``\\u`` escapes too, so a comment cannot move the cursor or reverse a line."""
    return dumps(value)


def _add_themes_parser(sub: Any) -> None:
    """Register the ``themes`` command (its ``evaluate`` action is added by ``add_commands``)."""
    p = sub.add_parser(
        "themes",
        help="themes in callback comments (database) or in any table of Chinese texts (--file)",
        description=(
            "Themes customers praise or complain about. With --month: over the database's callback "
            "comments. With --file: over a column of any CSV/XLSX, writing one theme per row to --out."
        ),
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--month", metavar="YYYY-MM", help="month of callbacks to analyse")
    source.add_argument("--file", metavar="F", help="a .csv or .xlsx file of texts")
    p.add_argument(
        "--side", choices=SIDES, default="praise", help="praise (satisfied) or complaint (default praise)"
    )
    p.add_argument("--store", action="append", metavar="S", help="limit to a store (repeatable)")
    p.add_argument("--text-column", metavar="COL", help="the column holding the texts (with --file)")
    p.add_argument("--k", type=int, default=8, metavar="K", help="topics to discover (default 8)")
    p.add_argument("--out", metavar="OUT.csv", help="where to write row, theme, label (with --file)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_db_option(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UserError("--k must be at least 1.")
    if args.file:
        return _run_file(args)
    parse_month(args.month)
    con = db.connect(existing_db(args.db), read_only=True)
    try:
        stores = named_stores(con, args.store)
        result = reads.read(con, "themes.monthly", month=args.month, side=args.side, stores=stores, k=args.k)
    finally:
        con.close()
    if args.json:
        print(_json(result))
        return 0
    # Labels, quotes, categories and aspects are the comments' own words: printed with their
    # control characters escaped, as the audit and import commands print names.
    side = "Praise" if args.side == "praise" else "Complaint"
    print(
        f"{side} themes {result['month']}: {result['n_comments']} comments, "
        f"{result['n_contentless']} without content, {result['n_other']} other"
        + (f", {result['n_praise_only']} only praise" if args.side == "complaint" else "")
    )
    for t in result["themes"]:
        flags = " NEW" if t["new"] else (" RISING" if t["rising"] else "")
        label = f"{printable(t['label_zh'])} ({printable(t['label_en'])})"
        print(f"  {label}  n={t['n']}  {t['share']:.1%}{flags}")
        for q in t["quotes"]:
            print(f"      “{printable(q)}”")
    for c in result.get("categories", []):
        category, aspect = printable(c["category"] or "(none)"), printable(c["aspect"] or "-")
        print(f"  complaint category {category}: n={c['n']} aspect={aspect}")
    return 0


def _run_file(args: argparse.Namespace) -> int:
    if not args.text_column:
        raise UserError("--file needs --text-column naming the column that holds the texts.")
    if not args.out:
        raise UserError("--file needs --out OUT.csv for the theme of each row.")
    texts = read_texts(args.file, args.text_column)
    model, frame = themes_of_texts(texts, k=args.k)
    try:
        write_table(frame, args.out)  # the texts are data: neutralised like every export
    except OSError as exc:
        raise UserError(f"Cannot write {args.out}: {exc.strerror or exc}.") from exc
    counts = Counter(str(t) for t in frame["theme"])
    themes = [
        {
            "id": theme_id,
            "label_zh": model.label(theme_id, "zh"),
            "label_en": model.label(theme_id, "en"),
            "n": n,
        }
        for theme_id, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    summary: dict[str, Any] = {"rows": len(frame), "out": str(args.out), "themes": themes}
    if args.json:
        print(_json(summary))
    else:
        print(f"{len(frame)} rows → {printable(args.out)}", file=sys.stdout)
        for t in themes:
            print(f"  {printable(t['label_zh'])}: {t['n']}")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``themes`` (see :func:`_add_themes_parser`) with its ``evaluate`` action."""
    _add_themes_parser(sub)
    p = sub.choices["themes"]
    p.add_argument(
        "action", nargs="?", choices=("evaluate",), help="evaluate: score discovery against labels"
    )
    p.add_argument(
        "--label-column", metavar="L", help="evaluate: the label column (dominant-group: aspect prefixes)"
    )
    p.add_argument("--label-rule", choices=LABEL_RULES, default="plain", help="evaluate: how labels are read")
    p.add_argument(
        "--top-terms", type=int, default=20, metavar="N", help="evaluate: labels kept by top-terms"
    )
    p.add_argument(
        "--part", choices=PARTS, default="reported", help="evaluate: part of the split (default reported)"
    )
    p.add_argument(
        "--split-seed", type=int, default=SPLIT_SEED, metavar="S", help="evaluate: seed of the split"
    )
    p.add_argument("--limit", type=int, metavar="N", help="evaluate: only the first N texts of the part")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="evaluate: seed of LSA and k-means")
    p.add_argument("--sentiment-column", metavar="S", help="evaluate polarity against this column instead")
    p.add_argument("--positive-values", default="1", metavar="V,..", help="evaluate: values meaning positive")
    p.add_argument("--negative-values", default="0", metavar="V,..", help="evaluate: values meaning negative")
    # --k defaults to 8 themes, or for evaluate to the number of labels.
    p.set_defaults(handler=_dispatch, k=None)


def _dispatch(args: argparse.Namespace) -> int:
    if args.action == "evaluate":
        return run(args)
    if args.k is None:
        args.k = 8
    return _run(args)


def run(args: argparse.Namespace) -> int:
    """Run ``themes evaluate`` and print its report; return the exit code."""
    if not args.file or not args.text_column:
        raise UserError("themes evaluate needs --file and --text-column.")
    if args.sentiment_column:
        return _run_polarity(args)
    if not args.label_column:
        raise UserError("themes evaluate needs --label-column (or --sentiment-column for polarity).")
    if args.k is not None and args.k < 1:
        raise UserError("--k must be at least 1.")
    if args.top_terms < 1:
        raise UserError("--top-terms must be at least 1.")
    frame = read_table(args.file)
    texts, labels = labelled_texts(
        frame,
        args.text_column,
        args.label_column,
        args.label_rule,
        args.top_terms,
        args.part,
        args.split_seed,
    )
    if args.limit is not None:
        if args.limit < 2:
            raise UserError("--limit must be at least 2.")
        texts, labels = texts[: args.limit], labels[: args.limit]
    result = evaluate_texts(texts, labels, args.k, args.seed)
    result.update({"file": Path(args.file).name, "part": args.part, "label_rule": args.label_rule})
    if args.json:
        print(_json(result))
        return 0
    print(
        f"{printable(result['file'])} ({args.part} part, {result['n']} texts, {result['labels']} labels, k={result['k']})"
    )
    print(f"  the lexicon reads {result['lexicon_coverage']:.1%} of the texts: {result['route']} route")
    names = ("method", "baseline", "baseline_same_clusters", "seeded")
    for name in names:
        r = result[name]
        if name == "baseline_same_clusters":
            if r["clusters"] == result["baseline"]["clusters"]:
                continue
            print(
                f"  baseline at the method's {r['clusters']} clusters: NMI {r['nmi']:.3f}  purity {r['purity']:.3f}"
            )
            continue
        print(
            f"  {name:8s} NMI {r['nmi']:.3f}  purity {r['purity']:.3f}  "
            f"assigned {r['assigned']:.1%}  {r['clusters']} clusters  {r['seconds']:.1f} s"
        )
        for theme in r["themes"]:
            print(f"      n={theme['n']:<6d} {printable(' · '.join(theme['words'])) or '-'}")
    gain = result["method"]["nmi"] - result["baseline"]["nmi"]
    print(f"  NMI gain over the baseline: {gain:+.3f}")
    return 0


def _run_polarity(args: argparse.Namespace) -> int:
    frame = read_table(args.file)
    texts, gold = sentiment_texts(
        frame,
        args.text_column,
        args.sentiment_column,
        args.positive_values.split(","),
        args.negative_values.split(","),
        args.part,
        args.split_seed,
    )
    if args.limit is not None:
        if args.limit < 1:
            raise UserError("--limit must be at least 1.")
        texts, gold = texts[: args.limit], gold[: args.limit]
    if not texts:
        raise UserError("No text of the chosen part carries one of the given sentiment values.")
    result = evaluate_polarity(texts, gold)
    result.update({"file": Path(args.file).name, "part": args.part})
    if args.json:
        print(_json(result))
        return 0
    print(
        f"{printable(result['file'])} polarity ({args.part} part, {result['n']} texts, {result['positive_share']:.1%} positive)"
    )
    for name in ("method", "baseline"):
        r = result[name]
        print(
            f"  {name:8s} accuracy {r['accuracy']:.3f}  macro F1 {r['macro_f1']:.3f}  "
            f"undecided {r['undecided']:.1%}  {r['seconds']:.1f} s"
        )
    return 0
