"""AuditAccess: a record that someone read history, a past state, or exported the store.

Each access is a small aggregate with one event, saved through the same recorder as every other
event, so the access log is itself linked into the integrity chain (and cannot be quietly edited).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from goalengine.values import Actor, Finding


class AuditAccess(Aggregate):
    """One audited read or export: who, when (the event's recording time), what."""

    class Event(Aggregate.Event):
        actor: Actor
        findings: tuple[Finding, ...]

    class Recorded(Event, Aggregate.Created):
        action: str
        subject: str
        detail: dict[str, Any]

    def __init__(
        self,
        action: str,
        subject: str,
        detail: dict[str, Any],
        actor: Actor,
        findings: tuple[Finding, ...] = (),
    ) -> None:
        self.action = action
        self.subject = subject
        self.detail = dict(detail)
        self.actor = actor
