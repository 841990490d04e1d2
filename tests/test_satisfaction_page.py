"""The satisfaction page through the entrypoint, in both languages, on the small shared demo database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.core.months import month_end, parse_month
from analytics.domain import satisfaction as sat
from analytics.store import db
from tests.screen_charts import Chart, charts
from ui import vega
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


def _charts(at: AppTest) -> dict[str, Chart]:
    drawn = charts(at)
    assert len(drawn) == len(CHARTS)
    return dict(zip(CHARTS, drawn, strict=True))


def _last_month(chart: Chart) -> str:
    # Dates travel to the browser as milliseconds since 1970 UTC.
    return pd.to_datetime(chart.rows["x"].max(), unit="ms").strftime("%Y-%m")


def _followups(demo_db: Path, month: str):
    # Read-only, as the app's handles open it (DuckDB shares the open database), and because the
    # session's demo is shared: what a test wrote to it, the tests after it would copy.
    con = db.connect(demo_db, read_only=True)
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
    drawn = _charts(at)
    assert _last_month(drawn["rate"]) == month
    assert drawn["rate"].encoding()["y"]["axis"]["format"] == ".0%"
    assert len(drawn["dimensions"].series()) == len(sat.DIMENSIONS)
    drivers = drawn["drivers"]  # horizontal bars: low score against the rest, per dimension
    assert drivers.marks()[0] == "bar" and drivers.encoding()["y"]["type"] == "nominal"
    assert len(drivers.series()) == 2
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
    before = _charts(at)
    before_captions = [c.value for c in at.caption]
    other = next(m for m in select.options if m < before_month)
    select.set_value(other).run()
    assert not at.exception, [e.message for e in at.exception]
    after = _charts(at)
    assert at.title[0].value == f"Satisfaction trends · {other}"
    assert _last_month(after["rate"]) == other
    assert not after["rate"].rows.equals(before["rate"].rows)
    assert not after["breakdown"].rows.equals(before["breakdown"].rows)
    assert [c.value for c in at.caption] != before_captions
    assert _table(at)["callback_id"].tolist() == _followups(demo_env, other)["callback_id"].tolist()


def test_breakdown_selector_changes_the_chart_and_greys_out_small_segments(demo_env):
    at = _open("en")
    before = _charts(at)["breakdown"]
    # Every segment's name fits beside the plot, on more lines if need be (the callbacks without an
    # advisor read "no advisor (delivery calls, work order not imported or left …").
    names = before.encoding()["y"]["scale"]["domain"]
    assert any(name.startswith("no advisor") for name in names)
    assert max(vega._text_width(line) for name in names for line in name.split("\n")) <= vega.LABEL_LIMIT
    at.button_group(key="sat_by").set_value("model").run()
    at.button_group(key="sat_period").set_value("month").run()
    assert not at.exception, [e.message for e in at.exception]
    after = _charts(at)["breakdown"]
    assert not after.rows.equals(before.rows)
    assert "by model" in after.title
    # A rate's axis ends at 100% (it ran to a 102% tick).
    assert after.encoding()["x"]["scale"]["domainMax"] == 1.0
    month = at.sidebar.selectbox(key="_w_month").value
    frame = sat.breakdown_table(
        sat.breakdown(db.connect(demo_env, read_only=True), "model", month), "model", "en"
    )
    grey = [name for name, colour in zip(after.series(), after.colours(), strict=True) if colour == MUTED]
    assert frame["small"].any() and len(grey) == 1
    points = after.rows[after.rows["layer"].isin([i for i, m in enumerate(after.marks()) if m == "point"])]
    # Small segments are drawn grey with no rank number; ranked ones lead with theirs.
    assert sorted(points.loc[points["series"] == grey[0], "y"].str.replace("\n", " ")) == sorted(
        f"{label} (n={n})" for label, n in frame.loc[frame["small"], ["label", "n"]].values
    )
    ranked = points.loc[points["series"] != grey[0], "y"].tolist()
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
    assert not at.get("vega_lite_chart")


def test_first_month_of_the_data_draws_without_error(demo_env):
    at = _open("zh")
    select = at.sidebar.selectbox(key="_w_month")
    first = min(select.options)
    select.set_value(first).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == f"满意度趋势 · {first}"
    assert len(charts(at)) == len(CHARTS)
    # One month has no control limits but its own: the caption does not call it "normal variation".
    said = " ".join(c.value for c in at.caption)
    assert "区间内没有其他月份可供比较" in said and "正常的月度波动" not in said
    assert f"{first}（1 个月）" in said
