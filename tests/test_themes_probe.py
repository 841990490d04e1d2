"""A probe of the themes with texts nobody tuned on (session 20): satisfied customers' reservations
after praise (技师手艺好，就是收费不透明), the praise side themed by what a comment praises, faults
put right, "next time I won't come", much of a bad thing (油耗高), new-energy brands and series as
entities (never sentiment, never theme words), and labels without function words. Each assertion
failed before its fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from analytics.domain import themes
from analytics.domain.themes import discovery, monthly
from analytics.domain.themes import polarity as themes_polarity
from analytics.domain.themes.segmentation import drop_entities, label_word
from analytics.store import db


def _polarities(text: str) -> list[int]:
    return [c.polarity for c in themes_polarity.clauses(text, themes.tokenize)]


@pytest.mark.parametrize(
    ("comment", "praise", "complaint"),
    [
        ("技师手艺好，就是收费不透明", "技师手艺好", "就是收费不透明"),
        ("挺满意的，只是取车的时候车里有烟味", "挺满意的", "只是取车的时候车里有烟味"),
        ("整体不错，但是油漆有色差", "整体不错", "但是油漆有色差"),
        ("很满意，下次还来，就是预约系统难用", "很满意，下次还来", "就是预约系统难用"),
        ("服务很好，就是天窗漏水", "服务很好", "就是天窗漏水"),
    ],
)
def test_a_reservation_after_praise_is_a_hidden_complaint_not_part_of_the_praise_quote(
    comment, praise, complaint
):
    reading = monthly.read_clauses(comment)
    assert reading.praise == praise
    assert reading.complaints == (complaint,)
    assert themes.praise_quote(comment) == praise


def test_a_reservation_in_words_the_lexicon_does_not_read_leaves_the_comment_praise_overall():
    # Clause by clause it is a hidden complaint; the comment's polarity still reads the praise.
    assert themes_polarity.polarity("技师手艺好，就是收费不透明", themes.tokenize) == 1


def test_praise_without_a_reservation_is_quoted_whole():
    assert monthly.read_clauses("服务不错，很满意！").praise == "服务不错，很满意！"
    assert monthly.read_clauses("服务不错，很满意！").complaints == ()
    # Praise resuming after the turn ends the reservation: 价格有点贵，不过服务很好 complains of the price only.
    assert monthly.read_clauses("价格有点贵，不过服务很好").complaints == ("价格有点贵",)


@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("问题一次就解决了", 1),
        ("异响已经排除了", 1),
        ("问题没解决", -1),
        ("下次不来了", -1),
        ("以后不会来了", -1),
        ("油耗高", -1),
        ("风噪很小", 1),
        ("理想L9后备箱进水", -1),
        ("效果不理想", -1),
        ("欧拉好猫刹车异响", -1),
    ],
)
def test_clause_polarity_of_faults_put_right_never_coming_back_and_brand_names(text, polarity):
    assert _polarities(text) == [polarity]


def test_the_praise_side_themes_what_a_comment_praises_not_the_complaint_beside_it(tmp_path):
    con = db.connect(tmp_path / "t.duckdb")
    try:
        frame = pd.DataFrame(
            {"comment": ["陈静服务态度很好，但是客休室的沙发太旧了", "洗车很干净"], "tokens": [None, None]}
        )
        tokens, _ = monthly._tokens(con, frame, "praise")
        assert "沙发" not in tokens[0] and "服务态度" in tokens[0]
        assert themes.lexicon_aspect(tokens[0], "praise") == "attitude"
        assert tokens[1] == themes.tokenize(["洗车很干净"])[0]
        # The complaint side still themes what it complains of.
        complained, _ = monthly._tokens(con, frame, "complaint")
        assert themes.lexicon_aspect(complained[0], "complaint") == "lounge"
    finally:
        con.close()


@pytest.mark.parametrize(
    "title",
    [
        "理想L9后备箱进水",
        "小米SU7刹车异响",
        "秦plus油耗高",
        "别克君威变速箱顿挫",
        "欧拉好猫刹车异响",
        "坦克300底盘异响",
        "华为问界M7车机卡顿",
        "鸿蒙智行的变速箱顿挫",
        "星途星纪元ES底盘异响",
        "东风奕派刹车异响",
        "极狐阿尔法S后备箱进水",
    ],
)
def test_new_energy_brands_and_series_are_entities_in_any_case(title):
    kept = drop_entities(themes.tokenize([title])[0])
    assert kept and all(
        word
        in {"后备箱", "进水", "刹车", "异响", "油耗", "高", "变速箱", "顿挫", "底盘", "车机", "卡顿", "的"}
        for word in kept
    ), kept


def test_labels_leave_out_function_words():
    for word in ("更加", "一共", "前后", "很快", "一下", "是不是"):
        assert not label_word(word), word
    for word in ("顾问", "价格", "划痕", "线条", "中肯"):
        assert label_word(word), word
    vocab = np.array(["更加", "线条", "流畅", "一共", "价格"])
    counts = sparse.csr_matrix(np.array([[5, 3, 2, 0, 0], [0, 0, 0, 4, 3]], dtype=float))
    words = discovery.ctfidf_words(counts, np.array([0, 1]), 2, vocab)
    assert words == [("线条", "流畅"), ("价格",)]


def test_how_customers_call_an_advisor_is_a_name_never_a_theme_word():
    from analytics.domain.themes.lexicon import name_pieces

    pieces = name_pieces(["王强", "陈静"])
    for called in ("小王", "老王", "王师傅", "陈经理", "陈姐"):
        assert called in pieces, called
    # A store or model name gets no such forms by its first character alone being a surname.
    assert "小杭" not in name_pieces(["杭州西湖店"])
