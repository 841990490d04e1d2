"""Purity and NMI of the themes against hand labels (the shipped evaluation set)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    pass
from analytics.domain.themes.discovery import _detail, mine
from analytics.domain.themes.segmentation import tokenize


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
