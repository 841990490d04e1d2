"""How KPI values are written on tiles, in lists and in captions: the one formatter of
``analytics.core.formatting``, re-exported under the names the pages use."""

from __future__ import annotations

import re

from analytics.core.config import settings
from analytics.core.formatting import (
    LOWER_IS_BETTER,
    RATE_KPIS,
    format_delta,
    format_ratio,
    format_target,
    format_value,
)
from analytics.core.i18n import catalog
from ui.i18n import lang, t

RATES = RATE_KPIS
__all__ = [
    "LOWER_IS_BETTER",
    "RATES",
    "delta_style",
    "format_ratio",
    "kpi_delta",
    "kpi_value",
    "metric_params",
    "target_band",
]


def kpi_value(name: str, value: float | int | None) -> str:
    """Return the KPI value as shown everywhere: rates in %, NPS signed with one decimal, money in yuan."""
    return format_value(name, value)


def kpi_delta(name: str, value: float | int | None, other: float | int | None) -> str | None:
    """Return the change from ``other`` to ``value`` (points for rates), or None when unknown."""
    return format_delta(name, value, other, lang())


def delta_style(name: str, delta: str | None) -> dict[str, str]:
    """Return ``st.metric``'s ``delta_color`` and ``delta_arrow`` for a change as written: a change
    that reads as none ("+0", "+0.0 pp") is grey without an arrow (Streamlit drew it as a rise, in
    red for complaints); otherwise green for better, red for worse (lower is better for some KPIs)."""
    if delta is not None and not re.search(r"[1-9]", delta):
        return {"delta_color": "off", "delta_arrow": "off"}
    return {"delta_color": "inverse" if name in LOWER_IS_BETTER else "normal"}


def target_band(name: str, band: list[float] | None) -> str | None:
    """Return a target as text ("≥ 60%", "≥ 25%" for the band 25%-30%: every target is a floor), or None."""
    return format_target(name, band) if band else None


def metric_params() -> dict[str, int | str]:
    """Return the settings that KPI definitions mention (threshold and churn windows)."""
    cfg = settings()
    return {
        "threshold": f"{cfg.kpi.satisfied_threshold:g}",
        "base_days": cfg.churn.base_days,
        "lost_days": cfg.churn.lost_days,
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


def detail_words(value: object) -> str:
    """Return an audit entry's detail as a reader reads it ("file: 工单.csv; rows: 1,204; phones:
    no"), its names in the interface's language where the catalogue has them; it was raw JSON."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            shown = detail_words(item)
            parts.append(f"{detail_key(str(key))}: " + (f"({shown})" if isinstance(item, dict) else shown))
        return "; ".join(parts)
    if isinstance(value, list):
        return ", ".join(detail_words(v) for v in value)
    if isinstance(value, bool):
        return t("audit_detail.yes" if value else "audit_detail.no")
    if isinstance(value, int | float):
        return f"{value:,}"
    return "—" if value is None else str(value)


def detail_key(key: str) -> str:
    """Return an audit detail's name in the interface's language, or as recorded when unknown."""
    return t(f"audit_detail.{key}") if f"audit_detail.{key}" in catalog() else key
