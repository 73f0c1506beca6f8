"""The errors goalengine raises, each with a message a person can act on.

Every error carries ``message`` (one line, shown as is by the CLI) and ``details`` (a dict of
machine-readable facts, e.g. the candidates of an ambiguous id prefix). ``exit_code`` follows the
CLI conventions: 1 refused by the domain, 2 usage, 3 environment.
"""

from __future__ import annotations

import re
from typing import Any

# ``scheme://user:secret@`` in a URL, and ``password=secret`` in a libpq connection string.
_URL_SECRET = re.compile(r"(?i)([a-z][a-z0-9+.\-]*://[^\s:/@]*):[^\s/]*@")
_KEY_SECRET = re.compile(r"(?i)\b(password|passwd|pwd)\s*=\s*('[^']*'|\S+)")


def redact(text: str) -> str:
    """``text`` with every credential replaced by ``***``: the password of a URL
    (``postgresql://user:***@host``) and ``password=…`` of a connection string."""
    text = _URL_SECRET.sub(r"\1:***@", text)
    return _KEY_SECRET.sub(r"\1=***", text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redacted(v) for v in value)
    return value


class GoalEngineError(Exception):
    """Base class of every error goalengine raises on purpose.

    ``message`` names records by their short id, never by their content (a client's name, a
    goal's title, a note or a value): embedders log exceptions. What a screen needs to show
    (the titles of an ambiguous prefix's candidates) goes in ``details``. Credentials are
    redacted from both, whatever raised the error.
    """

    exit_code = 1
    #: Whether running the same command again may succeed (a write conflict, a busy store).
    retryable = False

    def __init__(self, message: str, **details: Any) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = _redacted(details)

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def screen(self) -> str:
        """The message with what ``details`` carries for a person at a screen (the CLI's human
        output): the names or titles of an ambiguous prefix's candidates, the value given and
        the declared ones. Never logged by goalengine; ``message`` stays free of content."""
        text = self.message
        for c in self.details.get("candidates") or ():
            label = next((v for k, v in c.items() if k != "id" and v), None)
            short = str(c.get("id", ""))[:8]
            if label and short:
                text = text.replace(short, f"{short} ({label})", 1)
        extra: list[str] = []
        if isinstance(self.details.get("given"), str):
            extra.append(f"given {self.details['given']!r}")
        values = self.details.get("values")
        if isinstance(values, list) and "value" in self.message:
            listed = "; ".join(f"{i}. {v}" for i, v in enumerate(values, 1))
            extra.append(f"declared: {listed or 'none'}")
        return f"{text} ({', '.join(extra)})" if extra else text


class InvalidInput(GoalEngineError, ValueError):
    """A value the caller gave is malformed or out of range (nothing was recorded).

    Also a :class:`ValueError`, so an embedder's ``except ValueError`` catches it;
    ``details['param']`` names the parameter when one value is at fault."""

    exit_code = 2


class InvalidType(InvalidInput, TypeError):
    """A value of the wrong type (a text where a list of texts belongs, a float where a whole
    number does). An :class:`InvalidInput` (exit 2) that is also a :class:`TypeError`."""


class EngineClosed(GoalEngineError):
    """The engine was closed (``GoalEngine.close()``); open a new one to go on."""


class NotFound(GoalEngineError):
    """No goal, client or version matches what was asked for."""


class AmbiguousId(NotFound):
    """An id prefix matches more than one record; ``details['candidates']`` lists them."""


class Conflict(GoalEngineError):
    """The command is not allowed in the current state (e.g. scaling an abandoned goal),
    or someone else changed the record at the same moment."""


class RuleViolation(GoalEngineError):
    """A modality or built-in rule refused the command; ``details['findings']`` lists why.

    The message names the rules only (a finding's text may quote a goal's title); ``screen``
    shows the findings' messages to a person."""

    @property
    def screen(self) -> str:
        errors = [f for f in self.details.get("findings") or () if f.get("severity") == "error"]
        if not errors:
            return self.message
        return "refused: " + "; ".join(f"{f['message']} [{f['rule']}]" for f in errors)


class PermissionDenied(GoalEngineError):
    """The actor may not do this."""


class StoreError(GoalEngineError):
    """The store cannot be opened, written, or is of a newer format than this engine reads."""

    exit_code = 3


class PluginError(GoalEngineError):
    """A plugin failed to load or raised inside a hook; ``details['plugin']`` names it."""

    exit_code = 3


class ConcurrentWrite(Conflict):
    """Another writer recorded an event on the same record first; nothing was saved.

    ``retryable``: running the command again (it reloads the record and validates afresh) may
    succeed. ``details['aggregates']`` maps each record's id to the version this writer had."""

    retryable = True


class IntegrityFailure(StoreError):
    """An integrity check failed (exit 1: refused by the domain, not an environment problem)."""

    exit_code = 1
