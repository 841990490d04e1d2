"""Satisfaction analytics on the hand-built fixture (tests/fixtures_kpi.py); literals worked out by hand."""

import dataclasses
import math
from datetime import date, datetime

import pandas as pd
import pytest

from analytics.core.errors import UserError
from analytics.domain import kpi
from analytics.domain import satisfaction as sat


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
    from analytics.store import db

    con = db.connect(":memory:")
    assert sat.monthly_satisfaction(con).empty
    assert sat.dimension_scores(con).empty
    assert sat.followup_list(con, date(2024, 6, 1), date(2024, 6, 30), as_of=date(2024, 6, 30)).empty
    assert sat.red_flags(con, date(2024, 6, 30)).empty
    assert sat.what_changed(con, "2024-06") == []
    assert sat.breakdown(con, "advisor", "2024-06").empty
    assert len(sat.dimension_drivers(con)) == 5  # relative-risk rows with n 0, no logistic fit
    # No data at all: every figure's history is insufficient, and it says from when it would need data.
    assert kpi.report(con, "2024-06")["kpis"]["visits"] == {
        "value": None,
        "n": 0,
        "target": None,
        "status": "insufficient_history",
        "needs_from": "2024-06-01",
        "reason": "needs data from 2024-06-01 on",
        "provisional": False,
        "prev_month": None,
        "prev_month_status": "insufficient_history",
        "prev_year": None,
        "prev_year_status": "insufficient_history",
    }


def test_the_typed_series_states_the_month_against_its_control_limits(kpi_con):
    frame = sat.monthly_satisfaction(kpi_con, start="2024-05", end="2024-06")
    series = sat.series_of(frame)
    june = series.at("2024-06")
    assert june is not None
    shown = {k: round(v, 6) if isinstance(v, float) else v for k, v in dataclasses.asdict(june).items()}
    assert shown == {
        "month": "2024-06",
        "n": 5,
        "satisfied": 3,
        "rate": 0.6,
        "wilson_low": 0.230724,
        "wilson_high": 0.882379,
        "centre": 0.88,
        "lcl": 0.444018,
        "ucl": 1.0,
        "signal": False,
        "nps_n": 5,
        "promoters": 3,
        "detractors": 1,  # NPS (3 - 1) / 5 = 40
        "nps": 40.0,
        "nps_low": -30.121803,
        "nps_high": 100.0,
    }
    assert june.position == "inside"  # 0.6 is above the lower limit 0.444018
    assert series.signals == []
    assert series.at("2024-04") is None
    # the charts read the same frame back
    pd.testing.assert_frame_equal(series.frame(), frame)
    assert sat.satisfaction_series(kpi_con, None, "2024-05", "2024-06") == series


def test_the_typed_series_names_the_months_outside_their_limits():
    frame = pd.DataFrame(
        {
            "month": ["2024-01", "2024-02", "2024-03"],
            "n": [100, 100, 0],
            "satisfied": [60, 99, 0],
            "rate": [0.6, 0.99, None],
            "wilson_low": [0.5, 0.95, None],
            "wilson_high": [0.7, 1.0, None],
            "centre": [0.795, 0.795, 0.795],
            "lcl": [0.67, 0.67, 0.0],
            "ucl": [0.92, 0.92, 1.0],
            "signal": [True, True, False],
            "nps_n": [0, 100, 0],
            "promoters": [0, 60, 0],
            "detractors": [0, 10, 0],
            "nps": [None, 50.0, None],
            "nps_low": [None, 40.0, None],
            "nps_high": [None, 60.0, None],
        }
    )
    series = sat.series_of(frame)
    january, february = series.at("2024-01"), series.at("2024-02")
    assert january is not None and january.position == "below" and january.nps is None
    assert february is not None and february.position == "above"
    assert series.signals == ["2024-01", "2024-02"]
    assert series.at("2024-03") is None  # no responses
    assert series.before("2024-02") == january and series.before("2024-01") is None
    assert sat.series_of(pd.DataFrame(columns=list(sat.MONTHLY_COLUMNS))).frame().empty


def test_dimension_summary_gives_the_lowest_and_highest_mean_of_the_month(kpi_con):
    scores = sat.dimension_scores(kpi_con, start="2024-05", end="2024-06")
    assert sat.dimension_summary(scores, "2024-06") == {
        "lowest": "price",
        "lowest_mean": 6.5,
        "lowest_n": 4,
        "highest": "environment",
        "highest_mean": 8.8,
        "highest_n": 5,
        "single": False,
    }
    assert sat.dimension_summary(scores, "2024-07") is None


def test_a_month_with_one_dimension_scored_says_so_instead_of_comparing_it_with_itself():
    """A store's month of delivery calls only (they rate the attitude alone) read "the lowest-scored
    dimension was Attitude at 9.12/10 and the highest Attitude at 9.12/10"."""
    scores = pd.DataFrame(
        {
            "month": ["2025-06", "2025-05"],
            "dimension": ["attitude", "price"],
            "mean": [9.12, 8.0],
            "n": [48, 30],
        }
    )
    summary = sat.dimension_summary(scores, "2025-06")
    assert summary is not None and summary["single"] and summary["lowest"] == summary["highest"] == "attitude"


def test_top_driver_is_the_first_relative_risk_with_the_logistic_first(kpi_con):
    drivers = sat.dimension_drivers(kpi_con, start="2024-05", end="2024-06")
    top = sat.top_driver(drivers)
    assert top | {"rate_other": None, "logistic_effect": None} == {
        "dimension": "quality",
        "effect": 22.0,
        "rate_low": 1.0,  # both low quality scores unsatisfied
        "rate_other": None,
        "n": 24,
        "n_low": 2,
        "tied": [],  # no other dimension at 22.0
        "logistic_dimension": "quality",
        "logistic_effect": None,
        "logistic_n": 24,
    }
    assert top["rate_other"] == 1 / 22
    assert round(top["logistic_effect"], 4) == round(math.exp(-logit_coef(drivers, "quality")), 4)


def logit_coef(drivers, dimension):
    rows = drivers[(drivers["method"] == "logistic") & (drivers["dimension"] == dimension)]
    return float(rows["coefficient"].iloc[0])


def test_top_driver_is_none_when_nothing_is_ranked():
    from analytics.store import db

    assert sat.top_driver(sat.dimension_drivers(db.connect(":memory:"))) is None


def test_breakdown_summary_best_worst_and_small_segments(kpi_con):
    frame = sat.breakdown(kpi_con, "service_type", ("2024-05", "2024-06"), small_n=2)
    summary = sat.breakdown_summary(frame)
    assert (summary["overall"], summary["n"], summary["segments"], summary["n_small"]) == (0.88, 25, 3, 1)
    assert (summary["best"]["segment"], summary["best"]["n"], summary["best"]["rank"]) == (
        "maintenance",
        22,
        1,
    )
    assert (summary["worst"]["segment"], summary["worst"]["n"], summary["worst"]["satisfied"]) == (
        "repair",
        2,
        0,
    )
    assert summary["worst_below"] is True  # repair's interval tops out at 65.8%, under 88%
    by_advisor = sat.breakdown_summary(sat.breakdown(kpi_con, "advisor", ("2024-05", "2024-06"), small_n=2))
    assert by_advisor["best"]["segment"] == "王磊"
    assert (by_advisor["worst"], by_advisor["n_small"], by_advisor["worst_below"]) == (None, 2, False)


def test_followup_filters_counts_and_table(kpi_con):
    frame = sat.followup_list(kpi_con, date(2024, 6, 1), date(2024, 6, 30), as_of=date(2024, 6, 30))
    assert sat.followup_counts(frame) == {
        "n": 7,
        "open": 3,
        "complaints": 6,
        "unsatisfied": 2,
        "advisors": ["张伟", "李娜", "王磊"],
    }
    assert sat.filter_followups(frame, open_only=True)["callback_id"].tolist() == ["cb15", "cb14", "cb12"]
    assert sat.filter_followups(frame, complaints_only=True, advisors=["王磊"])["callback_id"].tolist() == [
        "cb14",
        "cb13",
        "cb07",
        "cb11",
    ]
    assert sat.filter_followups(frame, advisors=[])["callback_id"].tolist() == frame["callback_id"].tolist()
    table = sat.followup_table(frame, "zh")
    assert tuple(table.columns) == sat.FOLLOWUP_COLUMNS
    assert table["service_type"].tolist() == [
        "钣喷",
        "一般维修",
        "定期保养",
        "一般维修",
        "定期保养",
        "一般维修",
        "一般维修",
    ]
    assert table["days_since_callback"].tolist() == [0.7, 1.6, 5.5, 8.6, 10.6, 16.5, 19.7]  # hours / 24
    row = table.set_index("callback_id").loc["cb04"]
    assert (row["plate"], row["overall_score"], row["recommend_score"], row["comment"]) == (
        "沪A00136",
        4.0,
        3.0,
        "修了两次还没好",
    )
    assert sat.followup_table(frame.iloc[:0], "en").columns.tolist() == list(sat.FOLLOWUP_COLUMNS)


def test_breakdown_table_names_segments_and_places_them_against_the_overall_rate(kpi_con):
    frame = sat.breakdown(kpi_con, "service_type", ("2024-05", "2024-06"), small_n=2)
    zh = sat.breakdown_table(frame, "service_type", "zh")
    assert zh[["label", "n", "position"]].values.tolist() == [
        ["定期保养", 22, "inside"],  # 78.2%-99.2% holds the overall 88%
        ["一般维修", 2, "below"],  # 0%-65.8%
        ["无维修类型（交车回访、工单未导入或未填写）", 1, "small"],
    ]
    assert sat.breakdown_table(frame, "service_type", "en")["label"].tolist() == [
        "routine maintenance",
        "repairs",
        "no service type (delivery calls, work order not imported or left blank)",
    ]
    by_advisor = sat.breakdown_table(sat.breakdown(kpi_con, "advisor", "2024-06", small_n=1), "advisor", "en")
    shown = by_advisor[["rank", "label", "n", "position"]]
    assert shown.astype(object).where(shown.notna(), None).values.tolist() == [
        [1, "李娜", 1, "inside"],
        [2, "王磊", 3, "inside"],  # 6.1%-79.2% holds the overall 3/5
        [
            None,
            "no advisor (delivery calls, work order not imported or left blank)",
            1,
            "inside",
        ],  # not ranked
    ]


def test_breakdown_does_not_rank_the_responses_without_a_segment(kpi_con):
    frame = sat.breakdown(kpi_con, "advisor", "2024-06", small_n=1)
    assert frame[["segment", "n", "rank"]].astype(object).where(frame.notna(), None).values.tolist() == [
        ["李娜", 1, 1],
        ["王磊", 3, 2],
        [None, 1, None],  # the delivery call: as satisfied as 李娜, but not an advisor
    ]


def test_red_flags_from_one_list_equal_the_two_spans_they_cover(demo_db):
    # Issue 20: red_flags reads one follow-up list over both spans and splits it; the rows are
    # those of the recent span's list and the complaint lookback's list read apart.
    from datetime import timedelta

    from analytics.core.config import settings
    from analytics.store import db

    cfg = settings().kpi
    con = db.connect(demo_db, read_only=True)
    try:
        end = con.execute("SELECT max(CAST(callback_date AS DATE)) FROM callbacks").fetchone()[0]
        seen: set[str] = set()
        dates = [(end, end.replace(day=1))] + [
            (end - timedelta(days=d), None) for d in (1, 2, 5, 10, 40, 100)
        ]
        for as_of, since in dates:
            got = sat.red_flags(con, as_of, None, since=since)
            ref = sat._reference_time(as_of)
            start = since or as_of - timedelta(days=cfg.red_flag_unsatisfied_days - 1)
            recent = sat.followup_list(con, start, as_of, None, ref)
            older = sat.followup_list(
                con, as_of - timedelta(days=cfg.red_flag_complaint_lookback_days), as_of, None, ref
            )
            overdue = older[
                older["is_complaint"]
                & older["resolved_at"].isna()
                & (older["hours_since"] > older["limit_hours"])
            ]
            seen |= set(got["flag"])
            assert list(got.loc[got["flag"] == "no_followup", "callback_id"]) == list(
                recent.loc[~recent["followed_up"], "callback_id"]
            )
            assert list(got.loc[got["flag"] == "complaint_overdue", "callback_id"]) == list(
                overdue["callback_id"]
            )
        # (the scale-0.1 demo resolves its complaints in time: the hand-built test above has an overdue one)
        assert "no_followup" in seen
    finally:
        con.close()
