"""Start-up: help and usage are quick (no eventsourcing import, no store opened), and the command
behaves as a real process (exit codes, stdout/stderr) the way CliRunner shows it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from goalengine_cli.main import cli

SCRIPT = "import sys; from goalengine_cli.main import cli; sys.exit(cli())"


def goalengine(*args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the console script's code in a fresh interpreter (as the `goalengine` command does)."""
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["goal", "create", "--help"],
        ["client", "--help"],
        ["--version"],
        ["goal", "scale", "abcd", "11"],  # a usage error is reported before any store opens
    ],
)
def test_help_usage_and_version_do_not_import_the_event_store(args: list[str]) -> None:
    done = goalengine(*args, importtime=True)
    assert done.returncode in (0, 2), done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "goalengine_cli.main" in imported
    heavy = sorted(m for m in imported if m.split(".")[0] in ("eventsourcing", "psycopg"))
    assert heavy == []
    assert "Traceback" not in done.stderr


def test_help_lists_every_group_and_opens_no_store(tmp_path: Path) -> None:
    from goalengine.config import data_dir

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for group in ("init", "client", "session", "goal", "admin", "demo"):
        assert f"  {group} " in result.stdout
    assert "GOALENGINE_STORE" in result.stdout
    assert not data_dir().exists()  # nothing was created in the user's data directory
    goal_help = CliRunner().invoke(cli, ["goal", "--help"]).stdout
    for command in ("create", "chain", "reorder", "scale", "revise", "review", "pause", "resume"):
        assert f"  {command} " in goal_help
    for command in ("achieve", "abandon", "void", "show", "list", "history"):
        assert f"  {command} " in goal_help


def test_version() -> None:
    from goalengine import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"goalengine, version {__version__}\n"


def test_a_group_without_a_command_shows_its_help() -> None:
    result = CliRunner().invoke(cli, ["goal"])
    assert result.exit_code == 2
    assert "Usage: goalengine goal" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # With --json, the one document is the error.
    result = CliRunner().invoke(cli, ["--json", "goal"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["type"] == "UsageError"
    assert result.stderr == "Error: Missing command. See 'goalengine goal --help'.\n"


def test_the_process_exit_codes_and_streams(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    done = goalengine("--store", url, "--as", "therapist:lee", "client", "add", "Alex", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    client_id = json.loads(done.stdout)["id"]

    done = goalengine("--store", url, "--json", "goal", "show", "0000dead")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["type"] == "NotFound"
    assert done.stderr == "Error: no goal has an id starting with '0000dead'\n"

    done = goalengine("--store", url, "goal", "create", client_id, "T", "--horizon", "middle")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("Error: Invalid value for '--horizon'")

    done = goalengine("--store", f"sqlite:///{tmp_path}/none/x.db", "goal", "list")
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
