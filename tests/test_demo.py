"""The demo dealership: sizes, determinism, file formats and the mechanisms' signatures."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from analytics import cli
from analytics.devtools import demo
from analytics.devtools import demo_text as text
from analytics.domain import kpi
from analytics.store import db

SMALL = demo.DemoConfig(scale=0.1)


@pytest.fixture(scope="session")
def full() -> dict[str, pd.DataFrame]:
    return demo.generate(demo.DemoConfig())


@pytest.fixture(scope="session")
def small() -> dict[str, pd.DataFrame]:
    return demo.generate(SMALL)


@pytest.fixture(scope="session")
def small_files(small, tmp_path_factory) -> list[tuple[Path, str]]:
    return demo.write_dms_files(small, tmp_path_factory.mktemp("demo_files"), SMALL)


def _digests(files: list[tuple[Path, str]]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p, _ in files}


# ---- sizes and determinism -------------------------------------------------------------------


def test_default_demo_has_the_promised_sizes(full):
    sizes = demo.demo_sizes(full)
    assert 9_000 <= sizes["vehicles"] <= 11_000
    assert 33_000 <= sizes["orders"] <= 44_000
    assert 28_000 <= sizes["callbacks"] <= 38_000
    assert 3_000 <= sizes["callbacks_7dc"] <= 5_000
    assert sizes["distinct_comments"] >= 2_000
    assert sizes["planted_bad_rows"] == demo.PLANTED_BAD_ROWS


def test_window_is_three_years_ending_with_the_end_date(full):
    visits = full["service"]["visit_date"]
    assert visits.min() >= pd.Timestamp("2023-11-01")
    assert visits.max() <= pd.Timestamp("2026-10-31")
    assert demo.DemoConfig().start == date(2023, 11, 1)
    assert full["callback"]["callback_date"].max() < pd.Timestamp("2026-11-01")
    # every month of the window has visits and callbacks
    assert visits.dt.to_period("M").nunique() == 36
    assert full["callback"]["callback_date"].dt.to_period("M").nunique() == 36


def test_same_seed_gives_identical_frames_and_another_seed_does_not(small):
    again = demo.generate(SMALL)
    for kind in ("service", "callback"):
        pd.testing.assert_frame_equal(small[kind], again[kind])
    other = demo.generate(demo.DemoConfig(seed=8, scale=0.1))
    assert not other["service"]["vin"].equals(small["service"]["vin"])


def test_same_seed_gives_byte_identical_files(small, small_files, tmp_path):
    again = demo.write_dms_files(demo.generate(SMALL), tmp_path, SMALL)
    assert [p.name for p, _ in again] == [p.name for p, _ in small_files]
    assert _digests(again) == _digests(small_files)


def test_canonical_columns_come_first_and_hidden_ones_start_with_underscore(small):
    service, callbacks = small["service"], small["callback"]
    assert list(service.columns[: len(db.SERVICE_COLUMNS)]) == list(db.SERVICE_COLUMNS)
    assert list(callbacks.columns[: len(db.CALLBACK_COLUMNS)]) == list(db.CALLBACK_COLUMNS)
    assert all(c.startswith("_") for c in service.columns[len(db.SERVICE_COLUMNS) :])
    assert all(c.startswith("_") for c in callbacks.columns[len(db.CALLBACK_COLUMNS) :])
    assert service["order_id"].is_unique
    assert callbacks["callback_id"].is_unique
    assert set(service["service_type"]) == set(db.SERVICE_TYPES)
    assert set(callbacks["callback_type"]) == {"3DC", "7DC"}


def test_group_of_stores_has_distinct_stores_ids_and_vins():
    cfg = demo.DemoConfig(stores=3, scale=0.05)
    frames = demo.generate(cfg)
    service = frames["service"]
    assert sorted(service["store"].unique()) == sorted(["杭州西湖店", "杭州滨江店", "宁波鄞州店"])
    assert service["order_id"].is_unique
    assert frames["callback"]["callback_id"].is_unique
    assert service.groupby("vin")["store"].nunique().max() == 1
    # store 1 is the same whether or not it belongs to a group
    alone = demo.generate(demo.DemoConfig(scale=0.05))["service"]
    first = service[service["store"] == "杭州西湖店"].reset_index(drop=True)
    pd.testing.assert_series_equal(first["order_id"], alone["order_id"])


def test_bad_config_is_refused_in_one_sentence():
    with pytest.raises(demo.UserError, match="at least one store"):
        demo.generate(demo.DemoConfig(stores=0))
    with pytest.raises(demo.UserError, match="positive"):
        demo.generate(demo.DemoConfig(scale=0))


# ---- identities and data-quality findings ----------------------------------------------------


def test_vin_check_digit_matches_the_iso_3779_example():
    assert demo.vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert demo.vin_check_digit("11111111111111111") == "1"


def test_about_one_percent_of_vins_carry_a_wrong_check_digit(full):
    vins = full["service"].drop_duplicates("_vehicle")["vin"]
    assert vins.str.fullmatch(r"[A-HJ-NPR-Z0-9]{17}").all()
    valid = np.mean([demo.vin_check_digit(v) == v[8] for v in vins])
    assert 0.985 <= valid <= 0.995


def test_phones_are_mobiles_except_a_few_wrong_ones(full):
    phones = full["service"].drop_duplicates("_vehicle")["phone"]
    mobile = phones.str.fullmatch(r"1[3-9]\d{9}")
    assert 0.99 <= mobile.mean() < 1.0


def test_plates_look_like_chinese_plates(full):
    plates = full["service"].drop_duplicates("_vehicle")["plate"]
    assert plates.str.fullmatch(r"[浙沪苏皖赣闽][A-Z](D\d{5}|[A-HJ-NP-Z0-9]{5})").all()
    assert plates.str.startswith("浙A").mean() > 0.8


def test_about_half_a_percent_of_odometer_readings_go_backwards(full):
    s = full["service"].sort_values(["_vehicle", "visit_date", "order_id"])
    prev = s.groupby("_vehicle")["mileage_km"].shift()
    backwards = (s["mileage_km"] < prev).sum()
    assert 0.002 * len(s) <= backwards <= 0.012 * len(s)


# ---- mechanisms ------------------------------------------------------------------------------


def _reached_3dc_with_orders(frames):
    cb = frames["callback"]
    reached = cb[cb["reached"] & (cb["callback_type"] == "3DC")]
    return reached.merge(frames["service"], on=["order_id", "vin"], how="inner")


def test_wang_lei_repair_satisfaction_drops_in_the_last_three_months(full):
    m = _reached_3dc_with_orders(full)
    m = m[m["service_type"].isin(["repair", "warranty"])]
    m = m.assign(sat=m["overall_score"] >= 8, recent=m["visit_date"] >= pd.Timestamp("2026-08-01"))
    wang = m[m["advisor"] == "王磊"]
    recent = wang[wang["recent"]]["sat"]
    before = wang[~wang["recent"]]["sat"]
    others_recent = m[(m["advisor"] != "王磊") & m["recent"]]["sat"]
    assert len(recent) >= 50
    assert recent.mean() < before.mean() - 0.08
    assert recent.mean() < others_recent.mean() - 0.1


def test_excellent_advisor_beats_poor_advisor_on_attitude(full):
    m = _reached_3dc_with_orders(full)
    by = m.groupby("advisor")["attitude_score"].mean()
    assert by["陈静"] == by.max()
    assert by["王磊"] == by.min()
    joined = full["service"][full["service"]["advisor"] == "周杰"]["visit_date"].min()
    assert joined > pd.Timestamp("2025-01-01")


def test_customers_with_a_complaint_come_back_less_often(full):
    service = full["service"].sort_values(["_vehicle", "visit_date", "order_id"])
    nxt = service.groupby("_vehicle")["visit_date"].shift(-1)
    service = service.assign(returned=(nxt - service["visit_date"]).dt.days <= 365)
    complained = set(full["callback"].loc[full["callback"]["is_complaint"], "order_id"].dropna())
    early = service[service["visit_date"] < pd.Timestamp("2025-10-01")]
    with_c = early[early["order_id"].isin(complained)]["returned"]
    without = early[~early["order_id"].isin(complained)]["returned"]
    assert len(with_c) >= 200
    assert with_c.mean() < without.mean() - 0.2


def test_due_maintenance_returns_come_from_the_stores_invitation_calls(small, demo_db):
    """The due-maintenance return rate (the KPI's own due list, from the imported demo) is made by
    the store's calls: due customers it reached come back far more often than the others."""
    con = db.connect(demo_db, read_only=True)
    try:
        due = pd.concat(
            [
                kpi.due_vehicles(con, f"{m:%Y-%m}")
                for m in pd.date_range("2024-08-01", "2026-09-01", freq="MS")
            ],
            ignore_index=True,
        )
    finally:
        con.close()
    calls = small["invitation"]
    assert set(calls.columns) >= {"vin", "call_date", "due_date", "reached", "booked"}
    assert calls["call_date"].min() >= pd.Timestamp("2023-11-01")
    assert calls["call_date"].max() <= pd.Timestamp("2026-10-31")
    assert not (calls["booked"] & ~calls["reached"]).any()
    # A due vehicle counts as reached when a call reached its owner from a month before its due
    # month to the month's end (the store's due date and the KPI's differ by the km-per-day estimate).
    due = due.assign(month=pd.to_datetime(due["due_date"]).dt.to_period("M").dt.start_time)
    pairs = due[["vin", "month"]].merge(calls, on="vin")
    window = (pairs["call_date"] >= pairs["month"] - pd.Timedelta(days=30)) & (
        pairs["call_date"] < pairs["month"] + pd.offsets.MonthBegin(1)
    )
    hit = pairs[window].groupby(["vin", "month"])[["reached", "booked"]].any()
    due = due.merge(hit, left_on=["vin", "month"], right_index=True, how="left")
    reached = due["reached"].fillna(False).astype(bool)
    booked = due["booked"].fillna(False).astype(bool)
    returned = due["returned_on"].notna()
    assert reached.sum() >= 300 and (~reached).sum() >= 300
    assert returned[reached].mean() > returned[~reached].mean() + 0.2
    # Who books on the call comes within the return window; who declines returns no more often
    # than those the store never reached.
    assert returned[booked].mean() > 0.75
    assert returned[reached & ~booked].mean() < returned[~reached].mean() + 0.1


def test_complaints_are_a_few_percent_of_reached_callbacks_with_levels_and_timeliness(full):
    cb = full["callback"]
    reached = cb[cb["reached"]]
    comp = cb[cb["is_complaint"]]
    assert 0.02 <= len(comp) / len(reached) <= 0.04
    assert comp["reached"].all()
    assert set(comp["complaint_category"]) <= set(demo.COMPLAINT_CATEGORIES.values())
    assert comp["complaint_level"].value_counts(normalize=True)[1] > 0.45
    assert set(comp["complaint_level"].dropna().astype(int)) == {1, 2, 3, 4}
    limit = comp["complaint_level"].astype(int).map({1: 24, 2: 48, 3: 72, 4: 24})
    hours = (comp["resolved_at"] - comp["callback_date"]).dt.total_seconds() / 3600
    within = (hours <= limit).mean()
    assert 0.75 <= within <= 0.92
    assert 0 < comp["resolved_at"].isna().sum() < 0.1 * len(comp)
    assert (
        cb.loc[~cb["is_complaint"], ["complaint_category", "complaint_level", "resolved_at"]]
        .isna()
        .all()
        .all()
    )


def test_unreached_attempts_have_no_scores_and_reached_ones_have_all(full):
    cb = full["callback"]
    score_cols = ["overall_score", "attitude_score", "recommend_score"]
    assert cb.loc[~cb["reached"], [*score_cols, "comment"]].isna().all().all()
    three = cb[cb["reached"] & (cb["callback_type"] == "3DC")]
    assert three[[*score_cols, "quality_score", "price_score", "environment_score"]].notna().all().all()
    assert set(three["overall_score"]) == {2.0, 4.0, 6.0, 8.0, 10.0}
    assert set(three["quality_score"]) <= {2.0, 4.0, 6.0, 8.0, 10.0}
    assert three["recommend_score"].between(0, 10).all()
    assert 0.8 <= cb["reached"].mean() <= 0.88


def test_overall_satisfaction_is_driven_most_by_quality_and_least_by_environment(full):
    cb = full["callback"]
    r = cb[cb["reached"] & (cb["callback_type"] == "3DC")]
    dims = ["attitude_score", "quality_score", "timeliness_score", "price_score", "environment_score"]
    x = np.column_stack([np.ones(len(r)), r[dims].to_numpy()])
    coef = np.linalg.lstsq(x, r["overall_score"].to_numpy(), rcond=None)[0][1:]
    weights = dict(zip(dims, coef, strict=True))
    assert max(weights, key=weights.get) == "quality_score"
    assert min(weights, key=weights.get) == "environment_score"


def test_most_3dc_callbacks_come_within_three_days_and_7dc_follow_deliveries(full):
    cb = full["callback"]
    first = cb[cb["callback_type"] == "3DC"].drop_duplicates("order_id")
    m = first.merge(full["service"][["order_id", "visit_date"]], on="order_id")
    delay = (m["callback_date"].dt.normalize() - m["visit_date"]).dt.days
    assert delay.min() >= 0
    assert 0.85 <= (delay <= 3).mean() <= 0.97
    coverage = len(m) / len(full["service"])
    assert 0.65 <= coverage <= 0.85
    seven = cb[cb["callback_type"] == "7DC"]
    assert seven["order_id"].isna().all()
    assert seven["vin"].notna().all()
    assert seven[["quality_score", "price_score"]].isna().all().all()


def test_appointments_are_a_quarter_to_a_third_of_visits_and_rise(full):
    s = full["service"]
    assert 0.25 <= s["is_appointment"].mean() <= 0.38
    by_year = s.groupby(s["visit_date"].dt.year)["is_appointment"].mean()
    assert by_year[2026] > by_year[2024] + 0.03
    maint = s[s["service_type"].isin(["maintenance", "first_maintenance"])]["is_appointment"].mean()
    assert maint > s[s["service_type"] == "repair"]["is_appointment"].mean() + 0.1


def test_first_maintenance_comes_early_and_warranty_claims_only_under_warranty(full):
    s = full["service"]
    first = s[s["service_type"] == "first_maintenance"]
    age = (first["visit_date"] - first["purchase_date"]).dt.days
    assert age.median() < 190
    assert first.groupby("vin").size().max() == 1
    warranty = s[s["service_type"] == "warranty"]
    age_w = (warranty["visit_date"] - warranty["purchase_date"]).dt.days
    assert (age_w <= 3 * 366).all()


def test_busy_weeks_before_chinese_new_year_lengthen_waits(full):
    s = full["service"]
    maint = s[s["service_type"] == "maintenance"]
    cny = pd.Timestamp("2025-01-29")
    busy = maint[(maint["visit_date"] >= cny - pd.Timedelta(days=21)) & (maint["visit_date"] < cny)]
    calm = maint[maint["visit_date"].dt.month.isin([4, 5])]
    assert busy["_wait_min"].median() > 1.2 * calm["_wait_min"].median()
    holiday = s[(s["visit_date"] >= cny) & (s["visit_date"] <= cny + pd.Timedelta(days=5))]
    assert len(holiday) == 0


def test_churn_reasons_cover_every_mechanism(full):
    reasons = full["service"].drop_duplicates("_vehicle")["_churn_reason"].value_counts()
    assert set(reasons.index) == set(demo.CHURN_REASONS)
    assert reasons[""] > reasons.drop("").max()


# ---- comments --------------------------------------------------------------------------------


def test_pickup_praise_appears_only_from_june_2026(full):
    cb = full["callback"]
    pickup = cb[cb["_aspects"].str.contains("pickup")]
    assert len(pickup) >= 100
    assert pickup["callback_date"].min() >= pd.Timestamp("2026-06-01")
    mentions = cb[cb["comment"].fillna("").str.contains("取送车|取车")]
    assert mentions["callback_date"].min() >= pd.Timestamp("2026-06-01")


def test_lounge_complaints_fall_after_the_renovation(full):
    cb = full["callback"]
    lounge = cb[(cb["_aspect"] == "lounge") & (cb["_sentiment"] == "complaint")]
    before = (lounge["callback_date"] < pd.Timestamp("2025-04-01")).sum() / 17
    after = (lounge["callback_date"] >= pd.Timestamp("2025-05-01")).sum() / 18
    assert before > 4 * after


def test_comments_are_many_distinct_and_mostly_present_when_reached(full):
    cb = full["callback"]
    reached = cb[cb["reached"]]
    assert reached["comment"].notna().mean() > 0.85
    comments = reached["comment"].dropna()
    assert comments.nunique() >= 2_000
    assert {"满意", "挺好的", "没意见", "无"} <= set(comments)
    assert comments.str.contains("分钟|小时").sum() > 200
    assert comments.str.contains("王磊|小王|王顾问").sum() > 100


def test_comments_agree_with_their_truth_columns(full):
    cb = full["callback"].dropna(subset=["comment"])
    assert set(cb["_sentiment"]) == {"praise", "complaint", "none"}
    assert set(cb["_aspect"]) <= {*text.ASPECTS, "none"}
    none = cb[cb["_sentiment"] == "none"]
    assert (none["_aspect"] == "none").all()
    assert set(none["comment"]) <= {*text.CONTENTLESS_GOOD, *text.CONTENTLESS_MEH, *text.CONTENTLESS_BAD}
    complaints = cb[cb["is_complaint"]]
    assert (complaints["_sentiment"] == "complaint").all()
    praise = cb[cb["_sentiment"] == "praise"]
    assert (praise["overall_score"] >= 8).all()
    washing = praise[praise["_aspect"] == "car_wash"]["comment"]
    assert washing.str.contains("洗").mean() > 0.95


def test_every_comment_can_be_written_in_gbk(full):
    for comment in full["callback"]["comment"].dropna().unique():
        comment.encode("gbk")


def test_labelled_comments_returns_text_aspect_and_sentiment():
    sample = demo.labelled_comments(seed=7, n=500)
    assert list(sample.columns) == ["comment", "aspect", "sentiment"]
    assert len(sample) == 500
    assert set(sample["sentiment"]) == {"praise", "complaint", "none"}
    assert (sample.loc[sample["sentiment"] == "none", "aspect"] == "none").all()
    assert sample.equals(demo.labelled_comments(seed=7, n=500))


def test_compose_fills_every_slot():
    n = 60
    rng = np.random.default_rng(0)
    out = text.compose(
        np.array([text.SENTIMENT_PRAISE, text.SENTIMENT_COMPLAINT, text.SENTIMENT_MIXED] * 20),
        np.array([text.ASPECT_INDEX[a] for a in ["price", "waiting", "quality"] * 20]),
        np.full(n, text.ASPECT_INDEX["attitude"]),
        [text.KIND_REPAIR] * n,
        ["王磊"] * n,
        ["何佳"] * n,
        ["轩逸"] * n,
        ["刹车片"] * n,
        np.full(n, 95.0),
        np.full(n, 2),
        np.full(n, 1280.0),
        np.full(n, 2),
        rng.random((n, text.N_UNIFORMS)),
    )
    assert all("{" not in c and "}" not in c for c in out)
    assert len(set(out)) > 30


# ---- files -----------------------------------------------------------------------------------


def test_files_are_one_per_year_and_kind(small_files):
    names = [p.name for p, _ in small_files]
    assert names == [
        "维修工单_杭州西湖店_2023.csv",
        "维修工单_杭州西湖店_2024.csv",
        "维修工单_杭州西湖店_2025.csv",
        "维修工单_杭州西湖店_2026.csv",
        "回访记录_杭州西湖店_2023.xlsx",
        "回访记录_杭州西湖店_2024.xlsx",
        "回访记录_杭州西湖店_2025.xlsx",
        "回访记录_杭州西湖店_2026.xlsx",
        "新车交付7DC回访.csv",
    ]
    assert [k for _, k in small_files] == ["service"] * 4 + ["callback"] * 5


def test_service_csv_is_gbk_with_a_title_line_and_dms_values(small, small_files):
    path = small_files[1][0]
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw.decode("gbk"))))
    assert rows[0] == ["杭州恒通汽车销售服务有限公司 维修工单导出 2024年"]
    header = rows[1]
    assert header == [h for h, _ in demo.SERVICE_HEADERS]
    body = pd.DataFrame(rows[2:], columns=header)
    expected = small["service"][small["service"]["visit_date"].dt.year == 2024]
    assert len(body) == len(expected)
    assert set(body["维修类型"]) == {"首保", "定保", "一般维修", "索赔", "钣喷", "其他"}
    assert set(body["是否预约"]) == {"是", "否"}
    assert body["进厂日期"].str.fullmatch(r"2024/\d\d/\d\d").sum() >= len(body) - demo.PLANTED_BAD_ROWS
    assert body["结算金额"].str.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d").all()
    assert body["结算金额"].str.contains(",").any()
    first = expected.sort_values(["visit_date", "order_id"]).iloc[0]
    row = body.iloc[0]
    assert row["工单号"] == first["order_id"]
    assert float(row["结算金额"].replace(",", "")) == pytest.approx(first["amount"])
    assert int(row["进厂里程"]) == first["mileage_km"]
    labour = body["工时费"].str.replace(",", "").astype(float)
    parts = body["配件费"].str.replace(",", "").astype(float)
    total = body["结算金额"].str.replace(",", "").astype(float)
    assert np.allclose(labour + parts, total)


def test_planted_rows_carry_impossible_visit_dates(small, small_files):
    planted = small["service"][small["service"]["_bad_visit_date"] != ""]
    assert len(planted) == demo.PLANTED_BAD_ROWS
    text_all = "".join(p.read_bytes().decode("gbk") for p, k in small_files if k == "service")
    for bad in planted["_bad_visit_date"]:
        assert re.fullmatch(r"\d{4}/(13/\d\d|\d\d/3[02])", bad)
        assert bad in text_all


def test_callback_xlsx_opens_with_openpyxl_with_date_cells(small, small_files):
    path = next(p for p, _ in small_files if p.name.endswith("2025.xlsx"))
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "杭州恒通汽车销售服务有限公司 售后回访记录 2025年"
    assert list(rows[1]) == [h for h, _ in demo.CALLBACK_HEADERS]
    cb = small["callback"]
    expected = cb[(cb["callback_type"] == "3DC") & (cb["callback_date"].dt.year == 2025)]
    assert len(rows) - 2 == len(expected)
    first = dict(zip(rows[1], rows[2], strict=True))
    truth = expected.iloc[0]
    assert first["回访编号"] == truth["callback_id"]
    assert first["回访日期"] == truth["callback_date"].to_pydatetime()
    reached_at = rows[1].index("是否接通")
    reached_rows = [dict(zip(rows[1], r, strict=True)) for r in rows[2:] if r[reached_at] == "接通"]
    assert {r["总体满意度"] for r in reached_rows} == set(demo.OVERALL_LABELS)
    assert {r["服务态度"] for r in reached_rows} <= {1, 2, 3, 4, 5}
    assert {r[rows[1].index("门店")] for r in rows[2:]} == {truth["store"]}  # the store's own file
    unreached = {r[reached_at] for r in rows[2:]} - {"接通"}
    assert unreached == {"未接通", "无人接听", "关机", "拒接"}


def test_7dc_file_is_utf8_with_bom_and_empty_order_ids(small, small_files):
    path = small_files[-1][0]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [h for h, _ in demo.DELIVERY_HEADERS]
    body = pd.DataFrame(rows[1:], columns=rows[0])
    assert len(body) == (small["callback"]["callback_type"] == "7DC").sum()
    assert (body["工单号"] == "").all()
    assert (body["回访类型"] == "7DC").all()
    assert body["回访日期"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
    # The selling store: the store whose simulation delivered the car.
    seven = small["callback"][small["callback"]["callback_type"] == "7DC"]
    assert body["门店"].tolist() == seven["store"].tolist() and body["门店"].ne("").all()


def test_csv_only_writes_callbacks_as_csv(small, tmp_path):
    files = demo.write_dms_files(small, tmp_path, SMALL, xlsx=False)
    callbacks = [p for p, k in files if k == "callback"]
    assert all(p.suffix == ".csv" for p in callbacks)
    rows = list(csv.reader(io.StringIO(callbacks[0].read_text(encoding="utf-8-sig"))))
    assert rows[1] == [h for h, _ in demo.CALLBACK_HEADERS]


# ---- command line ----------------------------------------------------------------------------


def test_demo_command_has_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--seed", "--stores", "--scale", "--end", "--files-dir", "--force", "--json", "--db"):
        assert flag in out


def test_demo_command_refuses_a_database_that_holds_data(tmp_path, capsys):
    path = tmp_path / "x.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO service_orders (order_id, visit_date, service_type, import_id) "
        "VALUES ('A1', DATE '2024-01-02', 'repair', 1)"
    )
    con.close()
    assert cli.main(["demo", "--db", str(path), "--scale", "0.02"]) == 2
    err = capsys.readouterr().err
    assert "already holds data (1 work orders, 0 callbacks)" in err
    assert "--force" in err


def test_demo_command_refuses_a_bad_scale(tmp_path, capsys):
    assert cli.main(["demo", "--db", str(tmp_path / "x.duckdb"), "--scale", "-1"]) == 2
    assert "--scale" in capsys.readouterr().err


# ---- through the real import path ------------------------------------------------------------


def test_build_demo_imports_everything_and_a_second_build_changes_nothing(tmp_path):
    pytest.importorskip("analytics.ingest")
    cfg = demo.DemoConfig(scale=0.05)
    frames = demo.generate(cfg)
    path = tmp_path / "demo.duckdb"
    first = demo.build_demo(path, cfg, files_dir=tmp_path / "files")
    planted = demo.PLANTED_BAD_ROWS
    assert first["rejected"] == planted
    assert sum(i["inserted"] for i in first["imports"]) == len(frames["service"]) - planted + len(
        frames["callback"]
    )

    con = db.connect(path, read_only=True)
    orders = con.execute("SELECT order_id, amount, mileage_km, service_type FROM service_orders").df()
    calls = con.execute(
        "SELECT callback_id, order_id, callback_date, reached, overall_score, quality_score, "
        "recommend_score, comment, complaint_level, resolved_at FROM callbacks"
    ).df()
    con.close()
    good = frames["service"][frames["service"]["_bad_visit_date"] == ""]
    assert sorted(orders["order_id"]) == sorted(good["order_id"])
    assert orders["amount"].sum() == pytest.approx(good["amount"].sum())
    assert orders["mileage_km"].sum() == good["mileage_km"].sum()
    assert orders["service_type"].value_counts().to_dict() == good["service_type"].value_counts().to_dict()
    truth = frames["callback"].set_index("callback_id").loc[calls["callback_id"]]
    assert len(calls) == len(frames["callback"])
    assert (calls["reached"].to_numpy() == truth["reached"].to_numpy()).all()
    assert np.array_equal(
        calls["overall_score"].to_numpy(), truth["overall_score"].to_numpy(), equal_nan=True
    )
    assert np.array_equal(
        calls["quality_score"].to_numpy(), truth["quality_score"].to_numpy(), equal_nan=True
    )
    assert (pd.to_datetime(calls["callback_date"]).to_numpy() == truth["callback_date"].to_numpy()).all()
    assert calls["comment"].fillna("").tolist() == truth["comment"].fillna("").tolist()
    assert calls["order_id"].isna().sum() == (truth["callback_type"] == "7DC").sum()

    second = demo.build_demo(path, cfg, files_dir=tmp_path / "files")
    assert sum(i["inserted"] + i["updated"] for i in second["imports"]) == 0
    con = db.connect(path, read_only=True)
    assert con.execute("SELECT count(*) FROM service_orders").fetchone()[0] == len(good)
    assert con.execute("SELECT count(*) FROM callbacks").fetchone()[0] == len(frames["callback"])
    con.close()


def test_files_do_not_depend_on_the_process_hash_seed(tmp_path):
    import os
    import subprocess
    import sys

    script = (
        "import sys, hashlib; from pathlib import Path; from analytics.devtools import demo; "
        "cfg = demo.DemoConfig(scale=0.03, stores=2); "
        "files = demo.write_dms_files(demo.generate(cfg), Path(sys.argv[1]), cfg); "
        "print(hashlib.sha256(b''.join(p.read_bytes() for p, _ in files)).hexdigest())"
    )
    root = Path(__file__).resolve().parents[1]
    digests = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / hash_seed)],
            env=env, capture_output=True, text=True, check=True, cwd=root,
        )  # fmt: skip
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1]


def test_demo_command_with_force_deletes_the_database_before_building(tmp_path, monkeypatch, capsys):
    path = tmp_path / "x.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO service_orders (order_id, visit_date, service_type, import_id) "
        "VALUES ('A1', DATE '2024-01-02', 'repair', 1)"
    )
    con.close()
    seen = {}

    def fake_build(db_path, cfg, *, files_dir, progress, xlsx):
        seen.update(exists=Path(db_path).exists(), cfg=cfg, files_dir=files_dir, xlsx=xlsx)
        sizes = demo.demo_sizes(demo.generate(cfg))
        return {"sizes": sizes, "rejected": 3, "files_dir": str(files_dir), "imports": [],
                "seconds": {"generate": 0.1, "write_files": 0.1, "import": 0.1, "total": 0.3}}  # fmt: skip

    monkeypatch.setattr(demo, "build_demo", fake_build)
    args = ["demo", "--db", str(path), "--force", "--seed", "3", "--scale", "0.02", "--end", "2025-12-31"]
    assert cli.main([*args, "--files-dir", str(tmp_path / "f"), "--csv-only"]) == 0
    assert seen["exists"] is False
    assert seen["cfg"] == demo.DemoConfig(seed=3, scale=0.02, end=date(2025, 12, 31))
    assert seen["xlsx"] is False
    out = capsys.readouterr().out
    assert "Demo dealership built in" in out
    assert (
        "3 rows rejected (the demo plants 3 with impossible dates): 0 work orders and 0 callbacks stored."
        in out
    )
    # The audit log tells what the simulator made from what the database holds (it said "inserted").
    con = db.connect(path, read_only=True)
    try:
        detail = json.loads(con.execute("SELECT detail FROM audit_log WHERE action = 'import'").fetchone()[0])
    finally:
        con.close()
    assert detail["stored"] == {"orders": 0, "callbacks": 0} and detail["generated"]["planted_bad_rows"] == 3
    assert "inserted" not in detail
