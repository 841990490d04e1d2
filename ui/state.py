"""The shared sidebar (language, sign-in, month, trend window, stores) and the filters it yields.

Every page calls ``filters()`` first: it draws the language switch, requires a signed-in user
when accounts are configured (``ui.auth``), then the filters. The choices persist while moving
between pages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from analytics.core.auth import mask_text
from analytics.domain import facts
from ui.auth import protect_text, require_user
from ui.data import load
from ui.formatting import plain
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
    kept = _known_stores(st.session_state.get("stores", []), all_stores)
    st.session_state["stores"] = kept
    # Always hand the widget its value: on another page it is a new widget that would start empty.
    st.session_state["_w_stores"] = kept

    def changed() -> None:
        st.session_state["stores"] = list(st.session_state.get("_w_stores") or [])

    # Names fixed now (AppTest calls format_func outside the run): a store typed with a phone
    # number shows it masked to the roles that do not see phones.
    shown = {store: protect_text(store) for store in all_stores}
    st.multiselect(
        t("sidebar.stores"),
        all_stores,
        key="_w_stores",
        on_change=changed,
        format_func=shown.__getitem__,
        placeholder=t("sidebar.all_stores"),
    )
    return list(st.session_state["stores"])


def _known_stores(names: Sequence[str], all_stores: list[str]) -> list[str]:
    """Return the stores ``names`` stand for, in their order: a store's own name, or the name as a
    role without phones sees it (the link of such a role names 滨江店（店长138****1246）), when
    only one store reads so; names of no store are dropped."""
    masked: dict[str, list[str]] = {}
    for store in all_stores:
        masked.setdefault(str(mask_text(store)), []).append(store)
    kept: list[str] = []
    for name in names:
        found = [name] if name in all_stores else masked.get(name, [])
        if len(found) == 1 and found[0] not in kept:
            kept.append(found[0])
    return kept


def _remember(key: str, default: object) -> None:
    # Keep a widget's value alive even on a run where a page does not draw it.
    if key not in st.session_state:
        st.session_state[key] = default


def keep_widgets(*keys: str) -> None:
    """Keep the values of widgets this run does not draw (those of a tab that is not open), so
    they are as the user left them when the tab is opened again.

    Streamlit forgets a widget's value after a run that did not draw it; a value written back
    through session state is kept, and the widget takes it when it is drawn again.
    """
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def relabel(*keys: str) -> None:
    """Hand multiselects whose option labels are translated their own value again after a
    language switch, so the chosen options show in the new language.

    A multiselect tells its chosen options apart by their labels: after a switch the browser
    kept showing the chips in the old language ("已流失" in the English interface) until
    something else set the widget's value. Call before drawing the widgets.
    """
    for key in keys:
        marker = f"_lang_of_{key}"
        if st.session_state.get(marker) != lang():
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
            st.session_state[marker] = lang()


LINK_RESTORED = "_link_restored"
_MONTH = re.compile(r"\d{4}-\d{2}")


def restore_from_link() -> None:
    """On a session's first run, take the language, month, window and stores from the link's query
    parameters (``?lang=en&month=2026-06&window=24&stores=A&stores=B``); later runs leave them be.

    Values the data does not have (a month outside the data, a store not in it) are dropped by the
    sidebar, which then shows its defaults.
    """
    if st.session_state.get(LINK_RESTORED):
        return
    st.session_state[LINK_RESTORED] = True
    params = st.query_params
    chosen = params.get("lang")
    if chosen in LANGUAGES:
        st.session_state["lang"] = chosen
        st.session_state["_lang_widget"] = chosen
    month = params.get("month")
    if month and _MONTH.fullmatch(month):
        st.session_state["month"] = month
    window = params.get("window")
    # isdecimal, not isdigit: a superscript ² is a digit that int() refuses.
    if window and window.isdecimal() and int(window) in WINDOWS:
        st.session_state["window"] = int(window)
    stores = [s.strip() for value in params.get_all("stores") for s in value.split(",") if s.strip()]
    if stores:
        st.session_state["stores"] = stores


def link_params(f: Filters, window: int | None = None) -> dict[str, str | list[str]]:
    """Return the query parameters that reopen this view: language, month, window and stores (named
    as the role sees them)."""
    out: dict[str, str | list[str]] = {"lang": f.lang}
    if f.month:
        out["month"] = f.month
    if window is not None:
        out["window"] = str(window)
    if f.stores:
        # As the role sees them: the address bar, the browser's history and a copied link are no
        # place for a phone number typed into a store's name (``_known_stores`` reads them back).
        out["stores"] = [protect_text(store) for store in f.stores]
    return out


def _write_link(params: dict[str, str | list[str]]) -> None:
    # Only when it changed: every write is a message to the browser.
    current = {
        k: (st.query_params.get_all(k) if k == "stores" else st.query_params.get(k)) for k in st.query_params
    }
    if current != params:
        st.query_params.from_dict(params)


def draw_sidebar() -> Filters:
    """Draw the shared sidebar and return the filters; stops the run until someone signs in.

    The language switch comes first so the sign-in form can be read in either language. The
    choices are written to the page's link (query parameters), so a copied link reopens the view.
    """
    restore_from_link()
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
        months = load("facts.months")
        all_stores = load("facts.stores")
        if not months:
            st.info(t("sidebar.no_data"))
            _write_link({"lang": lang()})
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
            st.caption(t("sidebar.one_store", store=plain(protect_text(all_stores[0]))))  # Markdown: as text
        _data_line()
    window_months = facts.window_months(months, month, int(window))
    chosen_filters = Filters(month=month, months=window_months, stores=chosen or None, lang=lang())
    _write_link(link_params(chosen_filters, int(window)))
    return chosen_filters


def _data_line() -> None:
    summary = load("facts.summary")
    st.caption(
        t(
            "sidebar.data_line",
            orders=f"{summary['orders']:,}",
            callbacks=f"{summary['callbacks']:,}",
            vehicles=f"{summary['vehicles']:,}",
        )
    )


def _default_month(months: list[str]) -> str:
    return facts.default_month(months, load("facts.summary").get("last_visit"))  # type: ignore[arg-type]


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
