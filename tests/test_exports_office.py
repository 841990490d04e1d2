"""Exports as Chinese Excel and PowerPoint open them, read from the files' bytes and XML rather
than through the library that wrote them: a CSV opened by double-click, an XLSX's styles and
sheet, a PPTX's runs, charts and theme."""

from __future__ import annotations

import csv
import io

import pandas as pd

from analytics.reports import export


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_digit_identifiers_reach_excel_as_text_and_numbers_as_numbers():
    """Excel reads an unguarded 13800000001 as a number (1.38E+10 in a default column),
    013912345678 as 13912345678 and an 18-digit ID rounded to 15 digits: ="..." keeps the text."""
    frame = pd.DataFrame(
        {
            "phone": ["13800000001", "013912345678"],
            "vin": ["00123456789012345", "LSVAA4180E2100001"],
            "order_id": ["000123", "WO-2026-0001"],
            "id_number": ["330102199001011234", "33010219900101123X"],
            "amount": [1.5, 20.0],
            "count": [3, 4],
        }
    )
    rows = _csv_rows(export.csv_bytes(frame))
    assert rows[1] == [
        '="13800000001"',
        '="00123456789012345"',
        '="000123"',
        '="330102199001011234"',
        "1.5",
        "3",
    ]
    assert rows[2] == [
        '="013912345678"',
        "LSVAA4180E2100001",
        "WO-2026-0001",
        "33010219900101123X",
        "20.0",
        "4",
    ]


def test_csv_keeps_the_time_of_day_and_writes_days_as_dates():
    frame = pd.DataFrame(
        {
            "callback_date": pd.to_datetime(["2026-10-02 09:30", None]),
            "last_visit": pd.to_datetime(["2025-09-30", "2026-01-05"]),
        }
    )
    rows = _csv_rows(export.csv_bytes(frame))
    assert rows[1:] == [["2026-10-02 09:30", "2025-09-30"], ["", "2026-01-05"]]
