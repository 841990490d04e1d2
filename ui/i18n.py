"""The session's language and ``t()``: the catalogue in analytics.core.i18n, in the chosen language."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analytics.core.config import settings
from analytics.core.i18n import LANGUAGES, text

LANGUAGE_NAMES = {"zh": "简体中文", "en": "English"}
__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "lang", "t"]


def lang() -> str:
    """Return the session's language code, defaulting to the committed setting."""
    current = st.session_state.get("lang")
    if current in LANGUAGES:
        return str(current)
    return str(settings().display.default_language)


def t(key: str, **params: Any) -> str:
    """Return the text for ``key`` in the session's language, formatted with ``params``."""
    return text(key, lang(), **params)
