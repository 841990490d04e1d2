import datetime as dt

import pandas as pd
import pytest

from analytics.domain import quality
from analytics.ingest import load
from analytics.store import db, queries


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
        "unlinked_callbacks": 0,
    }
    # What each count is a share of: six orders, each with a VIN and a mileage (SHORTVIN too: the
    # checks read it), four vehicles with a phone, no callbacks.
    assert quality.checked(con) == {
        "duplicate_orders": 6,
        "invalid_vins": 6,
        "invalid_phones": 4,
        "mileage_backwards": 6,
        "future_dates": 6,
        "unlinked_callbacks": 0,
    }


def _callback(
    con, callback_id, phone, *, order_id=None, vin=None, name="李四", day=dt.date(2024, 3, 2), store=None
):
    con.execute(
        "INSERT INTO callbacks (callback_id, order_id, vin, customer_name, phone, store, callback_type,"
        " callback_date, reached, import_id) VALUES ($c, $o, $v, $n, $p, $s, '3DC', $d, true, 2)",
        {"c": callback_id, "o": order_id, "v": vin, "n": name, "p": phone, "s": store, "d": day},
    )


def test_invalid_phones_lists_callbacks_too_and_says_which_record(tmp_path):
    con = db.connect(tmp_path / "q.duckdb")
    _order(con, "A1", "1M8GDM9AXKP042788", dt.date(2024, 3, 1), 100)
    # A digit missing; the work order's store stands over the one the callback's file named.
    _callback(con, "K1", "1381234567", order_id="A1", name="张三", store="S9")
    # A new car's buyer: no work order names him; the store is the one his callback's file named.
    _callback(con, "K2", "0571-88886666", vin="LNEWCAR0000000001", day=dt.date(2024, 3, 5), store="S2")
    _callback(con, "K3", "+86 139 1234 5678", order_id="A1")
    _callback(con, "K4", "138-1234-5678", vin="LNEWCAR0000000002")
    _callback(con, "K5", None, order_id="A1")
    load.refresh_derived(con)

    found = quality.finding(con, "invalid_phones")
    assert found.columns.tolist() == [
        "table_name", "record_id", "vin", "store", "plate", "customer_name", "phone", "record_date",
    ]  # fmt: skip
    shown = found[["table_name", "record_id", "vin", "store", "customer_name", "phone"]].fillna("")
    assert shown.values.tolist() == [
        ["callbacks", "K2", "LNEWCAR0000000001", "S2", "李四", "0571-88886666"],
        ["callbacks", "K1", "1M8GDM9AXKP042788", "S1", "张三", "1381234567"],
    ]
    assert found["record_date"].tolist() == [pd.Timestamp(2024, 3, 5), pd.Timestamp(2024, 3, 2)]
    assert quality.summary(con)["invalid_phones"] == 2


def test_a_callback_whose_order_number_fits_several_orders_or_another_car_is_named(tmp_path):
    # An Excel cell that held 0001234 as a number reads 1234; another DMS prefixes WO. Such a
    # callback is linked to its order when the number fits exactly one of the same car
    # (tests/test_order_links.py); the finding names those it cannot be linked, and why.
    con = db.connect(tmp_path / "q.duckdb")
    vin = "1M8GDM9AXKP042788"
    _order(con, "0001234", vin, dt.date(2024, 3, 1), 100)
    _order(con, "0001235", None, dt.date(2024, 3, 1), 100)
    _order(con, "A-77", None, dt.date(2024, 3, 1), 100)
    _order(con, "B-77", None, dt.date(2024, 3, 1), 100)
    _callback(con, "K1", None, order_id="1234")  # linked: no finding
    _callback(con, "K2", None, order_id="WO0001235", day=dt.date(2024, 3, 3))  # linked: no finding
    _callback(con, "K3", None, order_id="0001234")  # names its order: no finding
    _callback(con, "K4", None, order_id="77")  # two orders would fit: no guess
    _callback(con, "K5", None, order_id="999")  # an order not imported (yet): not a finding
    _callback(con, "K6", None, order_id="1234", vin="LNEWCAR0000000001")  # another car's order
    _callback(con, "K7", None, order_id="无")  # no digits: no key, not a finding
    load.refresh_derived(con)
    found = quality.finding(con, "unlinked_callbacks")
    assert found[["callback_id", "order_id", "candidate_order_ids", "reason"]].values.tolist() == [
        ["K4", "77", "A-77, B-77", "several work orders have this number"],
        ["K6", "1234", "0001234", "the work order is another vehicle's"],
    ]
    assert quality.summary(con)["unlinked_callbacks"] == 2


@pytest.mark.parametrize(
    "phone",
    ["13812345678", "+8613812345678", "86 138 1234 5678", "138-1234-5678", "12812345678", "1381234567",
     "0571-88886666", "无", "138123456789", "+86-139-1234-5678"],
)  # fmt: skip
def test_a_phone_is_judged_alike_on_a_work_order_and_on_a_callback(tmp_path, phone):
    con = db.connect(tmp_path / "q.duckdb")
    _order(con, "A1", "1M8GDM9AXKP042788", dt.date(2024, 3, 1), 100, phone=phone)
    _callback(con, "K1", phone, vin="LNEWCAR0000000001")
    load.refresh_derived(con)
    found = quality.finding(con, "invalid_phones")
    by_table = {t: set(found.loc[found["table_name"] == t, "phone"]) for t in ("service_orders", "callbacks")}
    assert by_table["service_orders"] == by_table["callbacks"]
    assert len(found) in (0, 2)


def test_a_role_that_sees_masked_phones_sees_a_bad_callback_phone_masked_on_the_data_page(
    tmp_path, monkeypatch, with_accounts
):
    from analytics.core.auth import POLICY, mask_phone
    from tests.conftest import ACCOUNTS
    from tests.signing_in import sign_in, t_

    path = tmp_path / "masked.duckdb"
    con = db.connect(path)
    _order(con, "A1", "1M8GDM9AXKP042788", dt.date(2024, 3, 1), 100, phone="1391234567")
    _callback(con, "K1", "1381234567", vin="LNEWCAR0000000001", name="李四")
    load.refresh_derived(con)
    con.close()
    monkeypatch.setenv("ANALYTICS_DB", str(path))

    shown = {}
    for username in ("wangqiang", "zhangli"):  # a manager (masked) and a CS lead (in clear)
        role = ACCOUNTS[username][0]
        at = sign_in(username, page="pages/data.py")
        table, record, phone = t_("field.table_name"), t_("field.record_id"), t_("field.phone")
        (finding,) = [d.value for d in at.dataframe if {table, phone} <= set(d.value.columns)]
        shown[POLICY[role].sees_phone] = dict(
            zip(finding[record], zip(finding[table], finding[phone], strict=True), strict=True)
        )
    assert shown[False] == {
        "A1": (t_("quality.table.service_orders"), mask_phone("1391234567")),
        "K1": (t_("quality.table.callbacks"), mask_phone("1381234567")),
    }
    assert shown[False]["K1"][1] == "13****4567"
    assert shown[True]["K1"] == (t_("quality.table.callbacks"), "1381234567")


def test_the_mobile_phone_rule_is_written_once():
    rule = "1[3-9][0-9]{9}"
    holders = [
        p.relative_to(queries.SQL_DIR).as_posix()
        for p in queries.SQL_DIR.rglob("*.sql")
        if rule in p.read_text("utf-8")
    ]
    assert holders == ["macros/is_mobile_phone.sql"]
    for name in ("quality_invalid_phones", "maintenance_vehicle_history"):
        assert rule in queries.load(name)


def test_the_refresh_runs_each_check_once_for_its_count_and_its_list(demo_db, tmp_path, monkeypatch):
    """The Data page's counts and lists of findings were computed apart: the refresh after an
    import ran every check twice (about 14 s of its main thread at a million work orders)."""
    import shutil

    from analytics.services import marts, views

    path = tmp_path / "q.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    loaded: list[str] = []
    real = quality.sql
    monkeypatch.setattr(quality, "sql", lambda name: loaded.append(name) or real(name))
    with db.write_transaction(con) as cur:
        db.bump_data_version(cur)  # nothing kept for this version yet
    built = marts.rebuild(con, views.global_calls())
    assert not built["failed"]
    assert sorted(loaded) == sorted(f"quality_{check}" for check in quality.CHECKS)
    counts = quality.summary(con)
    with marts.bypassed():
        assert counts == {check: len(quality.finding(con, check)) for check in quality.CHECKS}
    con.close()
