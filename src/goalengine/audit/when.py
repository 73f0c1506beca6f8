"""Times people give (``--as-of``, ``--since``, ``--until``) → aware UTC datetimes.

Cheap to import (standard library only): the CLI parses times with it before any store opens.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from goalengine.errors import InvalidInput


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
    if not isinstance(value, datetime):
        moment = time.max if end_of_day else time.min
        value = datetime.combine(value, moment)
    if value.tzinfo is None:
        value = value.astimezone()  # naive: local time
    return value.astimezone(UTC)
