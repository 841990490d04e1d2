"""A sixth attacker round: numbers written in digits other than ASCII and full-width ones.

Each test makes the attack through the one mask every path uses (``core.auth``: the pages, the
exports, the deck and the chart images call it). Each docstring names what leaked before the fix.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.core import auth

NUMBER = "13812345678"
# The same mobile in the digits a customer or a clerk can pick from an input method's symbol menu.
WRITTEN = {
    "circled": "①③⑧①②③④⑤⑥⑦⑧",
    "parenthesised": "⑴⑶⑻⑴⑵⑶⑷⑸⑹⑺⑻",
    "with a full stop": "⒈⒊⒏⒈⒉⒊⒋⒌⒍⒎⒏",
    "negative circled": "❶❸❽❶❷❸❹❺❻❼❽",
    "mathematical bold": "𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖",
    "superscript": "¹³⁸¹²³⁴⁵⁶⁷⁸",
    "Arabic-Indic": "١٣٨١٢٣٤٥٦٧٨",
    "full-width": "１３８１２３４５６７８",
}


def _as_ascii(text: str) -> str:
    """The text with every digit-valued character as its ASCII digit: what a reader reads."""
    import unicodedata

    return "".join(str(d) if (d := unicodedata.digit(ch, None)) is not None else ch for ch in text)


@pytest.mark.parametrize("kind", sorted(WRITTEN))
def test_a_mobile_written_in_decorative_digits_inside_a_comment_is_masked(kind):
    """The README promises mobiles in free text masked for the roles that do not see phones. Only
    ASCII and full-width digits were read as digits: a comment 'call me ①③⑧①②③④⑤⑥⑦⑧' or one in
    mathematical bold digits showed the number in full to the manager (the mask's first check
    counted fewer than ten digits and returned the text unchanged)."""
    comment = f"服务不错，有事打我{WRITTEN[kind]}谢谢"
    masked = str(auth.mask_text(comment))
    assert NUMBER not in _as_ascii(masked), masked
    assert masked == "服务不错，有事打我138****5678谢谢"


@pytest.mark.parametrize("kind", sorted(WRITTEN))
def test_a_phone_column_in_decorative_digits_is_masked_like_any_other(kind):
    """A phone column holding circled digits became '****' (harmless), but mathematical or Arabic-Indic
    digits were kept as written with their middle hidden; now every kind reads as the ASCII
    number and is masked the same way."""
    assert auth.mask_phone(WRITTEN[kind]) == "138****5678"


def test_decorative_digits_are_masked_in_every_text_column_of_a_frame():
    """``mask_frame`` (the lists, the exports, the audit log) searches every text column but the codes."""
    frame = pd.DataFrame(
        {
            "customer_name": [f"王先生{WRITTEN['circled']}", "李女士"],
            "comment": [f"加微信{WRITTEN['mathematical bold']}", "很好"],
            "phone": [WRITTEN["superscript"], None],
            "vin": ["LSVAA4180E2000001", "LSVAA4180E2000002"],
        }
    )
    shown = auth.mask_frame(frame)
    for column in ("customer_name", "comment", "phone"):
        for value in shown[column].dropna():
            assert NUMBER not in _as_ascii(str(value)), (column, value)
    assert shown.loc[0, "customer_name"] == "王先生138****5678"
    assert shown["vin"].tolist() == frame["vin"].tolist()


def test_numbers_of_ten_or_more_in_one_character_and_ordinary_text_are_left_alone():
    """Characters worth ten or more (⑩, ⑳) are no digits; a comment without a number is unchanged."""
    for text in ("第⑩次来店，服务一如既往", "保养⑳项全部检查完毕", "师傅很专业，价格也公道"):
        assert auth.mask_text(text) == text
