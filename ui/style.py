"""Rules the browser applies to the page: tile labels that wrap, the phone layout (390 px wide) and
the uploader's words.

The phone layout: rules for screens below 640 px, and one behaviour.
Streamlit stacks columns one per row on a phone, so the overview's twelve tiles took three and a
half screens before the red flags. Below 640 px the overview shows what changed and the red
flags first, the tiles two to a row without their sparklines; and choosing a page in the sidebar
closes it, as a phone's menu does. Pages mark the parts these rules move with keyed containers
(``overview_tiles``, ``overview_flags``).
"""

from __future__ import annotations

import streamlit as st

PHONE_WIDTH = 640

CSS = f"""
<style>
/* A tile's label and change wrap instead of ending in "…": "Due-maintenance return r…", "Possible
   duplicate ord…", and on a phone "+¥114,566 (+15…". */
[data-testid="stMetricLabel"] .stMarkdownEllipsis,
[data-testid="stMetricLabel"] .stMarkdownEllipsis p,
[data-testid="stMetricDelta"] .stMarkdownEllipsis,
[data-testid="stMetricDelta"] .stMarkdownEllipsis p {{
  white-space: normal; overflow: visible; text-overflow: clip;
}}
@media (max-width: {PHONE_WIDTH}px) {{
  [data-testid="stLayoutWrapper"]:has(> .st-key-overview_flags) {{ order: 1; }}
  [data-testid="stLayoutWrapper"]:has(> .st-key-overview_tiles) {{ order: 2; }}
  .st-key-overview_tiles [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap !important; gap: 0.5rem !important; }}
  .st-key-overview_tiles [data-testid="stColumn"] {{
    flex: 1 1 calc(50% - 0.5rem) !important; width: calc(50% - 0.5rem) !important;
    min-width: calc(50% - 0.5rem) !important;
  }}
  .st-key-overview_tiles [data-testid="stMetricChart"] {{ display: none; }}
  .st-key-overview_tiles [data-testid="stMetricValue"] {{ font-size: 1.4rem; }}
  .st-key-overview_tiles [data-testid="stMetric"] {{ padding: 0.5rem; }}
  .st-key-overview_tiles [data-testid="stCaptionContainer"] {{ font-size: 0.75rem; }}
}}
</style>
"""

# Choosing a page in the sidebar on a phone closes the sidebar (Streamlit leaves it open).
SCRIPT = f"""
<script>
(() => {{
  if (window.__phoneNav) return;
  window.__phoneNav = true;
  document.addEventListener("click", (event) => {{
    if (window.innerWidth > {PHONE_WIDTH}) return;
    if (!event.target.closest('[data-testid="stSidebarNav"] a')) return;
    setTimeout(() => {{
      const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) close.click();
    }}, 100);
  }}, true);
}})();
</script>
"""


def uploader_css(language: str) -> str:
    """Return the rules that write the file uploader's button and limit in Chinese (Streamlit draws
    them in English only; English needs nothing)."""
    if language != "zh":
        return ""
    limit = int(st.get_option("server.maxUploadSize"))
    button = '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p'
    limits = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    return f"""
<style>
{button}, {limits} {{ font-size: 0 !important; }}
{button}::after {{ content: "选择文件"; font-size: 0.875rem; }}
{limits}::after {{ content: "每个文件不超过 {limit}MB"; font-size: 0.875rem; }}
</style>
"""


def apply(language: str) -> None:
    """Add the phone rules, the sidebar behaviour and the uploader's words to the page (drawn as nothing)."""
    st.html(CSS + uploader_css(language) + SCRIPT, unsafe_allow_javascript=True)
