"""The churn page through the entrypoint, in both languages, on the small shared demo database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.core.i18n import text as t
from tests.screen_charts import charts

APP = Path(__file__).resolve().parents[1] / "app.py"


def _churn_page(lang, month="2026-10"):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["month"] = month
    at.run()
    at.switch_page("pages/churn.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_churn_page_shows_counts_list_retention_and_model_card(demo_env, lang):
    at = _churn_page(lang)
    assert at.title[0].value == ("流失客户识别" if lang == "zh" else "Churn: lost and at-risk customers")
    labels = [m.label for m in at.metric]
    assert labels == (["基盘客户", "流失客户", "流失预警客户"] if lang == "zh" else
                      ["Active base", "Lost customers", "At-risk customers"])  # fmt: skip
    assert all(int(m.value.replace(",", "")) > 0 for m in at.metric)
    drawn = charts(at)
    assert len(drawn) == 1  # the trend; retention and the model card draw theirs when opened
    ranked = at.dataframe[0].value
    assert len(ranked) > 0
    assert set(ranked["status"]) <= ({"已流失", "流失预警"} if lang == "zh" else {"Lost", "At risk"})
    downloads = [b for b in at.get("download_button") if "_image_" not in b.key]
    assert len(downloads) == 4  # ranked list and call list, CSV and XLSX each
    images = [b.key for b in at.get("download_button") if "_image_" in b.key]
    assert len(images) == 2 * len(drawn)  # every chart: PNG and SVG


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_retention_and_the_model_card_draw_their_charts_when_their_tab_is_opened(demo_env, lang):
    at = _churn_page(lang)
    _, _, retention, model = [tab.label for tab in at.tabs]
    at.session_state["churn_tab"] = retention
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [c.title for c in charts(at)][1:] == [t("churn.retention_title", lang)]
    assert charts(at)[1].spec["facet"]["column"]["sort"] == ["x", "x2"]  # first → second, second → third
    at.button_group(key="churn_retention_by").set_value("advisor").run()
    at.session_state["churn_tab"] = model
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [c.title for c in charts(at)][1:] == [
        t("churn.calibration_title", lang),
        t("churn.drivers_title", lang),
    ]
    # Back on retention, the breakdown chosen there is as it was left.
    at.session_state["churn_tab"] = retention
    at.run()
    assert at.button_group(key="churn_retention_by").value == "advisor"
    assert (
        t("churn.group.advisor", lang)
        in charts(at)[1].spec["spec"]["layer"][0]["encoding"]["color"]["legend"]["title"]
    )


def test_selecting_a_row_shows_the_vehicle_history_and_the_call_list_follows_capacity(demo_env):
    at = _churn_page("en")
    first_vin = at.dataframe[0].value["vin"].iloc[0]
    at.session_state["churn_list"] = {"selection": {"rows": [0], "columns": []}}
    at.number_input(key="churn_capacity").set_value(5)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(first_vin in h.value for h in at.subheader)
    visits = at.dataframe[1].value
    assert len(visits) > 0 and "Visit date" in visits.columns  # named for people, not visit_date
    calls = [d.value for d in at.dataframe if "priority" in d.value.columns and len(d.value) <= 5]
    assert calls and len(calls[0]) == 5
    # The probability reads the same in the list and the call list: a percentage with one decimal.
    for table in [d for d in at.dataframe if "churn_probability" in d.value.columns]:
        shown = json.loads(table.proto.columns)["churn_probability"]["type_config"]
        assert (shown["type"], shown["format"], shown["step"]) == ("progress", "percent", 0.001)


def test_an_early_month_is_ranked_by_the_data_versions_model_and_says_so(demo_env):
    # 2024-02 has too little history before it to train a model of its own: the list is ranked
    # by the model of the month the dashboard opens on, and the page says what that model has seen.
    at = _churn_page("en", month="2024-02")
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.dataframe[0].value) > 0
    said = [c.value for c in at.caption if "It has seen what happened after 2024-02-29" in c.value]
    assert said and "trained on the history up to 2026-" in said[0]
    assert at.dataframe[0].value["churn_probability"].notna().all()
    # The base count is no figure so early (the tiles show a dash): no caption states it either.
    assert [m.value for m in at.metric[:3]] == ["—", "—", "—"]
    assert not [c.value for c in at.caption if "base vehicles on" in c.value]
    assert [c.value for c in at.caption if "the base and its counts need data from" in c.value]
    # The list's statuses count only the visits in the data: said above the list.
    assert any("shows as active here" in w.value for w in at.warning), [w.value for w in at.warning]
    opened = _churn_page("en")
    assert not [c.value for c in opened.caption if "It has seen what happened after" in c.value]
    assert not any("shows as active here" in w.value for w in opened.warning)


def test_the_whole_base_is_the_retention_line_to_read_first():
    """Among eight models' thin lines, the whole base's retention is dark and thick (it was one more
    colour of the palette, hard to find in the Chromium screenshot)."""
    import pandas as pd

    from ui.churn_figures import ALL_COLOUR, retention_figure

    curve = pd.DataFrame(
        [
            {"month": m, "share": s, "group": g, "transition": "1-2", "n": 100}
            for g, s in (("all", 0.5), ("轩逸", 0.6), ("奇骏", 0.4))
            for m in (1, 2)
        ]
    )
    traces = {tr.name: tr for tr in retention_figure(curve, "model").data}
    whole = next(tr for name, tr in traces.items() if name not in ("轩逸", "奇骏"))
    assert whole.line.color == ALL_COLOUR and whole.line.width == 3
    assert all(
        traces[g].line.width < whole.line.width and traces[g].line.color != ALL_COLOUR
        for g in ("轩逸", "奇骏")
    )


def test_the_churn_trend_counts_from_zero_with_thousands_separators():
    """Session 42: the trend's axis began at 400 (the at-risk line lay on its floor), and its saved
    image wrote 2000 where the page wrote 2,000."""
    import pandas as pd

    from ui.churn_figures import trend_figure

    trend = pd.DataFrame(
        {"as_of": pd.to_datetime(["2026-08-31", "2026-09-30"]), "lost": [1800, 1815], "at_risk": [470, 498]}
    )
    axis = trend_figure(trend).layout.yaxis
    assert axis.rangemode == "tozero" and axis.tickformat == ",d"
