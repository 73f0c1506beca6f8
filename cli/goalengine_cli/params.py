"""Click parameter types for domain-shaped values: actors, targets, dates, and the enums.

Each type parses with the domain's own parser and turns its :class:`goalengine.InvalidInput` into
``self.fail(...)``, so click reports a bad value as a usage error (exit 2) before any store opens.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from goalengine.errors import InvalidInput
from goalengine.values import Actor, Target
from goalengine.when import parse_day

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


def choice_of(enum_cls: type[enum.Enum], *only: enum.Enum) -> click.Choice[str]:
    """A case-insensitive choice among the values of ``enum_cls`` (or just ``only``)."""
    return click.Choice([m.value for m in (only or tuple(enum_cls))], case_sensitive=False)


ACTOR = ActorType()
SCALE = ScaleType()
TARGET = TargetType()
DATE = DateType()
