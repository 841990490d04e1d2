"""The themes lexicon: aspects, their words and cues of praise and complaint, and how a comment matches them."""

from __future__ import annotations

import bisect
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    pass
from analytics.core.errors import UserError
from analytics.domain.themes.segmentation import _ENTITY_WORDS, _NUMERAL, THEMES_DIR, stopwords, tokenize

ASPECTS_FILE = THEMES_DIR / "aspects.toml"


SIDES: tuple[str, ...] = ("praise", "complaint")


FAMILIES: tuple[str, ...] = ("service", "vehicle")


NONE = "none"


OTHER = "other"


# An unsatisfied customer's comment that only praises (师傅很热情): the reason for the score is
# not in it, so it is counted apart on the complaint side rather than under the aspect it praises.
PRAISE_ONLY = "praise_only"


# Lexicon weights: a word naming the aspect, a cue of the side asked for (or of either side when
# no side is given), a cue of the other side. Naming words weigh most because evaluative cues
# (快, 及时, 方便, 贴心) attach to whatever aspect the customer names.
TERM_WEIGHT = 2.0


CUE_WEIGHT = 1.0


OTHER_SIDE_CUE_WEIGHT = 0.25


# Bound on the per-lexicon memo of analysed comments (about half a kilobyte each).
_MEMO_LIMIT = 100_000


# Either of the two, in one match from a token's start.
_NUMBERISH = re.compile(_NUMERAL.pattern + r"\Z|.*?[0-9]")


@dataclass(frozen=True)
class Aspect:
    """One service aspect of the lexicon."""

    id: str
    label_en: str
    label_zh: str
    sides: tuple[str, ...]
    terms: tuple[str, ...]
    praise: tuple[str, ...]
    complaint: tuple[str, ...]
    # "service" (the dealership's service) or "vehicle" (how the car drives and what breaks).
    family: str = "service"


@dataclass(frozen=True)
class Lexicon:
    """The aspect lexicon with its matching indexes."""

    aspects: tuple[Aspect, ...]
    generic: frozenset[str]
    negators: frozenset[str]
    degree: frozenset[str]
    hotspots: tuple[str, ...]
    # trigger -> ((aspect index, kind), ...); kind is term / praise / complaint / generic
    entries: dict[str, tuple[tuple[int, str], ...]] = field(repr=False)
    # matches any trigger of two or more characters, longest first
    pattern: re.Pattern[str] | None = field(repr=False)
    # token -> (one-character word it reads as, negated by its own first character)
    singles: dict[str, tuple[str, bool]] = field(repr=False)
    # side (or None) -> whether each aspect is reported on it
    allowed: dict[str | None, tuple[bool, ...]] = field(repr=False)
    # Comments repeat (满意, 挺好的): their analysis is memoised per lexicon, bounded in size.
    memo: dict[tuple[str, str | None], tuple[list[str], int, bool, float, int]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __getstate__(self) -> dict[str, Any]:
        """Return the state a kept theme model carries: everything but the memo of analysed
        comments, which is this process's cache (it was 99% of a side's kept model at a million
        work orders, 3.5-14.7 MB, and reading it back cost 1.1-1.9 s of another month's themes)."""
        return {**self.__dict__, "memo": {}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a kept lexicon (frozen: its fields are set as the dataclass sets them)."""
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def aspect(self, aspect_id: str) -> Aspect | None:
        """Return the aspect with this id, or None."""
        for a in self.aspects:
            if a.id == aspect_id:
                return a
        return None


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise UserError(f"{where} must be a list of non-empty words.")
    return tuple(unicodedata.normalize("NFKC", x.strip()).lower() for x in raw)


def parse_lexicon(data: dict[str, Any], source: str = "the lexicon") -> Lexicon:
    """Return a lexicon built from parsed TOML data (refused with a sentence when malformed)."""
    aspects: list[Aspect] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("aspect", [])):
        where = f"aspect {i + 1} in {source}"
        aid = raw.get("id")
        if not isinstance(aid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", aid):
            raise UserError(f"{where} needs an id of lower-case letters, digits and _.")
        if aid in seen or aid in (NONE, OTHER):
            raise UserError(f"{where}: the id {aid!r} is used twice or reserved.")
        seen.add(aid)
        sides = _strings(raw.get("sides", list(SIDES)), f"{where}: sides")
        if not sides or any(s not in SIDES for s in sides):
            raise UserError(f"{where}: sides must be praise and/or complaint.")
        family = raw.get("family", "service")
        if family not in FAMILIES:
            raise UserError(f"{where}: family must be one of {', '.join(FAMILIES)}.")
        aspects.append(
            Aspect(
                family=family,
                id=aid,
                label_en=str(raw.get("label_en", aid)),
                label_zh=str(raw.get("label_zh", aid)),
                sides=sides,
                terms=_strings(raw.get("terms"), f"{where}: terms"),
                praise=_strings(raw.get("praise"), f"{where}: praise"),
                complaint=_strings(raw.get("complaint"), f"{where}: complaint"),
            )
        )
    if not aspects:
        raise UserError(f"{source} defines no [[aspect]].")
    generic = frozenset(_strings(data.get("generic"), f"generic in {source}"))
    negators = frozenset(_strings(data.get("negators"), f"negators in {source}"))
    degree = frozenset(_strings(data.get("degree"), f"degree in {source}"))
    hotspots = _strings(data.get("complaint_hotspots"), f"complaint_hotspots in {source}")

    entries: dict[str, list[tuple[int, str]]] = {}
    for index, a in enumerate(aspects):
        for kind, words in (("term", a.terms), ("praise", a.praise), ("complaint", a.complaint)):
            for w in words:
                if (index, kind) not in entries.setdefault(w, []):
                    entries[w].append((index, kind))
    # Generic phrases take part in the longest-match scan so that, say, 服务质量 is not read as
    # the repair-quality word 质量; they score nothing.
    for w in generic:
        if len(w) > 1:
            entries.setdefault(w, []).append((-1, "generic"))
    return Lexicon(
        aspects=tuple(aspects),
        generic=generic,
        negators=negators,
        degree=degree,
        hotspots=hotspots,
        entries={w: tuple(v) for w, v in entries.items()},
        pattern=_trie_pattern(w for w in entries if len(w) > 1),
        singles=_single_forms(
            (w for w in entries if len(w) == 1), degree, frozenset(w for w in negators if len(w) == 1)
        ),
        allowed={s: tuple(s is None or s in a.sides for a in aspects) for s in (None, *SIDES)},
    )


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Return the aspect lexicon from ``data/themes/aspects.toml`` (or the given file)."""
    if path is None:
        return _default_lexicon()
    return _read_lexicon(Path(path))


@cache
def _default_lexicon() -> Lexicon:
    return _read_lexicon(ASPECTS_FILE)


def _read_lexicon(path: Path) -> Lexicon:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise UserError(f"The aspect lexicon {path} does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"The aspect lexicon {path} is not valid TOML: {exc}.") from exc
    return parse_lexicon(data, str(path))


def _scan(lex: Lexicon, tokens: Sequence[str]) -> list[tuple[int, str, bool]]:
    """Return the lexicon words found in a token list as (character position, word, negated).

    Words of two or more characters are found first, longest match left to right, anywhere in
    the text; a one-character word counts at a token start outside those matches.
    """
    negators = lex.negators
    starts: list[int] = []
    offset = 0
    for t in tokens:
        starts.append(offset)
        offset += len(t)
    hits: list[tuple[int, str, bool]] = []
    covered: set[int] = set()
    if lex.pattern is not None:
        for m in lex.pattern.finditer("".join(tokens)):
            pos, end = m.span()
            ti = bisect.bisect_right(starts, pos) - 1
            prefix = tokens[ti][: pos - starts[ti]]
            neg = prefix in negators if prefix else _negated_before(tokens, ti, negators)
            hits.append((pos, m.group(), neg))
            covered.update(range(pos, end))
    singles = lex.singles
    for ti, tok in enumerate(tokens):
        form = singles.get(tok)
        if form is not None and starts[ti] not in covered:
            word, by_prefix = form
            hits.append((starts[ti], word, by_prefix or _negated_before(tokens, ti, negators)))
    if covered:
        hits.sort()
    return hits


def _trie_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """Return a regex matching any of the words, longest first (a trie, so it dispatches by character)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    if not trie:
        return None

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        if len(branches) == 1 and not ends:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if ends else "")

    return re.compile(build(trie))


def _single_forms(
    single: Iterable[str], degree: frozenset[str], neg_chars: frozenset[str]
) -> dict[str, tuple[str, bool]]:
    """Return the tokens that read as a one-character word: the word itself, 很快 / 太贵, and 不贵."""
    forms: dict[str, tuple[str, bool]] = {}
    for word in single:
        forms[word] = (word, False)
        for d in degree:
            forms.setdefault(d + word, (word, False))
        for n in neg_chars:
            forms[n + word] = (word, True)
    return forms


def _negated_before(tokens: Sequence[str], ti: int, negators: frozenset[str]) -> bool:
    return (ti >= 1 and tokens[ti - 1] in negators) or (ti >= 2 and tokens[ti - 2] in negators)


def _lexicon_choice(lex: Lexicon, tokens: Sequence[str], side: str | None) -> tuple[int, bool, float, int]:
    """Return the comment's primary aspect index (-1 when none), whether a word names it, its score and first position."""
    hits = _scan(lex, tokens)
    allowed = lex.allowed[side]
    named_at = [
        (pos, index)
        for pos, word, _ in hits
        for index, kind in lex.entries[word]
        if kind == "term" and allowed[index]
    ]
    scores: dict[int, float] = {}
    first: dict[int, int] = {}
    for pos, index in named_at:
        scores[index] = scores.get(index, 0.0) + TERM_WEIGHT
        first.setdefault(index, pos)
    for pos, word, neg in hits:
        cues = [(index, kind) for index, kind in lex.entries[word] if kind in SIDES and allowed[index]]
        if len(cues) > 1:
            # A cue several aspects share (干净: car wash, lounge) goes to the aspect named
            # nearest before it, else nearest after it, else to all of them.
            before = [(pos - p, i) for p, i in named_at if p < pos and any(i == c for c, _ in cues)]
            after = [(p - pos, i) for p, i in named_at if p > pos and any(i == c for c, _ in cues)]
            nearest = min(before or after, default=None)
            if nearest is not None:
                cues = [(i, k) for i, k in cues if i == nearest[1]]
        for index, kind in cues:
            polarity = kind if not neg else ("complaint" if kind == "praise" else "praise")
            weight = CUE_WEIGHT if side is None or polarity == side else OTHER_SIDE_CUE_WEIGHT
            scores[index] = scores.get(index, 0.0) + weight
            first[index] = min(first.get(index, pos), pos)
    if not scores:
        return -1, False, 0.0, 0
    best = min(scores, key=lambda i: (-scores[i], first[i], i))
    return best, any(i == best for _, i in named_at), scores[best], first[best]


def lexicon_aspect(
    tokens: Sequence[str], side: str | None = None, lexicon: Lexicon | None = None
) -> str | None:
    """Return the lexicon aspect id a tokenised comment speaks of first and most, or None."""
    lex = lexicon or load_lexicon()
    index = _lexicon_choice(lex, tokens, side)[0]
    return lex.aspects[index].id if index >= 0 else None


def content_words(tokens: Sequence[str], lexicon: Lexicon | None = None) -> list[str]:
    """Return the tokens that carry content: no stopwords, generic praise words, numbers or single characters."""
    lex = lexicon or load_lexicon()
    stop = stopwords()
    # Single characters (等, 问, 换, 送) are too vague to define a topic; the lexicon still reads them.
    dropped = _dropped(stop, lex.generic)
    return [t for t in tokens if len(t) > 1 and t not in dropped and not _NUMBERISH.match(t)]


@cache
def _dropped(stop: frozenset[str], generic: frozenset[str]) -> frozenset[str]:
    """Return the words that are never content: stopwords, generic words, brand/series/place names."""
    return stop | generic | _ENTITY_WORDS


def _analyse(
    lex: Lexicon, tokens: Sequence[str], side: str | None
) -> tuple[list[str], int, bool, float, int]:
    """Return a comment's content words and its lexicon choice (see _lexicon_choice), memoised."""
    key = (" ".join(tokens), side)
    found = lex.memo.get(key)
    if found is None:
        found = (content_words(tokens, lex), *_lexicon_choice(lex, tokens, side))
        if len(lex.memo) >= _MEMO_LIMIT:
            lex.memo.clear()
        lex.memo[key] = found
    return found


# A person's name as DMS tables hold it: two or three Chinese characters.
_PERSON = re.compile(r"[\u4e00-\u9fff]{2,3}")
_CALLED = ("小{}", "老{}", "{}师傅", "{}工", "{}经理", "{}姐", "{}哥", "{}总", "{}顾问")
# The longest piece of a name kept (西湖 and 西湖店 of 杭州西湖店): a word a comment holds is shorter. A
# name may run to the 4,000 characters an import takes, and all its pieces to millions of strings.
_LONGEST_PIECE = 16


def name_pieces(names: Iterable[str | None]) -> frozenset[str]:
    """Return the lower-cased names and every piece of two to ``_LONGEST_PIECE`` characters of the
    longer ones."""
    out: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name.strip():
            continue
        whole = unicodedata.normalize("NFKC", name).strip().lower()
        for word in tokenize([name])[0] + [whole]:
            out.add(word)
            if len(word) >= 3:
                out.update(
                    word[i:j]
                    for i in range(len(word))
                    for j in range(i + 2, min(len(word), i + _LONGEST_PIECE) + 1)
                )
        if _PERSON.fullmatch(whole):
            # How customers call a person: 小王, 老王, 王师傅, 王工, 王经理, 王姐 for 王强.
            out.update(form.format(whole[0]) for form in _CALLED)
    # A word the lexicon reads (销售, 服务) stays a word even inside a store's name.
    lex = load_lexicon()
    known = {w for asp in lex.aspects for w in (*asp.terms, *asp.praise, *asp.complaint)} | lex.generic
    return frozenset(w for w in out if len(w) >= 2 and w not in known and w not in stopwords())
