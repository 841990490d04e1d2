"""The satisfaction page through the entrypoint, in both languages, on the small shared demo database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.core.months import month_end, parse_month
from analytics.domain import satisfaction as sat
from analytics.store import db
from ui.charts import MUTED

APP = Path(__file__).resolve().parents[1] / "app.py"
CHARTS = ("rate", "nps", "dimensions", "drivers", "breakdown")


def _open(lang: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/satisfaction.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _specs(at: AppTest) -> dict[str, dict]:
    charts = at.get("plotly_chart")
    assert len(charts) == len(CHARTS)
    return dict(zip(CHARTS, (json.loads(chart.proto.spec) for chart in charts), strict=True))


def _followups(demo_db: Path, month: str):
    # The same configuration as the app's connection, so DuckDB shares the open database.
    con = db.connect(demo_db)
    first = parse_month(month)
    return sat.followup_list(con, first, month_end(first))


def _table(at: AppTest):
    return next(frame.value for frame in at.dataframe if "callback_id" in frame.value.columns)


@pytest.mark.parametrize(
    ("lang", "title", "tile"),
    [("zh", "满意度趋势", "满意率"), ("en", "Satisfaction trends", "Satisfaction rate")],
)
def test_page_draws_every_figure_and_the_months_follow_up_list(demo_env, lang, title, tile):
    at = _open(lang)
    month = at.sidebar.selectbox(key="_w_month").value
    assert at.title[0].value == f"{title} · {month}"
    assert tile in at.metric[0].label
    charts = _specs(at)
    rate = next(trace for trace in charts["rate"]["data"] if trace.get("mode") == "lines+markers")
    assert rate["x"][-1] == month
    assert charts["rate"]["layout"]["yaxis"]["tickformat"] == ".0%"
    assert len(charts["dimensions"]["data"]) == len(sat.DIMENSIONS)
    assert [bar["orientation"] for bar in charts["drivers"]["data"]] == ["h", "h"]
    captions = [c.value for c in at.caption]
    assert any(month in c and "n=" in c for c in captions)
    expected = _followups(demo_env, month)
    shown = _table(at)
    assert len(expected) > 0
    assert shown["callback_id"].tolist() == expected["callback_id"].tolist()
    assert shown["plate"].tolist() == expected["plate"].tolist()
    # List downloads; every chart also offers its PNG/SVG buttons (keys ending in _image_png/_svg).
    assert [b.key for b in at.get("download_button") if "_image_" not in b.key] == [
        "dl_sat_breakdown_csv",
        "dl_sat_breakdown_xlsx",
        "dl_sat_followups_csv",
        "dl_sat_followups_xlsx",
    ]


def test_changing_the_month_changes_the_figures_and_the_list(demo_env):
    at = _open("en")
    select = at.sidebar.selectbox(key="_w_month")
    before_month = select.value
    before = _specs(at)
    before_captions = [c.value for c in at.caption]
    other = next(m for m in select.options if m < before_month)
    select.set_value(other).run()
    assert not at.exception, [e.message for e in at.exception]
    after = _specs(at)
    assert at.title[0].value == f"Satisfaction trends · {other}"
    rate = next(trace for trace in after["rate"]["data"] if trace.get("mode") == "lines+markers")
    assert rate["x"][-1] == other
    assert after["rate"]["data"] != before["rate"]["data"]
    assert after["breakdown"]["data"] != before["breakdown"]["data"]
    assert [c.value for c in at.caption] != before_captions
    assert _table(at)["callback_id"].tolist() == _followups(demo_env, other)["callback_id"].tolist()


def test_breakdown_selector_changes_the_chart_and_greys_out_small_segments(demo_env):
    at = _open("en")
    before = _specs(at)["breakdown"]
    at.button_group(key="sat_by").set_value("model").run()
    at.button_group(key="sat_period").set_value("month").run()
    assert not at.exception, [e.message for e in at.exception]
    after = _specs(at)["breakdown"]
    assert after["data"] != before["data"]
    assert "by model" in after["layout"]["title"]["text"]
    month = at.sidebar.selectbox(key="_w_month").value
    frame = sat.breakdown_table(sat.breakdown(db.connect(demo_env), "model", month), "model", "en")
    small = [trace for trace in after["data"] if trace["marker"]["color"] == MUTED]
    assert frame["small"].any() and len(small) == 1
    # Small segments are drawn grey with no rank number; ranked ones lead with theirs.
    assert sorted(small[0]["y"]) == sorted(
        f"{label} (n={n})" for label, n in frame.loc[frame["small"], ["label", "n"]].values
    )
    ranked = [label for trace in after["data"] if trace["marker"]["color"] != MUTED for label in trace["y"]]
    assert sorted(label.split(". ")[0] for label in ranked if ". " in label) == sorted(
        str(r) for r in frame["rank"].dropna()
    )


def test_follow_up_filters_narrow_the_list(demo_env):
    at = _open("zh")
    month = at.sidebar.selectbox(key="_w_month").value
    expected = _followups(demo_env, month)
    at.toggle(key="sat_open").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    assert (
        _table(at)["callback_id"].tolist() == expected.loc[~expected["followed_up"], "callback_id"].tolist()
    )
    at.toggle(key="sat_open").set_value(False)
    at.toggle(key="sat_complaints").set_value(True).run()
    assert (
        _table(at)["callback_id"].tolist() == expected.loc[expected["is_complaint"], "callback_id"].tolist()
    )
    advisor = sorted(expected["advisor"].dropna().unique())[0]
    at.toggle(key="sat_complaints").set_value(False)
    at.multiselect(key="sat_advisors").set_value([advisor]).run()
    assert _table(at)["callback_id"].tolist() == (
        expected.loc[expected["advisor"] == advisor, "callback_id"].tolist()
    )


def test_empty_database_says_so_instead_of_drawing(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_DB", str(tmp_path / "empty.duckdb"))
    at = _open("en")
    assert at.title[0].value == "Satisfaction trends"
    assert at.info[0].value.startswith("No data yet.")
    assert not at.get("plotly_chart")


def test_first_month_of_the_data_draws_without_error(demo_env):
    at = _open("zh")
    select = at.sidebar.selectbox(key="_w_month")
    first = min(select.options)
    select.set_value(first).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == f"满意度趋势 · {first}"
    assert len(at.get("plotly_chart")) == len(CHARTS)
