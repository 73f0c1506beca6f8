"""docs/cli.md is part of the CLI: its session at the keyboard runs as written, and every command of
the core groups has its heading there."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from goalengine import GoalEngine
from goalengine_cli.main import cli

PAGE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
ASSIGN = re.compile(r"^(\w+)=\$\((goalengine .*) \| jq -r \.(\w+)\)$")


def shell_lines(text: str) -> list[str]:
    """The commands of the page's ``sh`` blocks, continuation lines joined."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = " ".join(line.split())
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def test_the_session_at_the_keyboard_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str] = {}
    names: dict[str, str] = {}
    lines = shell_lines(PAGE.read_text())
    assert len(lines) > 20
    for line in lines:
        line = re.sub(r"\$\{?(\w+)\}?", lambda m: names[m.group(1)], line)
        if line.startswith("export "):
            for pair in shlex.split(line)[1:]:
                key, _, value = pair.partition("=")
                env[key] = value
            continue
        assigned = ASSIGN.match(line)
        command = assigned.group(2) if assigned else line
        args = shlex.split(command)
        assert args[0] == "goalengine", line
        result = CliRunner(env=env).invoke(cli, args[1:])
        assert result.exit_code == 0, (line, result.stdout, result.stderr)
        if assigned:
            names[assigned.group(1)] = json.loads(result.stdout)[assigned.group(3)]
    assert (tmp_path / "practice.db").exists()

    with GoalEngine("sqlite:///practice.db") as engine:
        goal = engine.get_goal(names["GOAL"])
        steps = [engine.get_goal(s) for s in goal["steps"]]
        client = engine.get_client(names["SAM"])
        ratings = engine.ratings(steps[0]["id"])
    assert goal["target"] == "gad7<10"
    assert [s["status"] for s in steps] == ["achieved", "active", "abandoned"]
    assert [r["rater"] for r in ratings] == ["client"]
    assert steps[0]["latest_ratings"]["client"]["value"] == 5
    assert goal["last_review"]["outcome"] == "adjust"
    assert client["values"] == ["being a present parent", "friendship"]


#: The modules of the core groups; other groups document their commands on their own pages.
CORE = {
    "goalengine_cli.admin",
    "goalengine_cli.clients",
    "goalengine_cli.goal_reads",
    "goalengine_cli.goals",
    "goalengine_cli.sessions",
}


def _commands(group: click.Group, prefix: str) -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        elif command.callback is not None and command.callback.__module__ in CORE:
            found.append(path)
    return found


def test_every_core_command_has_a_heading() -> None:
    headings = " ".join(re.findall(r"^### (.*)$", PAGE.read_text(), flags=re.M))
    documented = " ".join(
        s if s.startswith("goalengine ") else f"goalengine {s}"
        for s in re.findall(r"`([^`]*)`", headings)
    )
    core = _commands(cli, "goalengine")
    assert len(core) >= 24
    for command in core:
        *group, leaf = command.split()
        # `goal pause|resume|achieve GOAL` documents three commands in one heading.
        pattern = re.escape(" ".join(group)) + r" (\w+\|)*" + re.escape(leaf) + r"(\|\w+)*\b"
        assert re.search(pattern, documented), f"{command} has no heading in docs/cli.md"
