"""Excel number formats that change what a number cell says: the text Excel shows for such a cell.

A workbook keeps a number and the format Excel shows it in. Most formats change only how a number
looks (``#,##0.00`` shows 1234.5 as 1,234.50, the same number), and the import reads the number.
A few change what the cell says, and a CSV saved from the same sheet writes what is shown: zeros
padded in front (``000000`` shows 1234 as 001234, a work-order number), words around the number
(``"WO"000000`` shows WO001235, ``0"分"`` shows 4分) and percentages (``0%`` shows 0.9 as 90%).
``shaping_format`` compiles such a format; ``NumberFormat.text`` gives what Excel shows for a
cell's value, or None where the format's section for that value changes nothing of the kind (the
number is read as it is). Formats of dates and times, scientific notation, fractions, conditions
(``[>100]``) and Chinese numerals (``[DBNum1]``) are never compiled: dates are read as dates
already, and the others say nothing a plain number does not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# The built-in formats (no code in styles.xml) that change what a cell says: 9 and 10 are
# percentages. The others are plain numbers, dates, times, fractions, scientific or text (49, @).
BUILT_IN: dict[int, str] = {9: "0%", 10: "0.00%"}

_COLOUR = re.compile(r"(?i)black|blue|cyan|green|magenta|red|white|yellow|colou?r\d{1,2}")
_DIGITS = frozenset("0#?")


def _sections(code: str) -> list[str]:
    """Return the format's sections (positive; negative; zero; text), split at the semicolons that
    are not quoted, escaped or in brackets."""
    sections: list[str] = []
    start = i = 0
    while i < len(code):
        char = code[i]
        if char == '"':
            end = code.find('"', i + 1)
            i = len(code) if end < 0 else end + 1
            continue
        if char in "\\_*":
            i += 2
            continue
        if char == "[":
            end = code.find("]", i)
            i = len(code) if end < 0 else end + 1
            continue
        if char == ";":
            sections.append(code[start:i])
            start = i + 1
        i += 1
    sections.append(code[start:])
    return sections


def _tokens(section: str) -> list[tuple[str, str]] | None:
    """Return a section as tokens: ("text", what is written) and the placeholders 0 # ? . , % and
    "general"; None for what is not compiled (dates, times, scientific, fractions, text, conditions)."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(section):
        char = section[i]
        if char == '"':
            end = section.find('"', i + 1)
            if end < 0:
                return None
            tokens.append(("text", section[i + 1 : end]))
            i = end + 1
        elif char == "\\":
            tokens.append(("text", section[i + 1 : i + 2]))
            i += 2
        elif char == "_":
            tokens.append(("text", " "))  # the width of the next character, as a space
            i += 2
        elif char == "*":
            i += 2  # a character repeated to fill the cell's width: nothing in a CSV's text
        elif char == "[":
            end = section.find("]", i)
            if end < 0:
                return None
            inside = section[i + 1 : end]
            if inside.startswith("$"):
                symbol, _, locale = inside[1:].partition("-")
                if locale.upper().startswith("F"):
                    return None  # the system's long date or time ([$-F800], [$-F400])
                tokens.append(("text", symbol))  # a currency or its locale ([$¥-804], [$-804])
            elif not _COLOUR.fullmatch(inside):
                return None  # a condition ([>=100]), elapsed time ([h]), Chinese numerals ([DBNum1])
            i = end + 1
        elif section[i : i + 7].lower() == "general":
            tokens.append(("general", ""))
            i += 7
        elif char in "0#?.,%":
            tokens.append((char, char))
            i += 1
        elif char.isascii() and (char.isalpha() or char in "@/"):
            return None  # y m d h s, AM/PM, E+ (scientific), / (a fraction), @ (text)
        else:
            tokens.append(("text", char))  # - + ( ) : space, ¥, 分 written unquoted
            i += 1
    return tokens


@dataclass(frozen=True)
class _Section:
    """One section of a format, compiled."""

    tokens: tuple[tuple[str, str], ...]
    # Whether it changes what a number says: a percentage, zeros padded in front, or words (letters).
    shapes: bool
    integer: tuple[int, ...]  # positions of the placeholders before the decimal point
    fraction: tuple[int, ...]  # after it
    grouping: bool  # a comma between integer placeholders: thousands separated
    scale: int  # commas after the last integer placeholder: each divides by 1,000
    percent: int  # each % multiplies by 100
    padded: int  # digits always shown before the point (the placeholders from the first 0 or ?)
    # (text before, digits, text after) of a section that is only zeros between words ("WO"000000).
    plain: tuple[str, int, str] | None

    def render(self, value: Decimal) -> str:
        """Return a value that is not negative as the section shows it."""
        value = value.scaleb(2 * self.percent - 3 * self.scale)
        if any(kind == "general" for kind, _ in self.tokens):
            number = value.normalize()
            shown = f"{number:f}" if number != number.to_integral_value() else str(int(number))
            return "".join(shown if kind == "general" else text for kind, text in self.tokens)
        rounded = value.quantize(Decimal(1).scaleb(-len(self.fraction)), rounding=ROUND_HALF_UP)
        whole, _, decimals = f"{rounded:f}".partition(".")
        whole = whole.lstrip("0")
        out = [text for _, text in self.tokens]
        places = self.integer
        if self.grouping:
            # Grouping formats (#,##0) hold their placeholders together: the digits stand at the last.
            for at in places:
                out[at] = ""
            if whole or self.padded:
                out[places[-1]] = f"{int(whole.rjust(self.padded, '0')):,}".rjust(self.padded, "0")
        else:
            # Digits fill the placeholders from the right ("000-0000" shows 1380013 as 138-0013), those
            # left over go to the first; an unfilled 0 shows 0, a ? a space, a # nothing.
            digits = list(whole)
            for n in range(len(places) - 1, -1, -1):
                at = places[n]
                if n == 0 and digits:
                    out[at] = "".join(digits)
                elif digits:
                    out[at] = digits.pop()
                else:
                    out[at] = {"0": "0", "?": " "}.get(self.tokens[at][0], "")
        kept = len(decimals.rstrip("0"))
        for n, at in enumerate(self.fraction):
            placeholder = self.tokens[at][0]
            if n < kept or placeholder == "0":
                out[at] = decimals[n]
            else:
                out[at] = " " if placeholder == "?" else ""
        return "".join(out)


def _compile(section: str) -> _Section | None:
    tokens = _tokens(section)
    if tokens is None:
        return None
    kinds = [kind for kind, _ in tokens]
    if "general" in kinds and _DIGITS & set(kinds):
        return None
    point = kinds.index(".") if "." in kinds else len(kinds)
    integer = tuple(i for i in range(point) if kinds[i] in _DIGITS)
    fraction = tuple(i for i in range(point + 1, len(kinds)) if kinds[i] in _DIGITS)
    grouping, scale = False, 0
    for i, kind in enumerate(kinds[:point]):
        if kind != ",":
            continue
        if integer and integer[0] < i < integer[-1]:
            grouping = True
            tokens[i] = (",", "")
        elif integer and i > integer[-1]:
            scale += 1
            tokens[i] = (",", "")
        else:
            tokens[i] = ("text", ",")
    for i in range(point, len(kinds)):
        if kinds[i] == ",":
            tokens[i] = ("text", ",")
    first = next((n for n, at in enumerate(integer) if kinds[at] in "0?"), len(integer))
    padded = len(integer) - first
    percent = kinds.count("%")
    words = any(
        kind == "text" and any(unicodedata.category(c).startswith("L") for c in text) for kind, text in tokens
    )
    # Zeros padded in front say something (001234 is not 1234); spaces (??) and a lone 0 do not.
    shapes = bool(percent) or sum(1 for at in integer if kinds[at] == "0") >= 2 or words
    plain = None
    if (
        shapes
        and integer
        and not fraction
        and point == len(kinds)
        and not grouping
        and not scale
        and not percent
    ):
        run = kinds[integer[0] : integer[-1] + 1]
        if set(run) == {"0"} and all(kind == "text" for i, kind in enumerate(kinds) if i not in integer):
            plain = (
                "".join(text for _, text in tokens[: integer[0]]),
                len(integer),
                "".join(text for _, text in tokens[integer[-1] + 1 :]),
            )
    return _Section(
        tokens=tuple(tokens),
        shapes=shapes,
        integer=integer,
        fraction=fraction,
        grouping=grouping,
        scale=scale,
        percent=percent,
        padded=padded,
        plain=plain,
    )


@dataclass(frozen=True)
class NumberFormat:
    """A number format compiled: its positive, negative and zero sections (a text section aside)."""

    sections: tuple[_Section, ...]

    def text(self, value: str) -> str | None:
        """Return what Excel shows for a number cell holding ``value`` (its text in the sheet's XML),
        or None where the section for it changes nothing of the kind (or the value is no number)."""
        section = self.sections[0]
        plain = section.plain
        if (
            plain is not None
            and value.isdigit()
            and value.isascii()
            and (len(self.sections) < 3 or value.strip("0"))
        ):
            # A work-order number in zeros between words, the common case: no arithmetic (a zero
            # has a section of its own when the format gives three).
            return plain[0] + value.zfill(plain[1]) + plain[2]
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        if not number.is_finite():
            return None
        sign = ""
        if number < 0 and len(self.sections) >= 2:
            section, number = self.sections[1], -number
        elif number < 0:
            sign, number = "-", -number
        elif number == 0 and len(self.sections) >= 3:
            section = self.sections[2]
        if not section.shapes:
            return None
        try:
            return sign + section.render(number)
        except (InvalidOperation, ValueError):
            return None  # beyond the digits a Decimal holds: left to the number


def shaping_format(code: str) -> NumberFormat | None:
    """Return the number format ``code`` compiled when a section of it changes what a number says
    (a percentage, zeros padded in front, words around it), else None."""
    sections = []
    for section in _sections(code)[:3]:
        compiled = _compile(section)
        if compiled is None:
            return None
        sections.append(compiled)
    if not any(section.shapes for section in sections):
        return None
    return NumberFormat(tuple(sections))
