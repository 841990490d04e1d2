"""A small hand-built dealership for the KPI tests; every expected number is worked out by hand.

Two stores, A and B. The report month is 2024-06 (D = 2024-06-30, D - 365 = 2023-07-01,
D - 730 = 2022-07-01); the previous month 2024-05 and 2023-06 give the comparisons. Each row
says in its comment which case it covers. Orders and callbacks are inserted directly into the
canonical tables (import_id 1), as an import would leave them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from analytics.store import db

# The canonical column order, plus the import that wrote each row.
ORDER_COLUMNS = (*db.SERVICE_COLUMNS, "import_id")
CALLBACK_COLUMNS = (*db.CALLBACK_COLUMNS, "import_id")

MODELS = {"V1": "轩逸", "V2": "轩逸", "V3": "轩逸", "V4": "天籁", "V5": "天籁", "V6": "奇骏"}


def _order(
    order_id: str,
    store: str,
    vin: str,
    visit: date,
    service_type: str,
    amount: float = 300.0,
    advisor: str | None = "王磊",
    appointment: bool | None = False,
    mileage: int | None = None,
    purchase: date | None = None,
) -> tuple[Any, ...]:
    number = sum(ord(ch) for ch in vin)
    return (
        order_id,
        store,
        vin,
        f"沪A{number:05d}",
        f"客户{vin}",
        f"1380000{number:04d}",
        MODELS.get(vin, "逍客"),
        purchase,
        visit,
        mileage,
        service_type,
        amount,
        advisor,
        appointment,
        1,
    )


def _callback(
    callback_id: str,
    order_id: str | None,
    vin: str | None,
    callback_type: str,
    at: datetime,
    reached: bool,
    overall: float | None = None,
    dims: tuple[float | None, ...] = (None, None, None, None, None),
    recommend: float | None = None,
    comment: str | None = None,
    complaint: bool = False,
    level: int | None = None,
    resolved: datetime | None = None,
) -> tuple[Any, ...]:
    return (
        callback_id,
        order_id,
        vin,
        None,  # customer_name: the fixture's callback files carry none, as most DMS exports
        None,  # phone
        None,  # store: a callback takes its order's (or, without one, the vehicle's)
        callback_type,
        at,
        "小刘",
        reached,
        overall,
        *dims,
        recommend,
        comment,
        complaint,
        "收费" if complaint else None,
        level,
        resolved,
        1,
    )


ALL_TEN = (10.0, 10.0, 10.0, 10.0, 10.0)


def orders() -> list[tuple[Any, ...]]:
    """Return the fixture's work orders."""
    rows = [
        # June 2024, the report month: five visits, three at A and two at B.
        _order("O1", "A", "V1", date(2024, 6, 3), "maintenance", 500.0, "王磊", True),
        _order("O2", "A", "V2", date(2024, 6, 10), "repair", 1200.0, "王磊", False),
        _order("O3", "A", "V3", date(2024, 6, 15), "maintenance", 800.0, "李娜", True),
        _order("O4", "B", "V4", date(2024, 6, 20), "repair", 2000.0, "王磊", False),
        _order("O5", "B", "V5", date(2024, 6, 28), "body_paint", 3000.5, "张伟", None),
        # V6 is delivered in June (7DC callbacks) and first serviced in September at B.
        _order(
            "O6", "B", "V6", date(2024, 9, 5), "first_maintenance", 0.0, "张伟", True, 4800, date(2024, 6, 1)
        ),
        # June 2023 (same month last year): one visit at A.
        _order("OP1", "A", "VP1", date(2023, 6, 15), "maintenance", 600.0, "王磊", True),
        # Lost / at-risk edges for D = 2024-06-30.
        _order("OL1", "A", "VL1", date(2023, 7, 1), "repair"),  # last visit D-365: lost
        _order("OL2", "A", "VL2", date(2023, 7, 2), "repair"),  # D-364: not lost; 364 > 1.5*180: at risk
        _order("OL3", "B", "VL3", date(2022, 7, 1), "repair"),  # D-730: outside the base
        _order("OL4", "B", "VL4", date(2022, 7, 2), "repair"),  # D-729: in the base, lost
        # Own rhythm: maintenance every 91 days (active) and every 61 days (at risk).
        _order("OR11", "A", "VR1", date(2023, 9, 1), "maintenance"),
        _order("OR12", "A", "VR1", date(2023, 12, 1), "maintenance"),
        _order("OR13", "A", "VR1", date(2024, 3, 1), "maintenance"),
        _order("OR21", "B", "VR2", date(2023, 8, 1), "maintenance"),
        _order("OR22", "B", "VR2", date(2023, 10, 1), "maintenance"),
        _order("OR23", "B", "VR2", date(2023, 12, 1), "maintenance"),
        # Schedule rhythm from km per day: 50 km/day (150-day interval) and 100 km/day (75 days).
        _order("OS11", "A", "VS1", date(2024, 1, 1), "maintenance", mileage=10000),
        _order("OS12", "A", "VS1", date(2024, 3, 1), "repair", mileage=13000),
        _order("OS21", "B", "VS2", date(2023, 11, 1), "repair", mileage=30400, purchase=date(2023, 1, 1)),
        # Due maintenance. VD1 due 2024-06-01, back on 2024-07-30 (last day of the window).
        _order("OD11", "A", "VD1", date(2023, 9, 5), "maintenance"),
        _order("OD12", "A", "VD1", date(2024, 7, 30), "maintenance"),
        # VD2 due 2024-05-31: May's list, never back.
        _order("OD21", "A", "VD2", date(2023, 9, 4), "maintenance"),
        # VD3: 50 km/day, due 150 days after 2024-01-15 = 2024-06-13, never back.
        _order("OD31", "B", "VD3", date(2024, 1, 15), "maintenance", mileage=20000),
        _order("OD32", "B", "VD3", date(2024, 3, 15), "repair", mileage=23000),
        # VD4: never maintained, bought 2024-01-01, 2000 km in 69 days: first maintenance due
        # after floor(5000 / (2000/69)) = 172 days = 2024-06-21; back at the other store on 2024-07-05.
        _order("OD41", "B", "VD4", date(2024, 3, 10), "repair", mileage=2000, purchase=date(2024, 1, 1)),
        _order("OD42", "A", "VD4", date(2024, 7, 5), "first_maintenance", mileage=5100),
        # VM05 would be due 2024-06-06 but came early, on 2024-05-05 (one of May's visits).
        _order("OM05a", "A", "VM05", date(2023, 9, 10), "maintenance"),
    ]
    # May 2024: twenty maintenance visits at A on May 1-20, the first ten booked.
    for i in range(1, 21):
        rows.append(
            _order(f"OM{i:02d}", "A", f"VM{i:02d}", date(2024, 5, i), "maintenance", 400.0, "王磊", i <= 10)
        )
    return rows


def callbacks() -> list[tuple[Any, ...]]:
    """Return the fixture's callback attempts."""
    rows = [
        # O1: 3DC the same day (0 days: covers), then a reached call without a score.
        _callback(
            "cb01", "O1", "V1", "3DC", datetime(2024, 6, 3, 17, 0), True, 10.0, ALL_TEN, 10.0, "服务很好"
        ),
        _callback("cb02", "O1", "V1", "3DC", datetime(2024, 6, 4, 9, 0), True),
        # O2: two 3DC attempts, unreached at 3 days (covers), reached at 4 days: 不满意 -> 4.
        _callback("cb03", "O2", "V2", "3DC", datetime(2024, 6, 13, 10, 0), False),
        _callback(
            "cb04",
            "O2",
            "V2",
            "3DC",
            datetime(2024, 6, 14, 11, 0),
            True,
            4.0,
            (8.0, 4.0, 8.0, 4.0, 8.0),
            3.0,
            "修了两次还没好",
        ),
        # O3: reached only at 4 days (does not cover): 满意 -> 8.
        _callback(
            "cb05", "O3", "V3", "3DC", datetime(2024, 6, 19, 15, 0), True, 8.0, (8.0, 8.0, 8.0, 6.0, 8.0), 9.0
        ),
        # O4: unreached at 1 day (covers), reached at 2 days, unsatisfied and a level-1 complaint
        # resolved after 23 h 59 min (timely).
        _callback("cb06", "O4", "V4", "3DC", datetime(2024, 6, 21, 10, 0), False),
        _callback(
            "cb07",
            "O4",
            "V4",
            "3DC",
            datetime(2024, 6, 22, 10, 0),
            True,
            6.0,
            (6.0, 8.0, 4.0, 6.0, 8.0),
            7.0,
            "等待时间太长",
            True,
            1,
            datetime(2024, 6, 23, 9, 59),
        ),
        # V6 delivery callbacks (7DC, no order): unreached, then reached.
        _callback("cb08", None, "V6", "7DC", datetime(2024, 6, 4, 10, 0), False),
        _callback(
            "cb09",
            None,
            "V6",
            "7DC",
            datetime(2024, 6, 5, 11, 0),
            True,
            10.0,
            (10.0, None, None, None, 10.0),
            10.0,
        ),
        # A follow-up call (type other) on O2: reached, not a survey.
        _callback("cb10", "O2", "V2", "other", datetime(2024, 6, 16, 9, 0), True, 9.0),
        # Complaints: level 1 resolved after 24 h 01 min (late).
        _callback(
            "cb11",
            "O2",
            "V2",
            "other",
            datetime(2024, 6, 11, 8, 0),
            True,
            None,
            complaint=True,
            level=1,
            resolved=datetime(2024, 6, 12, 8, 1),
        ),
        # Level 2, never resolved (not timely; past its limit).
        _callback("cb12", "O3", "V3", "other", datetime(2024, 6, 20, 9, 0), True, complaint=True, level=2),
        # Unknown level (48 h by default), resolved after 47 h (timely).
        _callback(
            "cb13",
            "O1",
            "V1",
            "other",
            datetime(2024, 6, 25, 12, 0),
            True,
            complaint=True,
            level=None,
            resolved=datetime(2024, 6, 27, 11, 0),
        ),
        # Level 3 resolved after exactly 72 h, in July (timely).
        _callback(
            "cb14",
            "O4",
            "V4",
            "other",
            datetime(2024, 6, 29, 10, 0),
            True,
            complaint=True,
            level=3,
            resolved=datetime(2024, 7, 2, 10, 0),
        ),
        # Level 4 (24 h) resolved after 25 h (late).
        _callback(
            "cb15",
            "O5",
            "V5",
            "other",
            datetime(2024, 6, 30, 8, 0),
            True,
            complaint=True,
            level=4,
            resolved=datetime(2024, 7, 1, 9, 0),
        ),
        # O5 (visit 2024-06-28): 3DC on 2024-07-01, 3 days later: covers June's visit, counts in July.
        _callback("cb16", "O5", "V5", "3DC", datetime(2024, 7, 1, 10, 0), True, 9.0, ALL_TEN, 10.0),
        # June 2023.
        _callback("cbP1", "OP1", "VP1", "3DC", datetime(2023, 6, 16, 10, 0), True, 10.0, ALL_TEN, 10.0),
        # VD5 is known only from its delivery callback: first maintenance due 180 days later, 2024-06-12.
        _callback("cbD5", None, "VD5", "7DC", datetime(2023, 12, 15, 10, 0), True, 10.0, ALL_TEN, 10.0),
    ]
    # May 2024: one reached 3DC the day after each visit; all satisfied except VM20.
    for i in range(1, 21):
        if i == 20:
            rows.append(
                _callback(
                    "cbM20",
                    "OM20",
                    "VM20",
                    "3DC",
                    datetime(2024, 5, 21, 10, 0),
                    True,
                    4.0,
                    (8.0, 4.0, 8.0, 8.0, 8.0),
                    10.0,
                )
            )
        else:
            rows.append(
                _callback(
                    f"cbM{i:02d}",
                    f"OM{i:02d}",
                    f"VM{i:02d}",
                    "3DC",
                    datetime(2024, 5, i + 1, 10, 0),
                    True,
                    10.0,
                    ALL_TEN,
                    10.0,
                )
            )
    return rows


def load(con: duckdb.DuckDBPyConnection) -> None:
    """Insert the fixture rows into an empty canonical schema."""
    con.executemany(
        f"INSERT INTO service_orders ({', '.join(ORDER_COLUMNS)}) VALUES ({', '.join('?' * len(ORDER_COLUMNS))})",  # noqa: S608
        orders(),
    )
    con.executemany(
        f"INSERT INTO callbacks ({', '.join(CALLBACK_COLUMNS)}) VALUES ({', '.join('?' * len(CALLBACK_COLUMNS))})",  # noqa: S608
        callbacks(),
    )
