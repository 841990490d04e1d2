"""The monthly deck: slides, native charts holding the month's numbers, takeaways, fonts and the command."""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE

from analytics.cli import main
from analytics.core.config import settings
from analytics.core.months import month_ends
from analytics.domain import churn, churn_model, kpi, overview, satisfaction
from analytics.reports import deck
from analytics.store import db

MONTH = "2026-09"  # the demo's data end on 2026-10-31, so every figure of September is final


@pytest.fixture(scope="module")
def deck_db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the demo, so read-only connections never meet the app's writable one."""
    path = tmp_path_factory.mktemp("deck") / "demo.duckdb"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture(scope="module")
def built(deck_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """The September deck data (with the maintenance model) and the Chinese and English decks."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYTICS_MODEL_DIR", str(tmp_path_factory.mktemp("models")))
        mp.setattr(settings().maintenance, "training_cutoffs", 3)
        con = db.connect(deck_db, read_only=True)
        steps: list[float] = []
        data = deck.deck_data(con, MONTH, progress=lambda fraction, _step: steps.append(fraction))
        yield {
            "con": con,
            "data": data,
            "steps": steps,
            "zh": deck.render(deck.deck_slides(data, "zh"), deck.footer_line(data, "zh")),
            "en": deck.render(deck.deck_slides(data, "en"), deck.footer_line(data, "en")),
        }
        con.close()


def _charts(slide):
    return [shape.chart for shape in slide.shapes if shape.has_chart]


def _texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame and shape.text_frame.text]


def test_deck_opens_with_the_nine_slides_in_order(built):
    pres = Presentation(io.BytesIO(built["zh"]))
    assert len(pres.slides) == len(deck.SLIDE_KEYS) == 9
    titles = [_texts(s)[0] for s in pres.slides]
    assert titles == [
        "售后客服月度汇报 · 2026-09\n月度经营分析",
        "关键指标与目标 · 2026-09",
        "本月变化与重点关注 · 2026-09",
        "满意度趋势",
        "不满意的驱动因素",
        "满意客户表扬什么",
        "客户抱怨什么",
        "客户流失：已流失与流失预警",
        "保养：下月到期",
    ]
    assert pres.slide_width == deck.SLIDE_W and pres.slide_height == deck.SLIDE_H


def test_charts_are_native_with_embedded_data_on_the_expected_slides(built):
    pres = Presentation(io.BytesIO(built["zh"]))
    per_slide = [[c.chart_type for c in _charts(s)] for s in pres.slides]
    line, bar, column = (
        XL_CHART_TYPE.LINE_MARKERS,
        XL_CHART_TYPE.BAR_CLUSTERED,
        XL_CHART_TYPE.COLUMN_CLUSTERED,
    )
    assert per_slide == [
        [],
        [],
        [],
        [line, line],
        [bar, line],
        [bar],
        [bar],
        [line, bar],
        [column, XL_CHART_TYPE.LINE, column],  # the target line has no markers, so the type reads as plain
    ]
    for slide in pres.slides:
        for chart in _charts(slide):
            assert chart.part.chart_workbook.xlsx_part is not None  # editable: the data travel with it
    assert not [s for s in pres.slides for shape in s.shapes if shape.shape_type == 13]  # no pictures


def test_satisfaction_chart_holds_the_months_rates_and_wilson_intervals(built):
    pres = Presentation(io.BytesIO(built["zh"]))
    rate_chart, nps_chart = _charts(pres.slides[3])
    expected = satisfaction.monthly_satisfaction(built["con"], None, "2025-10", MONTH)
    assert list(rate_chart.plots[0].categories) == list(expected["month"])
    assert list(rate_chart.plots[0].series[0].values) == pytest.approx(list(expected["rate"]))
    assert list(nps_chart.plots[0].series[0].values) == pytest.approx(list(expected["nps"]))
    bars = rate_chart._chartSpace.xpath(".//c:errBars")
    ns = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
    assert len(bars) == 1 and bars[0].xpath("./c:errValType/@val", namespaces=ns) == ["cust"]
    plus = [float(v) for v in bars[0].xpath("./c:plus//c:v/text()", namespaces=ns)]
    assert plus == pytest.approx(list(expected["wilson_high"] - expected["rate"]), abs=1e-5)
    row = expected.iloc[-1]
    takeaway = _texts(pres.slides[3])[1]
    assert f"{row['rate']:.1%}" in takeaway and f"n={int(row['n']):,}" in takeaway


def test_kpi_table_shows_the_report_with_target_status(built):
    pres = Presentation(io.BytesIO(built["en"]))
    table = next(shape.table for shape in pres.slides[1].shapes if shape.has_table)
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    report = kpi.report(built["con"], MONTH)
    assert rows[0] == ["KPI", "This month", "n", "Target", "Last month", "Last year", "Status"]
    assert len(rows) == 1 + len(kpi.KPI_NAMES)
    by_label = {r[0]: r for r in rows[1:]}
    visits = report["kpis"]["visits"]
    assert by_label["Service visits"][1:3] == [f"{visits['value']:,}", f"{visits['n']:,}"]
    coverage = report["kpis"]["coverage_3dc"]
    status = (
        "pending"
        if coverage["status"] == "provisional"
        else "on target"
        if coverage["value"] >= 1.0
        else "below target"
    )
    assert by_label["3DC coverage"][1] == kpi.format_value("coverage_3dc", coverage["value"])
    assert by_label["3DC coverage"][3:] == [
        "100%",
        kpi.format_value("coverage_3dc", coverage["prev_month"]),
        kpi.format_value("coverage_3dc", coverage["prev_year"]),
        status,
    ]
    assert by_label["Revenue (yuan)"][6] == "—"  # no target, no status


def test_churn_slide_counts_and_trend_match_the_churn_module(built):
    con, data = built["con"], built["data"]
    as_of = month_ends([MONTH])[0]
    counts = churn.status_counts(con, as_of)
    pres = Presentation(io.BytesIO(built["zh"]))
    trend_chart, reasons_chart = _charts(pres.slides[7])
    assert list(trend_chart.plots[0].series[0].values)[-1] == counts["lost"]
    assert list(trend_chart.plots[0].series[1].values)[-1] == counts["at_risk"]
    vehicles = churn.churn_list(churn_model.features(con, [as_of]), None, as_of)
    reasons = deck.churn_reason_counts(vehicles).head(6)
    # Bars read top down in the order of the counts (PowerPoint stores them bottom up).
    assert list(reversed(reasons_chart.plots[0].series[0].values)) == [float(n) for n in reasons["n"]]
    takeaway = _texts(pres.slides[7])[1]
    assert f"已流失 {counts['lost']:,} 辆" in takeaway and f"基盘 {counts['base']:,} 辆" in takeaway
    assert data.churn_reasons["code"].isin(["no_visit", "overdue"]).sum() == 0


def test_maintenance_slide_has_due_vehicles_and_model_quality(built):
    data = built["data"]
    due = kpi.due_vehicles(built["con"], "2026-10")
    assert len(data.due_next) == len(due)
    pres = Presentation(io.BytesIO(built["en"]))
    by_model, _rate, quality = _charts(pres.slides[8])
    assert sum(by_model.plots[0].series[0].values) == len(due)
    metrics = data.maintenance.metrics
    model_auc = metrics[(metrics["method"] == "model")].sort_values("horizon")["roc_auc"].tolist()
    assert list(quality.plots[0].series[0].values) == pytest.approx(model_auc)
    assert f"{len(due):,} vehicles fall due in 2026-10" in _texts(pres.slides[8])[1]


def test_progress_reaches_the_slides_in_order(built):
    steps = built["steps"]
    assert steps == sorted(steps) and steps[0] == 0.05 and steps[-1] == 0.95


def test_text_names_an_east_asian_font_for_chinese(built):
    pres = Presentation(io.BytesIO(built["zh"]))
    slide = pres.slides[1]
    ea = slide.shapes[0].text_frame.paragraphs[0].runs[0]._r.xpath("./a:rPr/a:ea/@typeface")
    assert ea == ["Microsoft YaHei"]
    chart = _charts(pres.slides[3])[0]
    assert chart._chartSpace.xpath("./c:txPr//a:defRPr/a:ea/@typeface") == ["Microsoft YaHei"]


def test_english_and_chinese_decks_share_the_numbers(built):
    zh, en = (Presentation(io.BytesIO(built[lang])) for lang in ("zh", "en"))
    for a, b in zip(zh.slides, en.slides, strict=True):
        for ca, cb in zip(_charts(a), _charts(b), strict=True):
            assert [list(s.values) for s in ca.plots[0].series] == [
                list(s.values) for s in cb.plots[0].series
            ]
    assert _texts(en.slides[3])[0] == "Satisfaction trend"


def test_kpi_takeaway_names_the_kpi_furthest_below_target():
    slides = deck.deck_slides(_fake_data({"coverage_3dc": 0.9, "due_maintenance_return_rate": 0.3}), "en")
    assert slides[1].takeaway == (
        "Targets this month: 2 met, 2 missed, 0 pending (data not final), 0 not judged (history too short)."
        " Furthest below: Due-maintenance return rate, 30.0% against ≥ 60%."
    )
    assert slides[1].marks[1:5] == [None, None, "good", "bad"]


def test_provisional_kpis_are_pending_not_judged():
    data = _fake_data({"coverage_3dc": 0.5, "due_maintenance_return_rate": 0.3})
    data.provisional = {"coverage_3dc": True, "due_maintenance_return_rate": True}
    for name in data.provisional:
        data.kpis[name] = dataclasses.replace(data.kpis[name], status="provisional")
    slide = deck.deck_slides(data, "en")[1]
    # Pending targets are counted alongside the met and the missed ones, not left out of the count.
    assert slide.takeaway == (
        "Targets this month: 2 met, 0 missed, 2 pending (data not final), 0 not judged (history too short)."
        " Below target so far among the pending: 3DC coverage 50.0%, Due-maintenance return rate 30.0%."
    )
    by_kpi = {row[0]: row for row in slide.table[1:]}
    assert by_kpi["3DC coverage"][1] == "50.0% *" and by_kpi["3DC coverage"][6] == "pending"
    assert slide.footnote == "* provisional: the data end before the figure is final."


def test_kpi_takeaway_when_every_target_is_met():
    slides = deck.deck_slides(_fake_data({"coverage_3dc": 1.0, "due_maintenance_return_rate": 0.7}), "zh")
    assert slides[1].takeaway == (
        "本月目标：达标 4 项，未达标 0 项，待定 0 项（数据尚未完整），0 项无法判定（历史数据不足）。"
    )


def _fake_data(values: dict[str, float]) -> deck.DeckData:
    """Deck data with hand-set KPI values and empty everything else."""
    report = {
        "month": MONTH,
        "kpis": {
            name: {
                "value": values.get(name, 0.5 if name in kpi.RATE_KPIS else 10),
                "n": 100,
                "target": kpi.targets().get(name),
                "status": "ok",
                "needs_from": None,
                "reason": None,
                "provisional": False,
                "prev_month": None,
                "prev_month_status": "ok",
                "prev_year": None,
                "prev_year_status": "ok",
            }
            for name in kpi.KPI_NAMES
        },
    }
    report["kpis"]["appointment_rate"]["value"] = 0.35
    report["kpis"]["complaint_timeliness"]["value"] = 1.0
    empty_themes = {
        "month": MONTH,
        "months": [],
        "months_n": [],
        "n_comments": 0,
        "themes": [],
        "categories": [],
    }
    return deck.DeckData(
        month=MONTH,
        stores=None,
        as_of=pd.Timestamp("2026-09-30").date(),
        kpis=overview.kpi_figures(report),
        provisional={},
        series=pd.DataFrame(columns=["month", "kpi", "value", "n", "num", "den", "provisional"]),
        changes=[],
        red_flags={"no_followup": 0, "complaint_overdue": 0},
        red_flag_rows=pd.DataFrame(columns=["flag", "callback_date"]),
        satisfaction=satisfaction.SatisfactionSeries(()),
        drivers=pd.DataFrame(columns=["method", "dimension", "effect", "rate_low", "rate_other"]),
        driver_start="2026-07",
        dimension_means=pd.DataFrame(columns=["month", "dimension", "mean", "n"]),
        praise=empty_themes,
        complaint=empty_themes,
        churn_trend=pd.DataFrame(
            {
                "as_of": [pd.Timestamp("2026-09-30").date()],
                "base": [10],
                "lost": [2],
                "at_risk": [1],
                "active": [7],
            }
        ),
        churn_reasons=pd.DataFrame(columns=["code", "n"]),
        due_next=pd.DataFrame(columns=["vin", "model"]),
        next_month="2026-10",
        maintenance=None,
    )


def test_reason_counts_leave_out_status_restatements_and_count_each_vehicle_once():
    vehicles = pd.DataFrame(
        {
            "status": ["lost", "at_risk", "active", "lost"],
            "reason_codes": [  # as a churn list keeps them
                "no_visit|warranty_ended|unreachable",
                "overdue|unreachable|unreachable",
                "detractor",
                "no_visit|detractor",
            ],
        }
    )
    counts = deck.churn_reason_counts(vehicles)
    assert counts.to_dict("records") == [
        {"code": "unreachable", "n": 2},
        {"code": "detractor", "n": 1},
        {"code": "warranty_ended", "n": 1},
    ]


def test_interval_axis_holds_every_bound_on_round_steps():
    spec = deck.Chart(
        "x",
        "line",
        "t",
        ["a", "b"],
        [deck.Series("s", [0.9, 0.88], low=[0.861, 0.85], high=[0.93, 0.905])],
        "0%",
    )
    assert deck.value_range(spec) == (0.84, 0.94)
    nps = deck.Chart("n", "line", "t", ["a"], [deck.Series("s", [60.0], low=[54.2], high=[66.1])], "0")
    assert deck.value_range(nps) == (50.0, 70.0)


def test_deck_command_writes_a_deck_and_refuses_bad_input(deck_db, tmp_path, capsys):
    # A copy of its own: the command records its export in the audit log (a writable connection),
    # which DuckDB refuses in a process that holds the module's read-only one on the same file.
    own = tmp_path / "own.duckdb"
    shutil.copy(deck_db, own)
    deck_db = own
    out = tmp_path / "deck.pptx"
    assert (
        main(
            ["deck", "--month", MONTH, "--db", str(deck_db), "--lang", "en", "--no-model", "--out", str(out)]
        )
        == 0
    )
    pres = Presentation(str(out))
    assert len(pres.slides) == 9
    assert len(_charts(pres.slides[8])) == 2  # no model: due vehicles and the return rate only
    assert main(["deck", "--month", "2026-13", "--db", str(deck_db), "--out", str(out)]) == 2
    assert main(["deck", "--month", MONTH, "--db", str(deck_db), "--out", str(tmp_path / "deck.pdf")]) == 2
    assert (
        main(["deck", "--month", MONTH, "--db", str(deck_db), "--store", "nowhere", "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "is not a month" in err and ".pptx" in err and "Unknown store nowhere" in err


def test_overview_numbers_feed_the_deck(built):
    data = built["data"]
    direct = overview.overview(built["con"], MONTH)
    assert data.kpis == direct.kpis and data.report == kpi.report(built["con"], MONTH)
    assert data.red_flags["no_followup"] == int((direct.red_flags["flag"] == "no_followup").sum())


def test_overview_builds_the_deck_and_offers_it_for_download(demo_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(settings().maintenance, "training_cutoffs", 3)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.button(key="deck_build").label == "生成月度汇报 PPT"
    assert not [b for b in at.get("download_button") if b.proto.id.endswith("deck_download")]
    at.button(key="deck_build").click().run()
    assert not at.exception, [e.message for e in at.exception]
    offered = [b for b in at.get("download_button") if "deck_download" in b.proto.id]
    assert [b.proto.label for b in offered] == ["下载汇报 PPT"]
    assert any("汇报已生成：共 9 页" in c.value for c in at.caption)


def test_a_month_without_themes_has_no_empty_theme_chart(deck_db):
    # A month after the data's end (or without comments) drew a bar chart of one category, "None".
    con = db.connect(deck_db, read_only=True)
    try:
        data = deck.deck_data(con, "2026-11", maintenance_model=False)
    finally:
        con.close()
    pres = Presentation(io.BytesIO(deck.render(deck.deck_slides(data, "zh"), deck.footer_line(data, "zh"))))
    praise, complaints = pres.slides[5], pres.slides[6]
    assert _charts(praise) == [] and _charts(complaints) == []
    assert "2026-11 没有可归类主题的表扬评价。" in _texts(praise)
    assert any("数据中尚无 2026-11 的回访" in t for t in _texts(complaints))
    for slide in pres.slides:
        for chart in _charts(slide):
            assert "None" not in [str(c) for c in chart.plots[0].categories]


@pytest.fixture(scope="module")
def first_month(deck_db):
    """The data's first month and its deck data (no month before it in the data)."""
    con = db.connect(deck_db, read_only=True)
    try:
        first = con.execute("SELECT strftime(min(visit_date), '%Y-%m') FROM service_orders").fetchone()[0]
        return first, deck.deck_data(con, first, maintenance_model=False)
    finally:
        con.close()


def test_the_datas_first_month_says_there_is_no_month_to_compare_with(first_month):
    # The first month read "No KPI moved beyond its noise", as if it had been compared with one.
    from analytics.core.i18n import text
    from analytics.domain import overview

    _, data = first_month
    assert overview.quiet_key(data.kpis, "deck.nothing_changed") == "deck.nothing_to_compare"
    assert not data.changes
    flags = sum(data.red_flags.values())
    for lang in ("en", "zh"):
        slide = deck.deck_slides(data, lang)[2]
        assert slide.takeaway == text("deck.changes_no_earlier", lang, flags=flags)
        assert slide.blocks[0][1] == [text("deck.nothing_to_compare", lang)]


def test_the_drivers_window_is_stated_from_the_datas_first_month(first_month):
    # The data's first month read "2023-09 to 2023-11" for its drivers, two months before the data.
    from analytics.domain import satisfaction

    first, data = first_month
    assert data.driver_start == first
    assert satisfaction.shown_driver_window(first, [first]) == (first, first, 1)
    assert satisfaction.shown_driver_window("2024-03", ["2023-12", "2024-03"]) == ("2024-01", "2024-03", 3)
