"""The layers hold: the import-linter contract, and no project import hidden inside a function."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("analytics", "ui", "pages")


def _project_import(node: ast.AST) -> str | None:
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return node.module if node.module.split(".")[0] in PROJECT else None
    if isinstance(node, ast.ImportFrom) and node.level:
        return "." * node.level + (node.module or "")
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names if alias.name.split(".")[0] in PROJECT]
        return names[0] if names else None
    return None


def test_the_import_linter_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout


def test_no_project_module_is_imported_inside_a_function():
    # A function-level import of our own code is how a lower layer reached upward before; the
    # contract counts them too, and this names the line. (Heavy third-party libraries may load late.)
    hidden = []
    paths = [*ROOT.joinpath("analytics").rglob("*.py"), *ROOT.joinpath("ui").glob("*.py")]
    paths += [*ROOT.joinpath("pages").glob("*.py"), ROOT / "app.py"]
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                name = _project_import(node)
                if name is not None:
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert hidden == []


def test_the_core_and_the_domain_never_import_streamlit_or_the_command_line():
    for layer in ("core", "store", "domain", "ingest", "services", "reports"):
        for path in ROOT.joinpath("analytics", layer).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                for name in names:
                    assert not name.startswith(("streamlit", "analytics.cli", "ui")), f"{path}: {name}"


def test_pages_stay_thin_no_figures_no_sql():
    # Pages read filters, call one function per figure and draw it: figures are built in
    # ui/*_figures.py, data come through ui.data, SQL lives in analytics/store/sql.
    for path in sorted(ROOT.joinpath("pages").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names
        }
        assert not {m for m in modules if m and m.split(".")[0] in ("plotly", "duckdb")}, path.name
        calls = {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        assert "execute" not in calls, path.name


def test_no_product_module_reads_or_writes_a_pickle():
    # Issue 20: kept results, fitted models and the bench's hand-over file are in the safe format
    # (analytics/core/safe_payload.py); a pickle runs code when read, so no module may use one.
    found = []
    paths = [*ROOT.joinpath("analytics").rglob("*.py"), *ROOT.joinpath("ui").glob("*.py")]
    paths += [*ROOT.joinpath("pages").glob("*.py"), ROOT / "app.py"]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in ("pickle", "joblib", "cloudpickle", "dill", "shelve"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert found == []
