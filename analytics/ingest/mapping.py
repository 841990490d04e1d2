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


def match_header(header: str | None, kind: str | None = None) -> tuple[str, int] | None:
    """Return (canonical field, alias priority) for a header, or None when it is not known; with
    ``kind``, the headers that name a field in that kind of file only are known too."""
    if header is None:
        return None
    key = normalise_header(header)
    if not key:
        return None
    index = _alias_index() if kind is None else _kind_alias_index(kind)
    hit = index.get(key)
    if hit is None:
        # "结算金额(元)", "里程(km)": a unit in brackets does not change the meaning.
        stripped = _UNIT_SUFFIX.sub("", key)
        hit = index.get(stripped) if stripped != key else None
    if hit is None:
        # A header written in two languages on two lines of its cell ("工单号\nRO No."): either line.
        lines = [line for line in str(header).splitlines() if line.strip()]
        if len(lines) > 1:
            hit = next((found for line in lines if (found := match_header(line, kind)) is not None), None)
    if hit is None:
        # Read loosely: after every header read as written, for the same field (``auto_mapping``).
        loose = next(
            (found for part in _header_parts(str(header)) if (found := _match_key(part, index))), None
        )
        hit = None if loose is None else (loose[0], loose[1] + LOOSE_PRIORITY)
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


def _match_key(part: str, index: dict[str, tuple[str, int]]) -> tuple[str, int] | None:
    key = normalise_header(part)
    return index.get(key) or index.get(_UNIT_SUFFIX.sub("", key)) if key else None


@cache
def _converter() -> Any:
    import opencc  # the dictionaries load once, on the first header in traditional characters

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    """Return the text in simplified characters (a header with no Chinese character as it is)."""
    return _converter().convert(text) if _CHINESE_RUN.search(text) else text


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


def auto_mapping(headers: list[str], kind: str) -> dict[str, str]:
    """Return canonical field -> source header for every field of the kind the headers name."""
    if kind not in FIELDS_BY_KIND:
        raise UserError(f"Unknown kind {kind!r}; use service or callback.")
    fields = set(FIELDS_BY_KIND[kind])
    best: dict[str, tuple[int, int, str]] = {}
    for position, header in enumerate(headers):
        hit = match_header(header, kind)
        if hit is None or hit[0] not in fields:
            continue
        field, priority = hit
        candidate = (priority, position, header)
        if field not in best or candidate < best[field]:
            best[field] = candidate
    return {field: best[field][2] for field in FIELDS_BY_KIND[kind] if field in best}


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
    guessed: dict[str, str] = {}
    for header in headers:
        if header in used or match_header(header) is not None or header not in rows:
            continue
        field_name = _guess_one(header, _sample_values(rows[header]), kind)
        if field_name is None or field_name in taken or field_name in guessed:
            continue
        if field_name not in FIELDS_BY_KIND[kind]:
            continue
        guessed[field_name] = header
    return guessed


def time_columns(rows: pd.DataFrame, headers: list[str], columns: dict[str, str]) -> dict[str, str]:
    """Return field -> header of a column holding the time of day of a date-and-time field mapped
    to another column (回访日期 with 回访时间 beside it): a header of the same field whose every
    value is a time of day, or a date and time on the same day as the mapped column's date (or
    where that is blank)."""
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
            if not present.any():
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
