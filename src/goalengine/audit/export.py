"""``audit export`` and ``audit replay``: an export file (JSON Lines, manifest first) and
rebuilding state from it alone.

Every function takes the engine's :class:`~goalengine.store.Store`; reads stream the log in
pages (never the whole store in memory).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from goalengine.audit.chain import (
    CHAIN_TABLE,
    LINK_V2_KEY,
    ZERO,
    inner_link,
    owner_tag,
    recorded_at,
    rule_of,
)
from goalengine.audit.checkpoints import head, parse_checkpoint, salts
from goalengine.audit.feed import aggregate_type, chain_rows, notifications
from goalengine.audit.offline import EXPORT_FORMAT
from goalengine.errors import IntegrityFailure, InvalidInput, StoreError
from goalengine.results import ClientState, ExportManifest, GoalState, ReplaySummary
from goalengine.store import Store
from goalengine.when import parse_when


#: The aggregate id of an export's access record: the first 128 bits of the manifest's digest.
#: The id is chained in the clear (in the record's inner hash), so a checkpoint at or after the
#: record authenticates the manifest without any salt.
def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON (sorted keys, no spaces, UTF-8)."""
    from goalengine.audit.offline import manifest_digest as digest

    return digest(manifest)


def access_id(digest: str) -> UUID:
    return UUID(hex=digest[:32])


Recorder = Callable[[UUID, dict[str, Any]], None]


def _stale(out: Path) -> list[str]:
    """Temp files a killed export to the same file left behind: removed, and named."""
    found = []
    for p in sorted(out.parent.glob(f".{out.name}.export-*")):
        try:
            p.unlink()
            found.append(p.name)
        except OSError:  # pragma: no cover - someone else's file we cannot remove: leave it
            continue
    return found


def export(
    store: Store,
    out: Path,
    *,
    client: UUID | None = None,
    since: datetime | None = None,
    from_position: int | None = None,
    engine_version: str,
    exported_by: str,
    record: Recorder | None = None,
    plugin_versions: dict[str, str] | None = None,
) -> ExportManifest:
    """Write a contiguous range of the chain as JSON Lines: the manifest first, then one line a
    position (the event, or for a ``--client`` export another owner's skeleton row), then the
    trailer: the export's own access record (see docs/audit.md).

    The range runs from position 1, ``from_position``, or the first position recorded at or
    after ``since``, to the store's head. ``record(id, manifest)`` records the access (chained,
    id from the manifest's digest) *before* the file is renamed into place. Returns the manifest.
    """
    out = Path(out)
    if out.exists() and out.is_dir():
        raise InvalidInput(f"--out {out} is a directory; give a file name")
    if not out.parent.exists():
        raise InvalidInput(f"--out {out}: directory {out.parent} does not exist")
    if from_position is not None and (
        isinstance(from_position, bool) or not isinstance(from_position, int) or from_position < 1
    ):
        raise InvalidInput(f"--from is a position of 1 or more, not {from_position!r}")
    if from_position is not None and since is not None:
        raise InvalidInput("give --since or --from, not both")
    stale = _stale(out)
    top, top_digest, _ = head(store)
    since_text = recorded_at(since) if since is not None else None
    owner = str(client) if client is not None else None
    owner_salts = salts(store)
    meta = {r["key"]: r["value"] for r in store.query("SELECT key, value FROM {p}goalengine_meta")}
    rule2 = [int(meta[LINK_V2_KEY]) if LINK_V2_KEY in meta else None]  # refreshed for the trailer
    start = from_position or 1
    if since_text is not None:
        found = store.query(
            f"SELECT MIN(seq) AS seq FROM {{p}}{CHAIN_TABLE} WHERE recorded_at >= ?", (since_text,)
        )
        start = int(found[0]["seq"]) if found and found[0]["seq"] is not None else top + 1
    recorder = store.app.recorder
    tags: dict[str, str] = {}
    links: dict[str, str] = {}
    start_links: dict[str, str] = {}
    aggregates: dict[str, str] = {}
    counts = {"events": 0, "goal": 0, "client": 0, "access": 0, "skeleton": 0}
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    start_digest = ZERO
    prev_digest = ZERO
    used_owners: set[str] = set()
    times: list[str | None] = [None, None]  # the first and last event line's recording time
    if owner is not None and owner not in owner_salts:
        raise StoreError(
            f"client {owner[:8]} has no salt in the store: run `goalengine audit verify`"
        )

    def tag_of(o: str) -> str | None:
        found = tags.get(o)
        if found is None and o not in owner_salts:
            owner_salts.update(salts(store))  # made since (e.g. by the export's own record)
        if found is None and o in owner_salts:
            found = tags[o] = owner_tag(owner_salts[o])
        return found

    def skeleton(r: dict[str, Any], prev_link: str, prev: str, *, trailer: bool) -> dict[str, Any]:
        seq = int(r["seq"])
        line: dict[str, Any] = {"seq": seq, "skeleton": True, "prev_digest": prev}
        if rule_of(seq, rule2[0]) == 2:
            line["inner"] = inner_link(
                prev_link,
                str(r["originator_id"]),
                int(r["originator_version"]),
                str(r["topic"]),
                str(r["recorded_at"]),
                str(r["content"]),
            )
            line["owner_tag"] = tag_of(str(r["owner"])) or ""
        else:
            line["link_rule"] = 1
            line["link"] = str(r["link"])
        line["digest"] = str(r["digest"])
        if trailer:
            line["trailer"] = True
        return line

    body_fd, body_name = tempfile.mkstemp(prefix=f".{out.name}.export-", dir=out.parent)
    body_path = Path(body_name)
    final_path: Path | None = None
    try:
        with os.fdopen(body_fd, "w", encoding="utf-8") as body:
            after = 0
            while True:
                rows = chain_rows(store, "seq <= ?", (top,), after)
                if not rows:
                    break
                after = int(rows[-1]["seq"])
                chosen = [
                    r
                    for r in rows
                    if int(r["seq"]) >= start and (owner is None or r["owner"] == owner)
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
                    if seq == start:
                        start_digest = prev_digest
                    if seq in chosen_seqs:
                        nid = int(r["notification_id"])
                        if nid not in states:
                            raise StoreError(
                                f"event at position {seq} ({oid[:8]} version "
                                f"{r['originator_version']}) is missing from the event log; "
                                "run `goalengine audit verify`"
                            )
                        if oid not in aggregates and int(r["originator_version"]) > 1:
                            start_links[oid] = prev_link
                        kind = aggregate_type(str(r["topic"]))
                        aggregates.setdefault(oid, kind)
                        counts["events"] += 1
                        line = _line(r, prev_link, prev_digest, states[nid], rule_of(seq, rule2[0]))
                        used_owners.add(str(r["owner"]))
                        if times[0] is None:
                            times[0] = str(r["recorded_at"])
                        times[1] = str(r["recorded_at"])
                    elif seq >= start:
                        counts["skeleton"] += 1
                        line = skeleton(r, prev_link, prev_digest, trailer=False)
                    else:
                        prev_digest = str(r["digest"])
                        continue
                    body.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
                    first = first or line
                    last = line
                    prev_digest = str(r["digest"])
        for kind in aggregates.values():
            if kind in counts:
                counts[kind] += 1
        manifest: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "engine_version": engine_version,
            "plugin_versions": dict(sorted((plugin_versions or {}).items())),
            "store_format": meta.get("format"),
            "exported_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "exported_by": exported_by,
            "scope": {
                "client": owner,
                "since": since_text,
                "from": from_position,
            },
            "complete": owner is None and start == 1,
            "counts": {
                "events": counts["events"],
                "skeleton": counts["skeleton"],
                "aggregates": len(aggregates),
                "goals": counts["goal"],
                "clients": counts["client"],
                "accesses": counts["access"],
            },
            "time_range": {
                "first": times[0],
                "last": times[1],
            },
            "positions": {
                "first": first["seq"] if first else None,
                "last": last["seq"] if last else None,
            },
            "start_digest": start_digest,
            "start_links": start_links,
            "checkpoint": f"{top}:{top_digest}",
            "end_checkpoint": f"{last['seq']}:{last['digest']}" if last else f"{top}:{top_digest}",
            "salts": {o: owner_salts[o].hex() for o in sorted(used_owners) if o in owner_salts},
            "stale_temp_files_removed": stale,
        }
        digest = manifest_digest(manifest)
        record_id = access_id(digest)
        if record is not None:
            record(record_id, manifest)  # chained in the store before the file is in place
        access_checkpoint = None
        final_fd, final_name = tempfile.mkstemp(prefix=f".{out.name}.export-", dir=out.parent)
        final_path = Path(final_name)
        with (
            os.fdopen(final_fd, "w", encoding="utf-8") as f,
            body_path.open(encoding="utf-8") as body_in,
        ):
            f.write(json.dumps({"manifest": manifest}, ensure_ascii=False, sort_keys=True) + "\n")
            for chunk in iter(lambda: body_in.read(1 << 20), ""):
                f.write(chunk)
            if record is not None:
                found = store.query(
                    "SELECT value FROM {p}goalengine_meta WHERE key = ?", (LINK_V2_KEY,)
                )
                rule2[0] = int(found[0]["value"]) if found else None
                for line in _trailer(store, top, prev_digest, links, record_id, skeleton):
                    f.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
                    access_checkpoint = f"{line['seq']}:{line['digest']}"
        os.replace(final_path, out)
        final_path = None
    finally:
        body_path.unlink(missing_ok=True)
        if final_path is not None:
            final_path.unlink(missing_ok=True)
    # Not part of the file's manifest: the position of the export's access record (the file's
    # last line), where a checkpoint authenticates the manifest.
    return cast(ExportManifest, {**manifest, "access_checkpoint": access_checkpoint})


def _trailer(
    store: Store,
    top: int,
    prev_digest: str,
    links: dict[str, str],
    record_id: UUID,
    skeleton: Callable[..., dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """The positions after the range up to the export's own access record: skeleton rows for
    what other writers recorded meanwhile, then the record, its fields in the clear (its id is
    the manifest's digest) and its content opaque."""
    oid = str(record_id)
    rows = store.query(f"SELECT seq FROM {{p}}{CHAIN_TABLE} WHERE originator_id = ?", (oid,))
    if not rows:
        raise StoreError("the export's access record is not in the chain; nothing was exported")
    end = int(rows[0]["seq"])
    after = top
    while after < end:
        page = chain_rows(store, "seq <= ?", (end,), after)
        if not page:
            break
        for r in page:
            row_oid = str(r["originator_id"])
            prev_link = links.get(row_oid, ZERO)
            if row_oid == oid:
                line = skeleton(r, prev_link, prev_digest, trailer=True)
                line.update(
                    {
                        "originator_id": oid,
                        "originator_version": int(r["originator_version"]),
                        "topic": str(r["topic"]),
                        "recorded_at": str(r["recorded_at"]),
                        "content": str(r["content"]),
                        "prev_link": prev_link,
                        "access_record": True,
                    }
                )
                line.pop("inner", None)
            else:
                line = skeleton(r, prev_link, prev_digest, trailer=True)
            links[row_oid] = str(r["link"])
            prev_digest = str(r["digest"])
            after = int(r["seq"])
            yield line


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
    covered = 0
    for pos, digest in parsed:
        if not offline.check_checkpoint(data, pos, digest):
            raise IntegrityFailure(
                f"{path}: position {pos} does not hash to the checkpoint {pos}:{digest[:12]}…: "
                "the export (or the store it came from) was changed since the checkpoint"
            )
        covered = max(covered, pos)
    access = data.access
    authenticated = access is not None and covered >= access[0]
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
        "manifest_authenticated": authenticated,
        "unauthenticated": [] if authenticated else list(offline.UNAUTHENTICATED_FIELDS),
        "authenticated_by": (
            None
            if access is None
            else f"the access record at position {access[0]} (a checkpoint at or after it)"
        ),
        "lines_covered_through": covered or None,
        "clients": clients,
        "goals": goals,
    }
