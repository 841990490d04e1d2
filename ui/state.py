"""The shared sidebar (language, sign-in, month, trend window, stores) and the filters it yields.

Every page calls ``filters()`` first: it draws the language switch, requires a signed-in user
when accounts are configured (``ui.auth``), then the filters. The choices persist while moving
between pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from analytics import facts
from ui.auth import require_user
from ui.data import load
from ui.i18n import LANGUAGE_NAMES, LANGUAGES, lang, t

WINDOWS = (6, 12, 24, 36)


@dataclass(frozen=True)
class Filters:
    """What the user chose in the sidebar."""

    month: str | None  # focus month, YYYY-MM; None when no data is loaded
    months: tuple[str, ...]  # the trend window, oldest first, ending at ``month``
    stores: list[str] | None  # None means every store
    lang: str

    @property
    def start_month(self) -> str | None:
        """Return the first month of the trend window."""
        return self.months[0] if self.months else None


def _language_changed() -> None:
    # The language lives under its own key so it survives page switches; a segmented control
    # can also be clicked off (None), which keeps the language as it was.
    choice = st.session_state.get("_lang_widget")
    if choice in LANGUAGES:
        st.session_state["lang"] = choice
    else:
        st.session_state["_lang_widget"] = st.session_state.get("lang")


def _synced_select(
    key: str, options: Sequence[Any], *, default: Any, label: str, text: Any = str, help: str | None = None
) -> Any:
    # Labels are translated, and a widget whose label or options change is a new widget that
    # starts over; so the choice itself lives under ``key`` and survives a language switch.
    labels = {text(o): o for o in options}
    widget_key = f"_w_{key}"
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    # Always hand the widget its value: on another page it is a new widget that would start over.
    st.session_state[widget_key] = text(st.session_state[key])

    def changed() -> None:
        chosen = labels.get(st.session_state.get(widget_key))
        if chosen is not None:
            st.session_state[key] = chosen

    st.selectbox(label, list(labels), key=widget_key, on_change=changed, help=help)
    return st.session_state[key]


def _synced_stores(all_stores: list[str]) -> list[str]:
    # Same reason as _synced_select: the choice lives under "stores", the widget under its own
    # key, so moving to another page or switching language keeps the stores chosen.
    kept = [s for s in st.session_state.get("stores", []) if s in all_stores]
    st.session_state["stores"] = kept
    # Always hand the widget its value: on another page it is a new widget that would start empty.
    st.session_state["_w_stores"] = kept

    def changed() -> None:
        st.session_state["stores"] = list(st.session_state.get("_w_stores") or [])

    st.multiselect(
        t("sidebar.stores"),
        all_stores,
        key="_w_stores",
        on_change=changed,
        placeholder=t("sidebar.all_stores"),
    )
    return list(st.session_state["stores"])


def _remember(key: str, default: object) -> None:
    # Keep a widget's value alive even on a run where a page does not draw it.
    if key not in st.session_state:
        st.session_state[key] = default


def draw_sidebar() -> Filters:
    """Draw the shared sidebar and return the filters; stops the run until someone signs in.

    The language switch comes first so the sign-in form can be read in either language.
    """
    _remember("lang", lang())
    if st.session_state.get("_lang_widget") not in LANGUAGES:
        st.session_state["_lang_widget"] = st.session_state["lang"]
    with st.sidebar:
        st.segmented_control(
            t("sidebar.language"),
            options=list(LANGUAGES),
            format_func=lambda code: LANGUAGE_NAMES[code],
            key="_lang_widget",
            on_change=_language_changed,
        )
    require_user()
    with st.sidebar:
        months = load(facts.available_months)
        all_stores = load(facts.stores)
        if not months:
            st.info(t("sidebar.no_data"))
            return Filters(month=None, months=(), stores=None, lang=lang())
        month = _synced_select(
            "month",
            months,
            default=_default_month(months) if st.session_state.get("month") not in months else None,
            label=t("sidebar.month"),
            help=t("sidebar.month_help"),
        )
        window = _synced_select(
            "window",
            WINDOWS,
            default=12,
            label=t("sidebar.window"),
            text=lambda n: t("sidebar.window_n", n=n),
        )
        chosen: list[str] = []
        if len(all_stores) > 1:
            chosen = _synced_stores(all_stores)
        elif all_stores:
            st.caption(t("sidebar.one_store", store=all_stores[0]))
        _data_line()
    window_months = facts.window_months(months, month, int(window))
    return Filters(month=month, months=window_months, stores=chosen or None, lang=lang())


def _data_line() -> None:
    summary = load(facts.data_summary)
    st.caption(
        t(
            "sidebar.data_line",
            orders=f"{summary['orders']:,}",
            callbacks=f"{summary['callbacks']:,}",
            vehicles=f"{summary['vehicles']:,}",
        )
    )


def _default_month(months: list[str]) -> str:
    return facts.default_month(months, load(facts.data_summary).get("last_visit"))  # type: ignore[arg-type]


def filters() -> Filters:
    """Draw the shared sidebar and return its filters: every page calls this first, once.

    Each page draws the sidebar itself (rather than app.py) so that a page run on its own, as
    ``AppTest.switch_page`` does, has the same sidebar and filters as one run through app.py.
    """
    if not st.session_state.get(ENTRYPOINT_RAN):
        _run_through_entrypoint()
    return draw_sidebar()


ENTRYPOINT_RAN = "_entrypoint_ran"


def _run_through_entrypoint() -> None:
    # Until some session has called st.navigation, a Streamlit server treats a ``pages/``
    # folder as old-style pages and runs a deep link (/churn) without app.py: no page config,
    # no navigation. Switching that mode off and rerunning sends the request through app.py.
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
