"""Themes in Chinese callback comments: what satisfied customers praise, what others complain of.

The pipeline (DOMAIN.md item 2, PRODUCT.md page 3):
1. Segmentation with jieba and the domain dictionary ``data/themes/domain_dict.txt``, once per
   comment, stored in ``comment_tokens`` by :func:`tokenize_pending` after every import. Stored
   tokens keep function words, so the lexicon sees negations and phrases; stopwords
   (``data/themes/stopwords.txt``) and generic praise words are dropped only when mining.
2. A curated lexicon of service aspects (``data/themes/aspects.toml``) names each comment's
   primary aspect; the file documents its matching and negation rules.
3. Discovery of themes the lexicon does not know: NMF over TF-IDF of the content words (words of
   two or more characters), topics labelled by their c-TF-IDF top words. A topic whose comments
   mostly carry one lexicon aspect is merged into it; the others become discovered themes
   ("充电桩 · 充电 · 方便"), topics sharing a label word being one theme. A discovered theme
   whose comments mostly name no lexicon aspect is novel: its top words then name it in a
   comment as lexicon terms do, and a comment whose lexicon aspect rests on cues alone (方便)
   goes to the novel theme it is nearest to.
4. Comments without content (满意, 无, 挺好的, 没意见) are counted apart as ``none``; comments
   with content that fit no theme are ``other``.
Everything is deterministic for a given input and seed.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import logging
import math
import re
import sys
import threading
import time
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import jieba
import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from analytics import stats, themes_polarity
from analytics.config import DATA_DIR, settings
from analytics.errors import UserError
from analytics.export import write_table
from analytics.queries import load as sql

THEMES_DIR = DATA_DIR / "themes"
DOMAIN_DICT = THEMES_DIR / "domain_dict.txt"
STOPWORDS_FILE = THEMES_DIR / "stopwords.txt"
ASPECTS_FILE = THEMES_DIR / "aspects.toml"
ENTITIES_FILE = THEMES_DIR / "entities.txt"
GLOSSARY_FILE = THEMES_DIR / "glossary.toml"
UNTRANSLATED = "(untranslated)"

SIDES: tuple[str, ...] = ("praise", "complaint")
IMPACT_KEYS: tuple[str, ...] = ("rate", "rate_low", "rate_high", "nps", "nps_low", "nps_high")
FAMILIES: tuple[str, ...] = ("service", "vehicle")
NONE = "none"
OTHER = "other"
SPECIAL_LABELS: dict[str, tuple[str, str]] = {
    NONE: ("No content", "无实质内容"),
    OTHER: ("Other", "其他"),
}

# Lexicon weights: a word naming the aspect, a cue of the side asked for (or of either side when
# no side is given), a cue of the other side. Naming words weigh most because evaluative cues
# (快, 及时, 方便, 贴心) attach to whatever aspect the customer names.
TERM_WEIGHT = 2.0
CUE_WEIGHT = 1.0
OTHER_SIDE_CUE_WEIGHT = 0.25
# A discovered topic is merged into a lexicon aspect when at least this share of its comments
# carry that aspect.
MERGE_SHARE = 0.5
# A discovered topic is novel (the lexicon does not know it) when fewer than this share of its
# comments name a lexicon aspect; only a novel theme takes comments that carry lexicon cues alone.
NOVEL_SHARE = 0.5
# New/rising flags: one-sided two-proportion z-test of this month's share against the pooled
# previous months, at the 5% level, on at least MIN_FLAG_N comments; "new" when the theme also
# held at most NEW_PRIOR_RATIO of its current share before.
RISING_Z = 1.645
MIN_FLAG_N = 5
NEW_PRIOR_RATIO = 0.2
# The months a month's themes are fitted with and compared against (trend and flags).
MONTHS_BACK = 6
FLAG_TEST = (
    "rising: one-sided two-proportion z-test of this month's share against the pooled previous "
    f"months, z >= {RISING_Z} (p < 0.05), n >= {MIN_FLAG_N}; new: rising and its share over the "
    f"previous months at most {NEW_PRIOR_RATIO:g} of this month's"
)
# Quotes: two comments are near repeats when they share more than this share of the shorter
# one's character bigrams; only the most central QUOTE_CANDIDATES comments are considered.
QUOTE_OVERLAP = 0.6
QUOTE_CANDIDATES = 200
# NMF fits on at most this many comments (a deterministic sample); every comment is assigned.
MAX_FIT_DOCS = 40_000
# Bound on the per-lexicon memo of analysed comments (about half a kilobyte each).
_MEMO_LIMIT = 100_000
# Bump when the way comments are segmented changes, so stored tokens are recomputed.
TOKENIZER_REVISION = "1"

# Numbers and counted quantities (三个, 两次, 20分钟) carry no theme.
_NUMERAL = re.compile(r"[0-9零一二三四五六七八九十两几百千万半多]+[个次天小时分钟年月周块元公里号点]*")

# Plates (粤A12345, 京AD12345), VINs and counts (2次, 304元) all hold a digit: they name a car or a
# number, not a theme.
_DIGIT = re.compile(r"[0-9]")
# Either of the two, in one match from a token's start.
_NUMBERISH = re.compile(_NUMERAL.pattern + r"\Z|.*?[0-9]")

# A token is kept when it holds a letter, digit or CJK character (punctuation and spaces go).
_WORD_CHAR = re.compile(r"[^\W_]")

_tokenizer: jieba.Tokenizer | None = None
_tokenizer_lock = threading.Lock()


# --------------------------------------------------------------------------- segmentation


def _word_lines(path: Path) -> list[str]:
    """Return the non-empty, non-comment lines of a word list."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _jieba() -> jieba.Tokenizer:
    """Return the process's private jieba tokenizer with the domain dictionary (built once)."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            # jieba announces its dictionary loading on stderr at INFO level.
            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            for line in _word_lines(DOMAIN_DICT):
                parts = line.split()
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                tk.add_word(parts[0], freq=freq)
            # Brand, series and place names are one token each, so they can be removed whole.
            for name in _entity_list():
                if name not in tk.FREQ:
                    tk.add_word(name)
            _tokenizer = tk
        return _tokenizer


def tokenizer_version() -> str:
    """Return a fingerprint of the segmentation (dictionary and revision) stored tokens depend on."""
    digest = hashlib.sha256(DOMAIN_DICT.read_bytes())
    digest.update(ENTITIES_FILE.read_bytes())
    digest.update(TOKENIZER_REVISION.encode())
    return digest.hexdigest()[:16]


def tokenize(texts: Iterable[str | None]) -> list[list[str]]:
    """Return each text's tokens (jieba with the domain dictionary; punctuation and spaces dropped)."""
    tk = _jieba()
    out: list[list[str]] = []
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            out.append([])
            continue
        norm = unicodedata.normalize("NFKC", text)
        out.append([t.lower() for t in tk.lcut(norm) if _WORD_CHAR.search(t)])
    return out


def _tokens_of_distinct(comments: list[str]) -> list[str]:
    # Short comments repeat a lot (满意, 挺好的): segment each distinct text once.
    distinct = list(dict.fromkeys(comments))
    joined = dict(zip(distinct, (" ".join(t) for t in tokenize(distinct)), strict=True))
    return [joined[c] for c in comments]


def tokenize_pending(con: duckdb.DuckDBPyConnection) -> int:
    """Store tokens for every callback comment that lacks current ones; return how many were tokenised."""
    version = tokenizer_version()
    row = con.execute("SELECT value FROM meta WHERE key = 'comment_tokens_version'").fetchone()
    if row is None or row[0] != version:
        # The dictionary changed: every stored segmentation is stale.
        con.execute("DELETE FROM comment_tokens")
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('comment_tokens_version', $v)",
            {"v": version},
        )
    con.execute(
        """DELETE FROM comment_tokens WHERE callback_id NOT IN (
               SELECT callback_id FROM callbacks WHERE nullif(trim(comment), '') IS NOT NULL)"""
    )
    pending = con.execute(sql("comment_tokens_pending")).df()
    if pending.empty:
        return 0
    # Tokens depend only on the text and the dictionary (stale ones were deleted above): a text
    # already segmented for another callback ("满意", a customer's repeated words) is not segmented again.
    known = pending["tokens"].notna()
    fresh = iter(_tokens_of_distinct(pending["comment"][~known].tolist()))
    tokens = [
        stored if is_known else next(fresh)
        for stored, is_known in zip(pending["tokens"].tolist(), known.tolist(), strict=True)
    ]
    frame = pd.DataFrame(
        {
            "callback_id": pending["callback_id"].astype("str"),
            "comment": pending["comment"].astype("str"),
            "tokens": pd.Series(tokens, dtype="str"),
        }
    )
    con.register("_themes_new_tokens", frame)
    try:
        con.execute(
            "DELETE FROM comment_tokens WHERE callback_id IN (SELECT callback_id FROM _themes_new_tokens)"
        )
        con.execute("INSERT INTO comment_tokens SELECT callback_id, comment, tokens FROM _themes_new_tokens")
    finally:
        con.unregister("_themes_new_tokens")
    return len(pending)


@cache
def _entity_list() -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for line in _word_lines(ENTITIES_FILE) for w in line.split()))


@cache
def entity_words() -> frozenset[str]:
    """Return the lower-cased brand, series and place names of ``data/themes/entities.txt``."""
    return frozenset(w.lower() for w in _entity_list())


def is_entity(token: str, names: frozenset[str] = frozenset()) -> bool:
    """Return whether a token names a car, brand, place, plate, VIN, number or one of the given names."""
    t = token.lower()
    if t in _ENTITY_WORDS or t in names:
        return True
    # Plates, VINs and numbers all hold a digit (Chinese numerals are read by _NUMERAL).
    return bool(_DIGIT.search(t))


def name_pieces(names: Iterable[str | None]) -> frozenset[str]:
    """Return the lower-cased names and every piece of two or more characters of the longer ones."""
    out: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name.strip():
            continue
        for word in tokenize([name])[0] + [unicodedata.normalize("NFKC", name).strip().lower()]:
            out.add(word)
            if len(word) >= 3:
                out.update(word[i:j] for i in range(len(word)) for j in range(i + 2, len(word) + 1))
    # A word the lexicon reads (销售, 服务) stays a word even inside a store's name.
    lex = load_lexicon()
    known = {w for asp in lex.aspects for w in (*asp.terms, *asp.praise, *asp.complaint)} | lex.generic
    return frozenset(w for w in out if len(w) >= 2 and w not in known and w not in stopwords())


_ENTITY_WORDS = entity_words()


def drop_entities(tokens: Sequence[str], names: frozenset[str] = frozenset()) -> list[str]:
    """Return the tokens without entities (see :func:`is_entity`)."""
    return [t for t in tokens if not is_entity(t, names)]


@cache
def glossary() -> dict[str, str]:
    """Return the Chinese-to-English glossary of domain words used to label discovered themes."""
    with GLOSSARY_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    return {str(k): str(v) for k, v in data.get("words", {}).items()}


def english_label(words: Sequence[str]) -> str:
    """Return an English label from a theme's words via the glossary, or ``(untranslated)``."""
    gloss = glossary()
    known = list(dict.fromkeys(gloss[w] for w in words if w in gloss))
    return " · ".join(known[:3]) if known else UNTRANSLATED


@cache
def stopwords() -> frozenset[str]:
    """Return the stopword list (function words left out of content words)."""
    return frozenset(w.lower() for w in _word_lines(STOPWORDS_FILE))


# --------------------------------------------------------------------------- lexicon


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


# --------------------------------------------------------------------------- theme model


@dataclass(frozen=True)
class Theme:
    """A theme: a lexicon aspect or a discovered topic, with its readable labels."""

    id: str
    label_en: str
    label_zh: str
    source: str  # "lexicon" or "discovered"
    words: tuple[str, ...] = ()


@dataclass
class ThemeModel:
    """A fitted theme model: the lexicon plus the discovered topics and their themes."""

    lexicon: Lexicon
    k: int
    seed: int
    side: str | None
    themes: dict[str, Theme]
    vectorizer: CountVectorizer | None = None
    transformer: TfidfTransformer | None = None
    # Unit-length topic vectors (one row per topic) over the vectorizer's vocabulary.
    topics: np.ndarray | None = None
    topic_themes: tuple[str, ...] = ()
    topic_words: tuple[tuple[str, ...], ...] = ()
    # Discovered themes most of whose comments name no lexicon aspect, with their top words,
    # which name the theme in a comment as a lexicon term names an aspect.
    novel: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def label(self, theme_id: str, language: str = "zh") -> str:
        """Return a theme's label in ``zh`` or ``en`` (``none`` and ``other`` included)."""
        if theme_id in SPECIAL_LABELS:
            en, zh = SPECIAL_LABELS[theme_id]
        else:
            theme = self.themes[theme_id]
            en, zh = theme.label_en, theme.label_zh
        return zh if language == "zh" else en


@dataclass
class _Detail:
    """Per-comment results of applying a model (kept apart so quotes reuse the vectors)."""

    themes: list[str]
    lexicon: list[str]
    discovered: list[str]
    vectors: sparse.csr_matrix | None


def _identity(doc: list[str]) -> list[str]:
    return doc


def _as_tokens(docs: Sequence[list[str]] | Sequence[str]) -> list[list[str]]:
    if len(docs) and all(isinstance(d, str) for d in docs):
        return tokenize(docs)  # type: ignore[arg-type]
    return [list(d) for d in docs]


def _unit_rows(matrix: Any) -> sparse.csr_matrix:
    m = sparse.csr_matrix(matrix, dtype=np.float64)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ m)


def _topic_of(model: ThemeModel, vectors: sparse.csr_matrix | None, n: int) -> np.ndarray:
    """Return each comment's nearest topic by cosine, -1 when it shares no word with any."""
    if model.topics is None or vectors is None:
        return np.full(n, -1)
    affinity = np.asarray(vectors @ model.topics.T)
    best = affinity.argmax(axis=1)
    best[affinity.max(axis=1) <= 0] = -1
    return best


def _ctfidf_words(
    counts: sparse.csr_matrix, topic: np.ndarray, k: int, vocab: np.ndarray
) -> list[tuple[str, ...]]:
    """Return each topic's five top words by class-based TF-IDF over its comments' words."""
    rows = np.flatnonzero(topic >= 0)
    member = sparse.csr_matrix((np.ones(len(rows)), (topic[rows], rows)), shape=(k, counts.shape[0]))
    per_class = np.asarray((member @ counts).todense())
    totals = per_class.sum(axis=1, keepdims=True)
    tf = np.divide(per_class, totals, out=np.zeros_like(per_class), where=totals > 0)
    freq = per_class.sum(axis=0)
    avg_words = per_class.sum() / max(1, int((totals.ravel() > 0).sum()))
    idf = np.log1p(np.divide(avg_words, freq, out=np.zeros_like(freq), where=freq > 0))
    score = tf * idf
    words: list[tuple[str, ...]] = []
    for t in range(k):
        order = np.lexsort((vocab, -score[t]))
        words.append(tuple(str(vocab[j]) for j in order[:5] if score[t, j] > 0))
    return words


def mine(
    docs: Sequence[list[str]] | Sequence[str],
    k: int = 8,
    seed: int = 0,
    lexicon: Lexicon | None = None,
    side: str | None = None,
) -> ThemeModel:
    """Return a theme model fitted on comments (token lists or raw texts); pure and deterministic."""
    if side is not None and side not in SIDES:
        raise UserError(f"side must be one of {', '.join(SIDES)}, not {side!r}.")
    lex = lexicon or load_lexicon()
    tokens = _as_tokens(docs)
    themes = {
        a.id: Theme(a.id, a.label_en, a.label_zh, "lexicon")
        for a in lex.aspects
        if side is None or side in a.sides
    }
    model = ThemeModel(lexicon=lex, k=k, seed=seed, side=side, themes=themes)
    usable = [i for i, t in enumerate(tokens) if content_words(t, lex)]
    if len(usable) > MAX_FIT_DOCS:
        usable = sorted(np.random.default_rng(seed).choice(usable, MAX_FIT_DOCS, replace=False).tolist())
    if k < 1 or len(usable) < 2:
        return model
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    vectorizer = CountVectorizer(
        analyzer=_identity,
        min_df=2 if len(usable) < 2_000 else max(2, len(usable) // 2_000),
        max_df=0.5,
        dtype=np.float64,
    )
    try:
        analysed = [_analyse(lex, tokens[i], side) for i in usable]
        counts = sparse.csr_matrix(vectorizer.fit_transform([a[0] for a in analysed]))
    except ValueError:
        # Too few repeated words to build a vocabulary: the lexicon alone applies.
        return model
    k_eff = min(k, counts.shape[0], counts.shape[1])
    if k_eff < 1:
        return model
    transformer = TfidfTransformer(sublinear_tf=True).fit(counts)
    vectors = _unit_rows(transformer.transform(counts))
    nmf = NMF(n_components=k_eff, init="nndsvda", random_state=seed, max_iter=400, tol=1e-4)
    nmf.fit(vectors)
    model.vectorizer, model.transformer = vectorizer, transformer
    model.topics = _unit_rows(nmf.components_).toarray()
    topic = _topic_of(model, vectors, len(usable))
    vocab = vectorizer.get_feature_names_out()
    words = _ctfidf_words(counts, topic, k_eff, vocab)

    choices = [(a[1], a[2]) for a in analysed]
    # Each topic either joins the lexicon aspect most of its comments carry, or is discovered.
    aspect_of: list[str | None] = []
    for t in range(k_eff):
        members = [choices[j] for j in np.flatnonzero(topic == t)]
        common = Counter(m for m, _ in members if m >= 0).most_common(1)
        if not members or not words[t]:
            aspect_of.append(OTHER)
        elif common and common[0][1] >= MERGE_SHARE * len(members):
            aspect_of.append(lex.aspects[common[0][0]].id)
        else:
            aspect_of.append(None)
    # A discovered theme receives the comments that name no lexicon aspect, so its label is
    # read from those comments (its other members stand for the contrast).
    discovered = [t for t in range(k_eff) if aspect_of[t] is None]
    is_discovered = np.array([a is None for a in aspect_of] + [False])
    unnamed = np.array([not named for _, named in choices], dtype=bool)
    label_topic = np.where(unnamed | ~is_discovered[topic], topic, -1)
    label_words = _ctfidf_words(counts, label_topic, k_eff, vocab)
    discovered = [t for t in discovered if label_words[t]]
    # Discovered topics whose labels share a word are one theme: a subject customers speak of
    # in several ways (充电桩 很少 / 充电桩 坏了) otherwise splits across topics.
    root = {t: t for t in discovered}

    def find(t: int) -> int:
        while root[t] != t:
            t = root[t]
        return t

    for a_i, a in enumerate(discovered):
        for b in discovered[a_i + 1 :]:
            if set(label_words[a][:3]) & set(label_words[b][:3]):
                root[max(find(a), find(b))] = min(find(a), find(b))
    group_roots = sorted({find(t) for t in discovered})
    # Classes for the labels: one per discovered group, then one per remaining topic.
    class_of = np.zeros(k_eff + 1, dtype=int)
    for t in range(k_eff):
        class_of[t] = group_roots.index(find(t)) if t in root else len(group_roots) + t
    doc_class = np.where(label_topic >= 0, class_of[label_topic], -1)
    class_words = _ctfidf_words(counts, doc_class, len(group_roots) + k_eff, vocab)

    topic_themes: list[str] = []
    novel: dict[str, tuple[str, ...]] = {}
    for t in range(k_eff):
        aspect_id = aspect_of[t]
        if aspect_id == OTHER or (aspect_id is None and t not in root):
            topic_themes.append(OTHER)
        elif aspect_id is not None:
            topic_themes.append(aspect_id)
            merged = themes[aspect_id]
            extra = tuple(w for w in words[t][:3] if w not in merged.words)
            themes[aspect_id] = Theme(
                merged.id, merged.label_en, merged.label_zh, merged.source, merged.words + extra
            )
        else:
            group_words = class_words[class_of[t]] or label_words[t]
            label = " · ".join(group_words[:3])
            theme_id = "d:" + "·".join(group_words[:3])
            themes.setdefault(
                theme_id,
                Theme(theme_id, english_label(group_words[:3]), label, "discovered", group_words),
            )
            topic_themes.append(theme_id)
    for theme_id in sorted({topic_themes[t] for t in discovered}):
        rows = [j for j in range(len(usable)) if topic[j] >= 0 and topic_themes[topic[j]] == theme_id]
        # Novel: most of its comments name no lexicon aspect, so the lexicon does not know it;
        # otherwise it is a mixture of known aspects.
        if sum(1 for j in rows if choices[j][0] >= 0 and choices[j][1]) < NOVEL_SHARE * len(rows):
            novel[theme_id] = themes[theme_id].words
    model.topic_themes = tuple(topic_themes)
    model.novel = novel
    model.topic_words = tuple(words)
    return model


def _detail(model: ThemeModel, tokens: Sequence[Sequence[str]], side: str | None) -> _Detail:
    lex = model.lexicon
    analysed = [_analyse(lex, t, side) for t in tokens]
    content = [a[0] for a in analysed]
    vectors = None
    if model.vectorizer is not None and model.transformer is not None:
        counts = model.vectorizer.transform(content)
        vectors = _unit_rows(model.transformer.transform(counts))
    topic = _topic_of(model, vectors, len(tokens))
    themes: list[str] = []
    lexical: list[str] = []
    discovered: list[str] = []
    for i, (words, index, named, score, first) in enumerate(analysed):
        if not words and index < 0:
            themes.append(NONE)
            lexical.append(NONE)
            discovered.append(NONE)
            continue
        lex_id = lex.aspects[index].id if index >= 0 else OTHER
        disc_id = model.topic_themes[topic[i]] if topic[i] >= 0 else OTHER
        lexical.append(lex_id)
        discovered.append(f"topic{topic[i]}" if topic[i] >= 0 else OTHER)
        best = lex_id if index >= 0 else None
        if model.novel:
            # A novel theme's label words compete with the lexicon as naming words do.
            at: dict[str, int] = {}
            offset = 0
            for t in tokens[i]:
                at.setdefault(t, offset)
                offset += len(t)
            for theme_id, label_words in model.novel.items():
                hit = [at[w] for w in label_words if w in at]
                if hit and (
                    TERM_WEIGHT * len(hit) > score or (TERM_WEIGHT * len(hit) == score and min(hit) < first)
                ):
                    best, score, first, named = theme_id, TERM_WEIGHT * len(hit), min(hit), True
        if best is None:
            themes.append(disc_id)
        elif not named and disc_id in model.novel:
            # Cues alone (方便, 很快) yield to a novel discovered theme: they say how the customer
            # felt, the topic says what about.
            themes.append(disc_id)
        else:
            themes.append(best)
    return _Detail(themes=themes, lexicon=lexical, discovered=discovered, vectors=vectors)


def assign(
    model: ThemeModel, docs: Sequence[list[str]] | Sequence[str], side: str | None = None
) -> list[str]:
    """Return each comment's theme id: a lexicon aspect, a discovered theme, ``other`` or ``none``."""
    return _detail(model, _as_tokens(docs), side if side is not None else model.side).themes


# --------------------------------------------------------------------------- evaluation


def purity(labels: Sequence[str], clusters: Sequence[str]) -> float:
    """Return the share of items whose cluster's most common true label is their own."""
    if not labels:
        return 0.0
    by_cluster: dict[str, Counter[str]] = {}
    for label, cluster in zip(labels, clusters, strict=True):
        by_cluster.setdefault(cluster, Counter())[label] += 1
    return sum(c.most_common(1)[0][1] for c in by_cluster.values()) / len(labels)


def evaluate(texts: Sequence[str], labels: Sequence[str], k: int = 8, seed: int = 0) -> dict[str, Any]:
    """Return purity and NMI against the labels for the lexicon, the discovery and their combination."""
    from sklearn.metrics import normalized_mutual_info_score

    tokens = tokenize(texts)
    model = mine(tokens, k=k, seed=seed)
    detail = _detail(model, tokens, None)
    parts = {"lexicon": detail.lexicon, "discovery": detail.discovered, "combined": detail.themes}
    result: dict[str, Any] = {"n": len(texts), "k": k, "seed": seed}
    for name, predicted in parts.items():
        result[name] = {
            "purity": round(purity(labels, predicted), 4),
            "nmi": round(float(normalized_mutual_info_score(labels, predicted)), 4),
            "clusters": len(set(predicted)),
        }
    result["themes"] = {t.id: t.label_zh for t in model.themes.values() if t.source == "discovered"}
    return result


# --------------------------------------------------------------------------- database views


def _parse_month(month: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{2})", month.strip()) if isinstance(month, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UserError(f"The month {month!r} is not of the form YYYY-MM, e.g. 2024-05.")
    return int(match.group(1)), int(match.group(2))


def _shift(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _months(month: str, months_back: int) -> list[str]:
    """Return the months from ``months_back`` before ``month`` up to it, oldest first."""
    year, mon = _parse_month(month)
    return [f"{y:04d}-{m:02d}" for y, m in (_shift(year, mon, d) for d in range(-months_back, 1))]


def _bounds(months: list[str]) -> dict[str, date]:
    first_y, first_m = _parse_month(months[0])
    last_y, last_m = _shift(*_parse_month(months[-1]), 1)
    return {"start": date(first_y, first_m, 1), "end": date(last_y, last_m, 1)}


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise UserError(f"side must be one of {', '.join(SIDES)}, not {side!r}.")


@dataclass
class _Window:
    frame: pd.DataFrame
    model: ThemeModel
    detail: _Detail
    months: list[str]
    side: str
    tokens: list[list[str]]


def _window(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str,
    stores: Sequence[str] | None,
    months_back: int,
    k: int,
    seed: int,
) -> _Window:
    """Return the fitted window of the month, from the mart when it was fitted for this data version."""
    from analytics import marts

    store_key = tuple(sorted(stores)) if stores else None
    call = marts.call_of(fit_window, month, side, store_key, months_back, k, seed)
    # Inside the caller's read (a page snapshot or a mart computation): the same state.
    window: _Window = marts.cached(con, call, keep=True, as_is=True)
    return window


def fit_window(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str,
    stores: Sequence[str] | None,
    months_back: int,
    k: int,
    seed: int,
) -> _Window:
    """Fit one model on the side's comments of the window and assign every comment of it."""
    _check_side(side)
    months = _months(month, max(0, months_back))
    params: dict[str, Any] = {
        **_bounds(months),
        "side": side,
        "threshold": float(settings()["kpi"]["satisfied_threshold"]),
        "stores": list(stores) if stores else None,
    }
    frame = con.execute(sql("side_comments"), params).df()
    stored = frame["tokens"].tolist()
    missing = [i for i, t in enumerate(stored) if not isinstance(t, str)]
    fresh = tokenize(frame["comment"].iloc[missing].tolist()) if missing else []
    tokens: list[list[str]] = [t.split() if isinstance(t, str) else [] for t in stored]
    for i, toks in zip(missing, fresh, strict=True):
        tokens[i] = toks
    # The store's own names (models, advisors, agents, stores) are never themes.
    names = name_pieces(str(row[0]) for row in con.execute(sql("theme_entity_names")).fetchall())
    mined = [drop_entities(t, names) for t in tokens] if names else tokens
    model = mine(mined, k=k, seed=seed, side=side)
    detail = _detail(model, mined, side)
    frame = frame.assign(theme=detail.themes, row=np.arange(len(frame)))
    return _Window(frame=frame, model=model, detail=detail, months=months, side=side, tokens=tokens)


def _centrality(window: _Window, rows: np.ndarray) -> np.ndarray:
    """Return each row's cosine similarity to the centroid of the given rows' vectors."""
    vectors = window.detail.vectors
    if vectors is None or len(rows) == 0:
        return np.zeros(len(rows))
    sub = vectors[rows]
    centroid = np.asarray(sub.mean(axis=0)).ravel()
    norm = float(np.linalg.norm(centroid))
    if norm == 0:
        return np.zeros(len(rows))
    return np.asarray(sub @ (centroid / norm)).ravel()


def _bigrams(text: str) -> frozenset[str]:
    chars = [c for c in text if _WORD_CHAR.match(c)]
    return frozenset(a + b for a, b in zip(chars, chars[1:], strict=False))


def _other_side_cue(lex: Lexicon, tokens: Sequence[str], side: str) -> bool:
    """Return whether a comment carries a cue of the other side (a grumble in praise, praise in a complaint)."""
    for _, word, negated in _scan(lex, tokens):
        for _, kind in lex.entries[word]:
            if kind in SIDES and (kind == side) == negated:
                return True
    return False


def _distinct(
    texts: Iterable[str], count: int, chosen: list[tuple[str, frozenset[str]]]
) -> tuple[list[tuple[str, frozenset[str]]], list[str]]:
    """Add texts to ``chosen`` up to ``count``, skipping near repeats; return it and the repeats skipped."""
    repeats: list[str] = []
    for text in texts:
        if len(chosen) == count:
            break
        grams = _bigrams(text)
        if any(text == c for c, _ in chosen) or text in repeats:
            continue
        if any(len(grams & g) > QUOTE_OVERLAP * max(1, min(len(grams), len(g))) for _, g in chosen):
            repeats.append(text)
            continue
        chosen.append((text, grams))
    return chosen, repeats


def _quotes(window: _Window, month_rows: pd.DataFrame, count: int = 3) -> list[str]:
    """Return up to ``count`` distinct comments closest to the centre of the given comments.

    Comments that speak only for the side come first (a satisfied customer's grumble is a poor
    quote of what was praised); among them a comment that mostly repeats one already chosen
    (more than ``QUOTE_OVERLAP`` of the shorter one's character bigrams shared) waits until
    no other remains, so the quotes show different ways customers put the theme.
    """
    rows = month_rows["row"].to_numpy()
    ranked = month_rows.assign(centrality=_centrality(window, rows)).sort_values(
        ["centrality", "callback_id"], ascending=[False, True]
    )
    lex = window.model.lexicon
    single: list[str] = []
    mixed: list[str] = []
    for row, comment in zip(ranked["row"].head(QUOTE_CANDIDATES), ranked["comment"], strict=False):
        text = str(comment).strip()
        if window.side == "praise":
            # The praise side quotes only what praises: complaining clauses are cut out
            # (they are hidden complaints, shown on the complaint side).
            text = praise_quote(text)
            if not text:
                continue
        mixed_side = _other_side_cue(lex, window.tokens[int(row)], window.side)
        (mixed if mixed_side else single).append(text)
    chosen: list[tuple[str, frozenset[str]]] = []
    for group in (single, mixed):
        chosen, repeats = _distinct(group, count, chosen)
        # Near repeats are acceptable once nothing else of the group is left.
        for text in repeats:
            if len(chosen) == count:
                break
            if all(text != c for c, _ in chosen):
                chosen.append((text, _bigrams(text)))
    return [c for c, _ in chosen]


def praise_quote(comment: str) -> str:
    """Return a comment as a praise quote: whole when no clause complains, else its other clauses."""
    found = themes_polarity.clauses(comment, tokenize)
    if all(c.polarity >= 0 for c in found):
        return comment
    return "，".join(c.text for c in found if c.polarity >= 0)


def hidden_complaints(
    comments: Sequence[str], lexicon: Lexicon | None = None, count: int = 3
) -> list[dict[str, Any]]:
    """Return satisfied customers' complaining clauses grouped by complaint aspect: id, labels, n, quotes."""
    lex = lexicon or load_lexicon()
    groups: dict[str, list[str]] = {}
    for comment in comments:
        for clause in themes_polarity.complaining_clauses(comment, tokenize):
            aspect = lexicon_aspect(tokenize([clause])[0], "complaint", lex) or OTHER
            groups.setdefault(aspect, []).append(clause)
    out: list[dict[str, Any]] = []
    for aspect_id, clauses in groups.items():
        found = lex.aspect(aspect_id)
        en, zh = (found.label_en, found.label_zh) if found else SPECIAL_LABELS[OTHER]
        quotes, _ = _distinct(list(dict.fromkeys(clauses)), count, [])
        out.append(
            {
                "id": aspect_id,
                "label_en": en,
                "label_zh": zh,
                "n": len(clauses),
                "quotes": [q for q, _ in quotes],
            }
        )
    out.sort(key=lambda h: (h["id"] == OTHER, -h["n"], h["id"]))
    return out


def _z(n: int, total: int, prior_n: int, prior_total: int) -> float:
    """Return the two-proportion z statistic of n/total against prior_n/prior_total (the one test of
    ``analytics.stats``); 0.0, no evidence of a change, where the test is undefined."""
    z = stats.two_proportion_z(n, total, prior_n, prior_total)
    return 0.0 if z is None else z


def monthly_themes(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str = "praise",
    stores: Sequence[str] | None = None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> dict[str, Any]:
    """Return the month's themes on one side with n, share, trend, flags and quotes, and the counts."""
    window = _window(con, month, side, stores, months_back, k, seed)
    frame, model = window.frame, window.model
    previous = window.months[:-1]
    totals = frame.groupby("month").size().to_dict()
    counts = frame.groupby(["month", "theme"]).size().to_dict()
    current = frame[frame["month"] == month]
    n_comments = len(current)
    prior_total = sum(int(totals.get(m, 0)) for m in previous)
    hotspots = set(model.lexicon.hotspots)
    themes: list[dict[str, Any]] = []
    for theme_id, n in current["theme"].value_counts().items():
        if theme_id in (NONE, OTHER):
            continue
        n = int(n)
        theme = model.themes[str(theme_id)]
        share = n / n_comments
        prior_n = sum(int(counts.get((m, theme_id), 0)) for m in previous)
        z = _z(n, n_comments, prior_n, prior_total)
        rising = n >= MIN_FLAG_N and prior_total > 0 and z >= RISING_Z
        new = rising and prior_n / prior_total <= NEW_PRIOR_RATIO * share
        entry = {
            "id": theme.id,
            "label_en": theme.label_en,
            "label_zh": theme.label_zh,
            "source": theme.source,
            "words": list(theme.words),
            "n": n,
            "share": share,
            "trend": [
                (int(counts.get((m, theme_id), 0)) / int(totals[m])) if totals.get(m) else None
                for m in previous
            ],
            "trend_n": [int(counts.get((m, theme_id), 0)) for m in previous],
            "z": round(z, 3),
            "new": bool(new),
            "rising": bool(rising and not new),
            "quotes": _quotes(window, current[current["theme"] == theme_id]),
        }
        if side == "complaint":
            entry["hotspot"] = theme.id in hotspots
        themes.append(entry)
    # What each theme is worth: the month's satisfaction rate and NPS with and without its comments.
    base = _impact_base(con, month, stores)
    for entry in themes:
        ids = set(current.loc[current["theme"] == entry["id"], "callback_id"].astype(str))
        entry["impact"] = impact(
            base["callback_id"].isin(ids).to_numpy(),
            base["satisfied"].to_numpy(),
            base["nps_points"].to_numpy(),
        )
    themes.sort(key=lambda t: (-t["n"], t["id"]))
    result: dict[str, Any] = {
        "month": month,
        "side": side,
        "stores": list(stores) if stores else None,
        "months": previous,
        "months_n": [int(totals.get(m, 0)) for m in previous],
        "n_comments": n_comments,
        "n_contentless": int((current["theme"] == NONE).sum()),
        "n_other": int((current["theme"] == OTHER).sum()),
        "themes": themes,
        "flag_test": FLAG_TEST,
    }
    if side == "complaint":
        result["categories"] = complaint_categories(con, month, stores, model.lexicon)
        # Satisfied customers' grumbles (服务不错就是等太久): complaints hidden in praise.
        praise = con.execute(sql("side_comments"), {**params_of_month(month, stores), "side": "praise"}).df()
        result["hidden"] = hidden_complaints(praise["comment"].astype(str).tolist(), model.lexicon)
    return result


def impact(in_theme: np.ndarray, satisfied: np.ndarray, nps_points: np.ndarray) -> dict[str, float | None]:
    """Return the satisfaction-rate and NPS points a theme's callbacks are worth, with 95% intervals.

    ``in_theme`` marks the theme's callbacks among the month's base, ``satisfied`` whether each was
    satisfied, ``nps_points`` +1 promoter / 0 passive / -1 detractor (NaN without a recommend score).
    The worth is the figure with the theme's comments minus the figure without them: positive when
    the theme lifts it (praise), negative when it costs (complaint). Intervals by the delta method
    on the difference between the theme's callbacks and the others', with half a success added to
    a group whose rate is 0 or 1.
    """
    out: dict[str, float | None] = {}
    for name, values, scale in (("rate", satisfied.astype(float), 100.0), ("nps", nps_points, 100.0)):
        known = ~np.isnan(values)
        total = int(known.sum())
        theme = known & in_theme
        n_t, n_r = int(theme.sum()), total - int(theme.sum())
        if total == 0 or n_t == 0 or n_r == 0:
            out[name] = out[f"{name}_low"] = out[f"{name}_high"] = None
            continue
        mean_t, mean_r = float(values[theme].mean()), float(values[known & ~in_theme].mean())
        worth = (n_t / total) * (mean_t - mean_r)
        if name == "rate":
            p_t = (values[theme].sum() + 0.5) / (n_t + 1) if mean_t in (0.0, 1.0) else mean_t
            p_r = (values[known & ~in_theme].sum() + 0.5) / (n_r + 1) if mean_r in (0.0, 1.0) else mean_r
            var_t, var_r = p_t * (1 - p_t), p_r * (1 - p_r)
        else:
            var_t = max(float(values[theme].var()), 1.0 / (n_t + 1))
            var_r = max(float(values[known & ~in_theme].var()), 1.0 / (n_r + 1))
        se = (n_t / total) * math.sqrt(var_t / n_t + var_r / n_r)
        out[name] = round(scale * worth, 2)
        out[f"{name}_low"] = round(scale * (worth - 1.96 * se), 2)
        out[f"{name}_high"] = round(scale * (worth + 1.96 * se), 2)
    return out


def _impact_base(con: duckdb.DuckDBPyConnection, month: str, stores: Sequence[str] | None) -> pd.DataFrame:
    """Return the month's reached callbacks with satisfied (bool) and NPS points (+1/0/-1/NaN)."""
    kpi = settings()["kpi"]
    frame = con.execute(
        sql("theme_impact_base"), {**_bounds([month]), "stores": list(stores) if stores else None}
    ).df()
    recommend = pd.to_numeric(frame["recommend_score"], errors="coerce").to_numpy(dtype=float)
    points = np.where(
        recommend >= float(kpi["nps_promoter_min"]),
        1.0,
        np.where(recommend <= float(kpi["nps_detractor_max"]), -1.0, 0.0),
    )
    points[np.isnan(recommend)] = np.nan
    return pd.DataFrame(
        {
            "callback_id": frame["callback_id"].astype(str),
            "satisfied": frame["overall_score"].astype(float) >= float(kpi["satisfied_threshold"]),
            "nps_points": points,
        }
    )


def impact_table(result: dict[str, Any], language: str = "zh") -> pd.DataFrame:
    """Return the month's themes ranked by worth: praise by points earned, complaints by points cost."""
    rows = [
        {
            "id": t["id"],
            "label": t["label_zh"] if language == "zh" else t["label_en"],
            "n": t["n"],
            **{key: (t.get("impact") or {}).get(key) for key in IMPACT_KEYS},
        }
        for t in result["themes"]
    ]
    frame = pd.DataFrame(rows, columns=["id", "label", "n", *IMPACT_KEYS])
    if frame.empty:
        return frame
    # Complaints: most costly (most negative) first; praise: biggest gain first.
    ascending = result["side"] == "complaint"
    return frame.sort_values(
        ["rate", "n", "id"], ascending=[ascending, False, True], na_position="last"
    ).reset_index(drop=True)


def params_of_month(month: str, stores: Sequence[str] | None) -> dict[str, Any]:
    """Return the bound parameters of one month's comments (dates, satisfied threshold, stores)."""
    return {
        **_bounds([month]),
        "threshold": float(settings()["kpi"]["satisfied_threshold"]),
        "stores": list(stores) if stores else None,
    }


def complaint_categories(
    con: duckdb.DuckDBPyConnection,
    month: str,
    stores: Sequence[str] | None = None,
    lexicon: Lexicon | None = None,
) -> list[dict[str, Any]]:
    """Return the month's complaint categories with n, share and the lexicon aspect each maps to."""
    lex = lexicon or load_lexicon()
    params = {**_bounds(_months(month, 0)), "stores": list(stores) if stores else None}
    rows = con.execute(sql("complaint_categories"), params).fetchall()
    total = sum(int(n) for _, n in rows)
    hotspots = set(lex.hotspots)
    out: list[dict[str, Any]] = []
    for (category, n), toks in zip(rows, tokenize([c for c, _ in rows]), strict=True):
        aspect = lexicon_aspect(toks, "complaint", lex) if category else None
        out.append(
            {
                "category": category,
                "n": int(n),
                "share": int(n) / total,
                "aspect": aspect,
                "hotspot": aspect in hotspots,
            }
        )
    return out


def themes_by_advisor(
    con: duckdb.DuckDBPyConnection,
    month: str,
    stores: Sequence[str] | None = None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Return the praise board: one row per advisor and praised theme in the month, most praised first."""
    columns = ["advisor", "advisor_n", "theme", "label_en", "label_zh", "n", "share"]
    window = _window(con, month, "praise", stores, months_back, k, seed)
    current = window.frame[(window.frame["month"] == month) & window.frame["advisor"].notna()]
    if current.empty:
        return pd.DataFrame(columns=columns)
    advisor_n = current.groupby("advisor").size().rename("advisor_n")
    themed = current[~current["theme"].isin([NONE, OTHER])]
    board = themed.groupby(["advisor", "theme"]).size().rename("n").reset_index()
    board = board.join(advisor_n, on="advisor")
    board = board.assign(
        label_en=[window.model.label(t, "en") for t in board["theme"]],
        label_zh=[window.model.label(t, "zh") for t in board["theme"]],
        share=board["n"] / board["advisor_n"],
    )
    board = board.sort_values(["advisor_n", "advisor", "n", "theme"], ascending=[False, True, False, True])
    return board[columns].reset_index(drop=True)


_COMMENT_COLUMNS: tuple[str, ...] = (
    "callback_id",
    "callback_date",
    "store",
    "advisor",
    "overall_score",
    "comment",
    "theme",
    "centrality",
)


def theme_comments(
    con: duckdb.DuckDBPyConnection,
    theme_id: str,
    month: str,
    side: str = "praise",
    stores: Sequence[str] | None = None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Return the month's comments behind one theme (``none``/``other`` too), most central first."""
    from analytics import marts

    # From the month's drill-down rows (kept in the marts), not from the fitted window: the
    # window holds six months of comments and their vectors, a second to read back at group size.
    call = month_comments_call(month, side, stores, months_back, k, seed)
    every: pd.DataFrame = marts.cached(con, call, keep=True, as_is=True)
    rows = every[every["theme"] == theme_id]
    rows = rows.sort_values(["centrality", "callback_date", "callback_id"], ascending=[False, True, True])
    return rows.reset_index(drop=True)


def month_comments_call(
    month: str,
    side: str,
    stores: Sequence[str] | None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> Any:
    """Return the marts call of ``month_comments`` that ``theme_comments`` reads (the rebuild computes it)."""
    from analytics import marts

    store_key = tuple(sorted(stores)) if stores else None
    return marts.call_of(month_comments, month, side, store_key, months_back, k, seed)


def month_comments(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str,
    stores: Sequence[str] | None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Return every comment of the month on one side with its theme and its centrality: the
    cosine similarity of its vector to the centroid of its theme's comments of the month."""
    window = _window(con, month, side, stores, months_back, k, seed)
    frame = window.frame
    rows = frame[frame["month"] == month].reset_index(drop=True)
    centrality = np.zeros(len(rows))
    positions = rows["row"].to_numpy()
    for idx in rows.groupby("theme", sort=False).indices.values():
        centrality[idx] = _centrality(window, positions[idx])
    return rows.assign(centrality=centrality)[list(_COMMENT_COLUMNS)]


# --------------------------------------------------------------------------- page views
# Small pure reshapings of the results above into what the themes page draws.

SMALL = "small"
SMALL_LABELS = ("Smaller discovered themes", "其他零星新主题")


def theme_bars(result: dict[str, Any], min_discovered_n: int = MIN_FLAG_N) -> pd.DataFrame:
    """Return one row per theme of a ``monthly_themes`` result to chart, largest first.

    ``prior_n``/``prior_share``: the theme over the pooled previous months. Discovered themes
    with fewer than ``min_discovered_n`` comments are folded into one last row (``id`` =
    ``small``, ``themes`` = how many it holds): a handful of comments sharing a word is not yet
    a theme a store manager can act on.
    """
    columns = [
        "id", "label_en", "label_zh", "source", "n", "share", "prior_n", "prior_share",
        "new", "rising", "hotspot", "themes",
    ]  # fmt: skip
    prior_total = sum(result["months_n"])
    rows: list[dict[str, Any]] = []
    small: list[dict[str, Any]] = []
    for theme in result["themes"]:
        prior_n = sum(theme["trend_n"])
        row = {
            c: theme.get(c) for c in ("id", "label_en", "label_zh", "source", "n", "share", "new", "rising")
        }
        row.update(
            prior_n=prior_n,
            prior_share=prior_n / prior_total if prior_total else None,
            hotspot=bool(theme.get("hotspot", False)),
            themes=1,
        )
        if theme["source"] == "discovered" and theme["n"] < min_discovered_n:
            small.append(row)
        else:
            rows.append(row)
    rows.sort(key=lambda r: (-r["n"], r["id"]))
    if small:
        rows.append(
            {
                "id": SMALL,
                "label_en": SMALL_LABELS[0],
                "label_zh": SMALL_LABELS[1],
                "source": "discovered",
                "n": sum(r["n"] for r in small),
                "share": sum(r["share"] for r in small),
                "prior_n": sum(r["prior_n"] for r in small),
                "prior_share": sum(r["prior_n"] for r in small) / prior_total if prior_total else None,
                "new": False,
                "rising": False,
                "hotspot": False,
                "themes": len(small),
            }
        )
    types = {
        "n": "int64",
        "share": "float64",
        "prior_n": "int64",
        "prior_share": "float64",
        "themes": "int64",
    }
    return pd.DataFrame(rows, columns=columns).astype(types)


def theme_trend(result: dict[str, Any], top: int = 5, min_discovered_n: int = MIN_FLAG_N) -> pd.DataFrame:
    """Return one row per month of the window and top theme (month's n, total and share), oldest first."""
    bars = theme_bars(result, min_discovered_n)
    chosen = [t for t in bars["id"] if t != SMALL][:top]
    by_id = {t["id"]: t for t in result["themes"]}
    months = [*result["months"], result["month"]]
    totals = [*result["months_n"], result["n_comments"]]
    rows: list[dict[str, Any]] = []
    for theme_id in chosen:
        theme = by_id[theme_id]
        for month, n, total in zip(months, [*theme["trend_n"], theme["n"]], totals, strict=True):
            rows.append(
                {
                    "id": theme_id,
                    "label_en": theme["label_en"],
                    "label_zh": theme["label_zh"],
                    "month": month,
                    "n": int(n),
                    "total": int(total),
                    "share": n / total if total else None,
                }
            )
    columns = ["id", "label_en", "label_zh", "month", "n", "total", "share"]
    return pd.DataFrame(rows, columns=columns).astype({"n": "int64", "total": "int64", "share": "float64"})


def hotspot_table(result: dict[str, Any], lexicon: Lexicon | None = None) -> pd.DataFrame:
    """Return one row per seed complaint hotspot, then per other complaint aspect or category, with counts.

    ``comments``: the month's complaint-side comments on the theme; ``complaints``: the month's
    flagged complaints whose category maps to it. Hotspots come first, each even when nothing
    was said of it; within each group the largest (comments plus complaints) come first, ties
    in the seed's order. A category no aspect matches is a row of its own
    (``id`` = ``category:<text>``, labelled with the text as the data give it).
    """
    lex = lexicon or load_lexicon()
    names = {a.id: (a.label_en, a.label_zh) for a in lex.aspects}
    comments = {t["id"]: int(t["n"]) for t in result["themes"]}
    labels = {t["id"]: (t["label_en"], t["label_zh"]) for t in result["themes"]}
    complaints: Counter[str] = Counter()
    for category in result.get("categories", []):
        key = category["aspect"] or f"category:{category['category']}"
        complaints[key] += int(category["n"])
        if not category["aspect"]:
            text = category["category"] or "—"
            labels[key] = (text, text)
    seed_order = [h for h in lex.hotspots if h in names]
    hotspots = sorted(seed_order, key=lambda k: (-(complaints[k] + comments.get(k, 0)), seed_order.index(k)))
    # Discovered themes stay on the theme chart: this table sets the seed's aspects against the
    # categories the callers filed complaints under.
    known = {k for k in comments if k in names} | set(complaints)
    others = sorted(
        known - set(hotspots),
        key=lambda k: (-(complaints[k] + comments.get(k, 0)), k),
    )
    rows = []
    for key in [*hotspots, *others]:
        en, zh = labels.get(key) or names[key]
        rows.append(
            {
                "id": key,
                "label_en": en,
                "label_zh": zh,
                "hotspot": key in hotspots,
                "comments": comments.get(key, 0),
                "complaints": complaints[key],
            }
        )
    columns = ["id", "label_en", "label_zh", "hotspot", "comments", "complaints"]
    return pd.DataFrame(rows, columns=columns).astype({"comments": "int64", "complaints": "int64"})


@dataclass(frozen=True)
class PraiseGrid:
    """The praise board as matrices: advisors (busiest first) by themes (most praised first)."""

    counts: pd.DataFrame  # praised comments per advisor and theme
    shares: pd.DataFrame  # the same over the advisor's satisfied comments
    advisor_n: pd.Series  # each advisor's satisfied comments in the month


def praise_grid(board: pd.DataFrame, language: str = "zh", max_themes: int = 10) -> PraiseGrid:
    """Return a ``themes_by_advisor`` board as advisor × theme count and share matrices (labels in ``language``)."""
    label = "label_zh" if language == "zh" else "label_en"
    advisor_n = board.drop_duplicates("advisor").set_index("advisor")["advisor_n"].astype("int64")
    totals = board.groupby("theme")["n"].sum()
    order = sorted(totals.index, key=lambda t: (-int(totals[t]), str(t)))[:max_themes]
    names = board.drop_duplicates("theme").set_index("theme")[label]
    counts = (
        board.pivot_table(index="advisor", columns="theme", values="n", aggfunc="sum", fill_value=0)
        .reindex(index=advisor_n.index, columns=order, fill_value=0)
        .astype("int64")
    )
    counts.columns = pd.Index([str(names[t]) for t in order])
    counts.columns.name = None
    counts.index.name = "advisor"
    shares = counts.div(advisor_n, axis=0)
    return PraiseGrid(counts=counts, shares=shares, advisor_n=advisor_n)


# --------------------------------------------------------------------------- files of texts


def read_texts(path: str | Path, column: str) -> list[str]:
    """Return one text per data row of a CSV or XLSX file's column, in file order ('' for blanks)."""
    file = Path(path)
    if not file.is_file():
        raise UserError(f"The file {file} does not exist.")
    suffix = file.suffix.lower()
    if suffix == ".csv":
        frame = None
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding=encoding)
                break
            except UnicodeDecodeError:
                continue
            except pd.errors.EmptyDataError as exc:
                raise UserError(f"The file {file.name} is empty.") from exc
            except pd.errors.ParserError as exc:
                raise UserError(f"The file {file.name} is not a readable CSV table: {exc}") from exc
        if frame is None:
            raise UserError(f"The file {file.name} is neither UTF-8 nor GB18030 text; save it as UTF-8 CSV.")
    elif suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(file, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
            raise UserError(f"The file {file.name} cannot be read as an Excel workbook: {exc}") from exc
    else:
        raise UserError(f"The file {file.name} is not a .csv or .xlsx file.")
    names = [str(c) for c in frame.columns]
    if column not in names:
        raise UserError(
            f"The file {file.name} has no column {column!r}; its columns are: {', '.join(names)}."
        )
    series = frame.iloc[:, names.index(column)]
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in series]


def themes_of_texts(texts: Sequence[str], k: int = 8, seed: int = 0) -> tuple[ThemeModel, pd.DataFrame]:
    """Return the model and one row per text (``row`` from 1, ``theme``, ``label``) in input order."""
    tokens = tokenize(texts)
    model = mine(tokens, k=k, seed=seed)
    ids = assign(model, tokens)
    frame = pd.DataFrame(
        {
            "row": np.arange(1, len(texts) + 1),
            "theme": ids,
            "label": [model.label(t, "zh") for t in ids],
        }
    )
    return model, frame


# --------------------------------------------------------------------------- benchmark


def synthetic_token_lists(n: int, seed: int = 0) -> list[list[str]]:
    """Return n synthetic tokenised comments: function words, lexicon words and a long tail."""
    lex = load_lexicon()
    rng = np.random.default_rng(seed)
    triggers = [list(a.terms + a.praise + a.complaint) for a in lex.aspects]
    filler = sorted(stopwords() | lex.generic)
    # A Zipf-like tail of 20,000 content words stands in for the open vocabulary of real comments.
    tail = [f"词{i}" for i in range(20_000)]
    n_filler = rng.integers(1, 5, n)
    has_content = rng.random(n) > 0.15
    n_aspects = rng.integers(1, 3, n)
    n_tail = rng.integers(0, 4, n)
    tail_draws = np.minimum(rng.zipf(1.3, int(n_tail.sum()) + 1), len(tail)) - 1
    aspect_draws = rng.integers(0, len(triggers), int(n_aspects.sum()) + 1)
    word_draws = rng.random(int(n_aspects.sum()) + 1)
    filler_draws = rng.integers(0, len(filler), int(n_filler.sum()) + 1)
    docs: list[list[str]] = []
    fi = ai = ti = 0
    for i in range(n):
        doc = [filler[j] for j in filler_draws[fi : fi + n_filler[i]]]
        fi += n_filler[i]
        if has_content[i]:
            for a, u in zip(
                aspect_draws[ai : ai + n_aspects[i]], word_draws[ai : ai + n_aspects[i]], strict=True
            ):
                doc.append(triggers[a][int(u * len(triggers[a]))])
            doc.extend(tail[j] for j in tail_draws[ti : ti + n_tail[i]])
        ai += n_aspects[i]
        ti += n_tail[i]
        docs.append(doc)
    return docs


def bench(n_docs: int = 100_000, n_texts: int = 10_000, seed: int = 0) -> dict[str, float]:
    """Return seconds taken to mine and assign n_docs synthetic token lists and to tokenise n_texts."""
    docs = synthetic_token_lists(n_docs, seed)
    load_lexicon().memo.clear()
    started = time.perf_counter()
    model = mine(docs, k=8, seed=seed)
    mined = time.perf_counter()
    assign(model, docs)
    assigned = time.perf_counter()
    # Texts of comment length (about 20 characters) made of real words, for jieba's speed.
    texts = ["".join(d) + "，" + "".join(reversed(d)) for d in docs[:n_texts]]
    _jieba()
    tok_start = time.perf_counter()
    tokenize(texts)
    tok_end = time.perf_counter()
    return {
        "docs": float(n_docs),
        "mine_s": round(mined - started, 3),
        "assign_s": round(assigned - mined, 3),
        "mine_assign_s": round(assigned - started, 3),
        "texts": float(n_texts),
        "text_chars_mean": round(float(np.mean([len(t) for t in texts])), 1) if texts else 0.0,
        "tokenize_s": round(tok_end - tok_start, 3),
    }


# --------------------------------------------------------------------------- command line


def add_commands(sub: Any) -> None:
    """Register the ``themes`` command."""
    from analytics.cli import add_db_option

    p = sub.add_parser(
        "themes",
        help="themes in callback comments (database) or in any table of Chinese texts (--file)",
        description=(
            "Themes customers praise or complain about. With --month: over the database's callback "
            "comments. With --file: over a column of any CSV/XLSX, writing one theme per row to --out."
        ),
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--month", metavar="YYYY-MM", help="month of callbacks to analyse")
    source.add_argument("--file", metavar="F", help="a .csv or .xlsx file of texts")
    p.add_argument(
        "--side", choices=SIDES, default="praise", help="praise (satisfied) or complaint (default praise)"
    )
    p.add_argument("--store", action="append", metavar="S", help="limit to a store (repeatable)")
    p.add_argument("--text-column", metavar="COL", help="the column holding the texts (with --file)")
    p.add_argument("--k", type=int, default=8, metavar="K", help="topics to discover (default 8)")
    p.add_argument("--out", metavar="OUT.csv", help="where to write row, theme, label (with --file)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_db_option(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UserError("--k must be at least 1.")
    if args.file:
        return _run_file(args)
    _parse_month(args.month)
    from analytics import db

    con = db.connect(args.db)
    try:
        result = monthly_themes(con, args.month, args.side, args.store, k=args.k)
    finally:
        con.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    side = "Praise" if args.side == "praise" else "Complaint"
    print(
        f"{side} themes {result['month']}: {result['n_comments']} comments, "
        f"{result['n_contentless']} without content, {result['n_other']} other"
    )
    for t in result["themes"]:
        flags = " NEW" if t["new"] else (" RISING" if t["rising"] else "")
        print(f"  {t['label_zh']} ({t['label_en']})  n={t['n']}  {t['share']:.1%}{flags}")
        for q in t["quotes"]:
            print(f"      “{q}”")
    for c in result.get("categories", []):
        print(f"  complaint category {c['category'] or '(none)'}: n={c['n']} aspect={c['aspect'] or '-'}")
    return 0


def _run_file(args: argparse.Namespace) -> int:
    if not args.text_column:
        raise UserError("--file needs --text-column naming the column that holds the texts.")
    if not args.out:
        raise UserError("--file needs --out OUT.csv for the theme of each row.")
    texts = read_texts(args.file, args.text_column)
    model, frame = themes_of_texts(texts, k=args.k)
    try:
        write_table(frame, args.out)  # the texts are data: neutralised like every export
    except OSError as exc:
        raise UserError(f"Cannot write {args.out}: {exc.strerror or exc}.") from exc
    counts = Counter(str(t) for t in frame["theme"])
    themes = [
        {
            "id": theme_id,
            "label_zh": model.label(theme_id, "zh"),
            "label_en": model.label(theme_id, "en"),
            "n": n,
        }
        for theme_id, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    summary: dict[str, Any] = {"rows": len(frame), "out": str(args.out), "themes": themes}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(f"{len(frame)} rows → {args.out}", file=sys.stdout)
        for t in themes:
            print(f"  {t['label_zh']}: {t['n']}")
    return 0
