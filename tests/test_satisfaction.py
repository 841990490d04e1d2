"""Satisfaction analytics on the hand-built fixture (tests/fixtures_kpi.py); literals worked out by hand."""

from datetime import date, datetime

import pandas as pd
import pytest

from analytics import kpi
from analytics import satisfaction as sat
from analytics.errors import UserError


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        (5, 10, 0.236593, 0.763407),
        (0, 10, 0.0, 0.277533),
        (10, 10, 0.722467, 1.0),
        (3, 5, 0.230724, 0.882379),
        (81, 263, 0.255289, 0.36621),
    ],
)
def test_wilson_interval_matches_the_roots_of_the_score_equation(x, n, low, high):
    lo, hi = sat.wilson_interval(x, n)
    assert (round(lo, 6), round(hi, 6)) == (low, high)


def test_wilson_interval_of_nothing_is_none():
    assert sat.wilson_interval(0, 0) == (None, None)


def test_monthly_satisfaction_rates_intervals_and_control_limits(kpi_con):
    frame = sat.monthly_satisfaction(kpi_con, start="2024-05", end="2024-06")
    assert frame["month"].tolist() == ["2024-05", "2024-06"]
    assert frame[["n", "satisfied", "nps_n", "promoters", "detractors"]].values.tolist() == [
        [20, 19, 20, 20, 0],
        [5, 3, 5, 3, 1],
    ]
    assert frame["rate"].tolist() == [0.95, 0.6]
    assert frame["wilson_low"].round(6).tolist() == [0.763869, 0.230724]
    assert frame["wilson_high"].round(6).tolist() == [0.991119, 0.882379]
    # p-chart around the pooled 22/25 = 0.88: 0.88 -/+ 3 sqrt(0.88 * 0.12 / n), clipped to [0, 1].
    assert frame["centre"].tolist() == [0.88, 0.88]
    assert frame["lcl"].round(6).tolist() == [0.662009, 0.444018]
    assert frame["ucl"].tolist() == [1.0, 1.0]
    assert frame["signal"].tolist() == [False, False]
    # NPS 40 +/- 196 sqrt((0.6 + 0.2 - 0.4^2) / 5) = 40 +/- 70.12.
    assert frame["nps"].tolist() == [100.0, 40.0]
    assert round(frame["nps_low"].iloc[1], 4) == -30.1218
    assert frame["nps_high"].iloc[1] == 100.0


def test_monthly_satisfaction_store_filter_and_empty_months(kpi_con):
    frame = sat.monthly_satisfaction(kpi_con, ["B"], start="2024-04", end="2024-06")
    assert frame[["month", "n", "satisfied"]].values.tolist() == [
        ["2024-04", 0, 0],
        ["2024-05", 0, 0],
        ["2024-06", 2, 1],
    ]
    assert frame["rate"].isna().tolist() == [True, True, False]


def test_dimension_scores_are_monthly_means_with_their_n(kpi_con):
    frame = sat.dimension_scores(kpi_con, start="2024-06", end="2024-06")
    assert frame[["dimension", "mean", "n"]].values.tolist() == [
        ["attitude", 8.4, 5],
        ["quality", 7.5, 4],  # the delivery call cb09 has no quality, timeliness or price score
        ["timeliness", 7.5, 4],
        ["price", 6.5, 4],
        ["environment", 8.8, 5],
    ]


def test_dimension_drivers_relative_risk_counts_and_logistic_ranking(kpi_con):
    frame = sat.dimension_drivers(kpi_con, start="2024-05", end="2024-06")
    rr = frame[frame["method"] == "relative_risk"].set_index("dimension")
    assert rr.loc["quality", ["n", "n_low", "unsatisfied_low", "n_other", "unsatisfied_other"]].tolist() == [
        24,
        2,
        2,
        22,
        1,
    ]
    assert rr["effect"].round(6).tolist()[:4] == [
        12.0,
        22.0,
        11.5,
        14.0,
    ]  # attitude, quality, timeliness, price
    assert pd.isna(rr.loc["environment", "effect"])  # no low environment scores
    assert rr["rank"].tolist()[:4] == [3, 1, 4, 2]
    logit = frame[frame["method"] == "logistic"].set_index("dimension")
    assert logit["n"].tolist() == [24] * 5  # complete cases: the delivery call lacks three scores
    assert logit["rank"].idxmin() == "quality"
    assert (logit["coefficient"] < 0).all()


def test_breakdown_greys_out_small_segments_and_ranks_the_rest(kpi_con):
    frame = sat.breakdown(kpi_con, "service_type", ("2024-05", "2024-06"), small_n=2)
    assert frame[["segment", "n", "satisfied", "small", "rank"]].astype(object).where(
        frame.notna(), None
    ).values.tolist() == [
        ["maintenance", 22, 21, False, 1],
        ["repair", 2, 0, False, 2],
        [None, 1, 1, True, None],  # delivery calls have no service type
    ]
    assert frame["wilson_high"].round(6).tolist()[1] == 0.65762


def test_breakdown_by_store_and_month_with_default_small_n(kpi_con):
    frame = sat.breakdown(kpi_con, "store", "2024-06")
    assert frame[["segment", "n", "satisfied", "small"]].values.tolist() == [
        ["A", 3, 2, True],
        ["B", 2, 1, True],
    ]
    assert frame["rank"].isna().all()  # both under the default small_n of 10
    by_model = sat.breakdown(kpi_con, "model", "2024-06", stores=["A"], small_n=1)
    assert by_model[["segment", "n", "satisfied", "rank"]].values.tolist() == [["轩逸", 3, 2, 1]]


@pytest.mark.parametrize("by", ["agent", "advisor; DROP TABLE callbacks", "Advisor", ""])
def test_breakdown_rejects_anything_outside_the_allow_list(kpi_con, by):
    with pytest.raises(UserError, match="Cannot break satisfaction down"):
        sat.breakdown(kpi_con, by, "2024-06")


def test_followup_list_marks_follow_ups_known_at_the_reference_time(kpi_con):
    frame = sat.followup_list(kpi_con, date(2024, 6, 1), date(2024, 6, 30), as_of=date(2024, 6, 30))
    assert frame[
        ["callback_id", "unsatisfied", "is_complaint", "followed_up", "hours_since"]
    ].values.tolist() == [
        ["cb15", False, True, False, 16.0],  # resolved and called on 07-01, after the reference time
        ["cb14", False, True, False, 38.0],
        ["cb13", False, True, True, 132.0],  # resolved
        ["cb07", True, True, True, 206.0],  # resolved, and cb14 exactly 7 days later
        ["cb12", False, True, False, 255.0],  # unresolved, no later call on V3
        ["cb04", True, False, True, 397.0],  # the "other" call cb10 two days later
        ["cb11", False, True, True, 472.0],
    ]
    row = frame.set_index("callback_id").loc["cb04"]
    assert (row["plate"], row["customer_name"], row["advisor"], row["service_type"], row["comment"]) == (
        "沪A00136",
        "客户V2",
        "王磊",
        "repair",
        "修了两次还没好",
    )
    assert row["next_callback_at"] == pd.Timestamp("2024-06-16 09:00")
    assert frame.set_index("callback_id").loc["cb13", "limit_hours"] == 48.0  # unknown level


def test_followup_list_store_filter(kpi_con):
    frame = sat.followup_list(kpi_con, date(2024, 6, 1), date(2024, 6, 30), ["A"], as_of=date(2024, 6, 30))
    assert frame["callback_id"].tolist() == ["cb13", "cb12", "cb04", "cb11"]


def test_red_flags_unfollowed_recent_callbacks_and_overdue_complaints(kpi_con):
    frame = sat.red_flags(kpi_con, date(2024, 6, 30))
    assert frame[["flag", "callback_id", "hours_overdue"]].astype(object).where(
        frame.notna(), None
    ).values.tolist() == [
        ["no_followup", "cb15", None],
        ["no_followup", "cb14", None],
        ["complaint_overdue", "cb12", 207.0],  # 255 h against a 48 h limit
    ]
    later = sat.red_flags(kpi_con, datetime(2024, 7, 3, 0, 0))
    assert later[["flag", "callback_id"]].values.tolist() == [["complaint_overdue", "cb12"]]


def test_what_changed_lists_moves_beyond_noise_with_the_concentrating_segment(kpi_con):
    items = sat.what_changed(kpi_con, "2024-06")
    assert [(i["kpi"], i["key"], round(i["params"]["z"], 4)) for i in items] == [
        ("visits", "kpi_fell", -3.0),  # (5 - 20) / sqrt(25)
        ("reach_rate", "kpi_fell", -2.4842),
        ("complaints", "kpi_rose", 2.4495),  # 6 / sqrt(6)
        ("satisfaction_rate", "kpi_fell", -2.1541),
        ("coverage_3dc", "kpi_fell", -2.0412),
    ]
    sat_item = items[3]
    assert sat_item["params"] | {"z": None} == {
        "before": 0.95,
        "after": 0.6,
        "n_before": 20,
        "n_after": 5,
        "z": None,
    }
    assert sat_item["segment"] == {
        "advisor": "王磊",
        "service_type": "repair",
        "n_before": 0,
        "n_after": 2,
        "rate_before": None,
        "rate_after": 0.0,
        "contribution": -0.4,
        "share": 8 / 7,  # -0.4 of a -0.35 change: the other segments improved
    }
    assert sat.describe_change(sat_item, "en") == (
        "Satisfaction rate fell from 95.0% to 60.0% (n=5); the drop is concentrated in repairs handled by advisor 王磊."
    )
    assert (
        sat.describe_change(sat_item, "zh")
        == "满意率从95.0%降至60.0%（n=5）；下降主要集中在服务顾问王磊负责的一般维修。"
    )
    assert sat.describe_change(items[2], "en") == "Complaints rose from 0 to 6 (n=15)."


def test_what_changed_is_empty_when_a_month_has_no_data(kpi_con):
    assert sat.what_changed(kpi_con, "2022-01") == []


def test_what_changed_from_shared_counts_equals_its_own_queries(kpi_con):
    counts = kpi.counts_by_month(kpi_con, kpi.overview_months("2024-06"))
    assert sat.what_changed(kpi_con, "2024-06", counts=counts) == sat.what_changed(kpi_con, "2024-06")


def test_red_flags_follow_the_store_filter(kpi_con):
    assert sat.red_flags(kpi_con, date(2024, 6, 30), ["A"])["callback_id"].tolist() == ["cb12"]
    assert sat.red_flags(kpi_con, date(2024, 6, 30), ["B"])["callback_id"].tolist() == ["cb15", "cb14"]


def test_empty_database_gives_empty_frames_and_no_changes():
    from analytics import db

    con = db.connect(":memory:")
    assert sat.monthly_satisfaction(con).empty
    assert sat.dimension_scores(con).empty
    assert sat.followup_list(con, date(2024, 6, 1), date(2024, 6, 30), as_of=date(2024, 6, 30)).empty
    assert sat.red_flags(con, date(2024, 6, 30)).empty
    assert sat.what_changed(con, "2024-06") == []
    assert sat.breakdown(con, "advisor", "2024-06").empty
    assert len(sat.dimension_drivers(con)) == 5  # relative-risk rows with n 0, no logistic fit
    assert kpi.report(con, "2024-06")["kpis"]["visits"] == {
        "value": None,
        "n": 0,
        "target": None,
        "prev_month": None,
        "prev_year": None,
    }
