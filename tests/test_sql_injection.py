"""No SQL built from user text: hostile strings (quotes, semicolons, SQL) go through every filter,
the mapping editor's column names, the sign-in form and the analytics functions that take store,
advisor, model, VIN or theme strings, and the tables stay as they were. Plus a review of the
source: every SQL string that is not a literal interpolates only names from fixed allow-lists."""

from __future__ import annotations

import ast
import datetime as dt
import io
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.signing_in import start

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
HOSTILE = (
    "'; DROP TABLE service_orders; --",
    '" OR 1=1 --',
    "店' UNION SELECT phone FROM vehicles --",
    "1); DELETE FROM callbacks; --",
    "$start",
    "{{ ref('vehicle_status') }}",
)
STORE, ADVISOR, MODEL, NAME = HOSTILE[2], HOSTILE[0], HOSTILE[1], "Robert'); DROP TABLE imports;--"
TABLES = ("service_orders", "callbacks", "imports", "vehicles", "audit_log", "meta", "comment_tokens")


def counts(con):
    """Row count of every canonical table (raises if one is gone)."""
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}  # noqa: S608 - fixed names


def _csv(frame):
    return frame.to_csv(index=False).encode("utf-8")


def hostile_files():
    """A service file and a callback file whose values are hostile, dated in the demo's last month."""
    orders = pd.DataFrame(
        {
            "工单号": ["X-1", "X-2"],
            "门店": [STORE, STORE],
            "车架号": ["LHOSTILE000000001", "LHOSTILE000000002"],
            "客户姓名": [NAME, HOSTILE[3]],
            "联系电话": ["13812341234", "'; DROP TABLE vehicles; --"],
            "车型": [MODEL, MODEL],
            "进厂日期": ["2026-10-02", "2026-10-03"],
            "维修类型": ["保养", "维修"],
            "结算金额": [500, 800],
            "服务顾问": [ADVISOR, ADVISOR],
            "进厂里程": [12000, 30000],
        }
    )
    callbacks = pd.DataFrame(
        {
            "回访编号": ["XC-1", "XC-2"],
            "工单号": ["X-1", "X-2"],
            "回访类型": ["3DC", "3DC"],
            "回访日期": ["2026-10-04 10:00", "2026-10-05 11:00"],
            "回访人": [HOSTILE[4], HOSTILE[5]],
            "是否接通": ["是", "是"],
            "总体满意度": [2, 9],
            "客户意见": ["等待时间太长'; DROP TABLE callbacks; --", '休息区不错" OR 1=1 --'],
            "是否投诉": ["是", "否"],
        }
    )
    return _csv(orders), _csv(callbacks)


@pytest.fixture(scope="module")
def hostile_db(demo_db, tmp_path_factory):
    """A copy of the demo with hostile stores, advisors, models, names, agents and comments imported."""
    from analytics import ingest
    from analytics.store import db

    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    service, callback = hostile_files()
    ingest.import_file(con, service, file_name="orders'; DROP TABLE imports; --.csv", kind="service")
    ingest.import_file(con, callback, file_name="callbacks.csv", kind="callback")
    con.close()
    return path


@pytest.fixture
def hostile_env(hostile_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_DB", str(hostile_db))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    return hostile_db


def test_hostile_values_import_as_plain_data(hostile_db):
    from analytics.store import db

    con = db.connect(hostile_db, read_only=True)
    assert con.execute(
        "SELECT store, advisor, model FROM service_orders WHERE order_id = 'X-1'"
    ).fetchone() == (
        STORE,
        ADVISOR,
        MODEL,
    )
    assert (
        con.execute("SELECT count(*) FROM service_orders WHERE store = $s", {"s": STORE}).fetchone()[0] == 2
    )
    assert con.execute("SELECT agent FROM callbacks WHERE callback_id = 'XC-2'").fetchone()[0] == HOSTILE[5]
    con.close()


def _analytics_calls(con, text):
    """Every analytics function that takes a store, advisor, model, VIN, theme or action string."""
    from analytics.domain import churn, kpi, overview, satisfaction, themes
    from analytics.reports import export
    from analytics.store import audit

    as_of = dt.date(2026, 10, 31)
    stores = [text]
    yield lambda: kpi.report(con, "2026-10", stores)
    yield lambda: kpi.due_vehicles(con, "2026-10", stores)
    yield lambda: overview.overview(con, "2026-10", stores)
    yield lambda: satisfaction.monthly_satisfaction(con, stores, "2026-01", "2026-10")
    yield lambda: satisfaction.dimension_scores(con, stores, "2026-01", "2026-10")
    yield lambda: satisfaction.breakdown(con, "advisor", ("2026-01", "2026-10"), stores)
    yield lambda: satisfaction.followup_list(con, dt.date(2026, 10, 1), as_of, stores)
    yield lambda: satisfaction.red_flags(con, as_of, stores)
    yield lambda: satisfaction.filter_followups(
        satisfaction.followup_list(con, dt.date(2026, 10, 1), as_of), advisors=[text]
    )
    yield lambda: themes.monthly_themes(con, "2026-10", "complaint", stores)
    yield lambda: themes.theme_comments(con, text, "2026-10", "complaint", stores)
    yield lambda: themes.themes_by_advisor(con, "2026-10", stores)
    yield lambda: themes.complaint_categories(con, "2026-10", stores)
    yield lambda: churn.status_counts(con, as_of, stores)
    yield lambda: churn.retention_curve(con, as_of, "model", stores)
    yield lambda: churn.vehicle_orders(con, text, as_of)
    yield lambda: churn.vehicle_callbacks(con, text, as_of)
    yield lambda: audit.entries(con, 10, action=text)
    yield lambda: audit.record(con, text, text, "sign_in_failed", {"username": text})
    yield lambda: export.record_download(con, text, "csv", 1, True, who=text, role=text)


@pytest.mark.parametrize("text", HOSTILE)
def test_analytics_functions_bind_hostile_strings_as_values(hostile_db, tmp_path, text):
    from analytics.store import db

    path = tmp_path / "copy.duckdb"
    shutil.copy(hostile_db, path)
    con = db.connect(path)
    before = counts(con)
    for call in _analytics_calls(con, text):
        call()
    after = counts(con)
    assert after["audit_log"] == before["audit_log"] + 2  # the two events written above, nothing else
    assert {k: v for k, v in after.items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"
    }
    assert con.execute("SELECT who FROM audit_log ORDER BY audit_id DESC LIMIT 1").fetchone()[0] == text
    con.close()


def test_identifier_arguments_are_checked_against_allow_lists(hostile_db):
    from analytics.core.errors import UserError
    from analytics.domain import quality, satisfaction
    from analytics.store import db

    con = db.connect(hostile_db, read_only=True)
    with pytest.raises(ValueError, match="unknown check"):
        quality.finding(con, "invalid_phones; DROP TABLE vehicles")
    with pytest.raises(UserError, match="Cannot break satisfaction down"):
        satisfaction.breakdown(con, "advisor; DROP TABLE vehicles", "2026-10")
    con.close()


def _run(page=None, lang="en"):
    return start(lang=lang, page=page)


def test_every_filter_takes_hostile_stores_advisors_and_models_and_changes_nothing(hostile_env):
    from ui.data import reading

    with reading() as cur:
        before = counts(cur)
    at = _run("pages/overview.py")
    assert STORE in at.sidebar.multiselect(key="_w_stores").options
    at.sidebar.multiselect(key="_w_stores").set_value([STORE]).run()
    assert not at.exception, [e.message for e in at.exception]
    for page in (
        "pages/satisfaction.py",
        "pages/themes.py",
        "pages/data.py",
        "pages/about.py",
        "pages/overview.py",
    ):
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert at.sidebar.multiselect(key="_w_stores").value == [STORE], page
    # The follow-up list's advisor filter on the hostile store's unsatisfied customer.
    at.switch_page("pages/satisfaction.py")
    at.run()
    advisors = at.multiselect(key="sat_advisors")
    assert ADVISOR in advisors.options
    advisors.set_value([ADVISOR]).run()
    assert not at.exception, [e.message for e in at.exception]
    listing = next(d.value for d in at.dataframe if "customer_name" in d.value.columns)
    assert set(listing["advisor"]) == {ADVISOR} and set(listing["customer_name"]) == {NAME}
    # Theme drill-downs on both sides with the hostile comments in them.
    at.switch_page("pages/themes.py")
    at.run()
    for side in ("praise", "complaint"):
        drill = [s for s in at.selectbox if s.key == f"themes_drill_{side}"]
        for option in drill[0].options if drill else []:
            drill[0].set_value(option).run()
            assert not at.exception, [e.message for e in at.exception]
    # The churn list's model, advisor and store filters over every store.
    at.sidebar.multiselect(key="_w_stores").set_value([]).run()
    at.switch_page("pages/churn.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    for key, value in (("churn_model", MODEL), ("churn_advisor", ADVISOR), ("churn_store", STORE)):
        widget = at.multiselect(key=key)
        assert value in widget.options, key
        widget.set_value([value]).run()
        assert not at.exception, (key, [e.message for e in at.exception])
    at.multiselect(key="churn_status").set_value(list(at.multiselect(key="churn_status").options)).run()
    ranked = at.dataframe[0].value
    assert set(ranked["model"]) <= {MODEL} and len(ranked) <= 2
    with reading() as cur:
        assert counts(cur) == before


HOSTILE_HEADERS = {
    "order_id": "单号'; DROP TABLE service_orders; --",
    "vin": '车架" OR 1=1 --',
    "visit_date": "日期); DELETE FROM imports; --",
}


def test_the_mapping_editor_takes_hostile_column_names(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_DB", str(tmp_path / "mapping.duckdb"))
    frame = pd.DataFrame(
        {
            HOSTILE_HEADERS["order_id"]: ["M-1", "M-2", "M-3"],
            HOSTILE_HEADERS["vin"]: ["LMAPPING000000001", "LMAPPING000000002", "LMAPPING000000003"],
            HOSTILE_HEADERS["visit_date"]: ["2026-10-01", "2026-10-02", "2026-10-03"],
            "维修类型": ["保养", "维修", "保养"],
            "门店": [STORE, STORE, STORE],
            "'; DROP TABLE meta; --": ["x", "y", "z"],  # an extra column nobody maps
        }
    )
    buffer = io.BytesIO(_csv(frame))
    at = _run("pages/data.py")
    at.file_uploader(key="uploads").set_value(("hostile'; --.csv", buffer.getvalue(), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    editor = at.data_editor(key="mapping_0").value
    fields = list(editor["field"])
    # Map the three hostile headers by hand, as a user would in the editor.
    at.session_state["mapping_0"] = {
        "edited_rows": {fields.index(f): {"source": h} for f, h in HOSTILE_HEADERS.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    # The plan takes the hand-made mapping: three orders to insert.
    assert "3 to insert" in at.info[0].value, [i.value for i in at.info]
    at.button(key="import_0").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.success, [e.value for e in at.error]
    from ui.data import reading

    with reading() as con:
        assert counts(con)["service_orders"] == 3
        assert con.execute("SELECT order_id, store FROM service_orders ORDER BY order_id").fetchall() == [
            ("M-1", STORE),
            ("M-2", STORE),
            ("M-3", STORE),
        ]
        assert con.execute("SELECT file_name FROM imports").fetchall() == [("hostile'; --.csv",)]


# --- The source review -------------------------------------------------------------------------
# Every call that runs SQL must get a string literal, a name or lookup that holds one, or a query
# loaded from analytics/store/sql by a checked name. An f-string, % or .format() building SQL is allowed
# only where it splices names from a fixed allow-list; each such place is listed here with why.
SQL_CALLS = {"execute", "executemany", "sql", "query"}
REVIEWED = {
    # DDL assembled from the module's own constants, never from input.
    ("analytics/store/db.py", "CREATE TABLE IF NOT EXISTS service_orders ("),
    ("analytics/store/db.py", "CREATE TABLE IF NOT EXISTS callbacks ("),
    ("analytics/store/db.py", "CREATE TABLE IF NOT EXISTS service_orders_history ("),
    ("analytics/store/db.py", "CREATE TABLE IF NOT EXISTS callbacks_history ("),
    ("analytics/store/db.py", "CREATE TABLE IF NOT EXISTS vehicles ("),
    ("analytics/store/db.py", "CREATE TABLE IF NOT EXISTS comment_tokens ("),
    # Migration 5 rebuilds four tables named in a literal tuple next to it.
    ("analytics/store/db.py", "CREATE TABLE _v5 ("),
    ("analytics/store/db.py", "INSERT INTO _v5 SELECT * FROM "),
    ("analytics/store/db.py", "DROP TABLE "),
    ("analytics/store/db.py", "ALTER TABLE _v5 RENAME TO "),
    # The vehicles query with one of two module constants as its filter (all VINs or the affected).
    ("analytics/store/db.py", "INSERT INTO vehicles "),
    # Issue 21: new visits folded into their vehicles by the module constant _FOLD_SQL; migration 9
    # adds two columns typed by the module constant _READING.
    ("analytics/store/db.py", "CREATE OR REPLACE TEMP TABLE derived_vehicles_folded AS "),
    ("analytics/store/db.py", "ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS first_reading "),
    ("analytics/store/db.py", "ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS last_reading "),
    # Migration 10 copies the callbacks and their history into tables of the module constant
    # _CALLBACK_DDL, naming the columns of the constant _CALLBACK_COLUMNS_V1.
    ("analytics/store/db.py", "CREATE TABLE callbacks_v10 ("),
    ("analytics/store/db.py", "INSERT INTO callbacks_v10 () SELECT  FROM callbacks"),
    ("analytics/store/db.py", "CREATE TABLE callbacks_history_v10 ("),
    ("analytics/store/db.py", "INSERT INTO callbacks_history_v10 (, replaced_by) SELECT , replaced_by FROM "),
    # Migration 11 likewise, into tables of _CALLBACK_DDL naming the columns of _CALLBACK_COLUMNS_V10.
    ("analytics/store/db.py", "CREATE TABLE callbacks_v11 ("),
    ("analytics/store/db.py", "INSERT INTO callbacks_v11 () SELECT  FROM callbacks"),
    ("analytics/store/db.py", "CREATE TABLE callbacks_history_v11 ("),
    ("analytics/store/db.py", "INSERT INTO callbacks_history_v11 (, replaced_by) SELECT , replaced_by FROM "),
    # The import's new work orders: a literal query, with a literal filter added when it rewrites rows.
    ("analytics/ingest/load.py", "CREATE OR REPLACE TEMP VIEW derived_new_visits AS "),
    # A fixed prefix before the plan query, whose file name comes from TABLES[kind] (two kinds).
    ("analytics/ingest/load.py", "CREATE OR REPLACE TEMP TABLE ingest_final AS "),
    # The backup attaches its copy under a name made of a fresh uuid4 hex, and copies from the open
    # database's own catalog name (read from current_database(), quoted as an identifier).
    ("analytics/store/backup.py", "ATTACH $path AS "),
    ("analytics/store/backup.py", 'COPY FROM DATABASE "" TO '),
    ("analytics/store/backup.py", "DELETE FROM .marts"),
    ("analytics/store/backup.py", "DETACH "),
    # The Parquet export: each exported query is a literal of warehouse.TABLES, put under one fixed
    # view name; a table an export holds no row of is created empty, named from warehouse.CANONICAL,
    # with the manifest's column names and types checked against a plain-name and a plain-type pattern.
    ("analytics/services/warehouse.py", "CREATE OR REPLACE TEMP VIEW _warehouse_rows AS "),
    ("analytics/services/warehouse.py", "CREATE TABLE  ()"),
    # Import staging (issue 21): raw columns are named by position (c0, c1, ...), fields come from
    # mapping.FIELD_TYPES, and each field type's SQL is a constant of stage.RULES; file headers and
    # cell values reach DuckDB only as Arrow data, and the total-row words as a bound list.
    ("analytics/ingest/stage.py", "list(DISTINCT ) FILTER (WHERE NOT coalesce(, false))"),
    ("analytics/ingest/stage.py", "SELECT "),
    ("analytics/ingest/stage.py", "\n        , based AS (SELECT *, 'CB-' || left(sha1(), 16) AS base FROM "),
    ("analytics/ingest/stage.py", "SELECT pos, source_row, sheet, "),
    ("analytics/ingest/stage.py", "WITH valid AS (SELECT *, hash() AS twin FROM stage_rows WHERE "),
    # SQL marts (issue 20): a mart's table is named from derived.MARTS and built from its SQL file
    # (loaded by that checked name); rows are deleted by a date expression of derived._AS_OF or by
    # literal conditions; temporary views shadow two table names of a literal dict, over the open
    # database's own catalog name (read from current_database(), quoted as an identifier); the
    # changes an import records are selected by the literal queries of load._CHANGED; a ref names
    # its mart's table only when the ref matched queries._REF.
    ("analytics/store/derived.py", "CREATE TABLE  AS SELECT * FROM () WHERE false"),
    # A mart built afresh: its table name and its SQL file's text, created with its rows at once.
    ("analytics/store/derived.py", "CREATE TABLE  AS "),
    ("analytics/store/derived.py", "INSERT INTO  "),
    ("analytics/store/derived.py", "INSERT INTO  SELECT * FROM ()"),
    ("analytics/store/derived.py", "CREATE OR REPLACE TEMP VIEW  AS "),
    ("analytics/store/derived.py", "DROP VIEW IF EXISTS temp.main."),
    ("analytics/store/derived.py", "SELECT count(*) FROM "),
    ("analytics/store/derived.py", "DELETE FROM  WHERE "),
    ("analytics/store/derived.py", "DROP TABLE "),
    (
        "analytics/store/derived.py",
        "INSERT INTO mart_changes SELECT DISTINCT $version, vin, order_id, callback_id FROM (",
    ),
    ("analytics/ingest/load.py", "CREATE OR REPLACE TEMP TABLE rollback_changes AS "),
    ("analytics/store/queries.py", "(SELECT * FROM mart_)"),
}
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WHERE|FROM)\b")


def _parse(text):
    """ast.parse, retried: CPython 3.11 before 3.11.8 keeps one AST recursion counter per
    interpreter (gh-106905), so a Streamlit thread left by an earlier test parsing a page script
    at the same moment makes this parse fail with "AST constructor recursion depth mismatch"."""
    for attempt in range(5):
        try:
            return ast.parse(text)
        except SystemError:
            if attempt == 4:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def _sources():
    for folder in ("analytics", "ui", "pages"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), _parse(path.read_text(encoding="utf-8"))
    yield "app.py", _parse(APP.read_text(encoding="utf-8"))


def _built(node):
    """Return the literal head of a string built at run time, or None for anything else."""
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        left = node.left
        return left.value if isinstance(left, ast.Constant) and isinstance(left.value, str) else ""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        base = node.func.value
        return base.value if isinstance(base, ast.Constant) and isinstance(base.value, str) else ""
    return None


def _reviewed(name, head):
    return any(name == f and head.startswith(prefix) for f, prefix in REVIEWED)


def test_no_sql_is_built_from_values_in_the_source():
    offenders = []
    for name, tree in _sources():
        for node in ast.walk(tree):
            # 1. What is handed to execute()/sql()/query() is never built on the spot.
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
            ):
                head = _built(node.args[0]) if node.args else None
                if head is not None and not _reviewed(name, head):
                    offenders.append((name, node.lineno, "built string passed to " + node.func.attr))
            # 2. No SQL-looking string is built anywhere, except the reviewed places.
            head = _built(node)
            if head and SQL_WORDS.search(head) and not _reviewed(name, head):
                offenders.append((name, node.lineno, head[:60]))
    assert offenders == []


def test_query_files_are_loaded_only_by_checked_names():
    from analytics.store import queries

    for bad in ("../db", "x; DROP TABLE vehicles", "Vehicle_Status", ""):
        with pytest.raises(ValueError, match="not a query name"):
            queries.load(bad)
    # Every SQL file binds its values as $parameters: none quotes a brace placeholder of Python's.
    for path in queries.SQL_DIR.glob("*.sql"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<!\{)\{(?!\{)[a-z_]+\}", text), path.name
