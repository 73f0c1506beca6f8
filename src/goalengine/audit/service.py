"""The auditor's operations on an open store: past states, the feed, checkpoints, verify, export.

:class:`goalengine.GoalEngine` delegates here; every function takes the engine's
:class:`~goalengine.store.Store`. Reads stream the log in pages (never the whole store in memory).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Notification, StoredEvent

from goalengine.audit.chain import (
    CHAIN_TABLE,
    COLUMNS,
    SALT_TABLE,
    ZERO,
    keyed,
    link,
    recorded_at,
    seq_digest,
    sign,
)
from goalengine.errors import InvalidInput, NotFound, StoreError
from goalengine.store import Store
from goalengine.when import parse_when

PAGE = 1000
EXPORT_FORMAT = "goalengine-export/1"
MAX_PROBLEMS = 100
Progress = Callable[[int, int], None]


# -- time ---------------------------------------------------------------------------------------


# -- any past state -----------------------------------------------------------------------------


def version_at(store: Store, aggregate_id: UUID, when: datetime) -> int | None:
    """The aggregate's last version recorded at or before ``when`` (None: it did not exist)."""
    rows = store.query(
        f"SELECT MAX(originator_version) AS v FROM {{p}}{CHAIN_TABLE} "
        "WHERE originator_id = ? AND recorded_at <= ?",
        (str(aggregate_id), recorded_at(when)),
    )
    v = rows[0]["v"] if rows else None
    return None if v is None else int(v)


def first_recorded(store: Store, aggregate_id: UUID) -> str | None:
    rows = store.query(
        f"SELECT recorded_at FROM {{p}}{CHAIN_TABLE} WHERE originator_id = ? "
        "AND originator_version = 1",
        (str(aggregate_id),),
    )
    return str(rows[0]["recorded_at"]) if rows else None


def resolve_version(
    store: Store, aggregate_id: UUID, what: str, when: datetime | date | str
) -> int:
    """The version of ``aggregate_id`` current at ``when``; NotFound before it existed."""
    moment = parse_when(when, end_of_day=True, what="--as-of")
    version = version_at(store, aggregate_id, moment)
    if version is None:
        created = first_recorded(store, aggregate_id)
        since = f"; it was recorded first at {created}" if created else ""
        raise NotFound(
            f"{what} {str(aggregate_id)[:8]} did not exist yet at {moment.isoformat()}{since}",
            id=str(aggregate_id),
            as_of=moment.isoformat(),
        )
    return version


# -- the store-wide feed ------------------------------------------------------------------------


def _chain_rows(
    store: Store, where: str = "", params: Sequence[Any] = (), after: int = 0
) -> list[dict[str, Any]]:
    clause = f" AND {where}" if where else ""
    return store.query(
        f"SELECT {COLUMNS} FROM {{p}}{CHAIN_TABLE} WHERE seq > ?{clause} ORDER BY seq "
        f"LIMIT {int(PAGE)}",
        (after, *params),
    )


def aggregate_type(topic: str) -> str:
    if ":Goal." in topic:
        return "goal"
    if ":Client." in topic:
        return "client"
    if ":AuditAccess." in topic:
        return "access"
    return topic.rsplit(":", 1)[-1].split(".", 1)[0].lower()


def feed(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    client: UUID | None = None,
    access: bool = False,
) -> Iterator[dict[str, Any]]:
    """The store-wide event feed in recording order, filtered; pages of :data:`PAGE` rows.

    The chain table answers the time and client filters before any event is read; events are
    then fetched by notification id and decoded one page at a time.
    """
    from goalengine.engine import _history_entry

    where, params = [], []
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(recorded_at(since))
    if until is not None:
        where.append("recorded_at <= ?")
        params.append(recorded_at(until))
    if client is not None:
        where.append("owner = ?")
        params.append(str(client))
    where.append("topic LIKE ?" if access else "topic NOT LIKE ?")
    params.append("%:AuditAccess.%")
    wanted_actor = actor.strip().lower() if actor else None
    mapper = store.app.mapper
    recorder = store.app.recorder
    after = 0
    while True:
        rows = _chain_rows(store, " AND ".join(where), params, after)
        if not rows:
            return
        after = int(rows[-1]["seq"])
        by_nid = {int(r["notification_id"]): r for r in rows}
        lo, hi = min(by_nid), max(by_nid)
        for n in _notifications(recorder, lo, hi):
            row = by_nid.get(n.id)
            if row is None:
                continue
            event: Any = mapper.to_domain_event(n)
            if wanted_actor and not _actor_matches(str(event.actor), wanted_actor):
                continue
            entry = _history_entry(event)
            yield {
                "seq": int(row["seq"]),
                "aggregate_type": aggregate_type(n.topic),
                "aggregate_id": str(n.originator_id),
                "client_id": row["owner"] or None,
                **entry,
            }


def _actor_matches(actor: str, wanted: str) -> bool:
    actor = actor.lower()
    return actor == wanted or (":" not in wanted and (actor.split(":", 1)[-1] == wanted))


def _notifications(recorder: Any, lo: int, hi: int) -> Iterator[Notification]:
    start = lo
    while start <= hi:
        page = recorder.select_notifications(start=start, limit=PAGE, stop=hi)
        if not page:
            return
        yield from page
        start = page[-1].id + 1


# -- checkpoints ----------------------------------------------------------------------------------


def head(store: Store) -> tuple[int, str, str | None]:
    rows = store.query(
        f"SELECT seq, digest, recorded_at FROM {{p}}{CHAIN_TABLE} ORDER BY seq DESC LIMIT 1"
    )
    if not rows:
        return 0, ZERO, None
    return int(rows[0]["seq"]), str(rows[0]["digest"]), str(rows[0]["recorded_at"])


def checkpoint(store: Store, key: bytes | None = None) -> dict[str, Any]:
    """The store's current position and digest (``POS:DIGEST``), signed when given a key."""
    pos, digest, at = head(store)
    text = f"{pos}:{digest}"
    out: dict[str, Any] = {
        "position": pos,
        "digest": digest,
        "recorded_at": at,
        "checkpoint": text,
        "signed": key is not None,
    }
    if key is not None:
        out["signature"] = sign(key, text)
        out["checkpoint"] = f"{text}:{out['signature']}"
    return out


def parse_checkpoint(text: str, key: bytes | None) -> tuple[int, str]:
    """``POS:DIGEST`` or ``POS:DIGEST:SIGNATURE`` → (pos, digest); checks the signature."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not parts[0].isdigit() or len(parts[1]) != 64:
        raise InvalidInput(
            f"checkpoint {text!r} is not POS:DIGEST (a position and a 64-hex-digit digest, "
            "optionally :SIGNATURE)"
        )
    try:
        bytes.fromhex(parts[1])
    except ValueError:
        raise InvalidInput(f"checkpoint {text!r}: the digest is not hexadecimal") from None
    pos, digest = int(parts[0]), parts[1].lower()
    if len(parts) == 3:
        if key is None:
            raise InvalidInput(
                f"checkpoint {text!r} is signed; give the key (--key-file or GOALENGINE_AUDIT_KEY)"
            )
        if sign(key, f"{pos}:{digest}") != parts[2].lower():
            raise InvalidInput(
                f"checkpoint {text!r} has a bad signature: it was not signed with this key, "
                "or it was altered"
            )
    return pos, digest


# -- verify -------------------------------------------------------------------------------------


class _Report:
    def __init__(self) -> None:
        self.problems: list[dict[str, Any]] = []
        self.total = 0

    def add(self, kind: str, message: str, **where: Any) -> None:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"kind": kind, "message": message, **where})


def _where(
    seq: int | None, oid: str, version: int, topic: str, notification_id: int | None = None
) -> dict[str, Any]:
    return {
        "position": seq,
        "aggregate_type": aggregate_type(topic),
        "aggregate_id": oid,
        "version": version,
        "notification_id": notification_id,
    }


def _salts(store: Store) -> dict[str, bytes]:
    return {
        r["owner"]: bytes.fromhex(r["salt"])
        for r in store.query(f"SELECT owner, salt FROM {{p}}{SALT_TABLE}")
    }


def _snapshot_index(store: Store) -> tuple[dict[str, set[int]], dict[str, Any], str | None]:
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
        key = str(oid if isinstance(oid, UUID) else UUID(str(oid)))
        index.setdefault(key, set()).add(int(r["originator_version"]))
        stored_ids[key] = oid
    return index, stored_ids, table


_NO_LINK = (0, ZERO)
_TIMESTAMP = re.compile(rb'"timestamp":\{"_type_":"datetime_iso","_data_":"([^"]+)"\}')


class Verifier:
    """One pass over the chain and the events, in recording order (see :func:`verify`)."""

    def __init__(self, store: Store, checkpoints: Sequence[tuple[int, str]]) -> None:
        self.store = store
        self.mapper = store.app.mapper
        self.report = _Report()
        self.salts = _salts(store)
        self.keyed = {owner: keyed(salt) for owner, salt in self.salts.items()}
        self.snapshots, self.snapshot_ids, self.snapshot_table = _snapshot_index(store)
        # Replayed states waiting to be compared with their snapshots, a page at a time:
        # (aggregate id, version, the state encoded as the snapshot would store it, where).
        self.pending: list[tuple[str, int, bytes, dict[str, Any]]] = []
        self.last_snapshot = {k: max(v) for k, v in self.snapshots.items()}
        self.folding: dict[str, Any] = {}
        self.links: dict[str, tuple[int, str]] = {}  # oid → (version, recomputed link)
        self.broken: set[str] = set()
        self.expected_seq = 0
        self.stored_digest = ZERO  # chain of stored digests (catches edits of the sequence)
        self.run_digest = ZERO  # recomputed from the events themselves (for checkpoints)
        self.checkpoints = dict(checkpoints)
        self.checked: dict[int, bool] = {}
        self.events = 0
        self.unreadable = 0
        self.snapshots_checked = 0
        self.aggregates: set[str] = set()
        self.ids: dict[Any, str] = {}  # UUID → its text, converted once per aggregate

    # the merge of the two streams ------------------------------------------------------------

    def run(self, progress: Progress | None) -> None:
        store, recorder = self.store, self.store.app.recorder
        top, _, _ = head(store)
        top_nid = 0
        done = 0
        after = 0
        notifications = _PagedNotifications(recorder)
        while True:
            rows = _chain_rows(store, "seq <= ?", (top,), after)
            if not rows:
                break
            after = int(rows[-1]["seq"])
            peek, row = notifications.peek, self.row
            for r in rows:
                nid = int(r["notification_id"])
                n = peek()
                # Events before this row's event that have no chain row: inserted by hand.
                while n is not None and n.id < nid:
                    notifications.i += 1
                    self.unchained(n)
                    n = peek()
                if n is not None and n.id == nid:
                    notifications.i += 1
                    row(r, n)
                else:
                    self.missing(r)
                if nid > top_nid:
                    top_nid = nid
            self.compare_snapshots()
            done += len(rows)
            if progress is not None:
                progress(done, top)
        # Anything after the head must have been chained by a concurrent writer since.
        for n in notifications.until(None):
            found = store.query(
                f"SELECT seq FROM {{p}}{CHAIN_TABLE} WHERE notification_id = ?", (n.id,)
            )
            if not found:
                self.unchained(n)
        for pos, digest in self.checkpoints.items():
            if pos not in self.checked:
                if pos == 0:
                    self.checked[0] = digest == ZERO
                    continue
                self.checked[pos] = False
                self.report.add(
                    "checkpoint",
                    f"checkpoint at position {pos} is beyond the end of the chain "
                    f"({self.expected_seq} entries): events were removed (truncated or rolled "
                    "back) since it was taken",
                    position=pos,
                )

    def unchained(self, n: Notification) -> None:
        oid = str(n.originator_id)
        self.report.add(
            "inserted",
            f"{aggregate_type(n.topic)} {oid[:8]} version {n.originator_version} is in the event "
            "log but not in the integrity chain: it was inserted outside goalengine",
            **_where(None, oid, n.originator_version, n.topic, n.id),
        )

    def missing(self, r: dict[str, Any]) -> None:
        oid, version, seq = r["originator_id"], int(r["originator_version"]), int(r["seq"])
        self.sequence(r, seq)
        self.report.add(
            "deleted",
            f"{aggregate_type(r['topic'])} {oid[:8]} version {version} (position {seq}) is in "
            "the integrity chain but missing from the event log: it was deleted or moved",
            **_where(seq, oid, version, r["topic"], int(r["notification_id"])),
        )
        self.links[oid] = (version, str(r["link"]))

    def sequence(self, r: dict[str, Any], seq: int, *, counted: bool = False) -> str:
        """Check the position and the stored sequence digest; returns the stored digest.

        ``counted``: the caller has already advanced :attr:`expected_seq` for this row."""
        if not counted:
            self.expected_seq += 1
        if seq != self.expected_seq:
            self.report.add(
                "sequence",
                f"the chain jumps from position {self.expected_seq - 1} to {seq}: "
                f"{seq - self.expected_seq} entr(y/ies) removed",
                position=seq,
            )
            self.expected_seq = seq
        stored = seq_digest(self.stored_digest, seq, r["link"])
        if stored != r["digest"]:
            self.report.add(
                "sequence",
                f"the sequence digest at position {seq} does not follow from the one before: "
                "the chain was edited",
                **_where(seq, r["originator_id"], int(r["originator_version"]), r["topic"]),
            )
        self.stored_digest = r["digest"]
        return stored

    def row(self, r: dict[str, Any], n: Notification) -> None:
        # The hot path: every check is a comparison; messages are built only for problems.
        seq, oid, version, topic = r["seq"], r["originator_id"], r["originator_version"], r["topic"]
        self.events += 1
        self.aggregates.add(oid)
        in_step = self.run_digest == self.stored_digest
        # The position and the stored sequence digest (see :meth:`sequence`, inlined).
        self.expected_seq += 1
        if seq != self.expected_seq:
            stored = self.sequence(r, seq, counted=True)
        else:
            stored_digest = r["digest"]
            stored = seq_digest(self.stored_digest, seq, r["link"])
            if stored != stored_digest:
                stored = self.sequence(r, seq, counted=True)
            self.stored_digest = stored_digest
        text_id = self.ids.get(n.originator_id)
        if text_id is None:
            text_id = self.ids[n.originator_id] = str(n.originator_id)
        if n.originator_version != version or n.topic != topic or text_id != oid:
            self.problem(
                "moved",
                f"position {seq} should hold {aggregate_type(topic)} {oid[:8]} version "
                f"{version} but the event log has {aggregate_type(n.topic)} "
                f"{str(n.originator_id)[:8]} version {n.originator_version} there: events were "
                "swapped or moved",
                r,
                n,
            )
        # Content: the salted digest of the bytes actually stored.
        keyed = self.keyed.get(r["owner"])
        if keyed is None:
            self.unreadable += 1
            content = r["content"]  # salt destroyed (erasure): the chain still checks
        else:
            h = keyed.copy()
            h.update(n.state)
            content = h.hexdigest()
            if content != r["content"] and oid not in self.broken:
                self.broken.add(oid)
                self.problem(
                    "edited",
                    f"{aggregate_type(topic)} {oid[:8]} version {version} (position {seq}) "
                    "was edited after it was recorded: its content does not match its digest",
                    r,
                    n,
                )
        # The link, from the previous recomputed link of the same aggregate.
        prev_version, prev_link = self.links.get(oid, _NO_LINK)
        if prev_version != version - 1 and oid not in self.broken:
            self.broken.add(oid)
            self.problem(
                "gap",
                f"{aggregate_type(topic)} {oid[:8]} jumps from version {prev_version} to "
                f"{version}: version(s) missing",
                r,
                n,
            )
        lk = link(prev_link, oid, version, topic, r["recorded_at"], content)
        if lk != r["link"]:
            if oid not in self.broken:
                self.broken.add(oid)
                self.problem(
                    "link",
                    f"{aggregate_type(topic)} {oid[:8]} version {version} (position {seq}): its "
                    "link does not follow from the previous one: the chain was edited",
                    r,
                    n,
                )
            self.run_digest = seq_digest(self.run_digest, seq, lk)
        elif in_step:
            self.run_digest = stored  # same link, same previous digest: same digest
        else:
            self.run_digest = seq_digest(self.run_digest, seq, lk)
        self.links[oid] = (version, lk)
        if seq in self.checkpoints:
            ok = self.checkpoints[seq] == self.run_digest
            self.checked[seq] = ok
            if not ok:
                self.report.add(
                    "checkpoint",
                    f"the first {seq} entries no longer hash to the checkpoint taken at "
                    f"position {seq}: something at or before it was changed, even if every "
                    "later link was recomputed",
                    position=seq,
                )
        if oid in self.snapshots:
            self.fold(r, n)
        else:
            self.check_time(r, n)

    def problem(self, kind: str, message: str, r: dict[str, Any], n: Notification) -> None:
        where = _where(
            int(r["seq"]), r["originator_id"], int(r["originator_version"]), n.topic, n.id
        )
        self.report.add(kind, message, **where)

    def check_time(self, r: dict[str, Any], n: Notification) -> None:
        """The event's own recording time equals the chained one (read without a full decode)."""
        found = _TIMESTAMP.search(n.state, 0, 160)
        if found is None:
            try:
                event: Any = self.mapper.to_domain_event(n)
            except Exception:
                self.unreadable += 1
                return
            at = recorded_at(event.timestamp)
        else:
            at = found.group(1).decode()
            if at != r["recorded_at"]:
                try:
                    at = recorded_at(datetime.fromisoformat(at))
                except ValueError:
                    at = ""
        self.time_matches(at, r, n)

    def time_matches(self, at: str, r: dict[str, Any], n: Notification) -> None:
        oid = r["originator_id"]
        if at != r["recorded_at"] and oid not in self.broken:
            self.broken.add(oid)
            self.problem(
                "edited",
                f"{aggregate_type(n.topic)} {oid[:8]} version {r['originator_version']}: its "
                "recording time differs from the one in the chain",
                r,
                n,
            )

    def fold(self, r: dict[str, Any], n: Notification) -> None:
        """Replay an aggregate that has snapshots, comparing each snapshot on the way."""
        oid, version = r["originator_id"], int(r["originator_version"])
        try:
            event: Any = self.mapper.to_domain_event(n)
        except Exception:
            self.unreadable += 1
            return
        self.time_matches(recorded_at(event.timestamp), r, n)
        try:
            aggregate = event.mutate(self.folding.get(oid))
        except Exception as e:
            self.problem(
                "replay",
                f"{aggregate_type(n.topic)} {oid[:8]} version {version} cannot be replayed: "
                f"{str(e).splitlines()[0] if str(e) else type(e).__name__}",
                r,
                n,
            )
            self.snapshots.pop(oid)
            return
        self.folding[oid] = aggregate
        if version in self.snapshots[oid]:
            # Encoded now (the aggregate folds on), compared with the stored snapshot at the end
            # of the page: one query for the page's snapshots instead of one each.
            transcoder: Any = self.mapper.transcoder
            state = transcoder.encode(Snapshot.take(aggregate).state)
            self.pending.append(
                (oid, version, state, _where(int(r["seq"]), oid, version, n.topic, n.id))
            )
        if version >= self.last_snapshot[oid]:
            # Past its last snapshot: nothing more to compare for this aggregate.
            self.folding.pop(oid, None)
            self.snapshots.pop(oid, None)

    def compare_snapshots(self) -> None:
        """Compare the pending replayed states with their stored snapshots."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        stored: dict[tuple[str, int], dict[str, Any]] = {}
        for i in range(0, len(pending), 100):
            batch = pending[i : i + 100]
            match = " OR ".join(["(originator_id = ? AND originator_version = ?)"] * len(batch))
            params = [x for oid, v, _, _ in batch for x in (self.snapshot_ids[oid], v)]
            for row in self.store.query(
                f"SELECT originator_id, originator_version, topic, state "
                f"FROM {self.snapshot_table} WHERE {match}",
                params,
            ):
                oid = row["originator_id"]
                key = str(oid if isinstance(oid, UUID) else UUID(str(oid)))
                stored[key, int(row["originator_version"])] = row
        for oid, version, state, where in pending:
            self.snapshot(state, stored.get((oid, version)), where)

    def snapshot(self, state: bytes, row: dict[str, Any] | None, where: dict[str, Any]) -> None:
        """Whether the stored snapshot ``row`` holds the replayed ``state`` (as encoded)."""
        oid, version = where["aggregate_id"], where["version"]
        self.snapshots_checked += 1
        if row is not None and _holds(bytes(row["state"]), state):
            return
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
                found = json.loads(transcoder.encode(snap.state))
            except Exception:
                found = None
        if found != replayed:
            self.report.add(
                "snapshot",
                f"the snapshot of {where['aggregate_type']} {oid[:8]} at version {version} "
                "differs from the state replayed from its events",
                **where,
            )


def _holds(stored: bytes, state: bytes) -> bool:
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


class _PagedNotifications:
    """The event log in notification order, read a page at a time, consumed by id."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.page: list[Notification] = []
        self.i = 0
        self.next_start = 1
        self.done = False

    def peek(self) -> Notification | None:
        """The next notification, not consumed (``self.i += 1`` consumes it)."""
        if self.i < len(self.page):
            return self.page[self.i]
        return self._peek()

    def _peek(self) -> Notification | None:
        if self.i >= len(self.page):
            if self.done:
                return None
            self.page = list(self.recorder.select_notifications(start=self.next_start, limit=PAGE))
            self.i = 0
            if not self.page:
                self.done = True
                return None
            self.next_start = self.page[-1].id + 1
        return self.page[self.i]

    def until(self, nid: int | None) -> Iterator[Notification]:
        """Consume and yield every notification with id ≤ ``nid`` (all when None)."""
        while True:
            n = self._peek()
            if n is None or (nid is not None and n.id > nid):
                return
            self.i += 1
            yield n

    def take(self, nid: int) -> Notification | None:
        n = self._peek()
        if n is not None and n.id == nid:
            self.i += 1
            return n
        return None


def verify(
    store: Store,
    checkpoints: Sequence[str] = (),
    key: bytes | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Check every aggregate's chain, the sequence, every snapshot and the given checkpoints.

    Returns a report: ``ok``, counts, ``head`` (the checkpoint now), ``problems`` (the first
    :data:`MAX_PROBLEMS`, in recording order) and ``first_problem``.
    """
    parsed = [parse_checkpoint(c, key) for c in checkpoints]
    v = Verifier(store, parsed)
    v.run(progress)
    pos, digest, _ = head(store)
    meta = {r["key"]: r["value"] for r in store.query("SELECT key, value FROM {p}goalengine_meta")}
    problems = v.report.problems
    return {
        "ok": v.report.total == 0,
        "events": v.events,
        "aggregates": len(v.aggregates),
        "snapshots_checked": v.snapshots_checked,
        "unreadable": v.unreadable,
        "head": f"{pos}:{digest}",
        "checkpoints": [
            {"checkpoint": f"{p}:{d}", "ok": v.checked.get(p, False)} for p, d in parsed
        ],
        "chain_backfilled_at": meta.get("chain_backfilled_at"),
        "problem_count": v.report.total,
        "first_problem": problems[0] if problems else None,
        "problems": problems,
    }


# -- export -------------------------------------------------------------------------------------


def export(
    store: Store,
    out: Path,
    *,
    client: UUID | None = None,
    since: datetime | None = None,
    engine_version: str,
    exported_by: str,
) -> dict[str, Any]:
    """Write the chain and its events as JSON Lines: the manifest first, then one event a line.

    The file is written beside ``out`` and renamed into place at the end, so a failed export
    leaves nothing behind. Returns the manifest.
    """
    out = Path(out)
    if out.exists() and out.is_dir():
        raise InvalidInput(f"--out {out} is a directory; give a file name")
    if not out.parent.exists():
        raise InvalidInput(f"--out {out}: directory {out.parent} does not exist")
    top, top_digest, _ = head(store)
    since_text = recorded_at(since) if since is not None else None
    owner = str(client) if client is not None else None
    salts = _salts(store)
    recorder = store.app.recorder
    links: dict[str, str] = {}
    start_links: dict[str, str] = {}
    aggregates: dict[str, str] = {}
    counts = {"events": 0, "goal": 0, "client": 0, "access": 0}
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    start_digest: str | None = None
    prev_digest = ZERO
    used_owners: set[str] = set()
    fd, tmp_name = tempfile.mkstemp(prefix=".export-", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as body:
            after = 0
            while True:
                rows = _chain_rows(store, "seq <= ?", (top,), after)
                if not rows:
                    break
                after = int(rows[-1]["seq"])
                chosen = [
                    r
                    for r in rows
                    if (owner is None or r["owner"] == owner)
                    and (since_text is None or r["recorded_at"] >= since_text)
                ]
                states: dict[int, bytes] = {}
                if chosen:
                    lo = min(int(r["notification_id"]) for r in chosen)
                    hi = max(int(r["notification_id"]) for r in chosen)
                    wanted = {int(r["notification_id"]) for r in chosen}
                    states = {
                        n.id: n.state for n in _notifications(recorder, lo, hi) if n.id in wanted
                    }
                chosen_seqs = {int(r["seq"]) for r in chosen}
                for r in rows:
                    seq, oid = int(r["seq"]), str(r["originator_id"])
                    prev_link = links.get(oid, ZERO)
                    links[oid] = str(r["link"])
                    if seq in chosen_seqs:
                        nid = int(r["notification_id"])
                        if nid not in states:
                            raise StoreError(
                                f"event at position {seq} ({oid[:8]} version "
                                f"{r['originator_version']}) is missing from the event log; "
                                "run `goalengine audit verify`"
                            )
                        if start_digest is None:
                            start_digest = prev_digest
                        if oid not in aggregates and int(r["originator_version"]) > 1:
                            start_links[oid] = prev_link
                        kind = aggregate_type(str(r["topic"]))
                        aggregates.setdefault(oid, kind)
                        counts["events"] += 1
                        line = _line(r, prev_link, prev_digest, states[nid])
                        body.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
                        used_owners.add(str(r["owner"]))
                        first = first or line
                        last = line
                    prev_digest = str(r["digest"])
        for kind in aggregates.values():
            if kind in counts:
                counts[kind] += 1
        manifest = {
            "format": EXPORT_FORMAT,
            "engine_version": engine_version,
            "exported_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "exported_by": exported_by,
            "scope": {"client": owner, "since": since_text},
            "complete": owner is None and since_text is None,
            "counts": {
                "events": counts["events"],
                "aggregates": len(aggregates),
                "goals": counts["goal"],
                "clients": counts["client"],
                "accesses": counts["access"],
            },
            "time_range": {
                "first": first["recorded_at"] if first else None,
                "last": last["recorded_at"] if last else None,
            },
            "positions": {
                "first": first["seq"] if first else None,
                "last": last["seq"] if last else None,
            },
            "start_digest": start_digest if start_digest is not None else ZERO,
            "start_links": start_links,
            "checkpoint": f"{top}:{top_digest}",
            "end_checkpoint": f"{last['seq']}:{last['digest']}" if last else f"{top}:{top_digest}",
            "salts": {o: salts[o].hex() for o in sorted(used_owners) if o in salts},
        }
        with out.open("w", encoding="utf-8") as f, tmp.open(encoding="utf-8") as body_in:
            f.write(json.dumps({"manifest": manifest}, ensure_ascii=False, sort_keys=True) + "\n")
            for chunk in iter(lambda: body_in.read(1 << 20), ""):
                f.write(chunk)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return manifest


def _line(r: dict[str, Any], prev_link: str, prev_digest: str, state: bytes) -> dict[str, Any]:
    line = {
        "seq": int(r["seq"]),
        "notification_id": int(r["notification_id"]),
        "originator_id": str(r["originator_id"]),
        "originator_version": int(r["originator_version"]),
        "topic": str(r["topic"]),
        "recorded_at": str(r["recorded_at"]),
        "owner": str(r["owner"]),
        "content": str(r["content"]),
        "prev_link": prev_link,
        "link": str(r["link"]),
        "prev_digest": prev_digest,
        "digest": str(r["digest"]),
    }
    try:
        line["state"] = state.decode("utf-8")
    except UnicodeDecodeError:
        import base64

        line["state_b64"] = base64.b64encode(state).decode()
    return line


def stored_event(oid: str, version: int, topic: str, state: bytes) -> StoredEvent:
    return StoredEvent(
        originator_id=UUID(oid), originator_version=version, topic=topic, state=state
    )


# -- the engine-facing operations (GoalEngine delegates here) -------------------------------------


def client_as_of(engine: Any, ref: Any, as_of: datetime | date | str) -> dict[str, Any]:
    """``client show --as-of``: the client then, with each goal as it stood at that moment."""
    from goalengine.engine import _tree_order
    from goalengine.values import Status

    store: Store = engine._store
    client_id = engine._resolve("clients", ref)
    moment = parse_when(as_of, end_of_day=True, what="--as-of")
    version = resolve_version(store, client_id, "client", moment)
    c = engine._client(client_id, version=version)
    state: dict[str, Any] = c.state()
    state["review_due"] = engine._review_due(c)
    docs = []
    for doc in engine.list_goals(client=client_id, include_voided=True):
        v = version_at(store, UUID(doc["id"]), moment)
        if v is None:
            continue
        row_doc = engine._row(engine._goal(doc["id"], version=v)).doc
        if row_doc["status"] != Status.VOIDED.value:
            docs.append(row_doc)
    state["goals"] = _tree_order(sorted(docs, key=lambda d: (d["created_at"], d["id"])))
    state["as_of"] = moment.isoformat()
    return state


def _resolve_any(engine: Any, ref: Any) -> tuple[str, UUID]:
    """A goal's or a client's id from a full id or a unique prefix (goals are tried first)."""
    store: Store = engine._store
    for table, kind in (("goals", "goal"), ("clients", "client")):
        try:
            oid: UUID = engine._resolve(table, ref)
        except NotFound:
            continue
        if store.ids_with_prefix(table, str(oid), limit=1):
            return kind, oid
    raise NotFound(
        f"no goal or client has an id starting with {str(ref).strip().lower()!r}", id=str(ref)
    )


def record_access(
    engine: Any, action: str, subject: str, detail: dict[str, Any], actor: Any
) -> None:
    """Record an audited read or export (an AuditAccess event, linked into the chain)."""
    from eventsourcing.persistence import PersistenceError

    from goalengine.audit.access import AuditAccess

    access = AuditAccess(action, subject, {k: v for k, v in detail.items() if v is not None}, actor)
    try:
        engine._store.app.save(access)
    except PersistenceError as e:
        raise StoreError(f"cannot record the access in {engine.store_url}: {e}") from e


def audited_history(engine: Any, ref: Any, actor: Any) -> list[dict[str, Any]]:
    kind, oid = _resolve_any(engine, ref)
    entries: list[dict[str, Any]] = (
        engine.history(oid) if kind == "goal" else engine.client_history(oid)
    )
    record_access(engine, "history", str(oid), {"type": kind, "events": len(entries)}, actor)
    return entries


def audited_show(
    engine: Any, ref: Any, version: int | None, as_of: datetime | date | str | None, actor: Any
) -> dict[str, Any]:
    kind, oid = _resolve_any(engine, ref)
    moment = None if as_of is None else parse_when(as_of, end_of_day=True, what="--as-of")
    if kind == "goal":
        state: dict[str, Any] = engine.get_goal(oid, version=version, as_of=moment)
    else:
        if version is not None:
            if version < 1:
                raise InvalidInput("versions start at 1")
            current = engine._client(oid)
            if version > current.version:
                raise NotFound(
                    f"client {str(oid)[:8]} has {current.version} version(s); there is no "
                    f"version {version}"
                )
            state = engine._client(oid, version=version).state()
        elif moment is not None:
            state = engine.get_client(oid, as_of=moment)
        else:
            state = engine.get_client(oid)
    detail = {
        "type": kind,
        "version": version,
        "as_of": moment.isoformat() if moment else None,
        "shown_version": state.get("version"),
    }
    record_access(engine, "show", str(oid), detail, actor)
    return state


def export_and_record(
    engine: Any, out: Path, client: Any, since: datetime | date | str | None, actor: Any
) -> dict[str, Any]:
    from goalengine import __version__

    client_id = None if client is None else engine._resolve("clients", client)
    moment = None if since is None else parse_when(since, end_of_day=False, what="--since")
    manifest = export(
        engine._store,
        out,
        client=client_id,
        since=moment,
        engine_version=__version__,
        exported_by=str(actor),
    )
    try:
        record_access(
            engine,
            "export",
            str(client_id) if client_id else "store",
            {
                "file": str(Path(out).resolve()),
                "events": manifest["counts"]["events"],
                "since": manifest["scope"]["since"],
                "checkpoint": manifest["checkpoint"],
            },
            actor,
        )
    except BaseException:
        Path(out).unlink(missing_ok=True)  # an export that is not logged is not handed out
        raise
    return manifest


def replay_file(
    path: Path,
    ref: str | None,
    as_of: datetime | date | str | None,
    checkpoints: Sequence[str],
    key: bytes | None,
) -> dict[str, Any]:
    """Verify an export and rebuild state from it alone (see :mod:`goalengine.audit.offline`)."""
    from goalengine.audit import offline

    parsed = [parse_checkpoint(c, key) for c in checkpoints]
    moment = None if as_of is None else parse_when(as_of, end_of_day=True, what="--as-of")
    data = offline.load(path)
    for pos, digest in parsed:
        if not offline.check_checkpoint(data, pos, digest):
            raise IntegrityFailure(
                f"{path}: position {pos} does not hash to the checkpoint {pos}:{digest[:12]}…: "
                "the export (or the store it came from) was changed since the checkpoint"
            )
    aggregates, starts = offline.replay(data, as_of=moment)
    if ref is not None:
        oid = offline.find(data, ref, aggregates, starts)
        return offline.state_of(aggregates[oid])
    goals, clients = [], []
    for aggregate in aggregates.values():
        kind = aggregate_type(f"x:{type(aggregate).__name__}.")
        if kind == "goal":
            goals.append(offline.state_of(aggregate))
        elif kind == "client":
            clients.append(offline.state_of(aggregate))
    return {
        "file": str(path),
        "verified": True,
        "manifest": data.manifest,
        "as_of": moment.isoformat() if moment else None,
        "events": len(data.lines),
        "partial": sorted(o for o, v in starts.items() if v != 1),
        "clients": clients,
        "goals": goals,
    }


class IntegrityFailure(StoreError):
    """An integrity check failed (exit 1: refused by the domain, not an environment problem)."""

    exit_code = 1
