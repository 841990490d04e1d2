"""Structure kept honest: every command has --help, every public analytics function says what it returns."""

import importlib
import inspect
import pkgutil

import pytest

import analytics
from analytics.cli import build_parser, main


def _subcommands(parser):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return action.choices
    return {}


def _commands():
    """Every leaf command as an argv prefix, e.g. ["report"], ["maintenance", "train"]."""
    out = []
    for name, parser in _subcommands(build_parser()).items():
        nested = _subcommands(parser)
        out += [[name, leaf] for leaf in nested] if nested else [[name]]
    return sorted(out)


def test_the_commands_of_product_md_exist():
    names = {c[0] for c in _commands()}
    assert {"demo", "import", "imports", "rollback", "report", "churn", "maintenance", "themes"} <= names
    assert {("maintenance", a) for a in ("train", "backtest", "score")} <= {tuple(c) for c in _commands()}


# Commands that never open the database, so they have no --db.
WITHOUT_DATABASE = {"hash-password"}


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert ("--db" in capsys.readouterr().out) != (command[0] in WITHOUT_DATABASE)


def _public_functions():
    for info in pkgutil.walk_packages(analytics.__path__, "analytics."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == module.__name__:
                yield f"{info.name}.{name}", fn


def test_every_public_analytics_function_has_a_docstring_and_type_hints():
    missing = []
    for path, fn in _public_functions():
        signature = inspect.signature(fn)
        hinted = signature.return_annotation is not inspect.Signature.empty and all(
            p.annotation is not inspect.Parameter.empty for p in signature.parameters.values()
        )
        if not (fn.__doc__ and hinted):
            missing.append(path)
    assert missing == []


def test_the_command_table_names_every_command_its_module_registers():
    import argparse

    from analytics.cli import COMMAND_MODULES, COMMANDS

    registered = {}
    for module in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        importlib.import_module(module).add_commands(parser.add_subparsers())
        registered |= dict.fromkeys(_subcommands(parser), module)
    assert registered == COMMANDS
    assert list(_subcommands(build_parser())) == list(COMMANDS)


def test_a_command_loads_only_its_own_module():
    assert list(_subcommands(build_parser("rollback"))) == ["import", "imports", "rollback"]
    assert list(_subcommands(build_parser("no-such-command"))) == list(_subcommands(build_parser()))
