"""How KPI values are written on tiles, in lists and in captions."""

from __future__ import annotations

import math
import re

from analytics.config import settings

RATES = frozenset(
    {"appointment_rate", "coverage_3dc", "reach_rate", "satisfaction_rate", "complaint_timeliness",
     "due_maintenance_return_rate"}
)  # fmt: skip
# KPIs where a rise is bad news (the delta arrow is coloured inversely).
LOWER_IS_BETTER = frozenset({"complaints", "lost", "at_risk"})


def _missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def kpi_value(name: str, value: float | int | None) -> str:
    """Return the KPI value as shown on a tile: rates in %, NPS signed, money in yuan."""
    if _missing(value):
        return "—"
    assert value is not None
    if name in RATES:
        return f"{value:.1%}"
    if name == "nps":
        return f"{value:+.0f}"
    if name == "revenue":
        return f"¥{value:,.0f}"
    return f"{value:,.0f}"


def kpi_delta(name: str, value: float | int | None, other: float | int | None) -> str | None:
    """Return the change from ``other`` to ``value`` (points for rates), or None when unknown."""
    if _missing(value) or _missing(other):
        return None
    assert value is not None and other is not None
    diff = value - other
    if name in RATES:
        return f"{diff * 100:+.1f} pp"
    if name == "nps":
        return f"{diff:+.0f}"
    if other:
        return f"{diff:+,.0f} ({diff / other:+.0%})"
    return f"{diff:+,.0f}"


def target_band(name: str, band: list[float] | None) -> str | None:
    """Return a target band as text ("≥ 60%", "25%-30%"), or None."""
    if not band:
        return None
    low, high = band
    if name in RATES:
        if high >= 1.0:
            return f"≥ {low:.0%}" if low < 1.0 else "100%"
        return f"{low:.0%}-{high:.0%}"
    return f"{low:g}-{high:g}"


def metric_params() -> dict[str, int | float]:
    """Return the settings that KPI definitions mention (threshold and churn windows)."""
    cfg = settings()
    return {
        "threshold": cfg["kpi"]["satisfied_threshold"],
        "base_days": cfg["churn"]["base_days"],
        "lost_days": cfg["churn"]["lost_days"],
    }


# The characters that start Markdown (links and images, HTML, code, emphasis, strike-through,
# maths); with them escaped a bracket or parenthesis in data is only text. Line-start markers
# (headings, quotes, lists) and bare addresses (GFM autolinks) are handled separately.
_MARKDOWN_ACTIVE = frozenset("\\`*_[]<>~$")
_LINE_START = re.compile(r"^(\s*)(\d+)?([#>+=.)-])")
_AUTOLINK = re.compile(r"(?i)(://|(?<=www)\.|@)")


def plain(text: object) -> str:
    """Return data (a comment, a name, a file name) escaped so Markdown shows it as the text it is."""
    value = " ".join(str(text).splitlines())  # no new block (heading, list, quote) inside a line
    value = "".join("\\" + c if c in _MARKDOWN_ACTIVE else c for c in value)
    value = _LINE_START.sub(lambda m: m.group(1) + (m.group(2) or "") + "\\" + m.group(3), value)
    # https\://, www\., a\@b: no bare address becomes a link.
    return _AUTOLINK.sub(lambda m: "\\" + m.group(1), value)
