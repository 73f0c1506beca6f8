"""Helpers for the plugin and modality tests: engines with an explicit plugin list, the CLI with
``GOALENGINE_PLUGINS``, and plugin modules written to a temporary directory."""

from __future__ import annotations

import itertools
import json
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from goalengine import GoalEngine
from goalengine.modalities.manager import builtin_plugins, make_manager
from goalengine_cli.main import cli

BUILTINS = "core,act,cbt,dbt"
_counter = itertools.count()


def engine_with(url: str = "memory://", **extra: object) -> GoalEngine:
    """An engine with the built-ins plus ``extra`` plugins (name → module or object), nothing
    else that happens to be installed."""
    plugins = make_manager({**builtin_plugins(), **extra})
    return GoalEngine(url, actor="therapist:lee", plugins=plugins)


def write_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> str:
    """Write ``source`` as a uniquely named module importable for this test; return its name."""
    name = f"ge_test_plugin_{next(_counter)}_{tmp_path.name[-12:].replace('-', '_')}"
    folder = tmp_path / "plugin_modules"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def run(
    store: str, *args: str, plugins: str = BUILTINS, env: Mapping[str, str] | None = None
) -> Result:
    """``goalengine --store STORE ARGS`` with only ``plugins`` loaded."""
    runner = CliRunner()
    return runner.invoke(
        cli,
        ["--store", store, "--as", "therapist:lee", *args],
        env={"GOALENGINE_PLUGINS": plugins, **(env or {})},
        catch_exceptions=False,
    )


def run_json(store: str, *args: str, plugins: str = BUILTINS) -> Any:
    result = run(store, "--json", *args, plugins=plugins)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def rules(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The findings of a command result, by rule id."""
    return {f["rule"]: f for f in result["findings"]}
