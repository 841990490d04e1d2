"""Calendar months, the one helper every page, export and command uses: ``YYYY-MM`` labels,
first and last days, shifting by whole months."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from analytics.core.errors import UserError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str | date) -> date:
    """Return the first day of the month named ``YYYY-MM`` (or of the date's month)."""
    if isinstance(text, date):
        return text.replace(day=1)
    match = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UserError(f"'{text}' is not a month; write it as YYYY-MM, for example 2024-06.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def shift_month(month: date, months: int) -> date:
    """Return the first day of the month ``months`` after (negative: before) ``month``."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    """Return the last day of ``month``'s calendar month."""
    return shift_month(month.replace(day=1), 1) - timedelta(days=1)


def month_label(month: date) -> str:
    """Return ``YYYY-MM`` for a date."""
    return f"{month.year:04d}-{month.month:02d}"


def month_ends(months: Sequence[str]) -> list[date]:
    """Return the last day of each ``YYYY-MM`` month."""
    return [month_end(parse_month(month)) for month in months]


def month_end_on_or_before(day: date) -> date:
    """Return the last day of the month of ``day`` when ``day`` is that day, else of the month before."""
    following = day + timedelta(days=1)
    return day if following.month != day.month else day.replace(day=1) - timedelta(days=1)


def months_back(month: str, count: int) -> list[str]:
    """Return the ``YYYY-MM`` labels from ``count`` months before ``month`` up to it, oldest first."""
    last = parse_month(month)
    return [month_label(shift_month(last, -step)) for step in range(count, -1, -1)]
