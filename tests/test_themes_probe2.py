"""A second probe of clause polarity on after-sales callback comments (session 21): complaints told
as facts with no sentiment word (车里一股烟味), faults not fixed or come back (又开始响了), advisors
called 小 + surname, faults put right, wishes after faint praise, waits the wait rule missed,
negated hedges, "why" and scorn, and 比 fused with the word before it. The cases are written for
these tests, not taken from the probe's set. Each case of a pattern failed before its fix; the
guards (a fact after a negator, a wish for nothing missing, a short wait, a fact against praise)
hold before and after."""

from __future__ import annotations

import pytest

from analytics.domain import themes
from analytics.domain.themes import lexicon as themes_lexicon
from analytics.domain.themes import monthly
from analytics.domain.themes import polarity as themes_polarity


def _polarities(text: str) -> list[int]:
    return [c.polarity for c in themes_polarity.clauses(text, themes.tokenize)]


@pytest.mark.parametrize(
    ("comment", "praise", "complaint"),
    [
        ("接待很热情，车门上被蹭了一块漆", "接待很热情", "车门上被蹭了一块漆"),
        ("保养挺及时，车里一股机油味", "保养挺及时", "车里一股机油味"),
        ("师傅很专业，前台说话很冲", "师傅很专业", "前台说话很冲"),
        ("环境不错，结账时多出来一百块", "环境不错", "结账时多出来一百块"),
        ("服务态度好，防冻液加多了", "服务态度好", "防冻液加多了"),
    ],
)
def test_a_complaint_told_as_a_fact_after_praise_leaves_the_praise_quote(comment, praise, complaint):
    reading = monthly.read_clauses(comment)
    assert reading.praise == praise
    assert reading.complaints == (complaint,)


def test_a_fact_after_a_negator_is_no_complaint():
    assert _polarities("车里没有烟味") == [0]


@pytest.mark.parametrize(
    "text",
    ["车还是没修好", "车开回去又开始抖了", "这都第三次进店了", "已经来了四次了", "雨刮还是老样子"],
)
def test_a_fault_not_fixed_or_come_back_complains(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize(("text", "value"), [("车修好了", 1), ("这回终于修好了", 1), ("车没给处理好", -1)])
def test_put_right_praises_and_not_put_right_complains(text, value):
    assert _polarities(text) == [value]


@pytest.mark.parametrize(
    ("text", "value"), [("小吴服务很好", 1), ("小郑服务挺周到", 1), ("多亏小郑一直跟进", 0)]
)
def test_an_advisor_called_xiao_and_a_surname_is_no_complaint(text, value):
    assert _polarities(text) == [value]


@pytest.mark.parametrize(
    "text",
    ["水箱漏水已经修好了", "天窗漏水这次修好了", "渗油的地方处理好了", "师傅一下就查出问题了", "没什么问题"],
)
def test_a_fault_put_right_or_found_at_once_is_no_complaint(text):
    assert _polarities(text) == [1]


@pytest.mark.parametrize(
    ("comment", "complaint"),
    [
        ("还行，工时费要是能便宜点就更好了", "工时费要是能便宜点就更好了"),
        ("凑合吧，希望下次等的时间短一点", "希望下次等的时间短一点"),
    ],
)
def test_a_wish_after_faint_praise_is_a_hidden_complaint(comment, complaint):
    assert monthly.read_clauses(comment).complaints == (complaint,)


def test_a_wish_for_nothing_missing_is_no_complaint():
    assert _polarities("希望越来越好") == [0]


@pytest.mark.parametrize(
    "text",
    ["换机油等了一个半小时", "洗车要排两个多小时", "钣金修了二十多天才拿到车", "配件说要等一个月"],
)
def test_a_long_wait_complains(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize("text", ["保养一个小时就做完了", "不用等一天"])
def test_a_short_wait_or_none_is_no_complaint(text):
    assert -1 not in _polarities(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("师傅技术不太行", -1), ("说不上满意", -1), ("办事效率不算高", -1), ("办事效率很高", 1)],
)
def test_negated_faint_praise_complains(text, value):
    assert _polarities(text) == [value]


@pytest.mark.parametrize(
    "text", ["为什么每次保养都要等这么久", "换个滤芯怎么要这么久", "态度好有什么用", "这速度也是没谁了"]
)
def test_asking_why_and_scorn_complain(text):
    assert _polarities(text) == [-1]


@pytest.mark.parametrize(("text", "value"), [("工时价格比别家贵", -1), ("配件价格比外面便宜", 1)])
def test_a_comparison_with_another_shop_fused_with_bi(text, value):
    assert _polarities(text) == [value]


def test_a_complaint_told_as_a_fact_weighs_half_in_the_comments_polarity():
    # One fact against one praise word: the praise decides the comment.
    assert themes_polarity.polarity("服务很好，洗完车脚垫上有泥", themes.tokenize) == 1


@pytest.mark.parametrize("text", ["空调不凉", "车里空调一点都不冷", "冷气不够冷", "暖风不热"])
def test_air_conditioning_that_does_not_cool_or_warm_complains(text):
    assert [c.polarity for c in themes_polarity.clauses(text, themes.tokenize)] == [-1]


@pytest.mark.parametrize("text", ["空调很凉快", "空调不冷不热刚刚好", "休息室很暖和"])
def test_air_conditioning_that_works_is_no_complaint(text):
    assert all(c.polarity >= 0 for c in themes_polarity.clauses(text, themes.tokenize))


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("空调不制冷，修了两次", "fault_aircon"),
        ("空调不凉", "fault_aircon"),
        ("车子充不进电，检查说是充电口坏了", "drive_charging"),
        ("充电口松了，老是跳枪", "drive_charging"),
        ("动力电池衰减得厉害", "drive_charging"),
        ("休息区空调太冷了", "lounge"),
    ],
)
def test_air_conditioning_and_charging_have_aspects_of_their_own(text, aspect):
    assert themes_lexicon.lexicon_aspect(text) == aspect
