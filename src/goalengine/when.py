"""Dates and times people give → ``date`` values and aware UTC datetimes.

``parse_day`` reads the day something happened or is due (``--on``, ``--due``); ``parse_when`` reads
a moment (``--as-of``, ``--since``, ``--until``). Both accept ISO 8601, ``today`` and
``yesterday``. Cheap to import (standard library only): the CLI parses with it before any store
opens, and the engine uses the same functions, so both accept exactly the same input.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from goalengine.errors import InvalidInput


def parse_day(value: date | str | None, what: str = "date") -> date | None:
    """The local date of an ISO date (``2026-11-25``), an ISO date-time, ``today`` or
    ``yesterday``; ``None`` stays ``None``. Raises :class:`InvalidInput` naming ``what``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _local_date(value, what, value)
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InvalidInput(
            f"{what} is a date or ISO date text, not {type(value).__name__}".lstrip(),
            param=what,
        )
    text = value.strip().lower()
    today = datetime.now().astimezone().date()
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{what} {value!r} is not a date; use YYYY-MM-DD, today or yesterday".lstrip()
        ) from None
    return _local_date(moment, what, value)


def _out_of_range(what: str, value: object) -> InvalidInput:
    shown = value if isinstance(value, str) else str(value)
    return InvalidInput(
        f"{what} {shown!r} is out of range; give a date between 0001-01-02 and 9999-12-30".lstrip(),
        param=what,
    )


def _local_date(moment: datetime, what: str, given: object) -> date:
    try:
        return (moment.astimezone() if moment.tzinfo else moment).date()
    except (OverflowError, ValueError, OSError):
        raise _out_of_range(what, given) from None


def not_future(day: date | None, what: str) -> date | None:
    """``day`` unless it is after tomorrow (a day later than today anywhere on Earth)."""
    if day is not None and day > datetime.now().astimezone().date() + timedelta(days=1):
        raise InvalidInput(f"{what} {day.isoformat()} is in the future; give the day it happened")
    return day


def parse_when(value: datetime | date | str, *, end_of_day: bool, what: str = "time") -> datetime:
    """An aware UTC datetime from an ISO date or date-time (naive means local time).

    A bare date means the end of that local day when ``end_of_day`` (``--as-of``, ``--until``),
    else its start (``--since``).
    """
    if isinstance(value, str):
        text = value.strip()
        low = text.lower()
        today = datetime.now().astimezone().date()
        parsed: date | datetime
        if low in ("today", "now", "yesterday"):
            if low == "now":
                return datetime.now(UTC)
            parsed = today if low == "today" else today - timedelta(days=1)
        else:
            try:
                parsed = (
                    date.fromisoformat(text)
                    if len(text) == 10
                    else datetime.fromisoformat(text.replace("Z", "+00:00"))
                )
            except ValueError:
                raise InvalidInput(
                    f"{what} {value!r} is not a date or date-time; use e.g. 2026-11-25 or "
                    "2026-11-25T14:30"
                ) from None
        value = parsed
    elif not isinstance(value, date):
        raise InvalidInput(
            f"{what} is a date, a date-time or ISO text, not {type(value).__name__}",
            param=what,
        )
    given = value
    if not isinstance(value, datetime):
        moment = time.max if end_of_day else time.min
        value = datetime.combine(value, moment)
    try:
        if value.tzinfo is None:
            value = value.astimezone()  # naive: local time
        return value.astimezone(UTC)
    except (OverflowError, ValueError, OSError):
        # 0001-01-01 or 9999-12-31 in a zone that moves it past the calendar's ends.
        raise _out_of_range(what, given) from None


def utc_text(moment: datetime) -> str:
    """A moment as every result shows it: UTC, ISO 8601, always with microseconds (so the same
    moment reads the same everywhere, and the texts sort as the moments do)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
