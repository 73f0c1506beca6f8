"""goalengine: therapy goals as an auditable, event-sourced record.

The public API: :class:`GoalEngine`, the value types and enums, and the errors.
"""

from goalengine.engine import GoalEngine
from goalengine.errors import (
    AmbiguousId,
    Conflict,
    GoalEngineError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PluginError,
    RuleViolation,
    StoreError,
)
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

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "AmbiguousId",
    "Authorship",
    "Conflict",
    "Domain",
    "Finding",
    "GoalEngine",
    "GoalEngineError",
    "Horizon",
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
]
