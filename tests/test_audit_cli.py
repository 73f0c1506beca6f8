"""``goalengine audit …`` and ``--as-of`` through click's CliRunner on real stores."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import make_store_url
from goalengine import GoalEngine
from goalengine_cli.main import cli


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return make_store_url(str(request.param), tmp_path)


def run(url: str | None, *args: str, code: int = 0, env: dict[str, str] | None = None) -> Result:
    store = ["--store", url] if url else []
    result = CliRunner(env=env).invoke(cli, [*store, *args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code:
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result


def data(url: str | None, *args: str, code: int = 0, **kw: Any) -> Any:
    return json.loads(run(url, "--json", *args, code=code, **kw).stdout)


@pytest.fixture
def case(url: str) -> dict[str, str]:
    with GoalEngine(url, actor="therapist:lee") as e:
        client = e.add_client("Alex", values=["health"])
        goal = e.create_goal(
            client["id"], "Walk daily", horizon="short", kind="process", domains=["behavioral"]
        )
        for value in (2, 3, 5):
            e.scale(goal["id"], value)
        e.revise(goal["id"], reason="be concrete", title="Walk 20 minutes daily")
    return {"client": client["id"], "goal": goal["id"]}


def test_as_of_on_goal_show_and_client_show(url: str, case: dict[str, str]) -> None:
    history = data(url, "goal", "history", case["goal"])
    second = history[1]["recorded_at"]
    shown = data(url, "goal", "show", case["goal"][:6], "--as-of", second)
    assert shown == data(url, "goal", "show", case["goal"], "--version", "2")
    assert shown["scale"] == 2
    client = data(url, "client", "show", case["client"], "--as-of", second)
    assert client["goals"][0]["version"] == 2
    run(url, "goal", "show", case["goal"], "--as-of", "whenever", code=2)
    out = run(url, "goal", "show", case["goal"], "--as-of", "2001-01-01", code=1)
    assert "did not exist yet" in out.stderr
    run(url, "goal", "show", case["goal"], "--as-of", "now", "--version", "1", code=2)


def test_verify_checkpoint_and_tampering(url: str, case: dict[str, str], tmp_path: Path) -> None:
    key = tmp_path / "auditor.key"
    key.write_text("a secret kept apart from the store\n")
    cp = data(url, "audit", "checkpoint", "--key-file", str(key))
    assert cp["signed"]
    assert cp["checkpoint"].count(":") == 2
    report = data(url, "audit", "verify", "--checkpoint", cp["checkpoint"], "--key-file", str(key))
    assert report["ok"]
    assert report["checkpoints"][0]["ok"]
    human = run(url, "audit", "verify")
    assert "Integrity OK" in human.stdout
    # Signed checkpoints need the key; it can come from the environment too.
    run(url, "audit", "verify", "--checkpoint", cp["checkpoint"], code=2)
    # The key is the file's bytes exactly as given: its newline is part of it (no stripping).
    env = {"GOALENGINE_AUDIT_KEY": "a secret kept apart from the store\n"}
    run(url, "audit", "verify", "--checkpoint", cp["checkpoint"], env=env)
    stripped = {"GOALENGINE_AUDIT_KEY": "a secret kept apart from the store"}
    bad = run(url, "audit", "verify", "--checkpoint", cp["checkpoint"], env=stripped, code=2)
    assert "bad signature" in bad.stderr
    run(url, "audit", "verify", "--checkpoint", "7:nothex", code=2)
    # Edit a stored event behind goalengine's back.
    _tamper(url, case["goal"])
    result = run(url, "--json", "audit", "verify", code=1)
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["first_problem"]["aggregate_id"] == case["goal"]
    assert report["first_problem"]["version"] == 2
    assert "integrity check failed" in result.stderr
    human = run(url, "audit", "verify", code=1)
    assert "FAILED" in human.stdout


def _tamper(url: str, goal_id: str) -> None:
    import uuid

    if url.startswith("sqlite"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        sql = (
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 2"
        )
        (state,) = conn.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = 2",
            (uuid.UUID(goal_id).hex,),
        ).fetchone()
        conn.execute(sql, (state.replace(b'"value":2', b'"value":9'), uuid.UUID(goal_id).hex))
        conn.commit()
        conn.close()
        return
    import psycopg

    base, schema = url.split("?schema=")
    with psycopg.connect(base) as conn:
        conn.execute(
            f'UPDATE "{schema}".goalengine_events SET state = '
            "convert_to(replace(convert_from(state, 'UTF8'), '\"value\":2', '\"value\":9'), "
            "'UTF8') "
            "WHERE originator_id = %s AND originator_version = 2",
            (uuid.UUID(goal_id),),
        )


def test_export_replay_and_the_access_log(url: str, case: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    manifest = data(url, "--as", "auditor:kim", "audit", "export", "--out", str(out))
    assert manifest["counts"]["events"] == 6
    # Replay needs no store: the same JSON as `goal show`.
    replayed = data(None, "audit", "replay", str(out), "--goal", case["goal"][:5])
    assert replayed == data(url, "goal", "show", case["goal"])
    first = data(url, "goal", "history", case["goal"])[0]["recorded_at"]
    then = data(None, "audit", "replay", str(out), "--goal", case["goal"], "--as-of", first)
    assert then == data(url, "goal", "show", case["goal"], "--version", "1")
    summary = run(None, "audit", "replay", str(out))
    assert "verified, 6 events" in summary.stdout
    data(url, "--as", "auditor:kim", "audit", "history", case["goal"])
    data(url, "--as", "auditor:kim", "audit", "show", case["client"], "--as-of", first)
    access = data(url, "audit", "log", "--access")
    assert [(a["action"], a["actor"]) for a in access] == [
        ("export", "auditor:kim"),
        ("history", "auditor:kim"),
        ("show", "auditor:kim"),
    ]
    assert "access" in run(url, "audit", "log", "--access").stdout
    # A damaged file: one line naming the line, exit 1 (an integrity failure), nothing written.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(out.read_text().splitlines(keepends=True)[0] + "{oops\n")
    result = run(None, "audit", "replay", str(bad), code=1)
    assert f"{bad} line 2" in result.stderr
    run(None, "audit", "replay", str(tmp_path / "missing.jsonl"), code=2)
    before = data(url, "audit", "log", "--access")
    run(url, "audit", "export", "--out", str(tmp_path / "no" / "x.jsonl"), code=2)
    assert data(url, "audit", "log", "--access") == before


def test_audit_log_filters(url: str, case: dict[str, str]) -> None:
    run(url, "--as", "client:alex", "goal", "scale", case["goal"], "7")
    everything = data(url, "audit", "log")
    assert [e["seq"] for e in everything] == list(range(1, 8))
    mine = data(url, "audit", "log", "--actor", "client:alex")
    assert [(e["event"], e["value"]) for e in mine] == [("Scaled", 7)]
    assert data(url, "audit", "log", "--client", case["client"][:6]) == everything
    assert data(url, "audit", "log", "--since", "2001-01-01", "--until", "2001-01-02") == []
    assert data(url, "audit", "log", "--until", everything[2]["recorded_at"]) == everything[:3]
    human = run(url, "audit", "log")
    assert "Scaled" in human.stdout
    assert "Walk daily" in human.stdout
    run(url, "audit", "log", "--since", "not a time", code=2)


def test_verify_shows_progress_on_large_stores(
    url: str, case: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import goalengine_cli.audit as audit_cli

    assert "verifying" not in run(url, "audit", "verify").stderr
    monkeypatch.setattr(audit_cli, "PROGRESS_FROM", 1)
    result = run(url, "audit", "verify")
    assert "verifying" in result.stderr
    assert "Integrity OK" in result.stdout
