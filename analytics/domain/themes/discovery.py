"""Theme discovery: NMF over TF-IDF of the comments the lexicon does not explain, merged with the lexicon aspects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from analytics.core.errors import UserError
from analytics.domain.themes.lexicon import (
    NONE,
    OTHER,
    PRAISE_ONLY,
    SIDES,
    TERM_WEIGHT,
    Lexicon,
    _analyse,
    content_words,
    load_lexicon,
)
from analytics.domain.themes.segmentation import english_label, label_word, tokenize

SPECIAL_LABELS: dict[str, tuple[str, str]] = {
    NONE: ("No content", "无实质内容"),
    OTHER: ("Other", "其他"),
    PRAISE_ONLY: ("Praise only", "只有表扬"),
}


# A discovered topic is merged into a lexicon aspect when at least this share of its comments
# carry that aspect.
MERGE_SHARE = 0.5


# A discovered topic is novel (the lexicon does not know it) when fewer than this share of its
# comments name a lexicon aspect; only a novel theme takes comments that carry lexicon cues alone.
NOVEL_SHARE = 0.5


# NMF fits on at most this many comments (a deterministic sample); every comment is assigned.
MAX_FIT_DOCS = 40_000


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


def ctfidf_words(
    counts: sparse.csr_matrix, topic: np.ndarray, k: int, vocab: np.ndarray
) -> list[tuple[str, ...]]:
    """Return each topic's five top words by class-based TF-IDF over its comments' words, function
    words, stopwords and entities left out (``label_word``: 更加, 一共, 前后 make no label)."""
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
        top: list[str] = []
        for j in order:
            if len(top) == 5 or score[t, j] <= 0:
                break
            if label_word(str(vocab[j])):
                top.append(str(vocab[j]))
        words.append(tuple(top))
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
    words = ctfidf_words(counts, topic, k_eff, vocab)

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
    label_words = ctfidf_words(counts, label_topic, k_eff, vocab)
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
    class_words = ctfidf_words(counts, doc_class, len(group_roots) + k_eff, vocab)

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
    _distinct_labels(themes)
    model.topic_themes = tuple(topic_themes)
    model.novel = novel
    model.topic_words = tuple(words)
    return model


def _distinct_labels(themes: dict[str, Theme]) -> None:
    """Number the discovered themes whose label is another theme's in either language, in the
    order of their ids ("(untranslated) 1", "(untranslated) 2"): a chart draws one bar per label,
    so two themes under one label would be drawn over each other, and a reader could not tell
    them apart."""
    for attr in ("label_en", "label_zh"):
        taken = Counter(getattr(t, attr) for t in themes.values())
        lexicon_labels = {getattr(t, attr) for t in themes.values() if t.source != "discovered"}
        numbered: Counter[str] = Counter()
        for theme_id in sorted(themes):
            theme = themes[theme_id]
            label = getattr(theme, attr)
            if theme.source != "discovered" or (taken[label] < 2 and label not in lexicon_labels):
                continue
            numbered[label] += 1
            numbered_label = f"{label} {numbered[label]}"
            if attr == "label_en":
                themes[theme_id] = replace(theme, label_en=numbered_label)
            else:
                themes[theme_id] = replace(theme, label_zh=numbered_label)


def _detail(model: ThemeModel, tokens: Sequence[Sequence[str]], side: str | None) -> _Detail:
    lex = model.lexicon
    analysed = [_analyse(lex, t, side) for t in tokens]
    content = [a[0] for a in analysed]
    vectors = None
    if model.vectorizer is not None and model.transformer is not None and tokens:
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
