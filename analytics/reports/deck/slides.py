"""The slides of the monthly meeting deck: what each says, its chart and its takeaway, in either language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from analytics.core import formatting
from analytics.core.auth import mask_text
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.i18n import LANGUAGES, text
from analytics.core.months import month_label
from analytics.domain import kpi, overview, satisfaction, themes
from analytics.reports.deck.data import DeckData

# Red-flag rows listed on the "what changed" slide, most urgent kind first, and their columns.
FLAG_ROWS = 6
# NPS with its sign and one decimal, as formatting.format_value writes it (+16.7, -3.3, 0.0).
NPS_FORMAT = "+0.0;-0.0;0.0"


FLAG_TABLE: tuple[str, ...] = ("flag", "when", "customer", "advisor", "service", "score", "comment")


@dataclass(frozen=True)
class Series:
    """One series of a chart; ``low``/``high`` draw an interval as error bars."""

    name: str
    values: list[float | None]
    low: list[float | None] | None = None
    high: list[float | None] | None = None
    dashed: bool = False  # a reference line (a target)
    muted: bool = False  # a comparison drawn in grey (the months before)


@dataclass(frozen=True)
class Chart:
    """A chart as data: drawn natively in PowerPoint, or as a plotly figure for PNG/SVG."""

    key: str  # file-name part
    kind: str  # "line", "bar" (horizontal) or "column"
    title: str
    categories: list[str]
    series: list[Series]
    number_format: str = "General"  # Excel number format of the values
    # The values' own format in the embedded sheet (what PowerPoint's hover and "edit data" show) when
    # it is finer than the axis's ticks: 64.3% and +16.7 as on the slide's table, not 64% and 17.
    data_format: str | None = None
    axis_min: float | None = None
    axis_max: float | None = None
    labels: bool = False


@dataclass(frozen=True)
class Number:
    """A headline figure shown in a box."""

    label: str
    value: str
    note: str = ""


@dataclass
class Slide:
    """One slide: title and takeaway, then numbers, a table, charts and text blocks as present."""

    key: str
    title: str
    takeaway: str
    numbers: list[Number] = field(default_factory=list)
    table: list[list[str]] | None = None  # first row: headers
    marks: list[str | None] = field(default_factory=list)  # per table row: "good", "bad" or None
    widths: list[float] = field(default_factory=list)  # relative column widths of the table
    charts: list[Chart] = field(default_factory=list)
    blocks: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading, lines)
    footnote: str = ""


def _pct(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


def _cell(value: Any) -> str:
    return (
        "—" if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "" else str(value)
    )


def _none(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _satisfaction_rate(value: Any) -> str:
    """The satisfaction rate KPI (or one of its limits) as the tiles write it."""
    return formatting.format_value("satisfaction_rate", _none(value))


def scope_label(stores: Sequence[str] | None, lang: str) -> str:
    """Return the stores a deck covers, as words."""
    return (
        "、".join(stores)
        if stores and lang == "zh"
        else ", ".join(stores)
        if stores
        else text("deck.all_stores", lang)
    )


def _title_slide(d: DeckData, lang: str) -> Slide:
    lines = [
        scope_label(d.stores, lang),
        text("deck.data_as_of", lang, date=d.as_of.isoformat()),
        text("deck.generated", lang, date=date.today().isoformat()),
    ]
    return Slide(
        "title", text("deck.title", lang, month=d.month), text("deck.subtitle", lang), blocks=[("", lines)]
    )


def _kpi_slide(d: DeckData, lang: str) -> Slide:
    labels = kpi.KPI_LABELS[lang]
    rows = [
        [
            text(f"deck.kpi_col.{c}", lang)
            for c in ("kpi", "value", "n", "target", "prev_month", "prev_year", "status")
        ]
    ]
    marks: list[str | None] = [None]
    for name in kpi.KPI_NAMES:
        figure = d.kpis[name]
        state = overview.target_state(figure)
        status, mark = "—", None
        if state == "pending":
            # Judged only once final: the data end before its callbacks or returns are all in.
            status = text("deck.pending", lang)
        elif state == "no_history":
            status = text("deck_status.no_history", lang)
        elif state == "met":
            status, mark = text("deck.met", lang), "good"
        elif state == "missed":
            status, mark = text("deck.missed", lang), "bad"
        if figure.status == "insufficient_history":
            shown = formatting.status_note(figure.status, figure.needs_from, lang) or "—"
        elif figure.status == "missing_field" and figure.reason:
            shown = text(figure.reason, lang)
        else:
            shown = formatting.format_value(name, figure.value) + (
                " *" if figure.status == "provisional" else ""
            )
        rows.append(
            [
                labels[name],
                shown,
                f"{figure.n:,}",
                formatting.format_target(name, figure.target),
                formatting.format_value(name, figure.prev_month),
                formatting.format_value(name, figure.prev_year),
                status,
            ]
        )
        marks.append(mark)
    takeaway = overview.headline(d.kpis, lang)
    footnote = text("deck.provisional_note", lang) if any(d.provisional.values()) else ""
    return Slide(
        "kpis",
        text("deck.kpis_title", lang, month=d.month),
        takeaway,
        table=rows,
        marks=marks,
        footnote=footnote,
    )


def _changes_slide(d: DeckData, lang: str) -> Slide:
    # Nothing to judge (every KPI withheld or without its data, or no month before it): not "every
    # figure within its noise".
    quiet = overview.quiet_key(d.kpis, "deck.nothing_changed")
    lines = [satisfaction.describe_change(c, lang) for c in d.changes] or [text(quiet, lang)]
    # Without callbacks there is nobody to follow up, and no complaint: unknown, not 0.
    calls = d.kpis["complaints"]
    no_calls = calls.status == "missing_field" and calls.reason == "kpi_missing.no_callbacks"
    numbers = [
        Number(
            text("deck.flag_no_followup", lang),
            "—" if no_calls else f"{d.red_flags['no_followup']:,}",
            text("kpi_missing.no_callbacks", lang)
            if no_calls
            else text("deck_status.no_followup_note", lang, month=d.month, as_of=d.as_of.isoformat()),
        ),
        Number(
            text("deck.flag_complaint_overdue", lang),
            "—" if no_calls else f"{d.red_flags['complaint_overdue']:,}",
            text("kpi_missing.no_callbacks", lang)
            if no_calls
            else text("deck.flag_complaint_overdue_note", lang),
        ),
    ]
    flags = sum(d.red_flags.values())
    if d.changes:
        first = d.changes[0]
        takeaway = text(
            "deck.changes_takeaway",
            lang,
            k=len(d.changes),
            label=kpi.KPI_LABELS[lang][first["kpi"]],
            flags=flags,
        )
    elif quiet == "deck.nothing_to_judge":
        takeaway = text(quiet, lang)
    elif quiet == "deck.nothing_to_compare":
        takeaway = text("deck.changes_no_earlier", lang, flags=flags)
    else:
        takeaway = text("deck.changes_none", lang, flags=flags)
    slide = Slide(
        "changes",
        text("deck.changes_title", lang, month=d.month),
        takeaway,
        numbers=numbers,
        blocks=[(text("deck.changes_heading", lang, as_of=d.as_of.isoformat()), lines)],
    )
    rows = d.red_flag_rows.head(FLAG_ROWS)
    if len(rows):
        services = satisfaction.SERVICE_TYPE_LABELS[lang]
        slide.table = [[text(f"deck.flag_col.{c}", lang) for c in FLAG_TABLE]]
        for row in rows.to_dict("records"):
            when = pd.Timestamp(row["callback_date"]).strftime("%Y-%m-%d %H:%M")
            score = _none(row.get("overall_score"))
            # Masked before it is cut: a mobile across the cut would keep too few digits to be found.
            comment = str(mask_text(_cell(row.get("comment"))))
            service = None if _cell(row.get("service_type")) == "—" else str(row["service_type"])
            slide.table.append(
                [
                    text(f"deck.flag_kind.{row['flag']}", lang),
                    when,
                    _cell(row.get("customer_name")),
                    _cell(row.get("advisor")),
                    services.get(service, service or "—"),
                    "—" if score is None else f"{score:g}",
                    comment if len(comment) <= 40 else comment[:39] + "…",
                ]
            )
        slide.marks = [None] * len(slide.table)
        slide.widths = [1.3, 1.5, 1.0, 1.0, 1.2, 0.6, 5.0]
        if len(d.red_flag_rows) > FLAG_ROWS:
            slide.footnote = text("deck.flag_more", lang, n=len(d.red_flag_rows), k=FLAG_ROWS)
    return slide


def _satisfaction_slide(d: DeckData, lang: str) -> Slide:
    sat = d.satisfaction.months
    months = [m.month for m in sat]
    rate = Series(
        text("deck.sat_rate", lang),
        [m.rate for m in sat],
        low=[m.wilson_low for m in sat],
        high=[m.wilson_high for m in sat],
    )
    nps = Series(
        text("deck.nps", lang),
        [m.nps for m in sat],
        low=[m.nps_low for m in sat],
        high=[m.nps_high for m in sat],
    )
    charts = [
        Chart(
            "satisfaction-rate",
            "line",
            text("deck.sat_chart", lang),
            months,
            [rate],
            "0%",
            data_format="0.0%",
        ),
        Chart("nps", "line", text("deck.nps_chart", lang), months, [nps], "0", data_format=NPS_FORMAT),
    ]
    now = d.satisfaction.at(d.month)
    if now is None:
        takeaway = text("deck.sat_no_data", lang, month=d.month)
    else:
        prev = d.satisfaction.before(d.month)
        prev_rate = _satisfaction_rate(prev.rate) if prev is not None else "—"
        params = {"rate": _satisfaction_rate(now.rate), "n": f"{now.n:,}", "prev": prev_rate}
        if now.signal:
            key = "sat_signal_low" if (now.rate or 0.0) < (now.centre or 0.0) else "sat_signal_high"
            takeaway = text(f"deck.{key}", lang, centre=_satisfaction_rate(now.centre), **params)
        else:
            # A store's first month (or the window's only scored month) sets its own limits: it is
            # within them by construction, not within a usual range the data have shown.
            alone = len(d.satisfaction.scored) < 2
            takeaway = text(
                "deck.sat_alone" if alone else "deck.sat_stable",
                lang,
                low=_satisfaction_rate(now.wilson_low),
                high=_satisfaction_rate(now.wilson_high),
                **params,
            )
    return Slide(
        "satisfaction",
        text("deck.satisfaction_title", lang),
        takeaway,
        charts=charts,
        footnote=text("deck.sat_footnote", lang),
    )


def _dimension(dim: str, lang: str) -> str:
    return text(f"field.{dim}_score", lang)


def _drivers_slide(d: DeckData, lang: str) -> Slide:
    # Stable: dimensions tied at the same relative risk keep the page's order (satisfaction.DIMENSIONS).
    rr = d.drivers[d.drivers["method"] == "relative_risk"].sort_values(
        "effect", ascending=False, na_position="last", kind="stable"
    )
    bars = Chart(
        "drivers",
        "bar",
        text("deck.drivers_chart", lang, start=d.driver_start, end=d.month),
        [_dimension(str(x), lang) for x in rr["dimension"]],
        [Series(text("deck.relative_risk", lang), [_none(v) for v in rr["effect"]])],
        '0.0"×"',
        axis_min=0.0,
        labels=True,
    )
    means = d.dimension_means
    months = sorted({str(m) for m in means["month"]})
    lines = []
    for dim in satisfaction.DIMENSIONS:
        part = means[means["dimension"] == dim].set_index("month")["mean"]
        lines.append(Series(_dimension(dim, lang), [_none(part.get(m)) for m in months]))
    trend = Chart("dimension-scores", "line", text("deck.dimension_chart", lang), months, lines, "0.0")
    ranked = rr[rr["effect"].notna()]
    if ranked.empty:
        takeaway = text("deck.drivers_none", lang, start=d.driver_start, end=d.month)
    else:
        top = ranked.iloc[0]
        takeaway = text(
            "deck.drivers_top",
            lang,
            dimension=_dimension(str(top["dimension"]), lang),
            rate_low=_pct(top["rate_low"]),
            rate_other=_pct(top["rate_other"]),
            effect=f"{float(top['effect']):.1f}",
            start=d.driver_start,
            end=d.month,
            # How many low scores the ranking rests on, as the page's caption says (session 45).
            n=f"{int(top['n']):,}",
            n_low=f"{int(top['n_low']):,}",
        )
        tied = ranked[(ranked["effect"] == top["effect"]) & (ranked["dimension"] != top["dimension"])]
        if len(tied):
            # A tie is said: the first of equals does not drive dissatisfaction more than the others.
            takeaway += text(
                "deck.drivers_tied",
                lang,
                others=text("deck.drivers_and", lang).join(
                    _dimension(str(x), lang) for x in tied["dimension"]
                ),
            )
    low = settings().kpi.dimension_low_score
    return Slide(
        "drivers",
        text("deck.drivers_title", lang),
        takeaway,
        charts=[bars, trend],
        footnote=text("deck.drivers_footnote", lang, low=f"{low:g}"),
    )


def _theme_label(theme: dict[str, Any] | pd.Series, lang: str) -> str:
    return str(theme["label_zh"] if lang == "zh" else theme["label_en"])


def _theme_chart(result: dict[str, Any], key: str, title: str, lang: str) -> tuple[Chart, pd.DataFrame]:
    top = settings().deck.top_themes
    bars = themes.theme_bars(result)
    bars = bars[bars["id"] != themes.SMALL].head(top)
    chart = Chart(
        key,
        "bar",
        title,
        [_theme_label(r, lang) for _, r in bars.iterrows()],
        [
            Series(text("deck.this_month", lang), [_none(v) for v in bars["share"]]),
            Series(
                text("deck.months_before", lang, k=len(result["months"])),
                [_none(v) for v in bars["prior_share"]],
                muted=True,
            ),
        ],
        "0%",
        axis_min=0.0,
        labels=True,
    )
    return chart, bars


def _quote_blocks(
    result: dict[str, Any], ids: Sequence[str], lang: str, count: int
) -> list[tuple[str, list[str]]]:
    per = settings().deck.quotes_per_theme
    by_id = {t["id"]: t for t in result["themes"]}
    blocks = []
    for theme_id in list(ids)[:count]:
        theme = by_id[theme_id]
        heading = f"{_theme_label(theme, lang)} · {theme['share']:.0%}"
        # A deck goes to every role and out of the building: a number a customer wrote is masked.
        quotes = [str(mask_text(q)) for q in theme["quotes"][:per]]
        blocks.append((heading, [f"“{q}”" if lang == "zh" else f"\u201c{q}\u201d" for q in quotes]))
    return blocks


def _flags(theme: pd.Series | dict[str, Any]) -> tuple[bool, bool]:
    return bool(theme["new"]), bool(theme["rising"])


def _praise_slide(d: DeckData, lang: str) -> Slide:
    result = d.praise
    chart, bars = _theme_chart(
        result, "praise-themes", text("deck.praise_chart", lang, n=f"{result['n_comments']:,}"), lang
    )
    if bars.empty:
        # No chart of no bars: PowerPoint draws an empty chart's one category as "None".
        return Slide("praise", text("deck.praise_title", lang), text("deck.praise_none", lang, month=d.month))
    top = bars.iloc[0]
    takeaway = text(
        "deck.praise_top",
        lang,
        label=_theme_label(top, lang),
        share=f"{top['share']:.0%}",
        n=f"{int(top['n']):,}",
    )
    rising = [_theme_label(r, lang) for _, r in bars.iterrows() if any(_flags(r))]
    if rising:
        takeaway += text("deck.rising", lang, labels=("、" if lang == "zh" else ", ").join(rising[:2]))
    return Slide(
        "praise",
        text("deck.praise_title", lang),
        takeaway,
        charts=[chart],
        blocks=_quote_blocks(result, list(bars["id"]), lang, 3),
    )


def _complaint_slide(d: DeckData, lang: str) -> Slide:
    result = d.complaint
    chart, bars = _theme_chart(
        result, "complaint-themes", text("deck.complaint_chart", lang, n=f"{result['n_comments']:,}"), lang
    )
    categories = sorted(result.get("categories", []), key=lambda c: (-c["n"], str(c["category"])))
    flagged = sum(int(c["n"]) for c in categories)
    category_lines = [f"{c['category'] or '—'}: {int(c['n']):,}" for c in categories[:5]]
    blocks = _quote_blocks(result, list(bars["id"]), lang, 2)
    # Said apart from the theme's n, so that one filed complaint is one complaint.
    filed = text("deck.complaints_filed", lang, n=f"{flagged:,}")
    none_filed = text("deck.no_flagged", lang)
    complaints = d.kpis["complaints"]
    if complaints.value is None and complaints.needs_from:
        # The month starts before the data (its first days missing): no count, as the KPI slide
        # shows none, and said why (it said "no callback of the month is in the data" with 14 there).
        heading = text("deck.flagged_heading_plain", lang)
        withheld = text("kpi_status.insufficient_history", lang, date=complaints.needs_from)
        filed, none_filed = withheld, withheld[:1].upper() + withheld[1:] + ("。" if lang == "zh" else ".")
    elif complaints.value is None:
        # Not one callback of the month in the data (a month after the data end): no count, as the
        # KPI slide shows none, rather than "0 complaints were filed".
        heading = text("deck.flagged_heading_plain", lang)
        filed, none_filed = text("deck.complaints_no_calls", lang, month=d.month), ""
    else:
        heading = text("deck.flagged_heading", lang, n=f"{flagged:,}")
    blocks.append((heading, category_lines or [none_filed or text("deck.no_calls", lang, month=d.month)]))
    if bars.empty:
        takeaway = text("deck.complaint_none", lang, month=d.month, filed=filed)
    else:
        top = bars.iloc[0]
        takeaway = text(
            "deck.complaint_top",
            lang,
            label=_theme_label(top, lang),
            share=f"{top['share']:.0%}",
            n=f"{int(top['n']):,}",
            filed=filed,
        )
    charts = [] if bars.empty else [chart]
    return Slide("complaints", text("deck.complaints_title", lang), takeaway, charts=charts, blocks=blocks)


def _signed(value: int) -> str:
    return f"{value:+,}"


def _churn_slide(d: DeckData, lang: str) -> Slide:
    trend = d.churn_trend
    months = [month_label(m) for m in trend["as_of"]]
    line = Chart(
        "churn-trend",
        "line",
        text("deck.churn_chart", lang),
        months,
        [Series(text(f"churn.status.{s}", lang), [float(v) for v in trend[s]]) for s in ("lost", "at_risk")],
        "#,##0",
    )
    top = d.churn_reasons.head(6)
    reasons = Chart(
        "churn-reasons",
        "bar",
        text("deck.reasons_chart", lang),
        [text(f"churn.reason_name.{c}", lang) for c in top["code"]],
        [Series(text("deck.vehicles", lang), [float(v) for v in top["n"]])],
        "#,##0",
        axis_min=0.0,
        labels=True,
    )
    if trend.empty:
        # No month end of the window has the history the active base needs: no figure to show.
        return Slide(
            "churn",
            text("deck.churn_title", lang),
            text("churn_issue15.trend_needs_data", lang),
            charts=[reasons] if not top.empty else [],
        )
    last = trend.iloc[-1]
    # The trend holds the month ends whose window the data cover, consecutive up to the deck's month:
    # with one row, last month is no figure and there is no change to show (issue 15).
    before = trend.iloc[-2] if len(trend) > 1 else None

    def change(status: str) -> str:
        if before is None:
            return ""
        return text("deck.vs_prev", lang, delta=_signed(int(last[status] - before[status])))

    numbers = [
        Number(text("deck.base", lang), f"{int(last['base']):,}"),
        Number(text("churn.status.lost", lang), f"{int(last['lost']):,}", change("lost")),
        Number(text("churn.status.at_risk", lang), f"{int(last['at_risk']):,}", change("at_risk")),
    ]
    params = {
        "lost": f"{int(last['lost']):,}",
        "at_risk": f"{int(last['at_risk']):,}",
        "base": f"{int(last['base']):,}",
        "change": ""
        if before is None
        else text("deck.churn_change", lang, delta=_signed(int(last["lost"] - before["lost"]))),
    }
    if top.empty:
        takeaway = text("deck.churn_takeaway_plain", lang, **params)
    else:
        takeaway = text(
            "deck.churn_takeaway",
            lang,
            reason=text(f"churn.reason_name.{top['code'].iloc[0]}", lang),
            reason_n=f"{int(top['n'].iloc[0]):,}",
            **params,
        )
    return Slide(
        "churn",
        text("deck.churn_title", lang),
        takeaway,
        numbers=numbers,
        charts=[line, reasons],
        footnote=text("deck.churn_footnote", lang, days=settings().churn.lost_days),
    )


def _maintenance_slide(d: DeckData, lang: str) -> Slide:
    due = d.due_next
    by_model = due["model"].fillna("—").value_counts() if "model" in due else pd.Series(dtype=int)
    if by_model.empty and len(due):
        by_model = pd.Series({"—": len(due)})
    by_model = by_model.sort_values(ascending=False, kind="stable").head(8)
    column = Chart(
        "due-by-model",
        "column",
        text("deck.due_chart", lang, month=d.next_month),
        [str(m) for m in by_model.index],
        [Series(text("deck.vehicles", lang), [float(v) for v in by_model.to_numpy()])],
        "#,##0",
        axis_min=0.0,
        labels=True,
    )
    series = d.series[d.series["kpi"] == "due_maintenance_return_rate"]
    final = series[~series["provisional"].astype(bool)]
    band = kpi.targets().get("due_maintenance_return_rate")
    rate_series = [
        Series(
            text("deck.return_rate", lang),
            [_none(v) for v in series["value"].where(~series["provisional"].astype(bool))],
        )
    ]
    if band is not None:
        rate_series.append(Series(text("deck.target", lang), [band[0]] * len(series), dashed=True))
    line = Chart(
        "due-return-rate",
        "line",
        text("deck.return_chart", lang),
        [str(m) for m in series["month"]],
        rate_series,
        "0%",
        axis_min=0.0,
        data_format="0.0%",
    )
    known = final[final["value"].notna()]
    numbers = [Number(text("deck.due_next", lang, month=d.next_month), f"{len(due):,}")]
    charts = [column, line]
    footnote = text("deck.maint_footnote", lang, days=settings().kpi.due_return_grace_days)
    if d.maintenance is not None:
        metrics = d.maintenance.metrics
        auc = {
            (int(h), str(m)): _none(v)
            for h, m, v in zip(metrics["horizon"], metrics["method"], metrics["roc_auc"], strict=True)
        }
        horizons = sorted({int(h) for h in metrics["horizon"]})
        charts.append(
            Chart(
                "model-quality",
                "column",
                text("deck.model_chart", lang, as_of=d.maintenance.as_of.isoformat()),
                [text("deck.days", lang, n=h) for h in horizons],
                [
                    Series(text("deck.model", lang), [auc.get((h, "model")) for h in horizons]),
                    Series(text("deck.rule", lang), [auc.get((h, "rule")) for h in horizons], muted=True),
                ],
                "0.00",
                axis_min=0.5,
                axis_max=1.0,
                labels=True,
            )
        )
        model_auc, rule_auc = auc.get((30, "model")), auc.get((30, "rule"))
        numbers.append(
            Number(
                text("deck.expected_30", lang),
                f"{d.maintenance.expected_30:,.0f}",
                text(
                    "deck.auc_note",
                    lang,
                    model="—" if model_auc is None else f"{model_auc:.2f}",
                    rule="—" if rule_auc is None else f"{rule_auc:.2f}",
                ),
            )
        )
    elif d.maintenance_note:
        footnote = f"{footnote} {text('deck.no_model', lang)}"
    if known.empty:
        takeaway = text("deck.maint_takeaway_plain", lang, n=f"{len(due):,}", month=d.next_month)
    else:
        latest = known.iloc[-1]
        numbers.append(
            Number(
                text("deck.return_rate_month", lang, month=str(latest["month"])),
                formatting.format_value("due_maintenance_return_rate", _none(latest["value"])),
                text("deck.n_note", lang, n=f"{int(latest['n']):,}"),
            )
        )
        target = kpi.format_target("due_maintenance_return_rate", band)
        key = "maint_takeaway_below" if band is not None and latest["value"] < band[0] else "maint_takeaway"
        takeaway = text(
            f"deck.{key}",
            lang,
            n=f"{len(due):,}",
            month=d.next_month,
            rate=formatting.format_value("due_maintenance_return_rate", _none(latest["value"])),
            rate_month=str(latest["month"]),
            target=target,
        )
    return Slide(
        "maintenance",
        text("deck.maintenance_title", lang),
        takeaway,
        numbers=numbers,
        charts=charts,
        footnote=footnote,
    )


def deck_slides(d: DeckData, lang: str = "zh") -> list[Slide]:
    """Return the deck's slides in ``lang``: titles, takeaways computed from the data, tables and chart series."""
    if lang not in LANGUAGES:
        raise UserError(f"The deck is written in {' or '.join(LANGUAGES)}, not '{lang}'.")
    return [
        _title_slide(d, lang),
        _kpi_slide(d, lang),
        _changes_slide(d, lang),
        _satisfaction_slide(d, lang),
        _drivers_slide(d, lang),
        _praise_slide(d, lang),
        _complaint_slide(d, lang),
        _churn_slide(d, lang),
        _maintenance_slide(d, lang),
    ]
