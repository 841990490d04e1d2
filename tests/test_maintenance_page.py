"""The maintenance page through the entrypoint, in both languages, on the shared demo database."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import maintenance

APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture(autouse=True)
def quick_training(monkeypatch):
    """Train on three dates instead of twelve (demo_env keeps the models in a session folder)."""
    real = maintenance._config
    monkeypatch.setattr(maintenance, "_config", lambda: real() | {"training_cutoffs": 3})


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
    # One chart on the list (due per week) and four on the card (AUC, lift, calibration, importance).
    assert len(at.get("plotly_chart")) == 5
    assert any("ROC AUC" in md.value for md in at.markdown)


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


def test_retraining_from_the_model_card_replaces_the_saved_model(demo_env):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("pages/maintenance.py")
    at.run()
    started = time.time_ns()
    at.button(key="maint_retrain").click().run()
    assert not at.exception, [e.message for e in at.exception]
    saved = list(Path(os.environ["ANALYTICS_MODEL_DIR"]).glob("*.joblib"))
    assert [f.stat().st_mtime_ns >= started for f in saved] == [True]
    assert any(c.value.startswith("Trained ") for c in at.caption)
