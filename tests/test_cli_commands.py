"""The CLI, command by command, through click's CliRunner on real stores.

Each CliRunner invocation opens its own engine (as a shell command would), so a story told over
several commands runs on a SQLite file and a PostgreSQL schema; ``memory://`` gets the commands that
do their whole job in one invocation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import make_store_url
from goalengine import GoalEngine
from goalengine.store import FORMAT_VERSION
from goalengine_cli.main import cli

ACTOR = "therapist:lee"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store that outlives one invocation."""
    return make_store_url(str(request.param), tmp_path)


def fingerprint(url: str) -> dict[str, Any]:
    with GoalEngine(url) as engine:
        return engine.fingerprint()


def run(url: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--store", url, "--as", ACTOR, *args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def data(url: str, *args: str, code: int = 0) -> Any:
    """Run with ``--json`` after the command and parse the one document printed."""
    return json.loads(run(url, *args, "--json", code=code).stdout)


def add_client(url: str, name: str = "Alex", *values: str) -> dict[str, Any]:
    args = [a for v in values or ("friendship", "being a present parent") for a in ("--value", v)]
    added: dict[str, Any] = data(url, "client", "add", name, *args)
    return added


def create(url: str, client_id: str, title: str, *extra: str) -> dict[str, Any]:
    created: dict[str, Any] = data(
        url,
        "goal",
        "create",
        client_id,
        title,
        "--horizon",
        "long",
        "--kind",
        "outcome",
        "--domain",
        "behavioral",
        *extra,
    )
    return created


def test_init_creates_the_store_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "practice.db"
    url = f"sqlite:///{path}"
    result = run(url, "init")
    assert path.exists()
    assert f"Store ready: {url}" in result.stdout
    assert data(url, "init") == {"store": url, "format": FORMAT_VERSION, "events": 0}


def test_init_with_json_before_the_command_on_memory() -> None:
    result = CliRunner().invoke(cli, ["--json", "--store", "memory://", "init"])
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["store"] == "memory://"
    assert shown["events"] == 0


def test_client_add_on_memory_prints_the_created_client() -> None:
    added = data("memory://", "client", "add", "Alex", "--value", "friendship")
    assert added["name"] == "Alex"
    assert added["values"] == ["friendship"]
    assert added["created_by"] == ACTOR
    assert len(added["id"]) == 36


def test_the_default_store_is_a_file_in_the_data_dir(tmp_path: Path) -> None:
    # No --store and no GOALENGINE_STORE: the file in the (isolated) user data directory.
    result = CliRunner().invoke(cli, ["--json", "client", "add", "Alex"])
    assert result.exit_code == 0, result.stderr
    from goalengine.config import data_dir, default_store_url

    assert (data_dir() / "goalengine.db").exists()
    with GoalEngine(default_store_url()) as engine:
        assert [c["name"] for c in engine.list_clients()] == ["Alex"]


def test_env_var_picks_the_store_and_the_actor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    env = {"GOALENGINE_STORE": url, "GOALENGINE_ACTOR": "client:alex"}
    result = CliRunner(env=env).invoke(cli, ["client", "add", "Alex", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["created_by"] == "client:alex"
    with GoalEngine(url) as engine:
        assert len(engine.list_clients()) == 1


def test_clients_and_sessions(url: str) -> None:
    alex = add_client(url, "Alex")
    human = run(url, "client", "add", "Sam", "--value", "curiosity", "--modality", "cbt")
    assert "Added client" in human.stdout
    assert "Sam" in human.stdout

    listed = data(url, "client", "list")
    assert [c["name"] for c in listed] == ["Alex", "Sam"]
    table = run(url, "client", "list").stdout
    assert "NAME" in table
    assert alex["id"][:8] in table
    assert "friendship; being a present parent" in table

    first = data(url, "session", "add", alex["id"][:6], "--on", "2026-10-01")
    assert first == {
        "client_id": alex["id"],
        "number": 1,
        "on": "2026-10-01",
        "review_due": False,
    }
    assert (
        "Recorded session 2 on 2026-10-08"
        in run(url, "session", "add", alex["id"], "--on", "2026-10-08").stdout
    )
    # Sessions list newest first (--oldest-first: in order), with who recorded them and when.
    sessions = data(url, "session", "list", alex["id"])
    assert [(s["client_id"], s["number"], s["on"]) for s in sessions] == [
        (alex["id"], 2, "2026-10-08"),
        (alex["id"], 1, "2026-10-01"),
    ]
    assert [s["version"] for s in sessions] == [3, 2]  # Registered was version 1
    assert all(s["actor"] == ACTOR and s["recorded_at"].endswith("+00:00") for s in sessions)
    assert data(url, "session", "list", alex["id"], "--oldest-first") == sessions[::-1]
    assert data(url, "session", "list", alex["id"], "--limit", "1") == sessions[:1]
    assert data(url, "session", "list", alex["id"], "--after", "3") == sessions[1:]
    assert data(url, "session", "list", alex["id"], "--since", "2026-10-02") == sessions[:1]
    assert data(url, "session", "list", alex["id"], "--until", "2026-10-02") == sessions[1:]
    listing = run(url, "session", "list", alex["id"], "--limit", "1").stdout
    assert "2026-10-08" in listing
    assert "2026-10-01" not in listing
    assert f"goalengine session list {alex['id']} --after 3" in listing

    revised = data(
        url,
        "client",
        "revise",
        alex["id"],
        "--name",
        "Alex B.",
        "--value",
        "being a present parent",
        "--reason",
        "Alex asked to put parenting first",
    )
    assert revised["name"] == "Alex B."
    assert revised["values"] == ["being a present parent"]
    assert {c["field"] for c in revised["changes"]} == {"name", "values"}

    shown = data(url, "client", "show", alex["id"])
    assert shown["name"] == "Alex B."
    assert shown["session_count"] == 2
    assert shown["last_session"] == {"number": 2, "on": "2026-10-08"}
    page = run(url, "client", "show", alex["id"][:8]).stdout
    assert "Alex B." in page
    assert "1. being a present parent" in page
    assert "2, the last (no. 2) on 2026-10-08" in page

    history = data(url, "client", "history", alex["id"])
    assert [h["event"] for h in history] == [
        "Registered",
        "SessionRecorded",
        "SessionRecorded",
        "Revised",
    ]
    text = run(url, "client", "history", alex["id"]).stdout
    assert "name: Alex → Alex B." in text
    assert "reason: Alex asked to put parenting first" in text


def test_a_goal_through_its_life(url: str) -> None:
    alex = add_client(url)
    goal = create(
        url,
        alex["id"][:8],
        "Build a social life I enjoy",
        "--domain",
        "emotional",
        "--value",
        "friendship",
        "--value",
        "2",
        "--target",
        "social_events>=3/week",
        "--due",
        "2027-06-01",
        "--anchor-low",
        "I skip every invitation",
        "--anchor-high",
        "I see friends most weeks",
        "--description",
        "Friends I see",
        "--authorship",
        "client",
        "--client-agreed",
    )
    gid = goal["id"]
    assert goal["domains"] == ["behavioral", "emotional"]
    assert goal["values"] == ["friendship", "being a present parent"]
    assert goal["target"] == "social_events>=3/week"
    assert goal["authorship"] == "client"
    for finding in goal["findings"]:  # what the rules said, kept with the event
        assert {"rule", "severity", "message", "plugin", "plugin_version"} <= set(finding)

    # The ladder: chained in order, one put first with --position, then moved back.
    second = data(url, "goal", "chain", gid[:8], "Start one conversation")
    third = data(url, "goal", "chain", gid, "Stay an hour", "--kind", "process")
    first = data(url, "goal", "chain", gid, "Stay 15 minutes", "--position", "1")
    assert first["parent_id"] == gid
    assert first["horizon"] == "short"
    assert first["domains"] == ["behavioral", "emotional"]  # inherited from the parent
    created = run(url, "goal", "chain", gid, "Share something personal").stdout
    assert f"as step 4 of {gid[:8]}" in created
    human = run(
        url,
        "goal",
        "create",
        alex["id"],
        "Sleep better",
        "--horizon",
        "long",
        "--kind",
        "outcome",
        "--domain",
        "behavioral",
    ).stdout
    assert human.startswith("Created goal ")
    sleep = data(url, "goal", "list", "--client", alex["id"])[-1]
    assert sleep["title"] == "Sleep better"
    # The findings of the rules (stored with the event) are printed after the command's output.
    for finding in data(url, "goal", "history", sleep["id"])[0]["findings"]:
        assert f"{finding['severity']}: {finding['message']} ({finding['rule']})" in human
    assert data(url, "goal", "show", gid)["steps"][:3] == [first["id"], second["id"], third["id"]]
    step = data(
        url,
        "goal",
        "create",
        alex["id"],
        "Attend without a safety behaviour",
        "--horizon",
        "short",
        "--kind",
        "process",
        "--domain",
        "behavioral",
        "--parent",
        gid,
    )
    assert step["parent_id"] == gid
    moved = data(url, "goal", "reorder", third["id"], "--position", "1")
    assert moved["steps"][0] == third["id"]
    assert (
        "3. " + third["id"][:8]
        in run(url, "goal", "reorder", third["id"], "--position", "3").stdout
    )

    # Ratings, with who rated, the note, the day and (found from that day) the session.
    run(url, "session", "add", alex["id"], "--on", "2026-10-01")
    rated = data(
        url, "goal", "scale", gid, "3", "--note", "went for 10 minutes", "--on", "2026-10-01"
    )
    assert rated == {
        **rated,
        "goal_id": gid,
        "value": 3,
        "rater": "therapist",
        "actor": ACTOR,
        "note": "went for 10 minutes",
        "occurred_on": "2026-10-01",
        "day": "2026-10-01",
        "session": 1,
    }
    assert data(url, "goal", "show", gid)["scale"] == 3
    text = run(url, "goal", "scale", gid, "4", "--rater", "client", "--session", "1").stdout
    assert "▇▇▇▇▁▁▁▁▁▁ 4/10" in text
    assert "by client" in text
    assert data(url, "goal", "ratings", gid, "--oldest-first")[0] == rated
    ratings = data(url, "goal", "ratings", gid)
    assert [(r["value"], r["rater"]) for r in ratings] == [(4, "client"), (3, "therapist")]
    assert data(url, "goal", "ratings", gid, "--rater", "client") == ratings[:1]
    assert data(url, "goal", "ratings", gid, "--limit", "1") == ratings[:1]
    assert data(url, "goal", "ratings", gid, "--after", str(ratings[0]["version"])) == ratings[1:]
    assert data(url, "goal", "ratings", gid, "--until", "2026-10-01") == ratings[1:]
    assert data(url, "goal", "ratings", gid, "--since", "2026-10-02") == ratings[:1]
    listing = run(url, "goal", "ratings", gid, "--limit", "1").stdout
    assert "went for 10 minutes" not in listing
    assert f"--after {ratings[0]['version']}" in listing
    assert "went for 10 minutes" in run(url, "goal", "ratings", gid).stdout

    revised = data(
        url,
        "goal",
        "revise",
        gid,
        "--target",
        "social_events>=2/week",
        "--title",
        "Build a social life I enjoy, at my pace",
        "--reason",
        "three a week left no evenings with the children",
    )
    assert revised["target"] == "social_events>=2/week"
    assert {c["field"] for c in revised["changes"]} == {"title", "target"}
    text = run(url, "goal", "revise", gid, "--due", "", "--reason", "no fixed date").stdout
    assert "due: 2027-06-01 → —" in text

    reviewed = data(
        url, "goal", "review", gid, "adjust", "--alignment", "8", "--note", "keep going"
    )
    assert reviewed["last_review"]["outcome"] == "adjust"
    assert reviewed["last_review"]["value_alignment"] == 8
    assert reviewed["review_count"] == 1
    # A review dated earlier reports the review just recorded, not the latest one.
    text = run(url, "goal", "review", gid, "keep", "--on", "2026-10-01").stdout
    assert "): keep" in text
    assert "adjust" not in text
    # Reviews list newest first by when they happened: the one dated 2026-10-01 comes last.
    reviews = data(url, "goal", "reviews", gid)
    assert [(r["outcome"], r["occurred_on"]) for r in reviews] == [
        ("adjust", None),
        ("keep", "2026-10-01"),
    ]
    assert data(url, "goal", "reviews", gid, "--oldest-first") == reviews[::-1]
    assert data(url, "goal", "show", gid)["last_review"]["outcome"] == "adjust"

    assert data(url, "goal", "pause", gid, "--note", "holiday")["status"] == "paused"
    assert "is now active" in run(url, "goal", "resume", gid).stdout
    assert data(url, "goal", "achieve", first["id"], "--note", "three times")["status"] == (
        "achieved"
    )
    other = create(url, alex["id"], "Join a running club")
    abandoned = data(url, "goal", "abandon", other["id"], "--reason", "clashes with bedtime")
    assert abandoned["status"] == "abandoned"
    assert abandoned["status_note"] == "clashes with bedtime"
    mistake = create(url, alex["id"], "Typo goal")
    assert "is now voided" in run(url, "goal", "void", mistake["id"], "--reason", "typo").stdout

    # Reading it back.
    shown = data(url, "goal", "show", gid)
    for key in ("id", "client_id", "title", "status", "horizon", "kind", "domains", "scale"):
        assert key in shown
    assert shown["parent_id"] is None
    assert shown["scale"] == 4
    assert len(shown["steps"]) == 5
    assert shown["version"] == len(data(url, "goal", "history", gid))
    assert data(url, "goal", "show", gid, "--version", "1")["title"] == (
        "Build a social life I enjoy"
    )
    page = run(url, "goal", "show", gid[:8]).stdout
    for expected in (
        "Build a social life I enjoy, at my pace",
        "social_events>=2/week",
        "friendship; being a present parent",
        "went for 10 minutes",
        "Ratings",
        "Reviews",
        "Steps",
        "Stay 15 minutes",
        "achieved",
    ):
        assert expected in page, expected
    assert re.search(r"\n  0 means +I skip every invitation\n", page)
    assert re.search(r"\n  10 means +I see friends most weeks\n", page)

    listed = data(url, "goal", "list", "--client", alex["id"])
    assert [g["title"] for g in listed][:2] == [
        "Build a social life I enjoy, at my pace",
        "Stay 15 minutes",
    ]
    assert mistake["id"] not in {g["id"] for g in listed}
    assert mistake["id"] in {g["id"] for g in data(url, "goal", "list", "--all")}
    assert [g["id"] for g in data(url, "goal", "list", "--status", "abandoned")] == [other["id"]]
    table = run(url, "goal", "list").stdout
    assert "CLIENT" in table
    assert "  1. Stay 15 minutes" in table
    assert "Typo goal" not in table

    history = data(url, "goal", "history", gid)
    events = [h["event"] for h in history]
    assert events[:6] == ["Created", "Chained", "Chained", "Chained", "Chained", "Chained"]
    assert {"StepsReordered", "Scaled", "Revised", "Reviewed", "Paused", "Resumed"} <= set(events)
    text = run(url, "goal", "history", gid).stdout
    assert "target: social_events>=3/week → social_events>=2/week" in text
    assert "reason: three a week left no evenings with the children" in text
    assert "2026-10-01" in text  # when the rating happened, beside when it was recorded
    assert ACTOR in text

    # The read models rebuilt from the log answer exactly as before.
    before = fingerprint(url)
    rebuilt = data(url, "admin", "rebuild")
    assert rebuilt["goals"] == 9
    assert rebuilt["clients"] == 1
    assert (rebuilt["ratings"], rebuilt["reviews"], rebuilt["sessions"]) == (2, 2, 1)
    assert rebuilt["events"] == before["events"]
    assert "Rebuilt the read models" in run(url, "admin", "rebuild").stdout
    assert fingerprint(url) == before


def test_ids_resolve_by_unique_prefix(url: str) -> None:
    alex = add_client(url)
    goal = create(url, alex["id"], "Walk after lunch")
    for length in (4, 8, 20, 36):
        assert data(url, "goal", "show", goal["id"][:length])["id"] == goal["id"]
    assert data(url, "goal", "show", goal["id"].upper())["id"] == goal["id"]

    other = "0000" if not goal["id"].startswith("0000") else "ffff"
    result = run(url, "goal", "show", other + "dead", code=1)
    assert result.stderr == f"Error: no goal has an id starting with '{other}dead'\n"
    result = run(url, "--json", "goal", "show", "abc", code=2)
    assert json.loads(result.stdout)["error"]["type"] == "InvalidInput"
    assert "at least 4" in result.stderr


def test_an_ambiguous_prefix_lists_the_candidates(url: str) -> None:
    # Clients are added until two share their first four characters.
    seen: dict[str, dict[str, Any]] = {}
    with GoalEngine(url, actor=ACTOR) as engine:
        for n in range(3000):
            added = engine.add_client(f"Client {n}")
            prefix = added["id"][:4]
            if prefix in seen:
                first, second = seen[prefix], added
                break
            seen[prefix] = added
        else:  # pragma: no cover - 3000 draws from 65536 prefixes collide with p > 0.9999
            pytest.fail("no two clients shared a prefix")
        before = engine.fingerprint()
    result = run(url, "client", "revise", prefix, "--name", "X", "--reason", "r", code=1)
    line = result.stderr.strip()
    assert line.startswith(f"Error: client id '{prefix}' is ambiguous: ")
    assert f"{first['id'][:8]} ({first['name']})" in line
    assert f"{second['id'][:8]} ({second['name']})" in line
    assert len(result.stderr.splitlines()) == 1
    error = data(url, "client", "show", prefix, code=1)["error"]
    assert error["type"] == "AmbiguousId"
    assert sorted(c["id"] for c in error["details"]["candidates"]) == sorted(
        [first["id"], second["id"]]
    )
    assert fingerprint(url) == before


def test_json_goes_before_or_after_the_command_and_on_groups(url: str) -> None:
    alex = add_client(url)
    goal = create(url, alex["id"], "Walk after lunch")
    for args in (
        ["--json", "goal", "show", goal["id"]],
        ["goal", "--json", "show", goal["id"]],
        ["goal", "show", "--json", goal["id"]],
        ["goal", "show", goal["id"], "--json"],
    ):
        assert json.loads(run(url, *args).stdout)["id"] == goal["id"]
    assert isinstance(json.loads(run(url, "--json", "goal", "list").stdout), list)
    assert isinstance(json.loads(run(url, "--json", "goal", "history", goal["id"]).stdout), list)
    assert isinstance(json.loads(run(url, "--json", "client", "list").stdout), list)


def test_human_output_is_quiet_and_aligned(url: str) -> None:
    alex = add_client(url)
    long_goal = create(url, alex["id"], "Feel calmer")
    run(url, "goal", "chain", long_goal["id"], "Breathe twice a day")
    run(url, "goal", "scale", long_goal["id"], "7")
    lines = run(url, "goal", "list", "--client", alex["id"]).stdout.splitlines()
    header, rows = lines[0], lines[1:]
    assert header.split() == ["ID", "GOAL", "STATUS", "SCALE", "TARGET", "DUE"]
    assert len(rows) == 2
    status_column = header.index("STATUS")
    assert rows[0][status_column:].startswith("active")
    assert rows[1][status_column:].startswith("active")
    assert "▇▇▇▇▇▇▇▁▁▁ 7/10" in rows[0]
    assert "unrated" in rows[1]
    assert rows[1][10:].startswith("  1. Breathe twice a day")
