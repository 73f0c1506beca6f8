"""``goalengine plugins …``: list, install, uninstall and start a new plugin.

``install``/``uninstall`` are thin wrappers around pip in the interpreter goalengine runs in (like
``datasette install`` and ``llm install``); ``new`` writes a plugin skeleton whose tests pass.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from goalengine.errors import InvalidInput, NotFound, PluginError
from goalengine_cli import output as out
from goalengine_cli.context import App, json_option, pass_app
from goalengine_cli.params import SafePath

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@click.group()
def plugins() -> None:
    """The installed plugins: list them, install, uninstall, or start a new one."""


def _render(items: Sequence[Mapping[str, Any]]) -> None:
    out.table(
        ["NAME", "VERSION", "STATUS", "MODALITIES", "HOOKS", "RULES"],
        [
            (
                p["name"],
                p["version"],
                p["status"],
                ", ".join(p["modalities"]) or "—",
                len(p["hooks"]),
                len(p["rules"]),
            )
            for p in items
        ],
        details=[[f"reason: {p['reason']}"] if p["reason"] else [] for p in items],
    )


@plugins.command("list")
@json_option
@pass_app
def list_(app: App) -> None:
    """List the plugins: name, version, status (ok or failed, with the reason), modalities,
    hooks and rules. Needs no store."""
    from goalengine.modalities import listing

    out.emit(app, listing.plugins(app.plugin_manager().load()), human=_render)


def _pip(app: App, *args: str) -> dict[str, Any]:
    """Run pip in this interpreter; its output goes to stderr with --json, else to stdout."""
    command = [sys.executable, "-m", "pip", *args]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    click.echo(done.stdout, nl=False, err=app.json)
    click.echo(done.stderr, nl=False, err=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        raise PluginError(
            f"pip {args[0]} failed (exit {done.returncode}): {last}",
            command=" ".join(command),
        )
    return {"pip": args[0], "command": command}


def _done(verb: str, packages: Sequence[str]) -> Any:
    def render(result: Mapping[str, Any]) -> None:
        click.echo(f"{verb} {', '.join(packages)}; see `goalengine plugins list`.")

    return render


@plugins.command()
@click.argument("packages", metavar="PKG…", nargs=-1, required=True)
@click.option("-e", "--editable", is_flag=True, help="Install a local directory in editable mode.")
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade to the newest version.")
@json_option
@pass_app
def install(app: App, packages: tuple[str, ...], editable: bool, upgrade: bool) -> None:
    """Install plugins with pip into the environment goalengine runs in."""
    args = ["install"]
    if upgrade:
        args.append("--upgrade")
    for package in packages:
        args += ["-e", package] if editable else [package]
    result = _pip(app, *args)
    out.emit(app, {**result, "packages": list(packages)}, human=_done("Installed", packages))


@plugins.command()
@click.argument("packages", metavar="PKG…", nargs=-1, required=True)
@json_option
@pass_app
def uninstall(app: App, packages: tuple[str, ...]) -> None:
    """Uninstall plugins (pip uninstall -y) from the environment goalengine runs in."""
    if any(p.strip().lower() == "goalengine" for p in packages):
        raise InvalidInput("refusing to uninstall goalengine itself; use pip for that")
    missing = [p for p in packages if not _installed(p)]
    if missing:
        raise NotFound(
            f"not installed: {', '.join(missing)}; nothing was uninstalled "
            "(`pip list` shows what is, `goalengine plugins list` what loads)",
            packages=missing,
        )
    result = _pip(app, "uninstall", "-y", *packages)
    out.emit(app, {**result, "packages": list(packages)}, human=_done("Uninstalled", packages))


def _installed(package: str) -> bool:
    """Whether distribution ``package`` is installed in the interpreter goalengine runs in."""
    import importlib.metadata

    try:
        importlib.metadata.distribution(package.strip())
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return True


# -- plugins new -------------------------------------------------------------------------------


@plugins.command()
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=SafePath(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create the goalengine-NAME directory.",
)
@json_option
@pass_app
def new(app: App, name: str, directory: Path) -> None:
    """Write a skeleton for plugin NAME (a modality NAME with one rule and its tests)."""
    if not _NAME.match(name):
        raise click.BadParameter(
            f"{name!r}: use lower-case letters, digits and single hyphens (e.g. 'schema')",
            param_hint="'NAME'",
        )
    if len(name) > 64:
        raise click.BadParameter("a plugin name has at most 64 characters", param_hint="'NAME'")
    root = directory / f"goalengine-{name}"
    try:
        exists = root.exists()
    except (OSError, ValueError) as e:
        raise click.BadParameter(f"cannot use {str(directory)!r}: {e}", param_hint="'--dir'") from e
    if exists:
        raise InvalidInput(f"{root} already exists; choose another name or --dir")
    files = skeleton(name)
    try:
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as e:
        shutil.rmtree(root, ignore_errors=True)  # no half-written skeleton left behind
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise click.BadParameter(
            f"cannot write a plugin skeleton under {str(directory)!r}: {why}",
            param_hint="'--dir'",
        ) from e
    result = {"name": name, "path": str(root), "files": sorted(files)}

    def render(r: Mapping[str, Any]) -> None:
        click.echo(f"Created {r['path']}:")
        for f in r["files"]:
            click.echo(f"  {f}")
        click.echo(f"Next: cd {r['path']} && goalengine plugins install -e . && python -m pytest")

    out.emit(app, result, human=render)


def skeleton(name: str) -> dict[str, str]:
    """The files of a new plugin ``goalengine-<name>`` (relative path → text)."""
    module = "goalengine_" + name.replace("-", "_")
    subs = {"{name}": name, "{module}": module, "{title}": name.replace("-", " ").title()}

    def fill(text: str) -> str:
        for key, value in subs.items():
            text = text.replace(key, value)
        return text

    return {
        "pyproject.toml": fill(_PYPROJECT),
        "README.md": fill(_README),
        f"src/{module}/__init__.py": fill(_MODULE),
        f"tests/test_{module}.py": fill(_TESTS),
    }


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "goalengine-{name}"
version = "0.1.0"
description = "The {name} modality for goalengine."
requires-python = ">=3.11"
dependencies = ["goalengine"]

[project.entry-points.goalengine]
{name} = "{module}"

[project.optional-dependencies]
test = ["pytest"]

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

_README = """\
# goalengine-{name}

The {name} modality for [goalengine](https://example.org/goalengine).

    goalengine plugins install -e .
    goalengine modalities show {name}
    python -m pytest
"""

_MODULE = '''\
"""goalengine plugin: the {name} modality."""

from __future__ import annotations

from collections.abc import Callable

from goalengine import hookimpl
from goalengine.modalities import Attribute, Flag, GoalView, Modality, Rule

NEEDS_VALUE = Rule(
    "{name}.needs-value",
    "warning",
    "Goals serve a value",
    "Every {name} goal names the client value it serves (--value).",
    source="Your manual, chapter and page",
)


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    register(Modality("{name}", "{title}", "What the {name} modality is about."))


@hookimpl
def register_attributes(register: Callable[[Attribute], None]) -> None:
    register(Attribute("{name}", "focus", "what the goal works on", choices=("a", "b")))


@hookimpl
def register_rules(register: Callable[[Rule], None]) -> None:
    register(NEEDS_VALUE)


@hookimpl
def validate_goal(goal: GoalView, action: str) -> list[Flag]:
    if action in ("create", "revise") and not goal.values:
        return [NEEDS_VALUE.flag("name the client value this goal serves (--value)")]
    return []
'''

_TESTS = '''\
"""Tests of goalengine-{name}: through the public API, on an in-memory store."""

from __future__ import annotations

import importlib.metadata

import pytest

import {module}
from goalengine import GoalEngine
from goalengine.modalities.manager import builtin_plugins, make_manager


@pytest.fixture
def engine():
    plugins = make_manager({**builtin_plugins(), "{name}": {module}})
    with GoalEngine("memory://", actor="therapist:test", plugins=plugins) as e:
        yield e


def test_the_modality_is_registered(engine):
    assert "{name}" in [m["name"] for m in engine.list_modalities()]
    shown = engine.show_modality("{name}")
    assert [r["id"] for r in shown["rules"]] == ["{name}.needs-value"]


def test_a_goal_without_a_value_gets_the_warning(engine):
    client = engine.add_client("Alex", modality="{name}", values=["family"])
    goal = engine.create_goal(
        client["id"], "Call my sister every Sunday", horizon="short", kind="process",
        domains=["behavioral"],
    )
    rules = {f["rule"]: f for f in goal["findings"]}
    assert rules["{name}.needs-value"]["severity"] == "warning"
    assert rules["{name}.needs-value"]["plugin"] == "{name}"
    served = engine.create_goal(
        client["id"], "Call my sister every Sunday", horizon="short", kind="process",
        domains=["behavioral"], values=["family"],
    )
    assert "{name}.needs-value" not in {f["rule"] for f in served["findings"]}


def test_an_unknown_attribute_is_refused(engine):
    client = engine.add_client("Alex", modality="{name}", values=["family"])
    before = engine.fingerprint()
    with pytest.raises(Exception, match="valid: focus"):
        engine.create_goal(
            client["id"], "Call my sister every Sunday", horizon="short", kind="process",
            domains=["behavioral"], attributes={"colour": "blue"},
        )
    assert engine.fingerprint() == before


def test_goalengine_discovers_the_installed_plugin():
    names = [ep.name for ep in importlib.metadata.entry_points(group="goalengine")]
    if "{name}" not in names:
        pytest.skip("not installed: run `goalengine plugins install -e .` to test discovery")
    plugins = make_manager(only=["{name}"])
    (info,) = plugins.plugins()
    assert info.status == "ok", info.reason
    assert info.modalities == ["{name}"]
'''
