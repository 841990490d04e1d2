"""A twelfth attack (session 23), each reproduced first and failing before its fix: what whoever can
drop a file into the import (the drop folder, the Data page's upload) can make the program do with
one pathological cell, and what a list export does with a cell made for a spreadsheet."""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from pptx import Presentation

from analytics import cli
from analytics.domain.themes import lexicon, polarity, segmentation
from analytics.ingest import stage, values
from analytics.reports import export
from analytics.services import watch

# --------------------------------------------------------------------------- one cell, minutes of work

# Well above what any of these takes once its patterns are linear (milliseconds), well below what
# they took before (a date cell of 1,000 spaces took 8 s, one of 10,000 hours).
DEADLINE_SECONDS = 5.0
N = 20_000  # characters in a hostile cell; a CSV cell has no bound of its own


def _finishes(work: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether ``work(*args, **kwargs)`` returns within the deadline (run in a child that is killed
    when it does not, so a test of the old code fails instead of running for hours)."""
    child = multiprocessing.get_context("fork").Process(target=work, args=args, kwargs=kwargs)
    child.start()
    child.join(DEADLINE_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()
        return False
    return child.exitcode == 0


def _cell(text: str) -> pd.Series:
    return pd.Series([text], dtype="str")


@pytest.mark.parametrize(
    "cell",
    [
        "d" + " " * 1_000 + "x",  # spaces where a weekday (周二) could follow: cubic, 8 s for 1,000
        "2026-03-05" + " " * N + "x",  # a date, then spaces where a weekday or a time could follow
        "2026-03-05 09:30:00" + " " * N + "x",  # a time, then spaces where its zone could follow
        "2026-03-05 09:30:00" + " " * N + "+",
        "1" + " " * N + "x",  # spaces where 上午/下午/PM could follow
        "0" * (2 * N) + "x",  # zeros where a zero date (0000-00-00) could end
    ],
    ids=["weekday", "date", "time", "zone", "meridiem", "zero-date"],
)
def test_a_date_cell_of_many_characters_is_read_in_a_moment(cell):
    """A date column's cell is read by patterns in Python when SQL cannot type it. Several of them
    could match a run of spaces (or zeros) in many ways and tried them all: one cell of a dropped
    file kept the import, and the database it writes to, busy for minutes or hours."""
    assert _finishes(values.parse_datetimes, _cell(cell), keep_time=True)


@pytest.mark.parametrize(
    ("parse", "cell"),
    [
        (values.parse_callback_types, "d" + " " * N + "x"),  # spaces where D+3's digit could follow
        (values.score_text, "满意" + " " * N + "x"),  # spaces where a reason in brackets could follow
        (values.parse_scores, "5" + " " * N + "x"),  # spaces where 颗星 or /5 could follow
        (values.parse_scores, "5" + " " * N + "分x"),
        (values.clean_people, "张三" + " " * (3 * N) + "x"),  # spaces where (服务顾问) could follow
    ],
    ids=["callback-type", "score-reason", "score-stars", "score-fraction", "advisor"],
)
def test_a_callback_type_score_or_advisor_cell_of_many_characters_is_read_in_a_moment(parse, cell):
    """The callback type, score and advisor columns' cells: the same kind of pattern, the same minutes
    (an advisor's cell is read before it is refused as longer than a name can be)."""
    assert _finishes(parse, _cell(cell))


def _clauses_of(comments: list[str]) -> None:
    for comment in comments:
        polarity.clauses(comment, segmentation.tokenize)


def test_comments_that_repeat_a_duration_word_are_read_in_a_moment():
    """A comment may hold 4,000 characters. ``等`` or ``了`` followed by a run of ``多`` (a word of
    durations: 等了二十多分钟) was matched in as many ways as the run has splits: a second per
    comment, so a file of such comments kept the themes busy for hours."""
    segmentation.tokenize(["预热分词"])  # the dictionary loaded before the clock starts
    comments = [("等" if i % 2 else "了") + "多" * (3_900 + i) + ("天" if i % 3 else "") for i in range(20)]
    assert _finishes(_clauses_of, comments)


@pytest.mark.parametrize(
    ("text", "waited"),
    [
        ("等了两个多小时", True),
        ("等了一个半小时才有人来", True),
        ("排了一上午的队", True),
        ("等了二十多分钟才有人来", True),
        ("等了半个小时", False),
        ("等了十分钟就好了", False),
        ("修了一个多月才拿到车", True),
        ("二十多天才到", False),  # no 了/用/花 before it
        ("用了三天多才修好", True),
    ],
)
def test_waiting_is_still_told_from_durations_as_before(text, waited):
    """The rewritten duration patterns read the waits they read before."""
    assert polarity._waited(text) is waited


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("2024-03-05(周二)", "2024-03-05"),
        ("2024年3月5日 星期二 14:30", "2024-03-05 14:30"),
        ("2024-03-05 下午 2:30", "2024-03-05 14:30"),
        ("2024-03-05 2:30 PM", "2024-03-05 14:30"),
        ("2024-03-05T14:30:00+08:00", "2024-03-05 14:30"),
        ("2024-03-05 06:30:00 UTC", "2024-03-05 14:30"),
        ("2024-03-05  14:30", "2024-03-05 14:30"),
        ("2024-03-05 14 : 30 : 00", "2024-03-05 14:30"),
    ],
)
def test_dates_are_still_read_as_before(cell, moment):
    """The rewritten date patterns read the cells they read before."""
    parsed, bad = values.parse_datetimes(_cell(cell), keep_time=True)
    assert not bad.iloc[0]
    assert parsed.iloc[0] == pd.Timestamp(moment)


@pytest.mark.parametrize(
    ("cell", "missing"),
    [("0000-00-00", True), ("0000/00/00 00:00:00", True), ("00000000", True), ("1900-01-00", True),
     ("2024-03-05", False), ("10", False)],
)  # fmt: skip
def test_zero_dates_are_still_missing_as_before(cell, missing):
    assert bool(values.clean_dates(_cell(cell)).isna().iloc[0]) is missing


@pytest.mark.parametrize(
    ("cell", "score"),
    [("4颗星", 8.0), ("五 星", 10.0), ("4 / 5", 8.0), ("8分/10分", 8.0), ("85 / 100", 8.5)],
)
def test_scores_that_say_their_scale_are_still_read_as_before(cell, score):
    found = values.own_scale_score(cell)
    assert found is not None and found[0] == score


def test_callback_types_and_score_reasons_are_still_read_as_before():
    types = values.parse_callback_types(
        pd.Series(["D+3回访", "d 7", "T+3", "48h回访", "保养D+3提醒"], dtype="str")
    )
    assert list(types) == ["3DC", "7DC", "3DC", "3DC", "other"]
    assert list(values.score_text(pd.Series(["不满意 (服务态度)", "满意【洗车干净】"], dtype="str"))) == [
        "不满意",
        "满意",
    ]


def test_role_titles_after_names_are_still_taken_off_as_before():
    names = pd.Series(
        ["张三(服务顾问)", "李四 （回访专员）", "王五【客服客服主管】", "张三(二店)"], dtype="str"
    )
    assert list(values.clean_people(names)) == ["张三", "李四", "王五", "张三(二店)"]


# --------------------------------------------------------------------------- the drop folder's report


def test_a_dropped_files_report_gives_the_reasons_of_its_rejected_rows_in_the_reports_language(tmp_path):
    """The README: ``NAME.report.txt`` is readable, in ``--lang``. Its title and counts were in
    Chinese, the reason of each rejected row in English ("unreadable date"), which the Data page
    and the import's notes give in Chinese."""
    drop = tmp_path / "drop"
    drop.mkdir()
    dropped = drop / "工单.csv"
    dropped.write_text(
        "工单号,进厂日期,车架号,结算金额\nWO1,2026-08-01,LSVAU2A37N2800001,100\nWO2,八月某天,LSVAU2A37N2800002,200\n",
        encoding="utf-8",
    )
    os.utime(dropped, (1_700_000_000, 1_700_000_000))
    outcomes, _ = watch.run_once(drop, str(tmp_path / "w.duckdb"), [], 0, "zh", None)
    assert [o.status for o in outcomes] == [watch.DONE]
    written = (drop / "done" / outcomes[0].report_txt.name).read_text(encoding="utf-8")
    assert stage.reason_words("unreadable date", "zh") in written
    assert "unreadable date" not in written


# --------------------------------------------------------------------------- characters XML cannot hold

# Noncharacters: valid UTF-8 in a CSV, stored as written, but no XML document (an XLSX's sheet, a
# PPTX's slide) may hold them, and lxml refuses to write them.
NONCHARACTERS = "\ufffe\uffff"


def test_a_noncharacter_in_a_cell_never_breaks_an_excel_export():
    """The README: a control character in a cell never breaks an Excel export. U+FFFE or U+FFFF (in a
    comment pasted from a broken system) raised ValueError from lxml: no XLSX for the whole list."""
    frame = pd.DataFrame({"comment": [f"等太久了{NONCHARACTERS[0]}服务差", f"很好{NONCHARACTERS[1]}"]})
    workbook = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(frame)))
    cells = [row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert cells == ["等太久了\ufffd服务差", "很好\ufffd"]


def test_a_noncharacter_in_an_unsatisfied_customers_comment_never_breaks_the_monthly_deck(tmp_path, capsys):
    """The deck quotes unsatisfied customers' comments in its red flags: one with U+FFFE stopped
    ``deck`` (and the Monday ``send``, and the Overview's button) with a traceback."""
    database = str(tmp_path / "d.duckdb")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "工单号,进厂日期,车架号,结算金额,客户姓名,联系电话,服务顾问\n"
        "WO1,2026-08-01,LSVAU2A37N2800001,100,张三,13812345678,小刘\n"
        "WO2,2026-08-03,LSVAU2A37N2800002,100,李四,13812345679,小刘\n",
        encoding="utf-8",
    )
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "回访编号,工单号,车架号,回访日期,回访类型,是否接通,总体满意度,客户意见\n"
        f"CB1,WO1,LSVAU2A37N2800001,2026-08-02,3DC,是,2,等太久了{NONCHARACTERS[0]}服务差\n"
        f"CB2,WO2,LSVAU2A37N2800002,2026-08-04,3DC,是,10,很好{NONCHARACTERS[1]}\n",
        encoding="utf-8",
    )
    assert cli.main(["import", str(orders), "--kind", "service", "--db", database]) == 0
    assert cli.main(["import", str(calls), "--kind", "callback", "--db", database]) == 0
    out = tmp_path / "deck.pptx"
    assert cli.main(["deck", "--month", "2026-08", "--no-model", "--db", database, "--out", str(out)]) == 0
    shown = "\n".join(
        shape.text_frame.text
        for slide in Presentation(str(out)).slides
        for shape in slide.shapes
        if shape.has_text_frame
    ) + "\n".join(
        cell.text
        for slide in Presentation(str(out)).slides
        for shape in slide.shapes
        if shape.has_table
        for row in shape.table.rows
        for cell in row.cells
    )
    assert "等太久了\ufffd服务差" in shown


# --------------------------------------------------------------------------- a long name in the themes


def test_a_name_as_long_as_an_import_takes_costs_the_themes_a_moment():
    """The themes leave out of their words every piece of an advisor's, store's or model's name. An
    advisor's cell may hold 4,000 characters (the import takes that many), and every piece of it was
    made, 8 million strings of up to 4,000 characters: 40 s and gigabytes at each rebuild."""
    long_name = "王" * 4_000
    assert _finishes(lexicon.name_pieces, [long_name])


def test_the_pieces_of_ordinary_names_are_still_left_out_of_the_themes():
    pieces = lexicon.name_pieces(["杭州西湖店", "王强"])
    assert {"杭州西湖店", "西湖", "西湖店", "杭州西湖", "王强", "小王", "王师傅"} <= pieces


# ------------------------------------------------- the twelfth import probe's patterns, merged after


def test_an_english_weekday_followed_by_many_spaces_is_read_in_a_moment():
    """The English weekday before a date (Tuesday, March 5, 2024), read since the twelfth import
    probe, split a run of spaces between two parts in every way: 12 s for one cell of 20,000."""
    assert _finishes(values.parse_datetimes, _cell("Tuesday" + " " * N + "x"), keep_time=True)
    assert _finishes(values.parse_datetimes, _cell("Tue," + " " * N + "x"), keep_time=True)


def test_a_page_footer_followed_by_many_spaces_is_told_in_a_moment():
    """A printed page's footer (第1页 共3页) is a note row since the twelfth import probe; a cell of
    第1页 and 20,000 spaces took 4 s to be told apart, twice as many 16 s."""
    row = np.array(["第1页" + " " * (2 * N) + "x"], dtype=object)
    assert _finishes(stage._note, row)
    assert stage._note(np.array(["第 1 页 / 共 3 页", "Page 1 of 3"], dtype=object))
