"""A small simulated service history for the maintenance tests: owners who come back on the
schedule's rhythm with their own pace, punctuality and loyalty; a few keyed-in odometer errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics.ingest import load
from analytics.store import db

END = dt.date(2025, 6, 30)
START = dt.date(2022, 7, 1)


def build(con, vehicles: int = 500, seed: int = 1, end: dt.date = END) -> None:
    """Insert a deterministic history of ``vehicles`` cars into ``service_orders`` and ``callbacks``."""
    rng = np.random.default_rng(seed)
    orders: list[dict] = []
    calls: list[dict] = []
    span = (end - START).days
    for i in range(vehicles):
        vin = f"LSIM{i:013d}"
        purchase = START + dt.timedelta(days=int(rng.integers(-700, span - 60)))
        pace = float(rng.lognormal(np.log(35), 0.45))
        loyalty = float(rng.choice([0.97, 0.85, 0.6]))
        lateness = float(rng.normal(10, 25))
        phone = f"138{i:08d}" if rng.random() > 0.05 else "0571-1234"
        day, km_last, first = purchase, 0.0, True
        while True:
            if not first and rng.random() > loyalty:
                break
            limit = min(180, 5000 / pace) if first else min(270, 7500 / pace)
            gap = max(20, int(limit + lateness + rng.normal(0, 20)))
            day = day + dt.timedelta(days=gap)
            if day > end:
                break
            km = (day - purchase).days * pace * float(rng.normal(1, 0.03))
            km_last = max(km, km_last)
            if day >= START:
                reading = int(km_last)
                if rng.random() < 0.03:
                    reading *= 10  # a digit keyed twice
                orders.append(_order(vin, i, len(orders), purchase, day, reading, first, phone))
                calls.append(_call(orders[-1], rng))
            if rng.random() < 0.15:
                repair = day + dt.timedelta(days=int(rng.integers(10, 120)))
                if START <= repair <= end:
                    reading = int((repair - purchase).days * pace)
                    orders.append(_order(vin, i, len(orders), purchase, repair, reading, None, phone))
            first = False
    frame = pd.DataFrame(orders)
    con.register("sim_orders", frame)
    con.execute("INSERT INTO service_orders BY NAME SELECT * FROM sim_orders")
    con.unregister("sim_orders")
    cb = pd.DataFrame(calls)
    con.register("sim_calls", cb)
    con.execute("INSERT INTO callbacks BY NAME SELECT * FROM sim_calls")
    con.unregister("sim_calls")
    db.bump_data_version(con)
    load.refresh_derived(con)


def _order(vin, i, n, purchase, day, km, first, phone) -> dict:
    service_type = "repair" if first is None else ("first_maintenance" if first else "maintenance")
    return {
        "order_id": f"WO{n:07d}",
        "store": "S1" if i % 3 else "S2",
        "vin": vin,
        "plate": f"浙A{i:05d}",
        "customer_name": f"客户{i}",
        "phone": phone,
        "model": ("轩逸", "卡罗拉", "朗逸")[i % 3],
        "purchase_date": purchase,
        "visit_date": day,
        "mileage_km": km,
        "service_type": service_type,
        "amount": 400.0 if service_type != "repair" else 1500.0,
        "advisor": "李明",
        "is_appointment": bool(i % 2),
        "import_id": 1,
    }


def _call(order: dict, rng) -> dict:
    reached = bool(rng.random() < 0.8)
    return {
        "callback_id": "CB" + order["order_id"],
        "order_id": order["order_id"],
        "vin": order["vin"],
        "callback_type": "3DC",
        "callback_date": dt.datetime.combine(order["visit_date"] + dt.timedelta(days=1), dt.time(10)),
        "reached": reached,
        "overall_score": float(rng.choice([10, 8, 6])) if reached else None,
        "import_id": 1,
    }
