"""Checked arguments: what every public :class:`~goalengine.GoalEngine` method does first.

Each helper takes a value as an embedder gave it and the parameter's name, and returns it in the
one type the engine stores, or raises :class:`~goalengine.errors.InvalidType` (a wrong type, also
a ``TypeError``) or :class:`~goalengine.errors.InvalidInput` (a wrong value, also a
``ValueError``) with ``details["param"]`` naming the parameter. Nothing is recorded before these
checks ran, so no value can reach an event in the wrong type (a text for a flag, a float for a
whole number, NaN) and make the record unloadable later.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from goalengine.errors import InvalidInput, InvalidType

E = TypeVar("E", bound=enum.Enum)

#: Longest text accepted anywhere (a note, a description); names and titles are shorter.
MAX_TEXT = 10_000
#: Largest whole number accepted (a session number, a position, a cursor): SQLite's INTEGER.
MAX_INT = 2**63 - 1


def _kind(value: Any) -> str:
    return type(value).__name__


def wrong_type(param: str, accepts: str, value: Any) -> InvalidType:
    return InvalidType(f"{param} is {accepts}, not {_kind(value)}", param=param, accepts=accepts)


def bad_value(param: str, message: str, accepts: str) -> InvalidInput:
    return InvalidInput(f"{param}: {message}", param=param, accepts=accepts)


def _clean_text(value: str, param: str, max_len: int) -> str:
    if len(value) > max_len:
        raise bad_value(param, f"longer than {max_len} characters", f"text of at most {max_len}")
    if "\x00" in value:
        raise bad_value(param, "contains a NUL character", "text without NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_value(
            param, "is not valid Unicode text (a lone surrogate or an undecodable byte)", "text"
        ) from None
    return value


def text(value: Any, param: str, *, max_len: int = MAX_TEXT) -> str:
    """A ``str`` (any content, checked for length, NUL and undecodable bytes)."""
    if not isinstance(value, str):
        raise wrong_type(param, "text", value)
    return _clean_text(value, param, max_len)


def opt_text(value: Any, param: str, *, max_len: int = MAX_TEXT) -> str | None:
    return None if value is None else text(value, param, max_len=max_len)


def integer(
    value: Any,
    param: str,
    *,
    low: int | None = None,
    high: int | None = None,
    what: str | None = None,
) -> int:
    """A whole number (``int``, not ``bool``, not a float even when whole) in ``low..high``;
    ``what`` names it in the message (``the review cadence``), else ``param`` does."""
    top = MAX_INT if high is None else high
    if low is None:
        accepts = f"a whole number of at most {top}"
    elif high is None:
        accepts = f"a whole number starting at {low}"
    else:
        accepts = f"a whole number from {low} to {high}"
    name = f"{what} ({param})" if what else param
    if isinstance(value, bool) or not isinstance(value, int):
        shown = repr(value) if isinstance(value, (float, bool)) else _kind(value)
        raise InvalidType(f"{name} is {accepts}, not {shown}", param=param, accepts=accepts)
    if (low is not None and value < low) or value > top:
        raise InvalidInput(f"{name} is {accepts}, not {value}", param=param, accepts=accepts)
    return value


def opt_integer(
    value: Any,
    param: str,
    *,
    low: int | None = None,
    high: int | None = None,
    what: str | None = None,
) -> int | None:
    return None if value is None else integer(value, param, low=low, high=high, what=what)


def boolean(value: Any, param: str) -> bool:
    """``True`` or ``False`` (not ``"x"``, not ``1``)."""
    if not isinstance(value, bool):
        raise wrong_type(param, "True or False", value)
    return value


def opt_boolean(value: Any, param: str) -> bool | None:
    return None if value is None else boolean(value, param)


def texts(value: Any, param: str, *, max_len: int = MAX_TEXT) -> tuple[str, ...]:
    """A sequence of texts: a list or tuple of ``str`` (a lone ``str`` is refused, it would
    become its characters)."""
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(
        value, (list, tuple, set, frozenset)
    ):
        raise wrong_type(param, "a list of texts", value)
    return tuple(text(v, f"{param}[{i}]", max_len=max_len) for i, v in enumerate(value))


def opt_texts(value: Any, param: str) -> tuple[str, ...] | None:
    return None if value is None else texts(value, param)


def choices(value: Any, param: str, enum_cls: type[E]) -> Any:
    """A list of enum members or their names (each checked as text; the names are parsed later
    with the choices in the message). Typed ``Any``: the caller's own annotation stays."""
    if isinstance(value, (str, bytes, bytearray, Mapping, enum.Enum)) or not isinstance(
        value, (list, tuple, set, frozenset)
    ):
        raise wrong_type(param, f"a list of {enum_cls.__name__} names", value)
    return tuple(choice(v, f"{param}[{i}]", enum_cls) for i, v in enumerate(value))


def choice(value: Any, param: str, enum_cls: type[E]) -> Any:
    """An ``enum_cls`` member or its name as text."""
    if isinstance(value, enum_cls):
        return value
    if not isinstance(value, str):
        names = ", ".join(str(m.value) for m in enum_cls)
        raise wrong_type(param, f"one of: {names}", value)
    return text(value, param, max_len=100)


def opt_choice(value: Any, param: str, enum_cls: type[E]) -> Any:
    return None if value is None else choice(value, param, enum_cls)


def ref(value: Any, param: str) -> str | UUID:
    """A record's id: a ``UUID`` or text (a full id or a prefix)."""
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise wrong_type(param, "an id (text or a UUID)", value)
    return text(value, param, max_len=100)


def opt_ref(value: Any, param: str) -> str | UUID | None:
    return None if value is None else ref(value, param)


def day(value: Any, param: str) -> date | str | None:
    """A day: a ``date`` (or ``datetime``) or ISO text; ``None`` stays ``None``."""
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise wrong_type(param, "a date or ISO date text", value)
    return text(value, param, max_len=100)


def moment(value: Any, param: str) -> datetime | date | str | None:
    """A moment: a ``datetime``, a ``date`` or ISO text; ``None`` stays ``None``."""
    if value is None or isinstance(value, (date, datetime)):
        return value
    if not isinstance(value, str):
        raise wrong_type(param, "a date, a date-time or ISO text", value)
    return text(value, param, max_len=100)


def str_map(value: Any, param: str) -> dict[str, str] | None:
    """A mapping of text to text (``None`` stays ``None``)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise wrong_type(param, "a mapping of text to text", value)
    return {
        text(k, f"{param} key", max_len=200): text(v, f"{param}[{k!r}]") for k, v in value.items()
    }


def actor(value: Any, param: str = "actor") -> Any:
    """``None``, an :class:`~goalengine.values.Actor` or ``role:name`` text."""
    from goalengine.values import Actor

    if value is None or isinstance(value, Actor):
        return value
    if not isinstance(value, str):
        raise wrong_type(param, "'role:name' text or an Actor", value)
    return text(value, param, max_len=300)


def target(value: Any, param: str = "target") -> Any:
    """``None``, a :class:`~goalengine.values.Target` or its text (``phq9<10``)."""
    from goalengine.values import Target

    if value is None or isinstance(value, Target):
        return value
    if not isinstance(value, str):
        raise wrong_type(param, "a Target or text like 'phq9<10'", value)
    return text(value, param, max_len=1000)


__all__ = [
    "actor",
    "bad_value",
    "boolean",
    "choice",
    "choices",
    "day",
    "integer",
    "moment",
    "opt_boolean",
    "opt_choice",
    "opt_integer",
    "opt_ref",
    "opt_text",
    "opt_texts",
    "ref",
    "str_map",
    "target",
    "text",
    "texts",
    "wrong_type",
]
