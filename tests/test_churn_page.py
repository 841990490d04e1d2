"""The churn page through the entrypoint, in both languages, on the small shared demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4  # trend, retention curve, calibration, drivers
    ranked = at.dataframe[0].value
    assert len(ranked) > 0
    assert set(ranked["status"]) <= ({"已流失", "流失预警"} if lang == "zh" else {"Lost", "At risk"})
    downloads = [b for b in at.get("download_button") if "_image_" not in b.key]
    assert len(downloads) == 4  # ranked list and call list, CSV and XLSX each
    images = [b.key for b in at.get("download_button") if "_image_" in b.key]
    assert len(images) == 2 * len(charts)  # every chart: PNG and SVG


def test_selecting_a_row_shows_the_vehicle_history_and_the_call_list_follows_capacity(demo_env):
    at = _churn_page("en")
    first_vin = at.dataframe[0].value["vin"].iloc[0]
    at.session_state["churn_list"] = {"selection": {"rows": [0], "columns": []}}
    at.number_input(key="churn_capacity").set_value(5)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(first_vin in h.value for h in at.subheader)
    visits = at.dataframe[1].value
    assert len(visits) > 0 and "visit_date" in visits.columns
    calls = [d.value for d in at.dataframe if "priority" in d.value.columns and len(d.value) <= 5]
    assert calls and len(calls[0]) == 5


def test_early_month_without_enough_history_says_there_is_no_model_and_still_lists(demo_env):
    at = _churn_page("en", month="2024-02")
    assert any(i.value.startswith("The churn model needs more history") for i in at.info)
    assert len(at.dataframe[0].value) > 0
