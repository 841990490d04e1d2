"""Vectorised parsers from the text of DMS exports to typed columns.

Every parser takes a Series of text (missing cells NA) and returns the typed Series with the
same index, and most also a boolean Series marking cells that had a value which could not be
read. Parsing is done once per distinct value (``pd.factorize``): exports repeat dates, types
and labels thousands of times, so this is both vectorised and cheap.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd

# A number Excel wrote in scientific notation (a long work-order number in a General cell saved as
# CSV: 202403050001 -> 2.02403E+11): its digits are gone, and different numbers read the same.
SCIENTIFIC = r"[0-9](\.[0-9]+)?[eE]\+[0-9]+"
SCIENTIFIC_KEY = (
    "number in scientific notation (Excel rounded it and its digits are lost): "
    "format the column as text in Excel or export again from the DMS"
)

# Cells that mean "nothing here" in a typed column.
MISSING_TOKENS = frozenset(
    # Dashes as a Chinese keyboard types them (——, the em dash twice) and the other dash forms.
    {"-", "--", "—", "——", "———", "–", "――", "─", "/", "null", "none", "nan", "nat", "n/a", "#n/a"}
)

# The day and the hour also as they are said and typed: 5号, 14点30分.
# Every pattern here reads cells of any length from a file anyone can drop: a run of spaces (or of
# zeros) is taken whole (``*+``, possessive) where the pattern could otherwise split it between two
# parts in as many ways as it has characters, and a pattern searched for starts only at a run's
# first space (``(?<!\s)``), not again at each of them: one cell of 10,000 spaces took hours.
_DATE = (
    r"^(\d{4})\s*+[-/.年]\s*+(\d{1,2})\s*+[-/.月]\s*+(\d{1,2})\s*+[日号]?"
    r"(?:[\sT]*+(\d{1,2})\s*+(?:[:时点]\s*+(\d{1,2})(?:\s*+[:分]\s*+(\d{1,2})\s*+秒?)?\s*+分?(?:\.\d+)?"
    r"|[时点]\s*+(半|整|钟)?))?$"
)
# The hour alone, as it is said: 3点, 3点整, 3点钟, and half past it: 3点半.
_HALF_PAST = "半"
# 20240305, or with the time run on as databases print timestamps: 202403050930, 20240305093000.
_COMPACT_DATE = r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$"
# A status word before the date it happened on: "已解决 2024-03-06", "已处理：2024/3/6 10:00".
_DONE_PREFIX = r"^已[\u4e00-\u9fff]{1,4}[\s:：,，]*(?=\d)"
# Before or after the time of a 12-hour clock, also as the part of the day is said: 早上 and 凌晨
# before noon, 中午 about it, 晚上 in the evening.
_MERIDIEM = r"(?i)(?<!\s)\s*+(上午|下午|早上|凌晨|中午|晚上|[ap]\.?m\.?)\s*"
_BEFORE_NOON = ["上午", "早上", "凌晨", "am"]
_EXCEL_SERIAL = r"^\d{5}(?:\.\d+)?$"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serial numbers outside this range are not dates a DMS would export (1954-10 .. 2119-01).
_SERIAL_RANGE = (20000, 80000)
# Dates outside these years are typing or export errors (0001-01-01, 9999-12-31), not visits.
DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-01-01"))
# "0000-00-00", "0000/00/00 00:00:00", "00000000": a database's way of saying "no date";
# "1900-01-00" is how Excel shows an empty date cell that holds 0.
# The sentinels databases write for "no date" are no date either: 1900-01-01 at midnight (SQL
# Server's default), 1899-12-30/31 (Excel's and Delphi's day zero), 0001-01-01 and 9999-12-31 at any
# time (the smallest and largest date a column can hold).
_ZERO_DATE = (
    r"(?:[\s\-/.:T年月日时分秒]*+0[0\s\-/.:T年月日时分秒]*+|1900\s*[-/.年]\s*0?1\s*[-/.月]\s*00?"
    r"|1900\s*[-/.年]\s*0?1\s*[-/.月]\s*0?1|1899\s*[-/.年]\s*12\s*[-/.月]\s*3[01])[0\s\-/.:T年月日时分秒]*"
    r"|(?:0001\s*[-/.年]\s*0?1\s*[-/.月]\s*0?1|9999\s*[-/.年]\s*12\s*[-/.月]\s*31)[0-9\s\-/.:T年月日时分秒]*"
)

# Ticks and crosses in any of the forms Excel's and WPS's symbol menus insert (✔ ✘ ☑ ☒ ☐).
TRUE_WORDS = frozenset({"是", "y", "yes", "1", "true", "t", "√", "✓", "✔", "☑", "有", "已预约", "预约"})
FALSE_WORDS = frozenset(
    {"否", "n", "no", "0", "false", "f", "×", "✗", "✘", "☒", "☐", "无", "未预约", "非预约", "不是", "没有"}
)

REACHED_TRUE = frozenset(
    {"接通", "已接通", "成功", "是", "y", "yes", "1", "true", "回访成功", "已联系", "联系上", "已联系上"}
    | {"通话成功", "正常接通", "有效回访"}
    # A CRM's call status: the call was answered, or the callback was made; 拒访 is a customer
    # who answered and declined the survey (拒接 declined the call).
    | {"接听", "已接听", "已回访", "回访完成", "拒访", "客户拒访", "拒绝回访"}
    | {"已完成", "完成", "非本人"}  # 非本人: someone answered, not the customer
    # An English CRM's call status.
    | {"reached", "connected", "answered", "success", "successful", "completed", "done"}
    # Ticks, as 是否接通 is ticked (the same marks TRUE_WORDS reads).
    | {"√", "✓", "✔", "☑"}
)
REACHED_FALSE = frozenset(
    {"未接通", "无人接听", "关机", "空号", "拒接", "占线", "失败", "否", "n", "no", "0", "false", "停机"}
    | {"回访失败", "不在服务区", "无法接通", "联系不上", "未联系上", "无法联系", "无应答", "挂断", "号码错误"}
    | {"未接听", "无法接听", "无人接", "客户忙", "用户忙", "忙线", "通话中", "挂机", "客户挂机", "号码有误"}
    | {"错号", "暂停服务", "未回访"}
    # What CRM call logs write (未接, 忙音, 无人应答, 无效号码).
    | {"未接", "忙音", "无人应答", "无效号码", "号码无效", "号码错误", "无法联系上"}
    | {"not reached", "unreached", "not connected", "no answer", "unanswered", "busy", "failed", "fail"}
    | {"wrong number", "invalid number", "voicemail", "switched off", "power off", "rejected", "hung up"}
    | {"×", "✗", "✘", "☒", "x"}
)
# Longer notes such as "未接通-关机": a failure word anywhere wins over 接通 (which 未接通 contains).
_REACHED_FALSE_PARTS = (
    "未接通",
    "无人接听",
    "关机",
    "空号",
    "拒接",
    "占线",
    "失败",
    "停机",
    "无法接通",
    "联系不上",
    "未联系上",
    "无应答",
    "未接听",
    "无法接听",
)
_REACHED_TRUE_PARTS = ("接通", "成功", "接听")

# Substring rules in priority order: the first group with a word in the value decides.
SERVICE_TYPE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # 首免 and 首次强保 (强制保养): the first free, mandatory service, as some brands' DMSs name it.
    (
        "first_maintenance",
        (
            "首保",
            "首次保养",
            "首次免费保养",
            "首免",
            "首次强保",
            "首次强制保养",
            "first maintenance",
            "first_maintenance",
            # An English DMS's first free service (1st Service, First Service).
            "1st service",
            "first service",
            "1st free service",
            "first free service",
        ),
    ),
    # 质量担保: the quality guarantee, as some brands' DMSs name a warranty job.
    ("warranty", ("索赔", "三包", "保修", "质保", "担保", "warranty")),
    # An insurance job is an accident repair: body and paint.
    ("body_paint", ("钣喷", "钣金", "喷漆", "事故", "保险", "出险", "body", "paint")),
    ("maintenance", ("定保", "保养", "二保", "三保", "常规保养", "强保", "maintenance")),
    ("repair", ("维修", "机修", "机电", "快修", "小修", "大修", "返修", "返工", "repair")),
    # Jobs of none of the five kinds, named so: other, and known (a name no word here knows is
    # other too, and the import says so): car care, accessories, a new car's inspection before
    # delivery (PDI), the dealer's own cars.
    (
        "other",
        ("洗车", "美容", "装潢", "精品", "加装", "贴膜", "内部", "pdi")
        + ("car wash", "detailing", "accessor", "internal"),
    ),
)
# A day count decides first ("交车7日回访"); then the service a callback follows (3DC after a
# visit, whatever its kind: 首保, 定保, 索赔, 钣喷 ...) or the sale (7DC after a delivery).
CALLBACK_TYPE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("3DC", ("3dc", "三日", "三天", "3日", "3天", "3-day", "3 day", "three-day", "three day")),
    ("7DC", ("7dc", "七日", "七天", "7日", "7天", "7-day", "7 day", "seven-day", "seven day")),
    # Calls that ask nothing about a visit or a sale: reminders, invitations, progress notices,
    # marketing (保养到期提醒, 首保提醒, 事故车招揽, 维修进度通知) are other calls, not 3DC.
    (
        "other",
        ("提醒", "招揽", "邀约", "通知", "关怀", "营销", "推广", "促销", "活动")
        + ("reminder", "invitation", "notice", "marketing", "promotion", "campaign"),
    ),
    (
        "3DC",
        ("售后", "维修", "保养", "首保", "定保", "索赔", "三包", "保修", "钣喷", "钣金", "喷漆", "事故")
        + ("service", "repair", "maintenance", "after-sales", "after sales", "workshop"),
    ),
    # After the car left the workshop: 出厂回访, 离店回访, 返修回访, 工单回访, 72小时回访, 服务回访.
    ("3DC", ("出厂", "离店", "返修", "工单", "72小时", "48小时", "24小时", "服务回访", "服务满意度", "进厂")),
    # 服务跟踪: the service followed up (as PSFU spells it out).
    ("3DC", ("服务跟踪", "跟踪回访")),
    ("7DC", ("新车", "销售", "交车", "交付", "购车", "new car", "new vehicle", "delivery", "sales")),
    # Calls about a complaint or a customer lost, named so with no visit or sale: other calls, known.
    ("other", ("投诉", "流失", "挽回", "complaint", "win-back", "lost customer")),
)
# Manufacturers' DMSs (Toyota's and Lexus's first) write a type as its code. Each code is read as the
# words it stands for, where a word of the table above may stand beside it (WTY-维修 is a warranty
# job): only codes whose meaning is standard across those DMSs.
SERVICE_TYPE_CODES: dict[str, str] = {
    "pm": "定期保养",  # Periodic Maintenance: the scheduled service
    "em": "快速保养",  # Express Maintenance: Toyota's one-hour scheduled service
    "gr": "一般维修",  # General Repair: mechanical and electrical repair
    "bp": "钣喷",  # Body & Paint
    "b&p": "钣喷",
    "wty": "保修",  # Warranty: a job the manufacturer pays for
}
CALLBACK_TYPE_CODES: dict[str, str] = {
    "psfu": "售后回访",  # Post-Service Follow-Up: Toyota's call in the days after a visit, the 3DC
    "csi": "售后满意度",  # Customer Satisfaction Index: the after-sales satisfaction survey
    "ssi": "销售满意度",  # Sales Satisfaction Index: the survey after a car's sale and delivery
}
# The types that say "other" themselves (其他): known, as any type named by a word of the tables.
_OTHER_NAMES = frozenset({"other", "其他", "其它"})

LABEL_SCORES: dict[str, float] = {
    "非常满意": 10.0,
    "很满意": 10.0,
    "十分满意": 10.0,
    "特别满意": 10.0,
    "满意": 8.0,
    "比较满意": 8.0,
    "较满意": 8.0,
    "一般": 6.0,
    "基本满意": 6.0,
    # The middle of the scale as customers say it: "so-so", "it's all right".
    "一般般": 6.0,
    "还可以": 6.0,
    "还行": 6.0,
    "不满意": 4.0,
    "比较不满意": 4.0,
    "较不满意": 4.0,
    "不太满意": 4.0,
    "非常不满意": 2.0,
    "很不满意": 2.0,
    # A review's three grades, as shops and apps word them: 好评 is 满意, 中评 一般, 差评 不满意.
    "好评": 8.0,
    "中评": 6.0,
    "差评": 4.0,
    # An English CRM's five answers, kept in lower case (``score_text`` folds an English cell).
    "very satisfied": 10.0,
    "extremely satisfied": 10.0,
    "satisfied": 8.0,
    "somewhat satisfied": 8.0,
    "neutral": 6.0,
    "neither satisfied nor dissatisfied": 6.0,
    "dissatisfied": 4.0,
    "unsatisfied": 4.0,
    "not satisfied": 4.0,
    "somewhat dissatisfied": 4.0,
    "very dissatisfied": 2.0,
    "very unsatisfied": 2.0,
    "extremely dissatisfied": 2.0,
}
# A recommend question answered in words (是否愿意向亲友推荐本店: 非常愿意 / 愿意 / 不确定 / 不愿意 /
# 非常不愿意): a five-point scale, read as the satisfaction labels are, the 1-5 scale doubled (10, 8,
# 6, 4, 2), so that a survey answered in words gives the recommend score its answers in numbers 5 to 1
# would. NPS then counts 非常愿意 (10) a promoter, 愿意 (8) a passive, and 不确定, 不愿意 and 非常不愿意
# (6, 4, 2) detractors, as it counts 5, 4 and 3 to 1 of a 1-5 recommend column. Read only in the
# recommend column (``score_labels``): elsewhere 愿意 answers no question of satisfaction.
_WILLING: dict[str, float] = {
    "非常愿意": 10.0,
    "很愿意": 10.0,
    "十分愿意": 10.0,
    "特别愿意": 10.0,
    "肯定会推荐": 10.0,
    "一定会推荐": 10.0,
    "愿意": 8.0,
    "比较愿意": 8.0,
    "较愿意": 8.0,
    "会推荐": 8.0,
    "可能会推荐": 8.0,
    # The middle of the scale: not sure (一般, 6 already, is the satisfaction labels').
    "不确定": 6.0,
    "说不好": 6.0,
    "说不准": 6.0,
    "不一定": 6.0,
    "看情况": 6.0,
    "不愿意": 4.0,
    "不太愿意": 4.0,
    "比较不愿意": 4.0,
    "较不愿意": 4.0,
    "可能不会推荐": 4.0,
    "不会推荐": 4.0,
    "非常不愿意": 2.0,
    "很不愿意": 2.0,
    "十分不愿意": 2.0,
    "肯定不会推荐": 2.0,
    "一定不会推荐": 2.0,
    "绝对不会推荐": 2.0,
    # An English survey's answers, in lower case as ``score_text`` folds them.
    "very likely": 10.0,
    "extremely likely": 10.0,
    "likely": 8.0,
    "not sure": 6.0,
    "unlikely": 4.0,
    "not likely": 4.0,
    "very unlikely": 2.0,
    "extremely unlikely": 2.0,
}
# 愿意推荐, 非常不愿意推荐: the answer with the question's verb after it.
RECOMMEND_LABEL_SCORES: dict[str, float] = {
    **_WILLING,
    **{word + "推荐": score for word, score in _WILLING.items() if word.endswith("愿意")},
}
_RECOMMEND_LABELS = {**LABEL_SCORES, **RECOMMEND_LABEL_SCORES}


def score_labels(field_name: str) -> dict[str, float]:
    """Return the answers in words a score field's cells are read with: the satisfaction labels, and
    for the recommend score the willingness ones too (``RECOMMEND_LABEL_SCORES``)."""
    return _RECOMMEND_LABELS if field_name == "recommend_score" else LABEL_SCORES


SCALE_FACTORS: dict[str, tuple[float, float, float, float]] = {
    # scale: (lowest, highest, multiplier, divisor); dividing by 10 keeps 73 -> 7.3 exact.
    "1-5": (1.0, 5.0, 2.0, 1.0),
    "0-10": (0.0, 10.0, 1.0, 1.0),
    "0-100": (0.0, 100.0, 1.0, 10.0),
}

LEVEL_WORDS: dict[str, int] = {
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "轻微": 1,
    "一般": 2,
    "普通": 2,
    "严重": 3,
    "重大": 3,
    "危机": 4,
    # An English CRM's levels.
    "low": 1,
    "minor": 1,
    "medium": 2,
    "normal": 2,
    "moderate": 2,
    "high": 3,
    "major": 3,
    "serious": 3,
    "critical": 4,
    "crisis": 4,
}

Parsed = tuple[pd.Series, pd.Series]


def _per_unique(s: pd.Series, parse: Callable[[pd.Series], Parsed]) -> Parsed:
    """Apply a parser to the distinct values of s and spread the results back over its rows."""
    codes, uniques = pd.factorize(s)
    values, bad = parse(pd.Series(uniques, dtype="str"))
    values = values.reset_index(drop=True).reindex(codes)
    bad = bad.reset_index(drop=True).reindex(codes, fill_value=False)
    return (
        pd.Series(values.array, index=s.index, name=s.name),
        pd.Series(bad.to_numpy(dtype=bool), index=s.index, name=s.name),
    )


# Excel's text marker kept in an export: '0001234, '13812345678, '2024-03-05, '(20.00). Only before
# a value of ASCII digits, letters and the signs numbers, dates and codes are written with.
# (Not before Chinese text: '张三 may be how a name was written.)
EXCEL_TEXT_MARK = r"^'\s*([0-9A-Za-z+(\-¥￥０-９][^']*)$"


def clean_text(s: pd.Series) -> pd.Series:
    """Return the text stripped, with Excel's ="..." text guard and ' text marker removed and empty
    cells NA."""
    text = s.astype("str").str.strip()
    if text.str.startswith('="').any():
        text = text.str.replace(r'^="(.*)"$', r"\1", regex=True).str.strip()
    if text.str.startswith("'").any():
        text = text.str.replace(EXCEL_TEXT_MARK, r"\1", regex=True)
    return text.mask(text == "")


def clean_typed(s: pd.Series) -> pd.Series:
    """Return clean_text(s) with placeholder cells ("-", "null", "/") treated as missing."""
    text = clean_text(s)
    return text.mask(text.str.lower().isin(MISSING_TOKENS))


# A number written from a float (a CSV a program wrote from a number cell): 2403001.0 is 2403001.
FLOAT_WRITTEN_KEY = r"[0-9]+\.0+"


# A number in scientific notation that writes every digit of the whole number (1.2347E+4 is 12347, as
# a program that writes floats so prints it): as many digits after the point as the exponent, so
# no digit was rounded away. Excel's 2.02403E+11 writes fewer, and stays a key that lost its digits.
SCIENTIFIC_WHOLE = r"[0-9]\.[0-9]+[eE]\+0*[0-9]+"


def _whole_number(text: str) -> str:
    mantissa, exponent = re.split("[eE]", text)
    head, digits = mantissa.split(".")
    return head + digits if len(digits) == int(exponent) else text


# Unicode's format characters (category Cf) that a copy from a web page, a chat or a spreadsheet
# leaves in a cell: soft hyphen, zero-width space and joiners, direction marks, word joiner and
# invisible operators, direction isolates, byte-order mark.
_FORMAT_MARKS = r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"


def clean_key(s: pd.Series) -> pd.Series:
    """Return clean_typed(s) with a whole number written as a float (``2403001.0``, or ``1.2347E+4``
    with every digit) as the number: the same work order is one key whichever program wrote the file."""
    text = clean_typed(s)
    wide = text.str.contains(r"[^\x00-\x7f]", regex=True).fillna(False).astype(bool)
    if wide.any():
        # Full-width letters and digits (ＲＯ０００１) are the key as written in half width, and marks
        # that print as nothing (a left-to-right mark, a soft hyphen, a joiner, a byte-order mark)
        # are no part of it: RO0001 either way, as a VIN or a plate is folded.
        folded = text[wide].str.normalize("NFKC").str.replace(_FORMAT_MARKS, "", regex=True).str.strip()
        text = text.where(~wide, folded)
    text = text.str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
    scientific = text.str.fullmatch(SCIENTIFIC_WHOLE).fillna(False).astype(bool)
    if scientific.any():
        text = text.where(~scientific, text[scientific].map(_whole_number))
    return text


def clean_dates(s: pd.Series) -> pd.Series:
    """Return clean_typed(s) with zero dates ("0000-00-00") treated as missing."""
    text = clean_typed(s)
    return text.mask(text.str.fullmatch(_ZERO_DATE).fillna(False).astype(bool))


def missing_dates(s: pd.Series) -> pd.Series:
    """Return where a date cell is empty, a placeholder or a zero date (``clean_dates`` gives NA)."""
    codes, uniques = pd.factorize(s)
    empty = np.append(clean_dates(pd.Series(uniques, dtype="str")).isna().to_numpy(dtype=bool), True)
    return pd.Series(empty[codes], index=s.index, name=s.name)  # code -1 (NA) picks the True


# No VIN holds the letters I, O or Q (ISO 3779, GB 16735): in one typed with them they are 1, 0, 0.
_VIN_TYPED_WITH_IOQ = r"[A-Z0-9]*[IOQ][A-Z0-9]*"
_VIN_LETTERS = str.maketrans("IOQ", "100")


def clean_vin(s: pd.Series) -> pd.Series:
    """Return VINs upper-cased, with full-width letters and digits folded, no spaces of any kind,
    and in 17 letters and digits the I, O and Q no VIN holds read as 1, 0 and 0 (other validity
    is a data-quality finding, not checked here)."""
    # NFKC turns the full-width and no-break spaces into plain ones.
    text = _nfkc(clean_typed(s)).str.replace(r"\s+", "", regex=True).str.upper()
    typo = (text.str.len() == 17) & text.str.fullmatch(_VIN_TYPED_WITH_IOQ)
    if typo.any():
        text = text.where(~typo.fillna(False).astype(bool), text.str.translate(_VIN_LETTERS))
    return text.mask(text == "")


# A mainland plate once its dots and spaces are gone: a province, a letter, five letters and digits
# (six on a new-energy car; four before a mark such as 挂 or 学).
_PLATE = r"[\u4e00-\u9fff][A-Z][A-Z0-9]{4,6}[\u4e00-\u9fff]?"
# The middle dots written between a plate's letter and its number (浙A·12345), and spaces; the full
# stop and the dash typed for the dot on a keyboard without one (浙A.12345, 浙A-12345).
_PLATE_SEPARATORS = r"[\s\u00b7\u2022\u2027\u2219\u22c5\u30fb.\-\u2010-\u2015]+"


def clean_plates(s: pd.Series) -> pd.Series:
    """Return plates in one form: no dots or spaces, full-width letters and digits folded, letters
    upper-cased (浙A·12345, 浙a 12345 and 浙Ａ１２３４５ give 浙A12345); a cell that does not then read
    as a plate (无牌, 临时牌照) stays as written."""
    text = clean_typed(s)
    plate = _nfkc(text).str.replace(_PLATE_SEPARATORS, "", regex=True).str.upper()
    readable = plate.str.fullmatch(_PLATE).fillna(False).astype(bool)
    return text.where(~readable, plate)


# A person's role written after the name in brackets (张三(服务顾问), 李四（回访专员）): words that
# qualify a role, then the role. Other bracketed text (张三(二店)) tells two people apart and stays.
_ROLE_QUALIFIERS = "服务|售后|售前|销售|回访|客服|客户|接待|维修|机修|钣喷|钣金|保养|质检|索赔|保修|首席|高级|资深|见习|实习|助理|前台"
_ROLE_NOUNS = "顾问|专员|经理|主管|师傅|技师|客服|前台|组长|班长|站长|助理|工程师|接待"
_ROLE_TITLE = rf"(?<!\s)\s*+[(（\[【]\s*(?:{_ROLE_QUALIFIERS})*(?:{_ROLE_NOUNS})\s*[)）\]】]$"


# A Chinese name padded to line up in a table: a space (or the full-width space) inside a two- or
# three-character name (李　娜, 王 强, 欧阳 娜, 李 小娜). Two names of two characters (王强 李娜, two
# people in one cell, or a compound surname and a two-character given name) are left as written.
_PADDED_NAME = re.compile(r"([\u4e00-\u9fff]{1,2})[\s\u3000\u00a0]+([\u4e00-\u9fff]{1,2})")


def _unpadded(name: str) -> str:
    padded = _PADDED_NAME.fullmatch(name)
    if padded is None or len(padded[1]) + len(padded[2]) > 3:
        return name
    return padded[1] + padded[2]


def clean_people(s: pd.Series) -> pd.Series:
    """Return advisors' and agents' names without a role title written after them in brackets
    (张三(服务顾问) and 李四（回访专员） are 张三 and 李四; other bracketed text stays) and without
    the space a table pads a short Chinese name with (李　娜 and 王 强 are 李娜 and 王强), so that
    one person is counted once whichever way an export wrote the name."""
    text = clean_typed(s)
    name = text.str.replace(_ROLE_TITLE, "", regex=True).str.strip()
    name = name.map(_unpadded, na_action="ignore")
    return text.where(name.isna() | (name == ""), name)


# The shapes DMS exports use most, read by pandas' own date parser before the general pattern.
_COMMON_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M")


def _datetimes_of(u: pd.Series) -> Parsed:
    values = pd.Series(pd.NaT, index=u.index, dtype="datetime64[us]")
    rest = u.notna()
    for form in _COMMON_FORMATS:
        if not rest.any():
            break
        candidates = u[rest]
        if form.endswith("%S"):
            # strptime takes the leap seconds 60 and 61 and rolls them over; the pattern refuses them.
            candidates = candidates[~candidates.str.contains(r":6\d$", regex=True)]
        # Strict: a shape that does not match, or a day that does not exist, stays for the pattern.
        found = pd.to_datetime(candidates, format=form, errors="coerce").astype("datetime64[us]")
        found = found[found.notna()]
        values[found.index] = found
        rest[found.index] = False
    if rest.any():
        values[rest] = _pattern_datetimes(u[rest])
    values = values.where((values >= DATE_RANGE[0]) & (values < DATE_RANGE[1]))
    return values, u.notna() & values.isna()


# A date with the year last, as European and American locales write it: 05/03/2024, 3.13.2024.
_YEAR_LAST = r"^(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4})(?=$|[\sT])"


def _year_last_read(u: pd.Series) -> pd.Series:
    """Return the values with dates written year last turned year first, in the order of day and
    month the values themselves show: a first number past 12 anywhere makes every such date
    day-first (05/03/2024 and 13/03/2024), a second one past 12 month-first. Where no value tells
    the order, or values tell both, only dates that read the same either way (05/05/2024) are
    turned: the others stay unreadable rather than have their day and month guessed."""
    parts = u.str.extract(_YEAR_LAST)
    if parts[0].isna().all():
        return u
    first, second = parts[0].astype("float64"), parts[2].astype("float64")
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first != month_first:
        day, month = (first, second) if day_first else (second, first)
    else:
        day, month = first.where(first == second), second.where(first == second)
    iso = (
        parts[3]
        + "-"
        + month.astype("Int64").astype("str").str.zfill(2)
        + "-"
        + day.astype("Int64").astype("str").str.zfill(2)
    )
    turned = u.str.replace(_YEAR_LAST, "", regex=True)
    ok = day.notna() & parts[0].notna()
    return u.where(~ok, iso + turned)


# The weekday Excel's long date format writes after the date (2024年3月5日星期二), or a DMS in
# brackets (2024-03-05(周二)); it must be the date's own.
_WEEKDAY = r"(?<!\s)\s*+[(（]?\s*+(?:星期|周|礼拜)([一二三四五六日天])\s*[)）]?\s*"
_WEEKDAY_NUMBER = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
# The English weekday before the date, as mail headers (RFC 2822), Java's Date.toString and .NET's
# long date write it: "Tue, 05 Mar 2024 14:30:00 +0800", "Tuesday, March 5, 2024". It must be the
# date's own, as the Chinese one must.
_ENGLISH_WEEKDAY = (
    r"(?i)^(mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday|s|rs|r)?\.?\s*+,?\s*+(?=\d|[a-z]{3})"
)
_ENGLISH_WEEKDAY_NUMBER = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


# A date with an English month name, as Oracle-based and English-locale exports write it: day first
# (05-Mar-2024, 5 March 2024) or month first (Mar 5, 2024, March 5th 2024), a time after it or not.
# The year has four digits: a two-digit one (05-Mar-24) stays unreadable, as it is in every form.
_MONTH_NUMBERS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_DAY_MONTH_YEAR = r"^(\d{1,2})[\s\-/.]*([A-Za-z]{3,9})\.?[\s\-/.,]*(\d{4})(?=$|[\sT,])"
_MONTH_DAY_YEAR = r"^([A-Za-z]{3,9})\.?\s*(\d{1,2})(?:st|nd|rd|th)?[\s,]*(\d{4})(?=$|[\sT,])"


def _month_named(u: pd.Series) -> pd.Series:
    """Return the values with a date written with an English month name turned year first
    (``05-Mar-2024 14:30`` -> ``2024-03-05 14:30``); other values as they are."""
    if not u.str.contains(r"[A-Za-z]{3}", regex=True).fillna(False).any():
        return u
    out = u
    for pattern, day_at, month_at in ((_DAY_MONTH_YEAR, 0, 1), (_MONTH_DAY_YEAR, 1, 0)):
        parts = u.str.extract(pattern)
        month = parts[month_at].str.lower().map(_MONTH_NUMBERS)
        named = (month.notna() & (out == u)).fillna(False).astype(bool)
        if not named.any():
            continue
        iso = (
            parts[2]
            + "-"
            + month.astype("Int64").astype("str").str.zfill(2)
            + "-"
            + parts[day_at].str.zfill(2)
        )
        # The time after the date, without the comma some write before it ("Mar 5, 2024, 14:30").
        after = u.str.replace(pattern, "", regex=True).str.lstrip(" ,")
        out = out.where(~named, (iso + " " + after).str.strip())
    return out


# A time with its zone: ISO 8601's offset or Z (2024-03-05T14:30:00+08:00, ...Z), UTC/GMT with an
# offset or none, or CST or 北京时间 (China Standard Time: the exports read here are Chinese, not
# American Central). After a time of day only: "2024-03-05" ends in no zone.
_ZONED = re.compile(
    r"^(.*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*+"
    r"(?:(utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?|z|utc|gmt|(cst|[(（]?北京时间[)）]?))$",
    re.IGNORECASE,
)
# A negative offset is one only after ISO 8601's T or a time with its seconds (or after UTC/GMT):
# "2024-03-05 10:00-12:00" is a booked slot from ten to twelve, not 10:00 at UTC-12.
_ISO_TIME = re.compile(r"\dT\d|:\d{2}:\d{2}")
# China Standard Time, the time every DMS export is written in.
_CHINA_OFFSET = pd.Timedelta(hours=8)


def _without_zone(u: pd.Series) -> tuple[pd.Series, pd.Series | None]:
    """Return the values without a time zone written after their time, and what to add to the time
    read to have it in China Standard Time (+08:00): 0 where no zone is written, NaT where the zone
    cannot be one (+25:00); None when no value has a zone."""
    if (
        not u.str.contains(r"(?i)(?:z|utc|gmt|cst|北京时间[)）]?|[+-]\d{1,2}(?::?\d{2})?)$", regex=True)
        .fillna(False)
        .any()
    ):
        return u, None
    texts: list[object] = []
    shifts: list[pd.Timedelta | None] = []
    for value in u:
        zoned = _ZONED.match(value) if isinstance(value, str) else None
        if zoned is None:
            texts.append(value)
            shifts.append(pd.Timedelta(0))
            continue
        time, named, sign, hours, minutes, china = zoned.groups()
        if sign == "-" and named is None and not _ISO_TIME.search(time):
            texts.append(value)
            shifts.append(pd.Timedelta(0))
            continue
        texts.append(time)
        offset = _CHINA_OFFSET if china else pd.Timedelta(0)
        if sign is not None:
            if int(hours) > 14 or int(minutes or 0) > 59:
                shifts.append(None)
                continue
            offset = pd.Timedelta(hours=int(hours), minutes=int(minutes or 0)) * (1 if sign == "+" else -1)
        shifts.append(_CHINA_OFFSET - offset)
    shift = pd.Series(shifts, index=u.index, dtype="timedelta64[us]")
    return pd.Series(texts, index=u.index, dtype="str"), shift


def _pattern_datetimes(u: pd.Series) -> pd.Series:
    # A date typed in full-width digits (２０２４－０３－０９, an input method left in full-width mode)
    # is the date its ASCII digits write.
    u = _nfkc(u).str.replace(_DONE_PREFIX, "", regex=True)
    weekday = u.str.extract(_WEEKDAY, expand=False).map(_WEEKDAY_NUMBER)
    if weekday.notna().any():
        u = u.where(weekday.isna(), u.str.replace(_WEEKDAY, " ", regex=True).str.strip())
    english = u.str.extract(_ENGLISH_WEEKDAY, expand=False).str.lower().map(_ENGLISH_WEEKDAY_NUMBER)
    if english.notna().any():
        u = u.where(english.isna(), u.str.replace(_ENGLISH_WEEKDAY, "", regex=True))
        weekday = weekday.fillna(english)
    u, shift = _without_zone(u)
    values = _pattern_moments(_year_last_read(_month_named(u)))
    # A weekday that is not the date's says the cell is not what it seems: unreadable.
    values = values.where(weekday.isna() | (values.dt.day_of_week == weekday))
    # A time written in another zone is the same moment in China Standard Time.
    return values if shift is None else values + shift


def _pattern_moments(u: pd.Series) -> pd.Series:
    # 上午/下午 or AM/PM (Chinese-locale exports): the date and 12-hour time read without the word.
    meridiem = u.str.extract(_MERIDIEM, expand=False).str.lower().str.replace(".", "", regex=False)
    if meridiem.notna().any():
        u = u.where(meridiem.isna(), u.str.replace(_MERIDIEM, " ", regex=True).str.strip())
    parts = u.str.extract(_DATE)
    half_past = parts[6] == _HALF_PAST
    parts = parts.drop(columns=[6])
    compact = u.str.extract(_COMPACT_DATE)
    for i in range(6):
        parts[i] = parts[i].fillna(compact[i])
    numbers = parts.astype("float64")
    frame = pd.DataFrame(
        {
            "year": numbers[0],
            "month": numbers[1],
            "day": numbers[2],
            "hour": numbers[3].fillna(0),
            "minute": numbers[4].fillna(0),
            "second": numbers[5].fillna(0),
        }
    )
    frame.loc[half_past.fillna(False).astype(bool), "minute"] = 30
    # A 12-hour clock: 12 上午 is midnight's hour, 1-11 下午 are 13-23; 中午 is 11 and 12 as they
    # are and 1-3 after noon; a word without a time or with an hour past 12 is unreadable, and so is
    # 晚上12点, which can be either midnight.
    twelve = meridiem.notna()
    hour = numbers[3]
    after_noon = ~meridiem.isin(_BEFORE_NOON) & ~((meridiem == "中午") & hour.between(4, 11))
    frame.loc[twelve & (hour == 12), "hour"] = 0
    frame.loc[twelve & after_noon, "hour"] += 12
    # to_datetime would roll 25:61 over into the next day; an impossible time is unreadable.
    clock_ok = (frame["hour"] <= 23) & (frame["minute"] <= 59) & (frame["second"] <= 59)
    clock_ok &= ~twelve | hour.between(0, 12)
    clock_ok &= ~((meridiem == "晚上") & (hour == 12)) & ~((meridiem == "中午") & hour.between(4, 10))
    values = pd.to_datetime(frame, errors="coerce").astype("datetime64[us]").where(clock_ok)
    serial = pd.to_numeric(u.where(u.str.fullmatch(_EXCEL_SERIAL)), errors="coerce")
    serial = serial.where(serial.between(*_SERIAL_RANGE))
    from_serial = (_EXCEL_EPOCH + pd.to_timedelta(serial, unit="D")).dt.round("s")
    return values.fillna(from_serial.astype("datetime64[us]"))


def parse_datetimes(s: pd.Series, *, keep_time: bool) -> Parsed:
    """Return (datetime64 values, unreadable mask); the time of day is dropped unless keep_time.

    Zero dates count as missing; impossible dates (2023/2/30) and years outside 1900-2099 are
    unreadable.
    """
    # Cleaned per distinct value too: dates repeat, and the zero-date check is a regex.
    values, bad = _per_unique(s, lambda u: _datetimes_of(clean_dates(u)))
    values = values.astype("datetime64[us]")
    if not keep_time:
        values = values.dt.normalize()
    return values, bad


# A time of day, also as Chinese and English clocks write the half of the day (下午3:10, 3:10 PM):
# ``parse_datetimes`` reads those after a date.
TIME_OF_DAY = (
    r"(?:上午|下午|早上|凌晨|中午|晚上)?\s*(?:(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\.\d+)?(?:\s*(?:[AaPp][Mm]))?"
    r"|(?:[01]?\d|2[0-3])\s*[点时]\s*(?:[0-5]?\d\s*分?|半|整|钟)?)"
)


def with_time_of_day(dates: pd.Series, times: pd.Series) -> pd.Series:
    """Return the date cells with the time of day of the other column written after those that
    have none, where the two read as one moment; where the other column holds a date and time of
    the same day, or the date cell is blank, that moment; other cells as they are."""
    day, moment = clean_text(dates), clean_text(times)
    on_day, _ = parse_datetimes(day, keep_time=True)
    at, _ = parse_datetimes(moment, keep_time=True)
    # A date cell with a time of its own (other than midnight, Excel's date-only cell) keeps it.
    untimed = (on_day == on_day.dt.normalize()).fillna(False).astype(bool)
    whole = (
        ((untimed & (at.dt.normalize() == on_day)) | (clean_dates(day).isna() & at.notna()))
        .fillna(False)
        .astype(bool)
    )
    joined = day + " " + moment
    use = (day.notna() & moment.notna() & ~day.str.contains(":", regex=False)).fillna(False).astype(bool)
    read, _ = parse_datetimes(joined.where(use & ~whole), keep_time=True)
    return dates.where(~(use & read.notna()), joined).where(~whole, moment)


# A header stating its unit in ten thousands: 行驶里程(万公里), 里程（万km）, 金额(万元).
_TEN_THOUSANDS_HEADER = re.compile(r"万\s*(?:公里|千米|km|元)", re.IGNORECASE)


def in_ten_thousands(header: str) -> bool:
    """Return whether a column's header says its numbers count ten thousands (万公里, 万元)."""
    return _TEN_THOUSANDS_HEADER.search(unicodedata.normalize("NFKC", str(header))) is not None


# A money header's unit other than the yuan: thousands of yuan (结算金额(千元), 金额（千）, 金额/千) or
# fen, the hundredth of a yuan in which billing systems keep money as whole numbers (结算金额(分),
# 金额(单位：分), 金额/分); and a mileage header's thousands of kilometres (千公里, not 千米: that is
# the kilometre). 分 in a score's header means points: only an amount's header is read for it.
_THOUSANDS_HEADER = {
    "amount": re.compile(r"千\s*元|[(\[【]\s*千\s*[)\]】]|/\s*千\s*$"),
    "mileage_km": re.compile(r"千\s*(?:公里|km)", re.IGNORECASE),
}
_FEN_HEADER = re.compile(r"(?:[(\[【]\s*(?:单位\s*[:：]?\s*)?分\s*[)\]】]|/\s*分)\s*$")
# The fields whose header may state a unit (万公里, 万元, 千元, 分).
HEADER_UNIT_FIELDS = ("mileage_km", "amount")


def header_unit(header: str, field_name: str) -> str:
    """Return the unit a number column's header states, written as a number's suffix: 万 (万元,
    万公里), 千 (千元, 千公里) or, for an amount, 分 (fen); "" for the yuan and the kilometre."""
    text = unicodedata.normalize("NFKC", str(header))
    if field_name not in HEADER_UNIT_FIELDS:
        return ""
    if _TEN_THOUSANDS_HEADER.search(text):
        return "万"
    if _THOUSANDS_HEADER[field_name].search(text):
        return "千"
    if field_name == "amount" and _FEN_HEADER.search(text):
        return "分"
    return ""


# A cell that states its own unit, which the header's does not override (1.2万 under 千元, ¥350).
_OWN_UNIT = "[万千分元¥￥]"


def in_header_unit(cells: pd.Series, unit: str) -> pd.Series:
    """Return the cells of a column whose header states ``unit`` (``header_unit``) with the unit written
    after each number that states none, so that 1.23 under 行驶里程(万公里) reads as 12,300 km as
    ``1.23万`` does, 3.5 under 金额(千元) as 3,500 yuan and 35000 under 金额(分) as 350 yuan."""
    text = cells.astype("str")
    own = "万" if unit == "万" else _OWN_UNIT  # (under 万元, a cell's 元 was always the header's)
    plain = text.notna() & (text.str.strip() != "") & ~text.str.contains(own, regex=True)
    # Inside an accounting negative's brackets and before its sign after: (500分), 500分-.
    with_unit = text.str.strip().str.replace(r"([)）]|-)?$", unit + r"\1", n=1, regex=True)
    return cells.where(~plain.fillna(False).astype(bool), with_unit)


def _nfkc(u: pd.Series) -> pd.Series:
    """Return the text with full-width digits, signs and letters folded to their ASCII forms."""
    return pd.Series(
        [unicodedata.normalize("NFKC", v) if isinstance(v, str) else v for v in u], index=u.index, dtype="str"
    )


# After currency and units are gone: digits whose commas, if any, group thousands ("1,234.50");
# a comma before fewer or more than three digits ("100,50", a decimal comma) groups nothing.
# A number may end in its unit: 万 and 千 (ten thousands and thousands, 1.5万, 3.5千) and 分 (fen, the
# hundredth of a yuan: an amount only, ``parse_integers`` reads no kilometres in it).
_GROUPED = r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?(?:[eE][+-]?\d+)?[万千分]?"
# unit: (multiplier, divisor); 128050分 is 128050 / 100, 1280.5 (128050 * 0.01 is 1280.5000000000002).
_UNIT_MULTIPLIER = {"万": 10000.0, "千": 1000.0}
_UNIT_DIVISOR = {"分": 100.0}
# An accounting negative: the amount in brackets, "(123.00)" (full-width ones are folded by NFKC).
_BRACKETED = r"^\(([\d,.]+[万千分]?)\)$"
_SIGN_AFTER = r"^([\d,.]+[万千分]?)-$"


def _bare_numbers(u: pd.Series, spaces: str = "") -> pd.Series:
    """Return number cells with full-width forms folded, without currency or units, spaces replaced
    by ``spaces``, Chinese commas as commas and a typeset minus (U+2212 −) as a minus."""
    # Spelled-out whitespace and an inline (?i) keep this on pyarrow's regex engine; \s or
    # case=False would make pandas fall back to Python's re, row by row.
    u = _nfkc(u)
    text = u.str.replace("(?i)[¥￥$]|元|rmb|cny|km|公里|千米", "", regex=True).str.replace("，", ",")
    text = text.str.strip(" \t\u3000").str.replace("[ \t\u3000]+", spaces, regex=True)
    return text.str.replace("\u2212", "-", regex=False)


def _numbers_of(u: pd.Series) -> Parsed:
    text = _bare_numbers(u)
    negative = text.str.fullmatch(_BRACKETED).fillna(False).astype(bool)
    text = text.where(~negative, text.str.replace(_BRACKETED, r"\1", regex=True))
    # An accounting system's negative with the sign after the amount: "50.00-".
    trailing = text.str.fullmatch(_SIGN_AFTER).fillna(False).astype(bool)
    text = text.where(~trailing, text.str.replace(_SIGN_AFTER, r"\1", regex=True))
    negative = negative | trailing
    text = text.where(text.str.fullmatch(_GROUPED).fillna(False).astype(bool)).str.replace(",", "")
    unit = text.str[-1:]
    number = text.str.replace("[万千分]$", "", regex=True)
    values: pd.Series = pd.to_numeric(number, errors="coerce").astype("float64")
    values = values * unit.map(_UNIT_MULTIPLIER).fillna(1.0) / unit.map(_UNIT_DIVISOR).fillna(1.0)
    values = values * np.where(negative, -1.0, 1.0)
    values = values.where(np.isfinite(values))
    return values, u.notna() & values.isna()


# An amount of nothing, in words (a warranty job, a gift of the dealer).
FREE_WORDS = frozenset({"免费", "赠送", "免单", "免费赠送", "免费项目", "保修免费", "索赔免费"})


# A comma that can only be a decimal one, as a European-locale export writes amounts: after
# thousands grouped by dots or spaces (1.234,50, 1 234,50), or dots that can only group thousands
# (1.234.567). Bounded repeats: a cell of 20,000 digits or spaces fails at its sixteenth character.
_GROUPED_DECIMAL_COMMA = (
    r"[+(-]?(?:[0-9]{1,3}(?:[. ][0-9]{3}){1,5},[0-9]{1,15}|[0-9]{1,3}(?:\.[0-9]{3}){2,5})[)-]?"
)
# A comma before one or two digits (100,50): a decimal one, or a typo as likely.
_LONE_DECIMAL_COMMA = r"[+(-]?[0-9]{1,15},[0-9]{1,2}[)-]?"
# A point that can only be a decimal one: before other than three digits (12.50, 0.5); and commas
# before groups of three (1,234.5, 1,234,567, and 1,234 too: as a decimal comma it would write
# thousandths of a yuan or a kilometre, so it groups thousands, as a Chinese export writes them).
_POINT_DECIMAL = (
    r"[+(-]?(?:[0-9]{1,15}\.(?:[0-9]{1,2}|[0-9]{4,15})|[0-9]{1,3}(?:,[0-9]{3}){1,5}(?:\.[0-9]{1,15})?)[)-]?"
)
_MAYBE_DECIMAL_COMMA = r"[,，][0-9０-９]{1,2}(?:[^0-9０-９]|$)|[.．][0-9０-９]{3}[,，]"
# In a column of decimal commas a point groups thousands and a comma is the decimal point.
_DECIMAL_COMMA_SWAP = str.maketrans({".": ",", ",": ".", "，": "."})


def _any_full_match(text: pd.Series, pattern: str) -> bool:
    return bool(text.str.fullmatch(pattern).fillna(False).astype(bool).any())


def may_write_decimal_comma(s: pd.Series) -> bool:
    """Return whether some cell may say a decimal comma (a comma before one or two digits, or after a
    dot and three): only then is a column weighed by ``writes_decimal_comma``."""
    return bool(s.str.contains(_MAYBE_DECIMAL_COMMA, regex=True).fillna(False).astype(bool).any())


def writes_decimal_comma(s: pd.Series, *, comma_delimited: bool = False) -> bool:
    """Return whether a column of numbers is written with a decimal comma (1.234,50, 1 234,50, 100,50):
    some cell's comma can only be a decimal one and no cell's point can only be one. The column's
    cells decide together, as a date column's decide its day order: 1.234 beside 1.234,50 is 1234.

    ``comma_delimited``: the cells come from a CSV that separates them with commas, which a
    decimal-comma locale's Excel never writes (its list separator is the semicolon); there a comma
    before one or two digits alone (100,50) says nothing, and only one after grouped thousands does.
    """
    text = clean_typed(s).dropna().drop_duplicates()
    # Only a cell with a comma before one or two digits, or after a dot and three, can say decimal
    # comma: the others are not folded and matched (a column of ¥1,234.50 is passed over at once).
    maybe = text[text.str.contains(_MAYBE_DECIMAL_COMMA, regex=True).fillna(False).astype(bool)]
    if not len(maybe):
        return False
    decided = _any_full_match(_bare_numbers(maybe, " "), _GROUPED_DECIMAL_COMMA)
    if not comma_delimited:
        decided = decided or _any_full_match(_bare_numbers(maybe), _LONE_DECIMAL_COMMA)
    points = text[text.str.contains(r"[.．,，]", regex=True).fillna(False).astype(bool)]
    return decided and not _any_full_match(_bare_numbers(points), _POINT_DECIMAL)


def parse_numbers(s: pd.Series, *, decimal_comma: bool = False) -> Parsed:
    """Return (float values, unreadable mask); thousands separators, ¥, 元 and km (公里, 千米) are
    allowed. ``decimal_comma``: the column writes 1.234,50 for 1,234.50 (see ``writes_decimal_comma``)."""
    # Amounts and odometer readings are mostly distinct, so parsing them directly beats
    # parsing their distinct values; most are plain numbers, which need no cleaning first.
    text = clean_typed(s)
    if decimal_comma:
        text = text.str.translate(_DECIMAL_COMMA_SWAP)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    rest = text.notna() & values.isna()
    if rest.any():
        values[rest] = _numbers_of(text[rest])[0]
        # An amount written as a word: a free job (免费, 赠送) cost nothing.
        values = values.mask(rest & values.isna() & text.isin(FREE_WORDS), 0.0)
    values = values.where(np.isfinite(values))
    return values, (text.notna() & values.isna()).astype(bool)


def parse_integers(s: pd.Series, *, decimal_comma: bool = False) -> Parsed:
    """Return (rounded Int64 values, unreadable mask) for whole quantities such as kilometres (a
    number in 分, fen, is money: unreadable here)."""
    values, bad = parse_numbers(s, decimal_comma=decimal_comma)
    bad = bad | clean_typed(s).str.endswith("分").fillna(False).astype(bool)
    values = values.mask(bad)
    too_big = values.abs() >= 2**31
    values = values.mask(too_big).round().astype("Int64")
    return values, bad | too_big


# A 1 or 0 a program kept as a float and wrote with its decimal (1.0, 0.0: a flag column with blanks
# in it, written by pandas) is the 1 or 0.
_FLOAT_WRITTEN_FLAG = r"^([01])\.0+$"


def _words_of(u: pd.Series, true: frozenset[str], false: frozenset[str]) -> Parsed:
    key = u.str.lower().str.replace(_FLOAT_WRITTEN_FLAG, r"\1", regex=True)
    values = pd.Series(pd.NA, index=u.index, dtype="boolean")
    values = values.mask(key.isin(true), True).mask(key.isin(false), False)
    return values, u.notna() & values.isna()


# A yes/no word with a note after it, in brackets or after a dash: 否(自然到店), 是（预约）, Y-预约. A
# note after a dash starts with no digit, so "1-5" says nothing.
_NOTED_WORD = (
    r"^([^\s()（）\[\]【】\-—–－]+)\s*(?:[(（\[【][^()（）\[\]【】]*[)）\]】]|[-—–－]+\s*[^\d\s].*)$"
)


# A yes/no cell that names what it answers: 有投诉 / 无投诉, 已预约 / 未预约; and the ways an
# appointment is made (电话预约, APP预约) or not (自然到店).
_HAS_PREFIXES = (
    ("没有", False),
    ("无", False),
    ("未", False),
    ("非", False),
    ("不", False),
    ("有", True),
    ("已", True),
)
_BOOKED = "预约"
_BOOKED_ARRIVALS = frozenset({"预约到店", "预约进店", "预约来店", "预约入厂", "预约客户"})
_WALK_IN = ("自然到店", "直接到店", "自行到店", "进店", "到店", "自然进店", "直接进店", "自行进店", "散客")


# What a yes/no field asks about, as its cells name it: a cell that is the subject itself or a kind of
# it (投诉, 一般投诉, 重大投诉 under 是否投诉; 预约, 电话预约 under 是否预约) says yes. A negation before
# the subject (未投诉, 无投诉, 客户未投诉) never does.
BOOLEAN_SUBJECTS: dict[str, str] = {"is_complaint": "投诉", "is_appointment": _BOOKED}
_NEGATIONS = frozenset("未无没非不否")


def _answer_of(word: str, subject: str | None = None) -> bool | None:
    """Return what a yes/no cell that names its subject says (有投诉 True, 无投诉 False), else None.
    ``subject``: the field's own word (``BOOLEAN_SUBJECTS``); the word alone, or a phrase ending in it
    without a negation (一般投诉), says yes."""
    for prefix, answer in _HAS_PREFIXES:
        # What it answers is a word of its own (投诉, 预约): 未知 and 不详 say nothing.
        if word.startswith(prefix) and len(word) >= len(prefix) + 2:
            return answer
    if word.endswith(_BOOKED) or word in _BOOKED_ARRIVALS:
        return True  # 电话预约, APP预约, 预约到店 (未预约 and 非预约 were read above)
    if word in _WALK_IN:
        return False
    if subject and word.endswith(subject) and not _NEGATIONS.intersection(word.removesuffix(subject)):
        return True  # 投诉, 一般投诉, 重大投诉 under 是否投诉 (客户未投诉 stays unreadable)
    return None


def _booleans_of(u: pd.Series, subject: str | None = None) -> Parsed:
    values, bad = _words_of(u, TRUE_WORDS, FALSE_WORDS)
    word = u.where(bad).str.extract(_NOTED_WORD, expand=False)
    if bad.any():
        # The word before the note decides.
        noted, _ = _words_of(word, TRUE_WORDS, FALSE_WORDS)
        values = values.fillna(noted)
    for i in np.flatnonzero((u.notna() & values.isna()).to_numpy()):
        answer = _answer_of(str(u.iloc[i]).strip().lower(), subject)
        if answer is None and isinstance(word.iloc[i], str):
            answer = _answer_of(word.iloc[i].strip().lower(), subject)  # 投诉(已处理)
        if answer is not None:
            values.iloc[int(i)] = answer
    return values, u.notna() & values.isna()


def parse_booleans(s: pd.Series, subject: str | None = None) -> Parsed:
    """Return (nullable boolean values, unreadable mask) from 是/否, Y/N, 1/0, true/false, also with
    a note after the word in brackets or after a dash (否(自然到店), Y-预约). ``subject``: the word of
    what the column asks (``BOOLEAN_SUBJECTS``: 投诉), which alone or after a kind of it (一般投诉)
    says yes."""
    return _per_unique(clean_typed(s), lambda u: _booleans_of(u, subject))


def _reached_of(u: pd.Series) -> Parsed:
    values, bad = _words_of(u, REACHED_TRUE, REACHED_FALSE)
    for i in np.flatnonzero(bad.to_numpy()):
        word = str(u.iloc[i])
        noted = re.match(_NOTED_WORD, word)
        head = noted.group(1) if noted else None
        if any(part in word for part in _REACHED_FALSE_PARTS):
            values.iloc[int(i)] = False
        elif any(part in word for part in _REACHED_TRUE_PARTS):
            values.iloc[int(i)] = True
        elif head is not None and (head.lower() in REACHED_TRUE or head.lower() in REACHED_FALSE):
            # 已回访（满意）, 已回访-满意: the word before the note decides.
            values.iloc[int(i)] = head.lower() in REACHED_TRUE
        elif word in LABEL_SCORES:
            # A satisfaction answer (满意, 不满意) in the result column: the customer was reached.
            values.iloc[int(i)] = True
    return values, u.notna() & values.isna()


def parse_reached(s: pd.Series) -> Parsed:
    """Return (nullable boolean values, unreadable mask) from 接通/未接通, 关机, 空号 and the like."""
    return _per_unique(clean_typed(s), _reached_of)


# A callback sent as a message rather than made by phone (短信回访, 微信回访, 问卷): the word says how
# the survey went out, not whether the customer answered it.
_BY_MESSAGE = r"(?i)短信|微信|问卷|线上|sms|wechat|online|text message"


def answered_by_message(status: pd.Series, answers: list[pd.Series]) -> pd.Series:
    """Return where a call status that says neither reached nor not says the callback went by message
    (短信回访, 微信回访) and the row holds the customer's answer (a score in ``answers``, the row's
    score columns): the customer was reached, by message. Where no answer came back, whether the
    message reached anyone is not known."""
    codes, uniques = pd.factorize(status)
    distinct = pd.Series(uniques, dtype="str")
    _, unreadable = parse_reached(distinct)
    by_message = clean_typed(distinct).str.contains(_BY_MESSAGE, regex=True).fillna(False).astype(bool)
    candidates = np.append((unreadable & by_message).to_numpy(dtype=bool), False)[codes]
    found = pd.Series(candidates, index=status.index)
    if not candidates.any():
        return found
    answered = np.zeros(int(candidates.sum()), dtype=bool)
    for cells in answers:
        answered |= clean_scores(cells[candidates]).notna().to_numpy(dtype=bool)
    found[candidates] = answered
    return found


def _spelled_out(value: str, codes: dict[str, str]) -> str:
    """Return a type's name with each code written as a word of its own (WTY, B&P) as its words."""
    if not re.search("[a-z]", value):
        return value
    return re.sub(r"[a-z0-9&]+", lambda token: codes.get(token.group(0), token.group(0)), value)


def _category_of(
    u: pd.Series, words: tuple[tuple[str, tuple[str, ...]], ...], codes: dict[str, str]
) -> Parsed:
    """Return (the category of each name, where no word or code of the tables names one: other)."""
    known = {code.lower(): code for code, _ in words} | dict.fromkeys(_OTHER_NAMES, "other")
    found = []
    unknown = []
    for value in u.str.lower():
        code = known.get(value)
        if code is None:
            spelled = _spelled_out(value, codes)
            code = next((code for code, parts in words if any(p in spelled for p in parts)), None)
        found.append(code or "other")
        unknown.append(code is None)
    return pd.Series(found, index=u.index, dtype="str"), pd.Series(unknown, index=u.index, dtype=bool)


def _service_types_of(u: pd.Series) -> Parsed:
    return _category_of(u, SERVICE_TYPE_WORDS, SERVICE_TYPE_CODES)


def parse_service_types(s: pd.Series) -> pd.Series:
    """Return canonical service types (first_maintenance ... other); blank or unknown is other."""
    values, _ = _per_unique(clean_typed(s), _service_types_of)
    return values.fillna("other").astype("str")


_OTHER_CALL_WORDS = next(words for code, words in CALLBACK_TYPE_WORDS if code == "other")
# Calls named by the day after the visit or delivery they follow (D+3, T+1, D3回访) or by the hours
# (72H回访, 24h): the first three days are 3DC, the seventh 7DC.
_DAY_AFTER = re.compile(r"(?<![a-z0-9])[dt]\s*+\+?\s*+([1-7])(?![0-9])|(?<![0-9])(24|48|72)\s*h(?![a-z])")


# A call named only as a satisfaction survey (满意度回访, 满意度调查), with no word of the visit or the
# sale it follows: its type is its work order's, as a blank type's is (3DC with one, 7DC without).
_SURVEY_ONLY = ("满意度", "satisfaction")


def _callback_types_of(u: pd.Series) -> Parsed:
    """Return (callback types, names that name no type): NA for a satisfaction survey named so alone."""
    by_words, unknown = _category_of(u, CALLBACK_TYPE_WORDS, CALLBACK_TYPE_CODES)
    found: list[str | None] = []
    for i, (value, code) in enumerate(zip(u.str.lower(), by_words, strict=True)):
        # Only a name no word placed: a reminder (保养D+3提醒) stays another call.
        day = _DAY_AFTER.search(value) if code == "other" else None
        if day is not None and not any(word in value for word in _OTHER_CALL_WORDS):
            code = "7DC" if day.group(1) == "7" else "3DC"
            unknown.iloc[i] = False
        elif unknown.iloc[i] and any(word in value for word in _SURVEY_ONLY):
            code = None
            unknown.iloc[i] = False
        found.append(code)
    return pd.Series(found, index=u.index, dtype="str"), unknown


def parse_callback_types(s: pd.Series) -> pd.Series:
    """Return canonical callback types (3DC, 7DC, other); unknown is other (a complaint's or a
    lost customer's call); a blank cell reads as the column's absence does, by the call's work
    order (``stage``), and so does a call named only as a satisfaction survey (满意度回访), NA here
    (a blank cell is other here)."""
    cells = clean_typed(s)
    values, _ = _per_unique(cells, _callback_types_of)
    return values.mask(cells.isna(), "other").astype("str")


def unrecognised_types(s: pd.Series, field_name: str) -> pd.Series:
    """Return where a cell of ``field_name`` (service_type or callback_type) names no type a word or
    code of the tables knows: it is read as other, and the import says so."""
    cells = clean_typed(s)
    parse = _service_types_of if field_name == "service_type" else _callback_types_of
    _, unknown = _per_unique(cells, parse)
    return unknown


def _levels_of(u: pd.Series) -> Parsed:
    found: list[object] = []
    for value in u:
        key = str(value).lower().replace("级别", "").replace("级", "").replace("投诉", "")
        key = key.replace("level", "").strip()
        level = LEVEL_WORDS.get(key)
        if level is None:
            number = pd.to_numeric(key, errors="coerce")
            if pd.notna(number) and float(number).is_integer() and 1 <= number <= 4:
                level = int(number)
        found.append(pd.NA if level is None else level)
    values = pd.Series(found, index=u.index, dtype="Int64")
    return values, u.notna() & values.isna()


def parse_complaint_levels(s: pd.Series) -> Parsed:
    """Return (Int64 levels 1-4, unreadable mask) from 1-4, 一级..四级 or 轻微/一般/严重/危机."""
    return _per_unique(clean_typed(s), _levels_of)


# Score cells as some vendors write them: "4分", "9 分", "4.5 points", "85%": numbers on the column's scale.
_SCORE_UNIT = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(?:分|points?|pts?|%)$", re.IGNORECASE)
# A score written as a percentage (85%): its column is on the 0-100 scale whatever its values.
_PERCENT = r"[+-]?\d+(?:\.\d+)?\s*[%％]"
_STARS = re.compile(r"^[★☆✩✪✫✬✭✮✯⭐\s]+$")
_FILLED_STARS = frozenset("★✪✫✬✭✮✯⭐")
# Stars counted in a word: 4星, 4颗星, 五星, 五颗星, 五星级, 3 stars.
_STAR_COUNT = re.compile(r"^(\d+(?:\.\d+)?|[一二两三四五])\s*+(?:颗|个)?\s*+(?:星级?|stars?)$", re.IGNORECASE)
# A review's grade written with its stars (五星好评, 一星差评, 好评(五星)): the stars say the score.
_REVIEW_BESIDE_STARS = re.compile(r"好评|中评|差评|[\s()（）\[\]【】:：\-]")
_CHINESE_COUNTS = {"一": 1.0, "二": 2.0, "两": 2.0, "三": 3.0, "四": 4.0, "五": 5.0}
# A score over its scale: 4/5, 9/10, 8分/10分, 85/100.
_FRACTION = re.compile(r"^(\d+(?:\.\d+)?)\s*+分?\s*+/\s*+(\d+)\s*+分?$")
# The denominators that are a scale of the product; another (2/4, 45/50, up to 100) is read in
# proportion, as the three scales are (4/5 is 8, 9/10 is 9, 85/100 is 8.5).
_DENOMINATOR_SCALES = {5: "1-5", 10: "0-10", 100: "0-100"}
# Full marks: the top of whatever scale the column is on.
FULL_MARKS = frozenset({"满分", "满星", "满分评价"})
# What a survey writes beside a label: its number ("5-非常满意", "非常满意(5分)"); the label decides.
_BESIDE_LABEL = re.compile(r"[\d\s.:、()\-分]+")
# A questionnaire's option letter before its answer ("A.非常满意", "B、满意", "(A)非常满意", "C:一般")
# and a full stop after it ("非常满意。"): the answer is the label between (the cell is NFKC-folded).
_OPTION_LETTER = re.compile(r"^(?:\([A-Ea-e]\)|[A-Ea-e](?=[\s.、:\-]))[\s.、:\-]*+")
_STOP_AFTER = re.compile(r"[。.!]{1,3}$")
# The reason a survey writes after a label, in brackets: "不满意(服务态度)", "满意【洗车干净】".
_REASON_AFTER = re.compile(r"(?<!\s)\s*+[(\[【〔][^()\[\]【】〔〕]*[)\]】〕]$")


def _on_scale(number: float, scale: str) -> float:
    low, high, multiplier, divisor = SCALE_FACTORS[scale]
    return number * multiplier / divisor if low <= number <= high else np.nan


def own_scale_score(value: object) -> tuple[float, str] | None:
    """Return (score on 0-10, the scale the cell names or "") for a score cell that says its own
    scale, read the same in any column: a fraction on its denominator's scale (4/5 is 8 on 1-5,
    9/10 is 9, 85/100 is 8.5, 2/4 is half marks, 5), stars on 1-5 (★★★★☆, 4星, 五颗星, 3 stars), full
    marks (满分) the top, 10. The score is NaN when the cell is off its own scale (6/5, 0星);
    None for any other cell."""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    if text in FULL_MARKS:
        return 10.0, ""
    if _REVIEW_BESIDE_STARS.search(text) and not _STARS.match(text):
        # The stars without the review's grade beside them (五星好评, ★★★★☆ 好评).
        bare = _REVIEW_BESIDE_STARS.sub("", text)
        text = bare if _STARS.match(bare) or _STAR_COUNT.match(bare) else text
    if _STARS.match(text):
        return _on_scale(float(sum(1 for c in text if c in _FILLED_STARS)), "1-5"), "1-5"
    stars = _STAR_COUNT.match(text)
    if stars:
        count = stars.group(1)
        return _on_scale(_CHINESE_COUNTS.get(count) or float(count), "1-5"), "1-5"
    fraction = _FRACTION.match(text)
    if fraction is None:
        return None
    number, denominator = float(fraction.group(1)), int(fraction.group(2))
    scale = _DENOMINATOR_SCALES.get(denominator)
    if scale is not None:
        return _on_scale(number, scale), scale
    in_proportion = (
        10.0 * number / denominator if 2 <= denominator <= 100 and number <= denominator else np.nan
    )
    return in_proportion, ""


def says_own_scale(u: pd.Series) -> pd.Series:
    """Return where a score cell says its own scale (a fraction, stars, 满分): ``own_scale_score``."""
    return pd.Series([own_scale_score(v) is not None for v in u], index=u.index, dtype=bool)


def score_text(u: pd.Series, labels: dict[str, float] = LABEL_SCORES) -> pd.Series:
    """Return score cells as bare numbers where they carry a unit ("4分" -> "4") and as their label
    (one of ``labels``) where a number or a reason is written beside it ("5-非常满意" -> "非常满意");
    other cells unchanged (NA stays NA)."""
    out: list[object] = []
    for value in u:
        if not isinstance(value, str):
            out.append(value)
            continue
        text = unicodedata.normalize("NFKC", value).strip()
        if text.isascii() and text.lower() in labels:
            out.append(text.lower())  # Very Satisfied, VERY SATISFIED: the label
            continue
        unit = _SCORE_UNIT.match(text)
        if unit:
            out.append(unit.group(1))
        else:
            label = _STOP_AFTER.sub("", _OPTION_LETTER.sub("", text, count=1))
            if label == text or label not in labels:
                label = _BESIDE_LABEL.sub("", text)
            if label == text or label not in labels:
                label = _REASON_AFTER.sub("", text).strip()
            out.append(label if label != text and label in labels else text)
    return pd.Series(out, index=u.index, dtype="str")


# Answers that give no score: not rated, declined, does not know. A blank, not an unreadable value.
NO_ANSWER_WORDS = frozenset(
    {
        "未评价",
        "未评",
        "不评价",
        "无评价",
        "未打分",
        "拒答",
        "拒绝回答",
        "未回答",
        "不回答",
        "不清楚",
        "不知道",
        "无法评价",
    }
)


def clean_scores(s: pd.Series) -> pd.Series:
    """Return clean_typed(s) with answers that give no score (未评价, 拒答) treated as missing."""
    text = clean_typed(s)
    return text.mask(text.isin(NO_ANSWER_WORDS))


def detect_scale(s: pd.Series, labels: dict[str, float] = LABEL_SCORES) -> str:
    """Return the scale of a score column from all its values: "1-5", "0-10", "0-100" or "labels".

    Numbers outside 0-100 are unreadable on every scale, so one stray 1e308 does not turn a
    0-10 column into a 0-100 one. Cells that say their own scale (4/5, 9/10, 五星, 满分) are read
    on it whatever the column's, and are no numbers of the column: when they name one scale and
    every number of the column fits it, the column is on that scale (9/10 beside 5 and 4 makes
    those 5 and 4 of 10); otherwise the numbers decide.
    """
    cells = clean_scores(s).dropna().drop_duplicates()
    if cells.str.fullmatch(_PERCENT).any():
        return "0-100"
    own = [own_scale_score(v) for v in cells]
    named = {found[1] for found in own if found is not None and found[1]}
    text = score_text(cells[[found is None for found in own]], labels)
    numbers = pd.to_numeric(text, errors="coerce").dropna()
    numbers = numbers[numbers.between(0, 100)]
    if len(named) == 1:
        scale = next(iter(named))
        low, high, _, _ = SCALE_FACTORS[scale]
        if numbers.between(low, high).all():
            return scale
    if numbers.empty or ((numbers == 0).all() and text.isin(list(labels)).any()):
        # A 0 among satisfaction labels (满意, 0, 不满意) is a question not rated, as on 1-5.
        return "labels"
    # A 1-5 survey writes 0 for a question not rated: 0 beside answers of at most 5 (a 0-10 column
    # whose every answer is 5 or less is unlikely; the 1-5 reading of such a column is the limit
    # already taken for answers 1 to 5).
    if numbers.between(0, 5).all() and (numbers >= 1).any():
        return "1-5"
    if (numbers > 10).any():
        return "0-100"
    return "0-10"


def parse_scores(
    s: pd.Series, scale: str | None = None, labels: dict[str, float] = LABEL_SCORES
) -> tuple[pd.Series, pd.Series, str]:
    """Return (scores on 0-10, unreadable mask, scale used); labels (``labels``: the satisfaction
    ones, or a field's ``score_labels``) map to 10/8/6/4/2, and a cell that says its own scale (4/5,
    五星, 满分) is read on it (``own_scale_score``)."""
    text = clean_scores(s)
    used = scale or detect_scale(text, labels)
    low, high, multiplier, divisor = SCALE_FACTORS.get(used, (np.nan, np.nan, np.nan, np.nan))

    def scores_of(u: pd.Series) -> Parsed:
        own = [own_scale_score(v) for v in u]
        u = score_text(u, labels)
        numbers = pd.to_numeric(u, errors="coerce").astype("float64")
        on_scale = numbers.where(numbers.between(low, high)) * multiplier / divisor
        values = on_scale.fillna(u.map(labels).astype("float64"))
        says = np.array([found is not None for found in own], dtype=bool)
        if says.any():
            read = pd.Series([np.nan if found is None else found[0] for found in own], index=u.index)
            values = values.where(~says, read)
        # On 1-5 or labels, 0 is the survey's "not rated": a blank, as 未评价 is, not an unreadable score.
        not_rated = (numbers == 0) & ~says if used in ("1-5", "labels") else pd.Series(False, index=u.index)
        return values, u.notna() & values.isna() & ~not_rated

    values, bad = _per_unique(text, scores_of)
    return values.astype("float64"), bad, used


_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.()（）]+")
_FLOAT_ZEROS = re.compile(r"^(\d{7,})\.0+$")
# +86, 0086 or a bare 86 before a mobile number: no Chinese number is 13 digits long.
_COUNTRY_CODE = re.compile(r"^(?:\+?86|0086)(?=1\d{10}$)")


# Plain ASCII digits (most phone cells) come out of the rules below unchanged, except a
# 0086 or 86 country code before a mobile number.
_PLAIN_DIGITS = r"[0-9]+"
_PREFIXED_MOBILE = r"(?:0086|86)1[0-9]{10}"


# A landline with an extension after a dash (0571-88888888-123), kept as written as one with 转 is:
# its digits run together would be one 15-digit number nobody can dial.
_EXTENSION = re.compile(r"^0\d{2,3}[\s\-]*\d{7,8}[\s\-]+\d{1,6}$")
# Between two numbers in one cell: 13800138000/13900139000, 13800138000，13900139000, or a space.
_BETWEEN_NUMBERS = re.compile(r"[/,，;；、|\s]+")
# One number to call: a mobile or a landline with its area code.
_ONE_NUMBER = re.compile(r"1[3-9]\d{9}|0\d{9,11}")


def _digits_of(text: str) -> str:
    """Return a phone's digits without separators and a country code before a mobile."""
    # A number a program kept as a float and wrote with its decimal (13800138000.0): the point is
    # not a separator, and the zero after it is no digit of the number.
    text = _FLOAT_ZEROS.sub(r"\1", text.strip())
    return _COUNTRY_CODE.sub("", _PHONE_SEPARATORS.sub("", text))


def _phone_text(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value))
    if _EXTENSION.match(text.strip()):
        return str(value)
    if re.fullmatch(r"[0-9]\.[0-9]+[eE]\+?[0-9]+", text.strip()):
        # 1.3176750941E10, a program's float with every digit kept: the number 13176750941.
        text = _whole_number(text.strip())
    whole = _digits_of(text)
    if not _ONE_NUMBER.fullmatch(whole) and len(parts := _BETWEEN_NUMBERS.split(text.strip())) > 1:
        # Two numbers in one cell: the first is the customer's own.
        first = next((d for d in map(_digits_of, parts) if _ONE_NUMBER.fullmatch(d)), None)
        if first is not None:
            return first
    # Only a number made of digits is rewritten; anything else ("无", 1.38001E+10 whose digits
    # Excel lost) stays as written, for the data-quality check of invalid phones to show.
    return whole if whole.isdigit() else str(value)


def _phones_of(u: pd.Series) -> Parsed:
    plain = (u.str.fullmatch(_PLAIN_DIGITS) & ~u.str.fullmatch(_PREFIXED_MOBILE)).fillna(False)
    rest = ~plain.to_numpy(dtype=bool)
    found = u.to_numpy(dtype=object)
    if rest.any():
        found[rest] = [_phone_text(value) for value in u[rest]]
    return pd.Series(found, index=u.index, dtype="str"), pd.Series(False, index=u.index)


def normalise_phones(s: pd.Series) -> pd.Series:
    """Return phone numbers as digits only: 138-0013-8000, +86 138 0013 8000 and full-width
    digits all give 13800138000; a cell that is not a number stays as written."""
    values, _ = _per_unique(clean_typed(s), _phones_of)
    return values.astype("str")


# An export made by a DMS user who may not see customers' details masks them: 138****8000 (or
# 138xxxx8000, 138●●●●8000), 张*, *三, 浙A***45, LSVAU2A3****00001. A masked cell says nothing of the
# value: the row lands with the cell blank (a new row) or keeps the value stored (an update), and
# the import says so, where the mask used to be stored over the number, so call lists could not be
# dialled. A name, a plate or a VIN never holds an asterisk; a phone number's mask is a run of two
# or more (a single * may be how an extension was typed).
_MASK_MARKS = "*＊∗"
_MASKED_PHONE = re.compile(r"(?:\+?86|0086)?[0-9]*(?:[*∗]{2,}|[xX]{2,}|[•●]{2,})[0-9]*")


def masked_phones(s: pd.Series) -> pd.Series:
    """Return where a phone cell is masked (138****8000, 138-xxxx-8000, +86 138****8000)."""
    text = _nfkc(clean_typed(s)).str.replace(_PHONE_SEPARATORS, "", regex=True)
    return text.str.fullmatch(_MASKED_PHONE).fillna(False).astype(bool)


def masked_text(s: pd.Series) -> pd.Series:
    """Return where a name, plate or VIN cell is masked: it holds an asterisk (张*, *三, 浙A***45)."""
    text = clean_typed(s)
    return text.str.contains(f"[{_MASK_MARKS}]", regex=True).fillna(False).astype(bool)


def _unmasked(values: pd.Series, masked: pd.Series) -> Parsed:
    """Return the values with the masked cells blank, and the masked cells (the note's cells)."""
    return values.mask(masked), masked


def parse_phones(s: pd.Series) -> Parsed:
    """Return (phone numbers as ``normalise_phones`` gives them, masked cells): a masked cell
    (138****8000) is blank, not a number."""
    return _unmasked(normalise_phones(s), masked_phones(s))


def parse_names(s: pd.Series) -> Parsed:
    """Return (customers' names as written, masked cells): a masked name (张*, *三) is blank."""
    return _unmasked(clean_typed(s), masked_text(s))


def parse_plates(s: pd.Series) -> Parsed:
    """Return (plates as ``clean_plates`` gives them, masked cells): a masked plate (浙A***45) is blank."""
    return _unmasked(clean_plates(s), masked_text(s))


def parse_vins(s: pd.Series) -> Parsed:
    """Return (VINs as ``clean_vin`` gives them, masked cells): a masked VIN (LSVAU2A3****00001) is
    blank: it names no car."""
    return _unmasked(clean_vin(s), masked_text(s))
