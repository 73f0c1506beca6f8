"""The errors goalengine raises, each with a message a person can act on.

Every error carries ``message`` (one line, shown as is by the CLI) and ``details`` (a dict of
machine-readable facts, e.g. the candidates of an ambiguous id prefix). ``exit_code`` follows the
CLI conventions: 1 refused by the domain, 2 usage, 3 environment.
"""

from __future__ import annotations

from typing import Any


class GoalEngineError(Exception):
    """Base class of every error goalengine raises on purpose."""

    exit_code = 1
    #: Whether running the same command again may succeed (a write conflict, a busy store).
    retryable = False

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def type(self) -> str:
        return type(self).__name__


class InvalidInput(GoalEngineError):
    """A value the caller gave is malformed or out of range (nothing was recorded)."""

    exit_code = 2


class NotFound(GoalEngineError):
    """No goal, client or version matches what was asked for."""


class AmbiguousId(NotFound):
    """An id prefix matches more than one record; ``details['candidates']`` lists them."""


class Conflict(GoalEngineError):
    """The command is not allowed in the current state (e.g. scaling an abandoned goal),
    or someone else changed the record at the same moment."""


class RuleViolation(GoalEngineError):
    """A modality or built-in rule refused the command; ``details['findings']`` lists why."""


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
