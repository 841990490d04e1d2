"""Every page in each language speaks that language: no raw field names, no codes, no "None".

The walk opens every page of the demo in Chinese and in English and reads what a person sees:
titles, headers, captions, tiles, tabs, buttons, widget labels and options, and every table's
column headers and cells. It fails on a snake_case field name in the interface, on "None"/"nan"
anywhere, on an English code (``lost``, ``maintenance``, ``True``) in a Chinese table, and on
Chinese in the English interface's own words (titles, labels, headers; data such as names,
comments and plates stay as written).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.screen_charts import charts

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "pages/overview.py",
    "pages/satisfaction.py",
    "pages/themes.py",
    "pages/churn.py",
    "pages/maintenance.py",
    "pages/data.py",
    "pages/about.py",
]
FIELD = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
ICON = re.compile(r":material/[a-z_]+:")  # Streamlit's icon names, not words
MISSING = re.compile(r"\b(None|nan|NaN|NaT|null)\b")
CJK = re.compile(r"[\u3400-\u9fff]")
# The project's own words for its sources, which mean nothing to a store.
DEVELOPER = re.compile(r"种子资料|\bthe seeds\b|\bseeds'")
# Codes stored in the database that a Chinese reader must never see as such.
CODES = {
    "lost", "at_risk", "active", "high", "medium", "low", "first_maintenance", "maintenance", "repair",
    "warranty", "body_paint", "other", "praise", "complaint", "lexicon", "discovered", "True", "False",
    "true", "false", "done", "rolled_back", "service", "callback", "ok", "provisional",
}  # fmt: skip


# Tabs drawn only when open (``st.tabs(..., on_change="rerun")``): the walk opens each of them.
LAZY_TABS = {
    "pages/themes.py": "themes_tab",
    "pages/churn.py": "churn_tab",
    "pages/maintenance.py": "maint_tab",
}


# Tables whose selected row opens more tables: the churn list's vehicle history.
SELECTABLE = {"pages/churn.py": "churn_list"}


# Popovers whose content is drawn only when open: the overview's "why?" breakdowns.
LAZY_POPOVER = re.compile(r"^why_(?!by_)[a-z_0-9]+$")


def _views(page: str, lang: str):
    """Yield the page as it opens, then with its popovers open, then with each of its lazy tabs open."""
    at = _open(page, lang)
    yield at
    menus = [k for k in at.session_state.keys() if LAZY_POPOVER.search(k)]
    if menus:
        for menu in menus:
            at.session_state[menu] = True
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        yield at
    if page in SELECTABLE:
        at.session_state[SELECTABLE[page]] = {"selection": {"rows": [0], "columns": []}}
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        yield at
    key = LAZY_TABS.get(page)
    for label in [tab.label for tab in at.tabs][1:] if key else []:
        at.session_state[key] = label
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        yield at


def _open(page: str, lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update({"lang": lang})
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _interface_words(at: AppTest) -> list[tuple[str, str]]:
    """The interface's own words on the page: (where, text)."""
    out: list[tuple[str, str]] = []
    for kind in ("title", "header", "subheader"):
        out += [(kind, e.value) for e in getattr(at, kind)]
    out += [("metric", e.label) for e in at.metric]
    out += [("tab", e.label) for e in at.tabs]
    out += [("button", e.label) for e in at.button]
    out += [("expander", e.label) for e in at.expander]
    for kind in ("selectbox", "multiselect", "radio", "slider", "number_input", "text_input", "toggle"):
        out += [(kind, e.label) for e in getattr(at, kind) if getattr(e, "label", None)]
    for df in at.dataframe:
        config = json.loads(df.proto.columns or "{}")
        for column in _visible(df):
            label = (config.get(column) or {}).get("label")
            out.append(("column", str(label if label is not None else column)))
    for chart in charts(at):
        out += [("chart title", chart.title), ("chart source", str(chart.spec["title"].get("subtitle", "")))]
        for layer in chart.spec.get("layer") or chart.spec["spec"]["layer"]:
            for channel in ("x", "y"):
                title = ((layer["encoding"].get(channel) or {}).get("axis") or {}).get("title")
                out += [("axis title", str(title))] if title else []
            legend = (layer["encoding"].get("color") or {}).get("legend") or {}
            out += [("legend title", str(legend["title"]))] if legend.get("title") else []
    return out


def _chart_texts(at: AppTest) -> list[tuple[str, str]]:
    """What the charts write from the data: legend entries, hover texts, labels (they may quote data)."""
    out: list[tuple[str, str]] = []
    for chart in charts(at):
        out += [("legend", str(name)) for name in chart.series()]
        for column in ("tip", "text"):
            if column in chart.rows:
                out += [(f"chart {column}", str(v)) for v in chart.rows[column].dropna().unique()[:200]]
    return out


def _sentences(at: AppTest) -> list[tuple[str, str]]:
    """Running text on the page (it may quote data): captions, markdown, notes."""
    out: list[tuple[str, str]] = []
    for kind in ("caption", "markdown", "info", "warning", "success", "error"):
        out += [(kind, str(e.value)) for e in getattr(at, kind)]
    return out


def _visible(df) -> list[str]:
    config = json.loads(df.proto.columns or "{}")
    order = list(df.proto.column_order) or [str(c) for c in df.value.columns]
    return [c for c in order if not (config.get(c) or {}).get("hidden")]


def _cells(at: AppTest) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for df in at.dataframe:
        frame: pd.DataFrame = df.value
        for column in [c for c in frame.columns if str(c) in _visible(df)]:
            values = frame[column]
            if values.dtype == object or pd.api.types.is_string_dtype(values):
                out += [(str(column), str(v)) for v in values.dropna().unique()[:200]]
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_speaks_the_interface_language(demo_env, page, lang):
    problems = []
    for at in _views(page, lang):
        problems += _problems(at, lang)
    assert problems == [], "\n".join(dict.fromkeys(problems))


def _problems(at: AppTest, lang: str) -> list[str]:
    words = _interface_words(at)
    sentences = _sentences(at) + _chart_texts(at)
    problems = []
    for where, text in words + sentences:
        problems += [f"{where}: field name {m!r} in {text[:80]!r}" for m in FIELD.findall(ICON.sub("", text))]
        problems += [f"{where}: {m!r} in {text[:80]!r}" for m in MISSING.findall(text)]
        problems += [f"{where}: developer word {m!r} in {text[:80]!r}" for m in DEVELOPER.findall(text)]
    for column, value in _cells(at):
        if MISSING.fullmatch(value.strip()):
            problems.append(f"cell in {column}: {value!r}")
        if lang == "zh" and value.strip() in CODES:
            problems.append(f"cell in {column}: English code {value!r}")
    if lang == "en":
        # A heading may quote the data (the customer whose history a selected row opens).
        data = sorted({v for _, v in _cells(at) if CJK.search(v)}, key=len, reverse=True)

        def own_words(text: str) -> str:
            for value in data:
                text = text.replace(value, "")
            return text

        problems += [
            f"{where}: Chinese in {text[:80]!r}" for where, text in words if CJK.search(own_words(text))
        ]
    return problems + _table_problems(at)


def _table_problems(at: AppTest) -> list[str]:
    """A missing value the table writes as Streamlit's "None" (English in either language), and a
    count or amount of a thousand or more written without thousands separators (14394)."""
    problems = []
    for df in at.dataframe:
        config = json.loads(df.proto.columns or "{}")
        frame: pd.DataFrame = df.value
        for column in [c for c in frame.columns if str(c) in _visible(df)]:
            values = frame[column]
            label = (config.get(str(column)) or {}).get("label") or str(column)
            if values.isna().any() and not df.proto.placeholder:
                problems.append(f"table column {label!r}: a missing value shows as None")
            number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            type_config = (config.get(str(column)) or {}).get("type_config") or {}
            days = values.dropna() if pd.api.types.is_datetime64_any_dtype(values) else None
            if days is not None and len(days) and (days == days.dt.normalize()).all() and not type_config:
                problems.append(f"table column {label!r}: dates written with 00:00:00")
            biggest = values.abs().max() if number else None
            if number and pd.notna(biggest) and biggest >= 1000 and not type_config.get("format"):
                problems.append(f"table column {label!r}: {biggest} without thousands separators")
    return problems


def test_the_walk_opens_every_tab_a_page_draws_only_when_open():
    for path in ROOT.joinpath("pages").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for call in re.findall(r"st\.tabs\((.*?)\n\)", source, flags=re.DOTALL):
            if 'on_change="rerun"' in call:
                key = re.search(r'key="([a-z_]+)"', call)
                assert key and LAZY_TABS.get(f"pages/{path.name}") == key.group(1), path.name
