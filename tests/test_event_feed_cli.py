"""``goalengine audit log --after SEQ --limit N``: the event feed on the command line, the same
entries as ``GoalEngine.events``; wrong use is one line, exit 2, nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from goalengine import GoalEngine
from goalengine_cli.main import cli


def run(url: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--store", url, "--as", "therapist:lee", *args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'feed.db'}"
    with GoalEngine(url, actor="therapist:lee") as engine:
        client = engine.add_client("Sam", values=["friendship"])
        goal = engine.create_goal(
            client["id"], "Walk after lunch", horizon="short", kind="process", domains=["emotional"]
        )
        for value in (3, 4, 5):
            engine.scale(goal["id"], value)
        engine.audit_history(goal["id"])
    return url


def test_the_cli_pages_the_feed_exactly_as_the_engine(url: str) -> None:
    with GoalEngine(url) as engine:
        everything = engine.events()
    assert [e["seq"] for e in everything] == list(range(1, 7))
    assert json.loads(run(url, "--json", "audit", "log", "--after", "0").stdout) == everything
    page = json.loads(run(url, "audit", "log", "--after", "2", "--limit", "2", "--json").stdout)
    assert page == everything[2:4]
    assert json.loads(run(url, "--json", "audit", "log", "--after", "6").stdout) == []
    text = run(url, "audit", "log", "--after", "4").stdout
    assert text.splitlines()[0].split() == ["SEQ", "TIME", "ACTOR", "WHAT", "ID", "V", "EVENT"]
    assert [line.split()[0] for line in text.splitlines()[1:3]] == ["5", "6"]
    assert "access" in text  # the audited read is part of the feed
    assert text.rstrip().endswith("goalengine audit log --after 6")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--after", "0", "--since", "2026-01-01"], "do not combine"),
        (["--limit", "5", "--access"], "do not combine"),
        (["--after", "-1"], "--after"),
        (["--after", "x"], "--after"),
        (["--after", "0", "--limit", "0"], "--limit"),
        (["--after", "0", "--limit", "1001"], "--limit"),
    ],
)
def test_wrong_use_is_one_line_and_changes_nothing(url: str, args: list[str], message: str) -> None:
    with GoalEngine(url) as engine:
        before = engine.fingerprint()
    result = run(url, "audit", "log", *args, code=2)
    assert message in result.stderr
    with GoalEngine(url) as engine:
        assert engine.fingerprint() == before
