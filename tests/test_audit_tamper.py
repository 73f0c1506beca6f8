"""Tampering with real stores, using the database's own tools, is caught by `verify`.

Each test opens a store through goalengine, records a small case, closes it, then changes the
database directly (the sqlite3 module for SQLite files, psycopg for PostgreSQL) the way someone
with database access might, and checks that ``verify`` names the first broken goal and version.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import make_store_url
from goalengine import GoalEngine
from goalengine.audit.chain import content_digest, link, link_v2, owner_tag, seq_digest
from goalengine.store import SNAPSHOT_INTERVAL

KINDS = ["sqlite", "postgres"]


class Raw:
    """Direct access to a store's tables with the database's own driver (no goalengine code)."""

    def __init__(self, url: str, kind: str) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.conn: Any = sqlite3.connect(url[len("sqlite:///") :])
            self.conn.row_factory = sqlite3.Row
            self.events, self.nid, self.p = "stored_events", "rowid", ""
        else:
            import psycopg
            from psycopg.rows import dict_row

            base, schema = url.split("?schema=")
            self.conn = psycopg.connect(base, row_factory=dict_row)
            self.p = f'"{schema}".'
            self.events, self.nid = f"{self.p}goalengine_events", "notification_id"

    def q(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        sql = sql.replace("{p}", self.p)
        if self.kind == "postgres":
            sql = sql.replace("?", "%s")
        cur = self.conn.execute(sql, params)
        try:
            return [dict(r) for r in cur.fetchall()]
        except Exception:  # statements without rows
            return []

    def oid(self, goal_id: str) -> Any:
        return uuid.UUID(goal_id).hex if self.kind == "sqlite" else uuid.UUID(goal_id)

    def event(self, goal_id: str, version: int) -> dict[str, Any]:
        rows = self.q(
            f"SELECT {self.nid} AS nid, topic, state FROM {self.events} "
            "WHERE originator_id = ? AND originator_version = ?",
            (self.oid(goal_id), version),
        )
        return rows[0]

    def set_state(self, goal_id: str, version: int, state: bytes) -> None:
        self.q(
            f"UPDATE {self.events} SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, self.oid(goal_id), version),
        )

    def commit(self) -> None:
        self.conn.commit()
        self.conn.close()


def _edited(state: bytes) -> bytes:
    data = json.loads(state)
    data["value"] = (data["value"] + 3) % 11
    return json.dumps(data).encode()


@pytest.fixture(params=KINDS)
def case(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """A store with a client, two goals and some ratings; the engine is closed before tampering."""
    kind = str(request.param)
    url = make_store_url(kind, tmp_path)
    with GoalEngine(url, actor="therapist:lee") as e:
        client = e.add_client("Alex", values=["being a present parent"])
        first = e.create_goal(
            client["id"],
            "Walk after lunch",
            horizon="short",
            kind="process",
            domains=["behavioral"],
        )
        second = e.create_goal(
            client["id"], "Call a friend", horizon="short", kind="process", domains=["emotional"]
        )
        for value in (2, 4, 5, 7):
            e.scale(first["id"], value)
            e.scale(second["id"], 10 - value)
        checkpoint = e.checkpoint()["checkpoint"]
        e.scale(first["id"], 8)
        e.scale(second["id"], 1)
        report = e.verify(checkpoints=[checkpoint])
        assert report["ok"], report["problems"]
    return {
        "url": url,
        "kind": kind,
        "first": first["id"],
        "second": second["id"],
        "cp": checkpoint,
    }


def verify(url: str, *checkpoints: str, read_models: bool = True) -> dict[str, Any]:
    """Both phases, as `audit verify` runs them (``read_models=False``: the chain alone)."""
    with GoalEngine(url, actor="auditor:kim") as e:
        return e.verify(checkpoints=list(checkpoints), read_models=read_models)


def test_an_edited_event_is_caught(case: dict[str, Any]) -> None:
    raw = Raw(case["url"], case["kind"])
    raw.set_state(case["first"], 3, _edited(raw.event(case["first"], 3)["state"]))
    raw.commit()
    report = verify(case["url"])
    assert not report["ok"]
    first = report["first_problem"]
    assert (first["kind"], first["aggregate_id"], first["version"]) == ("edited", case["first"], 3)
    assert "was edited" in first["message"]


def test_a_deleted_event_is_caught(case: dict[str, Any]) -> None:
    raw = Raw(case["url"], case["kind"])
    raw.q(
        f"DELETE FROM {raw.events} WHERE originator_id = ? AND originator_version = ?",
        (raw.oid(case["second"]), 2),
    )
    raw.commit()
    report = verify(case["url"])
    first = report["first_problem"]
    assert not report["ok"]
    assert (first["kind"], first["aggregate_id"], first["version"]) == (
        "deleted",
        case["second"],
        2,
    )


def test_two_swapped_events_are_caught(case: dict[str, Any]) -> None:
    raw = Raw(case["url"], case["kind"])
    a, b = raw.event(case["first"], 2)["state"], raw.event(case["first"], 3)["state"]
    assert a != b
    raw.set_state(case["first"], 2, b)
    raw.set_state(case["first"], 3, a)
    raw.commit()
    report = verify(case["url"])
    first = report["first_problem"]
    assert (first["aggregate_id"], first["version"]) == (case["first"], 2)
    assert first["kind"] == "edited"


def test_two_events_swapped_between_goals_are_caught(case: dict[str, Any]) -> None:
    """Swapping whole rows' places in the log (their notification ids) is caught too."""
    raw = Raw(case["url"], case["kind"])
    x, y = raw.event(case["first"], 2)["nid"], raw.event(case["second"], 2)["nid"]
    raw.q(f"UPDATE {raw.events} SET {raw.nid} = ? WHERE {raw.nid} = ?", (-1, x))
    raw.q(f"UPDATE {raw.events} SET {raw.nid} = ? WHERE {raw.nid} = ?", (x, y))
    raw.q(f"UPDATE {raw.events} SET {raw.nid} = ? WHERE {raw.nid} = ?", (y, -1))
    raw.commit()
    report = verify(case["url"])
    first = report["first_problem"]
    assert first["kind"] == "moved"
    assert (first["aggregate_id"], first["version"]) == (case["first"], 2)


def test_an_inserted_event_is_caught(case: dict[str, Any]) -> None:
    raw = Raw(case["url"], case["kind"])
    last = raw.event(case["first"], 6)
    raw.q(
        f"INSERT INTO {raw.events} (originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?)",
        (raw.oid(case["first"]), 7, last["topic"], _edited(last["state"])),
    )
    raw.commit()
    report = verify(case["url"])
    first = report["first_problem"]
    assert (first["kind"], first["aggregate_id"], first["version"]) == (
        "inserted",
        case["first"],
        7,
    )


def test_a_truncated_tail_of_events_is_caught(case: dict[str, Any]) -> None:
    raw = Raw(case["url"], case["kind"])
    top = raw.q(f"SELECT MAX({raw.nid}) AS n FROM {raw.events}")[0]["n"]
    raw.q(f"DELETE FROM {raw.events} WHERE {raw.nid} > ?", (top - 2,))
    raw.commit()
    report = verify(case["url"])
    assert not report["ok"]
    assert report["first_problem"]["kind"] == "deleted"
    assert [p["kind"] for p in report["problems"]] == ["deleted", "deleted", "read_model"]


def test_a_rollback_of_events_and_chain_is_caught_by_a_checkpoint(case: dict[str, Any]) -> None:
    """Remove the last events *and* their chain rows: the chain is consistent, the checkpoint
    taken later is not."""
    with GoalEngine(case["url"]) as e:
        late = e.checkpoint()["checkpoint"]
    raw = Raw(case["url"], case["kind"])
    top = raw.q(f"SELECT MAX({raw.nid}) AS n FROM {raw.events}")[0]["n"]
    raw.q(f"DELETE FROM {raw.events} WHERE {raw.nid} > ?", (top - 2,))
    raw.q("DELETE FROM {p}goalengine_chain WHERE notification_id > ?", (top - 2,))
    raw.commit()
    chain_only = verify(case["url"], read_models=False)
    assert chain_only["ok"], "without a checkpoint a clean cut is indistinguishable in the chain"
    # … but the read models still hold the rows of the events cut off.
    assert verify(case["url"])["read_models"]["differ"] > 0
    report = verify(case["url"], late)
    assert not report["ok"]
    assert report["first_problem"]["kind"] == "checkpoint"
    assert "beyond the end of the chain" in report["first_problem"]["message"]
    assert report["checkpoints"] == [{"checkpoint": late, "ok": False}]


def test_an_edit_with_every_link_recomputed_is_caught_by_an_earlier_checkpoint(
    case: dict[str, Any],
) -> None:
    """The attacker edits an event and recomputes its digest, every later link and the whole
    sequence (following docs/audit.md): the chain is self-consistent, the checkpoint is not."""
    raw = Raw(case["url"], case["kind"])
    raw.set_state(case["first"], 2, _edited(raw.event(case["first"], 2)["state"]))
    salts = {
        r["owner"]: bytes.fromhex(r["salt"]) for r in raw.q("SELECT * FROM {p}goalengine_salts")
    }
    chain = raw.q("SELECT * FROM {p}goalengine_chain ORDER BY seq")
    states = {
        int(r["nid"]): bytes(r["state"])
        for r in raw.q(f"SELECT {raw.nid} AS nid, state FROM {raw.events}")
    }
    v2_from = int(
        raw.q("SELECT value FROM {p}goalengine_meta WHERE key = 'chain_link_v2_from'")[0]["value"]
    )
    links: dict[str, str] = {}
    digest = "0" * 64
    for r in chain:
        salt = salts[r["owner"]]
        content = content_digest(salt, states[int(r["notification_id"])])
        fields = (
            links.get(r["originator_id"], "0" * 64),
            r["originator_id"],
            int(r["originator_version"]),
            r["topic"],
            r["recorded_at"],
            content,
        )
        rule2 = int(r["seq"]) >= v2_from
        lk = link_v2(*fields, owner_tag(salt)) if rule2 else link(*fields)
        links[r["originator_id"]] = lk
        digest = seq_digest(digest, int(r["seq"]), lk)
        raw.q(
            "UPDATE {p}goalengine_chain SET content = ?, link = ?, digest = ? WHERE seq = ?",
            (content, lk, digest, int(r["seq"])),
        )
    raw.commit()
    assert verify(case["url"], read_models=False)["ok"], "a full recomputation is self-consistent"
    assert verify(case["url"])["read_models"]["differ"] == 1  # the edited rating's row
    report = verify(case["url"], case["cp"])
    assert not report["ok"]
    first = report["first_problem"]
    assert first["kind"] == "checkpoint"
    assert "no longer hash to the checkpoint" in first["message"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_edited_snapshot_is_caught(kind: str, tmp_path: Path) -> None:
    url = make_store_url(kind, tmp_path)
    with GoalEngine(url, actor="therapist:lee") as e:
        client = e.add_client("Alex")
        goal = e.create_goal(
            client["id"], "Walk", horizon="short", kind="process", domains=["behavioral"]
        )
        # One snapshot: the goal's history ends between the first and the second interval.
        for i in range(SNAPSHOT_INTERVAL + 10):
            e.scale(goal["id"], i % 11)
        assert e.verify()["snapshots_checked"] == 1
    raw = Raw(url, kind)
    table = "stored_snapshots" if kind == "sqlite" else f"{raw.p}goalengine_snapshots"
    (row,) = raw.q(f"SELECT state FROM {table}")
    data = json.loads(bytes(row["state"]))
    data["state"]["status"] = {"_type_": "goalengine.Status", "_data_": "achieved"}
    raw.q(f"UPDATE {table} SET state = ?", (json.dumps(data).encode(),))
    raw.commit()
    with GoalEngine(url) as e:
        report = e.verify()
    first = report["first_problem"]
    assert (first["kind"], first["aggregate_id"], first["version"]) == (
        "snapshot",
        goal["id"],
        SNAPSHOT_INTERVAL,
    )
