"""Themes of Chinese comments: segmentation, lexicon, discovery, evaluation and the monthly views.

The modules, lowest first: ``segmentation`` <- ``lexicon`` <- ``discovery`` <- ``monthly`` <-
``presentation``; ``polarity`` (clause-level praise and complaint) and ``corpora`` (evaluation
against public labelled corpora) beside them. The names other layers use are exported here."""

from __future__ import annotations

from analytics.domain.themes.discovery import assign, mine
from analytics.domain.themes.evaluation import evaluate, purity
from analytics.domain.themes.lexicon import (
    NONE,
    OTHER,
    PRAISE_ONLY,
    SIDES,
    content_words,
    lexicon_aspect,
    load_lexicon,
    name_pieces,
    parse_lexicon,
)
from analytics.domain.themes.monthly import (
    MIN_FLAG_N,
    MONTHS_BACK,
    RISING_Z,
    complaint_categories,
    complaint_quote,
    fit_model,
    fit_window,
    hidden_complaints,
    impact,
    impact_table,
    model_month,
    month_comments,
    monthly_themes,
    praise_quote,
    store_assignments,
    store_clauses,
    store_complaint_parts,
    theme_comments,
    themes_by_advisor,
)
from analytics.domain.themes.presentation import SMALL, hotspot_table, praise_grid, theme_bars, theme_trend
from analytics.domain.themes.segmentation import (
    DOMAIN_DICT,
    UNTRANSLATED,
    drop_entities,
    english_label,
    entity_words,
    is_entity,
    stopwords,
    tokenize,
    tokenize_pending,
)
from analytics.domain.themes.texts import read_texts, themes_of_texts

__all__ = [
    "DOMAIN_DICT",
    "UNTRANSLATED",
    "drop_entities",
    "english_label",
    "entity_words",
    "is_entity",
    "name_pieces",
    "stopwords",
    "tokenize",
    "tokenize_pending",
    "MIN_FLAG_N",
    "MONTHS_BACK",
    "RISING_Z",
    "complaint_categories",
    "fit_model",
    "fit_window",
    "hidden_complaints",
    "impact",
    "impact_table",
    "model_month",
    "month_comments",
    "monthly_themes",
    "complaint_quote",
    "praise_quote",
    "store_assignments",
    "store_clauses",
    "store_complaint_parts",
    "theme_comments",
    "themes_by_advisor",
    "NONE",
    "OTHER",
    "PRAISE_ONLY",
    "SIDES",
    "content_words",
    "lexicon_aspect",
    "load_lexicon",
    "parse_lexicon",
    "SMALL",
    "hotspot_table",
    "praise_grid",
    "theme_bars",
    "theme_trend",
    "assign",
    "mine",
    "evaluate",
    "purity",
    "read_texts",
    "themes_of_texts",
]
