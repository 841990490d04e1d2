"""A ninth attack (session 21), each reproduced first: mobiles hidden from the mask by characters that
show nothing (combining marks, variation selectors, Hangul fillers, a Braille blank, uncommon spaces)
or stored reversed under a right-to-left override, a backup written with ``--out`` readable by other
users while it was copied, and the ``themes`` command printing comments' control characters."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from analytics import cli
from analytics.core import auth
from analytics.store import backup, db

# --------------------------------------------------------------------------- mobiles the mask missed


def _shown_digits(text: str) -> str:
    """The digits of ``text`` as a reader reads them (any kind of digit, every other character gone)."""
    return "".join(auth._plain().get(ord(ch), ch) for ch in text if auth._digit_like().match(ch))


def _between(sep: str, number: str) -> str:
    return sep.join(number)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("联系我139\u034f0000\u034f0001", "13900000001"),  # combining grapheme joiner (Mn)
        ("电话" + "\ufe0f".join("13900000002"), "13900000002"),  # a variation selector after each digit
        ("电话" + "\u20e3".join("13900000012"), "13900000012"),  # a combining keycap (Me)
        ("电话" + "\u0332".join("13900000013"), "13900000013"),  # a combining low line under each digit
        ("回电139\u31640000\u31640003", "13900000003"),  # Hangul filler
        ("回电139\u115f0000\u11600007", "13900000007"),  # Hangul choseong and jungseong fillers
        ("回电139\uffa00000\uffa00008", "13900000008"),  # halfwidth Hangul filler
        ("回电139\u28000000\u28000009", "13900000009"),  # Braille blank
        ("回电139\u180e0000\u180e0010", "13900000010"),  # Mongolian vowel separator
        ("回电" + _between("\u2060\u2061\u2062\u2063\u2064", "13900000011"), "13900000011"),
        ("回电139\U000e00200000\U000e00200014", "13900000014"),  # tag characters
        ("回电139\x010000\x7f0015", "13900000015"),  # control characters
        ("回电1\u2007\u20073900000016", "13900000016"),  # two figure spaces (Zs)
        ("回电139\u00a0\u00a0\u00a00000\u202f\u202f0017", "13900000017"),  # no-break spaces
        ("请打 1  3900000004", "13900000004"),  # two spaces inside the first group
        ("139*0000*0005", "13900000005"),  # asterisks between the groups
        ("139＊0000＊0018", "13900000018"),  # full-width asterisks
    ],
)
def test_a_mobile_hidden_by_characters_that_show_nothing_is_masked(text, number):
    """The README promises mobiles inside text masked for the roles that do not see phones. The mask
    dropped only format characters (zero-width spaces, joiners) before looking: a combining mark or
    a variation selector after each digit, a Hangul filler, a Braille blank, two spaces or asterisks
    between the groups showed the number in full to the manager."""
    masked = str(auth.mask_text(text))
    assert number not in _shown_digits(masked), masked
    assert "****" in masked
    assert _shown_digits(masked) == number[:3] + number[-4:]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("电话\u202e" + "13900000006"[::-1] + "\u202c", "13900000006"),  # right-to-left override
        ("电话\u202e" + "13900000019"[::-1], "13900000019"),  # one left open to the line's end
        ("电话\u2067" + " ".join("13900000020"[::-1]) + "\u2069", "13900000020"),  # RTL isolate
        ("电话" + "\u200f".join("13900000021"[::-1]), "13900000021"),  # right-to-left marks between
        ("电话\u202e" + "139 0000 0022"[::-1] + "\u202c", "13900000022"),  # in groups
    ],
)
def test_a_mobile_stored_reversed_to_be_shown_right_to_left_is_masked(text, number):
    """A mobile stored backwards inside a right-to-left override (or an isolate, or between
    right-to-left marks) is drawn in its right order on screen, but the mask read it backwards
    and found no mobile."""
    masked = str(auth.mask_text(text))
    digits = _shown_digits(masked)
    assert number not in digits and number[::-1] not in digits, masked
    assert "****" in masked
    assert sorted(digits) == sorted(number[:3] + number[-4:])


@pytest.mark.parametrize(
    "text",
    [
        "金额 1,234.50 元，里程 12345 km，日期 2026.10.13 13:30",
        "车架号LGB13812341234567，工单WO2013812341234",
        "工单2024030612345678号",
        "评分 1, 3, 5, 4, 2, 3, 4, 5, 1, 2, 3",
        "\u202eمبلغ 1234.50 ريال، رقم الطلب 2024030612345678\u202c",  # right to left, no mobile
        "סכום 98765 ש״ח, הזמנה 20240306",
        "保养⑳项全部检查完毕，价格也公道",
        "é\u0301t\u0301é 2026-10-13 里程 12 345 km",  # combining marks beside ordinary numbers
    ],
)
def test_ordinary_numbers_stay_as_written_beside_the_new_characters(text):
    assert auth.mask_text(text) == text


# --------------------------------------------------------------------------- backup --out


class _Watched:
    """A connection whose cursors record the mode of every file beside ``folder``'s backup after each
    statement: what another user could read while the copy runs."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path) -> None:
        self._con, self._folder = con, folder
        self.seen: dict[tuple[str, str], int] = {}

    def execute(self, *args: object) -> object:
        return self._con.execute(*args)

    def cursor(self) -> SimpleNamespace:
        cur = self._con.cursor()

        def execute(sql: str, params: object = None) -> object:
            result = cur.execute(sql, params) if params is not None else cur.execute(sql)
            for path in self._folder.rglob("*"):
                if path.is_file():
                    name = str(path.relative_to(self._folder))
                    self.seen[(sql.split()[0], name)] = _readable(path, self._folder)
            return result

        return SimpleNamespace(execute=execute, close=cur.close)


def _readable(path: Path, top: Path) -> int:
    """Return the bits that let others than the owner read ``path``, 0 when a folder between ``top``
    (which others may enter) and the file keeps them out."""
    for parent in path.parents:
        if parent == top:
            break
        if not stat.S_IMODE(parent.stat().st_mode) & 0o005:
            return 0
    return stat.S_IMODE(path.stat().st_mode) & 0o077


def test_a_backup_to_a_named_file_is_never_readable_by_others_while_it_is_copied(tmp_path, demo_db):
    """``backup --out`` had DuckDB create ``<out>.partial`` by the umask (0644) and made it 0600 only
    after the copy: another user could open it meanwhile and read every phone number."""
    os.umask(0o022)
    source = tmp_path / "live.duckdb"
    shutil.copy(demo_db, source)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    con = duckdb.connect(str(source))
    try:
        watched = _Watched(con, shared)
        out = backup.backup(watched, shared / "copy.duckdb")  # type: ignore[arg-type]
    finally:
        con.close()
    assert any(step == "ATTACH" for step, _ in watched.seen), watched.seen
    assert any(step == "COPY" for step, _ in watched.seen), watched.seen
    assert {name: bits for name, bits in watched.seen.items() if bits} == {}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in shared.iterdir()) == ["copy.duckdb"]
    assert os.umask(0o022) == 0o022  # the process's umask is as it was


def test_a_failed_backup_to_a_named_file_leaves_nothing_behind(tmp_path, demo_db, monkeypatch):
    source = tmp_path / "live.duckdb"
    shutil.copy(demo_db, source)
    con = duckdb.connect(str(source))
    try:
        watched = _Watched(con, tmp_path / "out")
        (tmp_path / "out").mkdir()
        real = watched.cursor

        def failing() -> SimpleNamespace:
            cur = real()
            run = cur.execute

            def execute(sql: str, params: object = None) -> object:
                if sql.startswith("DELETE"):
                    raise duckdb.IOException("disk full")
                return run(sql, params)

            return SimpleNamespace(execute=execute, close=cur.close)

        monkeypatch.setattr(watched, "cursor", failing)
        with pytest.raises(duckdb.IOException):
            backup.backup(watched, tmp_path / "out" / "copy.duckdb")  # type: ignore[arg-type]
    finally:
        con.close()
    assert list((tmp_path / "out").iterdir()) == []


# --------------------------------------------------------------------------- themes command

HOSTILE = "服务好\x1b[31m\x1b]0;pwned\x07\r伪造行\u202e反\x9b2J"


def _hostile_themes(**_: object) -> dict[str, object]:
    theme = {
        "label_zh": f"态度{HOSTILE}",
        "label_en": f"attitude{HOSTILE}",
        "n": 3,
        "share": 0.5,
        "new": False,
        "rising": True,
        "quotes": [f"师傅{HOSTILE}", "很好"],
    }
    return {
        "month": "2026-10",
        "n_comments": 6,
        "n_contentless": 0,
        "n_other": 1,
        "n_praise_only": 2,
        "themes": [theme],
        "categories": [{"category": f"服务{HOSTILE}", "n": 2, "aspect": f"态度{HOSTILE}"}],
    }


def _is_safe(output: str) -> bool:
    return all(ch.isprintable() for line in output.splitlines() for ch in line) and "\r" not in output


def test_the_themes_command_prints_quotes_labels_and_categories_with_control_characters_escaped(
    tmp_path, monkeypatch, capsys
):
    """``themes --month`` printed quotes, theme labels and complaint categories as imported: an escape
    sequence in a comment recoloured or retitled the terminal, a carriage return overwrote a line,
    a right-to-left override reversed the rest of it (other commands print through
    ``audit.printable``)."""
    from analytics.cli import themes as themes_cli

    monkeypatch.setattr(themes_cli.reads, "read", lambda con, name, **kw: _hostile_themes())
    db_file = tmp_path / "t.duckdb"
    db.connect(db_file).close()  # an empty database: the reads are the stand-in's
    assert cli.main(["themes", "--month", "2026-10", "--side", "complaint", "--db", str(db_file)]) == 0
    out = capsys.readouterr().out
    assert _is_safe(out), out
    assert "\\x1b[31m" in out and "\\u202e" in out and "\\r" in out
    assert "师傅服务好" in out and "complaint category 服务服务好" in out and "aspect=态度服务好" in out


def test_the_themes_command_escapes_labels_of_a_file_and_its_json(tmp_path, monkeypatch, capsys):
    """``themes --file`` printed each theme's label, drawn from the file's own words, as it was; the
    JSON output kept C1 controls and bidirectional overrides as they were (JSON escapes only C0)."""
    import pandas as pd

    from analytics.cli import themes as themes_cli

    model = SimpleNamespace(label=lambda theme_id, lang: f"{theme_id}{HOSTILE}")
    monkeypatch.setattr(themes_cli, "read_texts", lambda *a, **k: ["a", "b"])
    monkeypatch.setattr(
        themes_cli, "themes_of_texts", lambda texts, k: (model, pd.DataFrame({"theme": ["t1", "t1"]}))
    )
    args = ["themes", "--file", "x.csv", "--text-column", "c", "--out", str(tmp_path / "o.csv")]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert _is_safe(out), out
    assert "t1服务好" in out
    monkeypatch.setattr(themes_cli.reads, "read", lambda con, name, **kw: _hostile_themes())
    db.connect(tmp_path / "t.duckdb").close()
    assert cli.main(["themes", "--month", "2026-10", "--json", "--db", str(tmp_path / "t.duckdb")]) == 0
    out = capsys.readouterr().out
    assert _is_safe(out), out
    import json

    assert json.loads(out)["themes"][0]["quotes"][0] == f"师傅{HOSTILE}"  # the data unchanged
