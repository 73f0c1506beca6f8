"""The demo: a realistic case from the guide, in its own store, built once however often it runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from goalengine import GoalEngine
from goalengine.config import data_dir, default_store_url, demo_store_url
from goalengine.demo import DEMO_CLIENT, LADDER, LONG_TERM_TITLE, build_demo
from goalengine_cli.main import cli


def demo(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner(env=env).invoke(cli, [*args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def fingerprint(url: str) -> dict[str, Any]:
    with GoalEngine(url) as engine:
        return engine.fingerprint()


def test_the_case_it_builds(engine: GoalEngine) -> None:
    built = build_demo(engine)
    assert built["created"] is True

    client = engine.get_client(built["client_id"])
    assert client["name"] == DEMO_CLIENT
    assert client["values"][:2] == ["friendship", "being a present parent"]
    assert client["session_count"] >= 8
    sessions = engine.sessions(client["id"], order="oldest")
    assert [s["number"] for s in sessions] == list(range(1, client["session_count"] + 1))
    assert client["last_session"] == {k: sessions[-1][k] for k in ("number", "on")}

    goal = engine.get_goal(built["goal_id"])
    assert goal["title"] == LONG_TERM_TITLE
    assert (goal["horizon"], goal["kind"]) == ("long", "outcome")
    assert goal["domains"] == ["behavioral", "emotional"]
    assert goal["anchors"]["low"]
    assert goal["anchors"]["high"]
    assert goal["target"]
    assert goal["due"]

    # The five-step ladder of the guide, in order; the first step achieved.
    steps = [engine.get_goal(s) for s in goal["steps"]]
    assert [s["title"] for s in steps] == [title for title, *_ in LADDER]
    assert [s["status"] for s in steps] == ["achieved", "active", "active", "active", "active"]
    assert all(s["horizon"] == "short" and s["parent_id"] == goal["id"] for s in steps)

    # Weeks of 0-10 ratings with notes, given in the past, by the client and the therapist.
    ratings = engine.ratings(goal["id"], order="oldest")
    assert len(ratings) >= 8
    assert goal["rating_count"] == len(ratings)
    assert set(goal["latest_ratings"]) == {"client", "therapist"}
    assert goal["scale"] == ratings[-1]["value"]
    # They were recorded in the order they happened.
    assert [r["version"] for r in ratings] == sorted(r["version"] for r in ratings)
    assert {r["rater"] for r in ratings} == {"client", "therapist"}
    assert all(0 <= r["value"] <= 10 for r in ratings)
    assert sum(1 for r in ratings if r["note"]) >= 8
    days = [r["occurred_on"] for r in ratings]
    assert days == sorted(days)
    assert len(set(days)) >= 8
    assert all(r["session"] for r in ratings)

    history = engine.history(goal["id"])
    revisions = [h for h in history if h["event"] == "Revised"]
    assert len(revisions) == 1
    assert revisions[0]["reason"]
    assert revisions[0]["changes"]
    assert [h["outcome"] for h in history if h["event"] == "Reviewed"] == ["adjust", "keep"]

    others = [g for g in engine.list_goals(client=client["id"]) if g["depth"] == 0]
    abandoned = [g for g in others if g["status"] == "abandoned"]
    assert len(abandoned) == 1
    assert abandoned[0]["id"] == built["abandoned_goal_id"]
    assert engine.get_goal(abandoned[0]["id"])["status_note"]


def test_building_it_again_records_nothing(engine: GoalEngine) -> None:
    first = build_demo(engine)
    before = engine.fingerprint()
    again = build_demo(engine)
    assert again == {**first, "created": False}
    assert engine.fingerprint() == before


def test_goalengine_demo_uses_its_own_store_and_shows_the_case() -> None:
    assert demo_store_url() != default_store_url()
    first = demo("demo")
    url = demo_store_url()
    out = first.stdout
    assert f"Built the demo case in {url}" in out
    assert f"goalengine --store {url} goal list" in out
    for title, *_ in LADDER:
        assert title in out
    assert LONG_TERM_TITLE in out
    assert "achieved" in out
    assert "abandoned" in out
    assert "Revised" in out
    assert "reason: " in out
    assert "▇" in out
    # The demo went into its own file; the working store was never created.
    assert Path(url.removeprefix("sqlite:///")).exists()
    assert not (data_dir() / "goalengine.db").exists()

    before = fingerprint(url)
    second = demo("demo")
    assert f"The demo case is already in {url}" in second.stdout
    assert fingerprint(url) == before
    # The commands it suggests work on the demo store.
    listed = json.loads(demo("--store", url, "--json", "goal", "list").stdout)
    assert LONG_TERM_TITLE in [g["title"] for g in listed]


def test_the_demo_never_goes_into_the_working_store(tmp_path: Path) -> None:
    working = f"sqlite:///{tmp_path / 'practice.db'}"
    demo("--store", working, "init")
    before = fingerprint(working)
    result = demo("demo", env={"GOALENGINE_STORE": working})
    assert demo_store_url() in result.stdout
    assert fingerprint(working) == before


def test_demo_into_a_given_store_as_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    shown = json.loads(demo("demo", "--store", url, "--json").stdout)
    assert shown["store"] == url
    assert shown["created"] is True
    assert shown["goals"][0]["title"] == LONG_TERM_TITLE
    assert shown["history"][0]["event"] == "Created"
    assert {g["id"] for g in shown["goals"]} >= {shown["goal_id"], *shown["steps"]}
    # The store given before the command, on the command line, is used as well.
    again = json.loads(demo("--store", url, "--json", "demo").stdout)
    assert again["created"] is False
    assert again["goal_id"] == shown["goal_id"]


def test_demo_on_memory_and_postgres(tmp_path: Path) -> None:
    from conftest import postgres_url

    shown = json.loads(demo("demo", "--store", "memory://", "--json").stdout)
    assert shown["created"] is True
    assert len(shown["history"]) > 20
    url = postgres_url()
    first = json.loads(demo("demo", "--store", url, "--json").stdout)
    before = fingerprint(url)
    assert json.loads(demo("demo", "--store", url, "--json").stdout)["created"] is False
    assert fingerprint(url) == before
    assert first["created"] is True
