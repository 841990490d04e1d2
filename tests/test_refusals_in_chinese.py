"""A file refused at import reads in Chinese in the Chinese interface.

The reader refused a file with an English sentence ("b.csv is empty; export the records again from
the DMS and import that file."), and the Data page showed it as it was with the interface in
Chinese. Each refusal now carries its Chinese sentence (``UserError.words``), built from the same
parts; the English one is unchanged. The static test finds every refusal in analytics/ingest (and
the drop folder's) in the code, so that a refusal added without Chinese words fails here.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from analytics.core.errors import ImportRefused, UserError
from analytics.ingest import import_file, read_table, refusal_words
from analytics.store import db

ROOT = Path(__file__).resolve().parents[1]
SCANNED = sorted((ROOT / "analytics" / "ingest").glob("*.py")) + [
    ROOT / "analytics" / "services" / "watch.py"
]
CJK = re.compile(r"[\u4e00-\u9fff]")


# -- the static scan ----------------------------------------------------------------------------


class _Module:
    def __init__(self, path: Path) -> None:
        self.name = path.stem
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parents: dict[ast.AST, ast.AST] = {
            child: node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)
        }
        self.constants: dict[str, ast.expr] = {}
        # Names imported from another scanned module (KIND_LABELS from mapping): name -> module.
        self.imported: dict[str, str] = {}
        for node in self.tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                self.constants[node.targets[0].id] = node.value
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.value is not None
            ):
                self.constants[node.target.id] = node.value
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analytics.ingest."):
                self.imported.update({alias.name: str(node.module).rsplit(".", 1)[1] for alias in node.names})

    def function_of(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None


MODULES = {path.stem: _Module(path) for path in SCANNED}


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _sample(expr: ast.expr) -> str:
    """Return a value such as a placeholder takes: a number, a sheet's name, a cell, a column letter."""
    source = ast.unparse(expr)
    if "exc" in source:
        return "unexpected end of data"  # the system's own reason
    if "column_letter" in source:
        return "AB"
    if source.endswith(("title", ".name")) or "join(hidden)" in source:
        return "Sheet1"
    if source == "header":
        return "备注"
    if source == "first":
        return "B2"
    return "12,345"


def _params(function: ast.FunctionDef) -> list[ast.arg]:
    return [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]


def _argument_values(module: _Module, function: ast.FunctionDef, name: str) -> list[str] | None:
    """Return the values the callers of ``function`` (in any scanned module) give its parameter, None
    when one of them is not text the code spells out (a sheet's title read from the file)."""
    params = _params(function)
    position = [p.arg for p in params].index(name)
    positional = [p.arg for p in params[: len(function.args.posonlyargs) + len(function.args.args)]]
    # The last positional parameters have the defaults, in order; keyword-only ones have theirs (or None).
    defaults = dict(
        zip(positional[len(positional) - len(function.args.defaults) :], function.args.defaults, strict=True)
    )
    keyword_defaults = zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True)
    defaults.update({p.arg: d for p, d in keyword_defaults if d is not None})
    found: list[str] = []
    for caller in MODULES.values():
        for call in ast.walk(caller.tree):
            if not isinstance(call, ast.Call) or _called(call) != function.name:
                continue
            # Its own module's calls by name, another module's as module.function.
            owner = call.func.value.id if isinstance(call.func, ast.Attribute) else caller.name  # type: ignore[attr-defined]
            if owner != module.name:
                continue
            if any(isinstance(a, ast.Starred) for a in call.args):
                continue
            given = next((k.value for k in call.keywords if k.arg == name), None)
            if given is None and position < len(call.args):
                given = call.args[position]
            if given is None:
                given = defaults.get(name)
                if given is None:
                    continue
                values = _text_values(module, given)
            else:
                values = _text_values(caller, given)
            if values is None:
                return None
            found += values
    return found or None


def _name_values(module: _Module, node: ast.Name) -> list[str] | None:
    function = module.function_of(node)
    if function is not None:
        if node.id in [p.arg for p in _params(function)]:
            return _argument_values(module, function, node.id)
        assigned: list[str] = []
        for inner in ast.walk(function):
            if isinstance(inner, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.id for t in inner.targets
            ):
                values = _text_values(module, inner.value)
                if values is None:
                    return None
                assigned += values
            if (
                isinstance(inner, ast.For)
                and isinstance(inner.target, ast.Tuple)
                and isinstance(inner.iter, ast.Name)
                and inner.iter.id in module.constants
            ):
                names = [e.id if isinstance(e, ast.Name) else "" for e in inner.target.elts]
                if node.id in names:
                    table = ast.literal_eval(module.constants[inner.iter.id])
                    assigned += [str(row[names.index(node.id)]) for row in table]
        if assigned:
            return assigned
    if node.id in module.constants:
        return _text_values(module, module.constants[node.id])
    if node.id in module.imported and node.id in MODULES[module.imported[node.id]].constants:
        other = MODULES[module.imported[node.id]]
        return _text_values(other, other.constants[node.id])
    return None


def _text_values(module: _Module, expr: ast.expr) -> list[str] | None:
    """Return the texts of an expression the code spells out, None for any other (read from data)."""
    try:
        return _values(module, expr)
    except _Unread:
        return None


class _Unread(Exception):
    """An expression whose text the code does not spell out."""


def _values(module: _Module, expr: ast.expr) -> list[str]:
    """Return the texts an expression of a refusal's problem or remedy can be."""
    if isinstance(expr, ast.Constant):
        return [str(expr.value)]
    if isinstance(expr, ast.JoinedStr):
        parts: list[list[str]] = []
        for value in expr.values:
            if isinstance(value, ast.Constant):
                parts.append([str(value.value)])
            elif isinstance(value, ast.FormattedValue):
                inner = value.value
                known = None
                if isinstance(inner, ast.Name):
                    known = _name_values(module, inner)
                elif isinstance(inner, ast.Subscript):
                    known = _text_values(module, inner)  # a value of a table of texts (KIND_LABELS)
                parts.append(known if known and value.format_spec is None else [_sample(inner)])
        return ["".join(p) for p in itertools.product(*parts)]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return [a + b for a in _values(module, expr.left) for b in _values(module, expr.right)]
    if isinstance(expr, ast.IfExp):
        return _values(module, expr.body) + _values(module, expr.orelse)
    if isinstance(expr, ast.Dict):
        return [text for value in expr.values if value is not None for text in _values(module, value)]
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
        # Any value of a module's table of texts (KIND_LABELS[kind]).
        name = expr.value.id
        owner = MODULES[module.imported[name]] if name in module.imported else module
        table = owner.constants.get(name)
        if isinstance(table, ast.Dict):
            return _values(owner, table)
    if isinstance(expr, ast.Name):
        known = _name_values(module, expr)
        return known if known is not None else [_sample(expr)]
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id in MODULES:
        other = MODULES[expr.value.id]
        return _values(other, other.constants[expr.attr])
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "format"
        and not expr.args
    ):
        templates = _values(module, expr.func.value)
        keywords = [(k.arg, _values(module, k.value)) for k in expr.keywords]
        return [
            template.format(**dict(zip([k for k, _ in keywords], chosen, strict=True)))
            for template in templates
            for chosen in itertools.product(*(v for _, v in keywords))
        ]
    raise _Unread(ast.unparse(expr))


def _refusal_parts() -> list[tuple[str, int, str, str]]:
    """Return (module, line, problem, remedy) for every refusal the reader and its helpers write."""
    found: list[tuple[str, int, str, str]] = []
    for module in MODULES.values():
        for call in ast.walk(module.tree):
            if not isinstance(call, ast.Call):
                continue
            called = _called(call)
            if called == "_refuse" and len(call.args) == 3:
                args = call.args[1:]
            elif called == "Refusal":
                args = call.args
            else:
                continue
            if any(isinstance(a, ast.Attribute) and a.attr in ("problem", "remedy") for a in args):
                continue  # a Refusal passed on: its own call is scanned
            if len(args) == 1 and isinstance(args[0], ast.Starred):
                pair = ast.literal_eval(module.constants[args[0].value.id])  # type: ignore[attr-defined]
                problems, remedies = [pair[0]], [pair[1]]
            else:
                problems, remedies = _values(module, args[0]), _values(module, args[1])
            for problem, remedy in itertools.product(problems, remedies):
                found.append((module.name, call.lineno, problem, remedy))
    return found


PARTS = _refusal_parts()


def test_the_scan_finds_the_refusals():
    """The scan reads what it should: the reader's, biff's and markup's refusals, with their
    placeholders filled (a test that found nothing would pass)."""
    modules = {module for module, *_ in PARTS}
    assert {"read", "biff", "markup"} <= modules
    assert len({(module, line) for module, line, *_ in PARTS}) >= 50
    assert len({problem for *_, problem, _ in PARTS}) >= 70
    problems = {problem for *_, problem, _ in PARTS}
    assert "is not a table (it is a PNG image)" in problems
    assert (
        "has a row with values in 12,345 columns (row 12,345 of sheet Sheet1), more than the 12,345 any DMS export has"
        in problems
    )
    assert (
        "is an Excel 97-2003 (.xls) file that is damaged (sheet Sheet1 declares its size backwards)"
        in problems
    )
    assert (
        "is a web page (HTML) that declares entities (<!ENTITY ...>), which no DMS export does and which are not read"
        in problems
    )


@pytest.mark.parametrize(("module", "line", "problem", "remedy"), PARTS, ids=lambda v: str(v)[:40])
def test_every_refusal_has_chinese_words(module, line, problem, remedy):
    said = refusal_words.problem_words(problem)
    done = refusal_words.remedy_words(remedy)
    assert said is not None and CJK.search(said), f"{module}.py:{line}: no Chinese for {problem!r}"
    assert done is not None and CJK.search(done), f"{module}.py:{line}: no Chinese for {remedy!r}"


def test_every_direct_refusal_gives_its_chinese_sentence():
    """An ImportRefused or UserError raised in the import (load.py's kind and column refusals, the
    drop folder's) carries its Chinese sentence where it is raised."""
    missing = []
    for module in MODULES.values():
        for call in ast.walk(module.tree):
            if (
                isinstance(call, ast.Call)
                and _called(call) == "ImportRefused"
                and not any(k.arg == "zh" for k in call.keywords)
            ):
                missing.append(f"{module.name}.py:{call.lineno}")
    assert not missing


def test_a_part_without_chinese_words_gives_no_half_sentence():
    assert refusal_words.refusal_words("a.csv", "is empty", "something new to do") is None
    assert (
        refusal_words.refusal_words("a.csv", "is not a table (it is a new kind of file)", "check it") is None
    )
    error = ImportRefused("a.csv is odd; fix it.")
    assert error.words("zh") == error.words("en") == "a.csv is odd; fix it."
    assert UserError("x", zh="甲").words("zh") == "甲" and str(UserError("x", zh="甲")) == "x"


# -- real files ---------------------------------------------------------------------------------


def _zip_not_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("回访.xlsx", "hello")
    return buffer.getvalue()


def _workbook(*sheets: tuple[str, list[list[str]], str]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SERVICE_HEAD = "工单号,进厂日期,车牌号,结算金额\n"
BOTH = (
    "工单号,车架号,进厂日期,维修类型,服务顾问,结算金额,回访日期,回访方式,满意度,回访结果\n"
    "W1,LSVAA4182E2100001,2024-03-01,保养,王芳,580,2024-03-04,电话,5,满意\n"
)

# (file name, content, import as a whole file (True) or only read it, the English sentence)
REFUSED: list[tuple[str, bytes, bool, dict, str]] = [
    (
        "空文件.csv",
        b"",
        False,
        {},
        "空文件.csv is empty; export the records again from the DMS and import that file.",
    ),
    (
        "binary.csv",
        bytes(range(1, 9)) * 200,
        False,
        {},
        "binary.csv is not a table (it looks like a binary file); export the records from the DMS as CSV or XLSX.",
    ),
    (
        "photo.csv",
        b"\x89PNG\r\n\x1a\n" + bytes(200),
        False,
        {},
        "photo.csv is not a table (it is a PNG image); export the records from the DMS as CSV or XLSX.",
    ),
    (
        "工单.xlsx",
        _zip_not_xlsx(),
        False,
        {},
        "工单.xlsx is a ZIP archive holding 回访.xlsx, not an Excel workbook; unzip it and import the files inside.",
    ),
    (
        "header_only.csv",
        SERVICE_HEAD.encode("gbk"),
        False,
        {},
        "header_only.csv has a header row but no data rows; export it again with the records included.",
    ),
    (
        "late_header.csv",
        (",,,\n" * 40 + SERVICE_HEAD + "W1,2024-03-01,粤A12345,580\n").encode("gbk"),
        False,
        {},
        "late_header.csv has no header row within its first 30 rows; delete the blank rows above the header and "
        "import it again.",
    ),
    (
        "quote.csv",
        (
            SERVICE_HEAD + 'W1,2024-03-01,粤A12345,580\nW2,2024-03-02,"粤B12345,600\nW3,2024-03-03,粤C1,1\n'
        ).encode("utf-8"),
        False,
        {},
        'quote.csv has a quote (") on line 3 that is never closed, so the rest of the file would be read as one '
        "cell; remove that quote or close it, then import the file again.",
    ),
    (
        "客户名单.csv",
        "姓名,爱好\n张三,钓鱼\n李四,登山\n".encode(),
        True,
        {},
        "客户名单.csv has no columns recognised as service orders or callbacks (such as 工单号 and 进厂日期, or "
        "回访日期); check that it is a DMS export, or give a mapping (--map) that names its columns.",
    ),
    (
        "电话名单.csv",
        "姓名,电话\n张三,13800000000\n李四,13900000000\n".encode(),
        True,
        {},
        "电话名单.csv has columns recognised (电话) but neither a work-order number with a visit date (工单号 and "
        "进厂日期) for service orders nor a callback date (回访日期) for callbacks; add the missing column or name it "
        "in a mapping (--map), or say which it is (--kind service or --kind callback) to be told what it lacks.",
    ),
    (
        "both.csv",
        BOTH.encode("utf-8"),
        True,
        {},
        "both.csv has the columns of both service orders (advisor, amount, service_type, visit_date) and "
        "callbacks (callback_date, overall_score, reached); say which it is: --kind service or --kind callback on the command "
        "line, the kind on the Data page, or a saved mapping with a kind for the drop folder.",
    ),
    (
        "hidden.xlsx",
        _workbook(
            ("封面", [], "visible"),
            ("明细", [SERVICE_HEAD.strip().split(","), ["W1", "2024-03-01", "粤A1", "5"]], "hidden"),
        ),
        False,
        {},
        "hidden.xlsx has its only sheets with values hidden (明细); unhide the sheet in Excel (right-click a sheet "
        "tab, Unhide), save, and import it again.",
    ),
    (
        "mapped.csv",
        (SERVICE_HEAD + "W1,2024-03-01,粤A12345,580\n").encode("utf-8"),
        True,
        {"kind": "service", "columns": {"order_id": "委托书编号"}},
        "mapped.csv has no column '委托书编号', which the mapping names for order_id; fix the mapping or choose the "
        "file it was made for.",
    ),
    (
        "two_sheets.xlsx",
        _workbook(
            ("一月", [SERVICE_HEAD.strip().split(",")], "visible"),
            ("二月", [SERVICE_HEAD.strip().split(",")], "visible"),
        ),
        False,
        {},
        "two_sheets.xlsx (sheet 一月) has a header row but no data rows; export it again with the records included.",
    ),
    (
        "callbacks.csv",
        "回访日期,满意度,回访方式\n2024-03-04,5,电话\n".encode(),
        True,
        {},
        "callbacks.csv has neither a work-order number column (工单号, 委托书号 or 维修单号) nor a VIN column "
        "(车架号, VIN or 底盘号) to tie callbacks to; add one or map it (--map).",
    ),
]

# Words a Chinese sentence keeps: formats, programs, the DMS, settings keys and command options.
_KEPT = re.compile(
    r"CSV|XLSX|xlsx|Excel|WPS|DMS|UTF-8|GBK|ZIP|XML|HTML|PNG|VIN|--map|--kind|service|callback|max_rows"
)


def _refusal(tmp_path: Path, name: str, content: bytes, whole: bool, mapping: dict) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        if whole:
            con = db.connect(tmp_path / "refusals.duckdb")
            try:
                import_file(con, content, file_name=name, mapping=mapping or None)
            finally:
                con.close()
        else:
            read_table(content, name)
    return caught.value


@pytest.mark.parametrize(
    ("name", "content", "whole", "mapping", "english"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_a_refused_file_reads_in_chinese(tmp_path, name, content, whole, mapping, english):
    refusal = _refusal(tmp_path, name, content, whole, mapping)
    assert str(refusal) == english  # the English sentence as it was
    assert refusal.words("en") == english
    chinese = refusal.words("zh")
    assert chinese.startswith(name) and CJK.search(chinese.removeprefix(name)), chinese
    # No English left but the names: the file's, its headers' and sheets', formats and options.
    left = _KEPT.sub("", chinese.replace(name, ""))
    for key in mapping.get("columns", {}):
        left = left.replace(key, "")  # a field as the mapping file writes it
    for header in re.findall(r"[^\W\d_]+", english):
        if CJK.search(header):
            left = left.replace(header, "")
    assert not re.search(r"[A-Za-z]{2,}", left), chinese
    assert chinese.endswith("。")


def test_a_refusal_in_chinese_reads_well():
    """A few sentences whole, as the service desk would write them."""
    assert read_table_words(b"", "b.csv") == "b.csv 为空；请从 DMS 重新导出记录后导入该文件。"
    assert (
        read_table_words("客户,电话\n".encode(), "d.csv")
        == "d.csv 只有表头，没有数据行；请重新导出，导出时包含数据记录。"
    )
    assert read_table_words(b"\x89PNG\r\n\x1a\n" + bytes(200), "p.png") == (
        "p.png 不是表格（而是 PNG 图片）；请从 DMS 将记录导出为 CSV 或 XLSX 文件。"
    )


def read_table_words(content: bytes, name: str) -> str:
    with pytest.raises(ImportRefused) as caught:
        read_table(content, name)
    return caught.value.words("zh")


def test_the_drop_folder_report_gives_the_reason_in_chinese(tmp_path):
    from analytics.services import watch

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    con = db.connect(tmp_path / "watch.duckdb")
    try:
        zh = watch.process_folder(con, drop, [drop / "photo.csv"], lang="zh", refresh_marts=False)[0]
    finally:
        con.close()
    assert zh.reason.startswith("photo.csv is not a table (it is a PNG image)")  # the log and the CLI
    text = zh.report_txt.read_text(encoding="utf-8")
    assert "photo.csv 不是表格（而是 PNG 图片）；请从 DMS 将记录导出为 CSV 或 XLSX 文件。" in text
    assert "is not a table" not in text
    assert zh.report["reason"].startswith("photo.csv is not a table")
    assert watch.report_text(zh.report, "en").count("is not a table (it is a PNG image)") == 1


def test_the_drop_folder_says_in_chinese_why_its_saved_mappings_did_not_fit(tmp_path):
    """A file refused by its headers and by each saved mapping: every reason in Chinese."""
    from analytics.services import watch

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "客户名单.csv").write_bytes("姓名,爱好\n张三,钓鱼\n".encode())
    mapping = ("工单映射.toml", {"kind": "service", "columns": {"order_id": "单号"}, "scales": {}})
    con = db.connect(tmp_path / "watch.duckdb")
    try:
        outcome = watch.process_folder(
            con, drop, [drop / "客户名单.csv"], [mapping], "zh", refresh_marts=False
        )[0]
    finally:
        con.close()
    assert outcome.status == "refused" and "with the mapping 工单映射.toml: " in outcome.reason
    assert outcome.report["reason_zh"] == (
        "客户名单.csv 中没有可识别为工单或回访记录的列（例如 工单号 和 进厂日期，或 回访日期）；请确认这是从 DMS 导出的文件，"
        "或提供一个写明各列含义的映射（--map）。 使用映射 工单映射.toml：客户名单.csv 中没有映射为工单号（order_id）指定的"
        "“单号”列；请修正映射，或选择该映射对应的文件。"
    )
    assert outcome.report["reason_zh"] in outcome.report_txt.read_text(encoding="utf-8")


# -- the Data page ------------------------------------------------------------------------------


@pytest.fixture
def fresh_db(tmp_path, monkeypatch):
    path = tmp_path / "data_page.duckdb"
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    return path


def _data_page(lang):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "photo.csv 不是表格（而是 PNG 图片）；请从 DMS 将记录导出为 CSV 或 XLSX 文件。"),
        (
            "en",
            "photo.csv is not a table (it is a PNG image); export the records from the DMS as CSV or XLSX.",
        ),
    ],
)
def test_the_data_page_shows_a_refused_upload_in_its_language(fresh_db, lang, expected):
    at = _data_page(lang)
    at.file_uploader(key="uploads").set_value(
        ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "text/csv")
    ).run()
    assert not at.exception, [e.message for e in at.exception]
    assert [e.value for e in at.error] == [f"photo.csv{'：' if lang == 'zh' else ': '}{expected}"]


def test_the_data_page_shows_a_file_without_its_key_column_in_chinese(fresh_db):
    """Read, then refused when planned: a file whose columns name no work-order number."""
    at = _data_page("zh")
    content = "客户,电话\n张三,13800000000\n".encode()
    at.file_uploader(key="uploads").set_value(("客户名单.csv", content, "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "客户名单.csv 中没有工单号列（工单号、委托书号 或 维修单号）" in errors[0], (
        errors
    )
    assert not re.search(r"[A-Za-z]{3,}", _KEPT.sub("", errors[0].replace("客户名单.csv", ""))), errors


# -- the sheets of a workbook not read ----------------------------------------------------------

_ORDERS = [
    ["工单号", "进厂日期", "车牌号", "结算金额"],
    ["W1", "2024-03-01", "粤A12345", "580"],
    [],
    ["W2", "2024-03-02", "粤B12345", "600"],
]


def _sheets_workbook() -> bytes:
    return _workbook(
        ("一月", _ORDERS, "visible"),
        ("二月", _ORDERS[:1], "visible"),
        ("汇总", [["合计", "说明"], ["1,180", "两张工单"]], "visible"),
        (
            "回访",
            [["回访日期", "工单号", "满意度", "回访方式"], ["2024-03-04", "W1", "5", "电话"]],
            "visible",
        ),
        ("旧", _ORDERS, "hidden"),
        ("空白", [], "visible"),
    )


def test_why_a_sheet_was_not_read_reads_in_chinese(tmp_path):
    """The Data page's table of a workbook's sheets gave each skipped sheet's reason in English
    ("the sheet is empty", "it holds callback records, not service orders; ...", a sheet's own
    refusal) with the interface in Chinese."""
    con = db.connect(tmp_path / "sheets.duckdb")
    try:
        result = import_file(con, _sheets_workbook(), file_name="工单导出.xlsx")
    finally:
        con.close()
    english = ingest_sheet_table(result.sheets, "en")
    chinese = ingest_sheet_table(result.sheets, "zh")
    assert english["reason"].tolist() == [r["reason"] for r in result.sheets]  # as the import writes them
    reasons = dict(zip(chinese["sheet"], chinese["reason"], strict=True))
    assert reasons == {
        "一月": "1 行空行（不计入行数）",
        "二月": "工单导出.xlsx（工作表 二月）只有表头，没有数据行；请重新导出，导出时包含数据记录。",
        "汇总": "没有与工单同属一张表的列",
        "回访": "其中是回访记录，不是工单；请单独作为一个文件导入",
        "旧": "该工作表在工作簿中被隐藏；如需导入，请在 Excel 中取消隐藏",
        "空白": "该工作表为空",
    }
    from analytics.ingest import refusal_words as words

    assert (
        words.sheet_reason_words("3 blank rows, 2 exact duplicates imported once")
        == "3 行空行，2 行完全重复，只导入一次"
    )
    assert words.sheet_reason_words("something new") is None


def ingest_sheet_table(sheets, lang):
    from analytics.ingest import sheet_table

    return sheet_table(sheets, lang)


def test_the_data_page_says_why_a_sheet_was_not_read_in_chinese(fresh_db):
    at = _data_page("zh")
    at.file_uploader(key="uploads").set_value(
        ("工单导出.xlsx", _sheets_workbook(), "application/vnd.ms-excel")
    ).run()
    assert not at.exception, [e.message for e in at.exception]
    cells = {str(v) for frame in at.dataframe for column in frame.value.columns for v in frame.value[column]}
    assert "其中是回访记录，不是工单；请单独作为一个文件导入" in cells
    assert not [c for c in cells if c.startswith(("it holds", "the sheet", "it has"))]


def test_a_full_disk_during_an_import_reads_in_chinese(tmp_path):
    """The Data page shows a UserError raised while writing an import in the interface's language:
    a full disk said so in English only."""
    full = db.disk_full(tmp_path, needed=250_000_000)
    assert str(full).startswith(f"The disk holding {tmp_path} is full (")
    chinese = full.words("zh")
    assert chinese.startswith(f"{tmp_path} 所在的磁盘已满（剩余 ") and "至少腾出 250 MB 空间" in chinese


def test_the_drop_folders_chinese_report_gives_rejected_rows_reasons_in_chinese(tmp_path):
    """The report's rejected rows gave their reason in English ("unreadable date") in a Chinese report."""
    from analytics.services import watch

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "工单.csv").write_bytes(
        (SERVICE_HEAD + "W1,2024-03-01,粤A12345,580\nW2,三月二号,粤B12345,600\n").encode("utf-8")
    )
    con = db.connect(tmp_path / "watch.duckdb")
    try:
        outcome = watch.process_folder(con, drop, [drop / "工单.csv"], lang="zh", refresh_marts=False)[0]
    finally:
        con.close()
    assert outcome.status == "done" and outcome.report["rejected_rows"][0]["reason"] == "unreadable date"
    lines = outcome.report_txt.read_text(encoding="utf-8").splitlines()
    assert "  3  进厂日期  无法识别的日期" in lines, lines
    assert "unreadable date" not in "\n".join(lines)


def _sheet_reasons() -> list[tuple[int, str]]:
    """Return (line, reason) for every reason the reader gives a sheet it does not read, but a
    sheet's own refusal (str(exc), its words checked above)."""
    module = MODULES["read"]
    found: list[tuple[int, str]] = []
    for node in ast.walk(module.tree):
        given: list[ast.expr] = []
        if isinstance(node, ast.Call) and _called(node) == "SheetReport":
            given = [k.value for k in node.keywords if k.arg == "reason"]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "reason" for t in node.targets
        ):
            given = [node.value]
        for value in given:
            if isinstance(value, ast.Call) and _called(value) == "str":
                continue
            found += [(node.lineno, reason) for reason in _values(module, value)]
    return found


SHEET_REASONS = _sheet_reasons()


def test_the_scan_finds_the_sheet_reasons():
    reasons = {reason for _, reason in SHEET_REASONS}
    assert "the sheet is empty" in reasons
    assert "it holds callback records, not service orders; import it as a file of its own" in reasons
    assert "it has no columns of the same table as sheet 12,345" in reasons


@pytest.mark.parametrize(("line", "reason"), SHEET_REASONS, ids=lambda v: str(v)[:40])
def test_every_reason_a_sheet_is_not_read_for_has_chinese_words(line, reason):
    words = refusal_words.sheet_reason_words(reason)
    assert words is not None and CJK.search(words), f"read.py:{line}: no Chinese for {reason!r}"
