"""An eleventh attack (session 22), each reproduced first and failing before its fix: the newer outputs
(the drop folder's reports, the commands' JSON, error sentences, the ``send`` summary) and the drop
folder's file handling, attacked with what whoever can drop a file, type a user name at the sign-in
form or name a store in the DMS controls."""

from __future__ import annotations

import json
import os
from pathlib import Path

from analytics import cli
from analytics.services import watch
from analytics.store import audit, db

# A C1 control (CSI, which a terminal in 8-bit mode runs as ESC [), a right-to-left override and an
# isolate: JSON leaves them as they are (it escapes only C0), so they reached the terminal raw.
HOSTILE = "\x9b2J\u202e\u2067gpj"
ORDERS = "工单号,进厂日期,车架号,结算金额\nWO1,2026-08-01,LSVAU2A37N2800001,100\n"
ORDERS_2 = "工单号,进厂日期,车架号,结算金额\nWO2,2026-08-02,LSVAU2A37N2800002,200\n"
OLD = 1_700_000_000  # a modification time long past: the pass need not wait for the file to settle


def _is_printable(output: str) -> bool:
    """Whether every character of ``output`` shows as itself (line breaks apart)."""
    return all(ch.isprintable() for line in output.split("\n") for ch in line)


def _drop(folder: Path, name: str, content: str = ORDERS) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(content, encoding="utf-8")
    os.utime(path, (OLD, OLD))
    return path


# --------------------------------------------------------------------------- JSON with raw controls


def test_a_dropped_files_report_json_writes_controls_and_direction_overrides_as_escapes(tmp_path):
    """The README: the reports write a file name's control characters as escapes. NAME.report.txt
    did; NAME.report.json held a C1 control and a right-to-left override raw (``cat`` of the
    report drove the terminal or reversed the line)."""
    drop = tmp_path / "drop"
    name = f"回访{HOSTILE}.csv"
    _drop(drop, name)
    outcomes, _ = watch.run_once(drop, str(tmp_path / "w.duckdb"), [], 0, "en", None)
    assert [o.status for o in outcomes] == [watch.DONE]
    report = outcomes[0].report_json.name
    written = (drop / "done" / report).read_text(encoding="utf-8")
    assert _is_printable(written), written
    assert json.loads(written)["file"] == name  # the data unchanged


def test_the_commands_json_writes_controls_and_direction_overrides_as_escapes(tmp_path, capsys):
    """``audit --json``, ``imports --json`` and ``import --json`` printed file names and user names as
    stored: a user name typed at the sign-in form by anyone (a failed sign-in is audited with it) or
    a dropped file's name reached the terminal with its C1 controls and overrides (``audit`` without
    ``--json`` escapes them)."""
    database = tmp_path / "c.duckdb"
    source = _drop(tmp_path / "files", f"工单{HOSTILE}.csv")
    assert cli.main(["import", str(source), "--json", "--no-marts", "--db", str(database)]) == 0
    imported = capsys.readouterr().out
    con = db.connect(database)
    try:
        audit.record(con, f"guess{HOSTILE}", "viewer", "sign_in_failed", {"reason": "password"})
    finally:
        con.close()
    assert cli.main(["imports", "--json", "--db", str(database)]) == 0
    listed = capsys.readouterr().out
    assert cli.main(["audit", "--json", "--db", str(database)]) == 0
    logged = capsys.readouterr().out
    for output in (imported, listed, logged):
        assert _is_printable(output), output
    assert json.loads(imported)[0]["file"] == str(source)
    assert json.loads(listed)[0]["file_name"] == source.name
    assert {e["who"] for e in json.loads(logged)} >= {f"guess{HOSTILE}"}


# --------------------------------------------------------------------------- drop folder: a file that changes under the pass


def _meddling(monkeypatch, act):
    """Make the import call ``act(path)`` while it runs (the time a dropper has to meddle: an import
    of a group's file takes seconds)."""
    real = watch.import_file

    def importing(con, data, *, file_name, **kw):
        act(file_name)
        return real(con, data, file_name=file_name, **kw)

    monkeypatch.setattr(watch, "import_file", importing)


def test_a_file_taken_away_during_its_import_does_not_stop_the_folder(tmp_path, monkeypatch):
    """Whoever drops a file may remove it again: removed while it was imported, the move to done/
    raised FileNotFoundError after the import had committed: a traceback that ended ``watch`` (the
    files after it never imported, no report, every pass stopped again by the next such file)."""
    drop = tmp_path / "drop"
    first = _drop(drop, "a.csv")
    _drop(drop, "b.csv", ORDERS_2)
    os.utime(drop / "b.csv", (OLD + 1, OLD + 1))
    _meddling(monkeypatch, lambda name: name == "a.csv" and first.unlink())
    outcomes, _ = watch.run_once(drop, str(tmp_path / "w.duckdb"), [], 0, "en", None)
    assert [(o.name, o.status) for o in outcomes] == [("a.csv", watch.DONE), ("b.csv", watch.DONE)]
    assert sorted(os.listdir(drop / "done")) == sorted(
        ["a.csv.report.json", "a.csv.report.txt", "b.csv", "b.csv.report.json", "b.csv.report.txt"]
    )
    report = json.loads((drop / "done" / "a.csv.report.json").read_text(encoding="utf-8"))
    assert report["moved_to"] == "" and report["inserted"] == 1
    assert "no longer in the drop folder" in (drop / "done" / "a.csv.report.txt").read_text(encoding="utf-8")
    assert "not moved" in watch.summary_line(outcomes[0])


def test_a_file_swapped_during_its_import_is_left_for_the_next_pass_not_filed_as_imported(
    tmp_path, monkeypatch
):
    """A file put in place of the one being imported (renamed over it) was moved to done/ beside the
    report of the other file: it looked imported and never was. It stays in the folder and is
    imported by the next pass."""
    drop = tmp_path / "drop"
    _drop(drop, "a.csv")
    other = tmp_path / "other.csv"
    other.write_text(ORDERS_2, encoding="utf-8")
    _meddling(monkeypatch, lambda name: os.replace(other, drop / "a.csv"))
    outcomes, _ = watch.run_once(drop, str(tmp_path / "w.duckdb"), [], 0, "en", None)
    assert [o.status for o in outcomes] == [watch.DONE]
    assert (drop / "a.csv").read_text(encoding="utf-8") == ORDERS_2  # still there, for the next pass
    assert not (drop / "done" / "a.csv").exists()
    assert "Another file was put under this name" in (drop / "done" / "a.csv.report.txt").read_text(
        encoding="utf-8"
    )
    monkeypatch.undo()
    os.utime(drop / "a.csv", (OLD, OLD))
    again, _ = watch.run_once(drop, str(tmp_path / "w.duckdb"), [], 0, "en", None)
    assert [(o.status, o.result.inserted) for o in again if o.result] == [(watch.DONE, 1)]
    assert (drop / "done" / "a-2.csv").read_text(encoding="utf-8") == ORDERS_2


# --------------------------------------------------------------------------- bounds before reading


def _sparse_beyond_the_bound(path: Path) -> Path:
    """A file one byte over the import's size bound that takes no disk (as ``truncate -s`` makes it)."""
    from analytics.ingest import read

    with open(path, "wb") as handle:
        handle.truncate(read.import_limits()[1] * 1_000_000 + 1)
    os.utime(path, (OLD, OLD))
    return path


def _peak_bytes(call) -> tuple[BaseException | None, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the refusal is what is looked at
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return None, 0


def test_a_file_over_the_size_bound_is_refused_before_it_is_read(tmp_path):
    """The README: a file over ``max_expanded_mb`` is refused before reading. The drop folder and
    ``import FILE`` read the whole file first and checked its length after: a sparse file of a few
    gigabytes, which costs its dropper no disk, made ``watch`` (or the dashboard server watching a
    folder) hold gigabytes of memory at every pass."""
    from analytics.core.errors import ImportRefused
    from analytics.ingest import read

    drop = tmp_path / "drop"
    drop.mkdir()
    big = _sparse_beyond_the_bound(drop / "回访.csv")
    refused, peak = _peak_bytes(lambda: watch.dropped_file(big))
    assert isinstance(refused, ImportRefused) and "MB" in str(refused), refused
    assert peak < 20_000_000, peak
    refused, peak = _peak_bytes(lambda: read.read_table(big))
    assert isinstance(refused, ImportRefused) and "MB" in str(refused), refused
    assert peak < 20_000_000, peak
    outcomes, _ = watch.run_once(drop, str(tmp_path / "w.duckdb"), [], 0, "en", None)
    assert [o.status for o in outcomes] == [watch.REFUSED]
    assert "MB" in outcomes[0].reason


# --------------------------------------------------------------------------- sentences that quote data


def test_an_error_sentence_quoting_names_from_data_prints_their_controls_as_escapes(
    tmp_path, monkeypatch, capsys
):
    """``report --store`` and ``send --store`` with a store the data lack list the stores the data
    hold, and ``send`` quotes the robot's answer when it refuses the message: the commands printed
    such sentences as they were, so a store named with an escape sequence (or a robot's answer)
    drove the terminal or reversed the cron log's line. Every error sentence is printed with its
    controls as escapes."""
    from analytics.cli import report as report_cli

    database = tmp_path / "r.duckdb"
    db.connect(database).close()
    stores = [f"西湖店\x1b]0;pwned\x07{HOSTILE}", "滨江店\r伪造", "萧山店\nerror: 伪造的一行"]
    monkeypatch.setattr(report_cli.reads, "read", lambda con, name, **kw: stores)
    assert cli.main(["report", "--month", "2026-10", "--store", "nope", "--db", str(database)]) == 2
    err = capsys.readouterr().err
    assert _is_printable(err) and err.count("\n") == 1, err
    assert "\\x1b]0;pwned\\x07" in err and "\\u202e" in err and "\\r" in err and "\\nerror" in err


def test_the_pushed_summary_carries_no_control_or_direction_character_from_a_name():
    """A store, advisor or theme named with an escape sequence or a right-to-left override went into
    the mail's subject and body, the robot's message and ``send --dry-run``'s output as written: the
    override reversed the subject in the GM's mail client (a store could pass for another), the
    escape drove the terminal of whoever ran the dry run. Names from data go out without them."""
    import pandas as pd

    from analytics.reports import notify

    hostile = "西湖店\x1b[2J\x9b2J\u202e\u2066店湖西\u2069\x07"
    summary = notify.Summary(
        month="2026-09",
        stores=[hostile],
        as_of=pd.Timestamp("2026-09-30").date(),
        report={"kpis": {}},
        provisional={},
        changes=[
            {
                "kpi": "satisfaction_rate",
                "key": "kpi_fell",
                "params": {"before": 0.9, "after": 0.8, "n_before": 100, "n_after": 100, "z": -3.0},
                "segment": {"service_type": "maintenance", "advisor": f"小刘{hostile}"},
            }
        ],
        red_flags={},
        lists={"follow_ups": 0, "churn_calls": 0, "due_next": 0},
        alerts=[notify.Alert("theme_spike", "t1", 0.5, None, 0.2, 10)],
        theme_labels={"t1": {"en": f"wait{hostile}", "zh": f"等待{hostile}"}},
    )
    for lang in ("en", "zh"):
        for shown in (
            notify.summary_text(summary, lang),
            notify.summary_markdown(summary, lang),
            notify.subject_line(summary, lang),
        ):
            assert _is_printable(shown), (lang, shown)
            assert "2J2J店湖西" in shown, shown  # the name's letters stay


# --------------------------------------------------------------------------- personal numbers in other columns


def test_a_mobile_written_in_the_plate_column_is_masked_for_roles_without_phones():
    """The plate column keeps what is not a plate as it was written (无牌, 临时牌照), and DMS users
    write the owner's number there for a car without plates (临牌 车主13812345678). Plates were left
    out of the mask with the codes, so the follow-up and churn lists showed the mobile in full to the
    manager. A plate holds no run of ten digits, so it is searched like any text; the codes are not."""
    import pandas as pd

    from analytics.core import auth

    frame = pd.DataFrame(
        {
            "plate": ["临牌 车主13812345678", "浙A12345", "无牌", "０５７１-８８８８６６６６"],
            "order_id": ["13900000001"] * 4,  # a code: its digits are no phone
            "vin": ["LSVAU2A37N2183746"] * 4,
        }
    )
    shown = auth.mask_frame(frame)
    assert shown["plate"].tolist() == ["临牌 车主138****5678", "浙A12345", "无牌", "057*****6666"]
    assert shown["order_id"].tolist() == frame["order_id"].tolist()
    assert shown["vin"].tolist() == frame["vin"].tolist()


# --------------------------------------------------------------------------- formula signs


def test_a_formula_sign_behind_any_character_that_shows_nothing_or_in_any_compatibility_form_is_neutralised():
    """The README: a cell starting with a formula sign "after leading spaces or invisible characters"
    starts with ', and the small forms are neutralised because NFKC reads them as the plain signs.
    Only format characters counted as invisible: a control character (a NUL or \\x1f, which some
    programs drop on reading a CSV), a combining grapheme joiner, a Hangul filler or the Braille
    blank before `=` left the cell as it was, and so did the superscript and subscript signs that
    NFKC reads as `=` and `+` like the small forms."""
    import io

    import openpyxl
    import pandas as pd

    from analytics.reports import export

    hostile = [
        "\x00=1+1",
        "\x1f@SUM(A1)",
        "\u034f=cmd|' /C calc'!A0",
        "\u3164=1+1",
        "\u2800+1+2",
        "\u200b\x01 =1+1",
        "⁼1+1",
        "₌1+1",
        "⁺1+2",
        "₊1+2",
    ]
    assert [export.neutralise_text(v) for v in hostile] == ["'" + v for v in hostile]
    for plain in ("服务 = 好", "  好评", "⁻ 不是公式", "\u200b好评", "１２３"):
        assert export.neutralise_text(plain) == plain
    book = openpyxl.load_workbook(
        io.BytesIO(export.xlsx_bytes(pd.DataFrame({"c": hostile}), title="=1+1"))
    ).active
    assert not [c.value for row in book.iter_rows() for c in row if c.data_type == "f"]


# --------------------------------------------------------------------------- tables printed by the commands


def test_the_churn_and_maintenance_commands_print_names_from_data_with_controls_as_escapes(
    tmp_path, monkeypatch, capsys
):
    """``churn`` and ``maintenance score`` print their top vehicles as a table, with the customer's
    name and the plate as imported: an escape sequence in a name recoloured or retitled the terminal
    (or the cron log's viewer), a carriage return or line break forged a row. Round 9 escaped the
    ``themes`` command's output; these tables went out raw."""
    from types import SimpleNamespace

    import pandas as pd

    from analytics.cli import churn as churn_cli
    from analytics.cli import maintenance as maintenance_cli

    database = tmp_path / "c.duckdb"
    db.connect(database).close()
    name = f"张三\x1b]0;pwned\x07\r李四\n王五{HOSTILE}"
    vehicles = pd.DataFrame(
        {
            "vin": ["LSVAU2A37N2183746"],
            "plate": [f"浙A{HOSTILE}"],
            "customer_name": [name],
            "status": ["lost"],
            "churn_probability": [0.9],
            "value": ["high"],
            "reasons": [f"久未回厂{HOSTILE}"],
        }
    )
    shot = SimpleNamespace(
        vehicles=vehicles,
        model=None,
        model_note="no model",
        counts=lambda: dict.fromkeys(("base", "lost", "at_risk", "active"), 1),
    )
    # The snapshot, and a history that covers the base's window (no "not final" caveat).
    monkeypatch.setattr(
        churn_cli.reads, "read", lambda con, name, **kw: None if name == "churn.history_gap" else shot
    )
    monkeypatch.setattr(churn_cli, "prioritise", lambda frame: frame)
    monkeypatch.setattr(churn_cli, "export_frame", lambda frame, lang: frame)
    assert cli.main(["churn", "--as-of", "2026-10-31", "--db", str(database)]) == 0
    churn_out = capsys.readouterr().out

    scores = pd.DataFrame(
        {
            "vin": ["LSVAU2A37N2183746"],
            "plate": [f"浙A{HOSTILE}"],
            "customer_name": [name],
            **{f"{p}{h}": [0.5] for p in ("p", "any") for h in (30, 60, 90)},
            "due_date": [pd.Timestamp("2026-11-20")],
            "items_due": [f"机油{HOSTILE}"],
        }
    )
    model = SimpleNamespace(as_of=pd.Timestamp("2026-10-31").date())
    monkeypatch.setattr(maintenance_cli, "_open", lambda args: db.connect(database))
    monkeypatch.setattr(maintenance_cli, "fitted_model", lambda con, as_of, progress=None: model)
    monkeypatch.setattr(maintenance_cli, "score", lambda con, model, as_of: scores)
    monkeypatch.setattr(maintenance_cli, "labelled", lambda frame, lang: frame)
    assert cli.main(["maintenance", "score", "--as-of", "2026-10-31", "--db", str(database)]) == 0
    maintenance_out = capsys.readouterr().out
    for output in (churn_out, maintenance_out):
        assert _is_printable(output), output
        assert "\\x1b]0;pwned\\x07\\r李四\\n王五" in output
        assert len([line for line in output.splitlines() if "王五" in line]) == 1


def test_a_dropped_files_report_is_strict_json_when_a_rejected_row_names_no_column(tmp_path):
    """A row rejected for the whole row (more cells than the header names) has no column: the report
    wrote it as ``NaN``, which is not JSON (a strict reader, ``jq`` or a monitoring script, refused
    the whole report), and ``nan`` in the readable report."""
    drop = tmp_path / "drop"
    rows = "WO8,2026-02-30,LSVAU2A37N2800008,100\nWO9,2026-08-03,LSVAU2A37N2800009,100,多\n"
    _drop(drop, "a.csv", ORDERS + rows)
    outcomes, _ = watch.run_once(drop, str(tmp_path / "w.duckdb"), [], 0, "en", None)
    assert [o.status for o in outcomes] == [watch.DONE]

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    report = json.loads(
        (drop / "done" / "a.csv.report.json").read_text(encoding="utf-8"), parse_constant=refuse
    )
    assert [r["column"] for r in report["rejected_rows"]] == ["进厂日期", None]
    assert "nan" not in (drop / "done" / "a.csv.report.txt").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- file names made from data


def test_a_chart_images_file_name_made_from_many_stores_fits_the_file_system():
    """``deck --images`` names each image by page, metric, month and stores: a group's twelve stores
    chosen (or one store with a long name) made a name of 380 bytes, past the 255 a file system
    takes, and the command ended in a traceback ("File name too long"). The name is shortened, with
    a digest of the whole so that two such choices still name different files."""
    from analytics.reports import chart_export

    stores = ["杭州西湖区文三路店"] * 12
    long_a = chart_export.file_stem("deck_04-satisfaction", "satisfaction-rate", "2026-09", "-".join(stores))
    long_b = chart_export.file_stem(
        "deck_04-satisfaction", "satisfaction-rate", "2026-09", "-".join(stores[1:])
    )
    for stem in (long_a, long_b):
        assert len(f"{stem}.png".encode()) <= 255, len(stem.encode())
        assert stem.startswith("deck_04-satisfaction_satisfaction-rate_2026-09_杭州西湖区文三路店")
        assert chart_export.file_stem(stem) == stem  # written through file_stem again, unchanged
    assert long_a != long_b
    assert chart_export.file_stem("overview", "nps", "2026-09", "西湖店") == "overview_nps_2026-09_西湖店"
