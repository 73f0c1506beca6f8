"""How one stored event reads in a history, the audit feed and the event feed.

``history_entry`` turns a domain event into JSON primitives: version, event name, recording time,
actor, the event's own fields (values unstructured by the one converter) and its findings.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from goalengine.results import HistoryEntry
from goalengine.serialization import unstructure
from goalengine.when import utc_text

#: The attributes every event has, shown apart (or not at all) in an entry.
EVENT_BASE = frozenset(
    {"originator_id", "originator_version", "timestamp", "actor", "findings", "originator_topic"}
)


def event_fields(event: Any) -> dict[str, Any]:
    """The event's own fields as JSON primitives (what it recorded beyond the common ones)."""
    fields = {k: v for k, v in vars(event).items() if k not in EVENT_BASE}
    data = unstructure(fields)
    if "changes" in data:
        data["changes"] = [_change(c) for c in event.changes]
    if "spec" in data:
        data["spec"] = unstructure(event.spec)
        data["spec"]["target"] = str(event.spec.target) if event.spec.target else None
    return {k: plain(v) for k, v in data.items()}


def _change(change: Any) -> dict[str, Any]:
    """A revision's change; a target reads as its text (``phq9<10``), as in every result."""
    doc: dict[str, Any] = unstructure(change)
    if change.field == "target":
        for side in ("before", "after"):
            value = doc[side]
            doc[side] = target_text(value) if value else None
    return doc


def target_text(data: dict[str, Any]) -> str:
    from goalengine.serialization import structure
    from goalengine.values import Target

    return str(structure(data, Target))


def history_entry(event: Any) -> HistoryEntry:
    entry = {
        "version": event.originator_version,
        "event": type(event).__name__,
        "recorded_at": utc_text(event.timestamp),
        "actor": str(event.actor),
        **event_fields(event),
        "findings": [unstructure(f) for f in event.findings],
    }
    return cast(HistoryEntry, entry)


def plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return value.value
    return value
