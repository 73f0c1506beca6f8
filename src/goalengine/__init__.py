"""goalengine: therapy goals as an auditable, event-sourced record.

The public API: :class:`GoalEngine`, the value types and enums, and the errors.

:class:`GoalEngine` is imported on first use (PEP 562 ``__getattr__``): it pulls in eventsourcing
and the database drivers, which the CLI's ``--help`` and the value types do not need.
"""

from typing import TYPE_CHECKING, Any

from goalengine.errors import (
    AmbiguousId,
    ConcurrentWrite,
    Conflict,
    GoalEngineError,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PluginError,
    RuleViolation,
    StoreError,
)
from goalengine.modalities.hookspecs import hookimpl
from goalengine.values import (
    Actor,
    Authorship,
    Domain,
    Finding,
    Horizon,
    Kind,
    ReviewOutcome,
    Role,
    ScaleAnchors,
    Severity,
    Status,
    Target,
)

if TYPE_CHECKING:
    from goalengine.engine import GoalEngine

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "GoalEngine":
        from goalengine.engine import GoalEngine

        return GoalEngine
    raise AttributeError(f"module 'goalengine' has no attribute {name!r}")


__all__ = [
    "Actor",
    "AmbiguousId",
    "Authorship",
    "ConcurrentWrite",
    "Conflict",
    "Domain",
    "Finding",
    "GoalEngine",
    "GoalEngineError",
    "Horizon",
    "IntegrityFailure",
    "InvalidInput",
    "Kind",
    "NotFound",
    "PermissionDenied",
    "PluginError",
    "ReviewOutcome",
    "Role",
    "RuleViolation",
    "ScaleAnchors",
    "Severity",
    "Status",
    "StoreError",
    "Target",
    "__version__",
    "hookimpl",
]
