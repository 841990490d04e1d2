"""The monthly review deck: a PPTX with native, editable charts and a takeaway sentence per slide.

Three layers, so each can be tested alone: ``deck_data`` gathers the month's figures from the
analytics modules the pages use (language-free); ``deck_slides`` turns them into slides with
their titles, takeaways, chart series and tables in one language; ``render`` draws the slides
with python-pptx on one template. The churn slide uses the status counts, trend and reason codes
without fitting the churn model, which would add about 15 s on a store's three years for a
probability the slide does not show.

The template is kept apart from the code that gathers figures so that a dealership can restyle
the deck (fonts and sizes in ``data/settings.toml`` ``[deck]``) without touching the analytics.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
import xlsxwriter
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.util import Emu, Inches, Pt

from analytics.core import formatting
from analytics.core.auth import mask_text
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.i18n import LANGUAGES, text
from analytics.domain import churn, churn_model, kpi, maintenance, overview, satisfaction, themes
from analytics.reports import chart_export
from analytics.reports.export import neutralise_text

Progress = Callable[[float, str], None]

SLIDE_KEYS: tuple[str, ...] = (
    "title",
    "kpis",
    "changes",
    "satisfaction",
    "drivers",
    "praise",
    "complaints",
    "churn",
    "maintenance",
)
# Red-flag rows listed on the "what changed" slide, most urgent kind first, and their columns.
FLAG_ROWS = 6
FLAG_TABLE: tuple[str, ...] = ("flag", "when", "customer", "advisor", "service", "score", "comment")
# Churn reasons that restate the status itself; the slide ranks the reasons behind it.
STATUS_REASONS = frozenset({"no_visit", "overdue"})

COLORS = ("1F5FA8", "E07B39", "2A9D8F", "C8553D", "7B6CA8", "8D99AE", "E9C46A", "264653")
INK, MUTED, ACCENT, GOOD, BAD = "222222", "777777", "1F5FA8", "2A9D8F", "C8553D"
SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
BODY_TOP, BODY_BOTTOM = Inches(1.75), Inches(6.85)


def _quiet(fraction: float, message: str) -> None:
    """Progress sink for callers that do not show progress."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class MaintenanceFigures:
    """The maintenance model's quality and outlook at the deck's date."""

    as_of: date
    metrics: pd.DataFrame  # maintenance.backtest_table: one row per horizon and method (model, rule)
    expected_30: float  # expected maintenance visits within 30 days (sum of p30), chosen stores
    vehicles: int  # vehicles scored


@dataclass
class DeckData:
    """The month's figures behind the deck, in no particular language."""

    month: str
    stores: list[str] | None
    as_of: date  # the day the lists are seen from: month end, or the data's end if earlier
    report: dict[str, Any]
    provisional: dict[str, bool]
    series: pd.DataFrame  # kpi.monthly_series over the trend window
    changes: list[dict[str, Any]]
    red_flags: dict[str, int]
    red_flag_rows: pd.DataFrame  # satisfaction.red_flags rows, overdue complaints first
    satisfaction: pd.DataFrame  # satisfaction.monthly_satisfaction over the trend window
    drivers: pd.DataFrame
    driver_start: str
    dimension_means: pd.DataFrame
    praise: dict[str, Any]
    complaint: dict[str, Any]
    churn_trend: pd.DataFrame
    churn_reasons: pd.DataFrame  # code, n: lost and at-risk vehicles giving each reason
    due_next: pd.DataFrame  # kpi.due_vehicles of the month after, with the car model
    next_month: str
    maintenance: MaintenanceFigures | None  # None: not asked for, or too little history
    maintenance_note: str = ""  # why there are no model figures when they were asked for


def _months_back(month: date, count: int) -> list[date]:
    return [kpi.shift_month(month, -k) for k in range(count - 1, -1, -1)]


def churn_reason_counts(vehicles: pd.DataFrame) -> pd.DataFrame:
    """Return one row per reason code (status restatements left out): lost and at-risk vehicles giving it, most first."""
    risky = vehicles[vehicles["status"].isin(["lost", "at_risk"])]
    codes = [c for codes in risky["reason_codes"] for c in dict.fromkeys(codes) if c not in STATUS_REASONS]
    counts = pd.Series(codes, dtype=object).value_counts()
    frame = pd.DataFrame({"code": [str(c) for c in counts.index], "n": counts.to_numpy(dtype=int)})
    return frame.sort_values(["n", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)


def maintenance_figures(
    con: duckdb.DuckDBPyConnection, as_of: date, stores: list[str] | None, progress: Progress = _quiet
) -> MaintenanceFigures:
    """Return the maintenance model's backtest and 30-day outlook at ``as_of`` (trained and saved when
    no saved model fits this data version and date; raises ``UserError`` when history is too short)."""
    model = maintenance.fitted_model(con, as_of, progress=progress)
    outlook = maintenance.outlook(maintenance.score(con, model, as_of), stores)
    return MaintenanceFigures(
        as_of=model.as_of,
        metrics=maintenance.backtest_table(model),
        expected_30=float(outlook["p30"]),
        vehicles=int(outlook["vehicles"]),
    )


def _with_models(con: duckdb.DuckDBPyConnection, due: pd.DataFrame) -> pd.DataFrame:
    """Return the due vehicles with their car model (from the vehicles table)."""
    models = con.execute(
        "SELECT vin, model FROM vehicles WHERE vin IN (SELECT unnest($vins))", {"vins": list(due["vin"])}
    ).df()
    return due.merge(models, on="vin", how="left")


def deck_data(
    con: duckdb.DuckDBPyConnection,
    month: str,
    stores: list[str] | None = None,
    progress: Progress = _quiet,
    maintenance_model: bool = True,
) -> DeckData:
    """Return the figures of ``month`` (``YYYY-MM``) for the deck, reporting progress as it goes.

    ``maintenance_model`` adds the maintenance model's quality and outlook, training the model
    (about 15 s on a store's three years) when none is saved for this data version and month.
    """
    cfg = settings()["deck"]
    first = kpi.parse_month(month)
    label = kpi.month_label(first)
    window = _months_back(first, int(cfg["trend_months"]))
    progress(0.05, "kpis")
    summary = overview.overview(con, label, stores)
    series = summary["series"]
    provisional = {
        name: entry["status"] == "provisional" for name, entry in summary["report"]["kpis"].items()
    }
    flags = summary["red_flags"]
    progress(0.2, "satisfaction")
    sat = satisfaction.monthly_satisfaction(con, stores, window[0], first)
    driver_start, driver_end = satisfaction.driver_window(first)
    drivers = satisfaction.dimension_drivers(con, stores, driver_start, driver_end)
    means = satisfaction.dimension_scores(con, stores, window[0], first)
    progress(0.35, "praise")
    praise = themes.monthly_themes(con, label, "praise", stores)
    progress(0.5, "complaints")
    complaint = themes.monthly_themes(con, label, "complaint", stores)
    progress(0.65, "churn")
    churn_as_of = churn.month_ends([label])[0]
    trend = churn.status_trend(con, churn.month_ends([kpi.month_label(m) for m in window]), stores)
    vehicles = churn.churn_list(churn_model.features(con, [churn_as_of], stores), None, churn_as_of)
    progress(0.75, "maintenance")
    following = kpi.shift_month(first, 1)
    due = _with_models(con, kpi.due_vehicles(con, following, stores))
    figures: MaintenanceFigures | None = None
    note = ""
    if maintenance_model:
        try:
            figures = maintenance_figures(
                con,
                summary["as_of"],
                stores,
                lambda f, step: progress(0.75 + 0.2 * f, f"maintenance: {step}"),
            )
        except UserError as exc:
            note = str(exc)
    progress(0.95, "slides")
    return DeckData(
        month=label,
        stores=list(stores) if stores else None,
        as_of=summary["as_of"],
        report=summary["report"],
        provisional=provisional,
        series=series,
        changes=summary["changes"],
        red_flags={name: int((flags["flag"] == name).sum()) for name in ("no_followup", "complaint_overdue")},
        red_flag_rows=flags.assign(_first=flags["flag"] != "complaint_overdue")
        .sort_values(["_first", "callback_date"], ascending=[True, False], kind="stable")
        .drop(columns="_first")
        .reset_index(drop=True),
        satisfaction=sat,
        drivers=drivers,
        driver_start=driver_start,
        dimension_means=means,
        praise=praise,
        complaint=complaint,
        churn_trend=trend,
        churn_reasons=churn_reason_counts(vehicles),
        due_next=due,
        next_month=kpi.month_label(following),
        maintenance=figures,
        maintenance_note=note,
    )


# --------------------------------------------------------------------------- slides


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
        entry = d.report["kpis"][name]
        band, value = entry["target"], entry["value"]
        state = overview.target_state(entry)
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
        if entry.get("status") == "insufficient_history":
            shown = formatting.status_note(entry, lang) or "—"
        else:
            shown = formatting.format_value(name, value) + (
                " *" if entry.get("status") == "provisional" else ""
            )
        rows.append(
            [
                labels[name],
                shown,
                f"{entry['n']:,}",
                formatting.format_target(name, band),
                formatting.format_value(name, entry["prev_month"]),
                formatting.format_value(name, entry["prev_year"]),
                status,
            ]
        )
        marks.append(mark)
    takeaway = overview.headline(d.report, lang)
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
    lines = [satisfaction.describe_change(c, lang) for c in d.changes] or [text("deck.nothing_changed", lang)]
    numbers = [
        Number(
            text("deck.flag_no_followup", lang),
            f"{d.red_flags['no_followup']:,}",
            text("deck_status.no_followup_note", lang, month=d.month, as_of=d.as_of.isoformat()),
        ),
        Number(
            text("deck.flag_complaint_overdue", lang),
            f"{d.red_flags['complaint_overdue']:,}",
            text("deck.flag_complaint_overdue_note", lang),
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
            comment = _cell(row.get("comment"))
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
    sat = d.satisfaction
    months = [str(m) for m in sat["month"]]
    rate = Series(
        text("deck.sat_rate", lang),
        [_none(v) for v in sat["rate"]],
        low=[_none(v) for v in sat["wilson_low"]],
        high=[_none(v) for v in sat["wilson_high"]],
    )
    nps = Series(
        text("deck.nps", lang),
        [_none(v) for v in sat["nps"]],
        low=[_none(v) for v in sat["nps_low"]],
        high=[_none(v) for v in sat["nps_high"]],
    )
    charts = [
        Chart("satisfaction-rate", "line", text("deck.sat_chart", lang), months, [rate], "0%"),
        Chart("nps", "line", text("deck.nps_chart", lang), months, [nps], "0"),
    ]
    now = sat[sat["month"] == d.month]
    if now.empty or int(now["n"].iloc[0]) == 0:
        takeaway = text("deck.sat_no_data", lang, month=d.month)
    else:
        row = now.iloc[0]
        prev = sat[sat["month"] < d.month]
        prev_rate = _pct(_none(prev["rate"].iloc[-1])) if len(prev) else "—"
        params = {"rate": _pct(row["rate"]), "n": f"{int(row['n']):,}", "prev": prev_rate}
        if bool(row["signal"]):
            key = "sat_signal_low" if row["rate"] < row["centre"] else "sat_signal_high"
            takeaway = text(f"deck.{key}", lang, centre=_pct(row["centre"]), **params)
        else:
            takeaway = text(
                "deck.sat_stable", lang, low=_pct(row["wilson_low"]), high=_pct(row["wilson_high"]), **params
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
    rr = d.drivers[d.drivers["method"] == "relative_risk"].sort_values(
        "effect", ascending=False, na_position="last"
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
        )
    low = float(settings()["kpi"]["dimension_low_score"])
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
    top = int(settings()["deck"]["top_themes"])
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
    per = int(settings()["deck"]["quotes_per_theme"])
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
        return Slide(
            "praise",
            text("deck.praise_title", lang),
            text("deck.praise_none", lang, month=d.month),
            charts=[chart],
        )
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
    blocks.append(
        (
            text("deck.flagged_heading", lang, n=f"{flagged:,}"),
            category_lines or [text("deck.no_flagged", lang)],
        )
    )
    if bars.empty:
        takeaway = text("deck.complaint_none", lang, month=d.month, flagged=flagged)
    else:
        top = bars.iloc[0]
        takeaway = text(
            "deck.complaint_top",
            lang,
            label=_theme_label(top, lang),
            share=f"{top['share']:.0%}",
            n=f"{int(top['n']):,}",
            flagged=f"{flagged:,}",
        )
    return Slide("complaints", text("deck.complaints_title", lang), takeaway, charts=[chart], blocks=blocks)


def _signed(value: int) -> str:
    return f"{value:+,}"


def _churn_slide(d: DeckData, lang: str) -> Slide:
    trend = d.churn_trend
    months = [kpi.month_label(m) for m in trend["as_of"]]
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
    before = trend.iloc[-2] if len(trend) > 1 else last
    numbers = [
        Number(text("deck.base", lang), f"{int(last['base']):,}"),
        Number(
            text("churn.status.lost", lang),
            f"{int(last['lost']):,}",
            text("deck.vs_prev", lang, delta=_signed(int(last["lost"] - before["lost"]))),
        ),
        Number(
            text("churn.status.at_risk", lang),
            f"{int(last['at_risk']):,}",
            text("deck.vs_prev", lang, delta=_signed(int(last["at_risk"] - before["at_risk"]))),
        ),
    ]
    params = {
        "lost": f"{int(last['lost']):,}",
        "at_risk": f"{int(last['at_risk']):,}",
        "base": f"{int(last['base']):,}",
        "delta": _signed(int(last["lost"] - before["lost"])),
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
        footnote=text("deck.churn_footnote", lang, days=int(settings()["churn"]["lost_days"])),
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
    )
    known = final[final["value"].notna()]
    numbers = [Number(text("deck.due_next", lang, month=d.next_month), f"{len(due):,}")]
    charts = [column, line]
    footnote = text("deck.maint_footnote", lang, days=int(settings()["kpi"]["due_return_grace_days"]))
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
                _pct(latest["value"]),
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
            rate=_pct(latest["value"]),
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


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Fonts:
    """The deck's typefaces: Latin and East Asian."""

    latin: str
    east_asian: str


def _fonts() -> Fonts:
    cfg = settings()["deck"]
    return Fonts(str(cfg["latin_font"]), str(cfg["east_asian_font"]))


def _set_typefaces(rpr: Any, fonts: Fonts) -> None:
    """Name the Latin and East Asian typefaces on a run or default run property element."""
    for tag in ("a:latin", "a:ea"):
        old = rpr.find(qn(tag))
        if old is not None:
            rpr.remove(old)
    latin = parse_xml(f'<a:latin {nsdecls("a")} typeface="{fonts.latin}"/>')
    ea = parse_xml(f'<a:ea {nsdecls("a")} typeface="{fonts.east_asian}"/>')
    # Schema order: fills and effects first, then latin, ea, cs, sym, hyperlinks.
    anchor = None
    for tag in ("a:cs", "a:sym", "a:hlinkClick", "a:hlinkMouseOver", "a:rtl", "a:extLst"):
        anchor = rpr.find(qn(tag))
        if anchor is not None:
            break
    if anchor is not None:
        anchor.addprevious(latin)
        anchor.addprevious(ea)
    else:
        rpr.append(latin)
        rpr.append(ea)


def _style_run(run: Any, fonts: Fonts, size: float, bold: bool = False, color: str = INK) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = RGBColor.from_string(color)
    _set_typefaces(run._r.get_or_add_rPr(), fonts)


def _text_box(
    slide: Any,
    box: tuple[int, int, int, int],
    paragraphs: Sequence[tuple[str, float, bool, str]],
    fonts: Fonts,
    align: Any = PP_ALIGN.LEFT,
    anchor: Any = MSO_ANCHOR.TOP,
    space_after: float = 4,
) -> Any:
    shape = slide.shapes.add_textbox(*box)
    frame = shape.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    for margin in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
        setattr(frame, margin, Inches(0.05))
    for i, (content, size, bold, color) in enumerate(paragraphs):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.alignment = align
        para.space_after = Pt(space_after)
        run = para.add_run()
        run.text = str(mask_text(content))  # the deck goes to every role: no phone in any text
        _style_run(run, fonts, size, bold, color)
    return shape


def _plain_box(slide: Any, box: tuple[int, int, int, int], color: str) -> Any:
    """Add a filled rectangle without outline or the theme's shadow."""
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, *box)
    style = shape._element.find(qn("p:style"))
    if style is not None:
        shape._element.remove(style)
    shape.fill.solid()
    shape.fill.fore_color.rgb = RGBColor.from_string(color)
    shape.line.fill.background()
    return shape


def _frame(slide: Any, s: Slide, footer: str, page: int, fonts: Fonts) -> None:
    """Draw the template around a content slide: title, rule, takeaway with an accent bar, footer."""
    _text_box(
        slide, (MARGIN, Inches(0.3), SLIDE_W - 2 * MARGIN, Inches(0.65)), [(s.title, 26, True, ACCENT)], fonts
    )
    _plain_box(slide, (MARGIN, Inches(0.98), SLIDE_W - 2 * MARGIN, Emu(12700)), ACCENT)
    _plain_box(slide, (MARGIN, Inches(1.12), Inches(0.07), Inches(0.5)), COLORS[1])
    _text_box(
        slide,
        (MARGIN + Inches(0.15), Inches(1.08), SLIDE_W - 2 * MARGIN - Inches(0.15), Inches(0.6)),
        [(s.takeaway, 15, True, INK)],
        fonts,
        anchor=MSO_ANCHOR.MIDDLE,
    )
    bottom = [(footer + (f"   {s.footnote}" if s.footnote else ""), 9, False, MUTED)]
    _text_box(slide, (MARGIN, Inches(6.95), SLIDE_W - 2 * MARGIN - Inches(0.6), Inches(0.4)), bottom, fonts)
    _text_box(
        slide,
        (SLIDE_W - MARGIN - Inches(0.6), Inches(6.95), Inches(0.6), Inches(0.4)),
        [(str(page), 9, False, MUTED)],
        fonts,
        align=PP_ALIGN.RIGHT,
    )


def _numbers(slide: Any, numbers: Sequence[Number], top: int, fonts: Fonts) -> int:
    """Draw the headline figures in a row of boxes; return where the body continues."""
    gap = Inches(0.2)
    width = int((SLIDE_W - 2 * MARGIN - gap * (len(numbers) - 1)) / len(numbers))
    height = Inches(0.95)
    for i, number in enumerate(numbers):
        left = MARGIN + i * (width + gap)
        _plain_box(slide, (left, top, width, height), "F3F6FA")
        paragraphs = [(number.label, 11, False, MUTED), (number.value, 22, True, ACCENT)]
        if number.note:
            paragraphs.append((number.note, 10, False, MUTED))
        _text_box(
            slide,
            (left + Inches(0.1), top, width - Inches(0.2), height),
            paragraphs,
            fonts,
            anchor=MSO_ANCHOR.MIDDLE,
            space_after=0,
        )
    return int(top + height + Inches(0.2))


KPI_WIDTHS = [3.0, 1.6, 1.1, 1.4, 1.5, 1.5, 1.5]


def _table(slide: Any, s: Slide, box: tuple[int, int, int, int], fonts: Fonts) -> None:
    assert s.table is not None
    rows, marks = s.table, s.marks or [None] * len(s.table)
    left, top, width, height = box
    row_height = min(int(height / len(rows)), int(Inches(0.42)))
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, row_height * len(rows))
    table = shape.table
    weights = s.widths or KPI_WIDTHS[: len(rows[0])]
    for i, weight in enumerate(weights):
        table.columns[i].width = int(width * weight / sum(weights))
    numeric = s.key == "kpis"
    size = 12 if numeric else 11
    for r, row in enumerate(rows):
        table.rows[r].height = row_height
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            para = cell.text_frame.paragraphs[0]
            para.alignment = PP_ALIGN.RIGHT if numeric and c > 0 else PP_ALIGN.LEFT
            run = para.add_run()
            run.text = str(mask_text(value))  # customer names and comments may hold a phone
            color, bold = INK, r == 0
            if r == 0:
                color = "FFFFFF"
            elif c == len(row) - 1 and marks[r]:
                color, bold = (GOOD if marks[r] == "good" else BAD), True
            _style_run(run, fonts, size, bold=bold, color=color)
            cell.fill.solid()
            cell.fill.fore_color.rgb = RGBColor.from_string(
                ACCENT if r == 0 else ("F3F6FA" if r % 2 else "FFFFFF")
            )


def _error_bars(
    series_element: Any,
    values: Sequence[float | None],
    low: Sequence[float | None],
    high: Sequence[float | None],
) -> None:
    """Attach an interval to a line series as custom error bars (native, kept in the chart's XML)."""

    def literal(deltas: list[tuple[int, float]]) -> str:
        points = "".join(f'<c:pt idx="{i}"><c:v>{v:.6g}</c:v></c:pt>' for i, v in deltas)
        return f'<c:numLit><c:formatCode>General</c:formatCode><c:ptCount val="{len(values)}"/>{points}</c:numLit>'

    plus, minus = [], []
    for i, (v, lo, hi) in enumerate(zip(values, low, high, strict=True)):
        if v is None or lo is None or hi is None:
            continue
        plus.append((i, max(hi - v, 0.0)))
        minus.append((i, max(v - lo, 0.0)))
    xml = (
        f'<c:errBars {nsdecls("c", "a")}><c:errBarType val="both"/><c:errValType val="cust"/>'
        f'<c:noEndCap val="0"/><c:plus>{literal(plus)}</c:plus><c:minus>{literal(minus)}</c:minus>'
        f'<c:spPr><a:ln w="12700"><a:solidFill><a:srgbClr val="{MUTED}"/></a:solidFill></a:ln></c:spPr>'
        "</c:errBars>"
    )
    series_element.find(qn("c:cat")).addprevious(parse_xml(xml))


def value_range(spec: Chart) -> tuple[float | None, float | None]:
    """Return the value axis bounds: the chart's own, else for interval charts a range holding every bound."""
    if spec.axis_min is not None or spec.axis_max is not None:
        return spec.axis_min, spec.axis_max
    bounds = [
        v
        for s in spec.series
        if s.low is not None and s.high is not None
        for v in (*s.low, *s.high)
        if v is not None
    ]
    if not bounds:
        return None, None
    percent = "%" in spec.number_format
    step = 0.02 if percent else 5.0
    low = math.floor(min(bounds) / step) * step
    high = math.ceil(max(bounds) / step) * step
    if percent:
        low, high = max(low, 0.0), min(high, 1.0)
    return round(low, 6), round(high, 6)


_CHART_TYPES = {
    "line": XL_CHART_TYPE.LINE_MARKERS,
    "bar": XL_CHART_TYPE.BAR_CLUSTERED,
    "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
}


def _rotate_ticks(axis: Any, degrees: int) -> None:
    """Turn an axis's tick labels (months read better slanted than wrapped)."""
    tx = axis._element.get_or_add_txPr()
    tx.find(qn("a:bodyPr")).set("rot", str(degrees * 60000))


def _series_color(spec: Chart, index: int) -> RGBColor:
    s = spec.series[index]
    if s.dashed:
        return RGBColor.from_string(MUTED)
    if s.muted:
        return RGBColor.from_string("B8BEC6")
    return RGBColor.from_string(COLORS[index % len(COLORS)])


class _TextWorkbookWriter(CategoryWorkbookWriter):  # type: ignore[misc]
    """The chart's embedded workbook with every text written as text: XlsxWriter would otherwise
    turn a category such as ``=HYPERLINK(...)`` into a live formula."""

    @contextmanager
    def _open_worksheet(self, xlsx_file: Any) -> Iterator[tuple[Any, Any]]:
        workbook = xlsxwriter.Workbook(
            xlsx_file, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class _SafeChartData(CategoryChartData):  # type: ignore[misc]
    """Category chart data whose embedded workbook holds no formula made from text."""

    @property
    def _workbook_writer(self) -> _TextWorkbookWriter:
        return _TextWorkbookWriter(self)


def _chart(slide: Any, spec: Chart, box: tuple[int, int, int, int], fonts: Fonts) -> Any:
    """Draw a native chart with its data embedded.

    PowerPoint draws horizontal bars from the bottom up, so a bar chart's categories and series go
    in reversed to read top down in the caller's order.
    """
    flip = spec.kind == "bar"
    order = list(reversed(range(len(spec.series)))) if flip else list(range(len(spec.series)))
    data = _SafeChartData(number_format=spec.number_format)
    # Category and series names come from data (car models, advisors): neutralised like every export.
    categories = [neutralise_text(str(mask_text(str(c)))) for c in spec.categories]
    data.categories = (list(reversed(categories)) if flip else categories) or [""]
    for i in order:
        values = spec.series[i].values
        name = neutralise_text(str(mask_text(str(spec.series[i].name))))
        data.add_series(name, (list(reversed(values)) if flip else values) or [None])
    chart = slide.shapes.add_chart(_CHART_TYPES[spec.kind], *box, data).chart
    chart.font.size = Pt(11)
    chart.font.color.rgb = RGBColor.from_string(INK)
    _set_typefaces(chart._chartSpace.find(".//" + qn("a:defRPr")), fonts)
    chart.has_title = True
    chart.chart_title.text_frame.text = spec.title
    for para in chart.chart_title.text_frame.paragraphs:
        for run in para.runs:
            _style_run(run, fonts, 13, bold=True)
    chart.has_legend = len(spec.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    axis = chart.value_axis
    axis.has_major_gridlines = True
    axis.major_gridlines.format.line.color.rgb = RGBColor.from_string("E3E7EC")
    axis.format.line.fill.background()
    axis.tick_labels.number_format = spec.number_format
    axis.tick_labels.number_format_is_linked = False
    low, high = value_range(spec)
    if low is not None:
        axis.minimum_scale = low
    if high is not None:
        axis.maximum_scale = high
    categories = chart.category_axis
    categories.format.line.color.rgb = RGBColor.from_string("B8BEC6")
    categories.has_major_gridlines = False
    if spec.kind != "bar" and len(spec.categories) > 6:
        _rotate_ticks(categories, -45)
    plot = chart.plots[0]
    if spec.kind != "line":
        plot.gap_width = 60
        plot.overlap = -10 if len(spec.series) > 1 else 0
    for position, series in zip(order, plot.series, strict=True):
        s = spec.series[position]
        color = _series_color(spec, position)
        if spec.kind == "line":
            series.smooth = False
            series.format.line.width = Pt(1.5 if s.dashed else 2.25)
            series.format.line.color.rgb = color
            if s.dashed:
                series.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
                series.marker.style = XL_MARKER_STYLE.NONE
            else:
                series.marker.style = XL_MARKER_STYLE.CIRCLE
                series.marker.size = 6
                series.marker.format.fill.solid()
                series.marker.format.fill.fore_color.rgb = color
                series.marker.format.line.color.rgb = color
            if s.low is not None and s.high is not None:
                _error_bars(series._element, s.values, s.low, s.high)
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = color
    if spec.labels:
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = spec.number_format
        labels.number_format_is_linked = False
        labels.font.size = Pt(10)
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
    return chart


def _block_height(blocks: Sequence[tuple[str, list[str]]]) -> int:
    lines = sum((1 if heading else 0) + len(body) for heading, body in blocks)
    return int(Inches(0.12 + 0.32 * lines))


def _blocks(
    slide: Any, blocks: Sequence[tuple[str, list[str]]], box: tuple[int, int, int, int], fonts: Fonts
) -> None:
    paragraphs: list[tuple[str, float, bool, str]] = []
    for heading, lines in blocks:
        if heading:
            paragraphs.append((heading, 14, True, ACCENT))
        paragraphs.extend((line, 13, False, INK) for line in lines)
    if paragraphs:
        _text_box(slide, box, paragraphs, fonts, space_after=6)


def _title_page(slide: Any, s: Slide, fonts: Fonts) -> None:
    _plain_box(slide, (0, Inches(2.3), SLIDE_W, Inches(2.2)), ACCENT)
    _text_box(
        slide,
        (MARGIN + Inches(0.3), Inches(2.45), SLIDE_W - 2 * MARGIN, Inches(1.9)),
        [(s.title, 36, True, "FFFFFF"), (s.takeaway, 18, False, "FFFFFF")],
        fonts,
        anchor=MSO_ANCHOR.MIDDLE,
    )
    lines = [(line, 14, False, INK) for _, block in s.blocks for line in block]
    _text_box(slide, (MARGIN + Inches(0.3), Inches(4.8), SLIDE_W - 2 * MARGIN, Inches(1.5)), lines, fonts)


def _content(slide: Any, s: Slide, fonts: Fonts) -> None:
    """Lay out the body: numbers on top, then a table (after any text), or charts beside any text."""
    top = int(BODY_TOP)
    if s.numbers:
        top = _numbers(slide, s.numbers, top, fonts)
    width = int(SLIDE_W - 2 * MARGIN)
    if s.table is not None:
        if s.blocks:
            height = _block_height(s.blocks)
            _blocks(slide, s.blocks, (MARGIN, top, width, height), fonts)
            top += height + int(Inches(0.1))
        _table(slide, s, (MARGIN, top, width, int(BODY_BOTTOM) - top), fonts)
        return
    height = int(BODY_BOTTOM) - top
    gap = int(Inches(0.3))
    if s.charts and s.blocks:
        chart_w = int(width * 0.58)
        _chart(slide, s.charts[0], (MARGIN, top, chart_w, height), fonts)
        _blocks(slide, s.blocks, (MARGIN + chart_w + gap, top, width - chart_w - gap, height), fonts)
    elif s.charts:
        each = int((width - gap * (len(s.charts) - 1)) / len(s.charts))
        for i, spec in enumerate(s.charts):
            _chart(slide, spec, (MARGIN + i * (each + gap), top, each, height), fonts)
    elif s.blocks:
        _blocks(slide, s.blocks, (MARGIN, top, width, height), fonts)


def render(slides: Sequence[Slide], footer: str) -> bytes:
    """Return the slides drawn on the deck template as PPTX bytes."""
    fonts = _fonts()
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_W, SLIDE_H
    blank = deck.slide_layouts[6]
    for page, s in enumerate(slides, start=1):
        slide = deck.slides.add_slide(blank)
        if s.key == "title":
            _title_page(slide, s, fonts)
        else:
            _frame(slide, s, footer, page, fonts)
            _content(slide, s, fonts)
    deck.core_properties.title = slides[0].title if slides else ""
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def footer_line(d: DeckData, lang: str) -> str:
    """Return the footer every content slide carries: source, stores and month."""
    return f"{text('chart.source', lang)} · {scope_label(d.stores, lang)} · {d.month}"


def build_deck(
    con: duckdb.DuckDBPyConnection,
    month: str,
    stores: list[str] | None = None,
    lang: str = "zh",
    progress: Progress = _quiet,
) -> bytes:
    """Return the monthly deck of ``month`` for ``stores`` in ``lang`` as PPTX bytes."""
    data = deck_data(con, month, stores, progress)
    deck = render(deck_slides(data, lang), footer_line(data, lang))
    progress(1.0, "done")
    return deck


# --------------------------------------------------------------------------- images


def chart_figure(spec: Chart) -> go.Figure:
    """Return a plotly figure drawing the same chart (for PNG/SVG exports)."""
    fig = go.Figure()
    percent = "%" in spec.number_format
    for i, s in enumerate(spec.series):
        color = "#" + str(_series_color(spec, i))
        if spec.kind == "line":
            error = None
            if s.low is not None and s.high is not None:
                error = {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if v is None or h is None else h - v
                        for v, h in zip(s.values, s.high, strict=True)
                    ],
                    "arrayminus": [
                        None if v is None or lo is None else v - lo
                        for v, lo in zip(s.values, s.low, strict=True)
                    ],
                    "color": "#" + MUTED,
                }
            fig.add_scatter(
                x=spec.categories,
                y=s.values,
                name=s.name,
                mode="lines" if s.dashed else "lines+markers",
                line={"color": color, "dash": "dash" if s.dashed else "solid"},
                error_y=error,
            )
        elif spec.kind == "bar":
            fig.add_bar(y=spec.categories, x=s.values, name=s.name, orientation="h", marker_color=color)
        else:
            fig.add_bar(x=spec.categories, y=s.values, name=s.name, marker_color=color)
    value_axis = {
        "tickformat": ".0%" if percent else ",",
        "rangemode": "tozero" if spec.axis_min == 0 else "normal",
    }
    # Months stay categories: as dates plotly would relabel them in English ("Sep 2026").
    category_axis = {"type": "category"}
    if spec.kind == "bar":
        fig.update_layout(
            xaxis=value_axis, yaxis={**category_axis, "autorange": "reversed", "ticksuffix": "  "}
        )
    else:
        fig.update_layout(xaxis=category_axis, yaxis=value_axis)
    fig.update_layout(
        template="plotly_white",
        barmode="group",
        showlegend=len(spec.series) > 1,
        font={"family": chart_export.FONT_FAMILY, "size": 16, "color": "#" + INK},
    )
    return fig


def deck_figures(
    slides: Sequence[Slide], month: str, stores: Sequence[str] | None
) -> dict[str, tuple[go.Figure, str]]:
    """Return ``{file stem: (figure, title)}`` for every chart of the deck, named by page, metric, period and store."""
    scope = "-".join(stores) if stores else "all"
    out: dict[str, tuple[go.Figure, str]] = {}
    for page, s in enumerate(slides, start=1):
        for spec in s.charts:
            stem = f"deck_{page:02d}-{s.key}_{spec.key}_{month}_{scope}"
            out[stem] = (chart_figure(spec), spec.title)
    return out


def write_chart_images(slides: Sequence[Slide], d: DeckData, lang: str, folder: str | Path) -> list[Path]:
    """Write every chart of the deck as PNG (2x) and SVG, titled and with the source line; return the paths."""
    source = footer_line(d, lang)
    laid_out = {
        stem: chart_export.for_export(fig, title, source)
        for stem, (fig, title) in deck_figures(slides, d.month, d.stores).items()
    }
    return chart_export.write_images(laid_out, folder)
