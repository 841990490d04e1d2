"""Truth probe 12 (session 23): two stores' DMS files (tests/probe12_data.py) imported through the real
command, and every satisfaction, NPS, dimension, overview, advisor and export figure checked against
numbers worked out by hand from DOMAIN.md, PRODUCT.md §2 and data/settings.toml (not by calling the product).

The focus month is 2025-03; the month before 2025-02, the same month last year 2024-03. Responses are
reached 3DC and 7DC calls with a score; satisfied at an overall score of 8 or more; NPS promoters 9-10,
detractors 0-6. By hand, all stores, 2025-03 (after the corrected export set CF05's overall 5 -> 8):

- visits 13 (南山店 8, 福田店 5); revenue 7,850 + 3,300 = ¥11,150; booked 3 + 3 = 6 (46.2%);
- 3DC coverage 12 of 13 (NS2503g's only call came four days after its 03-31 visit);
- 3DC attempts dated in March 14 (C2502d, C2503a, b, c, d, e1, e2, f, h, CF01-CF05; the follow-up call
  C2503cx is no 3DC call, the delivery calls are 7DC), 13 reached (e1 not): 92.9%;
- responses 14: C2502d 8, a 10, b 6, c 2, d 8, e2 9, f 7, h 4, CF01 9, CF02 8, CF03 6, CF04 10, CF05 8,
  CD01 10: 9 satisfied, 64.3%;
- recommend scores 12 (d and e2 left blank): 9, 10, 6, 0, 8, 4, 10, 9, 6, 10, 7, 9: 6 promoters,
  4 detractors: NPS +16.7;
- complaints 3 (b, c, h) of 17 callbacks; timely 1 (b in 23 h of 48; c in 48 h of 24; h unresolved).
2025-02: visits 5, ¥3,200, booked 2 (40.0%), coverage 5 of 5, reach 5 of 7, responses 8, 10, 8, 4, 9
(4 of 5, 80.0%), NPS (2 - 1) / 5 = +20.0. 2024-03: four background visits, ¥1,750, 50.0%, 100%, 100%,
3 of 4 (75.0%), NPS +25.0.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from analytics import cli
from analytics.domain import churn, kpi, overview
from analytics.domain import satisfaction as sat
from analytics.reports import export
from analytics.store import db
from tests import probe12_data as data

APP = Path(__file__).resolve().parents[1] / "app.py"
MARCH = date(2025, 3, 1)
D1 = date(2025, 3, 31)
SOUTH, NORTH = data.SOUTH, data.NORTH


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """The work orders, the callbacks and then the corrected callback export, imported by the command."""
    folder = tmp_path_factory.mktemp("probe12")
    (folder / "维修工单.csv").write_bytes(data.orders_csv())
    (folder / "回访记录.xlsx").write_bytes(data.calls_xlsx())
    (folder / "回访记录_更正.xlsx").write_bytes(data.calls_xlsx(corrected=True))
    path = folder / "store.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYTICS_MODEL_DIR", str(folder / "models"))
        mp.setenv("ANALYTICS_SECRETS", "/dev/null")
        for name in ("维修工单.csv", "回访记录.xlsx", "回访记录_更正.xlsx"):
            assert cli.main(["import", str(folder / name), "--db", str(path)]) == 0
    return path


@pytest.fixture
def con(store):
    connection = db.connect(store, read_only=True)
    yield connection
    connection.close()


@pytest.fixture
def in_store(store, monkeypatch, tmp_path):
    """Commands and pages read the probe's database; models go to a folder of the test's own."""
    monkeypatch.setenv("ANALYTICS_DB", str(store))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    return store


def test_the_files_land_and_the_corrected_export_changes_one_score(con):
    assert con.execute("SELECT count(*) FROM service_orders").fetchone() == (71,)
    assert con.execute("SELECT count(*) FROM callbacks").fetchone() == (76,)
    assert con.execute(
        "SELECT rows_inserted, rows_updated, rows_unchanged FROM imports ORDER BY import_id DESC LIMIT 1"
    ).fetchone() == (0, 1, 75)
    assert con.execute("SELECT overall_score FROM callbacks WHERE callback_id = 'CF05'").fetchone() == (8.0,)


def _report(store: Path, capsys, *args: str) -> dict:
    assert cli.main(["report", "--month", "2025-03", "--json", "--db", str(store), *args]) == 0
    return json.loads(capsys.readouterr().out)["kpis"]


def _figures(report: dict, *names: str) -> dict:
    def rounded(v):
        return round(v, 4) if isinstance(v, float) else v

    return {n: tuple(rounded(report[n][k]) for k in ("value", "n", "prev_month", "prev_year")) for n in names}


NAMES = ("visits", "revenue", "appointment_rate", "coverage_3dc", "reach_rate", "satisfaction_rate", "nps",
         "complaints", "complaint_timeliness")  # fmt: skip


def test_the_report_gives_the_hand_figures_for_all_stores_and_each_store(in_store, capsys):
    assert _figures(_report(in_store, capsys), *NAMES) == {
        "visits": (13, 13, 5, 4),
        "revenue": (11150.0, 13, 3200.0, 1750.0),
        "appointment_rate": (0.4615, 13, 0.4, 0.5),
        "coverage_3dc": (0.9231, 13, 1.0, 1.0),
        "reach_rate": (0.9286, 14, 0.7143, 1.0),
        "satisfaction_rate": (0.6429, 14, 0.8, 0.75),
        "nps": (16.6667, 12, 20.0, 25.0),
        "complaints": (3, 17, 0, 0),
        "complaint_timeliness": (0.3333, 3, None, None),
    }
    # 南山店: responses 8, 10, 6, 2, 8, 9, 7, 4 (4 satisfied); recommend 9, 10, 6, 0, 8, 4 (2 - 3 of 6).
    assert _figures(_report(in_store, capsys, "--store", SOUTH), *NAMES) == {
        "visits": (8, 8, 5, 4),
        "revenue": (7850.0, 8, 3200.0, 1750.0),
        "appointment_rate": (0.375, 8, 0.4, 0.5),
        "coverage_3dc": (0.875, 8, 1.0, 1.0),
        "reach_rate": (0.8889, 9, 0.7143, 1.0),
        "satisfaction_rate": (0.5, 8, 0.8, 0.75),
        "nps": (-16.6667, 6, 20.0, 25.0),
        "complaints": (3, 10, 0, 0),
        "complaint_timeliness": (0.3333, 3, None, None),
    }
    # 福田店, its only month: nothing to compare with. Responses 9, 8, 6, 10, 8 and the delivery call's
    # 10 (5 of 6); recommend 10, 9, 6, 10, 7, 9 (4 - 1 of 6).
    north = _report(in_store, capsys, "--store", NORTH)
    assert _figures(north, *NAMES) == {
        "visits": (5, 5, None, None),
        "revenue": (3300.0, 5, None, None),
        "appointment_rate": (0.6, 5, None, None),
        "coverage_3dc": (1.0, 5, None, None),
        "reach_rate": (1.0, 5, None, None),
        "satisfaction_rate": (0.8333, 6, None, None),
        "nps": (50.0, 6, None, None),
        "complaints": (0, 7, None, None),
        "complaint_timeliness": (None, 0, None, None),
    }
    # Due in March by the 270-day routine interval: the cars last maintained 2024-06-05, 06-20 and 06-30;
    # the first came back to 南山店 on 03-01, the second to 福田店 on 03-03 (returns count at any store).
    # The 30-day return window is still open on 2025-04-08, the data's last day.
    due = _report(in_store, capsys)["due_maintenance_return_rate"]
    assert (round(due["value"], 4), due["n"], due["status"], due["prev_month"]) == (
        0.6667,
        3,
        "provisional",
        0.0,
    )
    assert north["lost"]["status"] == "insufficient_history" and north["lost"]["value"] is None


def test_the_report_table_in_chinese_says_every_note_in_chinese(in_store, capsys):
    # Found by this probe: under the Chinese table the notes of lost, at-risk and the pending return rate
    # were in English ("流失客户: needs data from 2023-04-02 on"), beside the Chinese status column
    # that already said it.
    assert cli.main(["report", "--month", "2025-03", "--lang", "zh", "--db", str(in_store)]) == 0
    out = capsys.readouterr().out
    assert "needs data" not in out and "the data end" not in out
    assert out.count("需要 2023-04-02 起的数据") == 2  # the lost and at-risk rows' status column


def test_the_monthly_satisfaction_and_nps_are_the_hand_figures(con):
    monthly = sat.monthly_satisfaction(con, None, "2024-01", "2025-03").set_index("month")
    picked = monthly[["n", "satisfied", "nps_n", "promoters", "detractors"]]
    # 2024-01 has no call on the 1st (no December visit); every other background month 8, 10, 6, 9.
    assert picked.loc["2024-01"].tolist() == [3, 2, 3, 2, 1]
    assert all(picked.loc[f"2024-{m:02d}"].tolist() == [4, 3, 4, 2, 1] for m in range(2, 13))
    assert picked.loc["2025-02"].tolist() == [5, 4, 5, 2, 1]
    assert picked.loc["2025-03"].tolist() == [14, 9, 12, 6, 4]
    march = monthly.loc["2025-03"]
    # Wilson 95% for 9 of 14: 38.8%-83.7%; NPS +16.7 +- 1.96 x sqrt((0.5 + 0.333 - 0.0278) / 12).
    assert [round(march[c], 3) for c in ("rate", "wilson_low", "wilson_high")] == [0.643, 0.388, 0.837]
    assert [round(march[c], 1) for c in ("nps", "nps_low", "nps_high")] == [16.7, -34.1, 67.4]
    north = sat.monthly_satisfaction(con, [NORTH], "2025-03", "2025-03").iloc[0]
    assert (north["n"], north["satisfied"], north["nps"], north["nps_high"]) == (6, 5, 50.0, 100.0)


def test_dimension_scores_skip_the_blank_ones(con):
    scores = sat.dimension_scores(con, None, "2025-02", "2025-03")
    got = {(r["month"], r["dimension"]): (round(r["mean"], 2), r["n"]) for r in scores.to_dict("records")}
    # February: C2502b rated the attitude (8) and the price (6) only.
    assert got[("2025-02", "attitude")] == (8.4, 5)
    assert got[("2025-02", "quality")] == (7.5, 4)
    assert got[("2025-02", "environment")] == (8.5, 4)
    # March: the delivery call rated the attitude alone, C2503d left the environment blank.
    assert got[("2025-03", "attitude")] == (8.0, 14)
    assert got[("2025-03", "timeliness")] == (7.38, 13)
    assert got[("2025-03", "environment")] == (8.17, 12)
    assert sat.dimension_summary(scores, "2025-03") | {"lowest_mean": 0, "highest_mean": 0} == {
        "lowest": "timeliness", "lowest_mean": 0, "lowest_n": 13,
        "highest": "environment", "highest_mean": 0, "highest_n": 12, "single": False,
    }  # fmt: skip


def test_the_drivers_of_dissatisfaction_over_three_months(con):
    # 2025-01 to 2025-03: 23 responses. Timeliness scored by 21, low (<= 6) by 6, all unsatisfied; 1 of
    # the other 15 unsatisfied (C2503f, 7): 100% / 6.7% = 15x. Quality 5 of 5 low against 2 of 16: 8x;
    # attitude 4 of 4 against 3 of 19; environment 3 of 3 against 4 of 17; price 3 of 4 (C2502b's 6
    # came with an 8) against 4 of 18.
    first, last = sat.driver_window("2025-03")
    rr = sat.dimension_drivers(con, None, first, last)
    rr = rr[rr["method"] == "relative_risk"].set_index("dimension")
    assert {
        d: (r["n"], r["n_low"], r["unsatisfied_low"], r["n_other"], r["unsatisfied_other"])
        for d, r in rr.iterrows()
    } == {  # fmt: skip
        "attitude": (23, 4, 4, 19, 3),
        "quality": (21, 5, 5, 16, 2),
        "timeliness": (21, 6, 6, 15, 1),
        "price": (22, 4, 3, 18, 4),
        "environment": (20, 3, 3, 17, 4),
    }
    assert [round(v, 3) for v in rr.loc[list(sat.DIMENSIONS), "effect"]] == [6.333, 8.0, 15.0, 3.375, 4.25]
    assert rr["rank"].to_dict() == {
        "attitude": 3,
        "quality": 2,
        "timeliness": 1,
        "price": 5,
        "environment": 4,
    }


def test_the_advisor_who_moved_store_counts_where_he_worked(con):
    # 2024-04 to 2025-03: 王芳 the background days 1 and 6 (20), 02-01, 02-04, 02-28, and March's
    # C2502d, a, c, e2 (27, c unsatisfied); 赵磊 the days 13 (10), 2025-01-21, February's b and c, March's
    # b, d, h, f (17, 3 satisfied); 李明 2024-04 to 2024-12 at 南山店 (9) and CF01, CF02, CF05 at 福田店.
    rows = sat.breakdown(con, "advisor", ("2024-04", "2025-03")).astype({"segment": object})
    rows["segment"] = rows["segment"].where(rows["segment"].notna(), None)
    assert [(r["segment"], r["n"], r["satisfied"], r["rank"]) for r in rows.to_dict("records")] == [
        ("李明", 12, 12, 1), ("王芳", 27, 26, 2), ("赵磊", 17, 3, 3), ("孙悦", 2, 1, None), (None, 1, 1, None),
    ]  # fmt: skip
    north = sat.breakdown(con, "advisor", ("2024-04", "2025-03"), [NORTH]).astype({"segment": object})
    north["segment"] = north["segment"].where(north["segment"].notna(), None)
    assert [(r["segment"], r["n"], r["satisfied"]) for r in north.to_dict("records")] == [
        ("李明", 3, 3), ("孙悦", 2, 1), (None, 1, 1),
    ]  # fmt: skip
    stores = sat.breakdown(con, "store", ("2024-04", "2025-03"))
    assert [(r["segment"], r["n"], r["satisfied"]) for r in stores.to_dict("records")] == [
        (SOUTH, 53, 38), (NORTH, 6, 5),
    ]  # fmt: skip


def test_a_follow_up_call_is_no_unsatisfied_customer_of_its_own(con):
    # Found by this probe: the follow-up call after 车主2503c's complaint (投诉回访, no survey: it counts
    # in no satisfaction figure) scored 4 and was listed as one more unsatisfied customer not followed up,
    # so the satisfaction page read "6 unsatisfied" in a month of 5 unsatisfied answers (14 - 9), and the
    # overview's red flag counted the same customer twice. The answers to follow up are the month's
    # unsatisfied survey answers and its complaints: b, c (both followed up: resolved), f, h, CF03.
    followups = sat.followup_list(con, MARCH, date(2025, 3, 31), None, date(2025, 3, 31))
    assert sorted(followups["callback_id"]) == ["C2503b", "C2503c", "C2503f", "C2503h", "CF03"]
    assert sorted(followups.loc[~followups["followed_up"], "callback_id"]) == ["C2503f", "C2503h", "CF03"]
    assert sat.followup_counts(followups) | {"advisors": None} == {
        "n": 5, "open": 3, "complaints": 3, "unsatisfied": 5, "advisors": None
    }  # fmt: skip
    flags = sat.red_flags(con, date(2025, 3, 31), None, since=MARCH)
    assert sorted(zip(flags["flag"], flags["callback_id"], strict=True)) == [
        ("complaint_overdue", "C2503h"), ("no_followup", "C2503f"), ("no_followup", "C2503h"),
        ("no_followup", "CF03"),
    ]  # fmt: skip
    # Level 3 allows 72 h; called 03-26 10:00, still open at the end of 03-31: 134 h, 62 h over.
    assert flags.loc[flags["flag"] == "complaint_overdue", "hours_overdue"].tolist() == [62.0]


def _page(page: str, lang: str, stores: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["lang"] = lang
    if stores:
        at.query_params["stores"] = stores
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


OVERVIEW_TILES = {  # value, change vs 2025-02
    "visits": ("13", "+8 (+160%)"),
    "revenue": ("¥11,150", "+¥7,950 (+248%)"),
    "appointment_rate": ("46.2%", "+6.2 pp"),
    "due_maintenance_return_rate": ("66.7%", None),  # pending: no arrow
    "coverage_3dc": ("92.3%", "-7.7 pp"),
    "reach_rate": ("92.9%", "+21.4 pp"),
    "satisfaction_rate": ("64.3%", "-15.7 pp"),
    "nps": ("+16.7", "-3.3"),
    "complaints": ("3", "+3"),
    "complaint_timeliness": ("33.3%", None),  # no complaint in February
    "lost": ("—", None),
    "at_risk": ("—", None),
}


@pytest.mark.parametrize(
    ("lang", "flag"),
    [
        ("en", "3 unsatisfied customers of 2025-03 not followed up by 2025-03-31"),
        ("zh", "2025-03 有 3 位不满意客户"),
    ],
)
def test_the_overview_shows_the_hand_figures(in_store, lang, flag):
    at = _page("overview", lang)
    got = {m.label: (m.value, m.delta or None) for m in at.metric}
    # Percentage points are "个百分点" in Chinese (session 42: "pp" stood there too).
    points = " 个百分点" if lang == "zh" else " pp"
    assert got == {
        kpi.KPI_LABELS[lang][name]: (value, change.replace(" pp", points) if change else change)
        for name, (value, change) in OVERVIEW_TILES.items()
    }
    # Year on year: 13 vs 4 visits, 64.3% vs 75.0%, +16.7 vs +25.0.
    captions = [c.value for c in at.caption]
    assert any("+9 (+225%)" in c for c in captions)
    assert any(f"-10.7{points}" in c for c in captions) and any("-8.3" in c for c in captions)
    headline = at.info[0].value
    con = db.connect(in_store, read_only=True)
    try:
        assert headline == overview.headline(overview.kpi_figures(kpi.report(con, "2025-03")), lang)
    finally:
        con.close()
    assert (
        ("1 met, 2 missed, 1 pending" in headline)
        if lang == "en"
        else ("达标 1 项，未达标 2 项，待定 1 项" in headline)
    )
    labels = [m.value for m in at.markdown]
    assert any(flag in label for label in labels), labels


def test_the_satisfaction_page_states_the_hand_figures_and_no_false_agreement(in_store):
    at = _page("satisfaction", "en")
    got = {m.label: m.value for m in at.metric}
    assert got == {
        "Satisfaction rate 2025-03": "64.3%",
        "NPS 2025-03": "+16.7",
        "Main driver of dissatisfaction": "Timeliness",
        "Not followed up, 2025-03 (by 2025-03-31)": "3",
    }
    captions = [c.value for c in at.caption]
    assert "n = 14 · 95% interval 38.8%–83.7%" in captions
    assert "n = 12 · 95% interval -34.1 to +67.4" in captions
    driver = next(c for c in captions if c.startswith("Timeliness best explains"))
    assert (
        "100.0% of the time against 6.7% otherwise (relative risk 15.0×; n=21 responses, 6 with a low"
        in driver
    )
    # Found by this probe: the logistic regression ranks another dimension first here, and the caption
    # said it "also ranks Attitude first", an agreement the two methods do not have.
    assert " also " not in driver and "ranks Attitude first instead, odds ratio 2.66" in driver
    assert any(c.startswith("By service advisor, 2024-04 to 2025-03 (12 months): 72.9% satisfied overall (n=59)")
               for c in captions)  # fmt: skip


def test_the_breakdown_download_writes_its_rates_as_percentages(con):
    # Found by this probe: the "who drags" table's download wrote 96.3% as 0.9629629629629629 in a
    # General cell under the header 满意率; Excel showed 0.962963.
    table = sat.breakdown_table(sat.breakdown(con, "advisor", ("2024-04", "2025-03")), "advisor", "zh")
    columns = ["rank", "label", "n", "satisfied", "rate", "wilson_low", "wilson_high"]
    people = export.for_people(table[columns], "zh", export.coded_values("zh"))
    sheet = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(people, None, "x", title="t"))).active
    row = [c for c in sheet[4]]  # title, header, 李明, 王芳
    assert [c.value for c in row[:4]] == [2, "王芳", 27, 26]
    assert row[4].value == pytest.approx(26 / 27) and row[4].number_format == "0.0%"
    assert row[5].number_format == row[6].number_format == "0.0%"
    assert sheet["C4"].number_format == "General"  # counts stay counts


def test_the_deck_shows_the_hand_figures(in_store, tmp_path):
    out = tmp_path / "deck.pptx"
    args = [
        "deck",
        "--month",
        "2025-03",
        "--lang",
        "zh",
        "--no-model",
        "--out",
        str(out),
        "--db",
        str(in_store),
    ]
    assert cli.main(args) == 0
    slides = list(Presentation(str(out)).slides)
    table = next(s.table for s in slides[1].shapes if s.has_table)
    rows = {r.cells[0].text: [c.text for c in r.cells][1:6] for r in list(table.rows)[1:]}
    assert rows["满意率"] == ["64.3%", "14", "—", "80.0%", "75.0%"]
    assert rows["净推荐值 NPS"] == ["+16.7", "12", "—", "+20.0", "+25.0"]
    assert rows["投诉处理及时率"] == ["33.3%", "3", "100%", "—", "—"]
    charts = {s.chart.chart_title.text_frame.text: s.chart for s in slides[3].shapes if s.has_chart}
    rate = next(c for t, c in charts.items() if t.startswith("满意率"))
    assert [round(v, 4) for v in rate.plots[0].series[0].values][-3:] == [0.75, 0.8, 0.6429]
    nps = next(c for t, c in charts.items() if t.startswith("净推荐值"))
    assert [round(v, 1) for v in nps.plots[0].series[0].values][-3:] == [25.0, 20.0, 16.7]
    bars = next(s.chart for s in slides[4].shapes if s.has_chart)
    assert [round(v, 3) for v in bars.plots[0].series[0].values] == [3.375, 4.25, 6.333, 8.0, 15.0]
    # The red flags slide: C2503f, C2503h and CF03 not followed up, C2503h past its limit.
    flags = next(s.table for s in slides[2].shapes if s.has_table)
    assert sorted((r.cells[0].text, r.cells[2].text) for r in list(flags.rows)[1:]) == [
        ("投诉超时", "车主2503h"), ("未跟进", "车主2503f"), ("未跟进", "车主2503h"), ("未跟进", "车主FT03"),
    ]  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_deck_of_a_store_with_one_month_claims_no_usual_range(in_store, tmp_path, lang):
    # Found by this probe: 福田店's deck said its 83.3% (n=6) stood "against — the month before: within
    # the usual range of the last 12 months", a range its one month of answers cannot show (the page
    # said the window has no other month to judge it against).
    out = tmp_path / "deck.pptx"
    args = ["deck", "--month", "2025-03", "--store", NORTH, "--lang", lang, "--no-model", "--out", str(out),
            "--db", str(in_store)]  # fmt: skip
    assert cli.main(args) == 0
    slide = list(Presentation(str(out)).slides)[3]
    texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
    takeaway = next(t for t in texts if "83.3%" in t)
    assert "usual range of the last 12 months" not in takeaway and "正常波动范围内" not in takeaway
    assert "against —" not in takeaway and "上月 —" not in takeaway
    assert "(n=6, 95% interval 43.6%–97.0%)" in takeaway or "（n=6，95% 区间 43.6%–97.0%）" in takeaway


def test_dimensions_tied_at_the_top_are_named_together(in_store, tmp_path):
    # Found by this probe: at 南山店 (2025-01 to 2025-03, 17 responses) repair quality and timeliness are
    # both scored by 16, low by 5 (all unsatisfied) and otherwise by 11 (one unsatisfied, C2503f):
    # 100% / 9.1% = 11.0x each. The page's tile, its caption and the deck named repair quality alone
    # as "the main driver", "best explains" and "drives dissatisfaction most".
    at = _page("satisfaction", "en", SOUTH)
    tile = next(m.value for m in at.metric if m.label == "Main driver of dissatisfaction")
    assert tile == "Repair quality / Timeliness"
    caption = next(c.value for c in at.caption if c.value.startswith("Repair quality best explains"))
    assert (
        "(relative risk 11.0×; n=16 responses, 5 with a low score); the same relative risk for Timeliness"
        in caption
    )
    out = tmp_path / "deck.pptx"
    args = ["deck", "--month", "2025-03", "--store", SOUTH, "--lang", "zh", "--no-model", "--out", str(out),
            "--db", str(in_store)]  # fmt: skip
    assert cli.main(args) == 0
    slide = list(Presentation(str(out)).slides)[4]
    takeaway = next(
        s.text_frame.text for s in slide.shapes if s.has_text_frame and "11.0 倍" in s.text_frame.text
    )
    assert (
        takeaway.startswith("维修质量是不满意的首要驱动因素：")
        and "维修时效的相对风险与之相同，并列第一。" in takeaway
    )


def test_the_decks_chart_data_hold_the_figures_as_the_slides_write_them(in_store, tmp_path):
    # Found by this probe: the embedded sheets of the satisfaction and NPS charts (what PowerPoint shows
    # on hover and under "edit data") formatted 64.3% as 64% and +16.7 as 17, the axis's formats.
    out = tmp_path / "deck.pptx"
    args = [
        "deck",
        "--month",
        "2025-03",
        "--lang",
        "zh",
        "--no-model",
        "--out",
        str(out),
        "--db",
        str(in_store),
    ]
    assert cli.main(args) == 0
    slides = list(Presentation(str(out)).slides)

    def last_cell(chart):
        sheet = openpyxl.load_workbook(io.BytesIO(chart.part.chart_workbook.xlsx_part.blob)).active
        return sheet.cell(row=sheet.max_row, column=2)

    rate, nps = (s.chart for s in slides[3].shapes if s.has_chart)
    assert (round(last_cell(rate).value, 4), last_cell(rate).number_format) == (0.6429, "0.0%")
    assert (round(last_cell(nps).value, 1), last_cell(nps).number_format) == (16.7, "+0.0;-0.0;0.0")
    assert rate.value_axis.tick_labels.number_format == "0%"  # the axis keeps whole percentages
    returns = [s.chart for s in slides[8].shapes if s.has_chart][-1]
    sheet = openpyxl.load_workbook(io.BytesIO(returns.part.chart_workbook.xlsx_part.blob)).active
    assert sheet.cell(row=sheet.max_row - 1, column=2).number_format == "0.0%"


def test_a_customer_who_scored_every_dimension_alike_is_not_said_to_mind_the_price(in_store, capsys):
    # Found by this probe: the background repair customers scored overall 6 and every dimension 6; the
    # churn list said each "was unhappy with the price last time" (ties went to price, first of the
    # dimensions) and the deck's top reason was "Unsatisfied: price" for 6 vehicles. A tie names no
    # dimension: the customer was unsatisfied (overall 6/10). C2503c's customer, price 2 and time 2
    # tied lowest, is no more "unhappy with the price" than with the wait.
    args = ["churn", "--as-of", "2025-03-31", "--json", "--top", "100", "--lang", "en", "--db", str(in_store)]
    assert cli.main(args) == 0
    listed = {v["vin"]: v for v in json.loads(capsys.readouterr().out)["top"]}
    reasons = listed[data.vin("2024011")]["reasons"]
    assert reasons == "has not been in for over a year; was not satisfied last time"
    assert [r["code"] for r in churn.vehicle_reasons({"days_since": 10, "status": "active", "last_overall": 2,
            **{f"last_{d}": s for d, s in zip(churn.DIMENSIONS, (2, 6, 4, 2, 6), strict=True)}}, D1)
            ] == ["unsatisfied"]  # fmt: skip
    alone = {"days_since": 10, "status": "active", "last_overall": 4, "last_price": 8, "last_attitude": 4}
    assert [r["code"] for r in churn.vehicle_reasons(alone, D1)] == ["unsatisfied_attitude"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_headline_counts_every_target_including_those_with_nothing_to_measure(lang):
    """Found by truth probe 12 and left then: a store with no complaint and no car due read "2 met,
    0 missed, 0 pending, 0 not judged" of four targets; the two without a figure are now named."""
    from analytics.domain import kpi, overview

    def figure(value, target):
        return overview.KpiFigure(
            value=value, n=0 if value is None else 10, target=target, status="ok", needs_from=None,
            reason=None, provisional=False, prev_month=None, prev_month_status=None, prev_year=None,
            prev_year_status=None,
        )  # fmt: skip

    names = list(kpi.KPI_NAMES)
    targeted = [n for n in names if kpi.targets().get(n)]
    assert len(targeted) >= 3
    kpis = {n: figure(None, None) for n in names}
    kpis[targeted[0]] = figure(1.0, kpi.targets()[targeted[0]])
    kpis[targeted[1]] = figure(None, kpi.targets()[targeted[1]])
    kpis[targeted[2]] = figure(None, kpi.targets()[targeted[2]])
    text = overview.headline(kpis, lang)
    for name in targeted[1:3]:
        assert kpi.KPI_LABELS[lang][name] in text
    assert (
        ("2 targets have nothing to measure" in text)
        if lang == "en"
        else ("另有 2 项目标本月无可计算的数据" in text)
    )
    assert overview.target_summary(kpis)["no_data"] == targeted[1:3]
