"""Small pure reshapings of the monthly themes into what the themes page draws."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    pass
from analytics.domain.themes.lexicon import Lexicon, load_lexicon
from analytics.domain.themes.monthly import MIN_FLAG_N
from analytics.domain.themes.segmentation import glossary

# Small pure reshapings of the results above into what the themes page draws.

SMALL = "small"
SMALL_LABELS = ("Smaller discovered themes", "其他零星新主题")


def theme_bars(result: dict[str, Any], min_discovered_n: int = MIN_FLAG_N) -> pd.DataFrame:
    """Return one row per theme of a ``monthly_themes`` result to chart, largest first.

    ``prior_n``/``prior_share``: the theme over the pooled previous months. Discovered themes
    with fewer than ``min_discovered_n`` comments are folded into one last row (``id`` =
    ``small``, ``themes`` = how many it holds): a handful of comments sharing a word is not yet
    a theme a store manager can act on.
    """
    columns = [
        "id", "label_en", "label_zh", "source", "n", "share", "prior_n", "prior_share",
        "new", "rising", "hotspot", "themes",
    ]  # fmt: skip
    prior_total = sum(result["months_n"])
    rows: list[dict[str, Any]] = []
    small: list[dict[str, Any]] = []
    for theme in result["themes"]:
        prior_n = sum(theme["trend_n"])
        row = {
            c: theme.get(c) for c in ("id", "label_en", "label_zh", "source", "n", "share", "new", "rising")
        }
        row.update(
            prior_n=prior_n,
            prior_share=prior_n / prior_total if prior_total else None,
            hotspot=bool(theme.get("hotspot", False)),
            themes=1,
        )
        if theme["source"] == "discovered" and theme["n"] < min_discovered_n:
            small.append(row)
        else:
            rows.append(row)
    rows.sort(key=lambda r: (-r["n"], r["id"]))
    if small:
        rows.append(
            {
                "id": SMALL,
                "label_en": SMALL_LABELS[0],
                "label_zh": SMALL_LABELS[1],
                "source": "discovered",
                "n": sum(r["n"] for r in small),
                "share": sum(r["share"] for r in small),
                "prior_n": sum(r["prior_n"] for r in small),
                "prior_share": sum(r["prior_n"] for r in small) / prior_total if prior_total else None,
                "new": False,
                "rising": False,
                "hotspot": False,
                "themes": len(small),
            }
        )
    types = {
        "n": "int64",
        "share": "float64",
        "prior_n": "int64",
        "prior_share": "float64",
        "themes": "int64",
    }
    return pd.DataFrame(rows, columns=columns).astype(types)


def theme_trend(result: dict[str, Any], top: int = 5, min_discovered_n: int = MIN_FLAG_N) -> pd.DataFrame:
    """Return one row per month of the window and top theme (month's n, total and share), oldest first,
    from the window's first month with comments (the months before the data are no part of a trend)."""
    bars = theme_bars(result, min_discovered_n)
    chosen = [t for t in bars["id"] if t != SMALL][:top]
    by_id = {t["id"]: t for t in result["themes"]}
    months = [*result["months"], result["month"]]
    totals = [*result["months_n"], result["n_comments"]]
    first = next((i for i, total in enumerate(totals) if total), len(totals) - 1)
    rows: list[dict[str, Any]] = []
    for theme_id in chosen:
        theme = by_id[theme_id]
        counts = [*theme["trend_n"], theme["n"]]
        for month, n, total in list(zip(months, counts, totals, strict=True))[first:]:
            rows.append(
                {
                    "id": theme_id,
                    "label_en": theme["label_en"],
                    "label_zh": theme["label_zh"],
                    "month": month,
                    "n": int(n),
                    "total": int(total),
                    "share": n / total if total else None,
                }
            )
    columns = ["id", "label_en", "label_zh", "month", "n", "total", "share"]
    return pd.DataFrame(rows, columns=columns).astype({"n": "int64", "total": "int64", "share": "float64"})


def hotspot_table(result: dict[str, Any], lexicon: Lexicon | None = None) -> pd.DataFrame:
    """Return one row per seed complaint hotspot, then per other complaint aspect or category, with counts.

    ``comments``: the month's complaint-side comments on the theme; ``complaints``: the month's
    flagged complaints whose category maps to it. Hotspots come first, each even when nothing
    was said of it; within each group the largest (comments plus complaints) come first, ties
    in the seed's order. A category no aspect matches is a row of its own
    (``id`` = ``category:<text>``, labelled with the text as the data give it, in English with the
    glossary's name for it when there is one).
    """
    lex = lexicon or load_lexicon()
    names = {a.id: (a.label_en, a.label_zh) for a in lex.aspects}
    comments = {t["id"]: int(t["n"]) for t in result["themes"]}
    labels = {t["id"]: (t["label_en"], t["label_zh"]) for t in result["themes"]}
    complaints: Counter[str] = Counter()
    for category in result.get("categories", []):
        key = category["aspect"] or f"category:{category['category']}"
        complaints[key] += int(category["n"])
        if not category["aspect"]:
            # Named as the data give it; in English by the glossary when it knows the name
            # (其他 → other, 保修索赔 → warranty claim).
            text = category["category"] or "—"
            labels[key] = (glossary().get(text, text), text)
    seed_order = [h for h in lex.hotspots if h in names]
    hotspots = sorted(seed_order, key=lambda k: (-(complaints[k] + comments.get(k, 0)), seed_order.index(k)))
    # Discovered themes stay on the theme chart: this table sets the seed's aspects against the
    # categories the callers filed complaints under.
    known = {k for k in comments if k in names} | set(complaints)
    others = sorted(
        known - set(hotspots),
        key=lambda k: (-(complaints[k] + comments.get(k, 0)), k),
    )
    rows = []
    for key in [*hotspots, *others]:
        en, zh = labels.get(key) or names[key]
        rows.append(
            {
                "id": key,
                "label_en": en,
                "label_zh": zh,
                "hotspot": key in hotspots,
                "comments": comments.get(key, 0),
                "complaints": complaints[key],
            }
        )
    columns = ["id", "label_en", "label_zh", "hotspot", "comments", "complaints"]
    return pd.DataFrame(rows, columns=columns).astype({"comments": "int64", "complaints": "int64"})


@dataclass(frozen=True)
class PraiseGrid:
    """The praise board as matrices: advisors (busiest first) by themes (most praised first)."""

    counts: pd.DataFrame  # praised comments per advisor and theme
    shares: pd.DataFrame  # the same over the advisor's satisfied comments
    advisor_n: pd.Series  # each advisor's satisfied comments in the month


def praise_grid(board: pd.DataFrame, language: str = "zh", max_themes: int = 10) -> PraiseGrid:
    """Return a ``themes_by_advisor`` board as advisor × theme count and share matrices (labels in ``language``)."""
    label = "label_zh" if language == "zh" else "label_en"
    advisor_n = board.drop_duplicates("advisor").set_index("advisor")["advisor_n"].astype("int64")
    totals = board.groupby("theme")["n"].sum()
    order = sorted(totals.index, key=lambda t: (-int(totals[t]), str(t)))[:max_themes]
    names = board.drop_duplicates("theme").set_index("theme")[label]
    counts = (
        board.pivot_table(index="advisor", columns="theme", values="n", aggfunc="sum", fill_value=0)
        .reindex(index=advisor_n.index, columns=order, fill_value=0)
        .astype("int64")
    )
    counts.columns = pd.Index([str(names[t]) for t in order])
    counts.columns.name = None
    counts.index.name = "advisor"
    shares = counts.div(advisor_n, axis=0)
    return PraiseGrid(counts=counts, shares=shares, advisor_n=advisor_n)
