"""``audit export`` and ``audit replay``: an export file (JSON Lines, manifest first) and
rebuilding state from it alone.

Every function takes the engine's :class:`~goalengine.store.Store`; reads stream the log in
pages (never the whole store in memory).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from goalengine.audit.chain import LINK_V2_KEY, ZERO, recorded_at, rule_of
from goalengine.audit.checkpoints import head, parse_checkpoint, salts
from goalengine.audit.feed import aggregate_type, chain_rows, notifications
from goalengine.errors import IntegrityFailure, InvalidInput, StoreError
from goalengine.results import ClientState, ExportManifest, GoalState, ReplaySummary
from goalengine.store import Store
from goalengine.when import parse_when

EXPORT_FORMAT = "goalengine-export/1"


def export(
    store: Store,
    out: Path,
    *,
    client: UUID | None = None,
    since: datetime | None = None,
    engine_version: str,
    exported_by: str,
) -> ExportManifest:
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
    owner_salts = salts(store)
    v2_rows = store.query("SELECT value FROM {p}goalengine_meta WHERE key = ?", (LINK_V2_KEY,))
    v2_from = int(v2_rows[0]["value"]) if v2_rows else None
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
                rows = chain_rows(store, "seq <= ?", (top,), after)
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
                        n.id: n.state for n in notifications(recorder, lo, hi) if n.id in wanted
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
                        line = _line(r, prev_link, prev_digest, states[nid], rule_of(seq, v2_from))
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
            "salts": {o: owner_salts[o].hex() for o in sorted(used_owners) if o in owner_salts},
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
    return cast(ExportManifest, manifest)


def _line(
    r: dict[str, Any], prev_link: str, prev_digest: str, state: bytes, rule: int
) -> dict[str, Any]:
    line: dict[str, Any] = {
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
    if rule != 1:
        line["link_rule"] = rule  # absent: rule 1 (rows linked before rule 2 existed)
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


def replay_file(
    path: Path,
    ref: str | None,
    as_of: datetime | date | str | None,
    checkpoints: Sequence[str],
    key: bytes | None,
) -> ReplaySummary | GoalState | ClientState:
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
        return cast(GoalState | ClientState, offline.state_of(aggregates[oid]))
    goals: list[Any] = []
    clients: list[Any] = []
    for aggregate in aggregates.values():
        kind = aggregate_type(f"x:{type(aggregate).__name__}.")
        if kind == "goal":
            goals.append(offline.state_of(aggregate))
        elif kind == "client":
            clients.append(offline.state_of(aggregate))
    return {
        "file": str(path),
        "verified": True,
        "manifest": cast(ExportManifest, data.manifest),
        "as_of": moment.isoformat() if moment else None,
        "events": len(data.lines),
        "partial": sorted(o for o, v in starts.items() if v != 1),
        "unchecked": dict(sorted(data.unchecked.items())),
        "clients": clients,
        "goals": goals,
    }
