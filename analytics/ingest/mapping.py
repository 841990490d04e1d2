"""Header aliases, kind detection and user mapping files (TOML or JSON).

A mapping says which source column feeds which canonical field:
``{"kind": "service", "columns": {"order_id": "工单号", ...}, "scales": {"overall_score": "1-5"}}``.
The alias table lives in ``data/header_aliases.toml`` so a dealership can extend it.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.core.config import DATA_DIR
from analytics.core.errors import UserError
from analytics.ingest import values
from analytics.store import db

ALIASES_FILE = DATA_DIR / "header_aliases.toml"

KINDS: tuple[str, ...] = ("service", "callback")
FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    "service": db.SERVICE_COLUMNS,
    "callback": db.CALLBACK_COLUMNS,
}
KIND_LABELS: dict[str, str] = {"service": "service orders", "callback": "callback records"}

SCORE_FIELDS: tuple[str, ...] = (
    "overall_score",
    "attitude_score",
    "quality_score",
    "timeliness_score",
    "price_score",
    "environment_score",
    "recommend_score",
)
SCALES: tuple[str, ...] = ("1-5", "0-10", "0-100", "labels")

# How each canonical field is read from text (values.py holds the parsers).
FIELD_TYPES: dict[str, str] = {
    "order_id": "key",
    "store": "text",
    "vin": "vin",
    "plate": "plate",
    "customer_name": "name",
    "phone": "phone",
    "model": "text",
    "purchase_date": "date",
    "visit_date": "date",
    "mileage_km": "integer",
    "service_type": "service_type",
    "amount": "number",
    "advisor": "person",
    "is_appointment": "boolean",
    "callback_id": "key",
    "callback_type": "callback_type",
    "callback_date": "datetime",
    "agent": "person",
    "reached": "reached",
    **dict.fromkeys(SCORE_FIELDS, "score"),
    "comment": "text",
    "is_complaint": "boolean",
    "complaint_category": "text",
    "complaint_level": "level",
    "resolved_at": "datetime",
}

# The fields that date a record or an event in it.
_DATE_FIELDS = frozenset(f for f, t in FIELD_TYPES.items() if t in ("date", "datetime"))

# Fields whose presence decides the kind of a file; a file of a kind must have these columns.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "service": ("order_id", "visit_date"),
    "callback": ("callback_date",),
}

_SHARED = set(db.SERVICE_COLUMNS) & set(db.CALLBACK_COLUMNS)
_ONLY: dict[str, frozenset[str]] = {
    kind: frozenset(fields) - _SHARED for kind, fields in FIELDS_BY_KIND.items()
}
# A unit after the name: in brackets of any kind (结算金额(元), 行驶里程[km], 结算金额【元】,
# NFKC has made full-width brackets plain), or after a slash (金额/元).
_UNIT_SUFFIX = re.compile(r"(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|/(?:元|万元|rmb|km|公里|千米|分|天|次))$")
# Full stops too: an English abbreviation is written with its stop or without (RO No., RO No, VIN No).
_IGNORED = re.compile(r"[\s_\-*:：.]+")
# The number sign after a name is its number (RO#, Callback #: RO No., Callback No.).
_NUMBER_SIGN = re.compile(r"(?<=[a-z])\s*#$")


def normalise_header(header: str) -> str:
    """Return the header folded for matching: NFKC, lower case, no spaces, underscores, hyphens or
    full stops, a number sign after a name as "no"."""
    folded = _NUMBER_SIGN.sub("no", unicodedata.normalize("NFKC", str(header)).lower().strip())
    return _IGNORED.sub("", folded)


@cache
def aliases() -> dict[str, tuple[str, ...]]:
    """Return the alias table from ``data/header_aliases.toml``: field -> aliases, best first."""
    with ALIASES_FILE.open("rb") as fh:
        table = tomllib.load(fh)["aliases"]
    known = set(FIELD_TYPES)
    unknown = set(table) - known
    if unknown:
        raise UserError(
            f"{ALIASES_FILE} names fields that do not exist ({', '.join(sorted(unknown))}); "
            f"use only {', '.join(sorted(known))}."
        )
    return {field: (field, *table.get(field, ())) for field in FIELD_TYPES}


@cache
def _alias_index() -> dict[str, tuple[str, int]]:
    """Return normalised alias -> (field, priority) with 0 the most specific."""
    index: dict[str, tuple[str, int]] = {}
    for field, names in aliases().items():
        for priority, name in enumerate(names):
            key = normalise_header(name)
            previous = index.get(key)
            if previous is not None and previous[0] != field:
                raise UserError(
                    f"{ALIASES_FILE} lists the header {name!r} under both {previous[0]} and {field}; "
                    "keep it under one field only."
                )
            index.setdefault(key, (field, priority))
    return index


@cache
def _kind_alias_index(kind: str) -> dict[str, tuple[str, int]]:
    """Return normalised header -> (field, priority) of the headers known in files of ``kind``: the
    aliases of every kind, then those of that kind only (``[service_aliases]``), each after the
    field's aliases of every kind."""
    with ALIASES_FILE.open("rb") as fh:
        table = tomllib.load(fh).get(f"{kind}_aliases", {})
    index: dict[str, tuple[str, int]] = {}
    for field, names in table.items():
        if field not in FIELDS_BY_KIND.get(kind, ()):
            raise UserError(
                f"{ALIASES_FILE} [{kind}_aliases] names {field!r}, which is no field of that kind."
            )
        for priority, name in enumerate(names, start=len(aliases()[field])):
            index.setdefault(normalise_header(name), (field, priority))
    return {**index, **_alias_index()}


# What a bracket after a name holds. A unit, a mark or a note on how to fill the column is no part of
# the name: 结算金额(元), 车架号(*), 客户姓名(必填), 满意度(10分制), 进厂日期(yyyy-mm-dd), read.py's 备注 (2). Anything
# else qualifies it: 进厂日期(预约) beside 进厂日期(实际), 结算金额(不含税) beside 结算金额(含税) are other columns.
_BRACKET_AFTER = re.compile(
    r"^(?P<name>.*?\S)\s*(?:\((?P<a>[^()]*)\)|\[(?P<b>[^\[\]]*)\]|【(?P<c>[^【】]*)】)$", re.DOTALL
)
_NOTE_WORDS = frozenset(
    {
        # money, distance, time, counts, shares
        *("元", "万元", "千元", "百元", "万", "分", "角", "rmb", "cny", "¥", "人民币", "人民币元", "yuan"),
        *("km", "公里", "千米", "万公里", "万km", "米", "m", "mile", "miles"),
        *("天", "日", "月", "次", "小时", "h", "hr", "hrs", "分钟", "min", "mins", "秒", "s", "sec"),
        *("个", "台", "辆", "件", "单", "条", "项", "人", "%", "百分比"),
        # marks of a form: required or optional
        *("", "*", "※", "必填", "选填", "可选", "非必填", "必输", "可空", "可为空", "required", "optional"),
    }
)
_NOTE_SHAPES = re.compile(
    r"单位[:：]?.+"  # 单位：元
    r"|\d+"  # a header made unique by read.py: 备注 (2)
    r"|[ymdhs年月日时分秒/\-.: ]{2,}"  # a date's format: yyyy-mm-dd, 年-月-日, yyyy/mm/dd hh:mm
    r"|.*(?:分制|满分|星制).*|[\d.]+(?:-|~|〜|至|到)[\d.]+分?|\d+分|[1-5一二三四五]星"  # a score's scale
)
# Words naming another moment than the record's: a booked, planned, expected or due date (应回访日期), the
# previous or the next visit's reading. A column qualified so in brackets is never read as the field,
# and one so named is never guessed as the record's date (``guess_mapping``).
_OTHER_MOMENT = re.compile(
    r"预约|计划|预计|预估|预定|预期|上次|上一次|前次|下次|下一次|应(?=[回到保进联完结交处访])"
    r"|plan|schedul|booked|expected|estimated|due|previous|next",
    re.IGNORECASE,
)
# A qualifier that names the record's own value among such columns: what was done (实际, 完成), this
# visit's (本次), what the customer paid (实收, 含税: the settlement amount, tax included, is the amount
# a visit's revenue sums). Not its negation (不含税, 未完成).
_OWN_MOMENT = re.compile(r"(?<![不非未无])(?:实际|本次|含税|实收|完成|actual|current|incl)", re.IGNORECASE)
# A date's column named as the record's own among its others (实际回访时间 beside 回访日期).
_OWN_DATE = re.compile(r"(?<![不非未无])(?:实际|完成)|actual|completed", re.IGNORECASE)
# Among columns naming a field by aliases of one priority, a column named plainly comes first, then
# one qualified as the record's own (实际, 本次, 含税), then one otherwise qualified (``auto_mapping``).
PLAIN, OWN_QUALIFIED, QUALIFIED = 0, 1, 2
# A header whose bracket names another moment (进厂日期(预约)): it names no field.
_ELSEWHERE = ("", -1, PLAIN)


def _is_note(inside: str) -> bool:
    """Return whether a bracket's text (NFKC, lower case, no spaces) is a unit, a mark or a note."""
    return (
        inside in _NOTE_WORDS
        or _NOTE_SHAPES.fullmatch(inside) is not None
        or header_scale(inside) is not None
    )


_ENCLOSED = re.compile(r"^[(\[【](.*)[)\]】]$")


def header_note(cell: object) -> bool:
    """Return whether a cell holds what a header carries in brackets: a unit, a mark or a note (元,
    (km), 万公里, *, 必填, 10分制, yyyy-mm-dd), not a bare number. A row of them under the header is part
    of it, not a record."""
    if not isinstance(cell, str):
        return False
    inside = re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell).lower())
    inside = enclosed.group(1) if (enclosed := _ENCLOSED.match(inside)) else inside
    return bool(inside) and not inside.isdigit() and _is_note(inside)


def _bracketed(text: str, index: dict[str, tuple[str, int]]) -> tuple[str, int, int] | None:
    """Return (field, priority, rank) of a header ending in brackets, its notes set aside (``_is_note``)
    and its qualifiers ranked (``_OWN_MOMENT``: OWN_QUALIFIED, else QUALIFIED); ``_ELSEWHERE`` for a
    header whose qualifier names another moment; None when the name in front is no alias or nothing
    is bracketed."""
    name = unicodedata.normalize("NFKC", text).strip()
    qualifiers: list[str] = []
    while (found := _BRACKET_AFTER.match(name)) is not None:
        inside = next(part for part in found.group("a", "b", "c") if part is not None)
        inside = re.sub(r"\s+", "", inside.lower())
        if not _is_note(inside):
            qualifiers.append(inside)
        name = found.group("name")
    if name == unicodedata.normalize("NFKC", text).strip():
        return None
    hit = index.get(normalise_header(name))
    if hit is None:
        return None
    if not qualifiers:
        return (*hit, PLAIN)
    if any(_OTHER_MOMENT.search(q) for q in qualifiers):
        return _ELSEWHERE
    return (*hit, OWN_QUALIFIED if any(_OWN_MOMENT.search(q) for q in qualifiers) else QUALIFIED)


def _lookup(text: str, index: dict[str, tuple[str, int]]) -> tuple[str, int, int] | None:
    """Return (field, priority, rank) of a header as written, with notes in brackets or a unit after a
    slash (金额/元) set aside, and ``_ELSEWHERE`` for one qualified as another moment's."""
    key = normalise_header(text)
    if not key:
        return None
    hit = index.get(key)
    if hit is not None:
        return (*hit, PLAIN)
    found = _bracketed(text, index)
    if found is None:
        # "金额/元": a unit after a slash does not change the meaning.
        stripped = _UNIT_SUFFIX.sub("", key)
        hit = index.get(stripped) if stripped != key else None
        found = None if hit is None else (*hit, PLAIN)
    return found


def match_header(header: str | None, kind: str | None = None) -> tuple[str, int] | None:
    """Return (canonical field, alias priority) for a header, or None when it is not known; with
    ``kind``, the headers that name a field in that kind of file only are known too. A header
    qualified in brackets as another moment's (进厂日期(预约), 进厂里程(上次)) names no field."""
    hit = _match(header, kind)
    return None if hit is None else hit[:2]


def _match(header: str | None, kind: str | None = None) -> tuple[str, int, int] | None:
    """Return (field, alias priority, rank: PLAIN, OWN_QUALIFIED or QUALIFIED) for a header, or None."""
    if header is None:
        return None
    index = _alias_index() if kind is None else _kind_alias_index(kind)
    hit = _lookup(str(header), index)
    if hit == _ELSEWHERE:
        return None
    if hit is None:
        # A header written in two languages on two lines of its cell ("工单号\nRO No."): either line.
        lines = [line for line in str(header).splitlines() if line.strip()]
        if len(lines) > 1:
            hit = next((found for line in lines if (found := _match(line, kind)) is not None), None)
    if hit is None:
        # Read loosely: after every header read as written, for the same field (``auto_mapping``).
        loose = next((found for part in _header_parts(str(header)) if (found := _lookup(part, index))), None)
        hit = (
            None if loose is None or loose == _ELSEWHERE else (loose[0], loose[1] + LOOSE_PRIORITY, loose[2])
        )
    return hit


# What a header read loosely (``_header_parts``) adds to its alias's priority: a column named as
# written wins its field over one named loosely (进厂日期 over 进厂日期2 wherever they stand).
LOOSE_PRIORITY = 1000


# Brackets around the whole name (【工单号】, [VIN], 「门店」) and a number before it (1.工单号, 2、门店, (3)车架号).
_WRAPPED = re.compile(r"^[\[【「『〔(<《]\s*(.+?)\s*[\]】」』〕)>》]$")
_NUMBERED = re.compile(r"^(?:\(\d{1,2}\)|\d{1,2}\s*[.、)]|[①-⑳])\s*(?=\S)")
# Two languages in one line: "工单号/RO No.", "工单号|RO No.", "工单号 RO No." (the Chinese run, then the rest).
_BETWEEN_LANGUAGES = re.compile(r"\s*[/|\\]\s*")
_CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]+")


def _header_parts(header: str) -> list[str]:
    """Return the names a header that matched nothing as written may hold, in the order tried: the name
    unwrapped or unnumbered, each side of a slash or bar, the Chinese run beside a foreign name, and
    the name in simplified characters (工單號, a Hong Kong or Taiwan export)."""
    text = unicodedata.normalize("NFKC", header).strip()
    bare = _NUMBERED.sub("", text)
    wrapped = _WRAPPED.match(bare)
    bare = wrapped.group(1) if wrapped else bare
    parts = [bare, *_BETWEEN_LANGUAGES.split(bare)]
    runs = _CHINESE_RUN.findall(bare)
    if len(runs) == 1 and runs[0] != bare:
        parts.append(runs[0])
    simplified = _simplified(bare)
    if simplified != bare:
        parts += [simplified, *_BETWEEN_LANGUAGES.split(simplified)]
    return [p for p in dict.fromkeys(parts) if p and p != header]


@cache
def _converter() -> Any:
    import opencc  # the dictionaries load once, on the first header in traditional characters

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    """Return the text in simplified characters (a header with no Chinese character as it is)."""
    return _converter().convert(text) if _CHINESE_RUN.search(text) else text


# A score column's header that names its scale: 满意度(10分制), 推荐意愿(0-10分), 服务态度（满分10分）,
# 百分制, 1-5分, (5分), out of 10. The top of the scale (5, 10, 100) names it.
_SCALE_TOPS: dict[str, str] = {
    "5": "1-5",
    "五": "1-5",
    "10": "0-10",
    "十": "0-10",
    "100": "0-100",
    "百": "0-100",
}
_TOP = r"(100|10|5|百|十|五)"
_HEADER_SCALES = (
    re.compile(r"(?<![\d.])" + _TOP + r"分制"),
    re.compile(r"满分" + _TOP + r"(?![\d.])"),
    # A range from 0 or 1 to the top: 0-10, 1～5分, 0至100.
    re.compile(r"(?<![\d.])[01]分?(?:-|~|〜|至|到)" + _TOP + r"分?(?![\d.])"),
    # The top alone in brackets: 满意度(10分), 满意度【5分】.
    re.compile(r"[(\[【]" + _TOP + r"分[)\]】]"),
    re.compile(r"outof" + _TOP + r"(?!\d)"),
    re.compile(r"(?<!\d)" + _TOP + r"-?point"),
)


def header_scale(header: str) -> str | None:
    """Return the scale a score column's header names ("1-5", "0-10" or "0-100": 满意度(10分制),
    推荐意愿(0-10分), 满分10分, 5分制, 百分制, (10分)), or None when it names none, or more than one."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(header)).lower())
    named = {_SCALE_TOPS[found.group(1)] for pattern in _HEADER_SCALES for found in pattern.finditer(text)}
    return named.pop() if len(named) == 1 else None


def header_scales(columns: dict[str, str]) -> dict[str, str]:
    """Return score field -> scale for the mapped score columns whose header names its scale."""
    return {
        f: scale for f, header in columns.items() if f in SCORE_FIELDS and (scale := header_scale(header))
    }


def matched_fields(headers: list[str], kind: str | None = None) -> set[str]:
    """Return the canonical fields that at least one of the headers names (in a file of ``kind``)."""
    found = set()
    for header in headers:
        hit = match_header(header, kind)
        if hit:
            found.add(hit[0])
    return found


def plausible_kind(headers: list[str], kind: str) -> bool:
    """Return whether the headers can hold records of ``kind``: every column the kind requires and
    a field only that kind has (a callback file's 工单号 and 车架号 are no work orders)."""
    found = matched_fields(headers, kind)
    return set(REQUIRED_COLUMNS[kind]) <= found and bool(found & _ONLY[kind])


# A callback list of one row per work order with each attempt in columns of its own: 首次回访时间,
# 首次回访结果, 二次回访时间 ... (a callback file has one row per call).
_ATTEMPT = re.compile(
    r"(?P<n>首次|初次|第?[一二三四五六1-6]次|再次|末次|最后一?次)(?:回访|外呼|致电|电话|联系)(?:时间|日期|结果|状态|情况)?"
)


def attempt_columns(headers: list[str]) -> list[str]:
    """Return the headers of callback attempts written in columns (首次回访时间, 二次回访结果 ...) when
    they number at least two attempts; else []."""
    found = [(m.group("n"), h) for h in headers if (m := _ATTEMPT.fullmatch(normalise_header(h)))]
    return [h for _, h in found] if len({n for n, _ in found}) >= 2 else []


def both_kinds(headers: list[str]) -> dict[str, list[str]] | None:
    """Return, when the headers hold both kinds in full (each kind's key and at least three fields
    only that kind has: a callback export repeating the visit's type, advisor and amount), each
    kind's own fields found; else None. Such a file is not guessed: the kind is asked for."""
    own = {kind: sorted(matched_fields(headers, kind) & _ONLY[kind]) for kind in KINDS}
    if all(plausible_kind(headers, kind) and len(own[kind]) >= 3 for kind in KINDS):
        return own
    return None


def detect_kind(headers: list[str]) -> str | None:
    """Return "service" or "callback" for the kind the headers describe, or None when unclear."""
    candidates = []
    for kind in KINDS:
        found = matched_fields(headers, kind)
        own = len(found & _ONLY[kind])
        total = len(found & set(FIELDS_BY_KIND[kind]))
        key_present = REQUIRED_COLUMNS[kind][0] in found
        if key_present and total >= 2:
            candidates.append((own, kind == "callback", kind))
    if not candidates:
        return None
    # Callback exports often repeat service context (plate, advisor, visit date); a service
    # export rarely carries a callback date, so a tie goes to callbacks.
    return max(candidates)[2]


def _candidates(headers: list[str], kind: str) -> dict[str, list[tuple[int, int, int, str]]]:
    """Return field -> its columns as (alias priority, rank, position, header), best first."""
    if kind not in FIELDS_BY_KIND:
        raise UserError(f"Unknown kind {kind!r}; use service or callback.")
    fields = set(FIELDS_BY_KIND[kind])
    found: dict[str, list[tuple[int, int, int, str]]] = {}
    for position, header in enumerate(headers):
        hit = _match(header, kind)
        if hit is not None and hit[0] in fields:
            found.setdefault(hit[0], []).append((hit[1], hit[2], position, header))
    # A date's column that says it is the record's own (实际回访时间) before its others (回访日期).
    return {
        field: sorted(columns, key=lambda c: (field in _DATE_FIELDS and not _OWN_DATE.search(c[3]), *c))
        for field, columns in found.items()
    }


def auto_mapping(headers: list[str], kind: str) -> dict[str, str]:
    """Return canonical field -> source header for every field of the kind the headers name: the
    header of the best alias, named plainly before in brackets qualified (``PLAIN``), then the first."""
    best = _candidates(headers, kind)
    return {field: best[field][0][3] for field in FIELDS_BY_KIND[kind] if field in best}


def ambiguous_fields(headers: list[str], kind: str) -> dict[str, list[str]]:
    """Return field -> headers for the fields whose best columns are qualified alike in brackets and
    neither is the record's own (进厂里程(客户报) beside 进厂里程(仪表), or 结算金额(实收) beside 结算金额(含税)):
    the file does not say which is the field, so it is asked for."""
    found: dict[str, list[str]] = {}
    for field, columns in _candidates(headers, kind).items():
        priority, rank = columns[0][:2]
        tied = [header for p, r, _, header in columns if (p, r) == (priority, rank)]
        if rank != PLAIN and len(tied) > 1:
            found[field] = tied
    return found


# Guessing a field from a column's values: how many distinct values are looked at, and the share
# of them that must fit.
GUESS_SAMPLE = 500
GUESS_SHARE = 0.9
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_MOBILE = re.compile(r"^1\d{10}$")
_SCORE_HINTS = ("分", "满意", "评", "score", "rating", "星")
_RECOMMEND_HINTS = ("推荐", "nps", "recommend")
_PLAIN_WORDS = values.TRUE_WORDS | values.FALSE_WORDS


def _sample_values(column: pd.Series) -> pd.Series:
    text = values.clean_typed(column.dropna().head(20 * GUESS_SAMPLE))
    return text.dropna().drop_duplicates().head(GUESS_SAMPLE).astype("str")


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else 0.0


def _guess_one(header: str, sample: pd.Series, kind: str) -> str | None:
    """Return the field a column of unknown header most likely holds, told by its values, or None."""
    if sample.empty:
        return None
    upper = sample.str.replace(" ", "", regex=False).str.upper()
    if _share(upper.str.fullmatch(_VIN.pattern)) >= GUESS_SHARE:
        return "vin"
    if _share(values.normalise_phones(sample).str.fullmatch(_MOBILE.pattern)) >= GUESS_SHARE:
        return "phone"
    if kind == "callback":
        # A column its header or its labels call a score (回访满意度: 非常满意 / 不满意) is the score,
        # though a satisfaction word also means the call was answered.
        score = _guess_score(header, sample)
        if score is not None:
            return score or None  # a question of two dimensions is neither, nor a call status
        reached, bad = values.parse_reached(sample)
        words = ~sample.str.lower().isin(_PLAIN_WORDS)
        if not bad.any() and reached.notna().all() and words.any():
            return "reached"
    plain_number = sample.str.fullmatch(r"\d{1,5}(?:\.\d+)?")
    # Plain numbers do not count as dates, so a column mostly of them (amounts) is not parsed.
    if _share(~plain_number) >= GUESS_SHARE:
        dates, _ = values.parse_datetimes(sample, keep_time=True)
        if _share(dates.notna() & ~plain_number) >= GUESS_SHARE:
            return "visit_date" if kind == "service" else "callback_date"
    return None


# What a survey's question asks about, as its header words it ("您对服务顾问的接待是否满意"): the
# whole visit, or one dimension. A question naming two dimensions is neither.
_OVERALL_HINTS = ("总体", "整体", "综合", "总的", "overall")
_DIMENSION_HINTS = {
    "attitude_score": ("态度", "接待", "礼仪", "热情", "服务顾问", "attitude", "courtesy"),
    "quality_score": ("质量", "修复", "维修效果", "技术", "quality"),
    "timeliness_score": ("时效", "及时", "时间", "等待", "效率", "速度", "准时", "timeliness", "waiting"),
    "price_score": ("收费", "价格", "费用", "价钱", "price", "cost"),
    "environment_score": ("环境", "休息", "客休", "卫生", "整洁", "environment", "lounge"),
}


def _score_topic(folded: str) -> str:
    """Return the score field a score column's header asks about: recommend_score, overall_score,
    or the one dimension it names; "" when it names several dimensions."""
    if any(h in folded for h in _RECOMMEND_HINTS):
        return "recommend_score"
    if any(h in folded for h in _OVERALL_HINTS):
        return "overall_score"
    named = [f for f, hints in _DIMENSION_HINTS.items() if any(h in folded for h in hints)]
    if len(named) > 1:
        return ""
    return named[0] if named else "overall_score"


def _guess_score(header: str, sample: pd.Series) -> str | None:
    """Return the score field (``_score_topic``) of a column its header hints is a score, or whose
    values are score-shaped (4分, ★★★★, 4/5) or satisfaction labels, when every value reads as a score
    and they differ ("" for a score of several dimensions); else None."""
    folded = unicodedata.normalize("NFKC", header).lower()
    hinted = any(h in folded for h in _SCORE_HINTS + _RECOMMEND_HINTS)
    shaped = (values.score_text(sample) != sample) | values.says_own_scale(sample)
    labels = sample.isin(list(values.LABEL_SCORES))
    if hinted or shaped.any() or _share(labels) >= GUESS_SHARE:
        # Every value reads as a score or as no answer (未评价, a survey's 0 for not rated).
        scores, bad, _ = values.parse_scores(sample)
        if not bad.any() and scores.nunique() >= 2:
            return _score_topic(folded)
    return None


def guess_mapping(rows: pd.DataFrame, headers: list[str], kind: str, taken: dict[str, str]) -> dict[str, str]:
    """Return field -> header for fields of the kind that no header names, guessed from the values
    of the columns whose header is not known (成功/失败 -> reached, VINs, phones, dates, scores)."""
    used = set(taken.values())
    found: dict[str, list[str]] = {}
    for header in headers:
        if header in used or match_header(header) is not None or header not in rows:
            continue
        if field_name := _guess_one(header, _sample_values(rows[header]), kind):
            found.setdefault(field_name, []).append(header)
    guessed: dict[str, str] = {}
    for field_name, columns in found.items():
        if field_name in taken or field_name not in FIELDS_BY_KIND[kind]:
            continue
        if field_name in _DATE_FIELDS:
            # A date planned, booked, due, next or last (计划回访时间, 预约进厂日期, 下次保养日期) is not the
            # record's; among the others, the one said to be done (实际回访时间, 回访完成时间) first.
            columns = [h for h in columns if not _OTHER_MOMENT.search(h)]
            columns.sort(key=lambda h: _OWN_DATE.search(h) is None)
        if columns:
            guessed[field_name] = columns[0]
    return guessed


# A call's length, not its time of day: a header that says so (通话时长, 用时), or values written as a
# clock that are each under an hour (00:02:35) and mostly under ten minutes, as calls last. A time of
# day would put every call in the hour after midnight, when no dealership calls its customers. A
# length written without its hour (2:35) is read as a clock (see README, known limits).
_DURATION_HEADER = re.compile(r"时长|用时|耗时|秒数|duration|length", re.IGNORECASE)
_UNDER_AN_HOUR = re.compile(r"0{1,2}:(?P<minutes>[0-5]\d):[0-5]\d(?:\.\d+)?")
CALL_MINUTES = 10


def call_lengths(times: pd.Series) -> bool:
    """Return whether clock values (no blanks) are the lengths of calls rather than times of day:
    each under an hour, written with its hours (00:02:35), and at least half under ``CALL_MINUTES``."""
    found = times.astype("str").str.strip().str.fullmatch(_UNDER_AN_HOUR.pattern)
    if not len(times) or not found.fillna(False).all():
        return False
    minutes = times.astype("str").str.strip().str.extract(_UNDER_AN_HOUR.pattern)["minutes"].astype(int)
    return bool((minutes < CALL_MINUTES).mean() >= 0.5)


def time_columns(rows: pd.DataFrame, headers: list[str], columns: dict[str, str]) -> dict[str, str]:
    """Return field -> header of a column holding the time of day of a date-and-time field mapped
    to another column (回访日期 with 回访时间 beside it): a header of the same field whose every
    value is a time of day, or a date and time on the same day as the mapped column's date (or
    where that is blank); not a column of call lengths (``call_lengths``, ``_DURATION_HEADER``)."""
    used = set(columns.values())
    found: dict[str, str] = {}
    for field_name in columns:
        if FIELD_TYPES[field_name] != "datetime" or columns[field_name] not in rows:
            continue
        days: pd.Series | None = None  # read only when another column of the field is there
        for other in headers:
            hit = match_header(other)
            if other in used or hit is None or hit[0] != field_name or other not in rows:
                continue
            times = values.clean_typed(rows[other])
            present = times.notna()
            if not present.any() or _DURATION_HEADER.search(other) or call_lengths(times[present]):
                continue
            clock = times.str.fullmatch(values.TIME_OF_DAY).fillna(False).astype(bool)
            if clock[present].all():
                found[field_name] = other
                used.add(other)
                break
            if days is None:
                days, _ = values.parse_datetimes(rows[columns[field_name]], keep_time=False)
            moments, _ = values.parse_datetimes(times.where(~clock), keep_time=False)
            # The same day, or a day the date column leaves blank.
            same_day = (moments.notna() & (days.isna() | (moments == days))).fillna(False).astype(bool)
            if (clock | same_day)[present].all():
                found[field_name] = other
                used.add(other)
                break
    return found


def resolve_header(name: str, headers: list[str]) -> str | None:
    """Return the file header a mapping's column name refers to (exact, then loosely), or None."""
    if name in headers:
        return name
    wanted = normalise_header(name)
    for header in headers:
        if normalise_header(header) == wanted:
            return header
    return None


def validate_mapping(mapping: dict[str, Any], source: str = "the mapping") -> dict[str, Any]:
    """Return the mapping in its normal form ({kind, columns, scales}); raise UserError if invalid."""
    if not isinstance(mapping, dict):
        raise UserError(f"{source} is not a table of settings; write kind, [columns] and [scales] in it.")
    unknown = set(mapping) - {"kind", "columns", "scales"}
    if unknown:
        raise UserError(
            f"{source} has unknown entries ({', '.join(sorted(unknown))}); use only kind, columns and scales."
        )
    kind = mapping.get("kind")
    if kind is not None and kind not in KINDS:
        raise UserError(f"{source} gives kind {kind!r}; use service or callback.")
    allowed = set(FIELDS_BY_KIND[kind]) if kind else set(FIELD_TYPES)
    columns = mapping.get("columns") or {}
    if not isinstance(columns, dict):
        raise UserError(f"{source}: columns must be a table of field = source header.")
    for field, header in columns.items():
        if field not in allowed:
            raise UserError(
                f"{source} maps the unknown field {field!r}; use one of {', '.join(sorted(allowed))}."
            )
        if header is not None and not isinstance(header, str):
            raise UserError(f"{source} maps {field} to {header!r}; give the source header as text.")
    # One column read as two fields (工单号 as the work-order number and the visit date) rejected every
    # row for an unreadable date: said as the mistake it is.
    by_header: dict[str, list[str]] = {}
    for field, header in columns.items():
        if header:
            by_header.setdefault(header, []).append(field)
    twice = next(((h, fs) for h, fs in by_header.items() if len(fs) > 1), None)
    if twice is not None:
        header, fields = twice
        raise UserError(
            f"{source} reads the column {header!r} as {' and '.join(fields)}; a column feeds one field, "
            "so choose one of them for it.",
            zh=f"列映射把“{header}”列同时对应到 {'、'.join(fields)}；一列只能对应一个字段，请只保留其中一个。",
        )
    scales = mapping.get("scales") or {}
    if not isinstance(scales, dict):
        raise UserError(f"{source}: scales must be a table of score field = scale.")
    for field, scale in scales.items():
        if field not in SCORE_FIELDS:
            raise UserError(
                f"{source} gives a scale for {field!r}, which is not a score; "
                f"use one of {', '.join(SCORE_FIELDS)}."
            )
        if scale not in SCALES:
            raise UserError(
                f"{source} gives the scale {scale!r} for {field}; use one of {', '.join(SCALES)}."
            )
    return {
        "kind": kind,
        "columns": {field: header for field, header in columns.items()},
        "scales": dict(scales),
    }


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Return the mapping saved in a TOML or JSON file, in its normal form; raise UserError if unusable."""
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise UserError(f"The mapping file {target} does not exist; check the path.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"The mapping file {target} cannot be read ({exc}); save it as UTF-8 text.") from exc
    parsed: Any
    if target.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"The mapping file {target} is not valid JSON ({exc}); fix it or save it again."
            ) from exc
    else:
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UserError(
                f"The mapping file {target} is not valid TOML ({exc}); fix it or save it again."
            ) from exc
    return validate_mapping(parsed, f"The mapping file {target}")


def _toml_string(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def save_mapping(mapping: dict[str, Any], path: str | Path) -> None:
    """Write the mapping to a TOML file (JSON when the name ends in .json)."""
    normal = validate_mapping(mapping)
    target = Path(path)
    if target.suffix.lower() == ".json":
        target.write_text(json.dumps(normal, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    lines = ["# Column mapping for `python -m analytics import --map`: canonical field = source header."]
    if normal["kind"]:
        lines.append(f"kind = {_toml_string(normal['kind'])}")
    lines += ["", "[columns]"]
    # An empty header keeps a field out of the import even when an alias would match it.
    lines += [f"{field} = {_toml_string(header or '')}" for field, header in normal["columns"].items()]
    lines += [
        "",
        "# Score scales: 1-5, 0-10, 0-100 or labels (detected from the values when absent).",
        "[scales]",
    ]
    lines += [f"{field} = {_toml_string(scale)}" for field, scale in normal["scales"].items()]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
