"""How a KPI figure is written, everywhere: overview tiles, the satisfaction page, the deck, ``report``.

One format per figure, so the same number reads the same in every place: rates as percentages
with one decimal (``20.2%``), NPS signed with one decimal (``+64.8``), revenue in whole yuan
(``¥785,003``), counts grouped (``1,234``). Changes: rates in percentage points (``+1.2 pp``),
NPS in points (``+1.3``), counts and revenue with their relative change (``+89 (+4%)``).
Targets: ``≥ 60%`` (every target is a floor), ``100%``. A missing value is a dash.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from analytics.core import i18n

RATE_KPIS: frozenset[str] = frozenset(
    {
        "appointment_rate",
        "coverage_3dc",
        "reach_rate",
        "satisfaction_rate",
        "complaint_timeliness",
        "due_maintenance_return_rate",
    }
)
# KPIs where a rise is bad news (the delta arrow is coloured inversely).
LOWER_IS_BETTER: frozenset[str] = frozenset({"complaints", "lost", "at_risk"})
DASH = "—"


def missing(value: Any) -> bool:
    """Return whether ``value`` is absent: None or a float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _percent(share: float) -> str:
    """Return a share as a percentage with at most one decimal and no trailing zero (0.6 → 60%)."""
    return f"{share * 100:.1f}".rstrip("0").rstrip(".") + "%"


def format_value(name: str, value: float | int | None) -> str:
    """Return a KPI value as text: rates ``20.2%``, NPS ``+64.8``, revenue ``¥785,003``, counts ``1,234``."""
    if missing(value):
        return DASH
    assert value is not None
    if name in RATE_KPIS:
        return f"{value:.1%}"
    if name == "nps":
        return f"{value:+.1f}"
    if name == "revenue":
        return f"¥{value:,.0f}"
    return f"{value:,.0f}"


def format_delta(
    name: str, value: float | int | None, other: float | int | None, lang: str = "en"
) -> str | None:
    """Return the change from ``other`` to ``value`` (rates in percentage points, ``pp`` in English and
    ``个百分点`` in Chinese; NPS in points, counts with the relative change), or None when either is
    missing."""
    if missing(value) or missing(other):
        return None
    assert value is not None and other is not None
    diff = value - other
    # Rounded before the sign is written: a change that rounds to nothing is +0.0, never -0.0.
    if name in RATE_KPIS:
        return f"{round(diff * 100, 1) + 0.0:+.1f} {'个百分点' if lang == 'zh' else 'pp'}"
    if name == "nps":
        return f"{round(diff, 1) + 0.0:+.1f}"
    money = "¥" if name == "revenue" else ""
    sign = "-" if round(diff) < 0 else "+"
    text = f"{sign}{money}{abs(diff):,.0f}"
    return f"{text} ({round(diff / other, 2) + 0.0:+.0%})" if other else text


def format_ratio(value: float | None) -> str:
    """Return a ratio (relative risk, odds ratio) as ``8.1×``, or a dash."""
    return DASH if missing(value) else f"{value:.1f}×"


def format_target(name: str, band: Sequence[float] | None) -> str:
    """Return a target as text: ``≥ 60%`` (every target is judged as a floor, so a band such as the
    seeds' 25%-30% appointment norm reads ``≥ 25%``: session 45, it read "25%–30%" beside a 39.2%
    judged "met"), ``100%`` when the floor is the whole, a dash for none."""
    if not band:
        return DASH
    low, high = float(band[0]), float(band[1])
    if name in RATE_KPIS:
        return _percent(low) if low == high or low >= 1.0 else f"≥ {_percent(low)}"
    return format_value(name, low) if low == high else f"≥ {format_value(name, low)}"


def status_note(status: str | None, needs_from: str | None, lang: str) -> str | None:
    """Return the sentence that goes with a KPI's status in ``lang``: for ``insufficient_history``
    "needs data from DATE on", for ``provisional`` that the figure is not final, else None."""
    if status == "insufficient_history":
        return i18n.text("kpi_status.insufficient_history", lang, date=needs_from or DASH)
    if status == "provisional":
        return i18n.text("kpi_status.provisional", lang)
    return None


def target_gap(name: str, value: float | int | None, band: Sequence[float] | None) -> float | None:
    """Return how far ``value`` lies below its target floor as a share of the floor (0.66 = a third of
    the target reached), 0 when met, None without a value or target. Every DOMAIN.md target is a floor."""
    if missing(value) or not band:
        return None
    assert value is not None
    low = float(band[0])
    if value >= low:
        return 0.0
    return (low - float(value)) / low if low else None
