"""The themes benchmark: fitting and assigning at group size on synthetic token lists."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    pass
from analytics.domain.themes.discovery import assign, mine
from analytics.domain.themes.lexicon import load_lexicon
from analytics.domain.themes.segmentation import _jieba, forget_segmented, stopwords, tokenize


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
    forget_segmented()  # segmented afresh, not looked up
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
