"""Satisfaction trends: monthly rates with intervals and control limits, dimensions, breakdowns,
the follow-up list, month-on-month movements and red flags.

Responses are reached survey callbacks (settings ``kpi.survey_callback_types``) with a score;
a response is satisfied when ``overall_score >= kpi.satisfied_threshold``. Intervals are Wilson
95% intervals; p-chart limits are three binomial standard errors around the pooled rate of the
months shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics.core import formatting, i18n, stats
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.months import month_end, month_label, parse_month, shift_month
from analytics.domain import kpi
from analytics.store import db, derived

Z95 = 1.959963984540054
DIMENSIONS: tuple[str, ...] = ("attitude", "quality", "timeliness", "price", "environment")
BREAKDOWN_BY: tuple[str, ...] = ("advisor", "service_type", "model", "store")
# Month-on-month tests (analytics/core/stats.py), one for every KPI: rates use a two-proportion z-test,
# lost and at-risk customers the same test on their share of the active base, event counts a
# Poisson test, revenue a compound Poisson test (each bill an event), NPS its own variance.
CHANGE_KINDS: dict[str, str] = {
    **{name: "rate" for name in sorted(kpi.RATE_KPIS)},
    "lost": "rate",
    "at_risk": "rate",
    "visits": "count",
    "complaints": "count",
    "revenue": "amount",
    "nps": "nps",
}

# Texts come from the one catalogue (data/i18n.toml): service_type.* and change.*.
SERVICE_TYPE_LABELS: dict[str, dict[str | None, str]] = {
    lang: {
        **{code: i18n.text(f"service_type.{code}", lang) for code in db.SERVICE_TYPES},
        None: i18n.text("service_type.none", lang),
    }
    for lang in i18n.LANGUAGES
}
_CHANGE_TEXT: dict[str, dict[str, str]] = {
    lang: {
        key: i18n.text(f"change.{key}", lang)
        for key in ("kpi_fell", "kpi_rose", "segment_fell", "segment_rose", "no_advisor")
    }
    for lang in i18n.LANGUAGES
}
_SOURCE_TEXT: dict[str, dict[str, str]] = {
    lang: {
        key: i18n.text(f"why.{key}", lang)
        for key in (
            *(f"source_{way}{kind}" for way in ("rose", "fell") for kind in ("", "_part", "_tied")),
            *BREAKDOWN_BY,
        )
    }
    for lang in i18n.LANGUAGES
}


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Return the Wilson score interval ``(low, high)`` for ``successes`` out of ``n`` (None, None when n is 0)."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _with_wilson(frame: pd.DataFrame, x: str = "satisfied", n: str = "n") -> pd.DataFrame:
    bounds = [wilson_interval(int(a), int(b)) for a, b in zip(frame[x], frame[n], strict=True)]
    rate = [int(a) / int(b) if int(b) else None for a, b in zip(frame[x], frame[n], strict=True)]
    return frame.assign(
        rate=pd.Series(rate, index=frame.index, dtype="float64"),
        wilson_low=pd.Series([b[0] for b in bounds], index=frame.index, dtype="float64"),
        wilson_high=pd.Series([b[1] for b in bounds], index=frame.index, dtype="float64"),
    )


def _month_range(
    con: duckdb.DuckDBPyConnection, start: str | date | None, end: str | date | None
) -> tuple[date, date] | None:
    """Return the first days of the first and last month, defaulting to the callbacks' date range."""
    if start is None or end is None:
        row = con.execute("SELECT min(callback_date), max(callback_date) FROM callbacks").fetchone()
        if not row or row[0] is None:
            return None
        start = start if start is not None else row[0].date()
        end = end if end is not None else row[1].date()
    first, last = parse_month(start), parse_month(end)
    if last < first:
        raise UserError("The period ends before it starts; pick an end month after the start month.")
    return first, last


def _months(first: date, last: date) -> list[date]:
    out = []
    month = first
    while month <= last:
        out.append(month)
        month = shift_month(month, 1)
    return out


def p_chart(successes: pd.Series, n: pd.Series) -> pd.DataFrame:
    """Return per row (month) the p-chart centre (pooled rate), three-sigma lcl/ucl and ``signal``
    (the row's rate outside its limits); rows without n have no limits and no signal."""
    total = int(n.sum())
    centre = successes.sum() / total if total else np.nan
    valid = n.where(n > 0)
    sigma = np.sqrt(centre * (1 - centre) / valid)
    rate = successes / valid
    lcl = (centre - 3 * sigma).clip(lower=0.0)
    ucl = (centre + 3 * sigma).clip(upper=1.0)
    return pd.DataFrame(
        {"centre": centre, "lcl": lcl, "ucl": ucl, "signal": (rate < lcl) | (rate > ucl)}, index=n.index
    )


# The columns of ``monthly_satisfaction``, one row per month.
MONTHLY_COLUMNS: tuple[str, ...] = (
    "month", "n", "satisfied", "rate", "wilson_low", "wilson_high", "centre", "lcl", "ucl", "signal",
    "nps_n", "promoters", "detractors", "nps", "nps_low", "nps_high",
)  # fmt: skip


def monthly_satisfaction(
    con: duckdb.DuckDBPyConnection,
    stores: list[str] | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
) -> pd.DataFrame:
    """Return one row per month: n, satisfied, rate, Wilson 95% bounds, p-chart centre/lcl/ucl and signal,
    and NPS with its n and approximate 95% bounds.

    The p-chart centre is the pooled rate of the months returned; ``signal`` marks a month outside
    its three-sigma limits. The NPS bounds are normal-approximation (Wald) bounds from the
    multinomial variance, so they have zero width when every answer is a promoter.
    """
    columns = list(MONTHLY_COLUMNS)
    span = _month_range(con, start, end)
    if span is None:
        return pd.DataFrame(columns=columns)
    counts = derived.run(con, "monthly_callback_kpis", {**kpi.sql_params(stores), "months": _months(*span)})
    frame = pd.DataFrame(
        {
            "month": [month_label(pd.Timestamp(m).date()) for m in counts["month"]],
            "n": counts["scored"].astype(int),
            "satisfied": counts["satisfied"].astype(int),
            "nps_n": counts["recommend_n"].astype(int),
            "promoters": counts["promoters"].astype(int),
            "detractors": counts["detractors"].astype(int),
        }
    )
    frame = _with_wilson(frame)
    limits = p_chart(frame["satisfied"], frame["n"])
    for column in ("centre", "lcl", "ucl", "signal"):
        frame[column] = limits[column]
    share_p = frame["promoters"] / frame["nps_n"].where(frame["nps_n"] > 0)
    share_d = frame["detractors"] / frame["nps_n"].where(frame["nps_n"] > 0)
    half = Z95 * np.sqrt(
        (share_p + share_d - (share_p - share_d) ** 2) / frame["nps_n"].where(frame["nps_n"] > 0)
    )
    frame["nps"] = 100 * (share_p - share_d)
    frame["nps_low"] = (100 * (share_p - share_d - half)).clip(lower=-100.0)
    frame["nps_high"] = (100 * (share_p - share_d + half)).clip(upper=100.0)
    return frame[columns]


def _period_params(stores: list[str] | None, first: date, last: date) -> dict[str, Any]:
    return {**kpi.sql_params(stores), "start": first, "end": month_end(last)}


def dimension_scores(
    con: duckdb.DuckDBPyConnection,
    stores: list[str] | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
) -> pd.DataFrame:
    """Return one row per (month, dimension): mean score (0-10) and the n it is computed on."""
    span = _month_range(con, start, end)
    if span is None:
        return pd.DataFrame(columns=["month", "dimension", "mean", "n"])
    frame = derived.run(con, "monthly_dimension_scores", _period_params(stores, *span))
    return frame.assign(
        month=[month_label(pd.Timestamp(m).date()) for m in frame["month"]], n=frame["n"].astype(int)
    ).reset_index(drop=True)


def responses(
    con: duckdb.DuckDBPyConnection,
    stores: list[str] | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
) -> pd.DataFrame:
    """Return one row per reached survey callback in the months from ``start`` to ``end``, with scores."""
    span = _month_range(con, start, end)
    if span is None:
        span = (date.today().replace(day=1), date.today().replace(day=1))
    return derived.run(con, "survey_responses", _period_params(stores, *span))


def dimension_drivers(
    con: duckdb.DuckDBPyConnection,
    stores: list[str] | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
) -> pd.DataFrame:
    """Return one row per (method, dimension) saying how strongly a low score goes with dissatisfaction.

    ``relative_risk``: among responses with an overall and that dimension's score, the share
    unsatisfied when the dimension is low (<= ``kpi.dimension_low_score``) divided by the share
    unsatisfied otherwise; ``effect`` is that ratio (None when a group is empty or the low group is never
    unsatisfied; with half a case added to each count when only the other group is never unsatisfied). ``logistic``: an L2-regularised logistic regression (C=1) of "unsatisfied" on
    the five standardised scores, on responses with all five; ``coefficient`` is per standard
    deviation and ``effect`` is the odds ratio for a one-SD lower score, exp(-coefficient);
    fitted only when both outcomes occur. ``rank`` 1 is the strongest driver within a method.
    """
    low = settings().kpi.dimension_low_score
    threshold = settings().kpi.satisfied_threshold
    data = responses(con, stores, start, end)
    data = data[data["overall_score"].notna()]
    unsat = data["overall_score"] < threshold
    rows: list[dict[str, Any]] = []
    for dim in DIMENSIONS:
        score = data[f"{dim}_score"]
        has = score.notna()
        is_low = has & (score <= low)
        other = has & ~is_low
        n_low, n_other = int(is_low.sum()), int(other.sum())
        u_low, u_other = int((is_low & unsat).sum()), int((other & unsat).sum())
        rate_low = u_low / n_low if n_low else None
        rate_other = u_other / n_other if n_other else None
        effect = rate_low / rate_other if rate_low is not None and rate_other else None
        if effect is None and u_low and n_other:
            # Every unsatisfied answer scored it low (none of the others is unsatisfied): the strongest
            # driver there is, not an unranked one (truth probe 13: price in all nine unsatisfied answers
            # left out, timeliness at 2.0x named first). Ranked by the usual estimate that adds half a
            # case to each count (Haldane-Anscombe), finite as a chart and a sentence need.
            effect = ((u_low + 0.5) / (n_low + 1)) / ((u_other + 0.5) / (n_other + 1))
        rows.append(
            {
                "method": "relative_risk",
                "dimension": dim,
                "n": int(has.sum()),
                "n_low": n_low,
                "unsatisfied_low": u_low,
                "rate_low": rate_low,
                "n_other": n_other,
                "unsatisfied_other": u_other,
                "rate_other": rate_other,
                "coefficient": None,
                "effect": effect,
            }
        )
    complete = data.dropna(subset=[f"{d}_score" for d in DIMENSIONS])
    target = complete["overall_score"] < threshold
    if target.nunique() == 2:
        # scikit-learn takes seconds to import and only this function needs it.
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        x = StandardScaler().fit_transform(complete[[f"{d}_score" for d in DIMENSIONS]].to_numpy(float))
        model = LogisticRegression(C=1.0).fit(x, target.to_numpy())
        for dim, coef in zip(DIMENSIONS, model.coef_[0], strict=True):
            rows.append(
                {
                    "method": "logistic",
                    "dimension": dim,
                    "n": len(complete),
                    "coefficient": float(coef),
                    "effect": math.exp(-float(coef)),
                }
            )
    frame = pd.DataFrame(rows).astype({"effect": "float64", "coefficient": "float64"})
    frame["rank"] = frame.groupby("method")["effect"].rank(ascending=False, method="min").astype("Int64")
    return frame


def driver_window(month: str | date) -> tuple[str, str]:
    """Return the months (``YYYY-MM``, first and last) the dissatisfaction drivers are computed over for
    ``month``: the ``deck.driver_months`` months ending with it, on the satisfaction page and in the deck
    alike (one month of a single store holds too few unsatisfied answers to rank five dimensions)."""
    last = parse_month(month)
    first = shift_month(last, -(settings().deck.driver_months - 1))
    return month_label(first), month_label(last)


def breakdown(
    con: duckdb.DuckDBPyConnection,
    by: str,
    period: str | date | tuple[str | date, str | date],
    stores: list[str] | None = None,
    small_n: int | None = None,
) -> pd.DataFrame:
    """Return one row per segment (advisor, service_type, model or store) over the period: n, satisfied,
    rate, Wilson bounds, ``small`` (n < small_n) and ``rank`` (1 = highest rate, among non-small rows
    with a segment); ranked rows first, then the unnamed segment, then the small ones."""
    if by not in BREAKDOWN_BY:
        raise UserError(f"Cannot break satisfaction down by '{by}'; choose one of {', '.join(BREAKDOWN_BY)}.")
    start, end = period if isinstance(period, tuple) else (period, period)
    span = _month_range(con, start, end)
    assert span is not None
    limit = settings().display.small_n if small_n is None else small_n
    frame = derived.run(con, "satisfaction_by_segment", {**_period_params(stores, *span), "by": by})
    frame = _with_wilson(frame.astype({"n": int, "satisfied": int}))
    frame["small"] = frame["n"] < limit
    # Responses with no segment (delivery calls have no advisor, service type or store) are shown
    # but not ranked: "no advisor" is not an advisor to compare with the others.
    ranked = frame["rate"].where(~frame["small"] & frame["segment"].notna())
    frame["rank"] = ranked.rank(ascending=False, method="min").astype("Int64")
    frame = frame.sort_values(["small", "rank", "n"], ascending=[True, True, False], na_position="last")
    return frame.reset_index(drop=True)


def _reference_time(as_of: date | datetime | None) -> datetime:
    """Return the moment a list is computed at: a date means the end of that day."""
    if as_of is None:
        return datetime.now().replace(microsecond=0)
    if isinstance(as_of, datetime):
        return as_of
    return datetime.combine(as_of + timedelta(days=1), time())


def followup_list(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    stores: list[str] | None = None,
    as_of: date | datetime | None = None,
) -> pd.DataFrame:
    """Return one row per callback dated ``start``..``end`` that needs a follow-up, newest first.

    A callback needs one when it is a survey call (``kpi.survey_callback_types``) that reached the
    customer with an overall score below the threshold (an answer the satisfaction rate counts as
    unsatisfied), or when it is a complaint. It is ``followed_up`` when a reached callback on the
    same vehicle or the same order follows within ``kpi.followup_days`` days, or the complaint
    is resolved, counting only what is known at ``as_of`` (a date means the end of that day;
    None means now). ``hours_since`` and ``days_since`` are measured at that moment.
    """
    params = {**kpi.sql_params(stores), "start": start, "end": end, "as_of": _reference_time(as_of)}
    frame = derived.run(con, "unsatisfied_callbacks", params)
    return frame.reset_index(drop=True)


def red_flags(
    con: duckdb.DuckDBPyConnection,
    as_of: date | datetime,
    stores: list[str] | None = None,
    since: date | None = None,
) -> pd.DataFrame:
    """Return the follow-up rows that need attention now, with a ``flag`` column.

    ``no_followup``: callbacks from ``since`` (default: the last ``kpi.red_flag_unsatisfied_days``
    days) to ``as_of``'s day that need a follow-up and have none at ``as_of``. ``complaint_overdue``: complaints of the
    last ``kpi.red_flag_complaint_lookback_days`` days still unresolved at ``as_of`` and older
    than their level's limit; ``hours_overdue`` says by how much.
    """
    cfg = settings().kpi
    ref = _reference_time(as_of)
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    start = since if since is not None else day - timedelta(days=cfg.red_flag_unsatisfied_days - 1)
    lookback = day - timedelta(days=cfg.red_flag_complaint_lookback_days)
    # A callback's row does not depend on the span asked for: one list over both spans, split.
    both = followup_list(con, min(start, lookback), day, stores, ref)
    days = pd.to_datetime(both["callback_date"]).dt.date
    recent = both[(days >= start) & ~both["followed_up"]].assign(flag="no_followup")
    older = both[days >= lookback]
    overdue = older[
        older["is_complaint"] & older["resolved_at"].isna() & (older["hours_since"] > older["limit_hours"])
    ]
    overdue = overdue.assign(
        flag="complaint_overdue", hours_overdue=overdue["hours_since"] - overdue["limit_hours"]
    )
    frame = pd.concat([recent, overdue], ignore_index=True)
    if "hours_overdue" not in frame:
        frame["hours_overdue"] = pd.Series(dtype="float64")
    return frame[["flag", *[c for c in frame.columns if c != "flag"]]]


def _nps_variance(promoters: int, detractors: int, n: int) -> float:
    p, q = promoters / n, detractors / n
    return (p + q - (p - q) ** 2) / n


def _satisfaction_segment(
    con: duckdb.DuckDBPyConnection, before: date, after: date, stores: list[str] | None
) -> dict[str, Any] | None:
    """Return the advisor × service type contributing most to the satisfaction change from ``before`` to ``after``.

    The change in the rate splits exactly over segments: each contributes minus the change in
    its unsatisfied responses as a share of all responses of the month,
    -(u_after / N_after - u_before / N_before).
    """
    seg = derived.run(con, "satisfaction_segments", _period_params(stores, before, after))
    month = pd.Series([pd.Timestamp(m).date() for m in seg["month"]], index=seg.index)
    is_after, is_before = month == after, month == before
    seg = seg.assign(
        n_after=seg["n"].where(is_after, 0),
        n_before=seg["n"].where(is_before, 0),
        sat_after=seg["satisfied"].where(is_after, 0),
        sat_before=seg["satisfied"].where(is_before, 0),
    )
    # dropna=False keeps the delivery calls (no advisor, no service type) as a segment of their own.
    wide = (
        seg.groupby(["advisor", "service_type"], dropna=False)[
            ["n_after", "n_before", "sat_after", "sat_before"]
        ]
        .sum()
        .reset_index()
    )
    total_after, total_before = int(wide["n_after"].sum()), int(wide["n_before"].sum())
    if not total_after or not total_before:
        return None
    segments = []
    for row in wide.to_dict("records"):
        unsat_after, unsat_before = row["n_after"] - row["sat_after"], row["n_before"] - row["sat_before"]
        segments.append({**row, "contribution": -(unsat_after / total_after - unsat_before / total_before)})
    delta = sum(s["contribution"] for s in segments)
    if delta == 0:
        return None
    sign = -1 if delta < 0 else 1
    pick = max(segments, key=lambda s: sign * s["contribution"])
    n_before, n_after = int(pick["n_before"]), int(pick["n_after"])
    return {
        "advisor": None if pd.isna(pick["advisor"]) else pick["advisor"],
        "service_type": None if pd.isna(pick["service_type"]) else pick["service_type"],
        "n_before": n_before,
        "n_after": n_after,
        "rate_before": int(pick["sat_before"]) / n_before if n_before else None,
        "rate_after": int(pick["sat_after"]) / n_after if n_after else None,
        "contribution": float(pick["contribution"]),
        "share": float(pick["contribution"] / delta),
    }


def what_changed(
    con: duckdb.DuckDBPyConnection,
    month: str | date,
    stores: list[str] | None = None,
    counts: Mapping[date, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Return every KPI movement from the previous month to ``month`` larger than its noise, largest |z| first.

    Each item: ``kpi``, ``kind`` (rate, count, amount, nps), ``key`` (``kpi_fell`` or ``kpi_rose``),
    ``params`` (before, after, n_before, n_after, z) and, for satisfaction, ``segment``: the advisor ×
    service type contributing most to the change. Tests: ``CHANGE_KINDS``; listed when
    |z| > ``kpi.change_z``. A KPI not ``ok`` in either month (provisional, or too little history)
    is left out.
    ``counts`` may pass ``kpi.counts_by_month`` already computed for the same stores.
    """
    cfg = settings().kpi
    after = parse_month(month)
    before = shift_month(after, -1)
    counts = kpi.ensure_counts(con, [before, after], stores, counts)
    now, prev = kpi.kpis_from_counts(counts[after]), kpi.kpis_from_counts(counts[before])
    items: list[dict[str, Any]] = []
    for name, kind in CHANGE_KINDS.items():
        a, b = now[name], prev[name]
        if a["value"] is None or b["value"] is None or a["status"] != "ok" or b["status"] != "ok":
            continue
        if kind == "rate":
            z = stats.two_proportion_z(a["num"], a["den"], b["num"], b["den"])
        elif kind == "count":
            z = stats.poisson_z(a["num"], b["num"])
        elif kind == "amount":
            z = stats.compound_poisson_z(
                float(a["value"]),
                float(counts[after]["revenue_squares"] or 0.0),
                float(b["value"]),
                float(counts[before]["revenue_squares"] or 0.0),
            )
        else:
            row_a, row_b = counts[after], counts[before]
            var = _nps_variance(int(row_a["promoters"]), int(row_a["detractors"]), a["n"]) + _nps_variance(
                int(row_b["promoters"]), int(row_b["detractors"]), b["n"]
            )
            z = (a["value"] - b["value"]) / 100 / math.sqrt(var) if var else None
        if z is None or abs(z) <= cfg.change_z:
            continue
        item: dict[str, Any] = {
            "kpi": name,
            "kind": kind,
            "key": "kpi_rose" if z > 0 else "kpi_fell",
            "params": {
                "before": b["value"],
                "after": a["value"],
                "n_before": b["n"],
                "n_after": a["n"],
                "z": z,
            },
            "segment": None,
        }
        if name == "satisfaction_rate":
            item["segment"] = _satisfaction_segment(con, before, after, stores)
        items.append(item)
    items.sort(key=lambda it: -abs(it["params"]["z"]))
    return items


def describe_change(item: dict[str, Any], lang: str = "en") -> str:
    """Return one ``what_changed`` item as a sentence in ``lang`` (``en`` or ``zh``)."""
    text = _CHANGE_TEXT[lang]
    name, params = item["kpi"], item["params"]
    sentence = text[item["key"]].format(
        label=kpi.KPI_LABELS[lang][name],
        before=formatting.format_value(name, params["before"]),
        after=formatting.format_value(name, params["after"]),
        n_after=f"{params['n_after']:,}",
    )
    segment = item.get("segment")
    source = (item.get("source") or {}).get(lang)
    if source:
        # "Mostly" only when the segment carries most of the change; segments that carry equal parts
        # are named together (truth probe 13: two advisors at 50% each, one named per KPI at random).
        tied = list(source.get("tied") or [])
        key = "source_" + ("rose" if item["key"] == "kpi_rose" else "fell")
        label = str(source["label"])
        if len(tied) > 1:
            key += "_tied"
            if lang == "zh":
                label = "、".join(f"“{t}”" for t in tied)
            else:
                label = f"{', '.join(map(str, tied[:-1]))} and {tied[-1]}"
        elif source["share"] < 0.5:
            key += "_part"
        sentence += _SOURCE_TEXT[lang][key].format(
            by=_SOURCE_TEXT[lang][source["by"]], label=label, share=f"{source['share']:.0%}"
        )
    elif segment:
        sentence += text["segment_rose" if item["key"] == "kpi_rose" else "segment_fell"].format(
            service=SERVICE_TYPE_LABELS[lang].get(segment["service_type"], segment["service_type"]),
            advisor=segment["advisor"] or text["no_advisor"],
        )
    return sentence + ("。" if lang == "zh" else ".")


# Page views: small pure helpers that turn the frames above into the figures a caption states, so
# pages stay free of pandas. Each takes a frame the functions above return.

FOLLOWUP_COLUMNS: tuple[str, ...] = (
    "callback_date", "model", "vin", "plate", "customer_name", "phone", "advisor", "service_type",
    "overall_score", "recommend_score", "attitude_score", "quality_score", "timeliness_score",
    "price_score", "environment_score", "comment", "is_complaint", "complaint_category",
    "complaint_level", "days_since_callback", "followed_up", "callback_id",
)  # fmt: skip


def _finite(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


@dataclass(frozen=True, slots=True)
class SatisfactionMonth:
    """One month of the satisfaction trend: the rate of satisfied answers with its Wilson 95% bounds and
    the p-chart's centre and three-sigma limits, and NPS with its 95% bounds (None: no answer)."""

    month: str  # YYYY-MM
    n: int  # scored answers
    satisfied: int
    rate: float | None
    wilson_low: float | None
    wilson_high: float | None
    centre: float | None  # the pooled rate of the window's months
    lcl: float | None
    ucl: float | None
    signal: bool  # the rate lies outside its limits
    nps_n: int
    promoters: int
    detractors: int
    nps: float | None
    nps_low: float | None
    nps_high: float | None

    @property
    def position(self) -> str:
        """Where the rate lies against its control limits: ``below``, ``inside`` or ``above``."""
        if self.rate is not None and self.lcl is not None and self.rate < self.lcl:
            return "below"
        if self.rate is not None and self.ucl is not None and self.rate > self.ucl:
            return "above"
        return "inside"


@dataclass(frozen=True, slots=True)
class SatisfactionSeries:
    """The satisfaction trend over a window of months, oldest first."""

    months: tuple[SatisfactionMonth, ...]

    def at(self, month: str) -> SatisfactionMonth | None:
        """Return ``month`` when it has scored answers, else None."""
        found = next((m for m in self.months if m.month == month), None)
        return found if found is not None and found.n else None

    def before(self, month: str) -> SatisfactionMonth | None:
        """Return the last month of the window before ``month`` (None when there is none)."""
        earlier = [m for m in self.months if m.month < month]
        return earlier[-1] if earlier else None

    @property
    def scored(self) -> list[str]:
        """The months of the window with scored answers (one alone has no limits to be judged by)."""
        return [m.month for m in self.months if m.n]

    @property
    def signals(self) -> list[str]:
        """The months whose rate lies outside their control limits."""
        return [m.month for m in self.months if m.signal]

    def frame(self) -> pd.DataFrame:
        """Return the series as ``monthly_satisfaction``'s frame (the charts' data)."""
        if not self.months:
            return pd.DataFrame(columns=list(MONTHLY_COLUMNS))
        names = [f.name for f in fields(SatisfactionMonth)]
        columns: dict[str, Any] = {name: [getattr(m, name) for m in self.months] for name in names}
        for name, values in columns.items():
            if name in ("n", "satisfied", "nps_n", "promoters", "detractors"):
                columns[name] = pd.Series(values, dtype="int64")
            elif name == "signal":
                columns[name] = pd.Series(values, dtype=bool)
            elif name != "month":
                columns[name] = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
        return pd.DataFrame(columns)[list(MONTHLY_COLUMNS)]


def series_of(monthly: pd.DataFrame) -> SatisfactionSeries:
    """Return ``monthly_satisfaction``'s frame as a typed series."""
    return SatisfactionSeries(
        tuple(
            SatisfactionMonth(
                month=str(row["month"]),
                n=int(row["n"]),
                satisfied=int(row["satisfied"]),
                rate=_finite(row["rate"]),
                wilson_low=_finite(row["wilson_low"]),
                wilson_high=_finite(row["wilson_high"]),
                centre=_finite(row["centre"]),
                lcl=_finite(row["lcl"]),
                ucl=_finite(row["ucl"]),
                signal=bool(row["signal"]) if not pd.isna(row["signal"]) else False,
                nps_n=int(row["nps_n"]),
                promoters=int(row["promoters"]),
                detractors=int(row["detractors"]),
                nps=_finite(row["nps"]),
                nps_low=_finite(row["nps_low"]),
                nps_high=_finite(row["nps_high"]),
            )
            for row in monthly.to_dict("records")
        )
    )


def satisfaction_series(
    con: duckdb.DuckDBPyConnection,
    stores: list[str] | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
) -> SatisfactionSeries:
    """Return ``monthly_satisfaction`` as a typed series (the satisfaction page's trend, the deck's slide)."""
    return series_of(monthly_satisfaction(con, stores, start, end))


def dimension_summary(scores: pd.DataFrame, month: str) -> dict[str, Any] | None:
    """Return ``month``'s lowest and highest mean dimension score (with their n) from ``dimension_scores``,
    and ``single``: only one dimension was scored (a month of delivery calls, which rate the attitude
    alone), so there is nothing to compare; None when the month has no dimension score."""
    rows = scores[(scores["month"] == month) & (scores["n"] > 0)]
    if rows.empty:
        return None
    ordered = rows.sort_values(["mean", "dimension"], kind="stable")
    low, high = ordered.iloc[0], ordered.iloc[-1]
    return {
        "lowest": str(low["dimension"]),
        "lowest_mean": float(low["mean"]),
        "lowest_n": int(low["n"]),
        "highest": str(high["dimension"]),
        "highest_mean": float(high["mean"]),
        "highest_n": int(high["n"]),
        "single": len(rows) == 1,
    }


def shown_driver_window(month: str | date, months: Sequence[str]) -> tuple[str, str, int]:
    """Return the drivers' window of ``month`` as a page or deck states it: its first month no earlier
    than the data's first month (``months``: the months with data), its last month, and how many
    months that is. The read itself keeps ``driver_window``'s months (nothing is before the data)."""
    first, last = driver_window(month)
    if months:
        first = max(first, min(months))
    count = (
        (parse_month(last).year - parse_month(first).year) * 12
        + parse_month(last).month
        - parse_month(first).month
        + 1
    )
    return first, last, max(count, 1)


def top_driver(drivers: pd.DataFrame) -> dict[str, Any] | None:
    """Return the dimension ranked first by relative risk, its rates and n, ``tied``: the other dimensions
    ranked first with it (the same relative risk, in ``DIMENSIONS`` order), and the logistic regression's
    first dimension with its odds ratio and n (None when not fitted); None when nothing is ranked."""
    rr = drivers[(drivers["method"] == "relative_risk") & (drivers["rank"] == 1)]
    if rr.empty:
        return None
    first = rr.iloc[0]
    tied = [str(d) for d in rr["dimension"].iloc[1:]]
    logit = drivers[(drivers["method"] == "logistic") & (drivers["rank"] == 1)]
    return {
        "dimension": str(first["dimension"]),
        "effect": float(first["effect"]),
        "rate_low": float(first["rate_low"]),
        "rate_other": float(first["rate_other"]),
        "n": int(first["n"]),
        "n_low": int(first["n_low"]),
        "tied": tied,
        "logistic_dimension": None if logit.empty else str(logit.iloc[0]["dimension"]),
        "logistic_effect": None if logit.empty else float(logit.iloc[0]["effect"]),
        "logistic_n": None if logit.empty else int(logit.iloc[0]["n"]),
    }


def breakdown_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Return the overall rate and n of a ``breakdown``, its best and worst ranked segments (dicts of
    their row, or None), the number of small segments, and whether the worst segment's interval lies
    wholly below the overall rate."""
    total = int(frame["n"].sum())
    overall = int(frame["satisfied"].sum()) / total if total else None
    ranked = frame[frame["rank"].notna()].sort_values(["rate", "n"], ascending=[False, False], kind="stable")
    best = ranked.iloc[0].to_dict() if len(ranked) else None
    worst = ranked.iloc[-1].to_dict() if len(ranked) > 1 else None
    return {
        "overall": overall,
        "n": total,
        "segments": len(frame),
        "best": best,
        "worst": worst,
        "n_small": int(frame["small"].sum()),
        "worst_below": bool(worst is not None and overall is not None and worst["wilson_high"] < overall),
    }


# What a segment with no value is: a callback without a work order (a new-car delivery call), one
# whose work order is not imported, or one whose work order left the field blank. Named for what it
# lacks, not as delivery calls only (a 3DC call on an order not imported is one too).
_NO_SEGMENT: dict[str, dict[str, str]] = {
    "en": {
        "advisor": "no advisor",
        "service_type": "no service type",
        "model": "no model",
        "store": "no store",
    },
    "zh": {"advisor": "无顾问", "service_type": "无维修类型", "model": "无车型", "store": "无门店"},
}
_NO_SEGMENT_WHY: dict[str, str] = {
    "en": " (delivery calls, work order not imported or left blank)",
    "zh": "（交车回访、工单未导入或未填写）",
}


def segment_label(by: str, value: Any, lang: str = "en") -> str:
    """Return a breakdown segment's name as shown: service types in words, a missing value as what it is."""
    if value is None or pd.isna(value):
        return _NO_SEGMENT[lang][by] + _NO_SEGMENT_WHY[lang]
    if by == "service_type":
        return SERVICE_TYPE_LABELS[lang].get(str(value), str(value))
    return str(value)


def breakdown_table(frame: pd.DataFrame, by: str, lang: str = "en") -> pd.DataFrame:
    """Return a ``breakdown`` ready to draw: ``label`` (the segment's name in ``lang``) and ``position``
    against the overall rate: ``below`` or ``above`` when the segment's Wilson interval excludes it,
    ``inside`` when it does not, ``small`` when the segment is too small to rank."""
    total = int(frame["n"].sum())
    overall = int(frame["satisfied"].sum()) / total if total else math.nan
    position = [
        "small" if small else "below" if high < overall else "above" if low > overall else "inside"
        for small, low, high in zip(frame["small"], frame["wilson_low"], frame["wilson_high"], strict=True)
    ]
    table = frame.assign(
        label=[segment_label(by, v, lang) for v in frame["segment"]],
        position=pd.Series(position, index=frame.index, dtype="str"),
    )
    columns = ["rank", "label", "n", "satisfied", "rate", "wilson_low", "wilson_high", "small", "position"]
    return table[columns].reset_index(drop=True)


def filter_followups(
    frame: pd.DataFrame,
    *,
    open_only: bool = False,
    complaints_only: bool = False,
    advisors: list[str] | None = None,
) -> pd.DataFrame:
    """Return the rows of a ``followup_list`` not yet followed up (``open_only``), that are complaints
    (``complaints_only``) and handled by one of ``advisors`` (None or empty: any)."""
    keep = pd.Series(True, index=frame.index)
    if open_only:
        keep &= ~frame["followed_up"].astype(bool)
    if complaints_only:
        keep &= frame["is_complaint"].astype(bool)
    if advisors:
        keep &= frame["advisor"].isin(advisors)
    return frame[keep].reset_index(drop=True)


def followup_counts(frame: pd.DataFrame) -> dict[str, Any]:
    """Return how many rows a ``followup_list`` has, how many are not followed up, complaints, unsatisfied,
    and the advisors named in it (sorted)."""
    followed = frame["followed_up"].astype(bool)
    return {
        "n": len(frame),
        "open": int((~followed).sum()),
        "complaints": int(frame["is_complaint"].astype(bool).sum()),
        "unsatisfied": int(frame["unsatisfied"].astype(bool).sum()),
        "advisors": sorted(str(a) for a in frame["advisor"].dropna().unique()),
    }


def followup_table(frame: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Return a ``followup_list`` as the list a CS lead works from: ``FOLLOWUP_COLUMNS`` in order, service
    types named in ``lang``, time since the callback in days (one decimal)."""
    names = SERVICE_TYPE_LABELS[lang]
    table = frame.assign(
        # A callback without a service type has no work order: a new-car delivery call.
        service_type=[names.get(None if pd.isna(v) else v, v) for v in frame["service_type"]],
        days_since_callback=(frame["hours_since"] / 24).round(1),
    )
    return table[list(FOLLOWUP_COLUMNS)].reset_index(drop=True)
