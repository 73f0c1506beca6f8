"""Verify an export file and rebuild state from it alone: no store, no plugins, no network.

Events are decoded with eventsourcing's own mapper and the same transcodings the store uses, and
folded with the aggregates' own ``apply`` methods (``event.mutate``): there is no second
implementation of the domain here, only the chain arithmetic of :mod:`goalengine.audit.chain`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

from goalengine.audit.chain import ZERO, link, recorded_at, seq_digest
from goalengine.errors import AmbiguousId, InvalidInput, NotFound
from goalengine.serialization import register_transcodings
from goalengine.when import parse_when

EXPORT_FORMAT = "goalengine-export/1"
LINE_KEYS = (
    "seq",
    "notification_id",
    "originator_id",
    "originator_version",
    "topic",
    "recorded_at",
    "owner",
    "content",
    "prev_link",
    "link",
    "prev_digest",
    "digest",
)
_LINE_KEY_SET = frozenset(LINE_KEYS)
ALLOWED_TOPIC_PREFIXES = ("goalengine.",)


def make_mapper() -> Mapper[UUID]:
    """A mapper with exactly the store's transcodings (see ``GoalApplication``)."""
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    register_transcodings(transcoder)
    return Mapper(transcoder=transcoder)


class _What:
    """``"1a2b3c4d version 3 (position 17)"``, formatted only when a message needs it."""

    __slots__ = ("oid", "seq", "version")

    def __init__(self, oid: str, version: int, seq: int) -> None:
        self.oid, self.version, self.seq = oid, version, seq

    def __str__(self) -> str:
        return f"{self.oid[:8]} version {self.version} (position {self.seq})"


def _hmac_hex(keyed: Any, data: bytes) -> str:
    h = keyed.copy()
    h.update(data)
    return str(h.hexdigest())


class ExportFile:
    """A parsed, verified export: its manifest and its lines (verified on :func:`load`)."""

    def __init__(self, path: Path, manifest: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        self.path = path
        self.manifest = manifest
        self.lines = lines


def _bad(path: Path, lineno: int | None, message: str) -> InvalidInput:
    where = f"{path}" if lineno is None else f"{path} line {lineno}"
    return InvalidInput(f"{where}: {message}", file=str(path), line=lineno)


def _read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        f = path.open(encoding="utf-8", newline="")
    except OSError as e:
        raise InvalidInput(f"cannot read export {path}: {e.strerror or e}", file=str(path)) from e
    lineno = 0
    loads = json.loads
    with f:
        try:
            for lineno, raw in enumerate(f, 1):
                if not raw.endswith("\n"):
                    raise _bad(path, lineno, "the last line is cut short: the file is truncated")
                try:
                    obj = loads(raw)
                except json.JSONDecodeError as e:
                    raise _bad(path, lineno, f"not a JSON object ({e})") from None
                if not isinstance(obj, dict):
                    raise _bad(path, lineno, "not a JSON object")
                yield lineno, obj
        except UnicodeDecodeError:
            raise _bad(path, lineno + 1, "not UTF-8 text") from None


def _state(path: Path, lineno: int, line: dict[str, Any]) -> bytes:
    if isinstance(line.get("state"), str):
        return str(line["state"]).encode("utf-8")
    if isinstance(line.get("state_b64"), str):
        try:
            return base64.b64decode(line["state_b64"], validate=True)
        except ValueError:
            raise _bad(path, lineno, "state_b64 is not base64") from None
    raise _bad(path, lineno, "the event has no state")


def load(path: Path | str) -> ExportFile:
    """Read and verify an export: every line's digest and links, continuity, and the manifest.

    Raises :class:`InvalidInput` naming the file and line of the first problem.
    """
    path = Path(path)
    manifest: dict[str, Any] | None = None
    lines: list[dict[str, Any]] = []
    links: dict[str, tuple[int, str]] = {}
    prev: dict[str, Any] | None = None
    salts: dict[str, bytes] = {}
    hashers: dict[str, Any] = {}
    ids: dict[str, str] = {}  # as written → canonical (each id is checked once)
    for lineno, obj in _read(path):
        if manifest is None:
            m = obj.get("manifest")
            if not isinstance(m, dict) or m.get("format") != EXPORT_FORMAT:
                raise _bad(path, lineno, f"not a goalengine export (no {EXPORT_FORMAT} manifest)")
            manifest = m
            try:
                salts = {o: bytes.fromhex(s) for o, s in (m.get("salts") or {}).items()}
            except (ValueError, AttributeError, TypeError):
                raise _bad(path, lineno, "the manifest's salts are not hexadecimal") from None
            # One keyed HMAC per owner, copied for each event: content_digest, precomputed.
            hashers = {o: hmac.new(salt, digestmod=hashlib.sha256) for o, salt in salts.items()}
            continue
        if not obj.keys() >= _LINE_KEY_SET:
            missing = [k for k in LINE_KEYS if k not in obj]
            raise _bad(path, lineno, f"missing {', '.join(missing)}")
        try:
            seq, version = obj["seq"], obj["originator_version"]
            if type(seq) is not int or type(version) is not int:
                seq, version = int(seq), int(version)
            raw_id = obj["originator_id"]
            oid = ids.get(raw_id) if isinstance(raw_id, str) else None
            if oid is None:
                oid = ids[raw_id] = str(UUID(str(raw_id)))
        except (TypeError, ValueError):
            raise _bad(
                path, lineno, "seq, originator_version or originator_id is malformed"
            ) from None
        topic = obj["topic"]
        if type(topic) is not str or not topic.startswith(ALLOWED_TOPIC_PREFIXES):
            raise _bad(path, lineno, f"topic {topic!r} is not a goalengine event")
        text = obj.get("state")
        state = text.encode("utf-8") if type(text) is str else _state(path, lineno, obj)
        what = _What(oid, version, seq)
        try:
            hasher = hashers.get(obj["owner"])
            if hasher is not None and _hmac_hex(hasher, state) != obj["content"]:
                raise _bad(
                    path, lineno, f"{what} was edited: its content does not match its digest"
                )
            lk = link(obj["prev_link"], oid, version, topic, obj["recorded_at"], obj["content"])
            if lk != obj["link"]:
                raise _bad(path, lineno, f"{what}: its link does not follow from its fields")
            if seq_digest(obj["prev_digest"], seq, lk) != obj["digest"]:
                raise _bad(path, lineno, f"{what}: its sequence digest does not follow")
        except TypeError:
            raise _bad(path, lineno, f"{what}: a field of the wrong type") from None
        # Continuity with the previous line of the same aggregate (or the manifest's start).
        if oid in links:
            last_version, last_link = links[oid]
            if version != last_version + 1 or obj["prev_link"] != last_link:
                raise _bad(
                    path,
                    lineno,
                    f"{what} does not follow version {last_version} of the same aggregate in "
                    "this file: lines were removed, reordered or inserted",
                )
        else:
            expected = ZERO if version == 1 else manifest.get("start_links", {}).get(oid)
            if obj["prev_link"] != expected:
                raise _bad(path, lineno, f"{what} does not start from the link the manifest gives")
        links[oid] = (version, lk)
        # Continuity of the sequence.
        if prev is None:
            if obj["prev_digest"] != manifest.get("start_digest"):
                raise _bad(path, lineno, "the first line does not start from the manifest's digest")
        else:
            if seq <= prev["seq"]:
                raise _bad(path, lineno, f"position {seq} comes after {prev['seq']}: reordered")
            if seq == prev["seq"] + 1 and obj["prev_digest"] != prev["digest"]:
                raise _bad(path, lineno, f"position {seq} does not follow position {prev['seq']}")
            if seq != prev["seq"] + 1 and manifest.get("complete"):
                raise _bad(path, lineno, f"positions {prev['seq'] + 1}..{seq - 1} are missing")
        obj["seq"], obj["originator_version"], obj["originator_id"] = seq, version, oid
        obj["_state"] = state
        obj["_line"] = lineno
        lines.append(obj)
        prev = obj
    if manifest is None:
        raise _bad(path, None, "the file is empty: no manifest")
    _check_manifest(path, manifest, lines)
    return ExportFile(path, manifest, lines)


def _check_manifest(path: Path, m: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    counts = m.get("counts") or {}
    if counts.get("events") != len(lines):
        raise _bad(
            path,
            None,
            f"the manifest lists {counts.get('events')} events but the file has {len(lines)}: "
            "lines were removed or added",
        )
    aggregates = {line["originator_id"] for line in lines}
    if counts.get("aggregates") != len(aggregates):
        raise _bad(path, None, "the manifest's aggregate count does not match the lines")
    first = lines[0] if lines else None
    last = lines[-1] if lines else None
    rng = m.get("time_range") or {}
    if rng.get("first") != (first["recorded_at"] if first else None) or rng.get("last") != (
        last["recorded_at"] if last else None
    ):
        raise _bad(path, None, "the manifest's time range does not match the lines")
    if last is not None and m.get("end_checkpoint") != f"{last['seq']}:{last['digest']}":
        raise _bad(path, None, "the file does not end at the manifest's end checkpoint: truncated")


def check_checkpoint(export: ExportFile, pos: int, digest: str) -> bool:
    """Whether the export's line at ``pos`` has the digest of an auditor's checkpoint."""
    for line in export.lines:
        if line["seq"] == pos:
            return bool(line["digest"] == digest)
    raise InvalidInput(f"the export has no position {pos}; it covers {_positions(export)}")


def _positions(export: ExportFile) -> str:
    if not export.lines:
        return "no events"
    return f"positions {export.lines[0]['seq']} to {export.lines[-1]['seq']}"


def replay(
    export: ExportFile, *, as_of: datetime | date | str | None = None
) -> tuple[dict[str, Any], dict[str, int]]:
    """Fold every aggregate of the export (to ``as_of`` when given) → (aggregates by id, starts).

    ``starts`` maps each aggregate id to the first version the file holds: a state can only be
    rebuilt for aggregates whose history starts at version 1.
    """
    mapper = make_mapper()
    limit = None
    if as_of is not None:
        limit = recorded_at(parse_when(as_of, end_of_day=True, what="--as-of"))
    aggregates: dict[str, Any] = {}
    starts: dict[str, int] = {}
    uuids: dict[str, UUID] = {}
    for line in export.lines:
        oid = line["originator_id"]
        start = starts.setdefault(oid, line["originator_version"])
        if start != 1 or (limit is not None and line["recorded_at"] > limit):
            continue
        uid = uuids.get(oid)
        if uid is None:
            uid = uuids[oid] = UUID(oid)
        stored = StoredEvent(
            originator_id=uid,
            originator_version=line["originator_version"],
            topic=line["topic"],
            state=line["_state"],
        )
        try:
            event: Any = mapper.to_domain_event(stored)
            at = line["recorded_at"]
            # Usually the stored timestamp is the chained text itself; else compare exactly.
            text = line.get("state")
            if (text is None or text.find(at, 0, 120) < 0) and recorded_at(event.timestamp) != at:
                raise ValueError("its recording time differs from the chained one")
            aggregates[oid] = event.mutate(aggregates.get(oid))
        except Exception as e:
            raise _bad(
                export.path,
                line["_line"],
                f"cannot replay {oid[:8]} version "
                f"{line['originator_version']}: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
            ) from None
    return aggregates, starts


def find(export: ExportFile, ref: str, aggregates: dict[str, Any], starts: dict[str, int]) -> str:
    """The full id of the aggregate ``ref`` (an id or a unique prefix of ≥ 4 hex characters)."""
    text = ref.strip().lower()
    if len(text) < 4:
        raise InvalidInput(f"id {ref!r} is not an id or a prefix of at least 4 hex characters")
    found = sorted(oid for oid in starts if oid.startswith(text))
    if not found:
        raise NotFound(f"{export.path} holds no goal or client with an id starting with {text!r}")
    if len(found) > 1:
        raise AmbiguousId(
            f"id {text!r} is ambiguous in {export.path}: {', '.join(f[:8] for f in found[:10])}",
            candidates=found[:10],
        )
    oid = found[0]
    if starts[oid] != 1:
        raise NotFound(
            f"{oid[:8]}'s history in {export.path} starts at version {starts[oid]}; rebuilding it "
            "needs its whole history (export with --client, or without --since)"
        )
    if oid not in aggregates:
        raise NotFound(f"{oid[:8]} did not exist yet at that time", id=oid)
    return oid


def state_of(aggregate: Any) -> dict[str, Any]:
    """The JSON ``goal show`` / ``client show`` prints for a replayed aggregate."""
    from goalengine.aggregates import Client

    state: dict[str, Any] = (
        aggregate.state()
        if hasattr(aggregate, "state")
        else {
            "id": str(aggregate.id),
            "version": aggregate.version,
            **{k: _plain(v) for k, v in vars(aggregate).items() if not k.startswith("_")},
        }
    )
    if isinstance(aggregate, Client):
        sessions = aggregate.sessions
        state["review_due"] = bool(sessions) and sessions[-1].number % aggregate.review_every == 0
    return state


def _plain(value: Any) -> Any:
    from goalengine.serialization import unstructure

    if isinstance(value, (datetime, date, UUID)):
        return str(value)
    return unstructure(value)
