"""Clause-level praise and complaint in Chinese comments (issue 16).

A comment is split into clauses at punctuation and at turn words (但, 就是, 可惜, 不过 ...). Each
clause gets a polarity from the sentiment lexicon ``data/themes/sentiment.toml``: +1 per positive
word, -1 per negative word, a word after a negator counting the other way, a regret word (可惜)
making its clause negative. "服务不错就是等太久" is one praising clause (服务不错) and one
complaining clause (就是等太久): praise for the service and a hidden complaint about waiting.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from analytics.core.config import DATA_DIR
from analytics.domain.themes.lexicon import load_lexicon
from analytics.domain.themes.segmentation import SURNAMES, entity_words, pos_tag

# Segmentation is passed in (analytics.domain.themes.tokenize), so this module does not import themes.
Tokenizer = Callable[[list[str]], list[list[str]]]

SENTIMENT_FILE = DATA_DIR / "themes" / "sentiment.toml"

# Clause boundaries: sentence and clause punctuation, line breaks, tildes and spaces between words.
_BOUNDARY = re.compile(r"[，,。.!！？?；;：:\n\r~～…、]+|\s{2,}")
# Degree words fused with a sentiment word in one token (很快, 太贵, 挺好).
_DEGREE = "很挺太蛮超真够较特好非最更巨贼忒也都还就又偏略"
# Two-character degree words fused with a sentiment word (比较慢, 有点贵, 非常满意).
_DEGREE2 = (
    "比较",
    "有点",
    "有些",
    "非常",
    "十分",
    "特别",
    "相当",
    "稍微",
    "略微",
    "更加",
    "实在",
    "极其",
    "格外",
    "越来越",
)
# Degree words standing alone between a bad thing and how little of it there is (噪音也很小).
_DEGREE_WORDS = frozenset(
    {"很", "较", "比较", "相对", "特别", "非常", "十分", "也", "都", "还", "更", "极", "超", "真"}
)
# A fault found still there (发现异响还在, 检查发现问题依然存在).
_STILL_THERE = ("还在", "还是", "依然", "依旧", "仍然", "仍在", "还有")
# Adverbs allowed between a bad thing and how much of it there is (噪音仍然不小, 噪音显著降低).
_STILL = frozenset(
    {"仍然", "依然", "仍", "依旧", "还是", "确实", "的确", "显著", "大大", "略", "有点", "有些", "稍微"}
)
# "Too": before a word that is neither praise nor complaint, it complains (太长, 太多, 过于复杂,
# 偏冷: 偏 is "rather too").
_EXCESS = "太忒偏"
# Sentence-final particles read through (好了, 快啊).
_PARTICLES = "了啦的啊呀哦哈嘛"
_EXCESS_WORDS = frozenset({"太", "太过", "过于", "忒", "偏"})
# What an amount starts with (快三个小时, 快2天, 快半年).
_AMOUNT_START = frozenset("0123456789一二三四五六七八九十两半几")
# Verbs before 好 meaning "agreed" (说好的, 约好的).
_AGREED = frozenset({"说", "约", "讲", "谈", "定"})
_AGREED_GOOD = frozenset(verb + "好" for verb in _AGREED)
# Negators whose reach is the whole rest of the clause (没有想象的好, 没有看出什么问题, 不如说的好).
_LONG_NEGATORS = frozenset({"没有", "并没有", "从没", "从来没", "不如", "还不如", "远不如"})
# "Nothing of" (没什么问题, 没啥毛病): no bad thing at all.
_NONE_OF = frozenset({"没什么", "没啥", "没有什么", "没什么大", "没啥大"})
# "Never again" (再也不来, 不会再买, 不想再来): the customer will not come back, a complaint.
_NEVER_AGAIN_AFTER = frozenset({"不会", "不想", "不敢", "绝不", "决不", "再也不会", "再也不想"})
# ... unless what will never again be needed is a worry (再也不用担心).
_NO_LONGER_NEEDED = ("不用", "不必", "不怕", "不担心")
# Next time the customer will not come (下次不来了): a time to come, then not coming.
_NEXT_TIME = frozenset({"下次", "以后", "下回", "今后", "往后"})
_NOT_COMING = ("不来", "不会来", "不去", "不会去", "不会再", "不再", "再也不")
# Rhetorical questions: 难道, 凭什么, 怎么能 make a clause a complaint; a clause asking 吗 or 是不是
# of praise doubts it (这叫专业吗, 是不是正品).
_RHETORICAL = frozenset({"难道", "凭什么", "怎能"})
_RHETORICAL_PAIRS = frozenset({("凭", "什么"), ("怎么", "能"), ("怎么", "可以")})
_QUESTION_END = frozenset({"吗"})
# What the customer expected (以为很好, 本以为很快): the clause says the opposite happened.
_EXPECTED = frozenset({"以为", "本以为", "原以为", "还以为", "满以为"})
# "Would have done better to" (还不如, 倒不如): with no other sentiment, a complaint.
_WORSE_THAN = frozenset({"不如", "还不如", "倒不如", "远不如"})
# Surprise (竟然, 居然) with nothing else said is what the customer did not expect: a complaint
# (居然让我自己去找, 竟然还要收费); with praise or complaint words the words decide.
_SURPRISE = frozenset({"竟然", "居然", "竟"})
# A wish (希望下次能快一点, 建议多备点配件) asks for what was missing: its praise words praise nothing.
_WISH = frozenset({"希望", "建议"})
# "Not enough": a negator that complains by itself when no sentiment word follows it.
_SHORT = frozenset({"不够"})
# One-character negators jieba fuses with the verb after them (没装 好, 未能 修好).
_FUSED_NEGATORS = "不没未"
# Potential complements of inability, V不C (打不通, 连不上, 找不到, 开不了): the customer could not get
# something done, a complaint. The complement as its own token after a one-character verb (打 不通,
# 找 不到), as 不 + complement (约 不 上, 充 不 进去), or the whole as one jieba token (连不上).
_UNABLE_ONE = frozenset("到上开通了清懂见掉进动出住下来去惯定")
_UNABLE_TWO = frozenset(
    {
        "不到",
        "不了",
        "不通",
        "不上",
        "不开",
        "不动",
        "不进",
        "不清",
        "不懂",
        "不住",
        "不出",
        "不下",
        "不见",
        "不掉",
    }
)
_UNABLE_THREE = frozenset(
    {
        "上",
        "下",
        "下去",
        "出",
        "出来",
        "出去",
        "进",
        "进去",
        "动",
        "开",
        "通",
        "到",
        "清",
        "清楚",
        "懂",
        "住",
        "掉",
        "起来",
        "过来",
        "回来",
    }
)
# One-character words before 不C that are no verb (都不到, 了不到, 一天不到, 说不好).
_NOT_VERBS = frozenset(
    "了的也都还就又才再很太最更真可并却是我你他她它这那有在说个天年月日次块元分秒周会能要想人车吧啊呢吗"
    "0123456789一二三四五六七八九十两半几多少"
)
# Verbs jieba fuses with the word before them (车开 不了, 电充 不 进去).
_FUSED_VERBS = frozenset("开充打用修连约找接听看")
# 不了 before an amount is "will not take" (用不了多久, 花不了几个钱): no inability.
_AMOUNT_AFTER = ("多", "几", "一", "两", "半", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
# Nobody attended (没人接待, 没有人管, 无人理睬): 没人/没有人/无人 + a verb of attending.
_NOBODY = frozenset({"没人", "没有人", "无人"})
_ATTEND = frozenset(
    {
        "接待",
        "管",
        "理",
        "理会",
        "理睬",
        "搭理",
        "讲解",
        "接",
        "接听",
        "招呼",
        "帮忙",
        "处理",
        "跟进",
        "回复",
        "回应",
        "负责",
        "联系",
        "通知",
        "引导",
        "介绍",
        "服务",
        "答复",
        "解释",
        "说明",
        "告诉",
        "问津",
        "问",
        "指引",
        "安排",
        "回电",
        "回电话",
        "过问",
    }
)
# Waiting: 等了/排了 + a long duration (等了两个小时, 排了一上午的队), or any duration followed by 才
# (等了二十分钟才有人来), unless 就 follows it (等了十分钟就好了). The number and its 个/多 are taken
# whole (``++``, ``*+``): 多 is in both, and a run of 多 could otherwise be split between them in as
# many ways as it is long, each tried (a comment of 4,000 took a second).
_WAITED = re.compile(
    r"(?:等|排|等待|等候|排队|耗|拖)了?(?:快|将近|近|差不多|足足|整整|大概|大约|约|有)?"
    r"([0-9一二三四五六七八九十两半几多]++(?:个|多|来)*+半?)(多?)"
    r"(小时|钟头|钟|天|日|星期|礼拜|周|月|年|上午|下午|晚上|早上|整天|分钟|分|秒)"
)
_LONG_UNITS = frozenset(
    {"小时", "钟头", "天", "日", "星期", "礼拜", "周", "月", "年", "上午", "下午", "晚上", "早上", "整天"}
)
# Something done only after a long time (修了一个月才拿到车, 二十多天才到).
_TOOK_UNTIL = re.compile(
    r"[了用花]([0-9一二三四五六七八九十两半几多]++(?:个|多|来)*+半?)多?(小时|钟头|天|星期|礼拜|周|月|年)多?才"
)
# What before a wait says there was none (不用等一天, 没等半个月).
_NO_WAIT = ("不用", "没", "不", "无需", "不需要")
# A promise (说, 答应, 承诺) and what came of it (结果 ...), or what was promised and not done.
_PROMISE = frozenset(
    {"说", "说是", "答应", "承诺", "保证", "说好", "说好的", "约好的", "讲好", "讲好的", "告诉我"}
)
_PROMISED = frozenset(
    {"答应", "承诺", "保证", "说好", "约好", "讲好", "说好的", "约好的", "讲好的", "答应的", "承诺的"}
)
_RESULT = "结果"
_NOT_DONE = frozenset({"没", "没有", "未", "并未", "没能", "未能"})
# An advisor called 小 + surname (小刘, 小李): jieba splits it, and 小 ("small") is no complaint there.
_SURNAMES = SURNAMES
# Verbs of finding a fault: found at once (一下就找到问题了) is praise of the diagnosis, not found
# (没查出问题) a complaint, found without more said (检查发现问题) neither.
_FOUND = frozenset({"找到", "找出", "查出", "查到", "发现", "查出来", "找出来", "检查出"})
# Markers of a fault come back or never gone: 又开始响了, 都第四次了, 已经第三次来了, 还是老样子.
_AGAIN = frozenset({"又", "又是", "再次"})
_AGAIN_VERBS = frozenset("响亮坏漏抖犯出来冒报卡掉跳")
_REPEATED = re.compile(
    r"(?:都|已经|又|这都|这是)(?:是)?第[二两三四五六七八九十几0-9]+[次回趟遍]"
    r"|(?:来|跑|修|返厂|返修|进店|回店)了[两三四五六七八九十几0-9]+[次回趟遍]"
)
# A wish for what was missing: a counterfactual (价格能再便宜点就好了, 要是能提前通知就更好了), or
# 希望/建议/但愿 asking for more of something (希望下次快一点, 建议增加几个充电车位).
_COUNTERFACTUAL = re.compile(r"(?:能|要是|如果|若是|若|再).*就(?:更|最)?(?:好|完美|好多)了?$")
_MORE = re.compile(r"一点|一些|[快早多少好宜短细]点|增加|改进|改善|提高|加强|完善|再[快便少多短好细早及]")
_WISHING = frozenset({"希望", "建议", "但愿"})
# A "why" about what should not be (为什么每次都要等这么久, 修个车怎么要这么久): a complaint.
_WHY = frozenset({"为什么", "为啥", "干嘛", "凭啥", "怎么"})
_WHY_ABOUT = frozenset(
    {"要", "还要", "还", "又", "每次", "老是", "总是", "这么", "那么", "这么久", "那么久", "非要", "都要"}
)
# Air conditioning or heating that does not cool or warm (空调不凉, 冷气不够冷, 暖风不热): a fault,
# though 凉 and 冷 alone complain of food and of staff (菜是凉的, 态度很冷), so negated they would praise.
_CLIMATE_FAILING = re.compile(
    r"(?:空调|冷气|暖风|制冷|制热).{0,6}?(?:不|没)(?:够|太|怎么|咋|是很)?(?:凉|冷|热|暖)"
)
# A negator's reach across a causative and whom it affects (不会让您失望, 没让我失望, 不会令人失望).
_CAUSATIVE = frozenset({"让", "令", "使", "叫"})
_CAUSED = frozenset({"人", "我", "你", "您", "他", "她", "我们", "你们", "大家", "客户", "人家"})
# "A bit", "slightly" before a word that is neither praise nor complaint complain, as 太 does (刹车有点软,
# 座椅有点硬, 发动机略响): Chinese says 有点/略 of what it finds too much. Only before an adjective or a
# state word (jieba's tags a, ad, z, zg; not 略有研究, 略带椰香, 有点事情).
_A_BIT = frozenset({"有点", "有点儿", "有些", "略", "略显", "稍", "稍显", "稍微", "略微"})
_A_BIT_TAGS = frozenset({"a", "ad", "z", "zg"})
# What will not happen again (问题不会再出现, 不会再发生): reassurance, not "never coming back".
_RECUR = ("出现", "发生", "犯", "坏", "响", "漏", "亮")
_NOT_AGAIN = re.compile(r"(?:不会|不|没有?|未)再(?:" + "|".join(_RECUR) + ")")
# Sarcasm that says praise is worth nothing (态度好有什么用) or is beyond words (效率也是没谁了).
_SCORN = ("有什么用", "有啥用", "有何用", "没谁了")


@dataclass(frozen=True)
class SentimentLexicon:
    """Positive and negative words, negators, turn and regret words, and the turn weight."""

    positive: frozenset[str]
    negative: frozenset[str]
    negators: frozenset[str]
    turns: frozenset[str]
    regret: frozenset[str]
    turn_weight: float
    # What a complaint told as a fact weighs in the comment's overall polarity (``Clause.stated``).
    fact_weight: float = 1.0
    # Words for another shop (外面, 别家): a clause speaking of one counts the other way.
    elsewhere: frozenset[str] = frozenset()
    # Negators longest first, for a token that starts with one (不好, 没问题).
    negator_prefixes: tuple[str, ...] = ()
    # Sentiment words of two or more characters, longest first, for a longer token holding one.
    inner: tuple[tuple[str, int], ...] = ()
    # Words that start with a negator but negate nothing (不断 "on and on", 不少 "many").
    plain: frozenset[str] = frozenset()
    # Little of it (小, 少, 低): after a complaint word, the pair is praise (噪音小, 故障少, 问题不大).
    diminishers: frozenset[str] = frozenset()
    # Bad things one can have little of (噪音, 故障, 问题): the complaint words diminishers turn.
    measurable: frozenset[str] = frozenset()
    # Much of it (高, 大, 多): after one of those bad things the lexicon does not count by itself
    # (油耗, 耗油), the pair is a complaint (油耗高, 油耗有点大).
    augmenters: frozenset[str] = frozenset()
    # Put right (解决, 修好, 排除): after one of those bad things, the pair is praise (问题一次就解决了).
    resolvers: frozenset[str] = frozenset()
    # V不C words that say no inability (了不起, 差不多, 舍不得, 离不开): not complaints.
    idioms: frozenset[str] = frozenset()
    # Complaints stated as facts, matched inside the clause's text whatever jieba made of it
    # (车里一股烟味, 轮毂被刮花了, 机油加多了): ``facts`` here and the aspect lexicon's complaint cues.
    facts: tuple[str, ...] = ()
    # Good things one can have much of (效率, 水平): with 高 they praise, negated they complain (效率不算高).
    virtues: frozenset[str] = frozenset()
    # Praise too faint to count (行, 可以) that complains once negated (不太行, 不怎么可以).
    hedges: frozenset[str] = frozenset()
    # Sentiment words of two or more characters, which jieba may split (靠 谱): see ``_joined``.
    phrases: frozenset[str] = frozenset()
    # What those phrases start with (靠 of 靠谱, 有待 of 有待提高): the tokens a phrase may start at.
    phrase_starts: frozenset[str] = frozenset()
    # Each word's value once worked out (``_word_value``): a corpus repeats its words.
    values: dict[str, tuple[int, bool]] = field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class Clause:
    """One clause of a comment: its text, polarity (-1, 0, 1), whether a turn word opened it and
    whether it complains by a fact alone."""

    text: str
    polarity: int
    turn: bool
    # A complaint told as a fact with no sentiment word (车里一股烟味): it weighs ``fact_weight`` in
    # the comment's overall polarity, the comment's sentiment words saying more of how it felt.
    stated: bool = False


def _words(data: dict[str, Any], key: str) -> frozenset[str]:
    return frozenset(str(w).lower() for w in data.get(key, []))


@cache
def sentiment_lexicon() -> SentimentLexicon:
    """Return the sentiment lexicon of ``data/themes/sentiment.toml``."""
    with SENTIMENT_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    positive, negative, negators = (
        _words(data, "positive"),
        _words(data, "negative"),
        _words(data, "negators"),
    )
    phrases = [w for w in positive | negative if len(w) >= 2]
    inner = sorted(
        [(w, -1) for w in negative if len(w) >= 2]
        + [(w, 1) for w in positive if len(w) >= 2 and w not in negative],
        key=lambda wv: (-len(wv[0]), wv[1], wv[0]),
    )
    return SentimentLexicon(
        positive=positive,
        negative=negative,
        negators=negators,
        turns=_words(data, "turns"),
        regret=_words(data, "regret"),
        turn_weight=float(data.get("turn_weight", 2.0)),
        fact_weight=float(data.get("fact_weight", 1.0)),
        elsewhere=_words(data, "elsewhere"),
        negator_prefixes=tuple(sorted(negators, key=lambda w: (-len(w), w))),
        inner=tuple(inner),
        plain=_words(data, "plain"),
        diminishers=_words(data, "diminishers"),
        measurable=_words(data, "measurable"),
        resolvers=_words(data, "resolvers"),
        augmenters=_words(data, "augmenters"),
        idioms=_words(data, "idioms"),
        facts=_complaint_facts(data),
        virtues=_words(data, "virtues"),
        hedges=_words(data, "hedges"),
        phrases=frozenset(phrases),
        phrase_starts=frozenset(w[:k] for w in phrases for k in range(1, len(w))) - _DEGREE_WORDS,
    )


def _complaint_facts(data: dict[str, Any]) -> tuple[str, ...]:
    """Return the words that state a complaint as a fact: ``facts`` of the sentiment file and the
    aspect lexicon's complaint cues of two or more characters, less ``facts_excluded`` (小时, 味道:
    cues of an aspect, no complaint by themselves), longest first."""
    cues = {w.lower() for aspect in load_lexicon().aspects for w in aspect.complaint if len(w) >= 2}
    words = (cues | _words(data, "facts")) - _words(data, "facts_excluded")
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def _word_value(lex: SentimentLexicon, token: str) -> tuple[int, bool]:
    """Return a token's value (+1, -1, 0) and whether it carries its own negation (不好, 没问题)."""
    # It depends on the word and the lexicon only: worked out once per word (the prefixes tried
    # by ``_value_of`` made reading a third slower without it).
    found = lex.values.get(token)
    if found is None:
        found = lex.values[token] = _value_of(lex, token)
    return found


def _value_of(lex: SentimentLexicon, token: str) -> tuple[int, bool]:
    bare = token.rstrip(_PARTICLES)
    if bare and bare != token:
        token = bare
    if token in lex.positive:
        return 1, False
    if token in lex.negative:
        return -1, False
    if token in lex.plain:
        return 0, False
    for neg in lex.negator_prefixes:
        rest = token[len(neg) :]
        if token.startswith(neg) and rest:
            value, _ = _word_value(lex, rest)
            if value:
                return value, True
    stripped = next((token[2:] for d in _DEGREE2 if token.startswith(d)), "")
    if not stripped and token[0] in _DEGREE:
        stripped = token[1:]
    if stripped:
        value, negated = _word_value(lex, stripped)
        if not value and token[0] in _EXCESS and stripped not in lex.hedges:
            # 太长, 太多: "too much" of something plain is a complaint.
            return -1, False
        return value, negated
    return _contained(lex, token), False


def _contained(lex: SentimentLexicon, token: str) -> int:
    """Return the value of a sentiment word of two or more characters inside a longer token (故障灯)."""
    if len(token) < 3:
        return 0
    if token[-1] in "性度" and _word_value(lex, token[:-1])[0]:
        return 0  # 舒适性, 灵敏度: the quality named, not rated (舒适性一般 complains)
    for word, value in lex.inner:
        if len(word) < len(token) and word in token:
            return value
    return 0


def _fused_negator(lex: SentimentLexicon, token: str) -> bool:
    """Return whether a two-character token is a negator fused with a verb (没装, 没修, 未能), which
    negates the word after it as a negator of its own would (没装好, 没洗干净)."""
    # 不过 ("but") and 不断 ("on and on") start with a negator and negate nothing: 不过排队太久 is a
    # complaint about the queue, not "no queue".
    if token in lex.turns or token in lex.plain:
        return False
    return len(token) == 2 and token[0] in _FUSED_NEGATORS and not _word_value(lex, token)[0]


def _not_evaluative(tokens: Sequence[str], i: int) -> bool:
    """Return whether a sentiment word is used in another sense here: 快 before an amount is
    "almost" (等了快三个小时), 好 after 说/约/讲 is "agreed" (说好的优惠, 约好的时间)."""
    token = tokens[i]
    if token == "快" and i + 1 < len(tokens) and tokens[i + 1][:1] in _AMOUNT_START:
        return True
    if token == "实在" and i + 1 < len(tokens) and tokens[i + 1].strip(_PARTICLES):
        return True  # 实在太贵了, 实在是太窄了: "really", not "honest"
    if _after_agreed(tokens, i):
        return True  # 说好的优惠: what was promised, not praise of it
    if token == "好":
        # 说好的, and jieba's 就是说 好的 (就是 说好的洗车没洗)
        return i > 0 and tokens[i - 1][-1:] in _AGREED
    return token in _AGREED_GOOD


def _after_agreed(tokens: Sequence[str], i: int) -> bool:
    """Return whether the word at ``i`` follows "the agreed" (说好的优惠, 约好 的 时间, jieba's 就是说 好
    的 优惠): what was promised, not how good it was."""
    j = i - 2 if i > 1 and tokens[i - 1] == "的" else i - 1
    if j < 0:
        return False
    if tokens[j] in _AGREED_GOOD or tokens[j][:-1] in _AGREED_GOOD:  # 说好, 说好的
        return True
    return tokens[j] == "好" and j > 0 and tokens[j - 1][-1:] in _AGREED


def _diminisher(lex: SentimentLexicon, token: str, words: frozenset[str] | None = None) -> bool:
    """Return whether a token says "little of it" (小, 很少, 较低, 比较小), or is one of ``words``
    (a degree word before it allowed) when given."""
    wanted = lex.diminishers if words is None else words
    bare = token.rstrip(_PARTICLES) or token
    if bare in wanted:
        return True
    rest = next((bare[2:] for d in _DEGREE2 if bare.startswith(d)), "")
    if not rest and bare[0] in _DEGREE + "较":
        rest = bare[1:]
    return rest in wanted


def _diminished(
    lex: SentimentLexicon, tokens: Sequence[str], i: int, words: frozenset[str] | None = None
) -> int | None:
    """Return the index of the diminisher after a bad thing one can have little of (噪音小, 故障很少,
    问题不大), degree words allowed between, else None; of one of ``words`` instead when given."""
    if tokens[i] not in lex.measurable:
        return None
    for j in range(i + 1, min(i + 6, len(tokens))):
        if _diminisher(lex, tokens[j], words):
            return j
        if (
            j + 1 < len(tokens)
            and tokens[j] in ("不", "并不")
            and _diminisher(lex, "不" + tokens[j + 1], words)
        ):
            return j + 1  # 噪音 不 明显, as jieba splits 不明显
        if j < i + 4 and (tokens[j] in _DEGREE_WORDS or tokens[j] in _STILL or tokens[j] in _BETWEEN_AMOUNT):
            continue
        if tokens[j] in _AND and j + 1 < len(tokens) and tokens[j + 1] in lex.measurable:
            continue  # 噪音和抖动不明显: both little
        if tokens[j] in lex.measurable and j > i + 1 and tokens[j - 1] in _AND:
            continue
        return None
    return None


def _fused_amount(lex: SentimentLexicon, token: str) -> int | None:
    """Return +1 for a token that is a bad thing and little of it (价格低, 低噪音), -1 for much of it
    (售价过高), else None: jieba keeps some such pairs as one word."""
    if len(token) < 3 or token in lex.positive or token in lex.negative:
        return None
    key = (id(lex), token)
    if key not in _FUSED:
        _FUSED[key] = _fused_of(lex, token)
    return _FUSED[key]


# ``_fused_amount`` per lexicon and token, worked out once (it tries every cut of the token).
_FUSED: dict[tuple[int, str], int | None] = {}


def _fused_of(lex: SentimentLexicon, token: str) -> int | None:
    for cut in range(2, len(token) - 0):
        head, tail = token[:cut], token[cut:]
        if head in lex.measurable and tail:
            if _diminisher(lex, tail):
                return 1
            if _diminisher(lex, tail, lex.augmenters):
                return -1
        if tail in lex.measurable and head in _LOW:
            return 1
    if token[:1] in _LOW and token[1:] in lex.measurable:
        return 1
    return None


# Little of it, said before the bad thing (低噪音); 小 is left out: 小毛病 is still a fault.
_LOW = frozenset({"低", "超低", "极低", "较低"})
# Between a bad thing and how much of it there is: 噪音非常的小, 噪音水平比较低, 顿挫感最轻微.
_BETWEEN_AMOUNT = frozenset({"的", "得", "水平", "感", "程度", "方面", "最"})
# Two bad things named together before how much of them there is (噪音和抖动不明显).
_AND = frozenset({"和", "与", "及", "、", "以及", "跟"})
# A bad thing gone: 异响没有了, 问题没了, 噪音消失了 (没有 followed by 了 ends the sentence: no more of it).
_GONE = ("没了", "没有了", "消失", "不见了", "没再", "不再")


def _resolved(lex: SentimentLexicon, tokens: Sequence[str], i: int) -> int | None:
    """Return the index of the word that puts a bad thing right (问题解决了, 异响一次就修好了,
    漏油已经修好了), up to four tokens after it with no negator between (问题没解决 stays a
    complaint), else None."""
    for j in range(i + 1, min(i + 5, len(tokens))):
        token = tokens[j]
        if _NOT_AGAIN.match("".join(tokens[j : j + 3])):
            return j  # 问题不会再出现了: it will not come back
        if j == i + 1 or tokens[j - 1] in _DEGREE_WORDS or tokens[j - 1] in _STILL:
            joined = token + (tokens[j + 1] if j + 1 < len(tokens) else "")
            if token in _GONE or joined in _GONE or token.startswith("消失"):
                return j  # 异响没有了, 问题没了, 噪音完全消失了: no more of it
        if token in lex.negators or _fused_negator(lex, token):
            return None
        bare = token.rstrip(_PARTICLES) or token
        if bare in lex.resolvers or (j > i + 1 and tokens[j - 1] + bare in lex.resolvers):
            return j  # 修好, or jieba's 处理 好
    return None


def _long_negated(lex: SentimentLexicon, tokens: Sequence[str], i: int) -> bool:
    """Return whether 没有/不如 up to six tokens back reaches this word, the first sentiment word
    after it: praise (没有想象的那么好, 不如以前热情) or a bad thing (没有发现什么问题), not another
    complaint word (没有把手这么烫: lacking a handle does not make it cool)."""
    if _word_value(lex, tokens[i])[0] < 0 and tokens[i] not in lex.measurable:
        return False
    for k in range(i - 1, max(-1, i - 7), -1):
        if tokens[k] in _LONG_NEGATORS:
            return True
        if tokens[k] in _NONE_OF:
            # 没什么问题 praises; 没什么惊喜 is no praise denied but a shrug, left to its words.
            return tokens[i] in lex.measurable
        if _word_value(lex, tokens[k])[0]:
            return False
    return False


def _unable(lex: SentimentLexicon, tokens: Sequence[str], i: int) -> bool:
    """Return whether the V不C ending at token i says the customer could not do something (打 不通,
    连不上, 约 不 上, 开 不了), not an idiom (了不起, 差不多) nor 不了 before an amount (用不了多久)."""
    token = tokens[i]
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    one = token.rstrip(_PARTICLES) if len(token) > 3 else token
    if token in lex.idioms or one in lex.idioms:
        return False
    if (
        len(one) == 3
        and one[1] == "不"
        and one[0] != one[2]
        and one[0] not in _NOT_VERBS
        and one[0] not in _DEGREE
        and one[2] in _UNABLE_ONE
    ):
        return not _word_value(lex, one)[0]
    prev = tokens[i - 1] if i > 0 else ""
    if token in _UNABLE_TWO and _verb_before(prev):
        return not (token == "不了" and after.startswith(_AMOUNT_AFTER))
    if token in _UNABLE_THREE and i > 1 and tokens[i - 1] == "不":
        return _verb_before(tokens[i - 2])
    return False


def _verb_before(prev: str) -> bool:
    """Return whether the token before 不C ends in its verb: one character that is no function word
    or amount (打 不通, not 都 不到 or 一天 不到), or a two-character token jieba fused with a common
    verb of this kind (车开 不了, 电充 不 进去)."""
    if len(prev) == 2 and prev[1] in _FUSED_VERBS:
        return True
    return len(prev) == 1 and prev not in _NOT_VERBS and prev not in _DEGREE


def _nobody(tokens: Sequence[str], i: int) -> bool:
    """Return whether token i is a verb of attending that nobody did (没人 接待, 没有 人 管, 没有 人理)."""
    token = tokens[i]
    before = tokens[max(0, i - 3) : i]
    if token in _ATTEND:
        if before[-1:] and before[-1] in _NOBODY:
            return True
        if len(before) >= 2 and before[-1] == "人" and before[-2] in {"没", "没有", "无"}:
            return True
        if len(before) >= 2 and before[-1] in {"来", "去"} and before[-2] in _NOBODY:
            return True  # 没人来接待
    if token == "无人问津":
        return True
    if token.startswith("人") and token[1:] in _ATTEND and before[-1:] and before[-1] in {"没", "没有", "无"}:
        return True
    return False


# Words of speed: a comment that praises the speed does not complain of the wait it states.
_QUICK = ("快", "速度", "效率", "及时", "准时", "麻利", "利索")


def _waited(text: str) -> bool:
    """Return whether a clause says the customer waited long (等了两个小时, 排了一上午的队) or waited
    until something finally happened (等了二十分钟才有人来), not that it was quick (等了十分钟就好了)."""
    if _TOOK_UNTIL.search(text):
        return True
    for m in _WAITED.finditer(text):
        rest = text[m.end() : m.end() + 4]
        if "就" in rest or text[: m.start()].endswith(_NO_WAIT):
            continue
        half_hour = m.group(1).startswith("半") and m.group(3) in {"小时", "钟头"}
        if (m.group(3) in _LONG_UNITS and not half_hour) or "才" in rest:
            return True
    return False


def _broken_promise(run: Sequence[str], promised_before: bool) -> bool:
    """Return whether a clause tells what came of a promise (说一个小时，结果等了两个小时) or that what
    was promised was not done (答应的事情没做到, 说好的优惠没给)."""
    if "就" in run:
        return False  # 说要三天，结果两天就到了
    for k, token in enumerate(run):
        if token == _RESULT and (promised_before or any(t in _PROMISE for t in run[:k])):
            return True
        # jieba's 就是说 好 的 is 就是 说好的 ("but the agreed ...").
        agreed = token == "好" and k > 0 and run[k - 1][-1:] in _AGREED
        if (token in _PROMISED or agreed) and any(
            t in _NOT_DONE or (len(t) == 2 and t[0] in "没未") for t in run[k + 1 :]
        ):
            return True
    return False


def _negated(lex: SentimentLexicon, tokens: Sequence[str], i: int) -> bool:
    """Return whether a negator reaches the word at ``i``: up to two tokens back, a long negator
    (没有想象的好), or one fused with the verb before it (没装 好); across a causative and whom it
    affects (不会让您失望); not a negator itself negated (没有不满意, 没什么不满意的)."""
    near = [k for k in range(max(0, i - 2), i) if tokens[k] in lex.negators]
    if near:
        before = tokens[max(0, near[-1] - 2) : near[-1]]
        return not any(t in lex.negators or t in _LONG_NEGATORS or t in _NONE_OF for t in before)
    return (
        _long_negated(lex, tokens, i)
        or (i > 0 and _fused_negator(lex, tokens[i - 1]))
        or ((j := _causative(tokens, i)) is not None and _negated(lex, tokens, j))
    )


def _causative(tokens: Sequence[str], i: int) -> int | None:
    """Return the index of the causative before the word at ``i`` and whom it affects (让 您 失望,
    令人 失望), else None."""
    if i > 1 and tokens[i - 1] in _CAUSED and tokens[i - 2] in _CAUSATIVE:
        return i - 2
    if i > 0 and len(tokens[i - 1]) == 2 and tokens[i - 1][0] in _CAUSATIVE and tokens[i - 1][1:] in _CAUSED:
        return i - 1
    return None


def _a_bit(tokens: Sequence[str], i: int) -> bool:
    """Return whether an adjective or state word is said to be "a bit" or "slightly" so (有点 软,
    略 高, jieba's 略响), which complains of it."""
    token = tokens[i]
    if i > 0 and tokens[i - 1] in _A_BIT and len(token) <= 2:
        return pos_tag(token) in _A_BIT_TAGS
    return len(token) == 2 and token[0] in "略稍" and pos_tag(token[1]) in _A_BIT_TAGS


def _joined(lex: SentimentLexicon, tokens: Sequence[str]) -> list[str]:
    """Return the tokens with the lexicon's phrases jieba split put back together (靠 谱, 有待 提高,
    影响 心情), other than a negator or degree word and what follows it (不 满意, 太 差), which the
    rules read word by word."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in lex.phrase_starts and token not in lex.negators and token not in _EXCESS_WORDS:
            n, joined = 1, token
            for m in range(2, 5):
                if i + m > len(tokens) or joined not in lex.phrase_starts:
                    break
                joined += tokens[i + m - 1]
                n = m if joined in lex.phrases else n
            if n > 1:
                out.append("".join(tokens[i : i + n]))
                i += n
                continue
        out.append(token)
        i += 1
    return out


def _hedge(lex: SentimentLexicon, token: str) -> bool:
    """Return whether a token is a hedge (行, 可以), a degree word before it allowed (太行 of 不太行)."""
    bare = token.rstrip(_PARTICLES) or token
    return bare in lex.hedges or (len(bare) > 1 and bare[0] in _DEGREE and bare[1:] in lex.hedges)


def _virtue_rated(lex: SentimentLexicon, tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """Return the index of 高 after a good thing one can have much of (效率高, 水平很高) and the
    pair's value, +1, or -1 negated (效率不算高, 水平不太高), else None."""
    for j in range(i + 1, min(i + 4, len(tokens))):
        # jieba fuses the negator with 高 (效率不高, 质量不太高).
        prefix = next((n for n in lex.negator_prefixes if tokens[j].startswith(n) and tokens[j] != n), "")
        if _diminisher(lex, tokens[j][len(prefix) :], frozenset({"高"})):
            negated = any(t in lex.negators for t in tokens[i + 1 : j]) or bool(prefix)
            return j, -1 if negated else 1
        if tokens[j] not in _DEGREE_WORDS and tokens[j] not in lex.negators:
            return None
    return None


def _found_fault(lex: SentimentLexicon, tokens: Sequence[str], i: int) -> int | None:
    """Return the value of a fault found (one or two tokens after 找到/查出): +1 found at once
    (一下就找到问题了), -1 not found (没查出问题), 0 found (检查发现问题); None without a verb of
    finding."""
    k = next((k for k in (i - 1, i - 2) if k >= 0 and tokens[k] in _FOUND), None)
    if k is None:
        return None
    if "".join(tokens[i + 1 : i + 3]).startswith(_STILL_THERE):
        return -1  # 发现异响还在: the fault is still there
    if _negated(lex, tokens, k):
        # 没发现什么问题: no fault of any kind found, praise.
        return 1 if any(t in {"什么", "啥", "任何"} for t in tokens[k + 1 : i]) else -1
    return 1 if "就" in tokens[max(0, k - 3) : k] else 0


def token_score(tokens: Sequence[str], lex: SentimentLexicon | None = None) -> int:
    """Return the sum of a clause's word values, a word after a negator (two tokens back) flipped."""
    lex = lex or sentiment_lexicon()
    score = 0
    skip: set[int] = set()
    for i, token in enumerate(tokens):
        if i in skip:
            continue
        if token == "小" and i + 1 < len(tokens) and tokens[i + 1] in _SURNAMES:
            # 小刘服务很好: an advisor's name, not "small".
            skip.add(i + 1)
            continue
        if token in _LOW and i + 1 < len(tokens) and tokens[i + 1] in lex.measurable:
            # 低噪音, 低油耗, 低故障率: little of a bad thing, said before it.
            skip.add(i + 1)
            score += 1
            continue
        if (amount := _fused_amount(lex, token)) is not None:
            # 价格低, 低噪音, 售价过高 as jieba fuses them: the bad thing and how much of it in one token.
            score += amount
            continue
        if token in lex.virtues and (rated := _virtue_rated(lex, tokens, i)) is not None:
            # 效率高 praises, 效率不算高 complains.
            skip.add(rated[0])
            score += rated[1]
            continue
        if token in _SHORT and not any(_word_value(lex, t)[0] for t in tokens[i + 1 :]):
            # 停车位不够, 人手不够用: "not enough" of nothing in particular is a complaint.
            score -= 1
            continue
        if _nobody(tokens, i):
            # 没人接待, 没有人管: nobody attended to the customer.
            score -= 1
            continue
        value, own_negation = _word_value(lex, token)
        if not value and _unable(lex, tokens, i):
            # 电话打不通, 蓝牙连不上, 保养约不上: the customer could not get it done.
            score -= 1
            continue
        if value and _not_evaluative(tokens, i):
            continue
        if not value and i > 0 and tokens[i - 1] in _EXCESS_WORDS and len(token) <= 2:
            value = -1
        if not value and _a_bit(tokens, i):
            # 刹车有点软, 发动机略响: "a bit" so is a complaint.
            score -= 1
            continue
        if not value and token in lex.measurable and (j := _diminished(lex, tokens, i)) is not None:
            # 杂音小: little of a bad thing the lexicon does not count by itself.
            skip.add(j)
            score += 1
            continue
        if (
            not value
            and token in lex.measurable
            and (j := _diminished(lex, tokens, i, lex.augmenters)) is not None
        ):
            # 油耗高: much of a bad thing the lexicon does not count by itself.
            skip.add(j)
            score -= 1
            continue
        bare = token.rstrip(_PARTICLES) or token
        if not value and bare in lex.resolvers:
            # 车修好了 praises; 车还是没修好, 没给处理好 complain.
            negated = _negated(lex, tokens, i) or any(t in _NOT_DONE for t in tokens[max(0, i - 3) : i])
            score += -1 if negated else 1
            continue
        if not value and _hedge(lex, token) and i > 0 and tokens[i - 1] in lex.negators:
            # 技术不太行, 效率不怎么可以: faint praise negated.
            score -= 1
            continue
        if not value:
            continue
        if value < 0 and token in lex.measurable and (fault := _found_fault(lex, tokens, i)) is not None:
            # 一下就找到问题了: the fault found at once; 没查出问题: not found.
            score += fault
            continue
        if value < 0 and not own_negation and (j := _resolved(lex, tokens, i)) is not None:
            # 问题一次就解决了: a bad thing put right is praise.
            skip.add(j)
            score += 1
            continue
        negated = (
            own_negation
            != (
                _negated(lex, tokens, i)
                # 没给处理好: a verb and its complement 好 not done.
                or (bare == "好" and any(t in _NOT_DONE for t in tokens[max(0, i - 3) : i - 1]))
            )
        )
        value = -value if negated else value
        if value < 0 and not negated and (j := _diminished(lex, tokens, i, lex.augmenters)) is not None:
            # 噪音仍然不小, 问题很多: much of a bad thing, the complaint stands.
            skip.add(j)
        elif value < 0 and not negated and (j := _diminished(lex, tokens, i)) is not None:
            # 噪音小, 故障少: little of a bad thing is praise.
            skip.add(j)
            value = 1
        score += value
    return score


def _clause_tokens(tokens: Sequence[str], lex: SentimentLexicon) -> list[tuple[list[str], bool]]:
    """Return a piece's token runs split before each turn word, with whether a turn opened each."""
    runs: list[tuple[list[str], bool]] = [([], False)]
    for token in tokens:
        if token in lex.turns and runs[-1][0]:
            runs.append(([token], True))
        elif token in lex.turns:
            runs[-1] = ([token], True)
        else:
            runs[-1][0].append(token)
    return [r for r in runs if r[0]]


def _speaks_of_elsewhere(lex: SentimentLexicon, run: Sequence[str]) -> bool:
    """Return whether a clause speaks of another shop (外面, 别家) other than as what this one is
    compared with (比外面)."""
    if any(t in _WORSE_THAN for t in run):
        return False  # 还不如去外面: what this shop is compared with, as after 比
    # jieba fuses 比 with the word before it (价格比 别家 贵).
    return any(t in lex.elsewhere and (i == 0 or run[i - 1][-1:] != "比") for i, t in enumerate(run))


def _never_again(tokens: Sequence[str]) -> bool:
    """Return whether a clause says the customer will never again do something (再也不来,
    以后不会再买, 不想再来了), other than no longer needing to worry (再也不用担心)."""
    for k, token in enumerate(tokens):
        after = tokens[k + 1] if k + 1 < len(tokens) else ""
        if (
            token.startswith("再也")
            and (token[2:] or after)[:1] in "不没"
            and not ((token[2:] or after).startswith(_NO_LONGER_NEEDED))
        ):
            return True
        if token in _NEVER_AGAIN_AFTER and after.startswith("再"):
            # 不会再来 never again, but 问题不会再出现 is a fault that will not recur.
            then = after[1:] or (tokens[k + 2] if k + 2 < len(tokens) else "")
            if not then.startswith(_RECUR):
                return True
        if token in _NEXT_TIME:
            # 下次不来了, 以后不会来了, 下回不去这家了 (but not 下次不来不行, "must come").
            rest = "".join(tokens[k + 1 : k + 4])
            if rest.startswith(_NOT_COMING) and "不行" not in rest and not _NOT_AGAIN.match(rest):
                return True
    return False


def _rhetorical(tokens: Sequence[str]) -> int:
    """Return 2 for a rhetorical question (难道, 凭什么, 怎么能), 1 for a question (吗, 是不是),
    else 0."""
    for k, token in enumerate(tokens):
        after = tokens[k + 1] if k + 1 < len(tokens) else ""
        if token == "难道" and after.startswith(("不", "没")):
            return 0  # 难道不是一件好事吗: a double negative that praises
        if token in _RHETORICAL or (token, after) in _RHETORICAL_PAIRS:
            return 2
    if tokens[-1] in _QUESTION_END or "是不是" in tokens:
        return 1
    return 0


def _stated_fact(lex: SentimentLexicon, text: str) -> bool:
    """Return whether a clause states a complaint as a fact (``facts``: 一股烟味, 刮花, 加多了, 多收),
    not after a negator (没有烟味, 不推销)."""
    for m in _facts_pattern(lex.facts).finditer(text):
        if not any(n in text[max(0, m.start() - 4) : m.start()] for n in "不没无未别免"):
            return True
    return False


@cache
def _facts_pattern(facts: tuple[str, ...]) -> re.Pattern[str]:
    """Return one pattern finding each of ``facts`` wherever it starts (matches may overlap)."""
    return (
        re.compile("(?=(?:" + "|".join(re.escape(w) for w in facts) + "))") if facts else re.compile("(?!)")
    )


def _repeated(tokens: Sequence[str]) -> bool:
    """Return whether a clause says a fault came back or is still there: 又 before a verb of a
    fault (又开始响了, 又亮灯了), the n-th visit (都第四次了, 已经来了三次), 老样子, 没变化."""
    text = "".join(tokens)
    if _REPEATED.search(text) or "老样子" in text or "没变化" in text:
        return True
    for k, token in enumerate(tokens):
        if token in _AGAIN:
            rest = "".join(tokens[k + 1 : k + 3])
            if rest[:1] in _AGAIN_VERBS or (rest.startswith(("开始", "出现")) and len(rest) > 2):
                return True
    return False


def _wish_for_more(tokens: Sequence[str]) -> bool:
    """Return whether a clause wishes for what was missing: a counterfactual (能再便宜点就好了,
    要是有充电口就好了) or a wish for more of something (希望下次快一点, 建议增加充电车位)."""
    text = "".join(tokens)
    if _COUNTERFACTUAL.search(text):
        return True
    return any(t in _WISHING for t in tokens[:3]) and bool(_MORE.search(text))


def _why(tokens: Sequence[str]) -> bool:
    """Return whether a clause asks why something should be so (为什么每次都要等, 怎么要这么久)."""
    for k, token in enumerate(tokens):
        if token in _WHY and any(t in _WHY_ABOUT for t in tokens[k + 1 :]):
            return not (token == "怎么" and "".join(tokens[k + 1 :]).startswith(("样", "说", "办")))
    return False


def clause_texts(text: str | None) -> list[str]:
    """Return a comment's pieces between punctuation (the clauses before turn words are split off)."""
    if not isinstance(text, str):
        return []
    return [p.strip() for p in _BOUNDARY.split(text) if p and p.strip()]


def clauses(text: str | None, tokenize: Tokenizer, lex: SentimentLexicon | None = None) -> list[Clause]:
    """Return a comment's clauses, each with its polarity, in order."""
    lex = lex or sentiment_lexicon()
    names = entity_words()
    out: list[Clause] = []
    promised = quick = False
    for tokens in tokenize(clause_texts(text)):
        for run, turn in _clause_tokens(tokens, lex):
            # Brand and series names carry no sentiment (理想L9后备箱进水, 欧拉好猫刹车异响).
            score = token_score(_joined(lex, [t for t in run if t not in names]), lex)
            if _waited("".join(run)) and not quick:
                # 等了两个小时, 排了一上午的队: a long wait (unless the customer called it quick:
                # 速度挺快的，等了一个钟头左右).
                score -= 1
            quick = quick or (score > 0 and any(w in t for t in run for w in _QUICK))
            if score <= 0 and _broken_promise(run, promised):
                # 说一个小时，结果等了两个小时; 答应的事情没做到.
                score = -1
            promised = promised or any(t in _PROMISE for t in run)
            if _CLIMATE_FAILING.search("".join(run)) and "不冷不热" not in "".join(run):
                # 空调不凉: the air conditioning does not cool, not food that is not cold.
                score = -1
            if score > 0 and any(t in _WISH for t in run[:2]):
                # 希望下次能快一点: a wish, not praise.
                score = 0
            if score >= 0 and _wish_for_more(run):
                # 价格能再便宜点就好了, 希望下次快一点: what was missing.
                score = -1
            stated = score == 0 and (_stated_fact(lex, "".join(run)) or _repeated(run))
            if stated:
                # 车里一股烟味, 轮毂被刮花了; 又开始响了, 都第四次了: a complaint told as a fact.
                score = -1
            if score == 0 and any(t in _SURPRISE for t in run):
                # 竟然还要收费: an unwelcome surprise.
                score = -1
            if score == 0 and any(t in _WORSE_THAN for t in run):
                # 还不如去路边店: anything would have been better, a complaint.
                score = -1
            if score > 0 and any(t in _EXPECTED for t in run):
                # 本以为很专业: the praise expected was not met.
                score = -1
            if _speaks_of_elsewhere(lex, run):
                # 外面便宜一半: what is good elsewhere is a complaint here (比外面便宜 is praise).
                score = -score
            if run[0] in lex.regret and score >= 0:
                score = -1
            if _never_again(run):
                score = -1
            question = _rhetorical(run)
            if score <= 0 and _why(run):
                # 为什么每次都要等这么久: asking why is complaining.
                question = 2
            if any(w in "".join(run) for w in _SCORN):
                # 服务态度好有什么用, 效率也是没谁了: praise scorned.
                question = 2
            if question == 2 or (question == 1 and score > 0):
                # 难道这就是服务, 这叫专业吗: praise asked about is doubted.
                score = -1
            polarity = (score > 0) - (score < 0)
            out.append(Clause("".join(run), polarity, turn, stated and polarity < 0))
    return out


def polarity(text: str | None, tokenize: Tokenizer, lex: SentimentLexicon | None = None) -> int:
    """Return a comment's overall polarity: 1 praise, -1 complaint, 0 neither (turns weigh more)."""
    lex = lex or sentiment_lexicon()
    score = sum(
        c.polarity * (lex.turn_weight if c.turn else 1.0) * (lex.fact_weight if c.stated else 1.0)
        for c in clauses(text, tokenize, lex)
    )
    return (score > 0) - (score < 0)


def naive_polarity(tokens: Sequence[str], lex: SentimentLexicon | None = None) -> int:
    """Return the naive baseline's polarity: positive minus negative words, no negation, no clauses."""
    lex = lex or sentiment_lexicon()
    score = sum((t in lex.positive) - (t in lex.negative) for t in tokens)
    return (score > 0) - (score < 0)


def praising_text(text: str | None, tokenize: Tokenizer, lex: SentimentLexicon | None = None) -> str:
    """Return a comment without its complaining clauses ('' when nothing but complaint is left)."""
    kept = [c.text for c in clauses(text, tokenize, lex) if c.polarity >= 0]
    return "，".join(kept)


def complaining_clauses(
    text: str | None, tokenize: Tokenizer, lex: SentimentLexicon | None = None
) -> list[str]:
    """Return the complaining clauses of a comment (a satisfied customer's hidden complaints)."""
    return [c.text for c in clauses(text, tokenize, lex) if c.polarity < 0]
