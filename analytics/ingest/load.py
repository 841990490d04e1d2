"""Raw table -> staged canonical rows -> validated -> diffed against the store -> one transaction.

Layers (STYLE.md): the raw file (read.py) is renamed and typed here into a staged frame with one
row per source row; rows that cannot be read are set aside with their reason; the rest are
compared with the stored rows by key (analytics/store/sql/ingest_*_plan.sql) and written with their
history in a single transaction, so an import lands whole or not at all and can be rolled back.

Choices: two rows with the same key but different content in one file -> the later row wins,
the earlier is rejected ("duplicate key in file, later row kept"). A column the file does not
have keeps the stored value when a row is updated. The data version is bumped (and derived
tables rebuilt) only when an import or rollback changes stored rows.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.core.errors import ImportRefused, UserError
from analytics.domain import themes
from analytics.ingest import read, stage, values
from analytics.ingest.mapping import (
    FIELDS_BY_KIND,
    KIND_LABELS,
    KINDS,
    REQUIRED_COLUMNS,
    SCORE_FIELDS,
    aliases,
    ambiguous_fields,
    attempt_columns,
    auto_mapping,
    both_kinds,
    detect_kind,
    guess_mapping,
    header_note,
    header_scales,
    match_header,
    matched_fields,
    plausible_kind,
    resolve_header,
    time_columns,
    validate_mapping,
)
from analytics.ingest.read import SOURCE_ROW, SOURCE_SHEET, RawTable, read_table
from analytics.ingest.refusal_words import field_words, kind_words, sheet_reason_words
from analytics.ingest.stage import KEYS, TOTAL_ROW_REASON
from analytics.ingest.values import (
    HEADER_UNIT_FIELDS,
    answered_by_message,
    clean_typed,
    detect_scale,
    header_unit,
    in_header_unit,
    with_time_of_day,
)
from analytics.store import db, derived

SQL_DIR = Path(__file__).resolve().parents[1] / "store" / "sql"

TABLES: dict[str, str] = {"service": "service_orders", "callback": "callbacks"}

# Fixed statements per kind; history tables repeat the canonical columns and import_id in the
# table's own order, then replaced_by.
_HISTORY = {
    "service": (
        "INSERT INTO service_orders_history SELECT t.*, $import_id FROM service_orders AS t "
        "JOIN ingest_final AS f ON f.order_id = t.order_id WHERE f.action = 'update'"
    ),
    "callback": (
        "INSERT INTO callbacks_history SELECT t.*, $import_id FROM callbacks AS t "
        "JOIN ingest_final AS f ON f.callback_id = t.callback_id WHERE f.action = 'update'"
    ),
}
_DELETE_REWRITTEN = {
    "service": "DELETE FROM service_orders WHERE order_id IN "
    "(SELECT order_id FROM ingest_final WHERE action = 'update')",
    "callback": "DELETE FROM callbacks WHERE callback_id IN "
    "(SELECT callback_id FROM ingest_final WHERE action = 'update')",
}
_DELETE_WRITTEN_BY = {
    "service": "DELETE FROM service_orders WHERE import_id = $import_id",
    "callback": "DELETE FROM callbacks WHERE import_id = $import_id",
}
_COUNT_WRITTEN_BY = {
    "service": "SELECT count(*) FROM service_orders WHERE import_id = $import_id",
    "callback": "SELECT count(*) FROM callbacks WHERE import_id = $import_id",
}
_COUNT_REPLACED_BY = {
    "service": "SELECT count(*) FROM service_orders_history WHERE replaced_by = $import_id",
    "callback": "SELECT count(*) FROM callbacks_history WHERE replaced_by = $import_id",
}
_DELETE_HISTORY = {
    "service": "DELETE FROM service_orders_history WHERE replaced_by = $import_id",
    "callback": "DELETE FROM callbacks_history WHERE replaced_by = $import_id",
}

# What an import wrote or replaced (as the tables stand after it, before a rollback of it): the SQL
# marts recompute what depends on those vehicles, orders and callbacks (store.derived). A callback
# belongs to its own vin, else its order's; the number it gives is recorded as an order, so the
# refresh also recomputes what a link by that number's key moves (mart_refresh_links.sql).
_CHANGED = {
    "service": (
        "SELECT vin, order_id, NULL AS callback_id FROM service_orders WHERE import_id = $import_id "
        "UNION ALL SELECT vin, order_id, NULL FROM service_orders_history WHERE replaced_by = $import_id"
    ),
    "callback": (
        "SELECT coalesce(c.vin, o.vin) AS vin, c.order_id, c.callback_id FROM callbacks AS c "
        "LEFT JOIN service_orders AS o ON o.order_id = c.order_id WHERE c.import_id = $import_id "
        "UNION ALL SELECT coalesce(h.vin, o.vin), h.order_id, h.callback_id FROM callbacks_history AS h "
        "LEFT JOIN service_orders AS o ON o.order_id = h.order_id WHERE h.replaced_by = $import_id"
    ),
}

# The keys of the rows an import found as stored (``_write``), and at a rollback the rows the
# rolled-back import wrote that a later import still in force holds, each with its latest holder,
# handed over to it (``_hand_over``).
_HELD_BY = {
    "service": "INSERT INTO import_held SELECT $import_id, order_id FROM ingest_final WHERE action = 'unchanged'",
    "callback": "INSERT INTO import_held SELECT $import_id, callback_id FROM ingest_final WHERE action = 'unchanged'",
}
_HELD_ROWS = {
    "service": (
        "CREATE OR REPLACE TEMP TABLE rollback_held AS "
        "SELECT h.row_key, max(h.import_id) AS holder FROM import_held AS h "
        "JOIN imports AS i ON i.import_id = h.import_id AND i.status = 'done' AND i.kind = 'service' "
        "WHERE h.import_id > $import_id "
        "AND h.row_key IN (SELECT order_id FROM service_orders WHERE import_id = $import_id) GROUP BY h.row_key"
    ),
    "callback": (
        "CREATE OR REPLACE TEMP TABLE rollback_held AS "
        "SELECT h.row_key, max(h.import_id) AS holder FROM import_held AS h "
        "JOIN imports AS i ON i.import_id = h.import_id AND i.status = 'done' AND i.kind = 'callback' "
        "WHERE h.import_id > $import_id "
        "AND h.row_key IN (SELECT callback_id FROM callbacks WHERE import_id = $import_id) GROUP BY h.row_key"
    ),
}
_HAND_OVER = {
    "service": (
        "UPDATE service_orders SET import_id = r.holder FROM rollback_held AS r "
        "WHERE service_orders.order_id = r.row_key AND service_orders.import_id = $import_id",
        "UPDATE service_orders_history SET replaced_by = r.holder FROM rollback_held AS r "
        "WHERE service_orders_history.order_id = r.row_key AND service_orders_history.replaced_by = $import_id",
    ),
    "callback": (
        "UPDATE callbacks SET import_id = r.holder FROM rollback_held AS r "
        "WHERE callbacks.callback_id = r.row_key AND callbacks.import_id = $import_id",
        "UPDATE callbacks_history SET replaced_by = r.holder FROM rollback_held AS r "
        "WHERE callbacks_history.callback_id = r.row_key AND callbacks_history.replaced_by = $import_id",
    ),
}

# The rows as they would stand after the import, of the rows already stored that have a cell the
# file could not read (``_say_kept``).
_STORED_NOTED = {
    "service": (
        "SELECT f.* FROM ingest_final AS f JOIN ingest_noted AS n ON n.key = f.order_id "
        "WHERE f.action <> 'insert'"
    ),
    "callback": (
        "SELECT f.* FROM ingest_final AS f JOIN ingest_noted AS n ON n.key = f.callback_id "
        "WHERE f.action <> 'insert'"
    ),
}
_REPEATED_KEYS = {
    "service": (
        "SELECT count(*) - count(DISTINCT order_id) FROM service_orders "
        "WHERE order_id IN (SELECT order_id FROM ingest_final)"
    ),
    "callback": (
        "SELECT count(*) - count(DISTINCT callback_id) FROM callbacks "
        "WHERE callback_id IN (SELECT callback_id FROM ingest_final)"
    ),
}

# Rejected rows keep their raw cells for the report, each cut to this length.
RAW_CELL_CHARS = 500


@cache
def _sql(name: str) -> str:
    """Return the text of analytics/store/sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@dataclass
class ImportPlan:
    """What an import of one file would do: typed rows, rejects and counts (nothing written)."""

    kind: str
    mapping: dict[str, str]
    # The accepted rows, typed (source_row and the canonical columns), as staging gave them.
    typed: pa.Table
    rejects: pd.DataFrame
    to_insert: int
    to_update: int
    unchanged: int
    duplicates_in_file: int
    scales: dict[str, str]
    rows_read: int
    file_name: str = ""
    rejected: int = 0
    supplied: tuple[str, ...] = ()
    # Cells that could not be read in a column the row can do without (a score): the row lands
    # with the cell blank, and the reason is kept like a rejection's.
    notes: pd.DataFrame = field(default_factory=pd.DataFrame)
    # For each row of ``notes``: the file position of its row and the field of its cell.
    noted: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Columns of the file that feed no field, and the fields guessed from a column's values.
    unmapped: tuple[str, ...] = ()
    guessed: dict[str, str] = field(default_factory=dict)
    # One entry per sheet: rows (blank ones included), landed, rejected, skipped, reason.
    sheets: list[dict[str, Any]] = field(default_factory=list)
    # Score fields read on 1-5 (or labels) from the file's values, and how many of their answers are
    # a 0, which such a survey writes for "not rated" and which lands blank (a 0-10 file whose answers
    # all fall within 0-5 reads so too: the count lets its reader see it and give the scale).
    unrated_zeros: dict[str, int] = field(default_factory=dict)
    # Per type field (service_type, callback_type): the cells that name no type the import knows
    # (PM before its code was known), read as other, and how many rows hold each, most first.
    unrecognised: dict[str, dict[str, int]] = field(default_factory=dict)
    # After ``plan_import``: the accepted rows as they would stand after the import, with the
    # action that writes each (insert, update, unchanged).
    staged: pd.DataFrame = field(default_factory=pd.DataFrame)

    def mapping_document(self) -> dict[str, Any]:
        """Return the mapping in the saved-file form: {kind, columns, scales}."""
        return {"kind": self.kind, "columns": dict(self.mapping), "scales": dict(self.scales)}


@dataclass
class ImportResult:
    """The outcome of one imported file, as logged in the imports table."""

    import_id: int
    file_name: str
    kind: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    reasons: list[str]
    seconds: float
    duplicates_in_file: int = 0
    mapping: dict[str, Any] = field(default_factory=dict)
    blanked: int = 0
    notes: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    guessed: dict[str, str] = field(default_factory=dict)
    sheets: list[dict[str, Any]] = field(default_factory=list)
    unrated_zeros: dict[str, int] = field(default_factory=dict)
    unrecognised: dict[str, dict[str, int]] = field(default_factory=dict)


def _alias_examples(field_name: str, lang: str = "en") -> str:
    names = [a for a in aliases()[field_name][1:4]]
    if len(names) < 2:
        return names[0]
    return (
        ", ".join(names[:-1]) + f" or {names[-1]}"
        if lang == "en"
        else "、".join(names[:-1]) + f" 或 {names[-1]}"
    )


def _decide_kind(raw: RawTable, kind: str | None, user: dict[str, Any]) -> str:
    if kind is not None and kind not in KINDS:
        raise ImportRefused(
            f"Unknown kind {kind!r}; use service or callback.",
            zh=f"未知的记录类型 {kind!r}；请使用 service（工单）或 callback（回访记录）。",
        )
    if kind and user["kind"] and kind != user["kind"]:
        raise ImportRefused(
            f"The mapping is for {KIND_LABELS[user['kind']]} but {raw.file_name} was to be imported as "
            f"{KIND_LABELS[kind]}; use a mapping made for {KIND_LABELS[kind]} or change the kind.",
            zh=f"该映射是为{kind_words(user['kind'])}制作的，但 {raw.file_name} 要作为{kind_words(kind)}导入；"
            f"请使用为{kind_words(kind)}制作的映射，或更改记录类型。",
        )
    detected = detect_kind(raw.headers)
    chosen = kind or user["kind"]
    mixed = both_kinds(raw.headers) if chosen is None and not user["columns"] else None
    if mixed is not None:
        # A callback export that repeats the visit (its type, advisor, amount) or a work-order
        # export that carries its callback's result: read as the wrong kind, it would rewrite the
        # other kind's records. Never guessed.
        raise ImportRefused(
            f"{raw.file_name} has the columns of both service orders ({', '.join(mixed['service'][:4])}) "
            f"and callbacks ({', '.join(mixed['callback'][:4])}); say which it is: --kind service or "
            "--kind callback on the command line, the kind on the Data page, or a saved mapping with a kind "
            "for the drop folder.",
            zh=f"{raw.file_name} 同时含有工单的列（{'、'.join(map(field_words, mixed['service'][:4]))}）和回访记录的列"
            f"（{'、'.join(map(field_words, mixed['callback'][:4]))}）；请指明是哪一种：命令行用 --kind service 或 --kind callback，"
            "在“数据”页选择记录类型，或为投放文件夹保存一个写明记录类型的映射。",
        )
    attempts = attempt_columns(raw.headers)
    if attempts and chosen != "service" and "callback_date" not in user["columns"]:
        # One row per work order with each callback attempt in columns: as work orders it would add
        # visits without their amounts; as calls, which attempt a row's answers belong to is not said.
        times = [h for h in attempts if not re.search(r"结果|状态|情况", h)] or attempts
        results = [h for h in attempts if h not in times] or attempts
        raise ImportRefused(
            f"{raw.file_name} has its callback attempts in columns ({', '.join(attempts[:4])}), one row per "
            "work order where callback records have one row per call, so which attempt each answer belongs "
            "to cannot be told; export the callback list with one row per call, or import one attempt as "
            f'the calls with --kind callback and a mapping (--map) naming its columns (callback_date = "{times[-1]}", '
            f'reached = "{results[-1]}"), or import the work orders alone with --kind service.',
            zh=f"{raw.file_name} 把每次回访放在不同的列中（{'、'.join(attempts[:4])}），每行是一张工单，而回访记录应每次"
            "回访一行，因此看不出每个回答属于哪一次回访；请按每次回访一行重新导出回访清单，或用 --kind callback 加映射"
            f'（--map）把其中一次作为回访导入（callback_date = "{times[-1]}"，reached = "{results[-1]}"），'
            "或用 --kind service 只导入其中的工单。",
        )
    chosen = chosen or detected
    known = [h for h in raw.headers if match_header(h) is not None]
    if chosen is None and known:
        # Some columns are known, but not those that say which records the file holds.
        raise ImportRefused(
            f"{raw.file_name} has columns recognised ({', '.join(known[:4])}) but neither a work-order "
            "number with a visit date (工单号 and 进厂日期) for service orders nor a callback date (回访日期) "
            "for callbacks; add the missing column or name it in a mapping (--map), or say which it is "
            "(--kind service or --kind callback) to be told what it lacks.",
            zh=f"{raw.file_name} 中有可识别的列（{'、'.join(known[:4])}），但既没有工单所需的工单号和进厂日期，"
            "也没有回访记录所需的回访日期；请补上缺少的列或在映射（--map）中指明，"
            "或指明记录类型（--kind service 或 --kind callback）以查看缺少哪些列。",
        )
    if chosen is None:
        raise ImportRefused(
            f"{raw.file_name} has no columns recognised as service orders or callbacks "
            "(such as 工单号 and 进厂日期, or 回访日期); check that it is a DMS export, "
            "or give a mapping (--map) that names its columns.",
            zh=f"{raw.file_name} 中没有可识别为工单或回访记录的列（例如 工单号 和 进厂日期，或 回访日期）；"
            "请确认这是从 DMS 导出的文件，或提供一个写明各列含义的映射（--map）。",
        )
    # A kind asked for is taken when the file can hold it (its key and another field of it): a
    # callback export repeating the visit's columns is imported as callbacks when asked.
    if (
        not user["columns"]
        and detected is not None
        and detected != chosen
        and not plausible_kind(raw.headers, chosen)
    ):
        own = set(FIELDS_BY_KIND[detected]) - set(FIELDS_BY_KIND[chosen])
        hints = [h for h in raw.headers if (f := matched_fields([h])) and f <= own][:3]
        asked = set(FIELDS_BY_KIND[chosen]) - set(FIELDS_BY_KIND[detected])
        held = [h for h in raw.headers if (f := matched_fields([h], chosen)) and f <= asked][:3]
        found = matched_fields(raw.headers, chosen)
        lacking = [f for f in REQUIRED_COLUMNS[chosen] if f not in found]
        if held and lacking:
            # Columns of the kind asked for are there (满意度, 客户意见); what it lacks is said first.
            raise ImportRefused(
                f"{raw.file_name} has {', '.join(held)} but no {_KEY_WORDS[lacking[0]]} column "
                f"({_alias_examples(lacking[0])}) to key {KIND_LABELS[chosen]} on, and looks like a {detected} "
                f"file (it has {', '.join(hints)} columns); name that column in a mapping (--map), or import it "
                f"as {KIND_LABELS[detected]} (--kind {detected}).",
                zh=f"{raw.file_name} 中有 {'、'.join(held)}，但没有{field_words(lacking[0])}列"
                f"（{_alias_examples(lacking[0], 'zh')}），无法据此识别{kind_words(chosen)}，而且看起来是"
                f"{kind_words(detected)}文件（含有 {'、'.join(hints)} 列）；请在映射中指定该列（--map），"
                f"或作为{kind_words(detected)}导入（--kind {detected}）。",
            )
        raise ImportRefused(
            f"{raw.file_name} looks like a {detected} file (it has {', '.join(hints)} columns), "
            f"not {KIND_LABELS[chosen]}; import it as {KIND_LABELS[detected]} (--kind {detected}).",
            zh=f"{raw.file_name} 看起来是{kind_words(detected)}文件（含有 {'、'.join(hints)} 列），不是"
            f"{kind_words(chosen)}；请作为{kind_words(detected)}导入（--kind {detected}）。",
        )
    return chosen


def _empty_column(raw: RawTable, header: str) -> bool:
    """Return whether a column holds no value at all (blanks and placeholders only): its first rows
    decide for nearly every column, so a file's columns are not all cleaned twice."""
    column = raw.rows[header]
    if not len(column) or clean_typed(column.iloc[:64]).notna().any():
        return False
    return bool(clean_typed(column).isna().all())


def _filled_first(raw: RawTable, columns: dict[str, str]) -> dict[str, str]:
    """Return the alias mapping with a field whose chosen column is empty taken from another column
    naming the same field that holds values (an empty 应收金额 beside a filled 费用合计; an empty
    进厂日期 beside a filled 开单时间)."""
    used = set(columns.values())
    out = dict(columns)
    for field_name, header in columns.items():
        if header not in raw.rows or not _empty_column(raw, header):
            continue
        others = [
            (hit[1], position, other)
            for position, other in enumerate(raw.headers)
            if other not in used
            and other in raw.rows
            and (hit := match_header(other)) is not None
            and hit[0] == field_name
            and not _empty_column(raw, other)
        ]
        if others:
            replacement = min(others)[2]
            out[field_name] = replacement
            used.discard(header)
            used.add(replacement)
    return out


def _effective_columns(
    raw: RawTable, kind: str, user: dict[str, Any], guess: bool = True
) -> tuple[dict[str, str], dict[str, str]]:
    """Return (field -> header used, field -> header guessed from values among them)."""
    columns = _filled_first(raw, auto_mapping(raw.headers, kind))
    for field_name, header in user["columns"].items():
        if field_name not in FIELDS_BY_KIND[kind]:
            raise ImportRefused(
                f"The mapping names {field_name}, which {KIND_LABELS[kind]} do not have; "
                f"remove it from the mapping or import the file as the other kind.",
                zh=f"映射中写了 {field_name}（{field_words(field_name)}），而{kind_words(kind)}没有这一项；"
                "请从映射中删除它，或将文件作为另一种记录导入。",
            )
        if not header:
            columns.pop(field_name, None)
            continue
        found = resolve_header(header, raw.headers)
        if found is None:
            raise ImportRefused(
                f"{raw.file_name} has no column {header!r}, which the mapping names for {field_name}; "
                "fix the mapping or choose the file it was made for.",
                zh=f"{raw.file_name} 中没有映射为{field_words(field_name)}（{field_name}）指定的“{header}”列；"
                "请修正映射，或选择该映射对应的文件。",
            )
        columns[field_name] = found
    guessed: dict[str, str] = {}
    if guess:
        named = {**columns, **{f: h for f, h in user["columns"].items() if not h}}
        # Attempts in columns (首次回访结果 beside 二次回访结果) are read only as a mapping names them.
        attempts = set(attempt_columns(raw.headers))
        guessed = guess_mapping(raw.rows, [h for h in raw.headers if h not in attempts], kind, named)
        columns.update(guessed)
    return {f: columns[f] for f in FIELDS_BY_KIND[kind] if f in columns}, guessed


def _refuse_ambiguous(raw: RawTable, kind: str, user: dict[str, Any]) -> None:
    """Refuse a file with two columns of one field qualified alike in brackets, neither the record's
    own (进厂里程(客户报) beside 进厂里程(仪表)), unless the mapping names the field's column."""
    for field_name, headers in ambiguous_fields(raw.headers, kind).items():
        if field_name in user["columns"]:
            continue
        listed = ", ".join(headers[:-1]) + f" and {headers[-1]}"
        raise ImportRefused(
            f"{raw.file_name} has {len(headers)} columns that may hold the {field_name} ({listed}) and no "
            "bracket says which is the record's own (实际, 本次, 含税); choose one with a mapping "
            f'(--map with columns {field_name} = "{headers[0]}"), or on the Data page.',
            zh=f"{raw.file_name} 中有 {len(headers)} 列都可能是{field_words(field_name)}（{'、'.join(headers)}），"
            "括号中的说明看不出哪一列是本记录的（实际、本次、含税）；请用映射选定一列"
            f'（--map，columns 中写 {field_name} = "{headers[0]}"），或在“数据”页选择。',
        )


# The columns a kind of file is keyed on, as the refusals name them.
_KEY_WORDS = {"order_id": "work-order number", "visit_date": "visit-date", "callback_date": "callback-date"}


def _require_columns(raw: RawTable, kind: str, columns: dict[str, str]) -> None:
    for field_name in REQUIRED_COLUMNS[kind]:
        if field_name not in columns:
            raise ImportRefused(
                f"{raw.file_name} has no {_KEY_WORDS[field_name]} column ({_alias_examples(field_name)}) to key "
                f"{KIND_LABELS[kind]} on; rename that column or map it (--map).",
                zh=f"{raw.file_name} 中没有{field_words(field_name)}列（{_alias_examples(field_name, 'zh')}），"
                f"无法据此识别{kind_words(kind)}；请将该列改名，或在映射中指定它（--map）。",
            )
    if kind == "callback" and "order_id" not in columns and "vin" not in columns:
        raise ImportRefused(
            f"{raw.file_name} has neither a work-order number column ({_alias_examples('order_id')}) "
            f"nor a VIN column ({_alias_examples('vin')}) to tie callbacks to; add one or map it (--map).",
            zh=f"{raw.file_name} 既没有工单号列（{_alias_examples('order_id', 'zh')}），也没有车架号列"
            f"（{_alias_examples('vin', 'zh')}），无法把回访记录对应到车辆或工单；请添加其中一列，或在映射中指定它（--map）。",
        )


def _raw_values(raw: RawTable, positions: np.ndarray) -> list[str]:
    subset = raw.rows.iloc[positions][raw.headers]
    return [
        json.dumps(
            {
                k: v if len(v) <= RAW_CELL_CHARS else v[:RAW_CELL_CHARS] + "…"
                for k, v in record.items()
                if isinstance(v, str)
            },
            ensure_ascii=False,
        )
        for record in subset.to_dict("records")
    ]


def _rejects_frame(raw: RawTable, found: pd.DataFrame, kinds: list[stage.Problem]) -> pd.DataFrame:
    """Return the report rows (sheet, source row, column, reason, raw values) of the staged problems
    (``found``: position and problem number, in position then problem order)."""
    if not len(found):
        return pd.DataFrame(
            {
                "sheet": pd.Series(dtype="str"),
                "source_row": pd.Series(dtype="int64"),
                "column_name": pd.Series(dtype="str"),
                "reason": pd.Series(dtype="str"),
                "raw_values": pd.Series(dtype="str"),
            }
        )
    at = found["pos"].to_numpy(dtype=np.int64)
    number = found["problem"].to_numpy(dtype=np.int64)
    unique_positions = pd.unique(at)
    texts = dict(zip(unique_positions, _raw_values(raw, unique_positions), strict=True))
    sheets = raw.rows[SOURCE_SHEET].to_numpy()[at] if SOURCE_SHEET in raw.rows else [""] * len(at)
    return pd.DataFrame(
        {
            "sheet": pd.Series(sheets, dtype="str").to_numpy(),
            "source_row": raw.rows[SOURCE_ROW].to_numpy()[at].astype("int64"),
            "column_name": pd.Series([kinds[i].column for i in number], dtype="str").to_numpy(),
            "reason": pd.Series([kinds[i].reason for i in number], dtype="str").to_numpy(),
            "raw_values": [texts[p] for p in at],
        }
    )


_ROW_LACKS = re.compile(r" AND NOT contains\(s\.lacking, ',\w+,'\)")


def _plan_sql(plan: ImportPlan) -> str:
    """Return the comparison query of the plan's kind; without the per-row test of the columns a
    row's sheet lacks when no row lacks any (every CSV, most workbooks): 26 string tests a row."""
    sql = _sql(f"ingest_{TABLES[plan.kind]}_plan")
    lacking = plan.typed.column("lacking")
    return sql if pc.any(pc.not_equal(lacking, "")).as_py() else _ROW_LACKS.sub("", sql)


def _plan_params(plan: ImportPlan) -> dict[str, bool]:
    """Return the $m_<column> flags of the plan query: true for the columns the file supplies."""
    key = KEYS[plan.kind]
    return {f"m_{f}": f in plan.supplied for f in FIELDS_BY_KIND[plan.kind] if f != key}


# The reason given to a work order whose number is stored as another store's order, and to a call.
OTHER_STORE_ORDER = stage.OTHER_STORE_ORDER
OTHER_STORE_CALL = stage.OTHER_STORE_CALL
_OTHER_STORE = {"service": OTHER_STORE_ORDER, "callback": OTHER_STORE_CALL}


def _set_aside_collisions(plan: ImportPlan, raw: RawTable, positions: np.ndarray) -> None:
    """Reject the rows (file positions) whose number is another store's stored order or call.

    Two stores of a group that both number from 000001 would otherwise overwrite each other's
    orders (or calls) as "updated": the stored row is another store's when the file gives another
    store and another car or day (a store renamed, or a car's VIN corrected, keeps the other). The
    rows join the file's rejects, with their sheets' counts."""
    found = pd.DataFrame({"pos": positions, "problem": np.zeros(len(positions), dtype=np.int64)})
    key = KEYS[plan.kind]
    reason = stage.Problem("", plan.mapping.get(key), _OTHER_STORE[plan.kind])
    rejects = _rejects_frame(raw, found, [reason])
    plan.rejects = pd.concat([plan.rejects, rejects], ignore_index=True)
    plan.rejected += len(positions)
    per_sheet = rejects["sheet"].value_counts()
    for entry in plan.sheets:
        n = int(per_sheet.get(entry["sheet"], 0))
        entry["landed"] -= n
        entry["rejected"] += n


def _keys_of_notes(plan: ImportPlan) -> pd.Series:
    """Return the key of each note's row (a cell that could not be read), in the notes' order."""
    at = pd.Series(plan.typed.column(KEYS[plan.kind]).to_pylist(), index=plan.typed.column("pos").to_numpy())
    return at.reindex(plan.noted["pos"].to_numpy())


def _noted_keys(plan: ImportPlan) -> pa.Table:
    """Return the keys of the rows with a note, one row each."""
    keys = _keys_of_notes(plan).dropna().drop_duplicates().astype("str")
    return pa.table({"key": pa.array(keys.tolist(), type=pa.string())})


def _say_kept(plan: ImportPlan, stored: pd.DataFrame) -> None:
    """Reword the notes of cells the file could not read in rows already stored (``stored``: those
    rows as they stand after the import) that keep a stored value: the value was kept, not left
    blank (an unreadable cell says nothing of the field, so the update keeps what was stored)."""
    if not len(plan.notes) or not len(stored):
        return
    keys = _keys_of_notes(plan).to_numpy()
    rows = stored.set_index(KEYS[plan.kind])
    kept = pd.Series(False, index=plan.notes.index)
    for name in plan.noted["field"].unique():
        of_field = (plan.noted["field"] == name).to_numpy()
        kept[of_field] = rows[name].reindex(keys[of_field]).notna().to_numpy()
    if kept.any():
        reasons = plan.notes["reason"].astype("str")
        plan.notes = plan.notes.assign(reason=reasons.where(~kept, reasons.map(stage.kept_reason)))


def _count_actions(plan: ImportPlan, counts: dict[str, int]) -> None:
    plan.to_insert = int(counts.get("insert", 0))
    plan.to_update = int(counts.get("update", 0))
    plan.unchanged = int(counts.get("unchanged", 0))


def _sheet_scales(
    raw: RawTable, columns: dict[str, str], scales: dict[str, str], told: dict[str, str]
) -> dict[str, list[str]]:
    """Return, per sheet of a workbook of several, what it says of a score column whose answers there
    all fit a narrower scale than the one the whole file was read on (a 1-5 survey's year beside a
    0-10 one's): the file's scale is kept (a 0-10 month of low answers looks alike), and said."""
    if raw.sheets is None or sum(1 for s in raw.sheets if s.imported) < 2 or SOURCE_SHEET not in raw.rows:
        return {}
    said: dict[str, list[str]] = {}
    for f, scale in scales.items():
        if f in told or scale not in ("0-10", "0-100") or f not in columns:
            continue
        header = columns[f]
        for sheet, answers in raw.rows.groupby(SOURCE_SHEET, sort=False)[header]:
            answers = answers.dropna()
            if answers.empty:
                continue
            own = detect_scale(clean_typed(answers.astype("str")), values.score_labels(f))
            if own in ("1-5", "0-10") and own != scale:
                said.setdefault(str(sheet), []).append(
                    f"{header}: answers all within {own} here; read on the file's {scale} scale "
                    f"(import this sheet alone if it is a {own} survey)"
                )
    return said


# A row of units right under the header (,,,km,元: a printed report's second header line) is part of the
# header, not a record: skipped, counted and said as blank rows are, its units read as units in the
# header's brackets are (1.2 under 里程 over 万公里 is 12,000 km).
UNITS_ROW = "units row under the header"


@dataclass(frozen=True)
class _UnitsRow:
    """A sheet's units row: the sheet ("" for a CSV), its file position, and header -> unit."""

    sheet: str
    position: int
    units: dict[str, str]


def _units_rows(raw: RawTable) -> list[_UnitsRow]:
    """Return the units rows of the table: the first row of a sheet whose filled cells are each a
    unit, a mark or a note a header carries (``header_note``)."""
    if not len(raw.rows):
        return []
    # The first row of each sheet, by its position in the table.
    firsts = (
        raw.rows[SOURCE_SHEET].astype("str").reset_index(drop=True).drop_duplicates()
        if SOURCE_SHEET in raw.rows
        else pd.Series([""])
    )
    positions = [int(p) for p in firsts.index]
    grid = raw.rows[raw.headers].iloc[positions].to_numpy(dtype=object)
    found = []
    for position, sheet, cells in zip(positions, firsts.tolist(), grid, strict=True):
        pairs = zip(raw.headers, cells, strict=True)
        filled = {h: c.strip() for h, c in pairs if isinstance(c, str) and c.strip()}
        if filled and all(header_note(c) for c in filled.values()):
            found.append(_UnitsRow(str(sheet), position, filled))
    return found


def _without_units_rows(raw: RawTable) -> tuple[RawTable, list[_UnitsRow]]:
    """Return the table without its units rows (``_units_rows``), and those rows; a column in ten
    thousands by its unit there (万公里, 万元) is read so on that sheet."""
    found = _units_rows(raw)
    if not found:
        return raw, []
    rows = raw.rows.drop(index=raw.rows.index[[u.position for u in found]])
    sheets = rows[SOURCE_SHEET].astype("str") if SOURCE_SHEET in rows else pd.Series("", index=rows.index)
    for units_row in found:
        for header, unit in units_row.units.items():
            # Ten thousands only (万公里, 万元): which field the column is, and so whether 分 is fen or
            # points, is decided after this.
            if header_unit(unit, "mileage_km") == "万":
                on_sheet = sheets == units_row.sheet
                rows.loc[on_sheet, header] = in_header_unit(rows.loc[on_sheet, header], "万")
    return replace(raw, rows=rows.reset_index(drop=True)), found


def _sheet_counts(
    raw: RawTable,
    staged: stage.Staged,
    rejects: pd.DataFrame,
    scale_notes: dict[str, list[str]] | None = None,
    units_rows: list[_UnitsRow] | None = None,
) -> list[dict[str, Any]]:
    """Return per sheet: rows, landed, rejected and skipped, which add up; and the reasons (blank
    rows, a units row, duplicates, a score column's answers on a narrower scale there). A sheet's rows
    are the rows the file's "rows read" counts: the rows of the sheets read add up to it; blank rows
    are named, not counted (a stray value far below a table made 199,999 "rows" of a 2-row sheet)."""
    units_of = {u.sheet: u for u in units_rows or []}
    rejected = rejects.drop_duplicates(["sheet", "source_row"])["sheet"].value_counts()
    out: list[dict[str, Any]] = []
    for sheet in raw.sheets or []:
        if not sheet.imported:
            out.append(
                {
                    "sheet": sheet.name,
                    "rows": sheet.rows,
                    "landed": 0,
                    "rejected": 0,
                    "skipped": sheet.rows,
                    "reason": sheet.reason,
                }  # fmt: skip
            )
            continue
        dup = staged.duplicates_by_sheet.get(sheet.name, 0)
        units = units_of.get(sheet.name)
        out.append(
            {
                "sheet": sheet.name,
                "rows": sheet.rows,
                "landed": staged.landed.get(sheet.name, 0),
                "rejected": int(rejected.get(sheet.name, 0)),
                "skipped": dup + (units is not None),
                "reason": ", ".join(
                    part
                    for part in (
                        f"{sheet.blank:,} blank rows not counted" if sheet.blank else "",
                        f"{UNITS_ROW}: {' / '.join(units.units.values())}" if units else "",
                        f"{dup:,} exact duplicates imported once" if dup else "",
                        *(scale_notes or {}).get(sheet.name, []),
                    )
                    if part
                ),
            }
        )
    return out


# What a callback by message that the customer answered is read as (a word of values.REACHED_TRUE).
REACHED_BY_MESSAGE = "已回访"


def _prepare(
    raw: RawTable, kind: str | None, mapping: dict[str, Any] | None, guess: bool = True
) -> ImportPlan:
    """Return the plan before the comparison with stored rows: ``typed`` holds the accepted rows."""
    user = validate_mapping(mapping) if mapping else {"kind": None, "columns": {}, "scales": {}}
    raw, units_rows = _without_units_rows(raw)
    kind = _decide_kind(raw, kind, user)
    _refuse_ambiguous(raw, kind, user)
    columns, guessed = _effective_columns(raw, kind, user, guess)
    _require_columns(raw, kind, columns)
    times = time_columns(raw.rows, raw.headers, columns)
    if times:
        rows = raw.rows.copy()
        for field_name, header in times.items():
            given = rows[columns[field_name]]
            rows[columns[field_name]] = with_time_of_day(given, rows[header])
            if field_name == "callback_date":
                rows[stage.ID_DAY_ONLY] = (given.notna() & (rows[columns[field_name]] != given)).fillna(False)
        raw = replace(raw, rows=rows)
    # Numbers under a header that states their unit (行驶里程(万公里), 金额(万元), 金额(千元), 金额(分)) are
    # read as if each carried it: 1.23 is 12,300 km, not 1 km, and 35000 fen 350 yuan, not 35,000.
    scaled = {
        columns[f]: unit for f in HEADER_UNIT_FIELDS if f in columns and (unit := header_unit(columns[f], f))
    }
    shown = raw  # rejected rows show the cells as the file has them
    if kind == "callback" and "reached" in columns:
        # A callback by message (短信回访) that the customer answered reached the customer.
        status = raw.rows[columns["reached"]]
        answers = [raw.rows[columns[f]] for f in SCORE_FIELDS if f in columns]
        answered = answered_by_message(status, answers)
        if answered.any():
            rows = raw.rows.copy()
            rows[columns["reached"]] = status.mask(answered, REACHED_BY_MESSAGE)
            raw = replace(raw, rows=rows)
    if scaled:
        rows = raw.rows.copy()
        for header, unit in scaled.items():
            rows[header] = in_header_unit(rows[header], unit)
        raw = replace(raw, rows=rows)
    # A scale the mapping gives decides; else one the header names (满意度(10分制), 推荐意愿(0-10分)),
    # as a mapping would: a month whose answers all fall within 1-5 is no 1-5 survey then.
    scales_given = {**header_scales(columns), **user["scales"]}
    staged = stage.stage(raw, kind, columns, scales_given)
    rejects = _rejects_frame(shown, staged.rejects, staged.problems)
    # A formula without a saved value refuses the workbook where it would land blank: in the header
    # or a record, not in a total row (a program's =SUM under the table) or above the header.
    totals = rejects[rejects["reason"] == TOTAL_ROW_REASON]
    read.refuse_unsaved_formulas(
        raw, set(zip(totals["sheet"].astype("str"), totals["source_row"].astype(int), strict=True))
    )
    # Notes of rows that are rejected anyway add nothing; staging keeps those of landed rows.
    notes = _rejects_frame(shown, staged.notes, staged.note_kinds)
    used = {*columns.values(), *times.values()}
    return ImportPlan(
        kind=kind,
        mapping=columns,
        typed=_with_lacking(staged.table, raw, columns, _blanked_fields(staged)),
        rejects=rejects,
        to_insert=0,
        to_update=0,
        unchanged=0,
        duplicates_in_file=staged.duplicates,
        scales=staged.scales,
        rows_read=len(raw.rows),
        file_name=raw.file_name,
        rejected=len(rejects.drop_duplicates(["sheet", "source_row"])),
        supplied=tuple(f for f in FIELDS_BY_KIND[kind] if f in columns),
        notes=notes,
        noted=pd.DataFrame(
            {
                "pos": staged.notes["pos"],
                "field": [staged.note_kinds[i].field for i in staged.notes["problem"]],
            }
        ),
        unmapped=tuple(h for h in raw.headers if h not in used),
        guessed=guessed,
        sheets=_sheet_counts(
            raw, staged, rejects, _sheet_scales(raw, columns, staged.scales, scales_given), units_rows
        ),
        unrated_zeros=_unrated_zeros(raw, columns, staged.scales),
        unrecognised=_unrecognised(raw, columns, staged.table),
    )


def _unrated_zeros(raw: RawTable, columns: dict[str, str], scales: dict[str, str]) -> dict[str, int]:
    """Return, for each score field read on 1-5 or as labels, how many of its cells are a bare 0 (read
    as "not rated", blank); fields without one are left out."""
    found: dict[str, int] = {}
    for f, scale in scales.items():
        header = columns.get(f)
        if scale not in ("1-5", "labels") or header not in raw.rows:
            continue
        # Over the distinct cells, weighted by their counts: a score column holds a handful of values.
        counts = raw.rows[header].value_counts(dropna=True)
        cells = pd.Series(counts.index.astype("str"), dtype="str")
        text = values.score_text(values.clean_scores(cells), values.score_labels(f))
        numbers = pd.to_numeric(text, errors="coerce")
        zeros = int(counts.to_numpy()[(numbers == 0).to_numpy()].sum())
        if zeros:
            found[f] = zeros
    return found


# The fields whose cells name a type, read as other when no word or code of values' tables names one.
TYPE_FIELDS = ("service_type", "callback_type")


def _unrecognised(raw: RawTable, columns: dict[str, str], landed: pa.Table) -> dict[str, dict[str, int]]:
    """Return, per type field, the cells of the landed rows that name no type the import knows (read
    as other) with their counts, most first; fields without one are left out."""
    found: dict[str, dict[str, int]] = {}
    for f in TYPE_FIELDS:
        header = columns.get(f)
        if header is None or header not in raw.rows:
            continue
        cells = raw.rows[header].iloc[landed.column("pos").to_numpy()]
        # Most first; alike counts in the file's order.
        counts = cells.value_counts(dropna=True, sort=False).sort_values(ascending=False, kind="stable")
        if counts.empty:
            continue
        unknown = values.unrecognised_types(pd.Series(counts.index.astype("str"), dtype="str"), f)
        named = counts[unknown.to_numpy()]
        if len(named):
            found[f] = {str(cell): int(n) for cell, n in named.items()}
    return found


def _blanked_fields(staged: stage.Staged) -> pd.Series:
    """Return, indexed by the position of each row that lands with cells left blank (an unreadable
    optional value), those cells' fields (",amount,")."""
    if not len(staged.notes):
        return pd.Series(dtype="str")
    fields = [kind.field for kind in staged.note_kinds]
    named = pd.DataFrame(
        {"pos": staged.notes["pos"], "field": [fields[i] for i in staged.notes["problem"]]}
    ).dropna()
    named = named.drop_duplicates()
    return ("," + named["field"] + ",").groupby(named["pos"]).agg("".join)


def _with_lacking(table: pa.Table, raw: RawTable, columns: dict[str, str], blanked: pd.Series) -> pa.Table:
    """Return the typed rows with ``lacking``: for each row, the fields its sheet has no column for
    (",amount,"), so that the comparison keeps their stored values (a workbook's February sheet
    without 结算金额 blanks no amount), and the fields ``blanked`` names for its position (a value
    that cannot be read says nothing of the field: "100,50" erases no stored amount); "" for every
    other row."""
    by_sheet = {
        sheet.name: "".join(f",{f}," for f, header in columns.items() if header in sheet.lacking)
        for sheet in raw.sheets or []
        if sheet.imported and sheet.lacking
    }
    by_sheet = {name: fields for name, fields in by_sheet.items() if fields}
    lacking = np.full(table.num_rows, "", dtype=object)
    if by_sheet and SOURCE_SHEET in raw.rows:
        sheets = raw.rows[SOURCE_SHEET].astype("str").to_numpy()[table.column("pos").to_numpy()]
        for name, fields in by_sheet.items():
            lacking[sheets == name] = fields
    if len(blanked):
        extra = pd.Series(table.column("pos").to_numpy()).map(blanked).fillna("")
        lacking = lacking + extra.to_numpy(dtype=object)
    return table.append_column("lacking", pa.array(lacking, type=pa.string()))


def suggested_mapping(raw: RawTable, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """Return (field -> header the import would use, field -> header among them guessed from values);
    a field two columns qualified alike may hold (``ambiguous_fields``) is left for the user to choose."""
    ambiguous = ambiguous_fields(raw.headers, kind)
    columns, guessed = _effective_columns(raw, kind, {"kind": kind, "columns": {}, "scales": {}})
    return {f: h for f, h in columns.items() if f not in ambiguous}, guessed


def reject_table(rejects: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return a plan's rejects or notes as the Data page shows them: each reason in ``lang``, and no
    sheet column when the file has no sheets (a CSV)."""
    out = rejects.assign(reason=[stage.reason_words(str(r), lang) for r in rejects["reason"]])
    if "sheet" in out and not out["sheet"].fillna("").astype(str).str.strip().any():
        out = out.drop(columns="sheet")
    return out


def sheet_table(sheets: list[dict[str, Any]], lang: str = "en") -> pd.DataFrame:
    """Return the per-sheet counts of a plan or result as a table (sheet, rows, landed, rejected, skipped,
    reason), the reasons in ``lang`` (a reason without Chinese words stays English, whole)."""
    table = pd.DataFrame(sheets, columns=["sheet", "rows", "landed", "rejected", "skipped", "reason"])
    if lang == "zh":
        table["reason"] = [sheet_reason_words(r) or r for r in table["reason"]]
    return table


# A file without call numbers: each call's id is made from what the row holds (``stage``), the VIN and
# the agent among it, so the same calls exported once with those columns and once without (or once
# with the time and once with the day only) made other ids, and every call was imported twice. A
# call of such a file whose id is not stored takes the id of the one stored call made the same way
# (an id the import made) on the same work order (a delivery call: the same car) at the same moment,
# within the same minute when the file has no seconds, or on the same day when one of the two has
# the day only; a stored call that two rows could be, or a row that could be two, keeps its own.
_STORED_CALLS_SQL = """
WITH f AS (
    SELECT pos, callback_id, order_id, vin, CAST(callback_date AS TIMESTAMP) AS at, callback_type
    FROM ingest_ids
),
unmatched AS (
    SELECT f.* FROM f WHERE NOT EXISTS (SELECT 1 FROM callbacks AS t WHERE t.callback_id = f.callback_id)
),
-- Two equi-joins, not one join on "same order OR same car" (a join on a disjunction is a nested loop:
-- every row of the file against every stored call).
stored AS (
    SELECT u.pos, u.at, u.callback_type AS u_type, t.callback_id, t.callback_date, t.callback_type
    FROM unmatched AS u JOIN callbacks AS t ON t.order_id = u.order_id
    UNION ALL
    SELECT u.pos, u.at, u.callback_type, t.callback_id, t.callback_date, t.callback_type
    FROM unmatched AS u JOIN callbacks AS t ON t.vin = u.vin
    WHERE u.order_id IS NULL AND t.order_id IS NULL
),
candidates AS (
    SELECT u.pos, u.callback_id AS stored_id
    FROM stored AS u
    WHERE starts_with(u.callback_id, 'CB-')
     AND (u.callback_date = u.at
          OR (second(u.at) = 0 AND date_trunc('minute', u.callback_date) = u.at)
          OR (second(u.callback_date) = 0 AND date_trunc('minute', u.at) = u.callback_date)
          OR (u.at = date_trunc('day', u.at) AND date_trunc('day', u.callback_date) = u.at)
          OR (u.callback_date = date_trunc('day', u.callback_date) AND date_trunc('day', u.at) = u.callback_date))
     AND (u.u_type IS NULL OR u.callback_type IS NULL OR u.callback_type = u.u_type)
     AND u.callback_id NOT IN (SELECT callback_id FROM f)
),
single AS (
    SELECT pos, any_value(stored_id) AS stored_id FROM candidates GROUP BY pos HAVING count(*) = 1
)
SELECT pos, stored_id FROM single
WHERE stored_id IN (SELECT stored_id FROM single GROUP BY stored_id HAVING count(*) = 1)
"""


def _adopt_stored_calls(con: duckdb.DuckDBPyConnection, plan: ImportPlan) -> None:
    """Give a call of a file without call numbers the id of the stored call it is (``_STORED_CALLS_SQL``)."""
    if plan.kind != "callback" or "callback_id" in plan.mapping or plan.typed.num_rows == 0:
        return
    names = ["pos", "callback_id", "order_id", "vin", "callback_date", "callback_type"]
    present = [n for n in names if n in plan.typed.column_names]
    if not {"pos", "callback_id", "callback_date"} <= set(present):
        return
    ids = plan.typed.select(present)
    for name in set(names) - set(present):
        ids = ids.append_column(name, pa.nulls(ids.num_rows, pa.string()))
    con.register("ingest_ids", ids)
    try:
        found = con.execute(_STORED_CALLS_SQL).fetchnumpy()
    finally:
        con.unregister("ingest_ids")
    if not len(found["pos"]):
        return
    adopted = dict(zip(found["pos"].tolist(), found["stored_id"].tolist(), strict=True))
    column = plan.typed.column_names.index("callback_id")
    ids_now = plan.typed.column("callback_id").to_pylist()
    positions = plan.typed.column("pos").to_pylist()
    renamed = [adopted.get(p, v) for p, v in zip(positions, ids_now, strict=True)]
    plan.typed = plan.typed.set_column(
        column, "callback_id", pa.array(renamed, type=plan.typed.schema.field(column).type)
    )


def plan_import(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    kind: str | None = None,
    mapping: dict[str, Any] | None = None,
    *,
    guess: bool = True,
) -> ImportPlan:
    """Return what importing the table would do (typed rows, rejects, counts) without writing."""
    plan = _prepare(raw, kind, mapping, guess)
    # A cursor of its own: registering a frame fails on a connection with a half-read result.
    cur = con.cursor()
    try:
        _adopt_stored_calls(cur, plan)
        cur.register("ingest_staged", plan.typed)
        final = cur.execute(_plan_sql(plan), _plan_params(plan)).df()
    finally:
        cur.close()
    collided = final["other_store"].notna().to_numpy()
    if collided.any():
        _set_aside_collisions(plan, raw, final["pos"].to_numpy(dtype=np.int64)[collided])
        final = final[~collided].reset_index(drop=True)
    final = final.drop(columns=["pos", "other_store"])
    if len(plan.notes):
        _say_kept(plan, final[final["action"] != "insert"])
    _count_actions(plan, {str(k): int(v) for k, v in final["action"].value_counts().items()})
    plan.staged = final
    return plan


def _write(
    con: duckdb.DuckDBPyConnection, raw: RawTable, plan: ImportPlan, who: str, started: datetime
) -> int:
    """Compare, write and log the plan inside the caller's transaction; return the new import id."""
    # The final row images stay inside DuckDB (a temporary table dropped before commit) rather
    # than travelling to pandas and back.
    _adopt_stored_calls(con, plan)
    con.register("ingest_staged", plan.typed)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ingest_final AS " + _plan_sql(plan),
            _plan_params(plan),
        )
    finally:
        con.unregister("ingest_staged")
    found = con.execute(
        "SELECT pos FROM ingest_final WHERE other_store IS NOT NULL ORDER BY pos"
    ).fetchnumpy()["pos"]
    if len(found):
        con.execute("DELETE FROM ingest_final WHERE other_store IS NOT NULL")
        _set_aside_collisions(plan, raw, np.asarray(found, dtype=np.int64))
    if len(plan.notes):
        con.register("ingest_noted", _noted_keys(plan))
        try:
            _say_kept(plan, con.execute(_STORED_NOTED[plan.kind]).df())
        finally:
            con.unregister("ingest_noted")
    counts = con.execute("SELECT action, count(*) FROM ingest_final GROUP BY action").fetchall()
    _count_actions(plan, {action: n for action, n in counts})
    import_id = int(con.execute("SELECT nextval('import_id_seq')").fetchall()[0][0])
    params = {"import_id": import_id}
    if plan.to_insert or plan.to_update:
        con.execute(_HISTORY[plan.kind], params)
        con.execute(_DELETE_REWRITTEN[plan.kind])
        con.execute(_sql(f"ingest_{TABLES[plan.kind]}_insert"), params)
        # The tables carry no key index (see db.MIGRATIONS[5]): check the keys this import wrote.
        repeated = con.execute(_REPEATED_KEYS[plan.kind]).fetchall()[0][0]
        if repeated:
            raise RuntimeError(f"import would leave {repeated} repeated {KEYS[plan.kind]} values")
        if plan.kind == "service":
            _list_touched_vehicles(con, plan, params)
    if plan.unchanged:
        # The rows the file holds as they are stored: a rollback of the import that wrote them keeps
        # them for this one (``_hand_over``).
        con.execute(_HELD_BY[plan.kind], params)
    for frame, kept in ((plan.rejects, False), (plan.notes, True)):
        if not len(frame):
            continue
        con.register("ingest_rejects", frame)
        try:
            con.execute(
                "INSERT INTO rejected_rows (import_id, source_row, column_name, reason, raw_values, sheet, kept) "
                "SELECT $import_id, source_row, column_name, reason, raw_values, nullif(sheet, ''), $kept "
                "FROM ingest_rejects",
                {**params, "kept": kept},
            )
        finally:
            con.unregister("ingest_rejects")
    con.execute(
        """INSERT INTO imports (import_id, file_name, sha256, kind, rows_read, rows_inserted, rows_updated,
               rows_unchanged, rows_rejected, started_at, finished_at, imported_by, status, mapping,
               rows_duplicate)
           VALUES ($import_id, $file_name, $sha256, $kind, $rows_read, $inserted, $updated,
               $unchanged, $rejected, $started, $finished, $who, 'done', $mapping, $duplicates)""",
        {
            **params,
            "file_name": raw.file_name,
            "sha256": raw.sha256,
            "kind": plan.kind,
            "rows_read": plan.rows_read,
            "inserted": plan.to_insert,
            "updated": plan.to_update,
            "unchanged": plan.unchanged,
            "rejected": plan.rejected,
            "duplicates": plan.duplicates_in_file,
            "started": started,
            "finished": datetime.now(),
            "who": who,
            "mapping": json.dumps(plan.mapping_document(), ensure_ascii=False),
        },
    )
    if plan.to_insert or plan.to_update:
        version = db.bump_data_version(con)
        derived.record_changes(con, version, _CHANGED[plan.kind], params)
        if plan.kind == "service":
            refresh_derived(
                con, only_affected=bool(plan.to_update), new_visits=bool(plan.to_insert), comments=False
            )
            if plan.to_insert:
                con.execute("DROP VIEW derived_new_visits")
        # Comment tokens are a cache the themes read (a comment without stored tokens is segmented
        # when it is read): they are stored after the commit (``services.views.prepare``), so the
        # import does not hold its transaction, and the command its caller, while jieba runs.
    con.execute("DROP TABLE ingest_final")
    return import_id


def _list_touched_vehicles(con: duckdb.DuckDBPyConnection, plan: ImportPlan, params: dict[str, int]) -> None:
    """Name the vehicles a work-order import touched, for ``refresh_derived`` in its transaction.

    A vehicle whose stored work orders the import rewrote (or moved to another VIN) is rebuilt
    from its history (``derived_affected_vins``); one that only gained new work orders has them
    folded into its running values (``derived_new_visits``), which reads no history. Both give
    what a full rebuild gives (``tests/test_ingest_vehicles.py``).
    """
    new_rows = "SELECT * FROM ingest_final WHERE action = 'insert' AND vin IS NOT NULL"
    if plan.to_update:
        # The vehicles of the rows rewritten, and those the replaced rows had.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE derived_affected_vins AS "
            "SELECT vin FROM ingest_final WHERE action = 'update' AND vin IS NOT NULL "
            "UNION SELECT vin FROM service_orders_history WHERE replaced_by = $import_id AND vin IS NOT NULL",
            params,
        )
        new_rows += " AND vin NOT IN (SELECT vin FROM derived_affected_vins)"
    if plan.to_insert:
        con.execute("CREATE OR REPLACE TEMP VIEW derived_new_visits AS " + new_rows)  # noqa: S608 - fixed text


def refresh_derived(
    con: duckdb.DuckDBPyConnection,
    *,
    only_affected: bool = False,
    new_visits: bool = False,
    comments: bool = True,
    vehicles: bool = True,
) -> None:
    """Rebuild the derived tables (vehicles, comment tokens) from the canonical tables.

    ``only_affected`` and ``new_visits``: only the vehicles listed in ``derived_affected_vins``,
    and the new work orders in ``derived_new_visits`` folded into theirs (see
    ``db.refresh_vehicles``); neither rebuilds every vehicle. ``comments=False`` skips the comment
    tokens (a work-order import touches no comments), ``vehicles=False`` the vehicles (a callback
    import touches no work orders).
    """
    if comments:
        themes.tokenize_pending(con)
    if vehicles:
        db.refresh_vehicles(con, only_affected=only_affected, new_visits=new_visits)


def import_file(
    con: duckdb.DuckDBPyConnection,
    source: str | Path | bytes,
    *,
    file_name: str | None = None,
    kind: str | None = None,
    mapping: dict[str, Any] | None = None,
    who: str = "cli",
    progress: Callable[[float, str], None] | None = None,
    guess: bool = True,
) -> ImportResult:
    """Import one file in one transaction and return its counts; raise ImportRefused for unusable files.

    ``guess``: fields no header names are guessed from the values of unknown columns (reported
    in the result's ``guessed``); False leaves such columns unmapped.
    """

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    ready = _read_and_prepare(source, file_name, kind, mapping, report, guess)
    report(0.5, f"{ready.plan.typed.num_rows:,} rows accepted, {ready.plan.rejected:,} rejected; writing")
    result = _commit(con, ready, who)
    report(1.0, "done")
    return result


Source = TypeVar("Source", str, Path)


def import_files(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[Source],
    *,
    kind: str | None = None,
    mapping: dict[str, Any] | None = None,
    who: str = "cli",
    guess: bool = True,
) -> Iterator[tuple[Source, ImportResult | ImportRefused]]:
    """Import files one after the other, each in its own transaction, as ``import_file`` does;
    yield each source with its result, or with the ImportRefused that explains why it was not imported.

    The next file is read and checked in a second thread while the current one is written:
    reading is pandas and pyarrow, writing is DuckDB, and each leaves the other a core. Reading
    touches no table, so the order of the writes, and what each one sees, are unchanged.
    """
    if not sources:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read") as reader:

        def ahead(source: Source) -> Future[_Ready]:
            return reader.submit(_read_and_prepare, source, None, kind, mapping, None, guess)

        pending = ahead(sources[0])
        for i, source in enumerate(sources):
            current = pending
            if i + 1 < len(sources):
                pending = ahead(sources[i + 1])
            try:
                ready = current.result()
            except ImportRefused as exc:
                yield source, exc
                continue
            yield source, _commit(con, ready, who)


@dataclass
class _Ready:
    """A file read and checked, with its plan, waiting for its transaction."""

    raw: RawTable
    plan: ImportPlan
    started: datetime
    clock: float


def _read_and_prepare(
    source: str | Path | bytes,
    file_name: str | None,
    kind: str | None,
    mapping: dict[str, Any] | None,
    report: Callable[[float, str], None] | None,
    guess: bool = True,
) -> _Ready:
    clock = time.perf_counter()
    started = datetime.now()
    if report is not None:
        report(0.0, "reading the file")
    # A workbook with sheets of both kinds gives the sheets of the kind asked for.
    wanted = kind or (mapping.get("kind") if isinstance(mapping, dict) else None)
    raw = read_table(source, file_name, wanted if isinstance(wanted, str) else None)
    if report is not None:
        report(0.3, f"read {len(raw.rows):,} rows; checking them")
    return _Ready(raw=raw, plan=_prepare(raw, kind, mapping, guess), started=started, clock=clock)


def _commit(con: duckdb.DuckDBPyConnection, ready: _Ready, who: str) -> ImportResult:
    raw, plan = ready.raw, ready.plan
    # Rows, history, rejects, the log entry, the data version and the derived tables commit
    # together: a process killed at any moment leaves all of the file or none of it.
    with db.write_transaction(con) as cur:
        import_id = _write(cur, raw, plan, who, ready.started)
    return ImportResult(
        import_id=import_id,
        file_name=raw.file_name,
        kind=plan.kind,
        rows_read=plan.rows_read,
        inserted=plan.to_insert,
        updated=plan.to_update,
        unchanged=plan.unchanged,
        rejected=plan.rejected,
        reasons=list(dict.fromkeys(plan.rejects["reason"]))[:5],
        seconds=time.perf_counter() - ready.clock,
        duplicates_in_file=plan.duplicates_in_file,
        mapping=plan.mapping_document(),
        blanked=len(plan.notes.drop_duplicates(["sheet", "source_row"])) if len(plan.notes) else 0,
        notes=list(dict.fromkeys(plan.notes["reason"]))[:5] if len(plan.notes) else [],
        unmapped=list(plan.unmapped),
        guessed=dict(plan.guessed),
        sheets=plan.sheets,
        unrated_zeros=dict(plan.unrated_zeros),
        unrecognised={f: dict(cells) for f, cells in plan.unrecognised.items()},
    )


def rollback(con: duckdb.DuckDBPyConnection, import_id: int) -> dict[str, int]:
    """Undo one import (remove its rows, restore the rows it replaced) and return the counts."""
    with db.write_transaction(con) as cur:
        return _rollback(cur, import_id)


def _rollback(con: duckdb.DuckDBPyConnection, import_id: int) -> dict[str, int]:
    """Undo the import inside the caller's transaction."""
    params = {"import_id": import_id}
    rows = con.execute(
        "SELECT kind, status, rolled_back_at FROM imports WHERE import_id = $import_id", params
    ).fetchall()
    if not rows:
        raise UserError(
            f"There is no import {import_id}; `python -m analytics imports` lists the imports.",
            zh=f"没有第 {import_id} 次导入；`python -m analytics imports` 会列出所有导入。",
        )
    kind, status, rolled_back_at = rows[0]
    if status == "rolled_back":
        when = f" on {rolled_back_at:%Y-%m-%d %H:%M}" if rolled_back_at else ""
        when_zh = f"已于 {rolled_back_at:%Y-%m-%d %H:%M} " if rolled_back_at else "已经"
        raise UserError(
            f"Import {import_id} was already rolled back{when}; there is nothing left to undo.",
            zh=f"第 {import_id} 次导入{when_zh}回滚过了；没有可以撤销的内容。",
        )
    blocker = con.execute(_sql("ingest_rollback_blocker"), params).fetchall()[0][0]
    if blocker is not None:
        raise UserError(
            f"Import {blocker} has since changed rows that import {import_id} wrote; "
            f"roll back import {blocker} first.",
            zh=f"第 {blocker} 次导入之后又修改了第 {import_id} 次导入写入的行；请先回滚第 {blocker} 次导入。",
        )
    kept_n = _hand_over(con, kind, import_id)
    written_n = int(con.execute(_COUNT_WRITTEN_BY[kind], params).fetchall()[0][0])
    restored_n = int(con.execute(_COUNT_REPLACED_BY[kind], params).fetchall()[0][0])
    con.execute("CREATE OR REPLACE TEMP TABLE rollback_changes AS " + _CHANGED[kind], params)
    con.execute(_DELETE_WRITTEN_BY[kind], params)
    con.execute(_sql(f"ingest_{TABLES[kind]}_restore"), params)
    con.execute(_DELETE_HISTORY[kind], params)
    con.execute("DELETE FROM import_held WHERE import_id = $import_id", params)
    con.execute(
        "UPDATE imports SET status = 'rolled_back', rolled_back_at = $now WHERE import_id = $import_id",
        {**params, "now": datetime.now()},
    )
    if written_n or restored_n:
        version = db.bump_data_version(con)
        db.mark_rolled_back(con)  # what the pages showed before included the rows taken out
        derived.record_changes(con, version, "SELECT * FROM rollback_changes", {})
        refresh_derived(con)
    con.execute("DROP TABLE rollback_changes")
    return {"import_id": import_id, "deleted": written_n - restored_n, "restored": restored_n, "kept": kept_n}


def _hand_over(con: duckdb.DuckDBPyConnection, kind: str, import_id: int) -> int:
    """Give the rows import ``import_id`` wrote that a later import still in force found as stored
    (the same January orders in a later quarter's file, the same file dropped twice) to the latest
    such import, as if it had written them: they stay, and a rollback of that import removes or
    restores them then. Return how many rows were handed over."""
    params = {"import_id": import_id}
    con.execute(_HELD_ROWS[kind], params)
    held = int(con.execute("SELECT count(*) FROM rollback_held").fetchall()[0][0])
    if held:
        # The row as stored is the holder's; what it replaced, the holder's rollback restores.
        for statement in _HAND_OVER[kind]:
            con.execute(statement, params)
        con.execute(
            "DELETE FROM import_held WHERE (import_id, row_key) IN (SELECT holder, row_key FROM rollback_held)"
        )
    con.execute("DROP TABLE rollback_held")
    return held


def list_imports(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Return the import log, one row per imported file, newest first."""
    cur = con.cursor()
    try:
        return cur.execute(_sql("ingest_imports_log")).df()
    finally:
        cur.close()


def rejected_rows(con: duckdb.DuckDBPyConnection, import_id: int) -> pd.DataFrame:
    """Return the rows an import rejected: source row, column, reason and the raw values as JSON."""
    cur = con.cursor()
    try:
        return cur.execute(
            "SELECT sheet, source_row, column_name, reason, raw_values, kept FROM rejected_rows "
            "WHERE import_id = $import_id ORDER BY kept, rowid",
            {"import_id": import_id},
        ).df()
    finally:
        cur.close()
