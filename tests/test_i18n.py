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


def test_one_of_a_kind_reads_in_the_singular():
    """The themes page read "Safety · 1 comments", "Appointments — 1 clauses", the overview
    "1 complaints past their time limit"."""
    from analytics.core.i18n import text

    assert text("themes.quote_head", "en", label="Safety", n=1, share="0.1%") == "Safety · 1 comment · 0.1%"
    assert text("themes.quote_head", "en", label="Safety", n=2, share="0.3%") == "Safety · 2 comments · 0.3%"
    assert text("themes.hidden.head", "en", label="Appointments", n=1) == "Appointments — 1 clause"
    assert text("overview.flag_complaint_overdue", "en", n="1") == "1 open complaint past its time limit"
    assert text("overview.flag_complaint_overdue", "zh", n=1) == "1 起未结投诉已超出处理时限"
    assert text("satisfaction.period", "en", start="2023-11", end="2023-11", n=1) == "2023-11 (1 month)"
    # A singular form has a plural, and needs no placeholder the plural is not given.
    for key in [k for k in catalog() if k.endswith("_one")]:
        plural = catalog()[key.removesuffix("_one")]
        own = set(re.findall(r"\{(\w+)", catalog()[key]["en"]))
        assert own <= set(re.findall(r"\{(\w+)", plural["en"])), key


def test_every_reason_the_import_writes_reads_in_chinese():
    """The Data page shows reject and note reasons in the reader's language: a reason sentence
    the import writes without a Chinese form would show in English in the Chinese interface."""
    from analytics.ingest import stage

    written = [
        *stage.BLANKED.values(),
        *stage.REASONS.values(),
        stage.OTHER_STORE_ORDER,
        stage.DUPLICATE_KEY,
        stage.OTHER_STORE_IN_FILE,
        "number outside 0 to 2,000,000, left blank",
        "score not readable on the 0-10 scale, left blank",
        *(stage.kept_reason(reason) for reason in stage.BLANKED.values()),
        "number outside 0 to 2,000,000, stored value kept",
        "score not readable on the 0-10 scale, stored value kept",
    ]
    for reason in written:
        zh = stage.reason_words(reason, "zh")
        assert zh != reason and not any("a" <= ch <= "z" for ch in zh.replace("{", "")), (reason, zh)
        assert stage.reason_words(reason, "en") == reason


def test_counts_of_one_read_in_the_singular():
    """Found by truth probe 12: "1 rows", "1 red flags need action", "1 callbacks … 1 have none"."""
    from analytics.core.i18n import catalog, text

    key = next(k for k in catalog() if k.endswith(".rows") and f"{k}_one" in catalog())
    assert text(key, "en", n=1) == "1 row" and text(key, "en", n=2) == "2 rows"
    for name in ("deck.changes_takeaway", "deck.changes_none"):
        found = next((k for k in catalog() if k.endswith(name.split(".")[1])), None)
        assert found is not None
        sentence = text(found, "en", k=1, label="NPS", flags=1)
        assert "1 red flags" not in sentence and "flags need action" not in sentence
    followup = next(k for k in catalog() if k.endswith("followup_caption"))
    sentence = text(followup, "en", n=1, month="2025-03", unsatisfied=1, complaints=0, open=1, days=7)
    assert "1 callbacks" not in sentence and "1 have" not in sentence
