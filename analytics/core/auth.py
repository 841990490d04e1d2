"""Accounts and roles: who may see phone numbers, export lists and import data; password hashes.

Pure (no streamlit): the dashboard's sign-in (``ui/auth.py``) and the ``hash-password`` command
both use it. Accounts come from a mapping, the parsed ``.streamlit/secrets.toml``::

    [auth.accounts.zhangli]
    name = "张丽"
    role = "cs_lead"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

Without accounts the dashboard runs in local single-user mode with the ``cs_lead`` role.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
import time
import tomllib
import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.core.errors import UserError


@dataclass(frozen=True)
class Permissions:
    """What a role may do; everything else on the dashboard (charts, KPIs, the deck) is open to all."""

    sees_phone: bool  # phone numbers in clear; otherwise masked as 138****1234
    export_lists: bool  # download lists of customers, vehicles or comments (CSV/XLSX)
    import_data: bool  # upload, import, build the demo, roll back imports, retrain the model
    see_audit: bool = False  # the audit log: who signed in, imported, exported (issue 19)


# The role policy: the CS lead and the agents call customers; the manager and viewers read the
# dashboards, whose figures are aggregates, and never handle phone numbers.
POLICY: dict[str, Permissions] = {
    "manager": Permissions(sees_phone=False, export_lists=False, import_data=False, see_audit=True),
    "cs_lead": Permissions(sees_phone=True, export_lists=True, import_data=True, see_audit=True),
    "agent": Permissions(sees_phone=True, export_lists=True, import_data=False),
    "viewer": Permissions(sees_phone=False, export_lists=False, import_data=False),
}
ROLES: tuple[str, ...] = tuple(POLICY)
LOCAL_ROLE = "cs_lead"  # local single-user mode: the one user can do everything
LOCAL_USER = "local"  # who acts while no accounts are configured

# Columns that hold a phone number, under their canonical names (exports relabel them later).
PHONE_COLUMNS: frozenset[str] = frozenset({"phone", "customer_phone", "mobile"})
# Columns never searched for numbers inside text: keys and codes, whose digits are not phones (an
# order number may be all digits). Not the plate: the column keeps what is not a plate as written
# (临牌 车主138…), and a plate holds no run of ten digits that the search could take for a number.
# Nor the VIN, kept as written when it is no VIN (a mobile typed for want of one): a VIN's own digits
# never run to ten, its tenth character being the model year's letter (2010-2030).
CODE_COLUMNS: frozenset[str] = frozenset({"order_id", "callback_id", "import_id", "sha256"})
# Kept for callers that name the free-text columns; every other text column is searched too.
TEXT_COLUMNS: frozenset[str] = frozenset({"comment", "raw_values"})

_ALREADY_MASKED = re.compile(r"^\d{0,3}\*{4,}\d{0,4}$")
# Personal numbers written inside text (a comment, a phone typed into the name field), searched on
# a copy with full-width digits made ASCII, characters that show nothing dropped (``_unseen``) and
# each run of spaces read as one. A number may follow letters or Chinese (微信wx137…) but is never
# part of a longer run of digits.
# Between two digits of a group: at most one character that is neither a letter, a digit nor
# Chinese (1 3 8 1 2 3 4 …, 1,3,8,1,2 …, 1|3|8|1 …): punctuation and symbols of any kind, not a list
# of them, since any of them leaves the number as readable. Two or more between every digit read as
# a list of single numbers (评分 1, 3, 5, 4 …), which stays as written.
_IN = r"[\W_]?"
# Between the groups of a number: up to five of them (138，1234，5678; 138/1234/5678; (138)1234-5678;
# 139*0000*0005; 139|1234|5678; 139 - - 1234). A letter ends a number: it marks a code (139x1234).
_BETWEEN = r"[\W_]{0,5}"
# A mainland mobile (1[3-9] and nine digits) in its 3-4-4 groups, after an optional +86 / 0086 / 86.
_MOBILE_IN_TEXT = re.compile(
    rf"(?<!\d)(?:(?:\+|00)?86{_BETWEEN})?(1{_IN}[3-9]{_IN}\d{_BETWEEN}\d{_IN}\d{_IN}\d{_IN}\d"
    rf"{_BETWEEN}\d{_IN}\d{_IN}\d{_IN}\d)(?!\d)"
)
# Characters that show nothing, or nothing a reader takes for part of a number: format characters
# (Cf: zero-width spaces and joiners, bidirectional marks, the word joiner and invisible operators,
# tags), combining marks (Mn, Me: a variation selector, a keycap or a line drawn on each digit),
# control characters (Cc) other than line breaks and tabs, which count as spaces, surrogates,
# private-use and unassigned code points; and the letters and symbols drawn blank (the Hangul
# fillers and the Braille blank).
_UNSEEN_CATEGORIES = frozenset({"Cf", "Mn", "Me", "Cc", "Cs", "Co", "Cn"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Bidirectional types that can make digits show right to left: a number stored backwards under an
# override, in an isolate or between right-to-left marks or letters is shown in its right order.
_RIGHT_TO_LEFT = frozenset({"R", "AL", "RLE", "RLO", "RLI"})
# A resident ID card number: area (6 digits), birth date (8), sequence (3), check digit or X; in
# one run, 6-8-4 groups or 6-4-4-4 (the year apart from the month and day). Like a mobile, after
# letters too (身份证sfz110…, ID110…): a VIN's digits never run so long, and an order number quoted in
# a comment that reads as one is masked with it (the code columns themselves are not searched).
# Its groups, and the year, month and day of its birth date, are set apart by up to three of any
# punctuation, symbol or space (110101/19900307/1234, 110101 1990-03-07 1234, 110101.1990.03.07.1234).
_ID_GROUPS = r"[\W_]{0,3}"
_ID_CARD_IN_TEXT = re.compile(
    rf"(?<!\d)([1-9]\d{{5}}{_ID_GROUPS}(?:18|19|20)\d{{2}}{_ID_GROUPS}(?:0[1-9]|1[0-2]){_ID_GROUPS}"
    rf"(?:0[1-9]|[12]\d|3[01]){_ID_GROUPS}\d{{3}}[0-9Xx])(?![0-9A-Za-z])"
)
# A bank card: 16-19 digits starting 3-6, in groups of four or not, set apart as an ID card's are
# (6222.0212.3456.7890.128, 6222/0212/…), whose Luhn check holds.
_CARD_IN_TEXT = re.compile(
    rf"(?<!\d)([3-6]\d{{3}}(?:{_ID_GROUPS}\d{{4}}){{3}}(?:{_ID_GROUPS}\d{{1,3}})?)(?![0-9A-Za-z])"
)
# A landline with its area code: 0571-88886666, (0571)88886666, 010 6666 8888, the number itself
# written in two groups as people say it (0571-8888-6666, 0571 888 6666), or after +86 / 0086 / 86
# with the area code's 0 left out (+86 571 8888 6666). Its groups are set apart as a mobile's are:
# any punctuation, symbol or space, up to five between groups and one between two digits of the
# number, as a mobile's are (0571.8888.6666, 0571|8888|6666, 0571 - 8888 - 6666, 0571 8 8 8 8 6 6 6 6).
# The area code is written in one piece, so that a range of dates (2024/01/01 - 2024/12/31) is none.
_LANDLINE_IN_TEXT = re.compile(
    rf"(?<!\d)((?:(?:\+|00)?86{_BETWEEN}(?:\(0?[1-9]\d{{1,2}}\)|0?[1-9]\d{{1,2}})"
    rf"|\(0\d{{2,3}}\)|（0\d{{2,3}}）|0\d{{2,3}})"
    rf"{_BETWEEN}[2-9]{_IN}\d{_IN}\d(?:{_IN}\d)?{_BETWEEN}\d{_IN}\d{_IN}\d{_IN}\d)(?!\d)"
)


# Dots drawn in the middle of the line, written between a number's groups as · is.
_MIDDLE_DOTS = "•‧・･∙⋅"


@cache
def _plain() -> dict[int, str]:
    """Return the table that writes every character with a digit value as its ASCII digit, one
    for one: full-width (１３９), circled (①), parenthesised (⑴), with a full stop (⒈), negative
    circled (❶ ➊), superscript (¹), subscript (₁), mathematical (𝟏) and every script's own
    (Arabic-Indic ١, Devanagari १ ...); also the ideographic space, every sign NFKC reads as an
    ASCII one (the full-width ＋－．／＼＿～ an input method types, the small ﹣﹒), every dash (〜 ⸺)
    as a hyphen and the other middle dots (・ ‧ •) as ·, so a number is set apart by them as by the
    plain signs, and an ID card's full-width Ｘ. (Characters worth ten or more, ⑩, are no digit and
    stay.)"""
    table: dict[int, str] = {}
    for code in range(0x80, 0x20000):
        ch = chr(code)
        digit = unicodedata.digit(ch, None)
        if digit is not None:
            table[code] = str(digit)
            continue
        plain = unicodedata.normalize("NFKC", ch)
        if len(plain) == 1 and plain.isascii() and plain.isprintable() and not plain.isalnum():
            table[code] = plain
        elif unicodedata.category(ch) == "Pd":
            table[code] = "-"
    table.update({ord(dot): "·" for dot in _MIDDLE_DOTS})
    # An ID card's check character in full width (other letters stay: a letter after a number
    # marks it as part of a code).
    table.update({ord("Ｘ"): "X", ord("ｘ"): "x"})
    return table


@cache
def _digit_like() -> re.Pattern[str]:
    """Return a pattern matching one digit of any kind (``_plain``'s digits and ASCII ones)."""
    # \d is every decimal digit (Unicode's Nd); the rest (circled, superscript ...) listed.
    others = "".join(
        re.escape(chr(code))
        for code, ch in _plain().items()
        if ch.isdigit() and unicodedata.category(chr(code)) != "Nd"
    )
    return re.compile(f"[\\d{others}]")


def _unseen(ch: str) -> bool:
    """Return whether ``ch`` is skipped when looking for a number (see ``_UNSEEN_CATEGORIES``)."""
    return ch in _BLANK_LETTERS or (unicodedata.category(ch) in _UNSEEN_CATEGORIES and not ch.isspace())


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _masked_number(kind: str, found: str) -> str | None:
    """Return how a number found in text is shown masked, or None when it is not one after all."""
    digits = re.sub(r"[^0-9Xx]", "", found)
    if kind == "id":
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if kind == "card":
        return "*" * (len(digits) - 4) + digits[-4:] if 16 <= len(digits) <= 19 and _luhn(digits) else None
    if kind == "mobile":
        return f"{digits[:3]}****{digits[-4:]}"
    if found.startswith(("+86", "0086", "86")):  # a landline after the country code: its area code's 0
        digits = "0" + digits[4 if found.startswith("00") else 2 :].lstrip("0")
    return str(mask_phone(digits))


def permissions(role: str) -> Permissions:
    """Return the permissions of ``role``; an unknown role raises ``ValueError``."""
    try:
        return POLICY[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; the roles are {', '.join(ROLES)}") from None


def mask_phone(value: object) -> object:
    """Return a phone number with its middle digits hidden: ``13812341234`` → ``138****1234``.

    Separators, a +86/0086 prefix and junk characters are dropped. At least four digits are
    always hidden: 11 digits or more (mobiles, landlines with area code) keep their first 3 and
    last 4; 8 to 10 digits keep the last 4 and fewer leading ones; 6 or 7 digits keep the last 2;
    anything shorter, or text without digits, becomes ``****``. Missing values and ``""`` stay as
    they are, and a value already masked is returned unchanged.
    """
    if value is None or (isinstance(value, float) and value != value):
        return value
    text = str(value).strip()
    if not text or _ALREADY_MASKED.match(text):
        return value if not text else text
    digits = re.sub(r"[^0-9]", "", text.translate(_plain()))
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("00861"):
        digits = digits[4:]
    n = len(digits)
    if n >= 8:
        head = min(3, n - 8)
        return digits[:head] + "*" * (n - head - 4) + digits[-4:]
    if n >= 6:
        return "*" * (n - 2) + digits[-2:]
    return "****"


def mask_text(value: object) -> object:
    """Return free text with the personal numbers in it masked: mainland mobiles (``138****1234``),
    resident ID cards (``110***********1234``), bank cards that pass the Luhn check
    (``***************0128``) and landlines with an area code (``057*****6666``).

    Every kind of digit counts (full-width ``１３９１２３４５６７８``, circled ``①③⑨…``, mathematical
    ``𝟏𝟑𝟗…``, superscript, other scripts': ``_plain``), characters that show nothing between
    digits are ignored (zero-width and other format characters, combining marks and variation
    selectors, control characters, Hangul fillers, the Braille blank: ``_unseen``) and a run of
    spaces of any kind counts as one. A number may follow letters or Chinese (``微信wx13700000001``,
    ``张先生13700000009``) or be split by any punctuation, symbols or spaces (``139|1234|5678``). In
    text that can be drawn right to left (an override, an isolate, right-to-left marks or letters)
    numbers are looked for backwards too: one stored reversed there is shown in its right order.
    """
    if not isinstance(value, str) or len(_digit_like().findall(value)) < 10:
        return value  # the shortest number masked, a landline with its area code, has 10 digits
    # Translated one character for one, then unseen characters and all but the first of each run of
    # spaces dropped: ``at[i]`` is where the i-th character searched stands in the text.
    wide = value.translate(_plain())
    at: list[int] = []
    for i, ch in enumerate(wide):
        if not (_unseen(ch) or (ch.isspace() and at and wide[at[-1]].isspace())):
            at.append(i)
    searched = "".join(wide[i] for i in at)
    readings = [(searched, False)]
    if any(unicodedata.bidirectional(ch) in _RIGHT_TO_LEFT for ch in value):
        readings.append((searched[::-1], True))
    spans: list[tuple[int, int, str]] = []
    for text, backwards in readings:
        for kind, pattern in (
            ("id", _ID_CARD_IN_TEXT),
            # A card before a mobile: a card's digits can hold a mobile's shape, and only a card
            # whose Luhn check holds is taken.
            ("card", _CARD_IN_TEXT),
            ("mobile", _MOBILE_IN_TEXT),
            ("landline", _LANDLINE_IN_TEXT),
        ):
            for m in pattern.finditer(text):
                start, end = (len(text) - m.end(), len(text) - m.start()) if backwards else m.span()
                if any(start < e and s < end for s, e, _ in spans):
                    continue  # a number already found (an ID card holds no mobile of its own)
                shown = _masked_number(kind, m.group(1))
                if shown is not None:
                    # Written backwards as the number was, to be shown in the same order it was.
                    spans.append((start, end, shown[::-1] if backwards else shown))
    if not spans:
        return value
    parts, done = [], 0
    for start, end, shown in sorted(spans):
        parts += [value[done : at[start]], shown]
        done = at[end - 1] + 1
    return "".join([*parts, value[done:]])


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with every phone column masked and mobile numbers masked in every other text
    column (comments, names, notes, plates, VINs) but the codes (order and callback numbers)."""
    out = frame.copy()
    for column in out.columns:
        name = str(column)
        if name in PHONE_COLUMNS:
            out[column] = out[column].map(mask_phone).astype(object)
        elif name not in CODE_COLUMNS and not is_numeric_or_date(out[column]):
            dtype = out[column].dtype
            masked = out[column].astype(object).map(mask_text)
            out[column] = masked if isinstance(dtype, pd.CategoricalDtype) else masked.astype(dtype)
    return out


def is_numeric_or_date(column: pd.Series) -> bool:
    """Return whether a column holds numbers, booleans or dates (never text to search)."""
    kind = column.dtype.kind
    return kind in "biufcmM"


LOOPBACK_ADDRESSES: frozenset[str] = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def local_mode_allowed(
    address: str | None, serve_network_without_accounts: bool, client: str = "local"
) -> bool:
    """Return whether local single-user mode (no accounts, full rights) may serve ``address`` to
    ``client`` (``client_address``: ``local`` for this machine, ``unknown`` without a request).

    Only this machine may have full rights without signing in, unless the setting says the
    network is meant to. An empty address is Streamlit's default: every interface. A dashboard
    bound to this machine can still be served to the network by a reverse proxy here: a browser
    the proxy names in X-Forwarded-For is another computer, and is refused as well.
    """
    if serve_network_without_accounts:
        return True
    bound = (address or "").strip().lower()
    return bound in LOOPBACK_ADDRESSES and (client in ("local", "unknown") or _is_loopback(client))


def loopback_host(host: str | None) -> bool:
    """Return whether a request's Host header names this machine by its loopback name or address:
    ``localhost``, ``127.0.0.1`` (or another of 127.0.0.0/8) or ``[::1]``, with or without a port.

    A browser sends the name it was given: after DNS rebinding (a site's name made to resolve to
    127.0.0.1) it connects to this machine but names that site, and the site's script reads the
    answers as its own. No name a DNS server answers is taken, ``*.localhost`` included (browsers
    differ on whether they ask one for it).
    """
    if not host:
        return False
    try:
        parsed = urllib.parse.urlsplit(f"//{host.strip()}")
        name = parsed.hostname
        _ = parsed.port  # a port that is no number makes no host
    except ValueError:
        return False
    if name is None or parsed.username is not None or parsed.password is not None:
        return False
    if parsed.path or parsed.query or parsed.fragment:
        return False
    name = name.rstrip(".")
    return name == "localhost" or _is_loopback(name)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password`` (with its own salt) to store in secrets.toml."""
    from argon2 import PasswordHasher  # here: the CLI loads this module for every command

    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash``; a malformed hash never matches."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(PasswordHasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Account:
    """One local account from secrets.toml."""

    username: str
    name: str
    role: str
    password_hash: str = field(repr=False)


class AccountsError(UserError):
    """The accounts in secrets.toml cannot be used; ``problems`` holds one sentence per fault."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


@cache
def _dummy_hash() -> str:
    # Verified against when the user name is unknown, so an unknown name costs as much as a wrong password.
    return hash_password("not a password of anyone")


def account_stamp(account: Account) -> str:
    """Return a digest of what a signed-in session holds to: the account's role and password hash.

    Kept in the session at sign-in and compared on every run, so a new password (after a leak) or
    a new role in secrets.toml ends the sessions signed in before it.
    """
    return hashlib.sha256(f"{account.role}\0{account.password_hash}".encode()).hexdigest()


def check_password(accounts: Mapping[str, Account], username: str, password: str) -> Account | None:
    """Return the account when ``username`` and ``password`` match one, else None."""
    account = accounts.get(username.strip())
    if account is None:
        verify_password(_dummy_hash(), password)
        return None
    return account if verify_password(account.password_hash, password) else None


_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

# The key of this process's digests of names that are no account (``recorded_name``): a new one at
# every start, so a digest tells two tries apart and is no hash a guess can be checked against.
_UNKNOWN_NAME_KEY = secrets.token_bytes(32)
UNKNOWN_ACCOUNT = "unknown account"  # holds a space, which no account's user name may


def recorded_name(accounts: Mapping[str, Account], typed: str) -> str:
    """Return the name a failed sign-in is recorded under in the audit log: the user name when it is
    a configured account's, else ``unknown account`` and a short digest of what was typed.

    People type their password into the user-name field (or the name and the password run
    together); what was typed is shown to the manager on the audit tab, so only account names are
    kept as typed. The digest, keyed for this server process only, tells whether the same thing
    was typed again without keeping anything a guess could be checked against later.
    """
    if typed in accounts:
        return typed
    digest = hmac.new(_UNKNOWN_NAME_KEY, typed.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return f"{UNKNOWN_ACCOUNT} {digest.hexdigest()[:6]}"


def load_accounts(secrets: Mapping[str, Any]) -> dict[str, Account]:
    """Return the local accounts under ``[auth.accounts]``, keyed by user name ({} when none).

    Every fault (unknown role, missing or malformed hash, odd user name) is collected and raised
    together as an ``AccountsError`` whose sentences say what to fix; no account is half-loaded.
    """
    section = secrets.get("auth") or {}
    if not isinstance(section, Mapping):
        raise AccountsError(["[auth] in secrets.toml must be a table."])
    raw = section.get("accounts") or {}
    if not isinstance(raw, Mapping):
        raise AccountsError(["[auth.accounts] in secrets.toml must be a table of accounts."])
    if not raw and _has_oidc(section):
        # Without this, an OIDC-only configuration would open the dashboard in local mode.
        raise AccountsError(
            [
                "secrets.toml configures OIDC sign-in (st.login), which this dashboard does not use: "
                "it has no way to give such a user a role. Configure local accounts under "
                "[auth.accounts] (see .streamlit/secrets.toml.example)."
            ]
        )
    problems: list[str] = []
    accounts: dict[str, Account] = {}
    for username, entry in raw.items():
        where = f"Account {username!r} in secrets.toml"
        if not _USERNAME.match(str(username)):
            problems.append(f"{where}: a user name may only hold letters, digits and _ . @ -.")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a table with role and password_hash.")
            continue
        role = entry.get("role")
        if role not in POLICY:
            problems.append(
                f"{where} has {'no role' if role is None else f'the unknown role {role!r}'}; "
                f"use one of {', '.join(ROLES)}."
            )
        password_hash = entry.get("password_hash")
        if not password_hash:
            problems.append(
                f"{where} has no password_hash; make one with `python -m analytics hash-password`."
            )
        elif not str(password_hash).startswith("$argon2"):
            problems.append(
                f"{where}: password_hash is not an argon2 hash (a plain password?); "
                "make one with `python -m analytics hash-password`."
            )
        if role in POLICY and password_hash and str(password_hash).startswith("$argon2"):
            accounts[str(username)] = Account(
                username=str(username),
                name=str(entry.get("name") or username),
                role=str(role),
                password_hash=str(password_hash),
            )
    for account in accounts.values():
        if uses_example_password(account.password_hash):
            problems.append(
                f"Account {account.username!r} in secrets.toml has a password published in "
                ".streamlit/secrets.toml.example, so anyone can sign in with it; give it a new hash "
                "made with `python -m analytics hash-password`."
            )
    if problems:
        raise AccountsError(problems)
    return accounts


# The passwords whose hashes .streamlit/secrets.toml.example publishes (tests check the file).
EXAMPLE_PASSWORDS: tuple[str, ...] = (
    "example-only-zhangli",
    "example-only-wangqiang",
    "example-only-chenjing",
)


@lru_cache(maxsize=256)
def uses_example_password(password_hash: str) -> bool:
    """Return whether ``password_hash`` verifies against a password published in the example file."""
    # Cached per hash: the accounts are loaded on every page run and argon2 is slow on purpose.
    return any(verify_password(password_hash, pw) for pw in EXAMPLE_PASSWORDS)


_OIDC_KEYS = frozenset({"client_id", "client_secret", "server_metadata_url", "redirect_uri"})


def _has_oidc(section: Mapping[str, Any]) -> bool:
    nested = (v for k, v in section.items() if k != "accounts" and isinstance(v, Mapping))
    return bool(_OIDC_KEYS & set(section)) or any(_OIDC_KEYS & set(v) for v in nested)


def read_secrets(path: str | Path) -> dict[str, Any]:
    """Return a secrets TOML file parsed ({} when it does not exist); a broken file raises."""
    target = Path(path)
    if not target.is_file():
        return {}
    try:
        with target.open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccountsError(
            [f"{target} is not valid TOML ({exc}); fix it before the dashboard starts."]
        ) from exc


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """Return who signs in, for the per-client limit: an IP address, or ``local`` for this machine.

    ``peer`` is the connection's address (None for this machine: Streamlit gives no loopback
    address; also when it is no address, or the address uvicorn takes from the header for a
    connection from this machine, ``_uvicorn_client``). When it is one of ``trusted_proxies``
    (addresses or networks), the browser is the
    right-most address of ``forwarded_for`` (the X-Forwarded-For header) that is not itself a
    trusted proxy: each proxy appends the address it saw, so what a browser writes into the header
    stands to its left and is never taken. A connection from anywhere else is its own address,
    whatever its header says; a header whose right-most entry is no address is ignored.
    """
    networks = [ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies]
    if peer is not None and (
        _address(peer) is None or (forwarded_for and peer == _uvicorn_client(forwarded_for))
    ):
        # Streamlit's server (uvicorn, proxy headers on by default) gives a connection from this
        # machine that sends X-Forwarded-For the address the header names: any program here
        # could name a new client for each try. Such a connection is this machine's.
        peer = None
    itself = peer or "local"
    if not forwarded_for or not _in_networks(peer or "127.0.0.1", networks):
        return itself
    for hop in reversed(forwarded_for.split(",")):
        address = _hop_address(hop)
        if address is None:
            return itself
        if not _in_networks(address, networks):
            return address
    return itself


def _uvicorn_client(forwarded_for: str) -> str:
    """Return the address uvicorn gives a connection from this machine (127.0.0.1 or ::1, its
    ``forwarded_allow_ips`` by default) that sends ``forwarded_for``: the right-most entry that is
    not one of those two, else the first, each without its port (uvicorn's ``ProxyHeadersMiddleware``
    as of 0.55, mirrored entry for entry)."""
    entries = [entry.strip() for entry in forwarded_for.split(",")]
    for entry in reversed(entries):
        host = _uvicorn_host(entry)
        if _address(host) not in ("127.0.0.1", "::1"):
            return host
    return _uvicorn_host(entries[0])


def _uvicorn_host(entry: str) -> str:
    """Return the host of one X-Forwarded-For entry as uvicorn reads it (``[::1]:80`` → ``::1``,
    ``1.2.3.4:80`` → ``1.2.3.4``, anything malformed as written)."""
    if entry.startswith("["):
        end = entry.find("]")
        if end == -1:
            return entry
        rest = entry[end + 1 :]
        return entry[1:end] if not rest or rest.startswith(":") else entry
    if entry.count(":") == 1:
        host, port = entry.rsplit(":", 1)
        try:
            int(port)
        except ValueError:
            return entry
        return host
    return entry


def _address(text: str) -> str | None:
    """Return ``text`` as an IP address in its usual form, or None when it is none."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _hop_address(hop: str) -> str | None:
    """Return the IP address of one X-Forwarded-For entry (``1.2.3.4``, ``1.2.3.4:5678``,
    ``[2001:db8::1]:443``), or None when it is none."""
    text = hop.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _in_networks(address: str, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


@dataclass
class SignInThrottle:
    """Failed sign-ins, counted before the password is checked so that parallel tries cannot slip
    past the count: per user name a growing wait after ``max_failures`` (never a lock-out, which
    anyone could impose on the CS lead), per client a lock after ``client_max_failures``."""

    max_failures: int = 5  # per user name within window_seconds before each try must wait
    window_seconds: float = 300.0  # how long a failure counts; also how long a client stays locked
    client_max_failures: int = 20  # per client (IP address) within window_seconds
    first_wait_seconds: float = 1.0  # the wait after max_failures, doubling with each further failure
    max_wait_seconds: float = 60.0
    _users: dict[str, list[float]] = field(default_factory=dict)
    _clients: dict[str, list[float]] = field(default_factory=dict)
    # Per locked client and waiting user name, the lock or wait whose first refusal was reported:
    # the moment of the failure that began it.
    _episodes: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin(self, username: str, client: str, now: float) -> tuple[str, float]:
        """Return ``("ok", 0)`` and count this try as a failure until ``succeeded``, or the reason to
        refuse it (``"client_locked"`` or ``"user_wait"``) and the seconds to wait; atomic."""
        reason, wait, _ = self.begin_try(username, client, now)
        return reason, wait

    def begin_try(self, username: str, client: str, now: float) -> tuple[str, float, bool]:
        """Return what ``begin`` returns and whether a refusal is the first of its lock or wait (a
        refusal costs no password check, so only the first of each is worth recording); atomic."""
        with self._lock:
            tries = self._recent(self._clients, client, now)
            if len(tries) >= self.client_max_failures:
                began = tries[-self.client_max_failures]
                first = self._first_refusal(("client", client), began, now)
                return "client_locked", began + self.window_seconds - now, first
            failures = self._recent(self._users, username, now)
            wait = self._user_wait(failures, now)
            if wait > 0:
                return "user_wait", wait, self._first_refusal(("user", username), failures[-1], now)
            failures.append(now)
            tries.append(now)
            return "ok", 0.0, False

    def _first_refusal(self, who: tuple[str, str], began: float, now: float) -> bool:
        if self._episodes.get(who) == began:
            return False
        # Episodes that have ended are forgotten, so the table holds only those under way.
        horizon = now - self.window_seconds - self.max_wait_seconds
        for key in [key for key, moment in self._episodes.items() if moment < horizon]:
            del self._episodes[key]
        self._episodes[who] = began
        return True

    def succeeded(self, username: str, client: str, started: float) -> None:
        """Forget the failures of a user who signed in, and the client's try counted at ``started``."""
        with self._lock:
            self._users.pop(username, None)
            tries = self._clients.get(client, [])
            if started in tries:
                tries.remove(started)

    def _recent(self, table: dict[str, list[float]], key: str, now: float) -> list[float]:
        recent = [t for t in table.get(key, []) if now - t < self.window_seconds]
        table[key] = recent
        return recent

    def _user_wait(self, failures: list[float], now: float) -> float:
        extra = len(failures) - self.max_failures
        if extra < 0:
            return 0.0
        wait = min(self.max_wait_seconds, self.first_wait_seconds * 2.0**extra)
        return max(0.0, failures[-1] + wait - now)


@dataclass(frozen=True)
class SignInOutcome:
    """What a sign-in try came to: the account, or why not (``wrong``, ``user_wait``,
    ``client_locked``) and how many seconds to wait before the next try; ``worth_recording`` says
    whether it belongs in the audit log (every sign-in and wrong password, and only the first
    refusal of each lock or wait, so that refused tries cannot fill the log)."""

    account: Account | None
    reason: str
    wait_seconds: float = 0.0
    worth_recording: bool = True


def attempt_sign_in(
    throttle: SignInThrottle,
    accounts: Mapping[str, Account],
    username: str,
    password: str,
    client: str,
    now: float | None = None,
) -> SignInOutcome:
    """Return the outcome of one sign-in try; the throttle counts it before the password is checked."""
    started = time.monotonic() if now is None else now
    reason, wait, first = throttle.begin_try(username, client, started)
    if reason != "ok":
        return SignInOutcome(None, reason, wait, worth_recording=first)
    account = check_password(accounts, username, password)
    if account is None:
        return SignInOutcome(None, "wrong")
    throttle.succeeded(username, client, started)
    return SignInOutcome(account, "ok")
