import re
from pathlib import Path

from analytics.core.i18n import LANGUAGES, catalog

ROOT = Path(__file__).resolve().parents[1]
CODE = [
    p
    for d in ("app.py", "pages", "ui", "analytics")
    for p in ([ROOT / d] if d.endswith(".py") else (ROOT / d).rglob("*.py"))
]
LITERAL = re.compile(r"""\b(?:t|text|_t|tr)\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""")
PREFIX = re.compile(r"""\b(?:t|text|_t|tr)\(\s*f["']([a-z_]+(?:\.[a-z0-9_]+)*\.)\{""")


def test_every_key_has_every_language_and_no_empty_text():
    for key, entry in catalog().items():
        for code in LANGUAGES:
            assert entry.get(code, "").strip(), f"{key} lacks {code}"


def test_placeholders_agree_between_languages():
    for key, entry in catalog().items():
        fields = {code: sorted(re.findall(r"\{(\w+)", entry[code])) for code in LANGUAGES}
        assert fields["en"] == fields["zh"], key


def test_every_key_used_in_code_is_in_the_catalogue():
    keys = set(catalog())
    used, prefixes = set(), set()
    for path in CODE:
        source = path.read_text(encoding="utf-8")
        used |= set(LITERAL.findall(source))
        prefixes |= set(PREFIX.findall(source))
    assert used, "no translated text found: the pattern is wrong"
    assert sorted(used - keys) == []
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in keys), prefix
