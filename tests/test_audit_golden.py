"""The golden store: a store written by goalengine 0.1.0 must load and answer the same, forever.

``tests/golden/golden-v1.sqlite`` and ``expected-v1.json`` were written once by
``tests/golden/make_golden.py`` and committed; these tests never regenerate them. They open a copy
with the current code and compare every history, every goal at every version, every client as of
each of its versions, the feed, the access log and the chain. A change to an event's shape must
come with an upcaster (``class_version`` + ``upcast_vN_vN+1``) so that this keeps passing.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goalengine import GoalEngine
from goalengine.aggregates import Client, Goal
from goalengine.audit import offline
from goalengine.audit.access import AuditAccess
from goalengine.store import FORMAT_VERSION
from golden import v1_shapes as v1

GOLDEN = Path(__file__).resolve().parent / "golden"
EXPECTED: dict[str, Any] = json.loads((GOLDEN / "expected-v1.json").read_text(encoding="utf-8"))


def _v1_goal_at(goal_id: str, version: int) -> dict[str, Any] | None:
    """The full 0.1.0 state of a goal at a version (the golden file has every version)."""
    versions = EXPECTED["goals"].get(goal_id, {}).get("versions", [])
    return next((s for s in versions if s["version"] == version), None)


def _history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v1.history_entry(e) for e in entries]


@pytest.fixture
def golden(tmp_path: Path) -> Iterator[GoalEngine]:
    """A copy of the golden store (opening may add tables; the committed file stays as it is)."""
    shutil.copy(GOLDEN / "golden-v1.sqlite", tmp_path / "golden.db")
    with GoalEngine(f"sqlite:///{tmp_path / 'golden.db'}", actor="auditor:kim") as engine:
        yield engine


def test_the_golden_store_verifies_against_its_checkpoint(golden: GoalEngine) -> None:
    report = golden.verify(checkpoints=[EXPECTED["checkpoint"]])
    assert report["ok"], report["problems"]
    assert report["head"] == EXPECTED["checkpoint"]
    # Written at format 2; opening it upgraded it (the read models were rebuilt).
    assert EXPECTED["format"] == 2
    assert golden.store_info()["format"] == FORMAT_VERSION


def test_every_goal_history_and_every_version_is_reproduced(golden: GoalEngine) -> None:
    assert {g["id"] for g in golden.list_goals(include_voided=True)} == set(EXPECTED["goals"])
    for goal_id, want in EXPECTED["goals"].items():
        assert golden.history(goal_id) == _history(want["history"])
        for state in want["versions"]:
            assert golden.get_goal(goal_id, version=state["version"]) == v1.goal(state)
        for entry, state in zip(want["history"], want["versions"], strict=True):
            assert golden.get_goal(goal_id, as_of=entry["recorded_at"]) == v1.goal(state)


def test_every_client_is_reproduced(golden: GoalEngine) -> None:
    assert {c["id"] for c in golden.list_clients()} == set(EXPECTED["clients"])
    for client_id, want in EXPECTED["clients"].items():
        assert golden.client_history(client_id) == _history(want["history"])
        assert v1.matches(golden.get_client(client_id), v1.client(want["now"], _v1_goal_at))
        for entry, state in zip(want["history"], want["as_of"], strict=True):
            got = golden.get_client(client_id, as_of=entry["recorded_at"])
            assert v1.matches(got, v1.client(state, _v1_goal_at)), (client_id, entry["version"])


def test_the_feed_and_access_log_are_reproduced(golden: GoalEngine) -> None:
    assert list(golden.audit_log()) == _history(EXPECTED["feed"])
    assert list(golden.audit_log(access=True)) == _history(EXPECTED["access"])


def test_an_export_of_the_golden_store_replays_to_the_same_states(
    golden: GoalEngine, tmp_path: Path
) -> None:
    golden.export(tmp_path / "golden.jsonl")
    data = offline.load(tmp_path / "golden.jsonl")
    aggregates, _ = offline.replay(data)
    for goal_id, want in EXPECTED["goals"].items():
        assert offline.state_of(aggregates[goal_id]) == v1.goal(want["versions"][-1])


def test_old_events_pass_through_upcasters(
    golden: GoalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later version of an event class upcasts the golden v1 events on load (the mechanism
    the evolution policy relies on, shown with a hypothetical Scaled v2 that renames `note`)."""

    def upcast_v1_v2(state: dict[str, Any]) -> dict[str, Any]:
        state["note"] = f"[v1] {state['note']}" if state["note"] else state["note"]
        return state

    monkeypatch.setattr(Goal.Scaled, "class_version", 2, raising=False)
    monkeypatch.setattr(Goal.Scaled, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)
    goal_id = next(
        g
        for g, want in EXPECTED["goals"].items()
        if any(e["event"] == "Scaled" and e["note"] for e in want["history"])
    )
    notes = [e["note"] for e in golden.history(goal_id) if e["event"] == "Scaled"]
    assert notes
    assert all(n is None or n.startswith("[v1] ") for n in notes)


def _event_classes() -> list[type]:
    out = []
    for aggregate in (Goal, Client, AuditAccess):
        for value in vars(aggregate).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value):
                out.append(value)
    return out


@pytest.mark.parametrize("event", _event_classes(), ids=lambda e: e.__qualname__)
def test_every_event_class_has_a_version_and_its_upcasters(event: type) -> None:
    version = getattr(event, "class_version", 1)
    assert isinstance(version, int)
    assert version >= 1
    for n in range(1, version):
        assert callable(getattr(event, f"upcast_v{n}_v{n + 1}", None)), (
            f"{event.__qualname__} is at version {version} but has no upcast_v{n}_v{n + 1}"
        )
