import datetime as dt

from analytics.domain import quality
from analytics.ingest import load
from analytics.store import db


def _order(con, order_id, vin, visit, km, phone="13812345678", service_type="maintenance", purchase=None):
    con.execute(
        "INSERT INTO service_orders (order_id, store, vin, plate, customer_name, phone, model, purchase_date,"
        " visit_date, mileage_km, service_type, amount, advisor, is_appointment, import_id)"
        " VALUES ($o, 'S1', $v, '浙A12345', '张三', $p, '轩逸', $pd, $d, $km, $st, 100, '李明', false, 1)",
        {"o": order_id, "v": vin, "p": phone, "pd": purchase, "d": visit, "km": km, "st": service_type},
    )


def test_quality_checks_find_exactly_the_planted_problems(tmp_path):
    con = db.connect(tmp_path / "q.duckdb")
    good, also_good, bad = "1M8GDM9AXKP042788", "11111111111111111", "1M8GDM9A1KP042788"
    _order(con, "A1", good, dt.date(2024, 1, 5), 10000)
    _order(con, "A2", good, dt.date(2024, 6, 5), 9000)  # mileage backwards
    _order(con, "A3", good, dt.date(2024, 6, 5), 9000)  # duplicate of A2 (same vin, date, type)
    _order(con, "B1", also_good, dt.date(2024, 2, 1), 5000, phone="0571-88886666")
    _order(con, "C1", bad, dt.date(2024, 3, 1), 100, phone="+86 139 1234 5678")
    _order(con, "D1", "SHORTVIN", dt.date(2030, 1, 1), 100, purchase=dt.date(2031, 1, 1))
    load.refresh_derived(con)
    today = dt.date(2026, 11, 24)

    assert quality.finding(con, "invalid_vins")[["order_id", "problem"]].values.tolist() == [
        ["C1", "check digit"],
        ["D1", "length"],
    ]
    assert quality.finding(con, "duplicate_orders")["order_id"].tolist() == ["A2", "A3"]
    assert quality.finding(con, "mileage_backwards")["order_id"].tolist() == ["A2"]
    assert quality.finding(con, "invalid_phones")["vin"].tolist() == [also_good]
    future = quality.finding(con, "future_dates", today)
    assert future[["record_id", "column_name"]].values.tolist() == [
        ["D1", "purchase_date"],
        ["D1", "visit_date"],
    ]
    assert quality.summary(con, today) == {
        "duplicate_orders": 2,
        "invalid_vins": 2,
        "invalid_phones": 1,
        "mileage_backwards": 1,
        "future_dates": 2,
    }
