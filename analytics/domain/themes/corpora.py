"""Evaluation of theme discovery against human labels, beside a naive baseline (issue 16).

``python -m analytics themes evaluate --file F --text-column C --label-column L`` reads a labelled
table of Chinese texts, keeps one part of a fixed-seed split (``dev`` to develop on, ``reported``
to report on), and prints for the project's discovery and for the naive baseline, computed in the
same run on the same texts at the same k: NMI and purity against the labels, the share of texts
assigned, the time taken and the top label words of each theme.

The project's discovery takes one of two routes, decided from the texts alone by the share of
them the aspect lexicon reads (:data:`LEXICON_LED_COVERAGE`):
- **lexicon-led** when the lexicon reads most texts: each text's theme is the aspect most of its
  clauses speak of (the lexicon reads clause by clause); a text none of whose clauses it reads gets
  the aspect a classifier trained on the read texts gives it, else a k-means cluster (:func:`seeded`);
- **content words** otherwise: content words only (stopwords, generic words, brand/series/place
  names, plates, VINs and numbers removed, see :func:`analytics.domain.content_words`), fused
  words split into the corpus words they are made of (:func:`split_fused`), nouns counted twice
  (:func:`weight_nouns`), plus one pseudo-word for the aspect the lexicon reads, TF-IDF, LSA
  (truncated SVD), unit-length rows, k-means.
Themes are labelled by c-TF-IDF top words. Texts without content words are left unassigned by
the content-word route (counted apart, one cluster for the scores).
The naive baseline: every jieba token, plain TF-IDF, the same LSA and k-means; it is also scored
at the number of clusters the method made, since the lexicon-led route makes one per aspect read.

Label rules for the public corpora (decided before any result was seen, see README):
``plain`` the label column as is; ``dominant-group`` the aspect group (a comma list of column
prefixes in ``--label-column``) with the most mentioned aspect columns (value other than -2),
texts with a tie or no mention left out; ``top-terms`` the label column's value where it is one of
the file's N most frequent values, other rows left out.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import normalized_mutual_info_score
from sklearn.preprocessing import Normalizer

from analytics.core.errors import UserError
from analytics.domain.themes import polarity
from analytics.domain.themes.discovery import ctfidf_words
from analytics.domain.themes.evaluation import purity
from analytics.domain.themes.lexicon import Lexicon, content_words, lexicon_aspect, load_lexicon
from analytics.domain.themes.segmentation import forget_segmented, is_noun, tokenize
from analytics.domain.themes.texts import read_frame

LABEL_RULES = ("plain", "dominant-group", "top-terms")
PARTS = ("dev", "reported", "all")
SPLIT_SEED = 16
LSA_DIMENSIONS = 100
UNASSIGNED = "(unassigned)"
# The seeded variant extends a lexicon aspect to a text the lexicon does not read at this
# classifier probability (chosen before measuring; measured on dev parts only).
SEEDED_CONFIDENCE = 0.5
# Pseudo-word of the lexicon aspect added to a text's content words (never a label word).
SEED_PREFIX = "@"
# The lexicon leads discovery when it reads at least this share of the texts with content words.
# Fixed on the dev halves before any reported figure was run: it read 1.00 of the restaurant
# reviews (where leading won), 0.54 of Peng 2018 and 0.64 of the shopping sample (where it lost);
# any value between 0.65 and 1.00 routes the dev halves alike, 0.8 is "four texts in five".
LEXICON_LED_COVERAGE = 0.8
ROUTES = ("lexicon-led", "content words")
# A fused word (价格便宜) is split into the corpus words it starts or ends with when each is a word
# of its own in at least this many texts (see split_fused).
FUSED_MIN_TEXTS = 2
# Nouns count this many times among a text's content words in the content-word route.
NOUN_WEIGHT = 2


def split_part(row: int, seed: int = SPLIT_SEED) -> str:
    """Return ``dev`` or ``reported`` for a data row index: half each, by a seeded hash of the index."""
    digest = hashlib.sha256(f"{seed}:{row}".encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "reported"


def read_table(path: str | Path) -> pd.DataFrame:
    """Return a labelled CSV/XLSX table as strings (blanks as ''), or raise UserError with one
    sentence: UTF-8 with or without BOM, else GB18030, as ``themes --file`` reads (``read_frame``)."""
    return read_frame(path)


def labelled_texts(
    frame: pd.DataFrame,
    text_column: str,
    label_column: str,
    rule: str = "plain",
    top_terms: int = 20,
    part: str = "reported",
    seed: int = SPLIT_SEED,
) -> tuple[list[str], list[str]]:
    """Return the texts and labels of one part of the split under a label rule (duplicates dropped)."""
    if rule not in LABEL_RULES:
        raise UserError(f"--label-rule must be one of {', '.join(LABEL_RULES)}, not {rule!r}.")
    if part not in PARTS:
        raise UserError(f"--part must be one of {', '.join(PARTS)}, not {part!r}.")
    columns = [str(c) for c in frame.columns]
    if text_column not in columns:
        raise UserError(f"The table has no column {text_column!r}; its columns are: {', '.join(columns)}.")
    if rule == "dominant-group":
        groups = [g.strip() for g in label_column.split(",") if g.strip()]
        counts = {}
        for g in groups:
            cols = [c for c in columns if c.startswith(g + "_")]
            if not cols:
                raise UserError(f"No column starts with {g + '_'!r} for the aspect group {g!r}.")
            values = frame[cols].apply(pd.to_numeric, errors="coerce").fillna(-2)
            counts[g] = (values != -2).sum(axis=1)
        mentioned = pd.DataFrame(counts)
        top = mentioned.max(axis=1)
        unique = mentioned.eq(top, axis=0).sum(axis=1) == 1
        labels = mentioned.idxmax(axis=1).where(unique & (top > 0), "")
    else:
        if label_column not in columns:
            raise UserError(
                f"The table has no column {label_column!r}; its columns are: {', '.join(columns)}."
            )
        labels = frame[label_column].astype(str).str.strip()
        if rule == "top-terms":
            keep = labels[labels != ""].value_counts().index[:top_terms]
            labels = labels.where(labels.isin(keep), "")
    texts = frame[text_column].astype(str)
    rows = pd.DataFrame({"text": texts.to_numpy(), "label": labels.to_numpy()})
    rows["part"] = [split_part(i, seed) for i in range(len(rows))]
    rows = rows[(rows["label"] != "") & (rows["text"].str.strip() != "")]
    if part != "all":
        rows = rows[rows["part"] == part]
    rows = rows.drop_duplicates("text")
    return rows["text"].tolist(), rows["label"].tolist()


def _identity(doc: list[str]) -> list[str]:
    return doc


@dataclass
class Clustering:
    """One method's clusters: a cluster name per text ('(unassigned)' when none) and label words."""

    clusters: list[str]
    words: dict[str, tuple[str, ...]]
    seconds: float


def _lsa_kmeans(docs: list[list[str]], k: int, seed: int, sublinear: bool) -> tuple[np.ndarray, Any, Any]:
    vectorizer = CountVectorizer(analyzer=_identity, min_df=2, dtype=np.float64)
    counts = sparse.csr_matrix(vectorizer.fit_transform(docs))
    tfidf = TfidfTransformer(sublinear_tf=sublinear).fit_transform(counts)
    dims = max(1, min(LSA_DIMENSIONS, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
    reduced = TruncatedSVD(dims, random_state=seed).fit_transform(tfidf)
    reduced = Normalizer().fit_transform(reduced)
    k_eff = max(1, min(k, reduced.shape[0]))
    cluster = KMeans(k_eff, n_init=10, random_state=seed).fit_predict(reduced)
    return cluster, counts, vectorizer.get_feature_names_out()


def _cluster(docs: list[list[str]], k: int, seed: int, sublinear: bool) -> Clustering:
    started = time.perf_counter()
    usable = [i for i, d in enumerate(docs) if d]
    clusters = [UNASSIGNED] * len(docs)
    words: dict[str, tuple[str, ...]] = {}
    try:
        cluster, counts, vocab = _lsa_kmeans([docs[i] for i in usable], k, seed, sublinear)
    except ValueError:
        # Too few repeated words for a vocabulary: nothing is assigned.
        return Clustering(clusters, words, round(time.perf_counter() - started, 3))
    k_eff = int(cluster.max()) + 1
    top = ctfidf_words(counts, cluster, k_eff, vocab)
    top = [tuple(w for w in words if not w.startswith(SEED_PREFIX)) for words in top]
    for j, i in enumerate(usable):
        clusters[i] = f"c{int(cluster[j])}"
    words = {f"c{t}": top[t] for t in range(k_eff)}
    return Clustering(clusters, words, round(time.perf_counter() - started, 3))


def lexicon_coverage(tokens: Sequence[Sequence[str]], lexicon: Lexicon | None = None) -> float:
    """Return the share of the texts with content words whose aspect the lexicon reads (0 when none)."""
    lex = lexicon or load_lexicon()
    with_words = [t for t in tokens if content_words(t, lex)]
    if not with_words:
        return 0.0
    return sum(lexicon_aspect(t, None, lex) is not None for t in with_words) / len(with_words)


def route(tokens: Sequence[Sequence[str]], lexicon: Lexicon | None = None) -> str:
    """Return the route discovery takes on these texts: ``lexicon-led`` or ``content words``."""
    return ROUTES[0] if lexicon_coverage(tokens, lexicon) >= LEXICON_LED_COVERAGE else ROUTES[1]


def discover(
    tokens: Sequence[Sequence[str]], k: int, seed: int = 0, texts: Sequence[str] | None = None
) -> Clustering:
    """Return the project's discovery: lexicon-led where the lexicon reads most texts, else content words.

    ``texts`` (the raw texts the tokens come from) lets the lexicon read clause by clause; without
    them each text is read whole.
    """
    if route(tokens) == ROUTES[0]:
        return lexicon_led(tokens, k, seed, texts)
    return content_clusters(tokens, k, seed)


def lexicon_led(
    tokens: Sequence[Sequence[str]], k: int, seed: int = 0, texts: Sequence[str] | None = None
) -> Clustering:
    """Return lexicon-led themes: the aspect most clauses of a text speak of, else :func:`seeded`."""
    started = time.perf_counter()
    lex = load_lexicon()
    found = seeded(tokens, k, seed)
    clusters = list(found.clusters)
    if texts is not None:
        if len(texts) != len(tokens):
            raise UserError("There must be one text per token list.")
        pieces = [polarity.clause_texts(t) for t in texts]
        aspects = iter([lexicon_aspect(c, None, lex) for c in tokenize([p for ps in pieces for p in ps])])
        for i, ps in enumerate(pieces):
            # Counter keeps first-seen order, so a tie goes to the aspect spoken of first.
            votes = Counter(a for a in islice(aspects, len(ps)) if a is not None)
            if votes:
                clusters[i] = votes.most_common(1)[0][0]
    words = _cluster_words([content_words(t, lex) for t in tokens], clusters)
    return Clustering(clusters, words, round(time.perf_counter() - started, 3))


def _cluster_words(docs: list[list[str]], clusters: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Return the c-TF-IDF label words of each named cluster over the texts' content words."""
    names = sorted({c for c in clusters if c != UNASSIGNED})
    try:
        vectorizer = CountVectorizer(analyzer=_identity, min_df=2, dtype=np.float64)
        counts = sparse.csr_matrix(vectorizer.fit_transform(docs))
    except ValueError:
        return {c: () for c in names}
    index = {c: n for n, c in enumerate(names)}
    doc_class = np.array([index.get(c, -1) for c in clusters])
    top = ctfidf_words(counts, doc_class, len(names), vectorizer.get_feature_names_out())
    return {c: top[index[c]] for c in names}


def split_fused(docs: Sequence[Sequence[str]]) -> list[list[str]]:
    """Return the texts' words with each fused word replaced by the corpus words it starts or ends with.

    jieba keeps set phrases whole (价格便宜, 色彩艳丽, 高性价比, 大屏幕), which hides the word they
    are about. A word of three or more characters whose first or last two or three characters are
    a word of their own in at least :data:`FUSED_MIN_TEXTS` texts of the same corpus stands for
    those words instead (价格便宜 -> 价格 便宜 when both occur alone); other words stay as they are.
    """
    df = Counter(w for d in docs for w in set(d))
    parts: dict[str, list[str]] = {}
    out = []
    for d in docs:
        words = []
        for w in d:
            found = parts.get(w)
            if found is None:
                pieces = dict.fromkeys((w[:2], w[:3], w[-2:], w[-3:])) if len(w) >= 3 else {}
                found = [p for p in pieces if p != w and df.get(p, 0) >= FUSED_MIN_TEXTS] or [w]
                parts[w] = found
            words.extend(found)
        out.append(words)
    return out


def weight_nouns(words: Sequence[str], weight: int = NOUN_WEIGHT) -> list[str]:
    """Return the words with each noun (jieba's tags, see :func:`is_noun`) repeated ``weight`` times."""
    return [x for w in words for x in ([w] * weight if is_noun(w) else [w])]


def content_clusters(tokens: Sequence[Sequence[str]], k: int, seed: int = 0) -> Clustering:
    """Return content-word themes: content words plus the lexicon aspect's pseudo-word, TF-IDF, LSA, k-means.

    Fused words are split (:func:`split_fused`) and nouns count twice (:func:`weight_nouns`):
    what a review is about (屏幕, 价格, 衣服) is named by nouns, what it thinks of it by the rest.
    """
    lex = load_lexicon()
    docs = []
    for t, words in zip(tokens, split_fused([content_words(t, lex) for t in tokens]), strict=True):
        words = weight_nouns(words)
        aspect = lexicon_aspect(t, None, lex)
        # The lexicon seeds discovery: the aspect it reads is one more word of the text.
        docs.append(words + [SEED_PREFIX + aspect] if words and aspect else words)
    return _cluster(docs, k, seed, sublinear=False)


def seeded(
    tokens: Sequence[Sequence[str]], k: int, seed: int = 0, confidence: float = SEEDED_CONFIDENCE
) -> Clustering:
    """Return lexicon-seeded themes: lexicon aspects, a classifier trained on them for the rest, k-means last."""
    started = time.perf_counter()
    lex = load_lexicon()
    docs = [content_words(t, lex) for t in tokens]
    aspect = [lexicon_aspect(t, None, lex) for t in tokens]
    clusters = [a if a is not None else UNASSIGNED for a in aspect]
    known = [i for i, a in enumerate(aspect) if a is not None and docs[i]]
    unknown = [i for i, a in enumerate(aspect) if a is None and docs[i]]
    words: dict[str, tuple[str, ...]] = {}
    try:
        vectorizer = CountVectorizer(analyzer=_identity, min_df=2, dtype=np.float64)
        counts = sparse.csr_matrix(vectorizer.fit_transform(docs))
    except ValueError:
        return Clustering(clusters, words, round(time.perf_counter() - started, 3))
    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    if unknown and len({aspect[i] for i in known}) >= 2:
        model = LogisticRegression(max_iter=300, C=2.0).fit(tfidf[known], [aspect[i] for i in known])
        proba = model.predict_proba(tfidf[unknown])
        best = proba.argmax(axis=1)
        for j, i in enumerate(unknown):
            if proba[j, best[j]] >= confidence:
                clusters[i] = str(model.classes_[best[j]])
    rest = [i for i in unknown if clusters[i] == UNASSIGNED]
    if len(rest) >= 2:
        found = _cluster([docs[i] for i in rest], k, seed, sublinear=False)
        for j, i in enumerate(rest):
            if found.clusters[j] != UNASSIGNED:
                clusters[i] = "d" + found.clusters[j]
        words.update({"d" + c: w for c, w in found.words.items()})
    names = sorted({c for c in clusters if c != UNASSIGNED and c not in words})
    index = {c: n for n, c in enumerate(names)}
    doc_class = np.array([index.get(c, -1) for c in clusters])
    top = ctfidf_words(counts, doc_class, len(names), vectorizer.get_feature_names_out())
    words.update({c: top[index[c]] for c in names})
    return Clustering(clusters, words, round(time.perf_counter() - started, 3))


def baseline(tokens: Sequence[Sequence[str]], k: int, seed: int = 0) -> Clustering:
    """Return the naive baseline on tokenised texts: every jieba token, TF-IDF, LSA, k-means."""
    return _cluster([list(t) for t in tokens], k, seed, sublinear=False)


def scores(labels: Sequence[str], result: Clustering) -> dict[str, Any]:
    """Return NMI, purity, share assigned, seconds and top words of one method against the labels."""
    assigned = sum(1 for c in result.clusters if c != UNASSIGNED)
    sizes = Counter(result.clusters)
    return {
        "clusters": len(set(result.clusters) - {UNASSIGNED}),
        "nmi": round(float(normalized_mutual_info_score(labels, result.clusters)), 4),
        "purity": round(purity(labels, result.clusters), 4),
        "assigned": round(assigned / len(labels), 4) if labels else 0.0,
        "seconds": result.seconds,
        "themes": [
            {"n": sizes[c], "words": list(w)}
            for c, w in sorted(result.words.items(), key=lambda kv: -sizes[kv[0]])
        ],
    }


def evaluate_texts(
    texts: Sequence[str], labels: Sequence[str], k: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Return the method's and the baseline's scores on the same texts at the same k."""
    if len(texts) != len(labels):
        raise UserError("There must be one label per text.")
    if len(texts) < 2:
        raise UserError("At least two labelled texts are needed to evaluate themes.")
    k_used = k if k is not None else len(set(labels))
    if k_used < 1:
        raise UserError("--k must be at least 1.")
    forget_segmented()
    started = time.perf_counter()
    tokens = tokenize(texts)
    tokenize_s = round(time.perf_counter() - started, 3)
    coverage = lexicon_coverage(tokens)
    method = discover(tokens, k_used, seed, texts)
    naive = baseline(tokens, k_used, seed)
    lexicon_seeded = seeded(tokens, k_used, seed)
    made = len(set(method.clusters) - {UNASSIGNED})
    # More clusters raise NMI by themselves: the baseline at the method's count keeps it fair.
    naive_same = naive if made in (0, k_used) else baseline(tokens, made, seed)
    return {
        "n": len(texts),
        "k": k_used,
        "labels": len(set(labels)),
        "tokenize_seconds": tokenize_s,
        "lexicon_coverage": round(coverage, 4),
        "route": ROUTES[0] if coverage >= LEXICON_LED_COVERAGE else ROUTES[1],
        "method": scores(labels, method),
        "baseline": scores(labels, naive),
        "baseline_same_clusters": scores(labels, naive_same),
        # Measured beside the method: lexicon aspects of whole texts extended by a classifier, then k-means.
        "seeded": scores(labels, lexicon_seeded),
    }


def sentiment_texts(
    frame: pd.DataFrame,
    text_column: str,
    sentiment_column: str,
    positive: Sequence[str],
    negative: Sequence[str],
    part: str = "reported",
    seed: int = SPLIT_SEED,
) -> tuple[list[str], list[int]]:
    """Return the texts and gold polarities (1 positive, -1 negative) of one part; other values left out."""
    columns = [str(c) for c in frame.columns]
    for column in (text_column, sentiment_column):
        if column not in columns:
            raise UserError(f"The table has no column {column!r}; its columns are: {', '.join(columns)}.")
    if part not in PARTS:
        raise UserError(f"--part must be one of {', '.join(PARTS)}, not {part!r}.")
    pos, neg = {v.strip() for v in positive}, {v.strip() for v in negative}
    if not pos or not neg or pos & neg:
        raise UserError(
            "--positive-values and --negative-values must each name values, and no value in both."
        )
    value = frame[sentiment_column].astype(str).str.strip()
    rows = pd.DataFrame({"text": frame[text_column].astype(str).to_numpy(), "value": value.to_numpy()})
    rows["part"] = [split_part(i, seed) for i in range(len(rows))]
    rows = rows[rows["value"].isin(pos | neg) & (rows["text"].str.strip() != "")]
    if part != "all":
        rows = rows[rows["part"] == part]
    rows = rows.drop_duplicates("text")
    return rows["text"].tolist(), [1 if v in pos else -1 for v in rows["value"]]


def _binary_scores(gold: Sequence[int], predicted: Sequence[int], seconds: float) -> dict[str, Any]:
    """Return accuracy and macro F1 of predictions (0, no sentiment found, counts as positive)."""
    guess = [p if p != 0 else 1 for p in predicted]
    n = len(gold)
    accuracy = sum(g == p for g, p in zip(gold, guess, strict=True)) / n if n else 0.0
    f1s = []
    for cls in (1, -1):
        tp = sum(g == cls and p == cls for g, p in zip(gold, guess, strict=True))
        fp = sum(g != cls and p == cls for g, p in zip(gold, guess, strict=True))
        fn = sum(g == cls and p != cls for g, p in zip(gold, guess, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {
        "accuracy": round(accuracy, 4),
        "macro_f1": round(sum(f1s) / 2, 4),
        "undecided": round(sum(p == 0 for p in predicted) / n, 4) if n else 0.0,
        "seconds": round(seconds, 3),
    }


def evaluate_polarity(texts: Sequence[str], gold: Sequence[int]) -> dict[str, Any]:
    """Return clause-level polarity's and the naive word count's accuracy and macro F1 on the texts."""
    if len(texts) != len(gold) or not texts:
        raise UserError("Polarity evaluation needs at least one text and one gold polarity per text.")
    lex = polarity.sentiment_lexicon()
    forget_segmented()  # each timed with its own segmentation, none looked up
    started = time.perf_counter()
    method = [polarity.polarity(t, tokenize, lex) for t in texts]
    forget_segmented()
    middle = time.perf_counter()
    naive = [polarity.naive_polarity(tokens, lex) for tokens in tokenize(texts)]
    ended = time.perf_counter()
    return {
        "n": len(texts),
        "positive_share": round(sum(g == 1 for g in gold) / len(gold), 4),
        "method": _binary_scores(gold, method, middle - started),
        "baseline": _binary_scores(gold, naive, ended - middle),
    }
