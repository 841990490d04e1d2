"""Churn identification on hand-built vehicles: status at the window edges, reasons, value, lists, exports, CLI.

As-of date D = 2026-10-31, so D - 365 = 2025-10-31 and D - 730 = 2024-10-31.
"""

from __future__ import annotations

import gc
import io
import json
from datetime import date, datetime, timedelta

import numpy as np
import openpyxl
import pandas as pd
import pytest

from analytics import cli
from analytics.core.i18n import text
from analytics.domain import churn
from analytics.ingest import load
from analytics.store import db

D = date(2026, 10, 31)


def _order(con, order_id, vin, visit, *, service="maintenance", amount=500.0, store="S1", purchase=None, km=None,
           name="张三", advisor="王芳", model="轩逸", plate="浙A00001"):  # fmt: skip
    con.execute(
        "INSERT INTO service_orders (order_id, store, vin, plate, customer_name, phone, model, purchase_date,"
        " visit_date, mileage_km, service_type, amount, advisor, is_appointment, import_id)"
        " VALUES ($o, $s, $v, $pl, $n, '13800000000', $m, $pd, $d, $km, $st, $a, $adv, false, 1)",
        {
            "o": order_id,
            "s": store,
            "v": vin,
            "pl": plate,
            "n": name,
            "m": model,
            "pd": purchase,
            "d": visit,
            "km": km,
            "st": service,
            "a": amount,
            "adv": advisor,
        },  # fmt: skip
    )


def _callback(con, callback_id, order_id, when, *, reached=True, overall=None, price=None, attitude=None,
              recommend=None, complaint=False, category=None, resolved=None, vin=None):  # fmt: skip
    con.execute(
        "INSERT INTO callbacks (callback_id, order_id, vin, callback_type, callback_date, reached, overall_score,"
        " price_score, attitude_score, recommend_score, is_complaint, complaint_category, resolved_at, import_id)"
        " VALUES ($c, $o, $v, '3DC', $d, $r, $ov, $p, $at, $rec, $cp, $cat, $res, 1)",
        {
            "c": callback_id,
            "o": order_id,
            "v": vin,
            "d": when,
            "r": reached,
            "ov": overall,
            "p": price,
            "at": attitude,
            "rec": recommend,
            "cp": complaint,
            "cat": category,
            "res": resolved,
        },  # fmt: skip
    )


def _days(n: int) -> date:
    return D - timedelta(days=n)


@pytest.fixture
def edges(tmp_path):
    """Vehicles placed on each side of the base, lost and at-risk edges."""
    con = db.connect(tmp_path / "edges.duckdb")
    _order(con, "A1", "A", _days(729))  # in the base (visit inside the 730-day window), lost
    _order(con, "B1", "B", _days(730))  # on the base edge: (D - 730, D] excludes it
    _order(con, "C1", "C", _days(365))  # last visit exactly D - 365: lost
    for i, n in enumerate((564, 464, 364)):  # own rhythm 100 days; 364 days since: at risk, not lost
        _order(con, f"R{i}", "R", _days(n))
    for i, n in enumerate((400, 300, 151)):  # own rhythm 100/149 days -> median 124.5; 151 < 186.75: active
        _order(con, f"S{i}", "S", _days(n))
    for i, n in enumerate((400, 300, 200)):  # own rhythm 100 days; 200 days since > 150: at risk
        _order(con, f"T{i}", "T", _days(n))
    for i, n in enumerate((400, 300, 150)):  # own rhythm 100/150 -> median 125; 150 <= 187.5: active
        _order(con, f"U{i}", "U", _days(n))
    _order(con, "E1", "E", _days(10))  # recent: active
    _order(con, "F1", "F", _days(800))  # old visit, and one after D that must not count
    _order(con, "F2", "F", D + timedelta(days=5))
    _order(con, "G1", "G", _days(20), store="S2")  # other store
    load.refresh_derived(con)
    yield con
    con.close()


def test_base_lost_and_at_risk_sets_at_the_window_edges(edges):
    status = churn.vehicle_status(edges, D).set_index("vin")["status"].to_dict()
    assert status == {
        "A": "lost",
        "C": "lost",
        "R": "at_risk",
        "S": "active",
        "T": "at_risk",
        "U": "active",
        "E": "active",
        "G": "active",
    }
    assert churn.status_counts(edges, D) == {"base": 8, "lost": 2, "at_risk": 2, "active": 4}
    assert churn.status_counts(edges, D, ["S2"]) == {"base": 1, "lost": 0, "at_risk": 0, "active": 1}


def test_snapshot_list_agrees_with_the_kpi_status_and_has_a_reason_for_every_lost_and_at_risk_vehicle(edges):
    shot = churn.snapshot(edges, D)
    listed = shot.vehicles.set_index("vin")
    assert listed["status"].to_dict() == churn.vehicle_status(edges, D).set_index("vin")["status"].to_dict()
    assert shot.model is None and shot.model_note  # eight vehicles and no history: nothing to learn from
    flagged = listed[listed["status"] != "active"]
    assert flagged["reason_codes"].map(lambda c: churn.codes_of(c)[0]).to_dict() == {
        "A": "no_visit",
        "C": "no_visit",
        "R": "overdue",
        "T": "overdue",
    }
    assert (
        churn.reason_text(listed.loc["T", "reasons"], "en") == "overdue 2.0× its usual interval of 100 days"
    )
    assert churn.reason_text(listed.loc["A", "reasons"], "zh") == "已 729 天未进厂"


def test_status_trend_counts_each_month_end(edges):
    trend = churn.status_trend(edges, [D, date(2025, 10, 31)])
    # A year earlier the 730-day base window (from 2023-11-02) reaches before the first work order
    # (F1, 2024-08-22): that month end is left out rather than drawn from a history still filling up.
    assert trend.to_dict("records") == [
        {"as_of": D, "base": 8, "lost": 2, "at_risk": 2, "active": 4},
    ]


@pytest.fixture
def reasons_db(tmp_path):
    """One vehicle per reason, each with a single visit 30 days before D unless said otherwise."""
    con = db.connect(tmp_path / "reasons.duckdb")
    when = _days(30)
    at = datetime.combine(when, datetime.min.time()) + timedelta(days=2, hours=10)
    # P: unsatisfied, price is the lowest dimension
    _order(con, "P1", "P", when)
    _callback(con, "cP", "P1", at, overall=4, price=2, attitude=6, recommend=5)
    # Q: complaint about the last visit, with a category, still open
    _order(con, "Q1", "Q", when)
    _callback(con, "cQ", "Q1", at, overall=8, recommend=9, complaint=True, category="收费")
    # K: a complaint about the last visit that was resolved before D
    _order(con, "K1", "K", when)
    _callback(con, "cK", "K1", at, overall=8, complaint=True, resolved=at + timedelta(hours=5))
    # N: unreachable on the last two attempts, after one reached call
    _order(con, "N1", "N", when)
    _callback(con, "cN1", "N1", at, overall=9)
    _callback(con, "cN2", "N1", at + timedelta(days=1), reached=False)
    _callback(con, "cN3", "N1", at + timedelta(days=2), reached=False)
    # W: warranty (3 years) ended 100 days before D; only warranty and accident visits lately
    purchase = date(2023, 7, 23)
    _order(con, "W1", "W", _days(200), service="warranty", purchase=purchase)
    _order(con, "W2", "W", when, service="body_paint", purchase=purchase)
    # M: 101,000 km at its visit on D - 30, warranty not yet over by date; a detractor though satisfied
    _order(con, "M1", "M", when, purchase=date(2025, 1, 1), km=101000)
    _callback(con, "cM", "M1", at, overall=8, recommend=6)
    # Z: nothing to say
    _order(con, "Z1", "Z", when)
    _callback(con, "cZ", "Z1", at, overall=10, recommend=10)
    load.refresh_derived(con)
    yield con
    con.close()


def test_reason_codes_name_each_planted_cause(reasons_db):
    listed = churn.snapshot(reasons_db, D).vehicles.set_index("vin")
    assert listed["reasons"].map(churn.reasons_of).to_dict() == {
        "K": [{"code": "complaint_last_visit_uncategorised"}],
        "M": [{"code": "detractor", "score": "6"}, {"code": "warranty_km", "date": "2026-10-01"}],
        "N": [{"code": "unreachable", "n": 2}],
        "P": [{"code": "unsatisfied_price", "score": "2"}],
        "Q": [{"code": "open_complaint", "n": 1}, {"code": "complaint_last_visit", "category": "收费"}],
        "W": [{"code": "warranty_ended", "date": "2026-07-23"}, {"code": "only_warranty_accident"}],
        "Z": [],
    }
    assert churn.reason_text(listed.loc["Q", "reasons"], "en") == (
        "1 complaint(s) still open; complained about the last visit (charges)"
    )
    assert churn.reason_text(listed.loc["P", "reasons"], "zh") == "上次回访对收费不满意（2/10 分）"
    # Said aloud: no scores, no ratios, no codes.
    assert churn.spoken_text(listed.loc["P", "reasons"], "zh") == "上次对收费不满意"
    assert churn.spoken_text(listed.loc["Q", "reasons"], "zh") == "还有投诉没处理完；上次来店投诉过（收费）"
    assert churn.spoken_text(listed.loc["N", "reasons"], "en") == "our last 2 calls did not get through"


def test_reasons_read_aloud_speak_in_rounded_spans_not_ratios():
    overdue = [{"code": "overdue", "ratio": "4.1", "interval": 83, "days": 341}]
    assert churn.reason_text(overdue, "zh") == "已超出其常规间隔（83 天）的 4.1 倍"
    assert churn.spoken_text(overdue, "zh") == "平时约每3个月来一次，这次已经11个多月没来了"
    assert churn.spoken_text(overdue, "en") == "usually comes every 3 months, and it has been over 11 months"
    lost = [{"code": "no_visit", "days": 800}, {"code": "unsatisfied_price", "score": "3"}]
    assert churn.spoken_text(lost, "zh") == "已经2年多没来店了；上次对收费不满意"
    assert (
        churn.spoken_text(lost, "en")
        == "has not been in for over 2 years; was unhappy with the price last time"
    )
    spans = {d: churn.spoken_span(d, "zh") for d in (20, 50, 200, 363, 364, 365, 729)}
    assert spans == {
        20: "20天",
        50: "一个多月",
        200: "6个多月",
        363: "11个多月",  # session 42: 363 days were "over 12 months" (30-day months) beside "at risk"
        364: "11个多月",
        365: "一年多",
        729: "一年多",
    }
    assert churn.spoken_interval(365, "zh") == "一年" and churn.spoken_interval(30, "en") == "30 days"
    # Every reason code has words to say it in both languages.
    for code in churn.REASON_CODES:
        for lang in ("zh", "en"):
            params = {
                "days": 400,
                "ratio": "2.0",
                "interval": 180,
                "n": 2,
                "category": "收费",
                "score": "2",
                "date": "2026-01-01",
            }
            assert "{" not in churn.spoken_text([{"code": code, **params}], lang)


def test_value_tiers_split_the_base_by_spend_rank():
    spend = pd.Series([100.0, 900.0, 500.0, 300.0, 700.0, 0.0, 50.0, 800.0, 200.0, 600.0])
    assert churn.value_tiers(spend).tolist() == [
        "low",
        "high",
        "medium",
        "medium",
        "medium",
        "low",
        "low",
        "high",
        "low",
        "medium",
    ]  # fmt: skip  (top 20%: 900, 800; next 40%: 700, 600, 500, 300)


def _listed(rows):
    """A churn list from columns, its reason codes given as tuples and kept as a churn list keeps them."""
    frame = pd.DataFrame(rows)
    codes = frame["reason_codes"].tolist()
    frame["reasons"] = [json.dumps([{"code": c} for c in kept]) if kept else "" for kept in codes]
    frame["reason_codes"] = [churn.CODE_SEPARATOR.join(kept) for kept in codes]
    return frame


def test_priority_multiplies_probability_by_value_to_the_weight():
    frame = _listed(
        {
            "vin": ["a", "b", "c"],
            "churn_probability": [0.9, 0.5, 0.2],
            "overdue_ratio": [1.0, 1.0, 1.0],
            "value": [100.0, 1000.0, 0.0],
            "reason_codes": [(), (), ()],
        }
    )
    assert churn.prioritise(frame, 0.0)["vin"].tolist() == ["a", "b", "c"]
    by_value = churn.prioritise(frame, 1.0)
    assert by_value["vin"].tolist() == ["b", "a", "c"]
    assert by_value["priority"].tolist() == [500.0, 90.0, 0.2]


def test_the_list_never_shows_a_forecast_as_certain():
    """Session 42: customers only at risk read "Churn probability 100.0%" (the model's 0.9996)."""
    frame = _listed(
        {
            "vin": ["a", "b"],
            "churn_probability": [0.99964, 0.00002],
            "overdue_ratio": [1.0, 1.0],
            "value": [100.0, 100.0],
            "reason_codes": [(), ()],
            **{c: [None, None] for c in ("plate", "customer_name", "phone", "model", "store", "advisor")},
            "status": ["at_risk", "active"],
            "last_visit": [None, None],
            "days_since": [300, 20],
            "visits": [3, 4],
            "value_tier": ["high", "low"],
        }
    )
    shown = churn.export_frame(frame, "en")
    assert shown["churn_probability"].tolist() == [0.999, 0.001]


def test_the_list_says_when_each_customer_was_last_called_and_whether_they_answered():
    """Session 43: the caller saw the reasons but not the last call's day or outcome."""
    frame = _listed(
        {
            "vin": ["a", "b", "c"],
            "churn_probability": [0.5, 0.5, 0.5],
            "overdue_ratio": [1.0, 1.0, 1.0],
            "value": [100.0, 100.0, 100.0],
            "reason_codes": [(), (), ()],
            **{c: [None] * 3 for c in ("plate", "customer_name", "phone", "model", "store", "advisor")},
            "status": ["at_risk"] * 3,
            "last_visit": [None] * 3,
            "days_since": [300] * 3,
            "visits": [3] * 3,
            "value_tier": ["high"] * 3,
            "last_called": [date(2026, 10, 3), date(2026, 9, 1), None],
            "unreached_streak": [0, 3, 0],
        }
    )
    assert churn.export_frame(frame, "zh")["last_call"].tolist() == [
        "2026-10-03 已接通",
        "2026-09-01 未接通（连续 3 次）",
        "暂无回访",
    ]
    assert churn.export_frame(frame, "en")["last_call"].tolist()[1] == "2026-09-01 not answered (3 in a row)"


def test_the_listed_vehicles_carry_their_last_calls_streak(reasons_db):
    listed = churn.snapshot(reasons_db, D).vehicles
    shown = churn.export_frame(listed, "en")
    said = dict(zip(shown["vin"], shown["last_call"], strict=True))
    at = (_days(30) + timedelta(days=2)).isoformat()
    assert said["N"] == f"{(_days(30) + timedelta(days=4)).isoformat()} not answered (2 in a row)"
    assert said["P"] == f"{at} answered"
    assert said["W"] == "no call yet"


def test_call_list_skips_open_complaints_and_recent_calls_then_cuts_to_capacity():
    frame = _listed(
        {
            "vin": ["a", "b", "c", "d", "e"],
            "open_complaint": [False, True, False, False, False],
            "last_called": [None, None, D - timedelta(days=3), D - timedelta(days=30), None],
            "reason_codes": [(), (), (), (), ()],
        }
    )
    calls = churn.call_list(frame, 2, D, skip_open_complaints=True, called_within_days=14)
    assert calls.calls["vin"].tolist() == ["a", "d"]
    assert (calls.candidates, calls.suppressed_complaint, calls.suppressed_recent) == (5, 1, 1)
    everyone = churn.call_list(frame, 10, D, skip_open_complaints=False, called_within_days=0)
    assert everyone.calls["vin"].tolist() == ["a", "b", "c", "d", "e"]


def test_filter_list_keeps_rows_matching_every_choice():
    frame = _listed(
        {
            "vin": ["a", "b", "c"],
            "status": ["lost", "at_risk", "at_risk"],
            "model": ["轩逸", "天籁", "轩逸"],
            "advisor": ["王芳", "王芳", "李强"],
            "value_tier": ["high", "low", "low"],
            "store": ["S1", "S1", "S2"],
            "reason_codes": [("no_visit",), ("overdue", "unreachable"), ("overdue",)],
        }
    )
    chosen = churn.ListFilter(statuses=("at_risk",), reasons=("unreachable", "no_visit"))
    assert churn.filter_list(frame, chosen)["vin"].tolist() == ["b"]
    assert churn.filter_list(frame, churn.ListFilter(models=("轩逸",), stores=("S2",)))["vin"].tolist() == [
        "c"
    ]
    assert churn.filter_list(frame, churn.ListFilter())["vin"].tolist() == ["a", "b", "c"]


def test_a_reason_filter_matches_whole_codes_only():
    """Codes are kept "|"-joined: "unsatisfied" matches that code, not "unsatisfied_price" beside it."""
    frame = _listed(
        {
            "vin": ["a", "b", "c", "d"],
            "reason_codes": [("unsatisfied_price",), ("no_visit", "unsatisfied"), ("unsatisfied",), ()],
        }
    )
    assert churn.filter_list(frame, churn.ListFilter(reasons=("unsatisfied",)))["vin"].tolist() == ["b", "c"]
    assert churn.filter_list(frame, churn.ListFilter(reasons=("unsatisfied_price",)))["vin"].tolist() == ["a"]
    assert churn.filter_list(frame, churn.ListFilter(reasons=("no_visit",)))["vin"].tolist() == ["b"]


def test_the_list_keeps_reasons_as_strings_the_garbage_collector_does_not_walk(reasons_db):
    """A server holds a group's list of 200,000 vehicles: lists of dicts per vehicle made 400,000
    objects every full collection walks. Strings are not tracked, and they read back as the reasons."""
    listed = churn.snapshot(reasons_db, D).vehicles
    for column in ("reasons", "reason_codes"):
        assert not any(gc.is_tracked(value) for value in listed[column].tolist()), column
        assert all(isinstance(value, str) for value in listed[column].tolist()), column
    for kept, codes in zip(listed["reasons"], listed["reason_codes"], strict=True):
        assert tuple(r["code"] for r in churn.reasons_of(kept)) == churn.codes_of(codes)


@pytest.fixture
def retention_db(tmp_path):
    """First maintenance in 2025-01; cars back (or not) for the second and third."""
    con = db.connect(tmp_path / "retention.duckdb")
    first = date(2025, 1, 10)
    # X1: back after 6 months, then after 3 more: both steps within 12 months
    for i, when in enumerate((first, date(2025, 7, 10), date(2025, 10, 10))):
        _order(
            con,
            f"X1-{i}",
            "X1",
            when,
            service="first_maintenance" if i == 0 else "maintenance",
            advisor="王芳",
        )
    # X2: back only after 14 months: not within 12; its second maintenance is too recent to judge
    _order(con, "X2-0", "X2", first, service="first_maintenance", advisor="王芳", model="天籁")
    _order(con, "X2-1", "X2", date(2026, 3, 10), advisor="王芳", model="天籁")
    # X3: never back; X4: a repair does not count as a maintenance
    _order(con, "X3-0", "X3", first, service="first_maintenance", advisor="李强")
    _order(con, "X4-0", "X4", first, service="first_maintenance", advisor="李强")
    _order(con, "X4-1", "X4", date(2025, 3, 1), service="repair", advisor="李强")
    # Y: first seen at a routine maintenance, no first maintenance in the data: not counted
    _order(con, "Y-0", "Y", first, advisor="李强")
    _order(con, "Y-1", "Y", date(2025, 5, 1), advisor="李强")
    load.refresh_derived(con)
    yield con
    con.close()


def test_retention_counts_cars_back_for_the_next_maintenance_within_the_window(retention_db):
    rates = churn.retention_rates(retention_db, D, "advisor", months=12)
    assert rates[["transition", "group", "n", "returned"]].values.tolist() == [
        ["1-2", "all", 4, 1],
        ["1-2", "李强", 2, 0],
        ["1-2", "王芳", 2, 1],
        ["2-3", "all", 1, 1],
        ["2-3", "王芳", 1, 1],
    ]
    assert churn.retention_headline(rates) == {"1-2": (0.25, 4), "2-3": (1.0, 1)}
    named = churn.retention_rates(
        retention_db, D, "advisor", months=12, names={"all": "全部", "1-2": "首保后"}
    )
    assert named[["transition", "group"]].values.tolist()[:2] == [["首保后", "全部"], ["首保后", "李强"]]
    assert churn.retention_headline(named) == {"1-2": (0.25, 4), "2-3": (1.0, 1)}
    curve = churn.retention_curve(retention_db, D, "model", min_n=1)
    first_step = curve[(curve["transition"] == "1-2") & (curve["group"] == "all")].set_index("month")["share"]
    assert (first_step[5], first_step[6], first_step[14]) == (0.0, 0.25, 0.5)


def test_the_share_back_within_m_months_never_falls_as_m_grows():
    """Each month of the retention curve counted only the cars seen that long: an old car never back
    and a recent one back within a month read 50% back within one month, 0% within seven. Kaplan-Meier
    counts each car for as long as it has been seen."""
    observed = np.array([700.0, 200.0])  # days each car has been seen since its maintenance
    to_next = np.array([np.nan, 30.0])  # the old one is not back; the recent one came back on day 30
    assert churn.back_within(observed, to_next, [30.44, 213.08, 700.0]) == [0.5, 0.5, 0.5]
    assert churn.back_within(np.array([100.0]), np.array([np.nan]), [30.0]) == [0.0]
    # Three cars all seen for a year, back on days 10, 40 and never: the plain shares.
    shares = churn.back_within(np.full(3, 365.0), np.array([10.0, 40.0, np.nan]), [5, 10, 39, 40, 365])
    assert shares == pytest.approx([0.0, 1 / 3, 1 / 3, 2 / 3, 2 / 3])


def test_cli_json_prints_integer_counts_and_the_backtest(edges, tmp_path, capsys):
    path = tmp_path / "edges.duckdb"
    edges.close()
    assert cli.main(["churn", "--as-of", "2026-10-31", "--json", "--db", str(path), "--top", "2"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {k: payload[k] for k in ("as_of", "base", "lost", "at_risk", "active")} == {
        "as_of": "2026-10-31",
        "base": 8,
        "lost": 2,
        "at_risk": 2,
        "active": 4,
    }
    assert payload["backtest"]["available"] is False and payload["backtest"]["reason"]
    assert payload["model_as_of"] in (None, "2026-10-31")  # the newest month: no later model to rank it
    assert len(payload["top"]) == 2


def test_cli_refuses_a_bad_date_and_an_unknown_file_type(edges, tmp_path, capsys):
    path = tmp_path / "edges.duckdb"
    edges.close()
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["churn", "--as-of", "31/10/2026", "--db", str(path)])
    assert exit_info.value.code == 2
    assert (
        cli.main(["churn", "--as-of", "2026-10-31", "--db", str(path), "--out", str(tmp_path / "x.pdf")]) == 2
    )
    assert "csv or .xlsx" in capsys.readouterr().err


@pytest.fixture
def hostile_db(tmp_path):
    con = db.connect(tmp_path / "hostile.duckdb")
    _order(con, "H1", "H", _days(400), name='=HYPERLINK("http://x")', plate="+86abc", amount=-120.0)
    _order(con, "J1", "J", _days(20), name="@SUM(A1)", plate="浙B12345", amount=880.0)
    load.refresh_derived(con)
    con.close()
    return tmp_path / "hostile.duckdb"


def _by_code(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The list file's columns back under their codes (the file carries the language's headers)."""
    codes = {text(f"churn.col.{c}", lang): c for c in churn.EXPORT_COLUMNS} | {
        text("export.rank", lang): "rank"
    }
    return frame.rename(columns=codes)


def test_cli_csv_export_has_a_bom_every_base_vehicle_and_neutralised_formulas(hostile_db, tmp_path):
    out = tmp_path / "list.csv"
    assert (
        cli.main(
            ["churn", "--as-of", "2026-10-31", "--db", str(hostile_db), "--out", str(out), "--lang", "en"]
        )
        == 0
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.StringIO(raw.decode("utf-8-sig")), dtype=str, keep_default_na=False)
    # The dashboard's download: the language's headers, a rank for the priority score.
    assert list(frame.columns) == [
        text("export.rank", "en") if c == "priority" else text(f"churn.col.{c}", "en")
        for c in churn.EXPORT_COLUMNS
    ]
    frame = _by_code(frame, "en")
    assert frame.set_index("vin")[
        ["customer_name", "plate", "last_visit", "status", "value", "visits"]
    ].to_dict("index") == {
        "H": {
            "customer_name": '\'=HYPERLINK("http://x")',
            "plate": "'+86abc",
            "last_visit": "2025-09-26",
            "status": "Lost",
            "value": "-120.0",
            "visits": "1",
        },
        "J": {
            "customer_name": "'@SUM(A1)",
            "plate": "浙B12345",
            "last_visit": "2026-10-11",
            "status": "Active",
            "value": "880.0",
            "visits": "1",
        },
    }
    # The list says it as an agent would on the phone; the days stay in the analyst's detail.
    assert frame.loc[frame["vin"] == "H", "reasons"].item() == "has not been in for over a year"


def test_cli_list_file_reads_as_the_dashboards_download_in_chinese(hostile_db, tmp_path):
    """`churn --out` wrote English codes (vin, status = at_risk, value_tier = high) under a
    Chinese reason: a CS lead's Excel showed a half-English list."""
    out = tmp_path / "list.csv"
    assert (
        cli.main(
            ["churn", "--as-of", "2026-10-31", "--db", str(hostile_db), "--out", str(out), "--lang", "zh"]
        )
        == 0
    )
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert {"车架号", "客户姓名", "状态", "原因", "价值等级"} <= set(frame.columns)
    assert set(frame["状态"]) <= {text(f"churn.status.{s}", "zh") for s in churn.STATUSES}
    assert not set(frame["状态"]) & set(churn.STATUSES)
    assert set(frame[text("export.rank", "zh")]) == {"1", "2"}


def test_cli_xlsx_export_keeps_numbers_as_numbers_and_neutralises_text(hostile_db, tmp_path):
    out = tmp_path / "list.xlsx"
    assert (
        cli.main(
            ["churn", "--as-of", "2026-10-31", "--db", str(hostile_db), "--out", str(out), "--lang", "zh"]
        )
        == 0
    )
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    header = [{text(f"churn.col.{c}", "zh"): c for c in churn.EXPORT_COLUMNS}.get(h, h) for h in rows[0]]
    by_vin = {r[header.index("vin")]: r for r in rows[1:]}
    assert by_vin["H"][header.index("customer_name")] == '\'=HYPERLINK("http://x")'
    assert by_vin["H"][header.index("value")] == -120.0
    assert by_vin["H"][header.index("reasons")] == "已经一年多没来店了"


def test_ranking_is_one_order_whether_or_not_the_list_comes_in_vin_order():
    rng = np.random.default_rng(3)
    n = 300
    frame = _listed(
        {
            "vin": [f"V{i:04d}" for i in range(n)],
            # Few distinct values, so many ties fall to the VIN; some without a probability.
            "churn_probability": rng.choice([0.2, 0.5, np.nan], n),
            "overdue_ratio": rng.choice([0.5, 2.0], n),
            "value": rng.choice([0.0, 100.0, 400.0], n),
            "reason_codes": [()] * n,
        }
    )
    in_order = churn.prioritise(frame, 1.0)
    shuffled = churn.prioritise(frame.sample(frac=1.0, random_state=1).reset_index(drop=True), 1.0)
    pd.testing.assert_frame_equal(in_order, shuffled)
    expected = frame.assign(
        priority=frame["churn_probability"].fillna(frame["overdue_ratio"]) * frame["value"].clip(lower=1.0)
    ).sort_values(["priority", "vin"], ascending=[False, True])
    assert in_order["vin"].tolist() == expected["vin"].tolist()


def test_list_options_are_the_values_present_in_the_list():
    frame = _listed(
        {
            "vin": ["a", "b", "c", "d"],
            "status": ["at_risk", "lost", "lost", "at_risk"],
            "model": ["轩逸", None, "天籁", "轩逸"],
            "advisor": ["王芳", "李强", "王芳", None],
            "value_tier": ["low", "high", "low", "low"],
            "store": ["S2", "S1", "S1", "S2"],
            "reason_codes": [("overdue",), ("no_visit", "unreachable"), ("no_visit",), ()],
        }
    )
    assert churn.list_options(frame) == {
        "statuses": ["lost", "at_risk"],
        "reasons": ["no_visit", "overdue", "unreachable"],
        "models": ["天籁", "轩逸"],
        "advisors": ["李强", "王芳"],
        "tiers": ["high", "low"],
        "stores": ["S1", "S2"],
    }


def test_reasons_a_column_at_a_time_are_the_reasons_row_by_row():
    # Every branch and edge: each status, ties and gaps among the dimensions, a score at the low
    # line, missing counts, a warranty end on either side of the window, a blank category.
    rng = np.random.default_rng(5)
    n = 2000
    scores = [None, float("nan"), 1.0, 2.0, 3.0, 5.0, 6.0, 8.0, 10.0]

    def pick(values):
        # Object columns keep None as None (a count is never NaN in the features).
        return pd.Series([values[i] for i in rng.integers(0, len(values), n)], dtype=object)

    frame = pd.DataFrame(
        {
            "status": pick(["lost", "at_risk", "active"]),
            "days_since": rng.integers(0, 900, n),
            "overdue_ratio": rng.uniform(0, 4, n),
            "expected_interval_days": rng.uniform(30, 400, n),
            "open_complaints": pick([None, 0, 1, 3]),
            "last_visit_complaints": pick([None, 0, 2]),
            "last_visit_complaint_category": pick([None, "", "  ", "收费", " 态度 "]),
            "last_overall": pick(scores),
            "last_recommend": pick(scores),
            **{f"last_{d}": pick(scores) for d in churn.DIMENSIONS},
            "warranty_end": pick(
                [None, D, D - timedelta(days=30), D - timedelta(days=400), D + timedelta(days=1)]
            ),
            "warranty_end_cause": pick([None, "km", "date"]),
            "unreached_streak": pick([None, 0, 1, 2, 5]),
            "visits": pick([None, 0, 1, 2, 3]),
            "warranty_visits": pick([None, 0, 1, 2]),
            "body_paint_visits": pick([None, 0, 1]),
        }
    )
    row_by_row = [churn.vehicle_reasons(row, D) for row in frame.astype(object).to_dict("records")]
    at_once = churn.frame_reasons(frame, D)
    assert repr(at_once) == repr(row_by_row)
    assert {r["code"] for rs in at_once for r in rs} == set(churn.REASON_CODES)
    # A column the frame lacks reads as missing, as ``row.get`` does.
    thin = frame.drop(columns=["open_complaints", "warranty_end"])
    rows = [churn.vehicle_reasons(row, D) for row in thin.astype(object).to_dict("records")]
    assert repr(churn.frame_reasons(thin, D)) == repr(rows)


def test_the_fit_and_its_backtest_read_the_features_once_and_learn_what_separate_reads_give(
    demo_db, monkeypatch
):
    """One read of the features for the fit's cutoffs and the backtest's; the sampled training
    rows (a small cap here, so the sample is taken) and the backtest equal those of a backtest
    that reads its own cutoffs."""
    import duckdb
    import msgspec

    from analytics.domain import churn_model
    from analytics.services import marts

    small = msgspec.structs.replace(churn_model.churn_settings(), max_training_rows=4000)
    monkeypatch.setattr(churn_model, "churn_settings", lambda: small)
    reads: list[list[date]] = []
    original = churn_model.features

    def counted(con, cutoffs, stores=None):
        reads.append(sorted(set(cutoffs)))
        return original(con, cutoffs, stores)

    monkeypatch.setattr(churn_model, "features", counted)
    con = duckdb.connect(str(demo_db), read_only=True)
    with marts.bypassed():
        model = churn_model.fit(con, date(2026, 10, 31))
        assert len(reads) == 1
        assert model.n_train == 4000
        shared = model.backtest
        assert shared is not None
        alone = churn_model.backtest(con, shared.cutoff, churn_model.data_span(con, date(2026, 10, 31))[0])
    assert len(reads) == 2  # the backtest alone read its own cutoffs
    assert set(reads[1]) <= set(reads[0])
    assert alone.model == shared.model and alone.rule == shared.rule and alone.n == shared.n
    pd.testing.assert_frame_equal(alone.importance, shared.importance)


def _back_within_by_day(observed: np.ndarray, to_next: np.ndarray, windows: list[float]) -> list[float]:
    """The Kaplan-Meier share counted day by day, as ``back_within`` did before it took whole arrays."""
    back = ~np.isnan(to_next)
    leaves = np.where(back, to_next, observed)
    days = np.unique(to_next[back])
    at_risk = np.array([(leaves >= d).sum() for d in days], dtype=float)
    returned = np.array([(to_next[back] == d).sum() for d in days], dtype=float)
    staying = np.cumprod(1.0 - returned / at_risk)
    return [
        float(1.0 - staying[np.searchsorted(days, w, side="right") - 1]) if (days <= w).any() else 0.0
        for w in windows
    ]


def test_the_share_back_within_m_months_is_the_day_by_day_count_on_many_cars():
    """Ties (several cars back on one day, a car last seen on a day another came back), cars never
    back, and windows between and beyond the days: the same shares as counting day by day."""
    rng = np.random.default_rng(7)
    observed = rng.integers(1, 900, 5000).astype(float)
    to_next = np.where(rng.random(5000) < 0.6, rng.integers(1, 700, 5000).astype(float), np.nan)
    to_next = np.where(to_next <= observed, to_next, np.nan)  # back within what has been seen
    windows = [m * 30.44 for m in range(1, 25)] + [0.5, 1.0, 2000.0]
    assert churn.back_within(observed, to_next, windows) == pytest.approx(
        _back_within_by_day(observed, to_next, windows), abs=1e-12
    )


def test_a_stores_churn_list_is_the_groups_rows_of_that_store(tmp_path):
    """A store's list is the group's rows of that store, every column, its value tiers ranked
    within the store (``ChurnSnapshot.of_stores``: what a page shows of the group's list as last
    computed while the store's is not computed again)."""
    from tests import maintenance_data

    path = tmp_path / "stores.duckdb"
    con = db.connect(path)
    try:
        maintenance_data.build(con, vehicles=300, seed=3)
        load.refresh_derived(con)
        as_of = con.execute("SELECT max(visit_date) FROM service_orders").fetchone()[0]
        group = churn.snapshot(con, as_of)
        stores = sorted(group.vehicles["store"].dropna().unique())
        assert len(stores) >= 2, "the simulated data should hold more than one store"
        for chosen in ([stores[0]], stores[1:]):
            mine = churn.snapshot(con, as_of, chosen)
            assert 0 < len(mine.vehicles) < len(group.vehicles)
            pd.testing.assert_frame_equal(group.of_stores(chosen).vehicles, mine.vehicles)
            assert group.of_stores(chosen).model == mine.model
            # ranked within the store: its own share of high-value vehicles, not the group's
            assert (mine.vehicles["value_tier"] == "high").any()
    finally:
        con.close()


def test_a_usual_complaint_category_is_said_in_english_and_any_other_as_written():
    # The English churn list read "complained about the last visit (收费)" (an outside look, session 44).
    reasons = [
        {"code": "complaint_last_visit", "category": "收费"},
        {"code": "complaint_last_visit", "category": "喷漆色差"},
    ]
    assert churn.reason_text(reasons, "en") == (
        "complained about the last visit (charges); complained about the last visit (喷漆色差)"
    )
    assert churn.reason_text(reasons, "zh") == "对上次进厂有投诉（收费）；对上次进厂有投诉（喷漆色差）"
    assert "(charges)" in churn.spoken_text(reasons[:1], "en")
