"""A third probe of the themes on real-world comment text (session 23): double negatives (没有不满意),
good things rated not high with 不高 fused by jieba (效率不高), 实在 as "really" (实在太贵了), "will not
disappoint you" across 让/令 (不会让您失望), lexicon phrases jieba splits (靠谱, 有待提高), "a bit" and
"slightly" before a plain adjective (刹车有点软, 油耗略高), much of a bad thing said as "not little"
(噪音仍然不小), a fault that will not recur (问题不会再出现了), and comments in traditional characters
(服務態度很差, 洗車不乾淨). Each case failed before its fix; the guards beside them held before and
after."""

from __future__ import annotations

import pytest

from analytics.domain import themes
from analytics.domain.themes import monthly
from analytics.domain.themes import polarity as themes_polarity
from analytics.domain.themes.segmentation import label_word


def _polarities(text: str) -> list[int]:
    return [c.polarity for c in themes_polarity.clauses(text, themes.tokenize)]


@pytest.mark.parametrize(
    "text", ["没有不满意", "没有不满意的地方", "没什么不满意的", "没有什么不满意的", "不是不满意"]
)
def test_a_double_negative_is_no_complaint(text):
    assert _polarities(text) == [1]


@pytest.mark.parametrize("text", ["不是很满意", "一点都不满意", "不太满意", "没有以前满意"])
def test_a_single_negative_still_complains(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize("text", ["办事效率不高", "维修质量不高", "技术水平不高", "师傅素质不高"])
def test_a_good_thing_rated_not_high_complains_when_jieba_fuses_bu_gao(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize(("text", "value"), [("价格实在太贵了", -1), ("座椅实在是太窄了", -1)])
def test_shizai_before_a_word_is_really_not_honest(text, value):
    assert _polarities(text) == [value]


@pytest.mark.parametrize("text", ["价格很实在", "人很实在", "服务实在"])
def test_shizai_rating_something_still_praises(text):
    assert _polarities(text) == [1]


@pytest.mark.parametrize("text", ["不会让您失望", "没有让我失望", "从来没让我失望过", "不会令人失望"])
def test_not_disappointing_someone_praises(text):
    assert _polarities(text) == [1]


@pytest.mark.parametrize(
    ("text", "value"),
    [("师傅很靠谱", 1), ("效率有待提高", -1), ("服务质量有待提高", -1), ("这车机太难用了", -1)],
)
def test_lexicon_phrases_jieba_splits_are_read(text, value):
    assert _polarities(text) == [value]


@pytest.mark.parametrize("text", ["刹车有点软", "座椅有点硬", "油耗略高", "发动机略响"])
def test_a_bit_or_slightly_before_a_plain_adjective_complains(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize("text", ["有点事情先走了", "速度有点快", "有点满意", "师傅对这车略有研究"])
def test_a_bit_before_no_adjective_or_before_praise_is_no_complaint(text):
    assert -1 not in _polarities(text)


@pytest.mark.parametrize("text", ["噪音仍然不小", "胎噪不小", "问题不少"])
def test_not_little_of_a_bad_thing_complains(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize("text", ["问题不会再出现了", "师傅说以后不会再出现这种情况"])
def test_a_fault_that_will_not_recur_is_no_complaint(text):
    assert -1 not in _polarities(text)


@pytest.mark.parametrize("text", ["下次不会再来了", "不想再来了", "以后不会再买这个牌子"])
def test_never_coming_back_still_complains(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("服務態度很差", "服务态度很差"),
        ("洗車不乾淨", "洗车不干净"),
        ("還不錯", "还不错"),
        ("價格太貴", "价格太贵"),
    ],
)
def test_traditional_characters_read_as_simplified(traditional, simplified):
    assert themes.tokenize([traditional]) == themes.tokenize([simplified])
    assert _polarities(traditional) == _polarities(simplified)
    assert themes.lexicon_aspect(themes.tokenize([traditional])[0]) == themes.lexicon_aspect(
        themes.tokenize([simplified])[0]
    )


def test_a_complaint_in_traditional_characters_is_no_praise_quote():
    reading = monthly.read_clauses("師傅很專業，就是洗車不乾淨")
    assert reading.praise == "师傅很专业"
    assert reading.complaints == ("就是洗车不干净",)
    assert reading.aspects == ("car_wash",)


@pytest.mark.parametrize(("text", "value"), [("舒适性一般", -1), ("稳定性差", -1), ("稳定性很好", 1)])
def test_a_quality_named_as_a_noun_is_not_rated_by_its_name(text, value):
    assert _polarities(text) == [value]


def test_simplified_text_with_a_character_traditional_text_also_uses_is_left_alone():
    from analytics.domain.themes.segmentation import simplified

    assert simplified("效果显著，著名品牌") == "效果显著，著名品牌"
    # Converted, and by phrase (OpenCC): 顯著 is 显著, not character by character 显着.
    assert simplified("效果顯著") == "效果显著"


@pytest.mark.parametrize(
    ("comment", "kept"),
    [
        ("王师傅技术好", ["技术"]),
        ("周师傅很专业", ["专业"]),
        ("陈姐人很好", []),
        ("张工很专业", ["专业"]),
        ("老李很负责", ["负责"]),
        ("赵总很客气", ["客气"]),
    ],
)
def test_a_person_addressed_by_surname_and_title_is_never_a_theme_word(comment, kept):
    # In a file of texts no table names the technician; 王师傅 is a person all the same.
    words = [w for w in themes.content_words(themes.tokenize([comment])[0]) if label_word(w)]
    assert [w for w in words if w not in {"人"}] == kept


@pytest.mark.parametrize("word", ["师傅", "小哥", "员工", "做工", "加工", "小姐"])
def test_a_title_or_word_without_a_surname_is_no_person(word):
    assert not themes.is_entity(word)


@pytest.mark.parametrize(
    ("comment", "praise"),
    [
        ("整体还可以，洗车没洗干净，轮毂上还有泥", "整体还可以"),
        ("服务不错，配件没货，要等一个星期，其他都挺好", "服务不错，其他都挺好"),
    ],
)
def test_a_clause_telling_a_complaint_on_is_no_praise_quote(comment, praise):
    assert monthly.read_clauses(comment).praise == praise
    assert themes.praise_quote(comment) == praise


@pytest.mark.parametrize("text", ["车子开回去发现异响还在", "检查发现问题依然存在"])
def test_a_fault_found_still_there_complains(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize(("text", "value"), [("服务很nice", 1), ("666", 1), ("服务bad", -1)])
def test_english_and_net_slang_are_read(text, value):
    assert _polarities(text) == [value]


@pytest.mark.parametrize(
    ("text", "family"),
    [("交给你们很放心", None), ("修车放心", None), ("这车很结实", "vehicle"), ("很安全", "vehicle")],
)
def test_trust_in_the_store_is_not_the_cars_safety(text, family):
    aspect = themes.lexicon_aspect(themes.tokenize([text])[0])
    families = {a.id: a.family for a in themes.load_lexicon().aspects}
    assert (families.get(aspect) if aspect else None) == family


@pytest.mark.parametrize("text", ["总是乱推销项目", "不会乱推销"])
def test_pushing_extra_work_is_about_price_not_the_lounge(text):
    assert themes.lexicon_aspect(themes.tokenize([text])[0]) == "price"


def test_english_praise_words_are_no_theme_words():
    assert themes.content_words(["服务", "很", "nice", "good", "666", "wifi"]) == ["wifi"]


def test_discovered_car_themes_get_english_labels():
    from analytics.domain.themes.segmentation import english_label

    for words in (["音响", "工艺", "难看"], ["声音", "实现", "变速"], ["油门", "响应", "操作"]):
        assert english_label(words) != themes.UNTRANSLATED, words
