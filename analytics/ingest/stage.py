"""Raw text rows -> typed canonical rows and the problems that reject rows, in DuckDB SQL.

The second layer of an import (STYLE.md: raw -> staged, one row per source row): the raw table
(read.py) goes to an in-memory DuckDB as Arrow, and SQL types every mapped column, marks the
cells that cannot be read, finds total rows, missing keys, exact duplicates and repeated keys,
and numbers the callbacks a file does not number. Python gets back the accepted rows as Arrow
and the positions of the rejected ones with the number of each problem; the sentences are
``load.py``'s.

Each cleaning rule has one definition. The shapes that fill DMS exports are typed by SQL:
text not wrapped in Excel's ="..." guard, VINs in ASCII, phone numbers of plain digits,
ISO-like dates and times, plain decimal numbers. Every other value is typed by its rule in
``values.py``, called once per distinct value and joined back, so an odd cell costs a lookup
rather than a pass over its column (dates, labels and scores repeat, so those columns go to
Python whole, as distinct values). ``tests/test_ingest_stage.py`` checks that the shapes SQL
types agree with the Python rules, value for value.

Identifiers in the generated SQL are fixed: raw columns are named by position (``c0``, ``c1``,
...), canonical fields come from ``mapping.FIELD_TYPES``; file headers and cell values are data.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.core import i18n
from analytics.ingest import values
from analytics.ingest.mapping import FIELD_TYPES, FIELDS_BY_KIND, REQUIRED_COLUMNS, match_header
from analytics.ingest.read import SOURCE_ROW, SOURCE_SHEET, RawTable, overfull_rows

Parsed = tuple[pd.Series, pd.Series]

# A text cell longer than this is a broken file (a quote left open, a pasted document), not a
# name; the row is rejected rather than stored cut short.
MAX_TEXT_CHARS = 4000
# A customer's comment can run to pages when an agent types a complaint down as it was said; only
# a comment longer than this is taken for a broken file.
MAX_COMMENT_CHARS = 20_000
_LONG_TEXT_FIELDS = frozenset({"comment"})


def max_chars(field_name: str) -> int:
    """Return the longest text a cell of ``field_name`` may hold before its row is rejected."""
    return MAX_COMMENT_CHARS if field_name in _LONG_TEXT_FIELDS else MAX_TEXT_CHARS


# A reserved column of the raw rows: True where the callback date took its time of day from a
# column of its own (回访时间). Such a row's generated id is made from the day alone, as it was
# before that column was read, so re-importing a file imported then updates its calls instead of
# adding them again.
ID_DAY_ONLY = "_id_day_only"
# A placeholder ("/", "--", "NULL") in a callback's work-order number, VIN or agent was stored as
# written before it was read as missing. A call without an id of its own keeps the id made from
# the placeholder (and the 3DC type a work-order number gave it then), so re-importing a file
# imported then corrects its calls instead of adding them again.
_ID_AS_WRITTEN = {"order_id": "{c}", "vin": "upper({c})", "agent": "{c}"}
# An agent's role title in brackets (李四（回访专员）) was stored with the name before it was set aside
# (values.clean_people). A call without an id of its own keeps the id made from the name as the
# text rule gave it then, so re-importing a file imported then updates its calls (the agent) instead
# of adding them again.
_ID_AS_TEXT = "agent"
# The reason a total row (not a record) is set aside with.
TOTAL_ROW_REASON = "total row, not a record"
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "汇总", "合計", "總計", "total", "Total", "TOTAL"})
_TOTAL_WORDS = pa.array(sorted(TOTAL_WORDS), type=pa.large_string())
# A count or unit in brackets after a total word: "总计（25单）", "小计(元)".
_TOTAL_COUNT = re.compile(r"[(（][^()（）]*[)）]$")
# A note under a report's table: 备注：..., 注：..., 说明：..., 制表人：..., 导出时间：...
_NOTE = re.compile(
    r"^(?:备注|注意?|说明|制表人?|审核人?|复核人?|填表人?|打印(?:人|时间|日期)?|导出(?:人|时间|日期)?|制表(?:时间|日期)|数据来源)\s*[:：]"
    # A printed page's number: 第1页 共3页, 第 1 页/共 3 页, Page 1 of 3.
    # Runs of spaces taken whole (possessive): a cell of 第1页 and 20,000 spaces took 4 s.
    r"|^第\s*+\d++\s*+页\s*+[,，/]?\s*+(?:共\s*+\d++\s*+页)?$|^(?i:page)\s*+\d++\s*+(?:/|of)\s*+\d++$"
)
NOTE_ROW = "note below the table, not a record"
# The header written again inside the table: a printed report's page header, or two exports
# pasted into one file (its BOM, if any, mid-file).
HEADER_ROW = "header repeated inside the table, not a record"
OVERFULL_ROW = (
    "more cells than the header names: a value holds an unquoted delimiter (1,234.50), shifting the row"
)
# Plausible ranges: beyond them a number is a typing or export error that would distort every
# sum (two amounts of 1e308 add up to infinity); it is left blank with a note, the row lands.
# Refunds make amounts negative; odometers are not.
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "amount": (-100_000_000.0, 100_000_000.0),
    "mileage_km": (0.0, 9_999_999.0),
}
KEYS: dict[str, str] = {"service": "order_id", "callback": "callback_id"}

# A placeholder for "nothing here" ("--", "/", "NULL") is missing (values.clean_typed).
_PLACEHOLDER = "lower({c}) IN (" + ", ".join(f"'{token}'" for token in sorted(values.MISSING_TOKENS)) + ")"
# Text Excel was told to keep as text (="0123", '0123) is unwrapped by values.clean_text.
_PLAIN_TEXT = "NOT starts_with({c}, '=\"') AND NOT starts_with({c}, '''') AND NOT " + _PLACEHOLDER
# An ISO-like date, with a time of day that exists; the calendar check is TRY_CAST's, and values
# outside 1900-2099 go to Python, which marks them unreadable.
_CLOCK = "( ([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?"
_ISO_MOMENT = (
    f"regexp_full_match({{c}}, '[0-9]{{{{4}}}}-[0-9]{{{{2}}}}-[0-9]{{{{2}}}}{_CLOCK}"
    f"|[0-9]{{{{4}}}}/[0-9]{{{{2}}}}/[0-9]{{{{2}}}}{_CLOCK}')"
)
_MOMENT = (
    "regexp_full_match({c}, '[0-9]{{4}}([-/])[0-9]{{2}}\\1[0-9]{{2}}"
    "( ([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?')"
)
_MOMENT = "TRY_CAST(replace({c}, '/', '-') AS TIMESTAMP)"
# From the day after 1900-01-01: that day at midnight is a database's "no date", which the
# rule in Python reads as empty (``values._ZERO_DATE``).
_IN_RANGE = "({m} >= TIMESTAMP '1900-01-02' AND {m} < TIMESTAMP '2100-01-01')"


@dataclass(frozen=True)
class Rule:
    """How one field type is read: ``guard`` (SQL, ``{c}`` the raw column) marks the cells SQL types
    itself as ``fast``; other values go through ``python`` once per distinct value. ``can_fail``:
    whether a value can be unreadable (a cell with a value that gives none)."""

    sql_type: str
    arrow_type: pa.DataType
    python: Callable[[pd.Series], Parsed]
    guard: str = "false"
    fast: str = "NULL"
    can_fail: bool = True


def _never_bad(parse: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], Parsed]:
    def run(u: pd.Series) -> Parsed:
        return parse(u), pd.Series(False, index=u.index)

    return run


# The marks of a masked cell (values.masked_text), as a regular expression of SQL's.
_MASKS = "[*\\x{{ff0a}}\\x{{2217}}]"


def _moment_guard() -> str:
    return f"{_ISO_MOMENT} AND {_IN_RANGE.format(m=_MOMENT)}"


RULES: dict[str, Rule] = {
    "key": Rule(
        "VARCHAR",
        pa.large_string(),
        _never_bad(values.clean_key),
        # ASCII only (bytes = characters): full-width forms and invisible marks are folded in Python.
        f"{_PLAIN_TEXT} AND strlen({{c}}) = length({{c}})"
        f" AND NOT regexp_full_match({{c}}, '{values.FLOAT_WRITTEN_KEY}')"
        f" AND NOT regexp_full_match({{c}}, '{values.SCIENTIFIC_WHOLE}')",
        "{c}",
        False,
    ),
    "text": Rule("VARCHAR", pa.large_string(), _never_bad(values.clean_typed), _PLAIN_TEXT, "{c}", False),
    # A customer's name; a masked one (张*, *三: an export made without the right to see names) is
    # blank, with a note (values.masked_text).
    "name": Rule(
        "VARCHAR",
        pa.large_string(),
        values.parse_names,
        f"NOT regexp_matches({{c}}, '{_MASKS}') AND {_PLAIN_TEXT}",
        "{c}",
    ),
    # A plate of Chinese characters, capitals and digits only is in its one form already (and is
    # not masked: 浙A***45 goes to values.parse_plates).
    "plate": Rule(
        "VARCHAR",
        pa.large_string(),
        values.parse_plates,
        f"regexp_full_match({{c}}, '[\\x{{{{4e00}}}}-\\x{{{{9fff}}}}A-Z0-9]*') AND {_PLAIN_TEXT}",
        "{c}",
    ),
    # A name with no closing bracket has no role title after it, and one without a blank after a
    # Chinese character is not a padded name (李　娜): the Python rule reads the others.
    "person": Rule(
        "VARCHAR",
        pa.large_string(),
        _never_bad(values.clean_people),
        f"NOT regexp_matches({{c}}, '[)）\\]】]')"
        f" AND NOT regexp_matches({{c}}, '[\\x{{{{4e00}}}}-\\x{{{{9fff}}}}][\\s\\x{{{{3000}}}}\\x{{{{a0}}}}]')"
        f" AND {_PLAIN_TEXT}",
        "{c}",
        False,
    ),
    "vin": Rule(
        "VARCHAR",
        pa.large_string(),
        values.parse_vins,
        # Printable ASCII only: upper() agrees with Python's there, and a space is the only blank;
        # without the letters I, O and Q, which Python reads as digits in a VIN, and without the
        # asterisk of a masked VIN (values.parse_vins).
        f"regexp_full_match({{c}}, '[ -~]*') AND NOT regexp_matches({{c}}, '[IOQioq*]') AND {_PLAIN_TEXT}",
        "upper(replace({c}, ' ', ''))",
    ),
    # Plain digits; a masked number (138****8000) is blank, with a note (values.parse_phones).
    "phone": Rule(
        "VARCHAR",
        pa.large_string(),
        values.parse_phones,
        "regexp_full_match({c}, '[0-9]+') AND NOT regexp_full_match({c}, '(0086|86)1[0-9]{{10}}')",
        "{c}",
    ),
    "date": Rule(
        "DATE",
        pa.timestamp("us"),
        lambda u: values.parse_datetimes(u, keep_time=False),
        _moment_guard(),
        _MOMENT,
    ),
    "datetime": Rule(
        "TIMESTAMP",
        pa.timestamp("us"),
        lambda u: values.parse_datetimes(u, keep_time=True),
        _moment_guard(),
        _MOMENT,
    ),
    # Plain or with thousands separators (1,234.50), at most 15 digits and two decimals: every
    # parser rounds these to the same double.
    "number": Rule(
        "DOUBLE",
        pa.float64(),
        values.parse_numbers,
        "regexp_full_match({c}, '-?([0-9]{{1,13}}|[0-9]{{1,3}}(,[0-9]{{3}}){{1,3}})(\\.[0-9]{{1,2}})?')",
        "TRY_CAST(replace({c}, ',', '') AS DOUBLE)",
    ),
    "integer": Rule(
        "INTEGER",
        pa.int64(),
        values.parse_integers,
        "regexp_full_match({c}, '[0-9]{{1,9}}')",
        "TRY_CAST({c} AS INTEGER)",
    ),
    "boolean": Rule("BOOLEAN", pa.bool_(), values.parse_booleans),
    "reached": Rule("BOOLEAN", pa.bool_(), values.parse_reached),
    "level": Rule("INTEGER", pa.int64(), values.parse_complaint_levels),
    "service_type": Rule(
        "VARCHAR", pa.large_string(), _never_bad(values.parse_service_types), can_fail=False
    ),
    "callback_type": Rule(
        "VARCHAR", pa.large_string(), _never_bad(values.parse_callback_types), can_fail=False
    ),
    # Scores are typed in Python whole: the scale of a column is decided from all its values.
    "score": Rule("DOUBLE", pa.float64(), values.parse_numbers),
}
# Field types whose cells are checked for length.
_TEXT_TYPES = frozenset({"key", "text", "name", "plate", "person", "vin", "phone"})


@dataclass
class Problem:
    """One kind of problem that rejects a row (or, as a note, blanks a cell): the SQL condition,
    the column it names and its sentence; for a note, the field whose cell it blanks."""

    condition: str
    column: str | None
    reason: str
    field: str | None = None


@dataclass
class Staged:
    """The typed rows of a file and what was set aside.

    ``table``: accepted rows (``source_row`` and the kind's canonical columns, typed), in file
    order. ``rejects`` and ``notes``: one row per (position, problem number) in position order,
    the number indexing ``problems`` / ``note_kinds``. ``landed`` and ``duplicates``: rows per
    sheet ("" for a CSV) that land and that are exact duplicates of a later row.
    """

    table: pa.Table
    rejects: pd.DataFrame
    notes: pd.DataFrame
    problems: list[Problem]
    note_kinds: list[Problem]
    scales: dict[str, str]
    duplicates: int
    landed: dict[str, int] = field(default_factory=dict)
    duplicates_by_sheet: dict[str, int] = field(default_factory=dict)


_local = threading.local()


def _engine() -> duckdb.DuckDBPyConnection:
    """Return this thread's in-memory DuckDB (staging touches no database file)."""
    con = getattr(_local, "con", None)
    if con is None:
        # One thread: staging runs beside the writer's DuckDB, which has the other core.
        con = duckdb.connect(":memory:", config={"threads": 1})
        _local.con = con
    return con


def _ident(name: str) -> str:
    return f'"{name}"'


def _lookup(rule: Rule, distinct: pd.Series, parse: Callable[[pd.Series], Parsed]) -> pa.Table:
    """Return (v, value, bad) for the distinct raw values, typed by the Python rule."""
    if not len(distinct):
        empty = {"v": pa.large_string(), "value": rule.arrow_type, "bad": pa.bool_()}
        return pa.table({k: pa.array([], type=t) for k, t in empty.items()})
    parsed, bad = parse(distinct)
    return pa.table(
        {
            "v": pa.array(distinct, type=pa.large_string(), from_pandas=True),
            "value": pa.array(parsed, type=rule.arrow_type, from_pandas=True),
            "bad": pa.array(bad.to_numpy(dtype=bool), type=pa.bool_()),
        }
    )


def stage(
    raw: RawTable,
    kind: str,
    columns: dict[str, str],
    scale_overrides: dict[str, str],
    *,
    sql_shapes: bool = True,
) -> Staged:
    """Type the raw rows for the mapped fields and set aside the rows that cannot land.

    ``sql_shapes=False`` types every value by its Python rule (the tests compare the two).
    """
    con = _engine()
    position = {header: f"c{i}" for i, header in enumerate(raw.headers)}
    n = len(raw.rows)
    arrays: dict[str, pa.Array] = {
        "pos": pa.array(np.arange(n, dtype=np.int64)),
        "source_row": pa.array(raw.rows[SOURCE_ROW].to_numpy(dtype=np.int64)),
    }
    arrays["id_day_only"] = pa.array(
        raw.rows[ID_DAY_ONLY].to_numpy(dtype=bool) if ID_DAY_ONLY in raw.rows else np.zeros(n, dtype=bool)
    )
    if SOURCE_SHEET in raw.rows:  # a workbook's rows name their sheet; a CSV is one sheet, ""
        arrays["sheet"] = pa.array(
            raw.rows[SOURCE_SHEET].astype("str"), type=pa.large_string(), from_pandas=True
        )
    total = np.zeros(n, dtype=bool)
    for header, name in position.items():
        arrays[name] = pa.array(raw.rows[header], type=pa.large_string(), from_pandas=True)
        # A total row: a cell that is one of the words, in any column: a hash lookup per cell in
        # Arrow (with the same test in SQL, the typing query of a 15,773-row callbacks workbook
        # took 133 ms; 36 ms without it).
        total |= (
            pc.is_in(arrays[name], value_set=_TOTAL_WORDS).fill_null(False).to_numpy(zero_copy_only=False)
        )
    arrays["total"] = pa.array(total)
    arrays["overfull"] = pa.array(overfull_rows(raw))
    con.register("stage_raw", pa.table(arrays))
    registered = ["stage_raw"]
    try:
        return _stage(con, raw, kind, columns, scale_overrides, position, registered, sql_shapes)
    finally:
        with contextlib.suppress(duckdb.Error):
            con.abort()  # a result left unread by an error must not block the next file
        for name in registered:
            con.unregister(name)


def _stage(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    kind: str,
    columns: dict[str, str],
    scale_overrides: dict[str, str],
    position: dict[str, str],
    registered: list[str],
    sql_shapes: bool,
) -> Staged:
    fields = FIELDS_BY_KIND[kind]
    mapped = [f for f in fields if f in columns]
    rules = {f: RULES[FIELD_TYPES[f]] for f in fields}
    if not sql_shapes:
        rules = {f: replace(rule, guard="false") for f, rule in rules.items()}
    raw_column = {f: position[columns[f]] for f in mapped}

    # 1. The distinct values SQL does not type itself, per field, typed by the Python rule: one
    # scan with one list per field (planning a query per field would cost more than running it).
    lists = [
        f"list(DISTINCT {raw_column[f]}) FILTER (WHERE NOT coalesce({rules[f].guard.format(c=raw_column[f])}, false))"
        for f in mapped
    ]
    query = f"SELECT {', '.join(lists)} FROM stage_raw"  # noqa: S608 - see module docstring
    found = con.execute(query).fetchall()[0] if lists else None
    scales: dict[str, str] = {}
    # How a number column is written when not as SQL's shape assumes: DECIMAL_COMMA.
    forms: dict[str, str] = {}
    # Fields of one type (and one scale, and one reading of their words: ``_OWN_WORDS``) have their
    # values parsed together, once: a survey's score columns hold the same handful, and each parse
    # costs pandas' overhead however few its values. Each field still joins a table of its own
    # values only.
    groups: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    # A scale is decided by a column's set of values (and its words); score columns often have the same set.
    scale_of: dict[tuple[frozenset[str], str], str] = {}
    for i, f in enumerate(mapped):
        distinct = [v for v in (found[i] if found else None) or () if v is not None]
        if FIELD_TYPES[f] in _NUMBER_TYPES and values.may_write_decimal_comma(
            pd.Series(distinct, dtype="str")
        ):
            # A decimal comma (1.234,50) is decided over all the column's values: SQL's shape
            # takes 1,234 and 12.50 as a decimal point writes them.
            every = _distinct_values(con, raw_column[f])
            comma_delimited = raw.format == "csv" and raw.delimiter == ","
            if values.writes_decimal_comma(pd.Series(every, dtype="str"), comma_delimited=comma_delimited):
                distinct, forms[f] = every, DECIMAL_COMMA
        own_words = f if f in _OWN_WORDS else ""
        if FIELD_TYPES[f] == "score":
            values_set = (frozenset(distinct), own_words)
            if not scale_overrides.get(f) and values_set not in scale_of:
                scale_of[values_set] = _score_scale(distinct, f)
            scales[f] = scale_overrides.get(f) or scale_of[values_set]
        if distinct:
            reading = (FIELD_TYPES[f], scales.get(f) or forms.get(f, ""), own_words)
            groups.setdefault(reading, {})[f] = distinct
    looked_up: set[str] = set()
    for (field_type, scale, own_words), members in groups.items():
        rule = RULES[field_type]
        parse = _score_parse(scale, own_words) if field_type == "score" else rule.python
        if field_type == "boolean" and own_words:
            parse = _boolean_parse(own_words)
        if scale == DECIMAL_COMMA:
            parse = _decimal_comma_parse(field_type)
        union = list(dict.fromkeys(v for distinct in members.values() for v in distinct))
        table = _lookup(rule, pd.Series(union, dtype="str"), parse)
        at = pd.Index(union)
        for f, distinct in members.items():
            # A field's values are distinct, so as many as the union's are the union.
            own = table
            if len(distinct) < len(union):
                positions = at.get_indexer(pd.Index(distinct))
                own = (
                    table.take(positions)
                    if (positions >= 0).all()
                    else _lookup(rule, pd.Series(distinct, dtype="str"), parse)
                )
            name = f"stage_lk_{f}"
            con.register(name, own)
            registered.append(name)
            looked_up.add(f)
    if kind == "callback" and _ID_AS_TEXT in looked_up:
        as_text = pd.Series(groups[(FIELD_TYPES[_ID_AS_TEXT], "", "")][_ID_AS_TEXT], dtype="str")
        con.register("stage_lk_id_text", _lookup(RULES["text"], as_text, _never_bad(values.clean_typed)))
        registered.append("stage_lk_id_text")

    # 2. Every row typed. A column whose every value fits SQL's shape is typed by SQL alone; one
    # with other values takes those from its lookup table.
    select = [
        "r.pos",
        "r.source_row",
        "r.sheet" if SOURCE_SHEET in raw.rows else "'' AS sheet",
        "r.id_day_only",
    ]
    joins = []
    for f in fields:
        rule = rules[f]
        if f not in columns:
            select += [f"CAST(NULL AS {rule.sql_type}) AS {_ident(f)}", f"false AS {_ident('bad_' + f)}"]
            continue
        c = f"r.{raw_column[f]}"
        if f in looked_up:
            # A value found in the lookup table is one SQL does not type (the guards ran once, on
            # the distinct values); the others have SQL's shape.
            lk = f"stage_lk_{f}"
            joins.append(f"LEFT JOIN {lk} ON {lk}.v = {c}")
            value = f"CASE WHEN {lk}.v IS NOT NULL THEN {lk}.value ELSE {rule.fast.format(c=c)} END"
            bad = f"coalesce({lk}.bad, false)"
        else:
            value, bad = rule.fast.format(c=c), "false"
        select += [f"CAST({value} AS {rule.sql_type}) AS {_ident(f)}", f"{bad} AS {_ident('bad_' + f)}"]
        if FIELD_TYPES[f] in _TEXT_TYPES:
            # Bytes first: a cell of at most so many bytes has at most so many characters.
            limit = max_chars(f)
            select.append(
                f"coalesce(strlen({c}) > {limit} AND length({c}) > {limit}, false) AS {_ident('long_' + f)}"
            )
    as_written: list[str] = []
    for f, written in _ID_AS_WRITTEN.items() if kind == "callback" else ():
        held = "NULL"
        if f in columns:
            c = f"r.{raw_column[f]}"
            held = f"CASE WHEN {_PLACEHOLDER.format(c=c)} THEN {written.format(c=c)} END"
            if f == _ID_AS_TEXT and f in looked_up:
                # The values SQL does not type, as the text rule typed them (SQL's are the same).
                joins.append(f"LEFT JOIN stage_lk_id_text ON stage_lk_id_text.v = {c}")
                held = f"CASE WHEN {_PLACEHOLDER.format(c=c)} THEN {written.format(c=c)} ELSE stage_lk_id_text.value END"
        select.append(f"{held} AS as_written_{f}")
        as_written.append(f"as_written_{f}")
    select += ["r.total", "r.overfull"]
    typed = "SELECT " + ", ".join(select) + " FROM stage_raw AS r " + " ".join(joins)  # noqa: S608 - see module docstring

    # 3. The problems of each row, as bits numbering ``problems`` (load.py's order: the row's
    # keys first, then each field's), and the notes (unreadable scores) likewise.
    problems, note_kinds = _problems(kind, columns, mapped, scales)
    defaults = []
    # A blank type cell reads as the column's absence does (a blank is never a value of its own:
    # the types are NOT NULL in the store).
    if kind == "service":
        defaults.append(
            "coalesce(service_type, 'other') AS service_type"
            if "service_type" in columns
            else "'other' AS service_type"
        )
    if kind == "callback":
        # Without a type: an attempt tied to a work order follows a service visit (3DC); one with
        # only a VIN follows a delivery (7DC).
        by_order = "CASE WHEN order_id IS NOT NULL THEN '3DC' ELSE '7DC' END"
        defaults.append(
            f"coalesce(callback_type, {by_order}) AS callback_type"
            if "callback_type" in columns
            else f"{by_order} AS callback_type"
        )
        if "is_complaint" not in columns and (
            "complaint_level" in columns or "complaint_category" in columns
        ):
            # A level left blank as unreadable ("A级") still says there was a complaint.
            defaults.append(
                "(complaint_level IS NOT NULL OR bad_complaint_level OR complaint_category IS NOT NULL)"
                " AS is_complaint"
            )
    # An amount or odometer reading outside its plausible range is left blank, as an unreadable one
    # is: ``out_<field>`` keeps what was found for the note.
    out_of_range = ""
    for f in mapped:
        if f in NUMBER_RANGES:
            low, high = NUMBER_RANGES[f]
            out = _ident("out_" + f)
            out_of_range += f", coalesce({_ident(f)} < {low!r} OR {_ident(f)} > {high!r}, false) AS {out}"
            defaults.append(f"CASE WHEN {out} THEN NULL ELSE {_ident(f)} END AS {_ident(f)}")
    with_defaults = f" REPLACE ({', '.join(defaults)})" if defaults else ""
    canonical = ", ".join(_ident(f) for f in fields)
    key = KEYS[kind]
    numbered = "unique_rows"
    ids = ""
    if kind == "callback":
        # Callbacks the file does not number get a stable id from the attempt's content; two
        # distinct attempts with the same content (two calls on one day without a time) keep
        # apart by what they hold: the answered one first, then by score and comment, so that the
        # same calls in another order, or an export of the answered calls only, keep their ids
        # (the file's order last, for attempts alike in every way).
        typed_then = "callback_type"
        if "callback_type" not in columns:
            typed_then = "CASE WHEN as_written_order_id IS NOT NULL THEN '3DC' ELSE callback_type END"
        content = " || '|' || ".join(
            f"coalesce({part}, '')"
            for part in (
                "order_id, as_written_order_id",
                "vin, as_written_vin",
                typed_then,
                "strftime(CASE WHEN id_day_only THEN date_trunc('day', callback_date) ELSE callback_date END, "
                "'%Y-%m-%d %H:%M:%S')",
                "as_written_agent, agent",
            )
        )
        numbered = "numbered"
        ids = f"""
        , based AS (SELECT *, 'CB-' || left(sha1({content}), 16) AS base FROM unique_rows)
        , numbered AS (
            SELECT * EXCLUDE (base, occurrence) REPLACE (
                coalesce(callback_id, base || CASE WHEN occurrence > 1 THEN '-' || occurrence ELSE '' END)
                AS callback_id)
            FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY base
                    ORDER BY reached DESC NULLS LAST, overall_score DESC NULLS LAST, comment NULLS LAST, pos
                ) AS occurrence
                FROM based
            )
        )"""  # noqa: S608 - see module docstring
    # One pass types every row and sets its problem bits; only the columns that land come back.
    rows = con.sql(
        f"""SELECT pos, source_row, id_day_only, {canonical}, {"".join(f"{c}, " for c in as_written)}
                   {_bits(problems)} AS problems, {_bits(note_kinds)} AS notes
        FROM (SELECT *{with_defaults} FROM (SELECT *{out_of_range} FROM ({typed})))""",  # noqa: S608 - see module docstring
    ).to_arrow_table()
    order = rows.column("pos").to_numpy()
    if len(order) > 1 and not (np.diff(order) > 0).all():
        rows = rows.take(np.argsort(order, kind="stable"))
    # Each row ends in one state: rejected (problems), an exact duplicate of a later row, landed,
    # or repeating the key of a later row (rejected too: "duplicate key", the last problem).
    problems.append(Problem("", columns.get(key), DUPLICATE_KEY))
    # A work order whose number a later row of another store gives another car or day: two stores
    # numbering alike, named as such (as ``load`` names such an order already stored).
    problems.append(
        Problem("", columns.get(key), OTHER_STORE_IN_FILE if key == "order_id" else OTHER_STORE_CALL_IN_FILE)
    )
    n = rows.num_rows
    problem_bits = _notes_and_dressed_totals(raw, rows, rows.column("problems").to_numpy())
    valid_at = np.flatnonzero(problem_bits == 0)
    keys = rows.column(key).take(valid_at)
    if keys.null_count == 0 and pc.count_distinct(keys).as_py() == len(valid_at):
        # Every accepted row has a key of its own: no row repeats another (an exact duplicate
        # repeats its key too) and no callback needs an id; every accepted row lands.
        state = np.full(n, REJECTED, dtype=np.int8)
        state[valid_at] = LANDED
        table = rows.take(valid_at).select(["source_row", "pos", *fields])
    else:
        state, table = _states(con, rows, fields, canonical, key, ids, numbered, registered)
    landed_at = np.flatnonzero(state == LANDED)
    flagged_at = np.flatnonzero((state == REJECTED) | (state == REPEATED))
    repeated_bit = np.where(_other_stores(rows, table, key, state[flagged_at] == REPEATED, flagged_at), 2, 1)
    bits = np.where(
        state[flagged_at] == REPEATED, repeated_bit << (len(problems) - 2), problem_bits[flagged_at]
    )
    note_bits = rows.column("notes").to_numpy()
    noted_at = landed_at[note_bits[landed_at] != 0]
    if SOURCE_SHEET in raw.rows:
        codes, sheet_names = pd.factorize(raw.rows[SOURCE_SHEET].astype("str"))
    else:
        codes, sheet_names = np.zeros(n, dtype=np.int64), pd.Index([""])
    landed_by: dict[str, int] = {}
    duplicates_by: dict[str, int] = {}
    for code, sheet in enumerate(sheet_names):
        in_sheet = codes == code
        landed_by[str(sheet)] = int(np.count_nonzero(in_sheet & (state == LANDED)))
        duplicates_by[str(sheet)] = int(np.count_nonzero(in_sheet & (state == DUPLICATE)))
    return Staged(
        table=table,
        rejects=_unpack(flagged_at, bits),
        notes=_unpack(noted_at, note_bits[noted_at]),
        problems=problems,
        note_kinds=note_kinds,
        scales=scales,
        duplicates=int(np.count_nonzero(state == DUPLICATE)),
        landed=landed_by,
        duplicates_by_sheet=duplicates_by,
    )


# The day that, with the car, tells one store's order (or call) from another's with the same number.
_DAY_OF = {"order_id": "visit_date", "callback_id": "callback_date"}


def _other_stores(
    rows: pa.Table, landed: pa.Table, key: str, repeated: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """Return, for the rows at ``at`` (``repeated``: those whose key a later row repeats), where the
    row is another store's order than the one that lands with its number: another store, and another
    car or day (a store renamed, or a VIN corrected, is the same order)."""
    found = np.zeros(len(at), dtype=bool)
    if not repeated.any() or "store" not in landed.column_names or key not in _DAY_OF:
        return found
    day = _DAY_OF[key]
    parts = [name for name in (key, "store", "vin", day) if name in landed.column_names]
    earlier = rows.take(at[repeated]).select(parts).to_pandas()
    later = landed.select(parts).to_pandas().drop_duplicates(key)
    if day in parts:
        # A call's day, not its time: the same call exported with and without its time of day.
        earlier[day] = pd.to_datetime(earlier[day]).dt.normalize()
        later[day] = pd.to_datetime(later[day]).dt.normalize()
    pair = earlier.merge(later, on=key, how="left", suffixes=("", "_later"))

    def differ(name: str) -> pd.Series:
        return (
            pair[name].notna() & pair[name + "_later"].notna() & (pair[name] != pair[name + "_later"])
        ).astype(bool)

    elsewhere = [differ(name) for name in ("vin", day) if name in parts]
    if elsewhere:
        found[repeated] = (differ("store") & np.logical_or.reduce(elsewhere)).to_numpy()
    return found


# A total word with what it counts after it (合计：4单, 总金额：400元, 共计3台) or a group's subtotal
# (2026-09-02 小计; Excel's 分类汇总 writes 李娜 汇总, 总计, and in English 李娜 Total, Grand Total),
# spaces left out; a count of the records under the table (共2条记录, 共 15 条, 记录数：2, 总条数: 2).
_TOTAL_DRESSED = re.compile(
    r"^(?:合计|总计|小计|共计|汇总|总金额|总额|合計|總計|total)(?:[:：].*|\d.*)$"
    r"|^.+(?:小计|合计|总计|汇总|小計|合計|總計|彙總|匯總|total)$"
    r"|^共\d+(?:条|笔|单|行|项)(?:记录|数据)?$|^(?:总?记录数|总条数|总行数|条数)[:：]?\d+(?:条)?$",
    re.IGNORECASE,
)


def _total_label(cell: object) -> bool:
    """Return whether a cell is a total word dressed as reports write it: "合计：", "合 计", "总计（25单）",
    "合计：4单", "总金额：400元", "2026-09-02 小计", "李娜 汇总", "李娜 Total", "Grand Total"."""
    if not isinstance(cell, str):
        return False
    bare = "".join(cell.split())
    text = _TOTAL_COUNT.sub("", bare).rstrip(":：")
    return text in TOTAL_WORDS or bool(_TOTAL_DRESSED.match(bare))


def _note(row: np.ndarray) -> bool:
    """Return whether a row's filled cells are all notes written under a report (备注：..., 制表人：...;
    a printed report's footer: 打印人：张三 … 打印时间：2024-04-01)."""
    filled = [cell for cell in row if isinstance(cell, str) and cell.strip()]
    return bool(filled) and all(_NOTE.match(cell.strip()) is not None for cell in filled)


# The number read.py puts after a header that repeats another: "备注 (2)".
_DEDUPED = re.compile(r" \(\d+\)$")


def _folded(cell: object) -> str:
    """Return a cell as headers are compared: without spaces or a BOM, case folded."""
    return "".join(cell.replace("\ufeff", "").split()).casefold() if isinstance(cell, str) else ""


def _header_fields(headers: list[str]) -> list[str | None]:
    """Return the field each header names (a header made unique, "备注 (2)", as 备注), or None."""
    return [hit[0] if (hit := match_header(_DEDUPED.sub("", h))) is not None else None for h in headers]


def _repeated_header(row: np.ndarray, headers: list[str], fields: list[str | None]) -> bool:
    """Return whether a row writes the header again, in the file's language or in the other one of
    a two-language export (RO No. under 工单号): at least two cells, and most of those filled, are
    their own column's header (a header made unique, "备注 (2)", counts as 备注), or name the field
    it names (``fields``: ``_header_fields``)."""
    same = filled = 0
    for cell, header, named in zip(row, headers, fields, strict=True):
        folded = _folded(cell)
        if not folded:
            continue
        filled += 1
        if folded in (_folded(header), _folded(_DEDUPED.sub("", header))):
            same += 1
        elif named is not None and (hit := match_header(str(cell))) is not None and hit[0] == named:
            same += 1
    return same >= 2 and 2 * same > filled


def _notes_and_dressed_totals(raw: RawTable, rows: pa.Table, bits: np.ndarray) -> np.ndarray:
    """Return the rows' problem bits, for rows rejected anyway: with the total bit (problem 0) set
    where a cell holds a dressed total word (the exact words were found before typing, in every
    row), the note bit (problem 1) alone where the row's cells are notes under the table, and
    the header bit (problem 2) alone where the row repeats the header."""
    suspects = np.flatnonzero((bits != 0) & (bits & 1 == 0))
    if not len(suspects):
        return bits
    positions = rows.column("pos").to_numpy()[suspects]
    cells = raw.rows[raw.headers].iloc[positions].to_numpy(dtype=object)
    dressed = np.array([any(_total_label(cell) for cell in row) for row in cells], dtype=bool)
    notes = np.array([_note(row) for row in cells], dtype=bool) & ~dressed
    fields = _header_fields(raw.headers)
    headers = np.array([_repeated_header(row, raw.headers, fields) for row in cells], dtype=bool)
    headers &= ~dressed & ~notes
    if not dressed.any() and not notes.any() and not headers.any():
        return bits
    bits = bits.copy()
    bits[suspects[dressed]] |= 1
    bits[suspects[notes]] = 2
    bits[suspects[headers]] = 4
    return bits


REJECTED, DUPLICATE, LANDED, REPEATED = 0, 1, 2, 3


def _states(
    con: duckdb.DuckDBPyConnection,
    rows: pa.Table,
    fields: tuple[str, ...],
    canonical: str,
    key: str,
    ids: str,
    numbered: str,
    registered: list[str],
) -> tuple[np.ndarray, pa.Table]:
    """Return each row's state (by position) and the landed rows, when some accepted rows share a
    key or have none: exact duplicates are compared in full only among rows whose hash another row
    shares, callbacks without an id are numbered, and a key a later row repeats is rejected."""
    con.register("stage_rows", rows)
    registered.append("stage_rows")
    states = con.sql(
        f"""WITH valid AS (SELECT *, hash({canonical}) AS twin FROM stage_rows WHERE problems = 0),
        twins AS (SELECT twin FROM valid GROUP BY twin HAVING count(*) > 1),
        duplicates AS (
            SELECT pos FROM (
                SELECT pos, row_number() OVER (PARTITION BY {canonical} ORDER BY pos DESC) AS later
                FROM valid WHERE twin IN (SELECT twin FROM twins)
            ) WHERE later > 1
        ),
        unique_rows AS (SELECT * EXCLUDE (twin) FROM valid WHERE pos NOT IN (SELECT pos FROM duplicates))
        {ids}
        SELECT pos, {_ident(key)},
               row_number() OVER (PARTITION BY {_ident(key)} ORDER BY pos DESC) > 1 AS repeated
        FROM {numbered}
        UNION ALL BY NAME
        SELECT pos, NULL AS {_ident(key)}, NULL AS repeated FROM duplicates
        ORDER BY pos""",  # noqa: S608 - see module docstring
    ).to_arrow_table()
    # Positions are row numbers: a state's row is found by its position.
    state = np.full(rows.num_rows, REJECTED, dtype=np.int8)
    at = states.column("pos").to_numpy()
    repeated = states.column("repeated").to_numpy(zero_copy_only=False)
    state[at] = np.where(repeated == True, REPEATED, np.where(repeated == False, LANDED, DUPLICATE))  # noqa: E712 - nulls
    table = rows.take(np.flatnonzero(state == LANDED)).select(["source_row", "pos", *fields])
    if key == "callback_id":
        # The numbered ids, in the same (position) order as the landed rows.
        ids_of_landed = states.filter(pc.equal(states.column("repeated"), False)).column(key)
        table = table.set_column(table.schema.get_field_index(key), key, ids_of_landed)
    return state, table


def _problems(
    kind: str, columns: dict[str, str], mapped: list[str], scales: dict[str, str]
) -> tuple[list[Problem], list[Problem]]:
    """Return the problems that reject a row and those that blank a cell (an unreadable optional
    value), in order."""
    # The note row is told in Python (_notes_and_dressed_totals), never by SQL.
    problems = [
        Problem("total", None, TOTAL_ROW_REASON),
        Problem("false", None, NOTE_ROW),
        Problem("false", None, HEADER_ROW),
        Problem("overfull", None, OVERFULL_ROW),
    ]
    if kind == "service":
        problems += [
            Problem("order_id IS NULL", columns["order_id"], "missing work-order number"),
            Problem("visit_date IS NULL AND NOT bad_visit_date", columns["visit_date"], "missing visit date"),
        ]
    else:
        tie = "/".join(columns[f] for f in ("order_id", "vin") if f in columns)
        problems += [
            Problem(
                "callback_date IS NULL AND NOT bad_callback_date",
                columns["callback_date"],
                "missing callback date",
            ),
            Problem(
                "order_id IS NULL AND vin IS NULL AND NOT bad_vin",
                tie,
                "missing both work-order number and VIN",
            ),
            # A masked VIN names no car: a call with nothing else to tie it to is rejected, as one
            # with neither number is (a call with its work order lands, its VIN blank with a note).
            Problem("order_id IS NULL AND bad_vin", tie, VIN_MASKED_ALONE),
        ]
    notes: list[Problem] = []
    for f in mapped:
        header = columns[f]
        field_type = FIELD_TYPES[f]
        if field_type in _TEXT_TYPES:
            problems.append(
                Problem(_ident("long_" + f), header, f"text longer than {max_chars(f):,} characters")
            )
        if field_type == "key":
            problems.append(
                Problem(
                    f"regexp_full_match({_ident(f)}, '{values.SCIENTIFIC}')", header, values.SCIENTIFIC_KEY
                )
            )
        if field_type == "score":
            # A score is optional: the call, its comment and its complaint are the archive, so the
            # row lands with this score blank and the reason kept.
            notes.append(
                Problem(
                    _ident("bad_" + f), header, f"score not readable on the {scales[f]} scale, left blank", f
                )
            )
        elif RULES[field_type].can_fail and f in REQUIRED_COLUMNS[kind]:
            problems.append(Problem(_ident("bad_" + f), header, REASONS[field_type]))
        elif RULES[field_type].can_fail:
            # So is every other optional value: a purchase date, an odometer reading, an amount, a
            # yes/no answer, whether a call got through ("A级", "处理中", "短信回访", "100,50") must
            # not lose the visit or the call; the row lands with this cell blank, the reason kept.
            notes.append(Problem(_ident("bad_" + f), header, BLANKED[field_type], f))
        if f in NUMBER_RANGES:
            low, high = NUMBER_RANGES[f]
            notes.append(
                Problem(
                    _ident("out_" + f), header, f"number outside {low:,.0f} to {high:,.0f}, left blank", f
                )
            )
    return problems, notes


def _bits(kinds: list[Problem]) -> str:
    """Return the SQL of a row's problems as a bit set (bit i: ``kinds[i]`` holds)."""
    if len(kinds) > 62:
        raise ValueError("more kinds of problem than bits in a BIGINT")
    terms = [
        f"CASE WHEN coalesce({p.condition}, false) THEN {1 << i} ELSE 0 END" for i, p in enumerate(kinds)
    ]
    return "CAST(" + (" + ".join(terms) or "0") + " AS BIGINT)"


def _unpack(positions: np.ndarray, bit_sets: np.ndarray) -> pd.DataFrame:
    """Return (pos, problem) rows, in position then problem order, from positions and bit sets."""
    pos_out: list[int] = []
    numbers: list[int] = []
    for pos, bits in zip(positions.tolist(), bit_sets.tolist(), strict=True):
        number = 0
        while bits:
            if bits & 1:
                pos_out.append(int(pos))
                numbers.append(number)
            bits >>= 1
            number += 1
    return pd.DataFrame(
        {"pos": np.array(pos_out, dtype=np.int64), "problem": np.array(numbers, dtype=np.int64)}
    )


# The "scale" of a number column written with a decimal comma (1.234,50): it is read so.
DECIMAL_COMMA = "decimal comma"
_NUMBER_TYPES = frozenset({"number", "integer"})


def _distinct_values(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    """Return the distinct values of a raw column."""
    query = f"SELECT list(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL) FROM stage_raw"  # noqa: S608 - see module docstring
    return list(con.execute(query).fetchall()[0][0] or [])


def _decimal_comma_parse(field_type: str) -> Callable[[pd.Series], Parsed]:
    """Return the parser of a number column written with a decimal comma."""

    def parse(u: pd.Series) -> Parsed:
        if field_type == "integer":
            return values.parse_integers(u, decimal_comma=True)
        return values.parse_numbers(u, decimal_comma=True)

    return parse


# Fields whose cells are read with words of their own as well: a recommend question's answers
# (非常愿意 ... 非常不愿意, values.RECOMMEND_LABEL_SCORES) and a yes/no field's subject (投诉 under 是否投诉,
# values.BOOLEAN_SUBJECTS).
_OWN_WORDS = frozenset({"recommend_score", *values.BOOLEAN_SUBJECTS})


def _score_scale(distinct: list[str], field_name: str) -> str:
    """Return the scale of a score column, decided from all the column's (distinct) values."""
    # The scale parse_scores would decide, without scoring every value once more to learn it.
    labels = values.score_labels(field_name)
    return values.detect_scale(values.clean_typed(pd.Series(distinct, dtype="str")), labels)


def _score_parse(scale: str, field_name: str) -> Callable[[pd.Series], Parsed]:
    """Return the parser of score values on the scale (with the words of ``field_name``'s answers)."""
    labels = values.score_labels(field_name)

    def parse(u: pd.Series) -> Parsed:
        parsed, bad, _ = values.parse_scores(u, scale, labels)
        return parsed, bad

    return parse


def _boolean_parse(field_name: str) -> Callable[[pd.Series], Parsed]:
    """Return the parser of a yes/no field's cells, its subject word (投诉) among its yes words."""
    subject = values.BOOLEAN_SUBJECTS[field_name]

    def parse(u: pd.Series) -> Parsed:
        return values.parse_booleans(u, subject)

    return parse


DUPLICATE_KEY = "duplicate key in file, later row kept"
# The reason given to a work order whose number a later row of the file gives another store's order.
OTHER_STORE_IN_FILE = (
    "work-order number given further down the file to another store's order (another car or day); "
    "stores that number their orders alike need each store's prefix on its numbers"
)
# The reason given to a work order whose number is stored as another store's order (load.py).
OTHER_STORE_ORDER = (
    "work-order number already stored for another store's order (another car or day); "
    "stores that number their orders alike need each store's prefix on its numbers"
)
# The same two reasons given to a callback.
OTHER_STORE_CALL_IN_FILE = (
    "callback number given further down the file to another store's call (another car or day); "
    "stores that number their calls alike need each store's prefix on its numbers"
)
OTHER_STORE_CALL = (
    "callback number already stored for another store's call (another car or day); "
    "stores that number their calls alike need each store's prefix on its numbers"
)
# The note of an optional value that cannot be read: the row lands with the cell blank.
BLANKED: dict[str, str] = {
    "date": "date not readable, left blank",
    "datetime": "date or time not readable, left blank",
    "number": "number not readable, left blank",
    "integer": "number not readable, left blank",
    "boolean": "yes/no value not readable, left blank",
    "reached": "reached value not readable (接通/未接通 expected), left blank",
    "level": "complaint level not readable (1-4 expected), left blank",
    # A masked cell (values.masked_phones, values.masked_text) says nothing of the value.
    "phone": "phone number masked in the export, left blank",
    "name": "customer name masked in the export, left blank",
    "plate": "plate masked in the export, left blank",
    "vin": "VIN masked in the export, left blank",
}
# The reason a call whose VIN is masked and which has no work-order number is rejected with.
VIN_MASKED_ALONE = "VIN masked in the export and no work-order number: the call names no car"
# How a note ends when its row is new (or stored without a value there), and when an update kept the
# value stored before: an unreadable cell says nothing of the field.
LEFT_BLANK = ", left blank"
STORED_KEPT = ", stored value kept"


def kept_reason(reason: str) -> str:
    """Return a note's reason ("number not readable, left blank") as said of a cell whose stored value
    the update kept ("number not readable, stored value kept")."""
    return reason.removesuffix(LEFT_BLANK) + STORED_KEPT if reason.endswith(LEFT_BLANK) else reason


# The reason a required value (the visit's or the call's date) that cannot be read rejects its row.
REASONS: dict[str, str] = {
    "date": "unreadable date",
    "datetime": "unreadable date or time",
    "number": "unreadable number",
    "integer": "unreadable number",
    "boolean": "unreadable yes/no value",
    "reached": "unreadable reached value (接通/未接通 expected)",
    "level": "unreadable complaint level (1-4 expected)",
}


# A reason as the interface says it: rejected_rows keeps the English sentence; the Data page shows it
# in the reader's language (its validation report wrote "unreadable date" in the Chinese interface).
_REASON_KEYS: dict[str, str] = {
    TOTAL_ROW_REASON: "total_row",
    NOTE_ROW: "note_row",
    HEADER_ROW: "header_row",
    OVERFULL_ROW: "overfull_row",
    "missing work-order number": "missing_order_id",
    "missing visit date": "missing_visit_date",
    "missing callback date": "missing_callback_date",
    "missing both work-order number and VIN": "missing_order_and_vin",
    VIN_MASKED_ALONE: "vin_masked_alone",
    values.SCIENTIFIC_KEY: "scientific_key",
    DUPLICATE_KEY: "duplicate_key",
    OTHER_STORE_IN_FILE: "other_store_in_file",
    REASONS["date"]: "unreadable_date",
    REASONS["datetime"]: "unreadable_datetime",
    REASONS["number"]: "unreadable_number",
    REASONS["boolean"]: "unreadable_boolean",
    REASONS["reached"]: "unreadable_reached",
    REASONS["level"]: "unreadable_level",
    BLANKED["date"]: "blank_date",
    BLANKED["datetime"]: "blank_datetime",
    BLANKED["number"]: "blank_number",
    BLANKED["boolean"]: "blank_boolean",
    BLANKED["reached"]: "blank_reached",
    BLANKED["level"]: "blank_level",
    BLANKED["phone"]: "masked_phone",
    BLANKED["name"]: "masked_name",
    BLANKED["plate"]: "masked_plate",
    BLANKED["vin"]: "masked_vin",
    OTHER_STORE_ORDER: "other_store_order",
    OTHER_STORE_CALL_IN_FILE: "other_store_call_in_file",
    OTHER_STORE_CALL: "other_store_call",
}
_REASON_PATTERNS = (
    (re.compile(r"text longer than (?P<n>[\d,]+) characters"), "too_long"),
    (re.compile(r"score not readable on the (?P<scale>.+) scale, left blank"), "blank_score"),
    (re.compile(r"number outside (?P<low>[\d,.-]+) to (?P<high>[\d,.-]+), left blank"), "out_of_range_blank"),
    (re.compile(r"number outside (?P<low>[\d,.-]+) to (?P<high>[\d,.-]+)"), "out_of_range"),
)


def reason_words(reason: str, lang: str) -> str:
    """Return a reject or note reason written by this module in ``lang`` (any other text as it is)."""
    if reason.endswith(STORED_KEPT):
        # Said as the note of a blank cell is, with the ending that says the stored value was kept.
        blank = reason_words(reason.removesuffix(STORED_KEPT) + LEFT_BLANK, lang)
        ending = i18n.text("import_reason.left_blank_ending", lang)
        if blank.endswith(ending):
            return blank.removesuffix(ending) + i18n.text("import_reason.stored_kept_ending", lang)
        return reason
    key = _REASON_KEYS.get(reason)
    if key is not None:
        return i18n.text(f"import_reason.{key}", lang)
    for pattern, name in _REASON_PATTERNS:
        found = pattern.fullmatch(reason)
        if found:
            return i18n.text(f"import_reason.{name}", lang, **found.groupdict())
    return reason
