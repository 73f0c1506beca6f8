"""Verify an export file and rebuild state from it alone: no store, no plugins, no network.

Events are decoded with eventsourcing's own mapper and the same transcodings the store uses, and
folded with the aggregates' own ``apply`` methods (``event.mutate``): there is no second
implementation of the domain here, only the chain arithmetic of :mod:`goalengine.audit.chain`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable, Iterator
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

from goalengine.audit.chain import (
    ZERO,
    inner_link,
    keyed,
    link,
    outer_link,
    owner_tag,
    recorded_at,
    seq_digest,
)
from goalengine.errors import AmbiguousId, IntegrityFailure, InvalidInput, NotFound
from goalengine.serialization import register_transcodings
from goalengine.when import parse_when

EXPORT_FORMAT = "goalengine-export/2"
#: Formats read: 1 (before contiguous ranges, skeleton rows and the trailer) and 2.
READ_FORMATS = ("goalengine-export/1", EXPORT_FORMAT)
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


def _json_loads(line: bytes) -> Any:
    """The standard library's reading of one line of UTF-8 JSON (as orjson reads it)."""
    return json.loads(line.decode("utf-8"))


_loads: Callable[[bytes], Any]
try:  # orjson parses an export line about 3x faster than the standard library
    import orjson
except ImportError:  # pragma: no cover - a dependency; the standard library reads the same
    _loads = _json_loads
else:
    _loads = orjson.loads


def make_mapper() -> Mapper[UUID]:
    """A mapper with exactly the store's transcodings (see ``GoalApplication``)."""
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    register_transcodings(transcoder)
    return Mapper(transcoder=transcoder)


class ExportFile:
    """A parsed, verified export: its manifest and its lines (verified on :func:`load`).

    Each line is the file's JSON object, with the event's stored bytes in ``_state`` (in place
    of its ``state`` text: one copy of each state) and its line number in ``_line``.
    """

    def __init__(
        self,
        path: Path,
        manifest: dict[str, Any],
        lines: list[dict[str, Any]],
        unchecked: dict[str, int] | None = None,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.lines = lines
        self.digests: dict[int, str] = {}
        #: The export's access record in the trailer: (position, id); None in old exports.
        self.access: tuple[int, str] | None = None
        #: What could not be checked, and why (count per reason; none is a failure).
        self.unchecked = unchecked or {}


def _bad(path: Path, lineno: int | None, message: str) -> IntegrityFailure:
    """A defect in the export's content: an integrity failure (exit 1), never a usage error."""
    where = f"{path}" if lineno is None else f"{path} line {lineno}"
    return IntegrityFailure(f"{where}: {message}", file=str(path), line=lineno)


def _unusable(path: Path, lineno: int | None, message: str) -> InvalidInput:
    """The file is not an export at all (a usage error, exit 2)."""
    where = f"{path}" if lineno is None else f"{path} line {lineno}"
    return InvalidInput(f"{where}: {message}", file=str(path), line=lineno)


def _what(oid: str, version: int, seq: int) -> str:
    """``"1a2b3c4d version 3 (position 17)"``: built only when a message needs it."""
    return f"{oid[:8]} version {version} (position {seq})"


def _read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The file's lines, parsed: read as bytes, each parsed straight from its UTF-8."""
    try:
        f = path.open("rb")
    except OSError as e:
        raise InvalidInput(f"cannot read export {path}: {e.strerror or e}", file=str(path)) from e
    loads = _loads
    with f:
        for lineno, raw in enumerate(f, 1):
            if raw[-1:] != b"\n":
                raise _bad(path, lineno, "the last line is cut short: the file is truncated")
            try:
                obj = loads(raw)
            except ValueError as e:  # json's, orjson's and UnicodeDecodeError all are
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise _bad(path, lineno, "not UTF-8 text") from None
                raise _bad(path, lineno, f"not a JSON object ({e})") from None
            if type(obj) is not dict:
                raise _bad(path, lineno, "not a JSON object")
            yield lineno, obj


def _state(path: Path, lineno: int, line: dict[str, Any]) -> bytes:
    if isinstance(line.get("state"), str):
        return str(line["state"]).encode("utf-8")
    if isinstance(line.get("state_b64"), str):
        try:
            return base64.b64decode(line["state_b64"], validate=True)
        except ValueError:
            raise _bad(path, lineno, "state_b64 is not base64") from None
    raise _bad(path, lineno, "the event has no state")


def _manifest(path: Path, lineno: int, obj: dict[str, Any]) -> dict[str, Any]:
    m = obj.get("manifest")
    if not isinstance(m, dict) or m.get("format") not in READ_FORMATS:
        raise _unusable(path, lineno, f"not a goalengine export (no {EXPORT_FORMAT} manifest)")
    if not isinstance(m.get("start_links", {}), dict):
        raise _bad(path, lineno, "the manifest's start_links is not an object")
    return m


def _keyed_hashers(
    path: Path, lineno: int, m: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """One keyed HMAC per owner, copied for each event (the keyed state is computed once), and
    each owner's tag (rule 2)."""
    try:
        salts = {o: bytes.fromhex(s) for o, s in (m.get("salts") or {}).items()}
    except (ValueError, AttributeError, TypeError):
        raise _bad(path, lineno, "the manifest's salts are not hexadecimal") from None
    return (
        {o: keyed(salt) for o, salt in salts.items()},
        {o: owner_tag(salt) for o, salt in salts.items()},
    )


def load(path: Path | str) -> ExportFile:
    """Read and verify an export: every line's digest and links, continuity, and the manifest.

    Raises :class:`InvalidInput` naming the file and line of the first problem.

    One pass, one loop: the usual line costs a JSON parse, the HMAC and two SHA-256 and a few
    comparisons; every message (and whatever it needs) is built only once a check has failed.
    """
    path = Path(path)
    lines: list[dict[str, Any]] = []
    reader = _read(path)
    manifest: dict[str, Any] | None = None
    for lineno, obj in reader:
        manifest = _manifest(path, lineno, obj)
        hashers, tags = _keyed_hashers(path, lineno, manifest)
        break
    if manifest is None:
        raise _unusable(path, None, "the file is empty: no manifest")
    owners: dict[str, str] = {}  # aggregate → the owner its own events give (rule 1 lines)
    unchecked: dict[str, int] = {}
    start_links: dict[str, Any] = manifest.get("start_links") or {}
    complete = manifest.get("complete")
    links: dict[str, tuple[int, str]] = {}  # oid → (version, link) of its last line so far
    ids: dict[str, str] = {}  # as written → canonical (each id is checked once)
    started = False  # a line was read
    prev_seq, prev_digest = 0, manifest.get("start_digest")
    append = lines.append
    digests: dict[int, str] = {}  # every position's digest (checkpoints may fall on any)
    known_tags = set(tags.values())  # the owners whose content this export holds
    body_skeletons = 0
    in_trailer = False
    access: tuple[int, str] | None = None  # the access record's (position, id)
    contiguous = manifest.get("format") == EXPORT_FORMAT  # format 1 client exports had gaps
    first_body: int | None = None  # the range's first and last (position, digest)
    last_body: tuple[int, str] | None = None
    for lineno, obj in reader:
        if obj.get("skeleton") is True:
            seq, lk, trailer = _skeleton(path, lineno, obj, known_tags, unchecked)
            if obj.get("access_record") is True:
                if access is not None:
                    raise _bad(path, lineno, "a second access record")
                access = (seq, str(obj["originator_id"]))
            if trailer:
                in_trailer = True
            elif in_trailer:
                raise _bad(path, lineno, "a line of the range after the trailer: reordered")
            else:
                body_skeletons += 1
            if started and seq != prev_seq + 1:
                raise _bad(path, lineno, f"position {seq} does not come right after {prev_seq}")
            if obj["prev_digest"] != prev_digest:
                raise _bad(path, lineno, f"position {seq} does not follow the line before it")
            if seq_digest(prev_digest, seq, lk) != obj["digest"]:
                raise _bad(path, lineno, f"position {seq}: its sequence digest does not follow")
            started = True
            prev_seq, prev_digest = seq, obj["digest"]
            digests[seq] = prev_digest
            if not trailer:
                last_body = (seq, prev_digest)
                if first_body is None:
                    first_body = seq
            continue
        if in_trailer:
            raise _bad(path, lineno, "an event line after the trailer: reordered")
        if not obj.keys() >= _LINE_KEY_SET:
            missing = [k for k in LINE_KEYS if k not in obj]
            raise _bad(path, lineno, f"missing {', '.join(missing)}")
        seq, version, raw_id = obj["seq"], obj["originator_version"], obj["originator_id"]
        oid = ids.get(raw_id) if type(raw_id) is str else None
        if oid is None or type(seq) is not int or type(version) is not int:
            try:
                seq, version = int(seq), int(version)
                if oid is None:
                    oid = str(UUID(str(raw_id)))
                    if type(raw_id) is str:
                        ids[raw_id] = oid
            except (TypeError, ValueError):
                raise _bad(
                    path, lineno, "seq, originator_version or originator_id is malformed"
                ) from None
            obj["seq"], obj["originator_version"] = seq, version
        if oid is not raw_id:
            obj["originator_id"] = oid
        topic = obj["topic"]
        if type(topic) is not str or not topic.startswith(ALLOWED_TOPIC_PREFIXES):
            raise _bad(path, lineno, f"topic {topic!r} is not a goalengine event")
        text = obj.get("state")
        state = text.encode() if type(text) is str else _state(path, lineno, obj)
        content, prev_link = obj["content"], obj["prev_link"]
        try:
            owner = obj["owner"]
            hasher = hashers.get(owner)
            if hasher is None:
                # Fail closed: content (and its owner) that cannot be checked is not believed.
                raise _bad(
                    path,
                    lineno,
                    f"{_what(oid, version, seq)}: the manifest has no salt for its owner "
                    f"{str(owner)[:8] or '(store)'}: its content cannot be checked",
                )
            h = hasher.copy()
            h.update(state)
            if h.hexdigest() != content:
                raise _bad(
                    path,
                    lineno,
                    f"{_what(oid, version, seq)} was edited: its content does not match its digest",
                )
            rule = obj.get("link_rule", 1)
            if rule == 2:
                inner = inner_link(prev_link, oid, version, topic, obj["recorded_at"], content)
                lk = outer_link(inner, tags[owner])
            elif rule == 1:
                lk = link(prev_link, oid, version, topic, obj["recorded_at"], content)
                _check_rule1_owner(path, lineno, obj, oid, version, state, owners, unchecked)
            else:
                raise _bad(path, lineno, f"{_what(oid, version, seq)}: unknown link rule {rule!r}")
            if lk != obj["link"]:
                raise _bad(
                    path,
                    lineno,
                    f"{_what(oid, version, seq)}: its link does not follow from its fields",
                )
            digest = obj["digest"]
            if seq_digest(obj["prev_digest"], seq, lk) != digest:
                raise _bad(
                    path, lineno, f"{_what(oid, version, seq)}: its sequence digest does not follow"
                )
        except TypeError:
            raise _bad(
                path, lineno, f"{_what(oid, version, seq)}: a field of the wrong type"
            ) from None
        # Continuity with the previous line of the same aggregate (or the manifest's start).
        last = links.get(oid)
        if last is not None:
            if version != last[0] + 1 or prev_link != last[1]:
                raise _bad(
                    path,
                    lineno,
                    f"{_what(oid, version, seq)} does not follow version {last[0]} of the same "
                    "aggregate in this file: lines were removed, reordered or inserted",
                )
        elif prev_link != (ZERO if version == 1 else start_links.get(oid)):
            raise _bad(
                path,
                lineno,
                f"{_what(oid, version, seq)} does not start from the link the manifest gives",
            )
        links[oid] = (version, lk)
        # Continuity of the sequence: an export is a contiguous range of positions.
        if not started:
            if obj["prev_digest"] != prev_digest:
                raise _bad(path, lineno, "the first line does not start from the manifest's digest")
            started = True
        elif seq != prev_seq + 1:
            if seq <= prev_seq:
                raise _bad(path, lineno, f"position {seq} comes after {prev_seq}: reordered")
            if complete or contiguous:
                raise _bad(path, lineno, f"positions {prev_seq + 1}..{seq - 1} are missing")
        elif obj["prev_digest"] != prev_digest:
            raise _bad(path, lineno, f"position {seq} does not follow position {prev_seq}")
        prev_seq, prev_digest = seq, digest
        digests[seq] = digest
        last_body = (seq, digest)
        if first_body is None:
            first_body = seq
        # The stored bytes replace the text they were read from: one copy of each state held.
        obj.pop("state", None)
        obj["_state"] = state
        obj["_line"] = lineno
        append(obj)
    if not started and manifest.get("start_digest") is None:
        raise _bad(path, None, "the manifest has no start digest")
    if contiguous and access is None:
        raise _bad(
            path,
            None,
            "the export's own access record (its last line) is missing: the file was cut",
        )
    _check_manifest(path, manifest, lines)
    _check_range(path, manifest, body_skeletons, first_body, last_body, complete)
    export = ExportFile(path, manifest, lines, unchecked)
    export.digests = digests
    export.access = access
    if access is not None and access[1] != str(UUID(hex=manifest_digest(manifest)[:32])):
        raise _bad(
            path,
            None,
            "the manifest does not match the export's access record (whose id is the "
            "manifest's digest): the manifest was edited",
        )
    return export


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _skeleton(
    path: Path,
    lineno: int,
    obj: dict[str, Any],
    known_tags: set[str],
    unchecked: dict[str, int],
) -> tuple[int, str, bool]:
    """A position without content: (seq, its link, whether it is in the trailer).

    A rule-2 skeleton row carries the inner hash and the owner tag; it proves it is *not* the
    event of an owner whose content the export holds (that owner's tag differs)."""
    seq, trailer = obj.get("seq"), obj.get("trailer") is True
    if type(seq) is not int or type(obj.get("digest")) is not str:
        raise _bad(path, lineno, "a skeleton row without its position or digest")
    try:
        if obj.get("access_record") is True:
            oid = str(UUID(str(obj["originator_id"])))
            if oid != obj["originator_id"] or not trailer:
                raise ValueError
            inner = inner_link(
                obj["prev_link"],
                oid,
                int(obj["originator_version"]),
                str(obj["topic"]),
                str(obj["recorded_at"]),
                str(obj["content"]),
            )
            return seq, outer_link(inner, str(obj["owner_tag"])), True
        if "inner" in obj:
            tag = obj["owner_tag"]
            if type(tag) is not str or type(obj["inner"]) is not str:
                raise ValueError
            if not trailer and tag in known_tags:
                raise _bad(
                    path,
                    lineno,
                    f"position {seq} is a skeleton row with the tag of an owner whose content "
                    "this export holds: that owner's event was replaced by its skeleton",
                )
            return seq, outer_link(obj["inner"], tag), trailer
        if obj.get("link_rule") == 1 and type(obj.get("link")) is str:
            if not trailer:
                why = "old (rule 1) skeleton rows: not provably another owner's"
                unchecked[why] = unchecked.get(why, 0) + 1
            return seq, str(obj["link"]), trailer
    except (KeyError, TypeError, ValueError):
        pass
    raise _bad(path, lineno, f"position {seq}: a malformed skeleton row")


def _check_range(
    path: Path,
    m: dict[str, Any],
    skeletons: int,
    first_seq: int | None,
    last: tuple[int, str] | None,
    complete: Any,
) -> None:
    """The manifest's range (positions, skeleton count, end) is the lines'."""
    counts = m.get("counts") or {}
    if last is not None and m.get("end_checkpoint") != f"{last[0]}:{last[1]}":
        raise _bad(path, None, "the file does not end at the manifest's end checkpoint: truncated")
    if m.get("format") != EXPORT_FORMAT:
        return  # format 1: no skeleton rows, no contiguous range
    if counts.get("skeleton", 0) != skeletons:
        raise _bad(path, None, "the manifest's skeleton count does not match the lines")
    positions = m.get("positions") or {}
    if positions.get("last") != (last[0] if last else None) or positions.get("first") != first_seq:
        raise _bad(path, None, "the manifest's positions do not match the lines")
    if complete and first_seq not in (None, 1):
        raise _bad(path, None, "a complete export that does not start at position 1")
    start = (m.get("scope") or {}).get("from")
    if start is not None and first_seq not in (None, start):
        raise _bad(path, None, f"the export does not start at position {start}, as its scope says")


def _check_rule1_owner(
    path: Path,
    lineno: int,
    obj: dict[str, Any],
    oid: str,
    version: int,
    state: bytes,
    owners: dict[str, str],
    unchecked: dict[str, int],
) -> None:
    """Rule 1 does not bind the owner: check it against the one the events give."""
    topic = obj["topic"]
    if ":Client." in topic:
        derived: str | None = oid
    elif ":Goal." in topic:
        derived = owners.get(oid)
        if derived is None and version == 1:
            try:
                event: Any = _MAPPER().to_domain_event(
                    StoredEvent(
                        originator_id=UUID(oid), originator_version=1, topic=topic, state=state
                    )
                )
                derived = owners[oid] = str(event.client_id)
            except Exception:
                raise _bad(path, lineno, f"{oid[:8]} version 1 cannot be decoded") from None
    else:
        derived = ""
    if derived is None:
        # An old (rule 1) goal line whose creation is not in this segment.
        why = "owner of an old (rule 1) line not derivable from this segment"
        unchecked[why] = unchecked.get(why, 0) + 1
    elif derived != obj["owner"]:
        raise _bad(
            path,
            lineno,
            f"{_what(oid, version, obj['seq'])}: its owner is not the one its events give: "
            "the line was edited",
        )


@functools.cache
def _MAPPER() -> Mapper[UUID]:
    return make_mapper()


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
    if m.get("complete") and (m.get("scope") or {}).get("client") is not None:
        raise _bad(path, None, "the manifest says complete for a client's export")
    rng = m.get("time_range") or {}
    if rng.get("first") != (first["recorded_at"] if first else None) or rng.get("last") != (
        last["recorded_at"] if last else None
    ):
        raise _bad(path, None, "the manifest's time range does not match the lines")


def check_checkpoint(export: ExportFile, pos: int, digest: str) -> bool:
    """Whether the export's position ``pos`` has the digest of an auditor's checkpoint (every
    line, event or skeleton, carries its position's digest)."""
    found = export.digests.get(pos)
    if found is None:
        raise InvalidInput(
            f"the export has no position {pos}; it covers {_positions(export)} (check a later "
            "checkpoint in the store: goalengine audit verify --checkpoint …)"
        )
    return found == digest


def _positions(export: ExportFile) -> str:
    if not export.digests:
        return "no positions"
    return f"positions {min(export.digests)} to {max(export.digests)}"


#: What the lines cannot vouch for: authenticated only by a checkpoint at or after the
#: export's access record (whose id is the manifest's digest).
UNAUTHENTICATED_FIELDS = (
    "engine_version",
    "plugin_versions",
    "store_format",
    "exported_at",
    "exported_by",
    "scope",
    "complete",
    "checkpoint",
    "start_digest",
    "start_links",
    "salts",
    "counts",
    "positions",
    "time_range",
    "end_checkpoint",
)


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
            state = line["_state"]
            if state.find(at.encode(), 0, 120) < 0 and recorded_at(event.timestamp) != at:
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
    state: dict[str, Any] = (
        aggregate.state()
        if hasattr(aggregate, "state")
        else {
            "id": str(aggregate.id),
            "version": aggregate.version,
            **{k: _plain(v) for k, v in vars(aggregate).items() if not k.startswith("_")},
        }
    )
    return state


def _plain(value: Any) -> Any:
    from goalengine.serialization import unstructure

    if isinstance(value, (datetime, date, UUID)):
        return str(value)
    return unstructure(value)
