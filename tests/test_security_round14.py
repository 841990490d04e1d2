"""Session 42's attack on the phone mask: a mobile written with separators outside the list the
mask used to know (a bar, a plus, a hash, brackets, a comma after every digit) was shown in clear
to the roles that see no phones, on the pages, in the deck and in chart images; and a chart's file
name masked a store's name before it turned its bars into dashes, which wrote the number out."""

from __future__ import annotations

import re
import unicodedata

import pytest

from analytics.core import auth
from analytics.reports.chart_export import file_stem

NUMBER = "13912345678"
GROUPS = ("139", "1234", "5678")


def _digits(text: object) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", str(text)))


@pytest.mark.parametrize(
    "separator",
    ["|", "｜", "+", "＋", "#", "=", "'", '"', "[", "]", "【", "】", "「", "&", "^", "$", " - - ", " | "],
)
def test_a_mobile_in_groups_set_apart_by_any_punctuation_or_symbol_is_masked(separator):
    masked = auth.mask_text("电话" + separator.join(GROUPS) + "。")
    assert NUMBER not in _digits(masked), masked
    assert "****" in str(masked)


@pytest.mark.parametrize("separator", ["|", ",", "，", "、", "/", "_", "~", ":", "*", ";", "#", "+"])
def test_a_mobile_with_a_sign_after_every_digit_is_masked(separator):
    masked = auth.mask_text("回电" + separator.join(NUMBER))
    assert NUMBER not in _digits(masked), masked


@pytest.mark.parametrize("text", ["0571|8888|6666", "0571#88886666", "(0571)|8888|6666"])
def test_a_landline_set_apart_by_any_sign_is_masked(text):
    masked = auth.mask_text("座机" + text)
    assert "88886666" not in _digits(masked), masked


@pytest.mark.parametrize(
    "text",
    [
        "评分 1, 3, 5, 4, 2, 3, 4, 5, 1, 2, 3",  # a list of single numbers
        "金额 1,234.50 元，里程 12345 km，日期 2026.10.13 13:30",
        "13:30-14:00 15:00-16:00 两个时段",
        "工单WO2024051312345 已结",
    ],
)
def test_ordinary_numbers_beside_signs_stay_as_written(text):
    assert auth.mask_text(text) == text


@pytest.mark.parametrize(
    "store", ["西湖店139|1234|5678", "西湖店139#1234#5678", "西湖店1,3,9,1,2,3,4,5,6,7,8"]
)
def test_a_chart_file_name_never_writes_out_a_number_in_a_store_name(store):
    stem = file_stem("deck", "2026-10", store, "zh")
    assert NUMBER not in _digits(stem), stem
    assert re.fullmatch(r"[\w\-]+", stem), stem
