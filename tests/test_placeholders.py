"""Every multiselect names its empty state in the interface's language: without a placeholder,
Streamlit writes "Choose options" in English on the Chinese pages (the churn list's status filter
did, session 44)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_multiselect_has_a_translated_placeholder():
    missing = []
    found = 0
    for path in sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "multiselect"
            ):
                found += 1
                placeholder = next((k.value for k in node.keywords if k.arg == "placeholder"), None)
                # The text comes from the catalogue: t("...") or a value the caller translated.
                if placeholder is None or isinstance(placeholder, ast.Constant):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found >= 9
    assert missing == []
