"""The monthly meeting deck: data <- slides <- rendering; images of its charts beside them.

The names other modules use are exported here."""

from __future__ import annotations

from analytics.reports.deck.data import SLIDE_KEYS, DeckData, churn_reason_counts, deck_data
from analytics.reports.deck.images import deck_figures, write_chart_images
from analytics.reports.deck.rendering import SLIDE_H, SLIDE_W, build_deck, footer_line, render, value_range
from analytics.reports.deck.slides import Chart, Series, Slide, deck_slides, scope_label

__all__ = [
    "Chart",
    "Series",
    "Slide",
    "deck_slides",
    "scope_label",
    "DeckData",
    "SLIDE_KEYS",
    "churn_reason_counts",
    "deck_data",
    "SLIDE_H",
    "SLIDE_W",
    "build_deck",
    "footer_line",
    "render",
    "value_range",
    "deck_figures",
    "write_chart_images",
]
