"""A small synthetic dealership with a planted churn mechanism, for the churn model tests.

Cars come back on their own rhythm; after each visit a callback is made; a car whose callback
was unsatisfied, or whose warranty has just ended, is much more likely to leave for good. The
rule "days since last visit" cannot see that, the model can.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from analytics.ingest import load

START = date(2023, 11, 1)
END = date(2026, 10, 31)


def build(con, n_vehicles: int = 500, seed: int = 1, end: date = END, start: date = START) -> dict[str, int]:
    """Insert synthetic work orders and callbacks; return the row counts."""
    rng = np.random.default_rng(seed)
    orders, calls = [], []
    advisors = ["王芳", "李强", "张伟"]
    models = ["轩逸", "天籁", "奇骏"]
    for v in range(n_vehicles):
        vin = f"SYN{v:014d}"
        purchase = start - timedelta(days=int(rng.integers(-300, 1500)))
        interval = float(rng.normal(200, 35))
        price_sensitive = rng.random() < 0.3
        km_per_day = float(rng.uniform(20, 70))
        day = max(purchase + timedelta(days=int(rng.integers(120, 200))), start)
        day += timedelta(days=int(rng.integers(0, 200)))
        first = True
        while day <= end:
            order_id = f"O{v:05d}-{day.isoformat()}"
            age_years = (day - purchase).days / 365.25
            service_type = "first_maintenance" if first and age_years < 0.6 else "maintenance"
            if rng.random() < 0.15:
                service_type = "repair"
            first = False
            advisor = advisors[int(rng.integers(0, 3))]
            orders.append(
                {
                    "order_id": order_id,
                    "store": "S1",
                    "vin": vin,
                    "plate": f"浙A{v:05d}",
                    "customer_name": f"客户{v}",
                    "phone": f"138{v:08d}",
                    "model": models[v % 3],
                    "purchase_date": purchase,
                    "visit_date": day,
                    "mileage_km": int((day - purchase).days * km_per_day),
                    "service_type": service_type,
                    "amount": float(round(rng.uniform(300, 1500), 2)),
                    "advisor": advisor,
                    "is_appointment": bool(rng.random() < 0.3),
                    "import_id": 1,
                }
            )
            reached = rng.random() < 0.85
            bad = reached and rng.random() < (0.45 if price_sensitive else 0.12)
            overall = float(rng.choice([2, 4])) if bad else float(rng.choice([8, 10]))
            price = overall - 2 if bad else overall
            call_day = day + timedelta(days=int(rng.integers(1, 3)))
            if call_day <= end:
                calls.append(
                    {
                        "callback_id": f"C{order_id}",
                        "order_id": order_id,
                        "vin": None,
                        "callback_type": "3DC",
                        "callback_date": datetime.combine(call_day, datetime.min.time())
                        + timedelta(hours=10),
                        "agent": "客服A",
                        "reached": reached,
                        "overall_score": overall if reached else None,
                        "price_score": price if reached else None,
                        "attitude_score": 8.0 if reached else None,
                        "recommend_score": (3.0 if bad else 9.0) if reached else None,
                        "is_complaint": bool(bad and rng.random() < 0.3),
                        "import_id": 1,
                    }
                )
            warranty_just_ended = 2.7 < age_years < 3.4
            leave = 0.04 + (0.55 if bad else 0.0) + (0.25 if warranty_just_ended else 0.0)
            if rng.random() < leave:
                break
            day += timedelta(days=max(60, int(rng.normal(interval, 30))))
    order_frame = pd.DataFrame(orders)
    call_frame = pd.DataFrame(calls)
    con.register("synthetic_orders", order_frame)
    con.register("synthetic_calls", call_frame)
    columns = ", ".join(order_frame.columns)
    con.execute(f"INSERT INTO service_orders ({columns}) SELECT {columns} FROM synthetic_orders")  # noqa: S608
    columns = ", ".join(call_frame.columns)
    con.execute(f"INSERT INTO callbacks ({columns}) SELECT {columns} FROM synthetic_calls")  # noqa: S608
    con.unregister("synthetic_orders")
    con.unregister("synthetic_calls")
    load.refresh_derived(con)
    return {"orders": len(order_frame), "callbacks": len(call_frame)}
