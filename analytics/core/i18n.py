"""The text catalogue (data/i18n.toml) shared by the CLI, exports and the interface."""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from analytics.core.config import DATA_DIR

CATALOG_FILE = DATA_DIR / "i18n.toml"
LANGUAGES: tuple[str, ...] = ("zh", "en")


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Return {dotted key: {"en": text, "zh": text}} flattened from the nested TOML tables."""
    with CATALOG_FILE.open("rb") as fh:
        raw = tomllib.load(fh)
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if (
                isinstance(value, dict)
                and value
                and all(isinstance(v, str) for v in value.values())
                and (set(value) & set(LANGUAGES))
            ):
                flat[path] = {k: str(v) for k, v in value.items()}
            elif isinstance(value, dict):
                walk(path, value)

    walk("", raw)
    return flat


def text(key: str, lang: str, **params: Any) -> str:
    """Return the text for ``key`` in ``lang`` (falling back to English), formatted with ``params``.

    With ``n`` equal to one, the text of ``key_one`` when the catalogue has it: "1 comment", not
    "1 comments" (Chinese needs no second form; its ``_one`` entry repeats the text)."""
    entry = catalog().get(key)
    if str(params.get("n", "")) == "1":
        entry = catalog().get(f"{key}_one", entry)
    if entry is None:
        raise KeyError(f"missing i18n key: {key}")
    template = entry.get(lang) or entry["en"]
    return template.format(**params) if params else template
