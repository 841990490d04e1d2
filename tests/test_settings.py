"""The settings file is read once into typed sections; a defect in it is a sentence naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analytics.core.config import SETTINGS_FILE, Settings, SettingsError, load_settings, settings

TEXT = SETTINGS_FILE.read_text(encoding="utf-8")


def _load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_the_committed_file_is_valid_and_typed() -> None:
    cfg = settings()
    assert isinstance(cfg.kpi.satisfied_threshold, float)
    assert isinstance(cfg.churn.lost_days, int)
    assert cfg.import_.max_rows > 0
    assert cfg.targets.due_maintenance_return_rate == (0.6, 1.0)
    assert cfg.display.default_language in {"zh", "en"}


def test_every_key_of_the_file_is_documented_by_a_comment() -> None:
    # The file is the one place for a setting and its meaning: each key has a comment above it
    # (or above the group of keys it belongs to, within three lines).
    lines = TEXT.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\w+\s*=", line):
            above = lines[max(0, i - 4) : i]
            assert any(x.lstrip().startswith("#") or re.match(r"^\w+\s*=", x) for x in above), line


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("lost_days = 365", 'lost_days = "a year"', r"\[churn\] lost_days: Expected `int`, got `str`"),
        ("small_n = 10", "small_n = 10\nsmal_n = 3", r"\[display\]: .*unknown field `smal_n`"),
        (
            'calibration = "sigmoid"',
            'calibration = "platt"',
            r"\[maintenance\] calibration: Invalid enum value",
        ),
        ("keep = 10", "keep = 0", r"\[backup\] keep: Expected `int` >= 1"),
        (
            "satisfied_threshold = 8",
            "satisfied_threshold = 80",
            r"\[kpi\] satisfied_threshold: Expected `float` <= 10",
        ),
        (
            "due_maintenance_return_rate = [0.60, 1.0]",
            "due_maintenance_return_rate = [60, 100]",
            r"\[targets\]",
        ),
        ("[kpi]", "[kpi", "not valid TOML"),
        (
            'months_ahead = "all"',
            'months_ahead = "every"',
            r"\[database\] months_ahead: Invalid enum value 'every'",
        ),
        ('months_ahead = "all"', "months_ahead = -1", r"\[database\] months_ahead: Expected `int` >= 0"),
        (
            "trusted_proxies = []",
            'trusted_proxies = ["127.0.0.1", "nginx.local"]',
            r"\[auth\].*trusted_proxies: 'nginx.local' is not an IP address or network",
        ),
    ],
)
def test_a_defective_setting_is_refused_with_a_sentence_naming_it(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    assert old in TEXT
    with pytest.raises(SettingsError, match=says):
        _load(tmp_path, TEXT.replace(old, new, 1))


def test_a_missing_key_or_section_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="missing required field `far_from_target`"):
        _load(tmp_path, re.sub(r"(?m)^far_from_target = .*$", "", TEXT))
    with pytest.raises(SettingsError, match="missing required field `warehouse`"):
        _load(tmp_path, re.sub(r"(?s)\[warehouse\].*", "", TEXT))


def test_a_missing_file_is_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(tmp_path / "nowhere.toml")


def test_no_code_reads_settings_by_string_key() -> None:
    # Typed sections only: a string key with an inline default would repeat (and drift from) the file.
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in [
        *root.glob("analytics/**/*.py"),
        *root.glob("ui/*.py"),
        *root.glob("pages/*.py"),
        root / "app.py",
    ]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"settings\(\)(\[|\.get\()", line):
                offenders.append(f"{path.relative_to(root)}:{n}")
    assert offenders == []


def test_the_fingerprint_of_results_leaves_out_the_database_section(tmp_path: Path) -> None:
    """Kept results and fitted models are keyed by the settings' fingerprint: a setting that changes
    no result (how many earlier months are computed ahead, how long the file is waited for) must not
    discard them all; one that changes a figure must."""
    base = _load(tmp_path, TEXT).fingerprint()
    ahead = TEXT.replace('months_ahead = "all"', "months_ahead = 3").replace(
        "lock_wait_seconds = 30", "lock_wait_seconds = 5"
    )
    assert ahead != TEXT
    assert _load(tmp_path, ahead).fingerprint() == base
    threshold = TEXT.replace("satisfied_threshold = 8", "satisfied_threshold = 9")
    assert threshold != TEXT
    assert _load(tmp_path, threshold).fingerprint() != base
