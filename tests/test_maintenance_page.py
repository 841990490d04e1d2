"""The maintenance page through the entrypoint, in both languages, on the shared demo database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.core.config import settings
from analytics.store import db
from tests.screen_charts import charts

APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture(autouse=True)
def quick_training(monkeypatch):
    """Train on three dates instead of twelve (demo_env keeps the models in a session folder)."""
    monkeypatch.setattr(settings().maintenance, "training_cutoffs", 3)


@pytest.mark.parametrize(
    ("lang", "title", "tabs"),
    [
        ("zh", "预测性保养：邀约哪些车辆", ["邀约清单", "模型说明"]),
        ("en", "Maintenance due: whom to invite", ["Invitation list", "Model card"]),
    ],
)
def test_maintenance_page_lists_vehicles_and_shows_the_model_card(demo_env, lang, title, tabs):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/maintenance.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == title
    assert [tab.label for tab in at.tabs] == tabs
    scored = int(at.metric[0].value.replace(",", ""))
    invitations = at.dataframe[0].value
    assert 0 < len(invitations) <= scored
    assert invitations["rank"].tolist() == list(range(1, len(invitations) + 1))
    # Probabilities as percentages with one decimal in every row (79.1% above 79.08% before).
    p30 = json.loads(at.dataframe[0].proto.columns)["p30"]["type_config"]
    assert (p30["format"], p30["step"]) == ("percent", 0.001)
    # One chart on the list (due per week); the card's four (AUC, lift, calibration, importance)
    # are drawn when its tab is opened.
    assert len(at.get("vega_lite_chart")) == 1
    at.session_state["maint_tab"] = tabs[1]
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.get("vega_lite_chart")) == 4
    assert any("ROC AUC" in md.value for md in at.markdown)
    # The backtest bars write their values above them: the axis leaves room for the tallest one's.
    for chart in charts(at)[:2]:
        bars = chart.layer_rows(0)
        assert chart.encoding()["y"]["scale"]["domain"][1] > bars["y"].max() * 1.1
    # The caption under the backtest names every scorer the bars compare (it left out the own rhythm).
    said = " ".join(c.value.lower() for c in at.caption)
    assert all(name.lower() in said for name in charts(at)[0].series()) or lang == "zh"


def test_the_lists_choices_are_kept_while_the_model_card_is_open(demo_env):
    at = _page()
    at.slider(key="maint_min_p").set_value(0.6).run()
    at.number_input(key="maint_capacity").set_value(20).run()
    at.session_state["maint_tab"] = "Model card"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not [s for s in at.slider if s.key == "maint_min_p"]  # the list is not drawn meanwhile
    at.session_state["maint_tab"] = "Invitation list"
    at.run()
    assert at.slider(key="maint_min_p").value == 0.6
    assert at.number_input(key="maint_capacity").value == 20
    assert any("at least 60%" in c.value for c in at.caption)


def test_raising_the_probability_threshold_shortens_the_list(demo_env):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("pages/maintenance.py")
    at.run()
    counts = {}
    for threshold in (0.0, 0.9):
        at.slider(key="maint_min_p").set_value(threshold).run()
        assert not at.exception
        caption = next(c.value for c in at.caption if f"at least {threshold:.0%}" in c.value)
        counts[threshold] = int(caption.split(" ")[0].replace(",", ""))
    assert counts[0.0] == int(at.metric[0].value.replace(",", ""))
    assert counts[0.9] < counts[0.0]


def _page(lang="en", month=None):
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state["lang"] = lang
    if month:
        at.session_state["month"] = month
    at.run()
    at.switch_page("pages/maintenance.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_page_follows_the_month_picker_and_scores_the_base_at_that_months_end(demo_env, tmp_path):
    at = _page(month="2025-12")
    assert any("2025-12-31" in c.value for c in at.caption)
    # A copy: the app holds the demo database open in this process with its own settings.
    shutil.copy(demo_env, tmp_path / "copy.duckdb")
    con = db.connect(tmp_path / "copy.duckdb", read_only=True)
    base = con.execute(
        "SELECT count(DISTINCT vin) FROM service_orders"
        " WHERE visit_date <= DATE '2025-12-31' AND visit_date > DATE '2025-12-31' - 730"
    ).fetchone()[0]
    con.close()
    assert int(at.metric[0].value.replace(",", "")) == base
    latest = _page()
    assert not any("2025-12-31" in c.value for c in latest.caption)
    assert latest.metric[0].value != at.metric[0].value


def test_the_invitation_list_is_cut_to_the_daily_capacity(demo_env):
    at = _page()
    at.slider(key="maint_min_p").set_value(0.0).run()
    assert len(at.dataframe[0].value) == 50  # the default capacity from settings
    at.number_input(key="maint_capacity").set_value(7).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert shown["rank"].tolist() == list(range(1, 8))
    assert any("Today's 7 invitations" in c.value for c in at.caption)
