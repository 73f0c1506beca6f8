"""``audit verify``: re-derive every link, the sequence and every snapshot from the events.

Every function takes the engine's :class:`~goalengine.store.Store`; reads stream the log in
pages (never the whole store in memory).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification

from goalengine.audit.chain import (
    CHAIN_TABLE,
    LINK_V2_KEY,
    ZERO,
    inner_link,
    keyed,
    link,
    outer_link,
    owner_tag,
    recorded_at,
    seq_digest,
)
from goalengine.audit.checkpoints import head, parse_checkpoint, salts
from goalengine.audit.feed import PagedNotifications, aggregate_type, chain_rows, notifications
from goalengine.audit.snapshots import SnapshotCheck
from goalengine.results.audit import ReadModelCheck, VerifyReport
from goalengine.store import Store

MAX_PROBLEMS = 100
Progress = Callable[[int, int], None]


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


_NO_LINK = (0, ZERO)


_TIMESTAMP = re.compile(rb'"timestamp":\{"_type_":"datetime_iso","_data_":"([^"]+)"\}')


class Verifier:
    """One pass over the chain and the events, in recording order (see :func:`verify`)."""

    def __init__(self, store: Store, checkpoints: Sequence[tuple[int, str]]) -> None:
        self.store = store
        self.mapper = store.app.mapper
        self.report = _Report()
        self.salts = salts(store)
        self.keyed = {owner: keyed(salt) for owner, salt in self.salts.items()}
        self.tags = {owner: owner_tag(salt) for owner, salt in self.salts.items()}
        meta = {
            r["key"]: r["value"] for r in store.query("SELECT key, value FROM {p}goalengine_meta")
        }
        self.meta = meta
        self.v2_from = int(meta[LINK_V2_KEY]) if LINK_V2_KEY in meta else None
        #: Owners whose erasure the chain records (their tag, from the record): the only reason
        #: content may go unchecked.
        self.erased = erasures(store)
        for owner, tag in self.erased.items():
            self.tags.setdefault(owner, tag)
        #: The owner of each aggregate as its own events give it (a goal: its client).
        self.owners: dict[str, str] = {}
        self.unchecked: dict[str, int] = {}
        self.missing_salt: dict[str, int] = {}
        self.snaps = SnapshotCheck(store)
        # The aggregates still to replay for their snapshots, and their snapshots' versions.
        self.snapshots = self.snaps.versions
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
        self.aggregates: set[str] = set()
        self.ids: dict[Any, str] = {}  # UUID → its text, converted once per aggregate

    # the merge of the two streams ------------------------------------------------------------

    def run(self, progress: Progress | None) -> None:
        store, recorder = self.store, self.store.app.recorder
        top, _, _ = head(store)
        top_nid = 0
        done = 0
        after = 0
        notifications = PagedNotifications(recorder)
        while True:
            rows = chain_rows(store, "seq <= ?", (top,), after)
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
        owner = r["owner"]
        # The owner the events themselves give (a client's own id; a goal's client).
        derived = self.derived_owner(oid, version, topic, n)
        if derived is not None and derived != owner and oid not in self.broken:
            self.broken.add(oid)
            self.problem(
                "owner",
                f"{aggregate_type(topic)} {oid[:8]} version {version} (position {seq}): the chain "
                "names another owner than its events do: the chain was edited",
                r,
                n,
            )
        # Content: the salted digest of the bytes actually stored.
        keyed = self.keyed.get(owner)
        if keyed is None:
            content = r["content"]  # no salt: the chain still checks, the content cannot
            self.no_salt(owner, r, n)
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
        v2_from = self.v2_from
        if v2_from is not None and seq >= v2_from:
            tag = self.tags.get(owner)
            inner = inner_link(prev_link, oid, version, topic, r["recorded_at"], content)
            # Without the owner's tag nothing can bind the row to its owner: the salt problem
            # is reported, and the link is taken as stored so that the rest still checks.
            lk = r["link"] if tag is None else outer_link(inner, tag)
        else:
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

    def derived_owner(self, oid: str, version: int, topic: str, n: Notification) -> str | None:
        """The owner this event's own aggregate gives (None: it cannot be told here)."""
        kind = aggregate_type(topic)
        if kind == "client":
            return oid
        if kind != "goal":
            return ""
        found = self.owners.get(oid)
        if found is None and version == 1:
            try:
                event: Any = self.mapper.to_domain_event(n)
                found = self.owners[oid] = str(event.client_id)
            except Exception:
                return None  # reported as undecodable by the time check
        return found

    def no_salt(self, owner: str, r: dict[str, Any], n: Notification) -> None:
        """An event whose owner has no salt: unchecked content, a failure unless erased."""
        if owner in self.erased:
            self.unchecked["erased"] = self.unchecked.get("erased", 0) + 1
            return
        self.unchecked["salt missing"] = self.unchecked.get("salt missing", 0) + 1
        count = self.missing_salt.get(owner, 0)
        self.missing_salt[owner] = count + 1
        if count == 0:
            self.problem(
                "salt",
                f"the salt of owner {owner[:8] or '(store)'} is missing and the chain records no "
                "erasure of it: its events' content and owner cannot be checked (first at "
                f"position {r['seq']})",
                r,
                n,
            )

    def undecodable(self, r: dict[str, Any], n: Notification, e: BaseException) -> None:
        self.unchecked["undecodable"] = self.unchecked.get("undecodable", 0) + 1
        self.problem(
            "undecodable",
            f"{aggregate_type(n.topic)} {str(r['originator_id'])[:8]} version "
            f"{r['originator_version']} (position {r['seq']}) cannot be decoded: "
            f"{str(e).splitlines()[0] if str(e) else type(e).__name__}",
            r,
            n,
        )

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
                at = recorded_at(event.timestamp)
            except Exception as e:
                self.undecodable(r, n, e)
                return
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
            at = recorded_at(event.timestamp)
        except Exception as e:
            self.undecodable(r, n, e)
            self.snapshots.pop(oid, None)
            return
        self.time_matches(at, r, n)
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
            where = _where(int(r["seq"]), oid, version, n.topic, n.id)
            self.snaps.add(oid, version, aggregate, where)
        if version >= self.snaps.last[oid]:
            # Past its last snapshot: nothing more to compare for this aggregate.
            self.folding.pop(oid, None)
            self.snapshots.pop(oid, None)

    def compare_snapshots(self) -> None:
        """Compare the replayed states of the page with their stored snapshots."""
        for message, where in self.snaps.compare():
            self.report.add("snapshot", message, **where)


def _read_model_phase(store: Store, v: Verifier) -> ReadModelCheck:
    """The second phase: the read-model rows equal what a rebuild gives (nothing written)."""
    from goalengine.readmodels.rebuild import compare

    started = time.perf_counter()
    try:
        found = compare(store)
    except Exception as e:  # an event the projection cannot take: the chain phase names it
        v.report.add(
            "read_model",
            "read models: cannot be compared with a rebuild "
            f"({str(e).splitlines()[0] if str(e) else type(e).__name__})",
        )
        return {"ok": False, "rows": 0, "differ": 0, "tables": {}, "examples": [], "rate": None}
    seconds = time.perf_counter() - started
    if found["differ"]:
        n = found["differ"]
        v.report.add(
            "read_model",
            f"read models: {n} row{'s' if n != 1 else ''} differ{'s' if n == 1 else ''} — run `goalengine admin rebuild`",
            tables=found["tables"],
        )
    return {
        "ok": found["differ"] == 0,
        "rows": found["rows"],
        "differ": found["differ"],
        "tables": found["tables"],
        "examples": found["examples"],
        "rate": round(found["events"] / seconds) if seconds > 0 else None,
    }


def erasures(store: Store) -> dict[str, str]:
    """The owners whose erasure the chain records → their owner tag (from the records)."""
    from goalengine.audit.erasure import Erasure

    found: dict[str, str] = {}
    rows = store.query(
        f"SELECT notification_id FROM {{p}}{CHAIN_TABLE} WHERE topic LIKE ? ORDER BY seq",
        ("%:Erasure.%",),
    )
    recorder = store.app.recorder
    for r in rows:
        nid = int(r["notification_id"])
        for n in notifications(recorder, nid, nid):
            try:
                event: Any = store.app.mapper.to_domain_event(n)
            except Exception:
                continue  # an undecodable record is reported by the pass, and gives no reason
            if isinstance(event, Erasure.Recorded):
                found[str(event.owner)] = str(event.owner_tag)
    return found


def verify(
    store: Store,
    checkpoints: Sequence[str] = (),
    key: bytes | None = None,
    progress: Progress | None = None,
    *,
    read_models: bool = False,
) -> VerifyReport:
    """Check every aggregate's chain, the sequence, every snapshot and the given checkpoints.

    Returns a report: ``ok``, counts, ``head`` (the checkpoint now), ``problems`` (the first
    :data:`MAX_PROBLEMS`, in recording order) and ``first_problem``.
    """
    parsed = [parse_checkpoint(c, key) for c in checkpoints]
    v = Verifier(store, parsed)
    started = time.perf_counter()
    v.run(progress)
    chain_seconds = time.perf_counter() - started
    phase = _read_model_phase(store, v) if read_models else None
    pos, digest, _ = head(store)
    meta = v.meta
    problems = v.report.problems
    unchecked = sum(v.unchecked.values())
    return {
        "ok": v.report.total == 0,
        "events": v.events,
        "aggregates": len(v.aggregates),
        "snapshots_checked": v.snaps.checked,
        "unreadable": unchecked,
        "unchecked": {
            "events": unchecked,
            "reasons": dict(sorted(v.unchecked.items())),
            "erased_owners": sorted(v.erased),
            "owners_without_salt": sorted(v.missing_salt),
        },
        "head": f"{pos}:{digest}",
        "checkpoints": [
            {"checkpoint": f"{p}:{d}", "ok": v.checked.get(p, False)} for p, d in parsed
        ],
        "chain_backfilled_at": meta.get("chain_backfilled_at"),
        "chain_rate": round(v.events / chain_seconds) if chain_seconds > 0 else None,
        "read_models": phase,
        "problem_count": v.report.total,
        "first_problem": problems[0] if problems else None,
        "problems": problems,
    }
