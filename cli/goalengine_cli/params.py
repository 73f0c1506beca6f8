"""Click parameter types for domain-shaped values: actors, targets, dates, and the enums.

Each type parses with the domain's own parser and turns its :class:`goalengine.InvalidInput` into
``self.fail(...)``, so click reports a bad value as a usage error (exit 2) before any store opens.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import click

from goalengine.errors import InvalidInput
from goalengine.values import Actor, Target
from goalengine.when import parse_day, parse_when

if TYPE_CHECKING:
    _ParamType = click.ParamType[Any]
else:  # click < 8.5 has no generic ParamType
    _ParamType = click.ParamType


class ActorType(_ParamType):
    """``ROLE:NAME`` (``therapist:lee``, ``client:alex``) → :class:`goalengine.Actor`."""

    name = "ROLE:NAME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Actor:
        if isinstance(value, Actor):
            return value
        try:
            return Actor.parse(str(value))
        except InvalidInput as e:
            self.fail(e.message, param, ctx)


class TargetType(_ParamType):
    """``NAME OP NUMBER[/day|/week]`` (``phq9<10``) → :class:`goalengine.Target`.

    With ``clearable``, an empty string passes through as ``""`` (``goal revise --target ""``
    removes the target).
    """

    name = "TARGET"

    def __init__(self, *, clearable: bool = False) -> None:
        self.clearable = clearable

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Target | str:
        if isinstance(value, Target):
            return value
        text = str(value)
        if self.clearable and not text.strip():
            return ""
        try:
            return Target.parse(text)
        except InvalidInput as e:
            self.fail(e.message, param, ctx)


class DateType(_ParamType):
    """An ISO date (``2026-11-25``), an ISO date-time (its local date), ``today`` or ``yesterday``.

    With ``clearable``, an empty string passes through as ``""`` (``--due ""`` removes a due date).
    """

    name = "DATE"

    def __init__(self, *, clearable: bool = False) -> None:
        self.clearable = clearable

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> date | str:
        text = value if isinstance(value, date) else str(value).strip()
        if self.clearable and text == "":
            return ""
        try:
            day = parse_day(text, "")  # click names the option
        except InvalidInput as e:
            self.fail(e.message, param, ctx)
        assert day is not None
        return day


class ScaleType(click.IntRange):
    """A 0-10 rating: a whole number from 0 (the starting point) to 10 (the goal reached)."""

    name = "0-10"

    def __init__(self) -> None:
        super().__init__(0, 10)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"a rating is a whole number from 0 to 10, not {value}", param, ctx)


E = TypeVar("E", bound=enum.Enum)


class EnumChoice(click.Choice[str], Generic[E]):
    """A case-insensitive choice among an enum's values, converted to the enum member (so the
    engine receives ``Horizon.LONG``, never a loose string)."""

    def __init__(self, enum_cls: type[E], members: tuple[E, ...]) -> None:
        super().__init__([str(m.value) for m in members], case_sensitive=False)
        self.enum_cls = enum_cls

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.enum_cls):
            return value
        return self.enum_cls(super().convert(value, param, ctx))


def choice_of(enum_cls: type[E], *only: E) -> EnumChoice[E]:
    """A case-insensitive choice among the values of ``enum_cls`` (or just ``only``)."""
    return EnumChoice(enum_cls, only or tuple(enum_cls))


ACTOR = ActorType()
SCALE = ScaleType()
TARGET = TargetType()
DATE = DateType()


class WhenType(_ParamType):
    """An ISO date or date-time (local unless it says otherwise), ``today`` or ``now``.

    A bare date is the end of that local day for ``--as-of``/``--until``, its start for
    ``--since``.
    """

    name = "TIME"

    def __init__(self, *, end_of_day: bool) -> None:
        self.end_of_day = end_of_day

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        what = f"--{param.name.replace('_', '-')}" if param and param.name else "time"
        try:
            return parse_when(str(value), end_of_day=self.end_of_day, what=what)
        except InvalidInput as e:
            self.fail(e.message, param, ctx)


AS_OF = WhenType(end_of_day=True)
UNTIL = WhenType(end_of_day=True)
SINCE = WhenType(end_of_day=False)


class SafePath(click.Path):
    """``click.Path`` whose checks never raise from the operating system: a NUL byte, a name
    too long or a path through a file (``/dev/null/x``) is a usage error (exit 2)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "\x00" in value:
            self.fail("a path cannot contain a NUL byte", param, ctx)
        try:
            return super().convert(value, param, ctx)
        except (OSError, ValueError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            self.fail(f"cannot use {str(value)!r}: {why}", param, ctx)
