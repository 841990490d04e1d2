"""The overview's deck button: the month's PPTX deck, built on request.

A module of its own: the deck draws on python-pptx (about 0.3 s to import), which a server
would otherwise load for the first page of any kind it shows.
"""

from __future__ import annotations

import time

import streamlit as st

from analytics.reports import chart_export, deck
from ui.data import data_version, reading
from ui.i18n import t
from ui.widgets import audited_file, progress_bar_in


def deck_button(month: str, stores: list[str] | None, language: str) -> None:
    """Build the month's PPTX deck on request, with a progress bar, then offer it for download."""
    scope = "-".join(stores) if stores else "all"
    wanted = (month, scope, language, data_version())
    if st.button(
        t("deck.button"),
        help=t("deck.button_help", month=month),
        icon=":material/slideshow:",
        key="deck_build",
    ):
        bar = st.empty()
        report = progress_bar_in(bar, t("deck.building"))
        started = time.perf_counter()
        with reading() as cur:  # the deck's own cursor, for as long as it builds
            pptx = deck.build_deck(
                cur,
                month,
                stores,
                language,
                progress=lambda fraction, _step: report(fraction, t("deck.building")),
            )
        bar.empty()  # the download button below takes its place
        st.session_state["_deck"] = {
            "for": wanted,
            "bytes": pptx,
            "seconds": time.perf_counter() - started,
            "slides": len(deck.SLIDE_KEYS),
        }
    built = st.session_state.get("_deck")
    if not built or built["for"] != wanted:
        return
    st.caption(t("deck.ready", month=month, slides=built["slides"], seconds=f"{built['seconds']:.0f}"))
    name = chart_export.file_stem("deck", month, scope, language)
    pptx = built["bytes"]
    st.download_button(
        t("deck.download"),
        # Recorded like `deck` on the command line (the red flags name customers), when the browser
        # asks for the file rather than when the button reports its click.
        audited_file(lambda: pptx, name, "pptx", built["slides"], phone=False),
        file_name=f"{name}.pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
        key="deck_download",
        on_click="ignore",
        icon=":material/download:",
        type="primary",
    )
