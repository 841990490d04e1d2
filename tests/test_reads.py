"""The one read path: every page, the deck and the commands get data through named reads
(``analytics.services.reads``), whose arguments are normalised in one place."""

from __future__ import annotations

import ast
import inspect
import types
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from analytics.core.errors import UserError
from analytics.domain import overview
from analytics.services import marts, reads, views

ROOT = Path(__file__).resolve().parents[1]
# Where data is read for people: the pages and their helpers, the deck, the commands.
PAGE_FILES = sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"])
REPORT_FILES = sorted([*ROOT.glob("analytics/reports/deck/*.py"), *ROOT.glob("analytics/cli/*.py")])
# The page's two cache tiers hand the name they are given on to the registry.
PASS_THROUGH = {ROOT / "ui" / "data.py", ROOT / "ui" / "resources.py"}
# The functions that take a read's name.
NAMED = {"load", "fitted", "fitted_view", "read", "call"}


def test_the_same_view_spelled_differently_is_one_key():
    a = reads.call("overview.kpis", month="2026-10", stores=["西湖店", "滨江店", "西湖店"])
    b = reads.call("overview.kpis", month=date(2026, 10, 17), stores=("滨江店", "西湖店"))
    assert a == b and a.key == b.key
    assert a.args == ("2026-10", ("滨江店", "西湖店"))
    # no store chosen and every store are one view
    assert reads.call("overview.kpis", month="2026-10", stores=[]).args == ("2026-10", None)
    trend = reads.call("churn.trend", as_of_dates=["2026-09-30", date(2026, 10, 31)])
    assert trend.args == ((date(2026, 9, 30), date(2026, 10, 31)), None)
    assert reads.call("churn.snapshot", as_of=datetime(2026, 10, 31, 8)).args == (date(2026, 10, 31), None)
    assert type(reads.call("churn.snapshot", as_of=datetime(2026, 10, 31, 8)).args[0]) is date


def test_defaults_are_spelled_once_in_the_registry():
    assert reads.call("satisfaction.breakdown", period="2026-10").args == (
        "advisor",
        ("2026-10", "2026-10"),
        None,
    )
    assert reads.call("churn.retention_rates", as_of="2026-10-31").args[1] == "model"
    monthly = reads.call("themes.monthly", month="2026-10")
    assert monthly.args == ("2026-10", "praise", None) and monthly.kwargs == (("k", 8),)
    # the pages' widgets start on the same defaults
    assert reads.default("satisfaction.breakdown", "by") == "advisor"
    assert (
        reads.default("churn.retention_curve", "by")
        == reads.default("churn.retention_rates", "by")
        == "model"
    )
    with pytest.raises(UserError, match="The read overview.kpis has no parameter month with a default"):
        reads.default("overview.kpis", "month")


@pytest.mark.parametrize(
    ("name", "kwargs", "words"),
    [
        ("overview.nothing", {}, "There is no read named 'overview.nothing'"),
        ("overview.kpis", {}, "The read overview.kpis needs month."),
        ("overview.kpis", {"month": "2026-10", "store": ["A"]}, "it was also given store"),
        ("overview.kpis", {"month": "2026-13"}, "'2026-13' is not a month"),
        ("overview.kpis", {"month": 202610}, "month must be a month written as YYYY-MM"),
        ("overview.kpis", {"month": "2026-10", "stores": "西湖店"}, "stores must be a list of store names"),
        ("overview.kpis", {"month": "2026-10", "stores": [None]}, "stores must hold store names"),
        ("themes.monthly", {"month": "2026-10", "side": "praised"}, "side must be one of praise, complaint"),
        ("themes.monthly", {"month": "2026-10", "k": 0}, "k must be a whole number of at least 1"),
        ("churn.snapshot", {"as_of": "2026-10"}, "as_of must be a day written as YYYY-MM-DD"),
        ("satisfaction.breakdown", {"by": "colour", "period": "2026-10"}, "by must be one of advisor"),
        (
            "satisfaction.breakdown",
            {"period": ("2026-10", "2026-01")},
            "period starts (2026-10) after it ends",
        ),
        ("quality.finding", {"check": "everything"}, "check must be one of"),
    ],
)
def test_an_unknown_read_or_a_bad_argument_is_a_sentence(name: str, kwargs: dict[str, Any], words: str):
    with pytest.raises(UserError) as caught:
        reads.call(name, **kwargs)
    assert words in str(caught.value)


def test_every_registered_read_calls_its_function_with_the_parameters_it_names():
    for name, entry in reads.READS.items():
        signature = inspect.signature(entry.fn)
        first = next(iter(signature.parameters))
        assert first == "con", name
        positional = [p for p in entry.params if not p.keyword]
        keywords = {p.name for p in entry.params if p.keyword}
        accepted = list(signature.parameters)[1:]
        assert len(positional) + len(entry.fixed) <= len(accepted), name
        assert keywords <= set(accepted), name


def test_the_default_views_are_registered_reads():
    known = {f"{entry.fn.__module__}.{entry.fn.__qualname__}" for entry in reads.READS.values()}
    calls = views.page_calls("2026-10", ["2026-09", "2026-10"], ["滨江店"]) + views.global_calls()
    assert {call.fn for call in calls} <= known
    # the page's view of one store is the default call's key, however the store choice is spelled
    page = reads.call("overview.kpis", month="2026-10", stores=("滨江店",))
    assert page in calls


def test_a_typed_overview_survives_the_marts_format_without_a_pickle():
    figure = overview.KpiFigure(
        value=0.5, n=10, target=(0.6, 1.0), status="ok", needs_from=None, reason=None, provisional=False,
        prev_month=0.4, prev_month_status="ok", prev_year=None, prev_year_status="insufficient_history",
    )  # fmt: skip
    import pandas as pd

    value = overview.Overview(
        month="2026-10",
        kpis={"satisfaction_rate": figure},
        series=pd.DataFrame({"kpi": ["satisfaction_rate"], "value": [0.5]}),
        changes=[{"kpi": "satisfaction_rate", "source": {"en": None}}],
        red_flags=pd.DataFrame({"flag": pd.Series([], dtype=object)}),
        as_of=date(2026, 10, 31),
        missing={"nps": "kpi_missing.no_recommend"},
        why={"satisfaction_rate": {"store": {"en": pd.DataFrame({"segment": ["A"], "share": [1.0]})}}},
    )
    data = marts._serialise(value)
    assert marts.safe_payload.is_safe(data)
    back = marts._deserialise(data)
    assert type(back) is overview.Overview and back.kpis == value.kpis and back.as_of == value.as_of
    assert back.series.equals(value.series) and back.missing == value.missing
    assert back.why["satisfaction_rate"]["store"]["en"].equals(value.why["satisfaction_rate"]["store"]["en"])
    assert back.report["kpis"]["satisfaction_rate"]["target"] == [0.6, 1.0]


def _imports(tree: ast.Module) -> dict[str, Any]:
    """Map each name a file imports from ``analytics`` or ``ui`` to the module or object it names."""
    import importlib

    names: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("analytics", "ui")):
            module = importlib.import_module(node.module)
            for alias in node.names:
                target = getattr(module, alias.name, None)
                if target is None:
                    target = importlib.import_module(f"{node.module}.{alias.name}")
                names[alias.asname or alias.name] = target
    return names


def _resolve(func: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(func, ast.Name):
        return names.get(func.id)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = names.get(func.value.id)
        if isinstance(owner, types.ModuleType):
            return getattr(owner, func.attr, None)
    return None


def _domain_reader(fn: Any) -> bool:
    """A domain function that reads the database (its first parameter is the connection)."""
    if not inspect.isfunction(fn) or not fn.__module__.startswith("analytics.domain"):
        return False
    params = list(inspect.signature(fn).parameters)
    return bool(params) and params[0] in ("con", "cur")


def bypasses(path: Path, page: bool | None = None) -> list[str]:
    """Return the calls in a file that read data around the registry, and the named reads it
    gives an unknown or non-literal name (``page``: a page's helpers may call no domain reader)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = _imports(tree)
    registered = {entry.fn for entry in reads.READS.values()}
    page = path in PAGE_FILES if page is None else page
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{node.lineno}"
        target = _resolve(node.func, names)
        if target in registered or (page and _domain_reader(target)):
            found.append(f"{where} calls {target.__module__}.{target.__qualname__} directly")
        if target is not None and getattr(target, "__module__", "") in ("ui.data", "ui.resources"):
            named = target.__name__ in ("load", "fitted", "fitted_view")
        elif isinstance(node.func, ast.Attribute) and names.get(getattr(node.func.value, "id", "")) is reads:
            named = node.func.attr in NAMED
        else:
            named = False
        if named:
            # load(name, ...), fitted(name, ...), fitted_view(name, ...), reads.read(con, name, ...), reads.call(name, ...)
            position = 1 if isinstance(node.func, ast.Attribute) and node.func.attr == "read" else 0
            arg = node.args[position] if len(node.args) > position else None
            passed_on = isinstance(arg, ast.Name) and path in PASS_THROUGH  # load(name) -> reads.call(name)
            if not passed_on and not (isinstance(arg, ast.Constant) and arg.value in reads.READS):
                found.append(f"{where} names no registered read: {ast.unparse(node)[:80]}")
    return found


def test_pages_deck_and_commands_read_only_through_the_registry():
    found = [line for path in [*PAGE_FILES, *REPORT_FILES] for line in bypasses(path)]
    assert found == []


def test_the_scan_finds_a_page_that_calls_the_domain_directly(tmp_path):
    page = tmp_path / "probe.py"
    page.write_text(
        "from analytics.domain import overview, facts\nfrom ui.data import load\n"
        "data = overview.overview(None, '2026-10')\nwhy = load('overview.why_tables', month='2026-10')\n"
        "gap = facts.model_as_of(None, None)\nwords = overview.headline({}, 'en')\n",
        encoding="utf-8",
    )
    assert bypasses(page, page=True) == [
        "probe.py:3 calls analytics.domain.overview.overview directly",
        "probe.py:4 names no registered read: load('overview.why_tables', month='2026-10')",
        "probe.py:5 calls analytics.domain.facts.model_as_of directly",
    ]
    # the deck and the commands may call what is not a page read (a model's training)
    assert bypasses(page, page=False) == bypasses(page, page=True)[:2]


def test_a_chosen_stores_view_names_the_groups_only_where_it_is_the_groups_rows():
    """``reads.group_call``: the maintenance scores and the churn list of chosen stores are the
    group's rows of those stores (a page may show the group's result as last computed, filtered);
    other reads of a store are its own computation, and the group's view has no group to name."""
    day = date(2026, 8, 31)
    for name in ("maintenance.snapshot", "churn.snapshot"):
        group = reads.group_call(name, as_of=day, stores=["乙店", "甲店"])
        assert group == reads.call(name, as_of=day, stores=None)
        assert reads.group_call(name, as_of=day, stores=None) is None
        assert reads.group_call(name, as_of=day) is None
    assert reads.group_call("kpi.overview", month="2026-08", stores=["甲店"]) is None
