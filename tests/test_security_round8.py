"""An eighth attack (session 20, second round), each reproduced first: a workbook whose sheet is
stored under another name than xl/worksheets/*.xml (it passed every size check and a far cell made
calamine abort the process), merged cells repeated to cost minutes of CPU, mobiles in the churn
retention table, the overview's "what changed" sentence and a download's title line, and lists, the
deck and a restore in progress readable by other users."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analytics.core.errors import ImportRefused
from analytics.ingest import read_table
from analytics.reports import export
from analytics.store import backup
from tests.conftest import PHONE_IN_NAMES
from tests.signing_in import sign_in

ROOT = Path(__file__).resolve().parents[1]
PHONE = PHONE_IN_NAMES  # the mobile the phone_names_env fixture types into names
HEADER = ["工单号", "进厂日期", "车架号", "结算金额"]

_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="dat" '
    'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/{part}" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_BOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/worksheet" Target="{target}"/></Relationships>'
)


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def _workbook(part: str, target: str, extra_rows: str = "", merges: str = "") -> bytes:
    head = "".join(_cell(f"{chr(65 + j)}1", v) for j, v in enumerate(HEADER))
    row = "".join(
        _cell(f"{chr(65 + j)}2", v) for j, v in enumerate(["WO1", "2026-11-05", "LSVAU2A37N2800001", "100"])
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData><row r="1">{head}</row><row r="2">{row}</row>{extra_rows}'
        f"</sheetData>{merges}</worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES.format(part=part))
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _BOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS.format(target=target))
        archive.writestr(part, sheet)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("part", "target"),
    [("xl/worksheets/sheet1.dat", "worksheets/sheet1.dat"), ("data/sheet1.xml", "/data/sheet1.xml")],
)
def test_a_far_cell_in_a_sheet_stored_under_another_name_is_refused_not_a_crash(tmp_path, part, target):
    far = '<row r="1048576">' + _cell("XFD1048576", "x") + "</row>"
    path = tmp_path / "far.xlsx"
    path.write_bytes(_workbook(part, target, extra_rows=far))
    # In a process of its own, memory capped: before the fix calamine asked for 549 GB and aborted.
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "from analytics.ingest import read_table\n"
        "from analytics.core.errors import ImportRefused\n"
        f"try:\n    read_table({str(path)!r})\nexcept ImportRefused as exc:\n    print('REFUSED', exc)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.startswith("REFUSED far.xlsx has a row with values in 16,384 columns")


def test_a_sheet_stored_under_another_name_is_still_read_when_it_is_an_ordinary_table():
    raw = read_table(_workbook("xl/worksheets/sheet1.dat", "worksheets/sheet1.dat"), "odd.xlsx")
    assert raw.headers == HEADER and len(raw.rows) == 1


def test_a_merge_repeated_many_times_costs_what_one_merge_costs():
    rows = "".join(f'<row r="{r}">' + _cell(f"B{r}", str(r)) + "</row>" for r in range(3, 2003))
    merges = '<mergeCells count="20000">' + '<mergeCell ref="A2:A2002"/>' * 20_000 + "</mergeCells>"
    data = _workbook("xl/worksheets/sheet1.xml", "worksheets/sheet1.xml", extra_rows=rows, merges=merges)
    clock = time.process_time()
    raw = read_table(data, "merges.xlsx")
    # 20,000 copies over 2,000 rows were 40 million cell copies (the probe's 100,000 over 20,000 took
    # 112 s); read as the one merge they are, well under a second. Generous for a loaded machine.
    assert time.process_time() - clock < 10
    assert (raw.rows[raw.headers[0]] == "WO1").all()


def test_a_missing_worksheet_part_is_refused_in_one_sentence():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("[Content_Types].xml", _TYPES.format(part="xl/worksheets/sheet1.xml"))
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _BOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS.format(target="worksheets/none.xml"))
    with pytest.raises(ImportRefused):
        read_table(data.getvalue(), "broken.xlsx")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_lists_written_on_the_command_line_are_owner_only(tmp_path):
    os.umask(0o022)
    frame = pd.DataFrame({"customer_name": ["张三"], "phone": [PHONE]})
    for name in ("list.csv", "list.xlsx"):
        path = tmp_path / name
        path.write_text("old")
        os.chmod(path, 0o644)
        export.write_table(frame, path)
        assert _mode(path) == 0o600, name


def test_a_restore_in_progress_is_never_readable_by_others(tmp_path, demo_db, monkeypatch):
    live, handed = tmp_path / "live.duckdb", tmp_path / "handed.duckdb"
    shutil.copy(demo_db, live)
    shutil.copy(demo_db, handed)
    seen: list[int] = []
    real = shutil.copyfileobj

    def watching(source, target, length=0):
        seen.append(stat.S_IMODE(os.fstat(target.fileno()).st_mode))
        return real(source, target, length)

    monkeypatch.setattr(shutil, "copyfileobj", watching)
    backup.restore(handed, live)
    assert seen == [0o600]
    assert _mode(live) == 0o600


def test_the_retention_table_by_advisor_masks_a_mobile_in_the_name_for_a_manager(
    phone_names_env, with_accounts
):
    at = sign_in("wangqiang", page="pages/churn.py")
    at.session_state["churn_tab"] = [tab.label for tab in at.tabs][2]
    at.run()
    at.button_group(key="churn_retention_by").set_value("advisor").run()
    assert not at.exception, [e.message for e in at.exception]
    shown = " ".join(frame.value.to_csv() for frame in at.dataframe)
    assert "****" in shown and PHONE not in shown


def test_what_changed_and_the_scope_line_mask_a_mobile_in_a_name(monkeypatch):
    import streamlit as st

    from analytics.domain import satisfaction
    from ui import charts

    monkeypatch.setattr(st, "session_state", {"lang": "zh", "month": "2026-10"})
    stores = [f"杭州{PHONE}店"]
    monkeypatch.setattr(
        charts, "load", lambda name, **_: stores if name == "facts.stores" else {"last_visit": "2026-10-31"}
    )
    note = charts.scope_note()
    assert PHONE not in note and "138****5678" in note
    # The overview writes the change sentence through protect_text; a manager sees it masked.
    from analytics.core import auth

    sentence = f'下降主要来自服务顾问"张伟{PHONE}"'
    assert PHONE not in str(auth.mask_text(sentence))
    assert "protect_text(satisfaction.describe_change(" in Path(ROOT / "pages" / "overview.py").read_text(
        encoding="utf-8"
    )
    assert satisfaction.describe_change is not None
