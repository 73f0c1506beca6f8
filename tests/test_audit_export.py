"""Exports and offline replay: the file alone rebuilds every state the live store shows.

Replay uses no store: the export is read, verified and folded with the aggregates' own ``apply``.
The equality is checked for every goal at every version (replaying the file as of the moment each
version was recorded), on a realistic case, the demo store, and hypothesis-generated stores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalengine import Conflict, GoalEngine, GoalEngineError, InvalidInput, NotFound
from goalengine.audit import offline
from goalengine.errors import IntegrityFailure


def _realistic(engine: GoalEngine) -> None:
    sam = engine.add_client("Sam", values=["friendship", "being a present parent"])
    social = engine.create_goal(
        sam["id"],
        "Build a social life I enjoy",
        horizon="long",
        kind="outcome",
        domains=["behavioral", "emotional"],
        values=["friendship"],
        anchor_low="I avoid every gathering",
        anchor_high="I go to gatherings and enjoy them",
    )
    steps = [
        engine.chain(social["id"], title)["id"]
        for title in ("Stay 15 minutes at a gathering", "Start one conversation")
    ]
    engine.chain(social["id"], "Share something personal", position=1)
    for week, value in enumerate((2, 2, 3, 4, 3, 5), 1):
        engine.record_session(sam["id"], on=f"2026-0{1 + week // 4}-{10 + week:02d}")
        engine.scale(social["id"], value, note=f"week {week}")
        engine.scale(steps[0], min(10, value * 2), actor="client:sam")
    engine.record_goal_review(
        social["id"], "adjust", value_alignment=7, note="closer to what matters"
    )
    engine.revise(social["id"], reason="a clearer target", description="weekly gatherings")
    engine.achieve(steps[0], note="done three weeks in a row")
    engine.move_step(steps[1], 1)
    run = engine.create_goal(
        sam["id"], "Join the running club", horizon="short", kind="process", domains=["behavioral"]
    )
    engine.pause(run["id"], note="injury")
    engine.abandon(run["id"], reason="not a priority now")
    lee = engine.add_client("Lee")
    engine.revise_client(lee["id"], reason="preferred name", name="Leigh")
    engine.create_goal(
        lee["id"], "Sleep by 23:00", horizon="short", kind="process", domains=["behavioral"]
    )


def assert_replay_matches_live(engine: GoalEngine, path: Path) -> int:
    """Export, replay at every version of every goal, compare with the live store; → checks."""
    engine.export(path)
    data = offline.load(path)
    latest, _ = offline.replay(data)
    checks = 0
    goals = engine.list_goals(include_voided=True)
    assert goals, "nothing to compare"
    for doc in goals:
        history = engine.history(doc["id"])
        for entry in history:
            then, starts = offline.replay(data, as_of=entry["recorded_at"])
            assert starts[doc["id"]] == 1
            live = engine.get_goal(doc["id"], version=entry["version"])
            assert offline.state_of(then[doc["id"]]) == live
            checks += 1
        assert offline.state_of(latest[doc["id"]]) == engine.get_goal(doc["id"])
    assert checks == sum(doc["version"] for doc in goals)
    for c in engine.list_clients():
        replayed = offline.state_of(latest[c["id"]])
        live = engine.get_client(c["id"])
        assert replayed == {k: live[k] for k in replayed}
    return checks


def test_replay_equals_live_at_every_version_of_a_realistic_case(
    engine: GoalEngine, tmp_path: Path
) -> None:
    _realistic(engine)
    assert assert_replay_matches_live(engine, tmp_path / "case.jsonl") >= 25
    assert engine.verify()["ok"]


def test_replay_equals_live_at_every_version_of_the_demo_store(tmp_path: Path) -> None:
    from goalengine.demo import build_demo

    with GoalEngine(f"sqlite:///{tmp_path / 'demo.db'}", actor="therapist:lee") as engine:
        build_demo(engine)
        assert assert_replay_matches_live(engine, tmp_path / "demo.jsonl") > 20
        assert engine.verify()["ok"]


# -- hypothesis: any store verifies, and replays to the live states ------------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "goal",
                "long",
                "chain",
                "scale",
                "revise",
                "review",
                "pause",
                "resume",
                "achieve",
                "void",
                "session",
                "client",
                "rename",
            ]
        ),
        st.integers(0, 5),
        st.integers(0, 10),
    ),
    min_size=1,
    max_size=25,
)


def _apply(engine: GoalEngine, ops: list[tuple[str, int, int]]) -> None:
    clients = [engine.add_client("C0", values=["v"])["id"]]
    goals: list[str] = []
    for op, i, n in ops:
        goal = goals[i % len(goals)] if goals else None
        client = clients[i % len(clients)]
        try:
            if op in ("goal", "long"):
                horizon = "long" if op == "long" else "short"
                g = engine.create_goal(
                    client, f"goal {n}", horizon=horizon, kind="process", domains=["behavioral"]
                )
                goals.append(g["id"])
            elif op == "client":
                clients.append(engine.add_client(f"C{n}")["id"])
            elif op == "session":
                engine.record_session(client)
            elif op == "rename":
                engine.revise_client(client, reason="rename", name=f"Client {n}")
            elif goal is None:
                continue
            elif op == "chain":
                goals.append(engine.chain(goal, f"step {n}")["id"])
            elif op == "scale":
                engine.scale(goal, n, note=f"n{n}" if n % 2 else None)
            elif op == "revise":
                engine.revise(goal, reason="why not", title=f"goal {n}!")
            elif op == "review":
                engine.record_goal_review(goal, "keep", value_alignment=n)
            elif op == "pause":
                engine.pause(goal)
            elif op == "resume":
                engine.resume(goal)
            elif op == "achieve":
                engine.achieve(goal)
            elif op == "void":
                engine.void(goal, reason="entered in error")
        except (Conflict, InvalidInput):
            pass  # refused: nothing recorded


@settings(max_examples=25, deadline=None)
@given(ops=OPS)
def test_any_store_verifies_and_replays_to_its_live_states(
    ops: list[tuple[str, int, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("export") / "x.jsonl"
    with GoalEngine("memory://", actor="therapist:lee") as engine:
        _apply(engine, ops)
        cp = engine.checkpoint()["checkpoint"]
        report = engine.verify(checkpoints=[cp])
        assert report["ok"], report["problems"]
        if engine.list_goals(include_voided=True):
            assert_replay_matches_live(engine, path)


# -- segments and client exports -----------------------------------------------------------------


def test_a_since_export_verifies_as_a_segment(engine: GoalEngine, tmp_path: Path) -> None:
    _realistic(engine)
    feed = list(engine.audit_log())
    middle = feed[len(feed) // 2]
    manifest = engine.export(tmp_path / "seg.jsonl", since=middle["recorded_at"])
    assert manifest["positions"]["first"] == middle["seq"]
    assert manifest["complete"] is False
    assert manifest["start_links"], "aggregates already under way start from given links"
    data = offline.load(tmp_path / "seg.jsonl")
    assert data.lines[0]["seq"] == middle["seq"]
    head = engine.checkpoint()
    # The segment ends at the store's checkpoint of export time (the access record came later).
    assert manifest["end_checkpoint"] == manifest["checkpoint"]
    assert head["position"] == manifest["positions"]["last"] + 1
    # A goal under way when the segment starts cannot be rebuilt from it, and says why.
    partial = next(line["originator_id"] for line in data.lines if line["originator_version"] > 1)
    with pytest.raises(NotFound, match="whole history"):
        GoalEngine.replay(tmp_path / "seg.jsonl", ref=partial)


def test_a_client_export_rebuilds_that_clients_goals(engine: GoalEngine, tmp_path: Path) -> None:
    _realistic(engine)
    sam = next(c for c in engine.list_clients() if c["name"] == "Sam")
    manifest = engine.export(tmp_path / "sam.jsonl", client=sam["id"])
    data = offline.load(tmp_path / "sam.jsonl")
    assert {line["owner"] for line in data.lines} == {sam["id"]}
    assert manifest["counts"]["clients"] == 1
    for goal in engine.list_goals(client=sam["id"], include_voided=True):
        replayed = GoalEngine.replay(tmp_path / "sam.jsonl", ref=goal["id"][:8])
        assert replayed == engine.get_goal(goal["id"])
    summary = GoalEngine.replay(tmp_path / "sam.jsonl")
    assert summary["verified"] is True
    assert len(summary["goals"]) == manifest["counts"]["goals"]
    other = next(c for c in engine.list_clients() if c["name"] == "Leigh")
    with pytest.raises(NotFound):
        GoalEngine.replay(tmp_path / "sam.jsonl", ref=other["id"])


def test_replay_as_of_and_checkpoints(engine: GoalEngine, tmp_path: Path) -> None:
    _realistic(engine)
    cp = engine.checkpoint(key=b"k")["checkpoint"]
    engine.export(tmp_path / "all.jsonl")
    goal = engine.list_goals()[0]
    first = engine.history(goal["id"])[0]["recorded_at"]
    then = GoalEngine.replay(tmp_path / "all.jsonl", ref=goal["id"], as_of=first)
    assert then == engine.get_goal(goal["id"], version=1)
    with pytest.raises(NotFound, match="did not exist yet"):
        GoalEngine.replay(tmp_path / "all.jsonl", ref=goal["id"], as_of="2001-01-01")
    ok = GoalEngine.replay(tmp_path / "all.jsonl", checkpoints=[cp], key=b"k")
    assert ok["verified"]
    pos = int(cp.split(":")[0])
    with pytest.raises(GoalEngineError, match="does not hash to the checkpoint") as info:
        GoalEngine.replay(tmp_path / "all.jsonl", checkpoints=[f"{pos - 1}:{'a' * 64}"])
    assert info.value.exit_code == 1


# -- bad export files: a clear message naming the line; nothing written ---------------------------


@pytest.fixture
def exported(engine: GoalEngine, tmp_path: Path) -> Path:
    _realistic(engine)
    path = tmp_path / "x.jsonl"
    engine.export(path)
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _rewrite(path: Path, lines: list[str]) -> Path:
    bad = path.with_name("bad.jsonl")
    bad.write_text("".join(lines), encoding="utf-8")
    return bad


def _edit_state(line: str) -> str:
    """Change what an event says (its stored state), leaving its links as they were."""
    obj = json.loads(line)
    state = json.loads(obj["state"])
    state["note"] = "changed afterwards"
    obj["state"] = json.dumps(state)
    return json.dumps(obj) + "\n"


def _edit(line: str, **changes: Any) -> str:
    obj = json.loads(line)
    obj.update(changes)
    return json.dumps(obj) + "\n"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda ls: ls[:-1], "access record .* is missing"),
        (lambda ls: [*ls[:-2], ls[-1]], "does not come right after"),
        (lambda ls: [*ls[:-1], ls[-1][:40]], "line 2[0-9]|truncated|cut short"),
        (lambda ls: [ls[0], *ls[2:]], "line 2: .* does not start from|first line"),
        (lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], "line 2"),
        (lambda ls: [ls[0], "not json\n", *ls[1:]], "line 2: not a JSON object"),
        (lambda ls: [*ls[:5], _edit_state(ls[5]), *ls[6:]], "line 6: .* was edited"),
        (
            lambda ls: [_edit(ls[0], manifest={"format": "other"}), *ls[1:]],
            "line 1: not a goalengine",
        ),
        (lambda ls: [], "empty"),
        (lambda ls: [ls[0], _edit(ls[1], seq="x"), *ls[2:]], "line 2: seq"),
        (lambda ls: [ls[0], _edit(ls[1], topic="os:system"), *ls[2:]], "line 2: topic"),
    ],
)
def test_a_damaged_export_is_refused_naming_the_line(
    exported: Path, damage: Any, message: str
) -> None:
    bad = _rewrite(exported, damage(_lines(exported)))
    with pytest.raises(GoalEngineError, match=message) as info:
        GoalEngine.replay(bad)
    assert str(bad) in info.value.message
    # A defect in the content is an integrity failure (1); a file that is no export, usage (2).
    usage = "not a goalengine" in message or message == "empty"
    assert info.value.exit_code == (2 if usage else 1)
    assert isinstance(info.value, InvalidInput if usage else IntegrityFailure)


def test_a_manifest_that_does_not_match_the_lines_is_refused(exported: Path) -> None:
    lines = _lines(exported)
    manifest = json.loads(lines[0])["manifest"]
    manifest["time_range"]["first"] = "2001-01-01T00:00:00.000000+00:00"
    bad = _rewrite(exported, [json.dumps({"manifest": manifest}) + "\n", *lines[1:]])
    with pytest.raises(IntegrityFailure, match="time range"):
        GoalEngine.replay(bad)


def test_a_failed_export_writes_nothing(engine: GoalEngine, tmp_path: Path, refuses: Any) -> None:
    _realistic(engine)
    refuses(engine, InvalidInput, engine.export, tmp_path / "missing" / "x.jsonl")
    refuses(engine, InvalidInput, engine.export, tmp_path)
    refuses(engine, NotFound, engine.export, tmp_path / "x.jsonl", client="abcd0000")
    refuses(engine, InvalidInput, engine.export, tmp_path / "x.jsonl", since="tomorrowish")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".jsonl") == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]
