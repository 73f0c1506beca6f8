"""The auditor's operations: the feeds, checkpoints, verify, export, audited reads, replay.

The logic lives in :mod:`goalengine.audit`; this area resolves ids, parses times, records the
access of each audited read (an ``AuditAccess`` event, chained like every other) and delegates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from goalengine.audit.access import AuditAccess
from goalengine.engine.core import ActorLike
from goalengine.engine.goal_reads import GoalReadsArea
from goalengine.engine.goals import GoalsArea
from goalengine.errors import InvalidInput, NotFound, StoreError
from goalengine.results import (
    CheckpointResult,
    ClientDetail,
    ClientState,
    ExportManifest,
    FeedEntry,
    GoalState,
    HistoryEntry,
    ReplaySummary,
    StoreEvent,
    VerifyReport,
)
from goalengine.values import Actor
from goalengine.when import parse_when


class AuditArea(GoalsArea, GoalReadsArea):
    """Audit trail reads, verification and exports (every audited read is itself recorded)."""

    def audit_log(
        self,
        *,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        actor: str | None = None,
        client: str | UUID | None = None,
        access: bool = False,
    ) -> Iterator[FeedEntry]:
        """The store-wide feed of events (``access``: of audited reads and exports), oldest
        first, streamed in pages; filters combine. To follow the store, use :meth:`events`."""
        from goalengine.audit import feed as feeds

        return feeds.feed(
            self._store,
            since=None if since is None else parse_when(since, end_of_day=False),
            until=None if until is None else parse_when(until, end_of_day=True),
            actor=actor,
            client=None if client is None else self._read.resolve("client", client),
            access=access,
        )

    def events(self, *, after: int = 0, limit: int = 1000) -> list[StoreEvent]:
        """The next ``limit`` (1 to 1000) events after store position ``after``, in store order.

        Positions (``seq``) have no gaps and are committed in order, so a consumer that keeps
        the last ``seq`` it handled and asks for what follows sees every event exactly once, in
        order, however many writers run. Audit accesses are included (``aggregate_type``
        ``access``). Each entry: ``seq``, ``aggregate_type``, ``aggregate_id``, ``client_id``,
        ``version``, ``event``, ``recorded_at``, ``actor`` and the event's own fields under
        ``data``."""
        from goalengine.audit import feed as feeds

        for name, value, low, high in (("after", after, 0, 2**62), ("limit", limit, 1, 1000)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{name} is a whole number, not {value!r}")
            if value < low or (high is not None and value > high):
                raise InvalidInput(f"{name} is {low} to {high or 'any'}, not {value}")
        return feeds.event_feed(self._store, after=after, limit=limit)

    def checkpoint(self, *, key: bytes | None = None) -> CheckpointResult:
        """The store's position and digest now (``POS:DIGEST``), HMAC-signed with ``key``."""
        from goalengine.audit import checkpoints

        return checkpoints.checkpoint(self._store, _key(key))

    def verify(
        self,
        *,
        checkpoints: Sequence[str] = (),
        key: bytes | None = None,
        progress: Callable[[int, int], None] | None = None,
        read_models: bool = True,
    ) -> VerifyReport:
        """Check the integrity chain, the sequence, every snapshot and ``checkpoints``; then, as
        a separate phase with its own rate, that the read-model rows equal what a rebuild gives
        (it costs about a rebuild's read; ``read_models=False`` checks the record alone).

        Returns a report (``ok``, counts, ``problems``, ``first_problem``, ``read_models``);
        ``progress(done, total)`` is called after each page of the chain phase.
        """
        from goalengine.audit import verify as verification

        return verification.verify(
            self._store, _checkpoints(checkpoints), _key(key), progress, read_models=read_models
        )

    def export(
        self,
        out: str | Path,
        *,
        client: str | UUID | None = None,
        since: datetime | date | str | None = None,
        from_position: int | None = None,
        actor: ActorLike = None,
    ) -> ExportManifest:
        """Write an export (JSON Lines, manifest first) of a contiguous range of positions to
        ``out`` (from ``from_position``, or the first recorded at or after ``since``, or 1, to
        the end). The export's access record is chained first, carrying the manifest's digest
        (its id); the file is renamed into place after. Returns the manifest."""
        from goalengine import __version__
        from goalengine.audit import export as exports

        client_id = None if client is None else self._read.resolve("client", client)
        moment = None if since is None else parse_when(since, end_of_day=False, what="--since")
        path = _writable(out)
        who = self._who(actor)

        def record(record_id: UUID, manifest: dict[str, Any]) -> None:
            detail = {
                "file": str(path.resolve()),
                "events": manifest["counts"]["events"],
                "since": manifest["scope"]["since"],
                "from": manifest["scope"]["from"],
                "checkpoint": manifest["checkpoint"],
                "manifest_sha256": exports.manifest_digest(manifest),
            }
            self._record_access("export", str(client_id or "store"), detail, who, id=record_id)

        try:
            return exports.export(
                self._store,
                path,
                client=client_id,
                since=moment,
                from_position=from_position,
                engine_version=__version__,
                exported_by=str(who),
                record=record,
                plugin_versions={
                    p.name: p.version for p in self.plugins.plugins() if p.status == "ok"
                },
            )
        except OSError as e:  # the disk filled up, the directory went away …
            raise StoreError(
                f"cannot write the export to {path}: {e.strerror or e}; nothing was handed out"
            ) from e

    def audit_history(self, ref: str | UUID, *, actor: ActorLike = None) -> list[HistoryEntry]:
        """A goal's or client's full history, recorded in the access log."""
        kind, oid = self._read.kind_of(ref)
        entries = self.history(oid) if kind == "goal" else self.client_history(oid)
        detail = {"type": kind, "events": len(entries)}
        self._record_access("history", str(oid), detail, self._who(actor))
        return entries

    def audit_show(
        self,
        ref: str | UUID,
        *,
        version: int | None = None,
        as_of: datetime | date | str | None = None,
        actor: ActorLike = None,
    ) -> GoalState | ClientDetail | ClientState:
        """A goal's or client's state at a version or moment, recorded in the access log."""
        kind, oid = self._read.kind_of(ref)
        moment = None if as_of is None else parse_when(as_of, end_of_day=True, what="--as-of")
        state: GoalState | ClientDetail | ClientState
        if kind == "goal":
            state = self.get_goal(oid, version=version, as_of=moment)
        elif version is None:
            state = self._client_from_events(oid, moment)
        else:
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise InvalidInput("versions are whole numbers starting at 1")
            current = self._client(oid)
            if version > current.version:
                raise NotFound(
                    f"client {str(oid)[:8]} has {current.version} version(s); there is no "
                    f"version {version}"
                )
            state = self._client(oid, version=version).state()
        detail = {
            "type": kind,
            "version": version,
            "as_of": moment.isoformat() if moment else None,
            "shown_version": state["version"],
        }
        self._record_access("show", str(oid), detail, self._who(actor))
        return state

    def _client_from_events(self, client_id: UUID, moment: datetime | None) -> Any:
        """A client with their goals (now, or as they stood at ``moment``), from the events
        alone: the goals are the chain's (their owner is the client), never the read models'."""
        from goalengine.audit import asof
        from goalengine.audit.chain import CHAIN_TABLE
        from goalengine.readmodels import tree_order

        rows = self._store.query(
            f"SELECT DISTINCT originator_id FROM {{p}}{CHAIN_TABLE} WHERE owner = ? "
            "AND originator_version = 1 AND topic LIKE ?",
            (str(client_id), "%:Goal.%"),
        )
        goal_ids = sorted(UUID(str(r["originator_id"])) for r in rows)
        if moment is None:
            client = self._client(client_id)
            docs: list[dict[str, Any]] = [dict(self._goal(g).state()) for g in goal_ids]
            live = sorted(
                (d for d in docs if d["status"] != "voided"),
                key=lambda d: (d["created_at"], d["id"]),
            )
            rank = {g: i for i, g in enumerate(client.state().get("priorities", []))}
            live.sort(key=lambda d: rank.get(d["id"], len(rank)))
            return {**client.state(), "goals": tree_order(live)}
        when, version = asof.moment_and_version(self._store, client_id, "client", moment)
        state = self._client(client_id, version=version).state()
        then = []
        for g in goal_ids:
            v = asof.version_at(self._store, g, when)
            if v is not None:
                then.append(self._goal(g, version=v).state())
        return {**state, "goals": asof.goals_then(then), "as_of": when.isoformat()}

    def _record_access(
        self,
        action: str,
        subject: str,
        detail: dict[str, Any],
        actor: Actor,
        *,
        id: UUID | None = None,
    ) -> None:
        """Record an audited read or export (an AuditAccess event, linked into the chain)."""
        fields = {k: v for k, v in detail.items() if v is not None}
        access = (
            AuditAccess(action, subject, fields, actor)
            if id is None
            else AuditAccess._create(
                AuditAccess.Recorded,
                id=id,
                action=action,
                subject=subject,
                detail=fields,
                actor=actor,
                findings=(),
            )
        )
        try:
            self._store.app.save(access)
        except PersistenceError as e:
            raise StoreError(f"cannot record the access in {self.store_url}: {e}") from e

    @staticmethod
    def replay(
        path: str | Path,
        *,
        ref: str | None = None,
        as_of: datetime | date | str | None = None,
        checkpoints: Sequence[str] = (),
        key: bytes | None = None,
    ) -> ReplaySummary | GoalState | ClientState:
        """Verify an export file and rebuild state from it alone (no store needed): one
        aggregate's state with ``ref``, else a summary with every goal's and client's state."""
        from goalengine.audit import export as exports

        if not isinstance(path, (str, Path)) or not str(path) or "\x00" in str(path):
            raise InvalidInput(f"path is the export file to replay, not {path!r}", param="path")
        return exports.replay_file(Path(path), ref, as_of, _checkpoints(checkpoints), _key(key))


def _writable(out: str | Path) -> Path:
    """``out`` as a path an export can be written to, or InvalidInput saying why not."""
    if not isinstance(out, (str, Path)) or not str(out) or "\x00" in str(out):
        raise InvalidInput(f"out is the path of the file to write, not {out!r}", param="out")
    try:
        str(out).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "--out must be a path in UTF-8 text (it is recorded in the access log)", param="out"
        ) from None
    path = Path(out)
    parent = path.parent
    if len(path.name.encode("utf-8")) > 240:
        raise InvalidInput(f"--out {path.name[:16]}…: the file name is too long", param="out")
    if path.is_dir():
        raise InvalidInput(f"--out {path} is a directory; name a file", param="out")
    if not parent.is_dir():
        raise InvalidInput(f"--out {path}: directory {parent} does not exist", param="out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidInput(f"--out {path}: directory {parent} is not writable", param="out")
    return path


def _key(key: object) -> bytes | None:
    if key is None or isinstance(key, bytes):
        return key
    raise InvalidInput(f"key is the HMAC key as bytes, or None; not {key!r}", param="key")


def _checkpoints(checkpoints: object) -> Sequence[str]:
    if isinstance(checkpoints, (list, tuple)) and all(isinstance(c, str) for c in checkpoints):
        return checkpoints
    raise InvalidInput(
        "checkpoints is a list of POS:DIGEST texts (as `audit checkpoint` prints them)",
        param="checkpoints",
    )
