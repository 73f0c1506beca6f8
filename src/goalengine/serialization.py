"""The one cattrs converter and the eventsourcing transcodings built on it.

Value objects are turned into JSON primitives by :func:`unstructure` and back by :func:`structure`,
for event payloads, ``--json`` output and exports alike. Each type stored in events is registered
with the event store under a stable transcoding name (``goalengine.Actor`` …): the names are part of
the stored format and never change, whatever the classes are called or where they live.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn
from eventsourcing.persistence import JSONTranscoder, Transcoding

from goalengine import values as v

T = TypeVar("T")


def make_converter() -> Converter:
    """Build the converter (a function, so that no module-level global is mutated by callers)."""
    c = Converter()
    c.register_unstructure_hook(UUID, str)
    c.register_structure_hook(UUID, lambda d, _: d if isinstance(d, UUID) else UUID(str(d)))
    c.register_unstructure_hook(datetime, lambda d: d.isoformat())
    c.register_structure_hook(
        datetime, lambda d, _: d if isinstance(d, datetime) else datetime.fromisoformat(d)
    )
    c.register_unstructure_hook(date, lambda d: d.isoformat())
    c.register_structure_hook(
        date, lambda d, _: d if isinstance(d, date) else date.fromisoformat(d)
    )

    def structure_attrs(cls: type[Any]) -> Any:
        base = make_dict_structure_fn(cls, c, _cattrs_forbid_extra_keys=True)

        def fn(data: Any, t: type[Any]) -> Any:
            return data if isinstance(data, t) else base(data, t)

        return fn

    c.register_structure_hook_factory(attrs.has, structure_attrs)
    return c


converter = make_converter()


def unstructure(obj: Any) -> Any:
    """Value → JSON primitives (dicts, lists, strings, numbers, booleans, None)."""
    return converter.unstructure(obj)


def structure(data: Any, cls: type[T]) -> T:
    """JSON primitives → value of ``cls``."""
    return converter.structure(data, cls)


class _AttrsTranscoding(Transcoding):
    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name

    def encode(self, obj: Any) -> Any:
        return converter.unstructure(obj, self.type)

    def decode(self, data: Any) -> Any:
        return converter.structure(data, self.type)


class _EnumTranscoding(Transcoding):
    def __init__(self, cls: type[enum.Enum], name: str) -> None:
        self.type = cls
        self.name = name

    def encode(self, obj: Any) -> Any:
        return obj.value

    def decode(self, data: Any) -> Any:
        return self.type(data)


class _DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


#: Stable transcoding names. Never rename or reuse one: they are stored in every event.
TRANSCODED: dict[str, type[Any]] = {
    "goalengine.Actor": v.Actor,
    "goalengine.Target": v.Target,
    "goalengine.ScaleAnchors": v.ScaleAnchors,
    "goalengine.Finding": v.Finding,
    "goalengine.Change": v.Change,
    "goalengine.GoalSpec": v.GoalSpec,
    "goalengine.Rating": v.Rating,
    "goalengine.Review": v.Review,
    "goalengine.Session": v.Session,
    "goalengine.Horizon": v.Horizon,
    "goalengine.Kind": v.Kind,
    "goalengine.Domain": v.Domain,
    "goalengine.Status": v.Status,
    "goalengine.Role": v.Role,
    "goalengine.Authorship": v.Authorship,
    "goalengine.ReviewOutcome": v.ReviewOutcome,
    "goalengine.Severity": v.Severity,
    "goalengine.Comparator": v.Comparator,
}


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every goalengine type with an eventsourcing JSON transcoder."""
    transcoder.register(_DateAsISO())
    for name, cls in TRANSCODED.items():
        if issubclass(cls, enum.Enum):
            transcoder.register(_EnumTranscoding(cls, name))
        else:
            transcoder.register(_AttrsTranscoding(cls, name))
