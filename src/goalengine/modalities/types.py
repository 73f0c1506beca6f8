"""The values plugins register and return, and the frozen views hooks receive.

Everything here is an immutable attrs value. Hooks receive *views* (:class:`GoalView`,
:class:`ClientView`) — plain snapshots of the goal and client at command time — never aggregates or
the store, so an evaluation hook is a pure function of its arguments.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from attrs import field, frozen

from goalengine.errors import InvalidInput
from goalengine.values import (
    Domain,
    Horizon,
    Kind,
    ScaleAnchors,
    Severity,
    Status,
    Target,
    parse_enum,
)

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_RULE_ID = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")


def _check_name(instance: object, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"{attribute.name} {value!r} must be a lower-case name: letters, digits, - or _"
        )


def _check_rule_id(instance: object, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not _RULE_ID.match(value):
        raise ValueError(f"rule id {value!r} must be dotted lower-case, e.g. 'cbt.symptom-target'")


def _severity(value: Severity | str) -> Severity:
    result: Severity = parse_enum(Severity, value, "severity")
    return result


def _choices(value: Any) -> tuple[str, ...]:
    return tuple(str(v).strip().lower() for v in value)


@frozen
class Modality:
    """A way of working that goals and clients can be assigned to (``--modality NAME``)."""

    name: str = field(validator=_check_name)
    title: str
    description: str = ""


@frozen
class Attribute:
    """A field a modality adds to its goals, given as ``--attr KEY=VALUE``.

    ``choices`` (lower-case) restricts the values; an empty tuple accepts any non-empty text.
    ``required`` goals of the modality cannot be created or revised without it.
    """

    modality: str = field(validator=_check_name)
    key: str = field(validator=_check_name)
    description: str
    choices: tuple[str, ...] = field(default=(), converter=_choices)
    required: bool = False

    def check(self, value: str) -> str:
        """The normalised value, or :class:`InvalidInput` naming the accepted values."""
        text = str(value).strip()
        if not text:
            raise InvalidInput(f"attribute {self.key!r} of modality {self.modality} is empty")
        if self.choices:
            if text.lower() not in self.choices:
                raise InvalidInput(
                    f"attribute {self.key}={text!r} is not valid for modality {self.modality}; "
                    f"choose one of: {', '.join(self.choices)}",
                    choices=list(self.choices),
                )
            return text.lower()
        return text


@frozen
class Rule:
    """A rule a plugin applies: its stable ``id``, ``severity`` and what it checks.

    ``modality`` narrows a rule of a multi-modality plugin to one modality (shown by
    ``modalities show``); ``source`` names where the rule comes from (a manual, a paper).
    """

    id: str = field(validator=_check_rule_id)
    severity: Severity = field(converter=_severity)
    title: str
    explanation: str = ""
    source: str = ""
    modality: str | None = None

    def flag(self, message: str) -> Flag:
        """A :class:`Flag` of this rule with ``message``."""
        return Flag(self.id, message)


@frozen
class Flag:
    """What ``validate_goal``/``validate_priorities`` return: a registered rule id and a message.

    The host turns each flag into a :class:`goalengine.Finding`, adding the rule's severity and
    the plugin's name and version.
    """

    rule: str
    message: str


@frozen
class Priority:
    """One goal's place in an ordering, with the reason shown to the clinician."""

    goal_id: str
    reason: str


def _kind(value: Kind | str) -> Kind:
    result: Kind = parse_enum(Kind, value, "kind")
    return result


@frozen
class StepTemplate:
    """A suggested step for chaining under a long-term goal (``goal chain``)."""

    title: str
    kind: Kind = field(default=Kind.PROCESS, converter=_kind)
    description: str = ""
    target: str | None = None


@frozen
class ReviewItem:
    """One line of a client's review: an ``alert``, a ``suggestion`` or an ``agenda`` item.

    ``risk`` items are shown first (imminent risk precedes everything else).
    """

    kind: str = field(validator=lambda _i, _a, v: _check_item_kind(v))
    message: str
    goal_id: str | None = None
    risk: bool = False


def _check_item_kind(value: str) -> None:
    if value not in REVIEW_KINDS:
        raise ValueError(f"review item kind {value!r}; use one of: {', '.join(REVIEW_KINDS)}")


REVIEW_KINDS = ("alert", "agenda", "suggestion", "error")


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, dict) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))


@frozen
class GoalView:
    """A goal as a hook sees it: the state it will have if the command goes ahead.

    ``id`` is ``None`` for a goal being created. ``modality`` is the *effective* modality: the
    goal's own, else its client's. ``steps`` are views of its chained steps (in order).
    """

    id: str | None
    client_id: str
    title: str
    horizon: Horizon
    kind: Kind
    domains: tuple[Domain, ...]
    status: Status = Status.ACTIVE
    description: str | None = None
    values: tuple[str, ...] = ()
    anchors: ScaleAnchors = field(factory=ScaleAnchors)
    target: Target | None = None
    due: date | None = None
    client_agreed: bool = True
    modality: str | None = None
    attributes: tuple[tuple[str, str], ...] = field(default=(), converter=_pairs)
    parent_id: str | None = None
    steps: tuple[GoalView, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def attr(self, key: str, default: str | None = None) -> str | None:
        """The modality attribute ``key`` (``goal.attr("category")``), else ``default``."""
        return dict(self.attributes).get(key, default)

    @property
    def is_open(self) -> bool:
        return self.status.is_open


@frozen
class ClientView:
    """A client as a hook sees it, with their other goals (voided goals left out)."""

    id: str
    name: str
    modality: str | None
    values: tuple[str, ...]
    goals: tuple[GoalView, ...] = ()
    priorities: tuple[str, ...] = ()
    sessions: int = 0

    def open_goals(self, *, top_level: bool = True) -> tuple[GoalView, ...]:
        """The client's active and paused goals (only those without a parent by default)."""
        return tuple(g for g in self.goals if g.is_open and (not top_level or g.parent_id is None))


__all__ = [
    "REVIEW_KINDS",
    "Attribute",
    "ClientView",
    "Flag",
    "GoalView",
    "Modality",
    "Priority",
    "ReviewItem",
    "Rule",
    "StepTemplate",
]
