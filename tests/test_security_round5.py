"""A fifth attacker round: each test makes an attack on a promise of the README through the code
path every caller goes through (the mask, the layout of every saved chart image). Each one that
broke the promise is named in its docstring, with what leaked."""

from __future__ import annotations

import pytest

from analytics.core import auth

# --------------------------------------------------------------------------- masking in text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("座机0571-8888-6666，白天打", "座机057*****6666，白天打"),  # the number in two groups
        ("电话 (0571) 8888 6666", "电话 057*****6666"),
        ("北京010-6666-8888找王经理", "北京010****8888找王经理"),
        ("门店电话0571 888 6666", "门店电话057****6666"),  # a seven-digit number, 3-4
        ("家里+86 571 8888 6666", "家里057*****6666"),  # the country code, the area code's 0 left out
        ("家里0086-10-66668888", "家里010****8888"),
        ("身份证330106 1990 0101 123X", "身份证330***********123X"),  # an ID card in 6-4-4-4
        ("身份证330106-1990-0101-1234。", "身份证330***********1234。"),
    ],
)
def test_landlines_and_id_cards_written_in_groups_are_masked(text, masked):
    """The README promises landlines with their area code and resident ID card numbers masked for
    the roles that do not see phones. A landline was found only with its number in one run
    (0571-88886666): a customer who wrote it as people say it, 0571-8888-6666 or (0571) 8888 6666,
    or after +86, showed it in full to the manager in the theme quotes, the audit log and the
    deck. An ID card written 6-4-4-4 (330106 1990 0101 123X) was not seen as one, and the
    mobile pattern masked its middle instead, leaving the area, the birth year and the sequence."""
    assert auth.mask_text(text) == masked
