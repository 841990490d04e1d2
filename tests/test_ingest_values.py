"""Value parsers: dates, numbers, yes/no, reached words, types, levels and score scales."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analytics.ingest import values


def _s(*items: str | None) -> pd.Series:
    return pd.Series(list(items), dtype="str")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", "2024-03-05 00:00:00"),
        ("2024/3/5", "2024-03-05 00:00:00"),
        ("2024.3.5", "2024-03-05 00:00:00"),
        ("20240305", "2024-03-05 00:00:00"),
        ("20240305093000", "2024-03-05 09:30:00"),
        ("202403051405", "2024-03-05 14:05:00"),
        ("2024年3月5日", "2024-03-05 00:00:00"),
        ("2024/3/5 14:30", "2024-03-05 14:30:00"),
        ("2024-03-05 14:30:15", "2024-03-05 14:30:15"),
        ("2024-03-05T08:05:00", "2024-03-05 08:05:00"),
        ("2024年3月5日 14时30分", "2024-03-05 14:30:00"),
        ("45356", "2024-03-05 00:00:00"),
        ("45356.75", "2024-03-05 18:00:00"),
        (" 2024/03/05 ", "2024-03-05 00:00:00"),
        ("已解决 2024-03-05 14:30", "2024-03-05 14:30:00"),
        ("已处理：2024/3/5", "2024-03-05 00:00:00"),
    ],
)
def test_dates_in_chinese_iso_compact_and_excel_serial_forms(text, expected):
    parsed, bad = values.parse_datetimes(_s(text), keep_time=True)
    assert str(parsed.iloc[0]) == expected
    assert not bad.iloc[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024/3/5 下午 2:30:00", "2024-03-05 14:30:00"),
        ("2024年3月5日 下午2:30:00", "2024-03-05 14:30:00"),
        ("2024/3/5 上午 9:05:00", "2024-03-05 09:05:00"),
        ("2024/3/5 上午 12:10:00", "2024-03-05 00:10:00"),
        ("2024/3/5 下午 12:10:00", "2024-03-05 12:10:00"),
        ("2024/3/5 2:30:00 PM", "2024-03-05 14:30:00"),
        ("2024-03-05 09:30 am", "2024-03-05 09:30:00"),
    ],
)
def test_a_time_of_day_written_with_am_or_pm_is_read_on_the_24_hour_clock(text, expected):
    # Chinese-locale exports (Windows, Java's default format) write 上午/下午 and a 12-hour clock.
    parsed, bad = values.parse_datetimes(_s(text), keep_time=True)
    assert str(parsed.iloc[0]) == expected
    assert not bad.iloc[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年1月3日 下午3点", "2024-01-03 15:00:00"),
        ("2024年1月3日下午3点半", "2024-01-03 15:30:00"),
        ("2024-01-03 15点整", "2024-01-03 15:00:00"),
        ("2024-01-03 9点", "2024-01-03 09:00:00"),
        ("2024/1/3 早上9点钟", "2024-01-03 09:00:00"),
        ("2024/1/3 凌晨2点", "2024-01-03 02:00:00"),
        ("2024/1/3 中午12点", "2024-01-03 12:00:00"),
        ("2024/1/3 中午1点30分", "2024-01-03 13:30:00"),
        ("2024/1/3 中午11点", "2024-01-03 11:00:00"),
        ("2024/1/3 晚上8点", "2024-01-03 20:00:00"),
    ],
)
def test_a_time_said_by_the_hour_and_the_part_of_the_day_is_read(text, expected):
    # Typed by hand into a CRM's remark-like time field: 下午3点 was unreadable, and the call had no day.
    parsed, bad = values.parse_datetimes(_s(text), keep_time=True)
    assert str(parsed.iloc[0]) == expected
    assert not bad.iloc[0]


def test_an_hour_without_its_word_or_an_ambiguous_part_of_the_day_is_unreadable():
    # A bare number after the date is no hour; 晚上12点 can be either midnight, 中午7点 is no noon.
    _, bad = values.parse_datetimes(
        _s("2024/1/3 3", "2024/1/3 晚上12点", "2024/1/3 中午7点", "2024/1/3 下午13点", "2024/1/3 25点"),
        keep_time=True,
    )
    assert bad.tolist() == [True] * 5


def test_a_12_hour_clock_past_12_or_am_pm_without_a_time_is_unreadable():
    _, bad = values.parse_datetimes(
        _s("2024/3/5 下午 13:30:00", "2024/3/5 下午", "下午 2:30"), keep_time=True
    )
    assert bad.tolist() == [True, True, True]


def test_date_columns_drop_the_time_of_day_and_datetime_columns_keep_it():
    day, _ = values.parse_datetimes(_s("2024/3/5 14:30"), keep_time=False)
    moment, _ = values.parse_datetimes(_s("2024/3/5 14:30"), keep_time=True)
    assert str(day.iloc[0]) == "2024-03-05 00:00:00"
    assert str(moment.iloc[0]) == "2024-03-05 14:30:00"


def test_impossible_or_unreadable_dates_are_marked_and_blanks_are_not():
    parsed, bad = values.parse_datetimes(
        _s("2023/2/30", "2024-13-01", "next week", "2024", "20240305253000", None, "", "-"), keep_time=False
    )
    assert bad.tolist() == [True, True, True, True, True, False, False, False]
    assert parsed.isna().all()


def test_numbers_with_thousands_separators_and_currency_signs():
    parsed, bad = values.parse_numbers(
        _s("1,280.00", "￥150.00", "¥35", "120元", "1.2万", "-5", " 7 ", "12x", None)
    )
    assert parsed.tolist()[:7] == [1280.0, 150.0, 35.0, 120.0, 12000.0, -5.0, 7.0]
    assert bad.tolist() == [False] * 7 + [True, False]


def test_integers_round_and_refuse_absurd_magnitudes():
    parsed, bad = values.parse_integers(_s("23,410", "99.6", "99999999999"))
    assert parsed.tolist()[:2] == [23410, 100]
    assert bad.tolist() == [False, False, True]


def test_yes_no_words_in_any_case():
    parsed, bad = values.parse_booleans(
        _s("是", "否", "Y", "n", "1", "0", "TRUE", "false", "Yes", "maybe", None)
    )
    assert parsed.tolist()[:9] == [True, False, True, False, True, False, True, False, True]
    assert bad.tolist() == [False] * 9 + [True, False]


def test_reached_words_from_the_product_list():
    words = [
        "接通",
        "已接通",
        "成功",
        "是",
        "Y",
        "1",
        "未接通",
        "无人接听",
        "关机",
        "空号",
        "拒接",
        "占线",
        "失败",
        "否",
        "N",
        "0",
    ]
    parsed, bad = values.parse_reached(_s(*words))
    assert parsed.tolist() == [True] * 6 + [False] * 10
    assert not bad.any()


def test_reached_notes_with_a_failure_word_are_false_and_nonsense_is_unreadable():
    parsed, bad = values.parse_reached(_s("未接通-关机", "已接通，客户满意", "打错了"))
    assert parsed.tolist()[:2] == [False, True]
    assert bad.tolist() == [False, False, True]


def test_service_types_map_by_priority_with_other_as_the_rest():
    texts = ["首保", "首次保养", "定保", "常规保养", "保养", "一般维修", "机修", "维修", "索赔", "三包", "保修",
             "钣喷", "事故", "钣金", "事故车维修", "洗车美容", None, "maintenance"]  # fmt: skip
    expected = ["first_maintenance", "first_maintenance", "maintenance", "maintenance", "maintenance",
                "repair", "repair", "repair", "warranty", "warranty", "warranty",
                "body_paint", "body_paint", "body_paint", "body_paint", "other", "other", "maintenance"]  # fmt: skip
    assert values.parse_service_types(_s(*texts)).tolist() == expected


def test_callback_types_3dc_7dc_and_other():
    texts = ["3DC", "7dc", "三日回访", "售后回访", "七日回访", "新车回访", "销售回访", "投诉回访", None]
    assert values.parse_callback_types(_s(*texts)).tolist() == [
        "3DC", "7DC", "3DC", "3DC", "7DC", "7DC", "7DC", "other", "other"
    ]  # fmt: skip


def test_callback_types_named_by_the_visit_or_the_sale_they_follow():
    # After-sales callbacks named by the service (首保/定保/索赔/钣喷) follow a visit: 3DC; a delivery's
    # (交付, 销售满意度) follows the sale: 7DC; a day count decides first; other purposes stay other.
    texts = [
        "首保回访", "定保回访", "索赔回访", "钣喷回访", "售后服务回访", "维修后回访", "保养后回访",
        "新车交付回访", "销售满意度回访", "交车7日回访", "售后3天回访", "流失客户回访", "DCC回访",
    ]  # fmt: skip
    assert values.parse_callback_types(_s(*texts)).tolist() == ["3DC"] * 7 + ["7DC"] * 3 + [
        "3DC", "other", "other"
    ]  # fmt: skip


def test_complaint_levels_from_numbers_ordinals_and_severity_words():
    texts = ["1", "一级", "二级", "三级", "四级", "轻微", "一般", "严重", "危机", "4级", "5", None]
    parsed, bad = values.parse_complaint_levels(_s(*texts))
    assert parsed.tolist()[:10] == [1, 1, 2, 3, 4, 1, 2, 3, 4, 4]
    assert bad.tolist() == [False] * 10 + [True, False]


@pytest.mark.parametrize(
    ("column", "scale", "expected"),
    [
        (["5", "4", "3", "2", "1", None], "1-5", [10.0, 8.0, 6.0, 4.0, 2.0, None]),
        (["85", "100", "60", "0", "73"], "0-100", [8.5, 10.0, 6.0, 0.0, 7.3]),
        (["9", "10", "6", "0", "3"], "0-10", [9.0, 10.0, 6.0, 0.0, 3.0]),
        (
            ["非常满意", "满意", "比较满意", "一般", "不满意", "非常不满意"],
            "labels",
            [10.0, 8.0, 8.0, 6.0, 4.0, 2.0],
        ),
        (["5", "满意", "3"], "1-5", [10.0, 8.0, 6.0]),
    ],
)
def test_score_scale_is_decided_per_column_from_its_values(column, scale, expected):
    parsed, bad, used = values.parse_scores(_s(*column))
    assert used == scale
    assert [None if pd.isna(v) else v for v in parsed.tolist()] == expected
    assert not bad.any()


def test_a_given_scale_overrides_detection_and_marks_values_off_that_scale():
    parsed, bad, used = values.parse_scores(_s("5", "4", "8"), "1-5")
    assert used == "1-5"
    assert parsed.tolist()[:2] == [10.0, 8.0]
    assert bad.tolist() == [False, False, True]
    kept, _, _ = values.parse_scores(_s("5", "4"), "0-10")
    assert kept.tolist() == [5.0, 4.0]


def test_scores_beyond_a_hundred_or_unknown_words_are_unreadable():
    _, bad, used = values.parse_scores(_s("90", "150", "很好"))
    assert used == "0-100"
    assert bad.tolist() == [False, True, True]


def test_a_question_the_customer_did_not_answer_is_a_blank_score_not_an_unreadable_one():
    # 未评价 (not rated), 拒答 (declined): no score was given, as with "-" or "N/A".
    parsed, bad, used = values.parse_scores(_s("5", "未评价", "拒答", "N/A", "-", "不清楚", "3"))
    assert used == "1-5"
    assert [None if pd.isna(v) else v for v in parsed.tolist()] == [10.0, None, None, None, None, None, 6.0]
    assert not bad.any()


def test_five_level_survey_labels_with_basically_satisfied_are_read():
    # 很满意/满意/基本满意/不满意/很不满意 is the other common five-level wording; 比较不满意 a seven-level one.
    parsed, bad, used = values.parse_scores(
        _s("很满意", "满意", "基本满意", "比较不满意", "较不满意", "很不满意")
    )
    assert used == "labels"
    assert parsed.tolist() == [10.0, 8.0, 6.0, 4.0, 4.0, 2.0]
    assert not bad.any()


@pytest.mark.parametrize(
    "text", ["5-非常满意", "5分-非常满意", "非常满意(5分)", "非常满意（5）", "10：非常满意"]
)
def test_a_label_written_with_its_number_scores_as_the_label(text):
    parsed, bad, used = values.parse_scores(_s(text, "3-一般"))
    assert used == "labels"
    assert parsed.tolist() == [10.0, 6.0]
    assert not bad.any()


@pytest.mark.parametrize(
    "text",
    [
        "LSVAU2A37N\u30002000002",
        "ｌｓｖａｕ２ａ３７ｎ２０００００２",
        "LSVAU2A37N\xa02000002",
        "LSVAU2A37N\t2000002",
    ],
)
def test_a_vin_typed_with_wide_letters_or_any_space_is_the_same_vin(text):
    # A Chinese input method types full-width letters and spaces; web exports pad with no-break spaces.
    assert values.clean_vin(_s(text)).tolist() == ["LSVAU2A37N2000002"]


def test_excel_text_guard_and_blanks_are_cleaned():
    assert values.clean_text(_s('="013800"', "  x ", "", None)).tolist()[:2] == ["013800", "x"]
    assert values.clean_text(_s("", None)).isna().all()
    assert values.clean_vin(_s(" lsv au2a37n2183746 ")).tolist() == ["LSVAU2A37N2183746"]


def _pattern_only(u: pd.Series) -> pd.Series:
    found = values._pattern_datetimes(u)
    return found.where((found >= values.DATE_RANGE[0]) & (found < values.DATE_RANGE[1]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 999, 1899, 1900, 2023, 2024, 2099, 2100, 9999]),
            st.integers(0, 13),
            st.integers(0, 32),
            st.sampled_from(["-", "/", "."]),
            st.one_of(st.none(), st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61))),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    )
)
@example(cells=[(1900, 1, 1, "-", (0, 0, 60), False, True)])  # strptime's leap second, found by this test
def test_common_date_shapes_read_fast_give_what_the_general_pattern_gives(cells):
    texts = []
    for year, month, day, sep, clock, pad, seconds in cells:
        width = 2 if pad else 1
        text = f"{year:04d}{sep}{month:0{width}d}{sep}{day:0{width}d}"
        if clock is not None:
            hour, minute, second = clock
            text += f" {hour:0{width}d}:{minute:02d}" + (f":{second:02d}" if seconds else "")
        texts.append(text)
    u = pd.Series(texts, dtype="str")
    fast, bad = values._datetimes_of(u)
    pd.testing.assert_series_equal(fast, _pattern_only(u).astype("datetime64[us]"), check_names=False)
    assert bad.tolist() == fast.isna().tolist()


def test_plain_numbers_read_fast_give_what_the_general_parser_gives():
    cells = ["751.12", "1,234.50", "¥88", "1.2万", "12 km", "-3", "1e308", "1e999", "abc", "", "—", "0.10"]
    s = pd.Series(cells, dtype="str")
    fast, bad = values.parse_numbers(s)
    text = values.clean_typed(s)
    general, general_bad = values._numbers_of(text)
    pd.testing.assert_series_equal(fast, general.astype("float64"), check_names=False)
    assert bad.tolist() == general_bad.astype(bool).tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("0086138001380001", "0086138001380001"),
        ("+86 138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("0571-8888 6666", "057188886666"),
        ("无", "无"),
        ("138 0013 8000 / 139 0013 9000", "138 0013 8000 / 139 0013 9000"),
    ],
)
def test_phones_are_digits_only(text, expected):
    assert values.normalise_phones(_s(text, "13900139000")).tolist() == [expected, "13900139000"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet="0123456789+-() 86１３", max_size=16), min_size=1, max_size=8))
def test_phones_of_plain_digits_take_the_same_rules_as_the_rest(cells):
    # The vectorised shortcut for plain digits gives what the rule for any cell gives.
    got = values.normalise_phones(pd.Series(cells, dtype="str")).tolist()
    expected = [
        values._phone_text(c.strip()) if c.strip() and c.strip() not in values.MISSING_TOKENS else None
        for c in cells
    ]
    assert [None if pd.isna(v) else v for v in got] == expected
