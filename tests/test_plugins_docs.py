"""docs/plugins/: every hook has a heading with its exact signature, and the examples run."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

from goalengine.modalities import hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins"


def signature(name: str) -> str:
    """``name(arg: Type, …) -> Return`` exactly as the spec declares it."""
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p}: {v.annotation}" for p, v in sig.parameters.items())
    return f"{name}({params}) -> {sig.return_annotation}"


def test_every_hook_has_a_heading_with_its_exact_signature() -> None:
    text = (DOCS / "hooks.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## `(.+)`$", text, flags=re.MULTILINE)
    assert headings == [signature(name) for name in hookspecs.HOOKS]


def test_the_plugin_docs_exist_and_link_each_other() -> None:
    for page in ("writing.md", "hooks.md", "testing.md", "publishing.md"):
        assert (DOCS / page).stat().st_size > 1000, page
    writing = (DOCS / "writing.md").read_text(encoding="utf-8")
    for link in ("hooks.md", "testing.md", "publishing.md", "builtins.md"):
        assert f"({link})" in writing


def code_files(*pages: str) -> dict[str, str]:
    """The ```python blocks that start with ``# file: PATH``, by path."""
    files = {}
    for page in pages:
        text = (DOCS / page).read_text(encoding="utf-8")
        for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
            first, _, rest = block.partition("\n")
            if first.startswith("# file: "):
                files[first[len("# file: ") :].strip()] = rest
    return files


def test_the_documented_plugin_and_its_tests_pass(tmp_path: Path) -> None:
    files = code_files("writing.md", "testing.md")
    assert set(files) == {"goalengine_habits/__init__.py", "test_habits.py"}
    for path, text in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("GOALENGINE_PLUGINS", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_habits.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed, 1 skipped" in done.stdout


def test_the_documented_plugin_works_from_the_cli(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from goalengine_cli.main import cli

    for path, text in code_files("writing.md").items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        runner = CliRunner(env={"GOALENGINE_PLUGINS": "core,habits=goalengine_habits"})
        store = ["--store", f"sqlite:///{tmp_path / 'g.db'}", "--json"]
        alex = json.loads(
            runner.invoke(cli, [*store, "client", "add", "Alex", "--modality", "habits"]).stdout
        )
        made = runner.invoke(
            cli,
            [*store, "goal", "create", alex["id"], "Floss after breakfast", "--horizon", "short",
             "--kind", "process", "--domain", "behavioral", "--target", "flossed>=1/day",
             "--attr", "cue=morning"],
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        assert json.loads(made.stdout)["attributes"] == {"cue": "morning"}
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("goalengine_habits", None)


def test_every_built_in_rule_is_documented_with_its_severity() -> None:
    from goalengine.modalities.manager import builtin_plugins, make_manager

    text = (DOCS / "builtins.md").read_text(encoding="utf-8")
    manager = make_manager(builtin_plugins())
    documented = re.findall(r"^\| `([a-z.-]+)` \| (\w+) \|", text, flags=re.MULTILINE)
    registered = [
        (r.id, r.severity.value) for p in manager.plugins() for r in manager.rules(p.name)
    ]
    assert documented == registered
    for modality, _ in manager.modalities():
        for attribute in manager.attributes(modality.name):
            assert f"- `{attribute.key}`" in text
