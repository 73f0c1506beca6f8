"""Erasure: the chained, store-level record that an owner's salt was destroyed on purpose.

The privacy issue erases a client by destroying their key and salt. Without the salt, neither
the content digests nor (rule 2) the owner's tag can be recomputed, so a missing salt is an
integrity failure — *unless* the chain itself records that owner's erasure. This record is that
reason, and the only one: an :class:`Erasure` aggregate (owner ``""``, like the access records)
whose one event names the owner and carries their owner tag, so that the links of the erased
owner's events still verify as a chain after the salt is gone.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from goalengine.audit.chain import SALT_TABLE, owner_tag
from goalengine.values import Actor, Finding


class Erasure(Aggregate):
    """An owner's content made unreadable on purpose: who, when, whose, why."""

    class Event(Aggregate.Event):
        actor: Actor
        findings: tuple[Finding, ...]

    class Recorded(Event, Aggregate.Created):
        owner: str
        owner_tag: str
        reason: str

    def __init__(
        self,
        owner: str,
        owner_tag: str,
        reason: str,
        actor: Actor,
        findings: tuple[Finding, ...] = (),
    ) -> None:
        self.owner = owner
        self.owner_tag = owner_tag
        self.reason = reason
        self.actor = actor


def record_erasure(store: Any, owner: str, reason: str, actor: Actor) -> Erasure:
    """Record (chained) that ``owner``'s salt is to be destroyed; the caller destroys it after
    this is committed. The record carries the owner's tag, computed from the salt now."""
    rows = store.query(f"SELECT salt FROM {{p}}{SALT_TABLE} WHERE owner = ?", (owner,))
    if not rows:
        from goalengine.errors import NotFound

        raise NotFound(f"no salt for owner {owner[:8]}: nothing to erase", owner=owner)
    erasure = Erasure(owner, owner_tag(bytes.fromhex(rows[0]["salt"])), reason, actor)
    store.app.save(erasure)
    return erasure
