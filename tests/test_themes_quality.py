"""Theme quality against hand-labelled comments: purity and NMI, with floors a few points under
the measured values (the measured values are in the docstring of each test).

themes_eval.csv (332 comments) was written before the method was measured and then used while
developing it, so its figures are optimistic; themes_holdout.csv (136 comments) was written
after the method was frozen and is the honest estimate.
"""

from pathlib import Path

import pandas as pd
import pytest

from analytics.domain import themes

DATA = Path(__file__).resolve().parent / "data"


def _evaluate(name: str, k: int = 8) -> dict:
    frame = pd.read_csv(DATA / name, dtype=str, keep_default_na=False)
    return themes.evaluate(frame["text"].tolist(), frame["label"].tolist(), k=k, seed=0)


def test_eval_set_has_300_varied_labelled_comments():
    frame = pd.read_csv(DATA / "themes_eval.csv", dtype=str, keep_default_na=False)
    assert len(frame) >= 300
    assert not frame["text"].duplicated().any()
    # The set predates the vehicle family (issue 16): it covers every service aspect.
    lexicon_ids = {a.id for a in themes.load_lexicon().aspects if a.family == "service"}
    labels = set(frame["label"])
    assert lexicon_ids <= labels
    # Themes the lexicon does not know, for discovery to find.
    assert {"charging", "kids_area", "parking"} <= labels - lexicon_ids
    assert (frame["label"] == "none").sum() >= 30


def test_quality_on_the_development_set():
    """Measured (k=8, seed 0): lexicon purity 0.871 NMI 0.876; discovery 0.377 / 0.418;
    combined 0.889 / 0.893."""
    result = _evaluate("themes_eval.csv")
    assert result["lexicon"]["purity"] >= 0.84
    assert result["lexicon"]["nmi"] >= 0.85
    assert result["discovery"]["purity"] >= 0.34
    assert result["discovery"]["nmi"] >= 0.38
    assert result["combined"]["purity"] >= 0.86
    assert result["combined"]["nmi"] >= 0.86


def test_quality_on_the_held_out_set():
    """Measured (k=8, seed 0): lexicon purity 0.794 NMI 0.827; discovery 0.331 / 0.458;
    combined 0.846 / 0.859."""
    result = _evaluate("themes_holdout.csv")
    assert result["lexicon"]["purity"] >= 0.76
    assert result["lexicon"]["nmi"] >= 0.80
    assert result["discovery"]["purity"] >= 0.30
    assert result["discovery"]["nmi"] >= 0.42
    assert result["combined"]["purity"] >= 0.81
    assert result["combined"]["nmi"] >= 0.83


def test_combination_beats_each_part_on_the_held_out_set():
    result = _evaluate("themes_holdout.csv")
    assert result["combined"]["nmi"] > result["lexicon"]["nmi"] > result["discovery"]["nmi"]


def _labelled_frame(labelled: object) -> pd.DataFrame:
    """The demo's labelled comments as a frame with text and label columns, whatever their shape."""
    frame = labelled if isinstance(labelled, pd.DataFrame) else pd.DataFrame(list(labelled))
    if list(frame.columns) == [0, 1]:
        frame.columns = ["text", "label"]
    text = next(c for c in ("text", "comment") if c in frame.columns)
    label = next(c for c in ("label", "aspect", "theme") if c in frame.columns)
    return frame.rename(columns={text: "text", label: "label"})[["text", "label"]]


def test_quality_on_the_demo_comments():
    """Not measured here (the demo generator lives on another branch): floors are set low, to
    catch a breakage rather than to grade; record the measured values once merged."""
    demo = pytest.importorskip("analytics.devtools.demo")
    frame = _labelled_frame(demo.labelled_comments())
    frame = frame[frame["text"].astype(str).str.strip() != ""].head(5_000)
    result = themes.evaluate(frame["text"].astype(str).tolist(), frame["label"].astype(str).tolist(), k=8)
    assert result["combined"]["nmi"] >= 0.4
    assert result["combined"]["purity"] >= 0.5
