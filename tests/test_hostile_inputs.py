"""Hostile and broken files through the real command line, each in its own process.

Every file of tests/hostile_corpus.py is imported into its own copy of a database that already
holds the golden work orders and callbacks. It must import what is readable (exit 0, rejected
rows reported with their reasons) or be refused in one sentence (exit 2) that leaves the
database exactly as it was; never a traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from analytics.ingest import import_file
from analytics.store import db
from tests.db_state import CANONICAL, derived_is_current, fingerprint, run_cli
from tests.hostile_corpus import CASES, SERVICE_HEADER, Case, service_row, table_text

DATA = Path(__file__).resolve().parent / "data"
Outcome = tuple[subprocess.CompletedProcess[str], Path, Path]


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the golden service orders and callbacks (closed, so it can be copied)."""
    path = tmp_path_factory.mktemp("hostile") / "base.duckdb"
    con = db.connect(path)
    import_file(con, DATA / "service_orders_gbk.csv")
    import_file(con, DATA / "callbacks_bom.csv")
    con.close()
    return path


@pytest.fixture(scope="module")
def base_fingerprint(base_db: Path) -> dict[str, tuple[int, str]]:
    return fingerprint(base_db)


def _copy(base: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "copy.duckdb"
    shutil.copy(base, target)
    return target


@pytest.fixture(scope="module")
def outcomes(base_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run every case's import in its own process (a few at a time) and keep what each did."""
    root = tmp_path_factory.mktemp("cases")

    def run_case(case: Case) -> tuple[str, Outcome]:
        folder = root / case.name
        database = _copy(base_db, folder)
        source = folder / case.file_name
        source.write_bytes(case.data())
        done = run_cli("import", str(source), "--db", str(database), "--json")
        return case.name, (done, source, database)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(run_case, CASES))


def test_the_corpus_covers_the_issue_list():
    names = {case.name for case in CASES}
    assert len(names) == len(CASES)
    for expected in (
        "random_binary", "png_image", "zip_not_xlsx", "xlsx_no_sheets", "xlsx_empty_sheet",
        "html_table_as_xls", "empty", "header_only", "unterminated_quote", "single_line_3mb",
        "utf16_le_bom", "utf16_be_bom", "utf16_le_no_bom", "utf16_be_no_bom", "utf32_bom",
        "mixed_gbk_and_utf8", "row_of_100000_values", "impossible_dates", "huge_and_negative_numbers",
        "nul_bytes", "crlf_line_ends", "cr_only_line_ends", "duplicate_keys_in_file", "formulas_in_cells",
        "very_long_strings", "excel_2003_xml", "xls_97_2003", "xls_value_in_last_cell",
        "xls_dimensions_of_4_billion_rows", "xls_with_password", "xlsx_with_password", "word_doc_named_xls",
        "ole2_cut_short", "xxe_in_spreadsheetml", "xxe_in_html", "billion_laughs", "html_nested_100000_deep",
        "html_rowspan_past_the_table", "html_rowspan_bomb",
    ):  # fmt: skip
        assert expected in names


@pytest.mark.parametrize("case", [c for c in CASES if c.refused], ids=lambda c: c.name)
def test_unusable_file_is_refused_in_one_sentence_and_changes_nothing(case, outcomes, base_fingerprint):
    done, source, database = outcomes[case.name]
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {source}: {case.file_name} ")
    assert case.refused in line
    assert line.endswith(".")
    assert json.loads(done.stdout) == []
    assert fingerprint(database) == base_fingerprint
    assert "root:" not in done.stdout + done.stderr  # an external entity's file is never read


@pytest.mark.parametrize("case", [c for c in CASES if not c.refused], ids=lambda c: c.name)
def test_readable_file_imports_its_good_rows_and_reports_the_rest(case, outcomes, base_fingerprint):
    done, source, database = outcomes[case.name]
    assert "Traceback" not in done.stdout + done.stderr
    assert (done.returncode, done.stderr) == (0, "")
    [result] = json.loads(done.stdout)
    assert (result["kind"], result["inserted"], result["updated"], result["rejected"]) == (
        case.kind,
        case.inserted,
        case.updated,
        case.rejected,
    )
    assert set(case.reasons) <= set(result["reasons"])
    assert set(case.notes) <= set(result["notes"])
    con = db.connect(database)
    try:
        table = "service_orders" if case.kind == "service" else "callbacks"
        before = base_fingerprint[table][0]
        assert con.execute(
            "SELECT count(*) FROM service_orders"
            if case.kind == "service"
            else "SELECT count(*) FROM callbacks"
        ).fetchall() == [(before + case.inserted,)]
        assert con.execute(
            "SELECT count(DISTINCT source_row) FROM rejected_rows WHERE import_id = $i AND NOT kept",
            {"i": result["import_id"]},
        ).fetchall() == [(case.rejected,)]
        for key, column, expected in case.stored:
            rows = con.execute("SELECT * FROM service_orders WHERE order_id = $k", {"k": key}).fetchall()
            assert rows, key
            names = [d[0] for d in con.description]
            value = dict(zip(names, rows[0], strict=True))[column]
            # Money is DECIMAL(18,2) (issue 14): compared by its exact decimal text.
            exact = isinstance(value, Decimal) and value == Decimal(str(expected))
            assert value == expected or str(value) == expected or exact, (key, column, value)
        assert derived_is_current(con)
    finally:
        con.close()


def test_a_second_file_updates_by_key_keeps_history_and_rolls_back(base_db, tmp_path):
    database = _copy(base_db, tmp_path)
    first = tmp_path / "first.csv"
    first.write_bytes(table_text([SERVICE_HEADER] + [service_row(i) for i in range(1, 6)]).encode("gbk"))
    second = tmp_path / "second.csv"
    second.write_bytes(
        table_text(
            [
                SERVICE_HEADER,
                service_row(1),  # unchanged
                service_row(2, 结算金额="2,000.00"),  # corrected amount
                service_row(3, 客户姓名="张伟伟"),  # corrected name
                service_row(6),  # new
            ]
        ).encode("gbk")
    )
    done = run_cli("import", str(first), "--db", str(database), "--json")
    assert json.loads(done.stdout)[0]["inserted"] == 5
    after_first = fingerprint(database)
    done = run_cli("import", str(second), "--db", str(database), "--json")
    [fix] = json.loads(done.stdout)
    assert (fix["inserted"], fix["updated"], fix["unchanged"], fix["rejected"]) == (1, 2, 1, 0)

    con = db.connect(database, read_only=True)
    try:
        history = con.execute(
            "SELECT order_id, amount, customer_name, replaced_by FROM service_orders_history ORDER BY order_id"
        ).fetchall()
        current = con.execute(
            "SELECT order_id, amount, customer_name, import_id FROM service_orders "
            "WHERE order_id IN ('HX00002', 'HX00003') ORDER BY order_id"
        ).fetchall()
    finally:
        con.close()
    assert history == [
        ("HX00002", 1280.0, "张伟", fix["import_id"]),
        ("HX00003", 1280.0, "张伟", fix["import_id"]),
    ]
    assert current == [
        ("HX00002", 2000.0, "张伟", fix["import_id"]),
        ("HX00003", 1280.0, "张伟伟", fix["import_id"]),
    ]

    undone = run_cli("rollback", str(fix["import_id"]), "--db", str(database))
    assert undone.returncode == 0
    assert undone.stdout.splitlines()[0] == (
        f"rolled back import {fix['import_id']}: 1 rows removed, 2 rows restored to their earlier values"
    )
    restored = fingerprint(database)
    for table in CANONICAL:
        assert restored[table] == after_first[table], table
    again = run_cli("import", str(second), "--db", str(database), "--json")
    assert [(r["inserted"], r["updated"], r["unchanged"]) for r in json.loads(again.stdout)] == [(1, 2, 1)]
