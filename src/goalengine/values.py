"""Frozen value objects and enums of the goal domain.

Values never serialise themselves: the one converter in :mod:`goalengine.serialization` turns them
into primitives and back. Constructors validate, so a value that exists is a valid value.
"""

from __future__ import annotations

import enum
import math
import re
from datetime import date, datetime
from typing import Any

from attrs import field, frozen

from goalengine.errors import InvalidInput, InvalidType


class Horizon(enum.Enum):
    SHORT = "short"
    LONG = "long"


class Kind(enum.Enum):
    PROCESS = "process"
    OUTCOME = "outcome"


class Domain(enum.Enum):
    BEHAVIORAL = "behavioral"
    COGNITIVE = "cognitive"
    EMOTIONAL = "emotional"


class Status(enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    ACHIEVED = "achieved"
    ABANDONED = "abandoned"
    VOIDED = "voided"

    @property
    def is_open(self) -> bool:
        return self in (Status.ACTIVE, Status.PAUSED)


class Role(enum.Enum):
    THERAPIST = "therapist"
    CLIENT = "client"
    COLLATERAL = "collateral"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    SYSTEM = "system"


#: Roles that may give a 0-10 rating (Goal-Based Outcomes: client, clinician, other).
RATER_ROLES = (Role.CLIENT, Role.THERAPIST, Role.COLLATERAL)


def parse_rater(text: str | Role) -> Role:
    """The rater ``text`` names, or InvalidInput listing only the roles that rate goals."""
    names = [r.value for r in RATER_ROLES]
    role = text if isinstance(text, Role) else None
    if role is None and isinstance(text, str) and text.strip().lower() in [r.value for r in Role]:
        role = Role(text.strip().lower())
    if role in RATER_ROLES:
        return role
    shown = role.value if role is not None else text
    what = "does not rate goals" if role is not None else "is not a rater"
    raise InvalidInput(f"rater {shown!r} {what}; choose one of: {', '.join(names)}", choices=names)


class Authorship(enum.Enum):
    THERAPIST = "therapist"
    CLIENT = "client"
    CO_CREATED = "co-created"


class ReviewOutcome(enum.Enum):
    KEEP = "keep"
    ADJUST = "adjust"
    RETIRE = "retire"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    SUGGESTION = "suggestion"


class Comparator(enum.Enum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "="


def parse_enum(enum_cls: type[enum.Enum], text: str | enum.Enum, what: str) -> Any:
    """Return ``enum_cls`` member for ``text`` or raise :class:`InvalidInput` listing the choices."""
    if isinstance(text, enum_cls):
        return text
    try:
        return enum_cls(str(text).strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in enum_cls)
        raise InvalidInput(
            f"unknown {what} {text!r}; choose one of: {choices}", choices=choices
        ) from None


def _nonblank(max_len: int) -> Any:
    def check(instance: object, attribute: Any, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{attribute.name} must not be empty")
        if len(value) > max_len:
            raise InvalidInput(f"{attribute.name} is longer than {max_len} characters")

    return check


def _strip(value: str) -> str:
    return value.strip() if isinstance(value, str) else value


def _strip_opt(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


@frozen
class Actor:
    """Who did something: a role and a name, written ``role:name`` (``therapist:lee``)."""

    role: Role
    name: str = field(converter=_strip, validator=_nonblank(200))

    @classmethod
    def parse(cls, text: str) -> Actor:
        if not isinstance(text, str):
            raise InvalidType(
                f"actor is 'role:name' text, not {type(text).__name__}",
                param="actor",
                accepts="'role:name' text or an Actor",
            )
        role, sep, name = text.partition(":")
        if not sep or not name.strip():
            raise InvalidInput(
                f"actor {text!r} is not ROLE:NAME; e.g. therapist:lee or client:alex"
            )
        return cls(parse_enum(Role, role, "role"), name)

    def __str__(self) -> str:
        return f"{self.role.value}:{self.name}"


_TARGET = re.compile(
    r"^\s*(?P<measure>[A-Za-z][A-Za-z0-9_.\-]*)\s*(?P<op><=|>=|<|>|=)\s*"
    r"(?P<value>-?\d+(?:\.\d+)?)\s*(?:/\s*(?P<per>day|week))?\s*$"
)


def _finite(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(
            f"a target's threshold is a finite number, not {value!r}", param="target"
        )


@frozen
class Target:
    """What is measured and the threshold that counts as reached: ``phq9<10``, ``x>=3/week``."""

    measure: str
    comparator: Comparator
    value: float = field(validator=lambda _i, _a, v: _finite(v))
    per: str | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        m = _TARGET.match(text)
        if not m:
            raise InvalidInput(
                f"target {text!r} is not NAME OP NUMBER[/day|/week], e.g. phq9<10 or "
                "coping_skill_used>=3/week (OP one of < <= > >= =)"
            )
        return cls(
            measure=m["measure"].lower(),
            comparator=Comparator(m["op"]),
            value=float(m["value"]),
            per=m["per"],
        )

    def met_by(self, observed: float) -> bool:
        op = self.comparator
        if op is Comparator.LT:
            return observed < self.value
        if op is Comparator.LE:
            return observed <= self.value
        if op is Comparator.GT:
            return observed > self.value
        if op is Comparator.GE:
            return observed >= self.value
        return observed == self.value

    def __str__(self) -> str:
        value = int(self.value) if self.value.is_integer() else self.value
        return f"{self.measure}{self.comparator.value}{value}" + (
            f"/{self.per}" if self.per else ""
        )


@frozen
class ScaleAnchors:
    """What 0 (the starting point) and 10 (the goal reached) look like for this client."""

    low: str | None = field(default=None, converter=_strip_opt)
    high: str | None = field(default=None, converter=_strip_opt)


@frozen
class Finding:
    """What a rule said about a command. Errors refuse it; the rest are stored with the event."""

    rule: str
    severity: Severity
    message: str
    plugin: str
    plugin_version: str


@frozen
class Change:
    """One field of a revision: the value before and after, as primitives."""

    field: str
    before: Any
    after: Any


def _domains(value: Any) -> tuple[Domain, ...]:
    items = tuple(parse_enum(Domain, d, "domain") for d in value)
    return tuple(dict.fromkeys(items))


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in value if v and v.strip()))


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, dict) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))


def _check_domains(instance: object, attribute: Any, value: tuple[Domain, ...]) -> None:
    if not value:
        raise InvalidInput("a goal needs at least one domain: behavioral, cognitive or emotional")


@frozen
class GoalSpec:
    """Everything about a goal that a revision may change."""

    title: str = field(converter=_strip, validator=_nonblank(200))
    horizon: Horizon
    kind: Kind
    domains: tuple[Domain, ...] = field(converter=_domains, validator=_check_domains)
    description: str | None = field(default=None, converter=_strip_opt)
    values: tuple[str, ...] = field(default=(), converter=_texts)
    anchors: ScaleAnchors = ScaleAnchors()
    target: Target | None = None
    due: date | None = None
    authorship: Authorship = Authorship.CO_CREATED
    client_agreed: bool = True
    modality: str | None = field(default=None, converter=_strip_opt)
    attributes: tuple[tuple[str, str], ...] = field(default=(), converter=_pairs)


#: The fields of :class:`GoalSpec` that ``revise`` accepts.
REVISABLE = (
    "title",
    "description",
    "horizon",
    "kind",
    "domains",
    "values",
    "anchors",
    "target",
    "due",
    "authorship",
    "client_agreed",
    "modality",
    "attributes",
)


@frozen
class Rating:
    """One 0-10 rating of a goal, by whom, when it happened and when it was recorded."""

    value: int
    rater: Role
    actor: Actor
    recorded_at: datetime
    note: str | None = None
    session: int | None = None
    occurred_on: date | None = None


@frozen
class Review:
    """The periodic "is this goal still the right one?" check."""

    outcome: ReviewOutcome
    actor: Actor
    recorded_at: datetime
    value_alignment: int | None = None
    note: str | None = None
    occurred_on: date | None = None


@frozen
class Session:
    """A therapy session with the client: its number and its date."""

    number: int
    on: date
