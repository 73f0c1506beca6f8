"""The golden store with snapshots: aggregates loaded through snapshots written by goalengine 0.1.0
must answer the same, forever.

``tests/golden/golden-snapshots.sqlite`` and ``expected-snapshots.json`` were written once by
``tests/golden/make_golden_snapshots.py`` and committed; these tests never regenerate them. The store
has a client (113 events) and a long-term goal (125 events) snapshotted at versions 50 and 100, so
loading them now, and at versions 50, 51, 100 and 101, starts from a stored snapshot. A change to an
aggregate's attributes must keep those snapshots loadable (or the store upgraded) so that this keeps
passing; a change to the shape of a result goes into the v1 → current adapter
(``tests/golden/v1_shapes.py``), through which every comparison here runs.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from goalengine import GoalEngine
from goalengine.audit import offline
from goalengine.store import FORMAT_VERSION
from golden import v1_shapes as v1

GOLDEN = Path(__file__).resolve().parent / "golden"
EXPECTED: dict[str, Any] = json.loads(
    (GOLDEN / "expected-snapshots.json").read_text(encoding="utf-8")
)


def _v1_goal_at(goal_id: str, version: int) -> dict[str, Any] | None:
    """The full 0.1.0 state of a goal at a version, where the golden file saved it."""
    want = EXPECTED["goals"].get(goal_id)
    if want is None:
        return None
    if want["now"]["version"] == version:
        return dict(want["now"])
    return next((s["state"] for s in want["versions"] if s["version"] == version), None)


def _history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v1.history_entry(e) for e in entries]


@pytest.fixture
def golden(tmp_path: Path) -> Iterator[GoalEngine]:
    """A copy of the golden store (opening may add tables; the committed file stays as it is)."""
    shutil.copy(GOLDEN / "golden-snapshots.sqlite", tmp_path / "golden.db")
    with GoalEngine(f"sqlite:///{tmp_path / 'golden.db'}", actor="auditor:kim") as engine:
        yield engine


def _snapshots_in(path: Path) -> dict[str, list[int]]:
    """The versions snapshotted in a store, by aggregate id, read from eventsourcing's table."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT originator_id, originator_version FROM stored_snapshots ORDER BY 1, 2"
        ).fetchall()
    finally:
        conn.close()
    out: dict[str, list[int]] = {}
    for oid, version in rows:
        out.setdefault(str(UUID(oid)), []).append(int(version))
    return out


def test_the_golden_store_verifies_against_its_checkpoint(golden: GoalEngine) -> None:
    report = golden.verify(checkpoints=[EXPECTED["checkpoint"]])
    assert report["ok"], report["problems"]
    assert report["head"] == EXPECTED["checkpoint"]
    assert EXPECTED["format"] == 2
    assert golden.store_info()["format"] == FORMAT_VERSION


def test_the_golden_store_really_holds_its_snapshots(golden: GoalEngine, tmp_path: Path) -> None:
    found = _snapshots_in(tmp_path / "golden.db")
    assert {oid: len(v) for oid, v in found.items()} == EXPECTED["snapshots"]
    assert found == EXPECTED["snapshot_versions"]
    long_goal = max(EXPECTED["goals"], key=lambda g: len(EXPECTED["goals"][g]["history"]))
    busy_client = max(EXPECTED["clients"], key=lambda c: len(EXPECTED["clients"][c]["history"]))
    assert EXPECTED["snapshots"][long_goal] >= 2
    assert EXPECTED["snapshots"][busy_client] >= 2


def test_every_history_is_reproduced(golden: GoalEngine) -> None:
    assert {g["id"] for g in golden.list_goals(include_voided=True)} == set(EXPECTED["goals"])
    assert {c["id"] for c in golden.list_clients()} == set(EXPECTED["clients"])
    for goal_id, want in EXPECTED["goals"].items():
        assert golden.history(goal_id) == _history(want["history"])
    for client_id, want in EXPECTED["clients"].items():
        assert golden.client_history(client_id) == _history(want["history"])


def test_every_goal_at_each_saved_version_and_now_is_reproduced(golden: GoalEngine) -> None:
    for goal_id, want in EXPECTED["goals"].items():
        for saved in want["versions"]:
            got = golden.get_goal(goal_id, version=saved["version"])
            assert got == v1.goal(saved["state"]), (goal_id, saved["version"])
        assert golden.get_goal(goal_id) == v1.goal(want["now"]), goal_id


def test_every_client_as_of_each_saved_version_and_now_is_reproduced(golden: GoalEngine) -> None:
    for client_id, want in EXPECTED["clients"].items():
        for saved in want["as_of"]:
            got = golden.get_client(client_id, as_of=saved["at"])
            want_then = v1.client(saved["state"], _v1_goal_at)
            assert v1.matches(got, want_then), (client_id, saved["version"])
        assert v1.matches(golden.get_client(client_id), v1.client(want["now"], _v1_goal_at))


def test_the_goal_and_client_lists_are_reproduced(golden: GoalEngine) -> None:
    want_goals = [v1.goal_entry(g, _v1_goal_at) for g in EXPECTED["list_goals"]]
    assert v1.matches(golden.list_goals(include_voided=True), want_goals)
    want_clients = [
        v1.client_entry(c, EXPECTED["clients"][c["id"]]["now"]) for c in EXPECTED["list_clients"]
    ]
    assert golden.list_clients() == want_clients


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
        assert offline.state_of(aggregates[goal_id]) == v1.goal(want["now"]), goal_id
    for client_id, want in EXPECTED["clients"].items():
        # A replayed client is the client alone: get_client adds its goals from the read model.
        now = {
            k: v for k, v in v1.client(want["now"], _v1_goal_at).items() if k != "goals"
        }
        assert offline.state_of(aggregates[client_id]) == now, client_id
