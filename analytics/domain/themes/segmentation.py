"""Segmentation of Chinese comments: jieba with the domain dictionary, content words, stored tokens."""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import re
import threading
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    # jieba (with pkg_resources, about 0.3 s) is imported when the first text is segmented:
    # the dashboard loads this module on every server start but segments only on an import.
    import jieba
from analytics.core.config import DATA_DIR
from analytics.store.queries import load as sql

THEMES_DIR = DATA_DIR / "themes"


DOMAIN_DICT = THEMES_DIR / "domain_dict.txt"


STOPWORDS_FILE = THEMES_DIR / "stopwords.txt"
CLOSERS_FILE = THEMES_DIR / "closers.txt"


ENTITIES_FILE = THEMES_DIR / "entities.txt"


GLOSSARY_FILE = THEMES_DIR / "glossary.toml"


UNTRANSLATED = "(untranslated)"


# Bump when the way comments are segmented changes, so stored tokens are recomputed.
TOKENIZER_REVISION = "2"


# Numbers and counted quantities (三个, 两次, 20分钟) carry no theme.
_NUMERAL = re.compile(r"[0-9零一二三四五六七八九十两几百千万半多]+[个次天小时分钟年月周块元公里号点]*")


# Plates (粤A12345, 京AD12345), VINs and counts (2次, 304元) all hold a digit: they name a car or a
# number, not a theme.
_DIGIT = re.compile(r"[0-9]")


# A token is kept when it holds a letter, digit or CJK character (punctuation and spaces go).
_WORD_CHAR = re.compile(r"[^\W_]")


_tokenizer: jieba.Tokenizer | None = None


_tokenizer_lock = threading.Lock()


def _word_lines(path: Path) -> list[str]:
    """Return the non-empty, non-comment lines of a word list."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _jieba() -> jieba.Tokenizer:
    """Return the process's private jieba tokenizer with the domain dictionary (built once)."""
    with _tokenizer_lock:
        return _jieba_unlocked()


def _jieba_unlocked() -> jieba.Tokenizer:
    """Return the private tokenizer, building it on first use (the caller holds _tokenizer_lock)."""
    global _tokenizer
    if _tokenizer is None:
        import jieba

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
            # As written and in either case (秦PLUS, 秦plus): jieba matches the text as it is.
            for spelling in dict.fromkeys((name, name.lower(), name.upper())):
                if spelling not in tk.FREQ:
                    tk.add_word(spelling)
        _tokenizer = tk
    return _tokenizer


def tokenizer_version() -> str:
    """Return a fingerprint of the segmentation (dictionary and revision) stored tokens depend on."""
    digest = hashlib.sha256(DOMAIN_DICT.read_bytes())
    digest.update(ENTITIES_FILE.read_bytes())
    digest.update(f"opencc {importlib.metadata.version('opencc')}".encode())
    digest.update(TOKENIZER_REVISION.encode())
    return digest.hexdigest()[:16]


# The texts segmented last in this process, with their tokens (by the tokenizer they were segmented
# with): the refresh after an import segments a month's new comments for their stored tokens, then
# reads the satisfied ones clause by clause, which segments the same texts again (2-4 s of the
# refresh at a million work orders). Emptied when full; a few megabytes at most.
SEGMENTED_KEPT = 50_000
_segmented: dict[str, list[str]] = {}
_segmented_by: list[Any] = [None]


def forget_segmented() -> None:
    """Forget the texts segmented so far (the bench times segmentation itself)."""
    _segmented.clear()


def tokenize(texts: Iterable[str | None]) -> list[list[str]]:
    """Return each text's tokens (jieba with the domain dictionary; punctuation and spaces dropped)."""
    tk = _jieba()
    if _segmented_by[0] is not tk:
        _segmented.clear()
        _segmented_by[0] = tk
    out: list[list[str]] = []
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            out.append([])
            continue
        found = _segmented.get(text)
        if found is None:
            norm = simplified(unicodedata.normalize("NFKC", text))
            found = [t.lower() for t in tk.lcut(norm) if _WORD_CHAR.search(t)]
            if len(_segmented) >= SEGMENTED_KEPT:
                _segmented.clear()
            _segmented[text] = found
        out.append(list(found))  # a list of the caller's own
    return out


@cache
def _to_simplified() -> Any:
    """Return OpenCC's traditional-to-simplified converter (phrases first, then characters)."""
    import opencc  # the converter's dictionaries load once, on the first traditional comment

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Return a text in traditional characters in simplified ones (服務很好 → 服务很好, by OpenCC); a
    text in simplified characters as it is (显著 stays, though 著 is traditional for 着): only a text
    holding a character GB2312, the simplified character set, lacks is converted."""
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return str(_to_simplified().convert(text))
    return text


# jieba part-of-speech tags read as nouns: common and other proper nouns, verbal and
# adjectival nouns, noun morphemes, organisations, Latin-letter words; "x" is a word jieba's
# dictionary holds without a tag (the domain dictionary's words, which are nouns: 首保, 钣金).
NOUN_TAGS = frozenset({"n", "nz", "vn", "an", "ng", "nt", "nrt", "eng", "x"})


_pos_tokenizer: Any = None


def pos_tag(word: str) -> str:
    """Return jieba's part-of-speech tag of one segmented word (its dictionary tag, else the HMM's)."""
    return _pos_tag(word)


@cache
def _pos_tag(word: str) -> str:
    global _pos_tokenizer
    with _tokenizer_lock:
        if _pos_tokenizer is None:
            import jieba.posseg

            _pos_tokenizer = jieba.posseg.POSTokenizer(_jieba_unlocked())
    pt = _pos_tokenizer
    known = pt.word_tag_tab.get(word)
    if known:
        return str(known)
    pairs = list(pt.cut(word))
    return str(pairs[0].flag) if len(pairs) == 1 else "x"


# jieba tags of words no label is made of: adverbs (更加, 很快), prepositions, conjunctions,
# particles, pronouns, numerals and classifiers, locative and time words (前后, 过后), modal
# particles, interjections and onomatopoeia. (Not person names: jieba's dictionary tags 顾问 as
# one; the store's own names are entities.)
NO_LABEL_TAGS = frozenset(
    {"d", "dg", "p", "c", "u", "uj", "ul", "uv", "uz", "ug", "ud", "r", "rr", "rz", "rg", "m", "mq", "q"}
    | {"f", "t", "tg", "y", "e", "o"}
)


def label_word(word: str) -> bool:
    """Return whether a word may stand in a theme's label: not a stopword, entity or function word
    (see :data:`NO_LABEL_TAGS`)."""
    return word.lower() not in stopwords() and not is_entity(word) and pos_tag(word) not in NO_LABEL_TAGS


def is_noun(word: str) -> bool:
    """Return whether jieba tags the word as a noun (see :data:`NOUN_TAGS`)."""
    return pos_tag(word) in NOUN_TAGS


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
    if t in _ENTITY_WORDS or t in names or _addressed(t):
        return True
    # Plates, VINs and numbers all hold a digit (Chinese numerals are read by _NUMERAL).
    return bool(_DIGIT.search(t))


_ENTITY_WORDS = entity_words()


# Common surnames: a surname and how a customer addresses someone (王师傅, 陈姐, 张工, 赵总, 小王, 老李)
# name a person, whoever it is (a technician is in no table the themes read).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔向汤"
)
_TITLES = ("师傅", "经理", "主管", "顾问", "老师", "先生", "女士", "总", "姐", "哥", "工")


def _addressed(token: str) -> bool:
    """Return whether a token is a surname and a title or 小/老 and a surname (王师傅, 小王)."""
    if len(token) == 2 and token[0] in "小老" and token[1] in SURNAMES:
        return True
    return 2 <= len(token) <= 3 and token[0] in SURNAMES and token[1:] in _TITLES


def drop_entities(tokens: Sequence[str], names: frozenset[str] = frozenset()) -> list[str]:
    """Return the tokens without entities (see :func:`is_entity`)."""
    return [t for t in tokens if not is_entity(t, names)]


def drop_entities_all(docs: Sequence[Sequence[str]], names: frozenset[str] = frozenset()) -> list[list[str]]:
    """Return each document's tokens without entities, as ``drop_entities`` does, deciding each
    distinct token once (a month's comments repeat the same few thousand words)."""
    keep: dict[str, bool] = {}
    out: list[list[str]] = []
    for tokens in docs:
        kept = []
        for t in tokens:
            verdict = keep.get(t)
            if verdict is None:
                verdict = keep[t] = not is_entity(t, names)
            if verdict:
                kept.append(t)
        out.append(kept)
    return out


@cache
def glossary() -> dict[str, str]:
    """Return the Chinese-to-English glossary of domain words used to label discovered themes."""
    with GLOSSARY_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    return {str(k): str(v) for k, v in data.get("words", {}).items()}


def english_label(words: Sequence[str]) -> str:
    """Return an English label from a theme's words via the glossary, or ``(untranslated)``; a label
    some of whose content words the glossary lacks says how many (``ugly looks (+2 untranslated)``),
    so that one known word is not read as the whole theme."""
    gloss = glossary()
    known = list(dict.fromkeys(gloss[w] for w in words if w in gloss))
    if not known:
        return UNTRANSLATED
    unknown = len([w for w in dict.fromkeys(words) if w not in gloss and w.lower() not in stopwords()])
    label = " · ".join(known[:3])
    return f"{label} (+{unknown} untranslated)" if unknown else label


@cache
def closers() -> frozenset[str]:
    """Return the words of a callback comment's sign-off and turns (data/themes/closers.txt), left
    out of the store's comments before discovery (not out of other texts)."""
    return frozenset(w.lower() for w in _word_lines(CLOSERS_FILE))


@cache
def stopwords() -> frozenset[str]:
    """Return the stopword list (function words left out of content words)."""
    return frozenset(w.lower() for w in _word_lines(STOPWORDS_FILE))
