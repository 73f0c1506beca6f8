"""The snapshots ``audit verify`` checks: which versions have one, and whether each holds the state
replayed from the events (after upcasting one stored by an older class version).

The verifier replays an aggregate that has snapshots and hands each replayed state at a snapshot
version to :class:`SnapshotCheck`, which compares them a page at a time.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from goalengine.store import Store


def snapshot_index(store: Store) -> tuple[dict[str, set[int]], dict[str, Any], str | None]:
    """The versions that have a snapshot, by aggregate; each aggregate's id as the snapshot
    table stores it (to select them back); the table's name (None: no snapshots)."""
    recorder: Any = store.app.snapshots.recorder if store.app.snapshots else None
    if recorder is None:
        return {}, {}, None
    name = recorder.events_table_name
    table = f'"{store.config.schema}"."{name}"' if store.config.kind == "postgres" else name
    index: dict[str, set[int]] = {}
    stored_ids: dict[str, Any] = {}
    for r in store.query(f"SELECT originator_id, originator_version FROM {table}"):
        oid = r["originator_id"]
        key = _text_id(oid)
        index.setdefault(key, set()).add(int(r["originator_version"]))
        stored_ids[key] = oid
    return index, stored_ids, table


def _text_id(oid: Any) -> str:
    return str(oid if isinstance(oid, UUID) else UUID(str(oid)))


class SnapshotCheck:
    """A store's snapshots, and the replayed states waiting to be compared with them.

    ``versions`` maps each aggregate id to the versions that have a snapshot (the verifier drops
    an aggregate once it is past its ``last`` one); :meth:`add` takes a replayed state,
    :meth:`compare` checks the pending ones with one query per page instead of one each.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.mapper = store.app.mapper
        self.versions, self.stored_ids, self.table = snapshot_index(store)
        self.last = {k: max(v) for k, v in self.versions.items()}
        # (aggregate id, version, the state encoded as the snapshot would store it, where).
        self.pending: list[tuple[str, int, bytes, dict[str, Any]]] = []
        self.checked = 0

    def add(self, oid: str, version: int, aggregate: Any, where: dict[str, Any]) -> None:
        """Encode ``aggregate`` now (it folds on), to compare at the end of the page."""
        transcoder: Any = self.mapper.transcoder
        state = transcoder.encode(Snapshot.take(aggregate).state)
        self.pending.append((oid, version, state, where))

    def compare(self) -> list[tuple[str, dict[str, Any]]]:
        """Compare the pending replayed states with their stored snapshots: the message and
        the place of each snapshot that differs."""
        pending, self.pending = self.pending, []
        if not pending:
            return []
        stored: dict[tuple[str, int], dict[str, Any]] = {}
        for i in range(0, len(pending), 100):
            batch = pending[i : i + 100]
            match = " OR ".join(["(originator_id = ? AND originator_version = ?)"] * len(batch))
            params = [x for oid, v, _, _ in batch for x in (self.stored_ids[oid], v)]
            for row in self.store.query(
                f"SELECT originator_id, originator_version, topic, state "
                f"FROM {self.table} WHERE {match}",
                params,
            ):
                stored[_text_id(row["originator_id"]), int(row["originator_version"])] = row
        differ = []
        for oid, version, state, where in pending:
            self.checked += 1
            if not self.matches(state, stored.get((oid, version)), oid, version):
                message = (
                    f"the snapshot of {where['aggregate_type']} {oid[:8]} at version {version} "
                    "differs from the state replayed from its events"
                )
                differ.append((message, where))
        return differ

    def matches(self, state: bytes, row: dict[str, Any] | None, oid: str, version: int) -> bool:
        """Whether the stored snapshot ``row`` holds the replayed ``state`` (as encoded)."""
        if row is not None and holds(bytes(row["state"]), state):
            return True
        transcoder: Any = self.mapper.transcoder
        replayed = json.loads(state)
        try:
            assert row is not None
            found = json.loads(bytes(row["state"]))["state"]  # as stored: plain JSON
        except Exception:
            found = None
        if found != replayed:
            try:  # stored by an older class version: compare after upcasting
                assert row is not None
                snap: Any = self.mapper.to_domain_event(
                    StoredEvent(
                        originator_id=UUID(oid),
                        originator_version=version,
                        topic=str(row["topic"]),
                        state=bytes(row["state"]),
                    )
                )
                found = json.loads(transcoder.encode(upcast_snapshot_state(snap)))
            except Exception:
                found = None
        return bool(found == replayed)


def upcast_snapshot_state(snapshot: Any) -> dict[str, Any]:
    """A stored snapshot's state as the current aggregate class keeps it: the upcasters that
    eventsourcing runs when it loads the snapshot (``upcast_vN_vN+1``), run here on its state."""
    from eventsourcing.utils import resolve_topic

    cls = resolve_topic(snapshot.topic)
    state = dict(snapshot.state)
    version = state.pop("class_version", 1)
    target = getattr(cls, "class_version", 1)
    while version < target:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    if target > 1:
        state["class_version"] = target
    return state


def holds(stored: bytes, state: bytes) -> bool:
    """Whether the stored snapshot ``stored`` is a JSON object whose ``"state"`` is exactly
    ``state`` (as encoded): ``{…,"state":STATE}``, as the store writes it, checked without
    parsing the (large) state twice. False only means "compare the decoded JSON instead"."""
    suffix = b',"state":' + state + b"}"
    if not stored.endswith(suffix):
        return False
    # The rest must be a JSON object of its own: then ``"state"`` is a top-level member (the
    # last, so the one a JSON reader keeps) and nothing in the rest can enclose it.
    try:
        head = json.loads(stored[: len(stored) - len(suffix)] + b"}")
    except ValueError:
        return False
    return isinstance(head, dict) and bool(head)
