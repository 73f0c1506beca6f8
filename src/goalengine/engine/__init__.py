"""GoalEngine: the one façade for embedders, the CLI and plugins.

Every command is get → decide → save: it loads the aggregates it needs, lets them check their
invariants and trigger events, and saves every changed aggregate (with its read-model rows and
chain links) in one atomic ``save``. A command that raises has recorded nothing. Queries return
plain JSON-shaped values, never aggregates.

The façade is one class made of areas, each a module of this package on one core
(:class:`~goalengine.engine.core.EngineCore`): clients, goals (commands), goal_reads (queries and
series), rules (plugins, priorities, the client review), audit and admin.
"""

from __future__ import annotations

import warnings
from typing import Any
from uuid import UUID

from goalengine.engine.admin import AdminArea
from goalengine.engine.audit import AuditArea
from goalengine.engine.core import ActorLike, default_actor
from goalengine.engine.rules import RulesArea
from goalengine.results import ClientReview, GoalReviewed, OutcomeName
from goalengine.values import ReviewOutcome


class GoalEngine(AuditArea, RulesArea, AdminArea):
    """Therapy goals as an auditable, event-sourced record.

    >>> with GoalEngine("memory://", actor="therapist:lee") as engine:
    ...     client = engine.add_client("Alex", values=["being a present parent"])
    ...     goal = engine.create_goal(client["id"], "Walk 20 minutes after lunch",
    ...                               horizon="short", kind="process", domains=["behavioral"])
    ...     engine.scale(goal["id"], 4)["value"]
    4

    ``store`` is a URL (``sqlite:///file.db``, ``memory://``, ``postgresql://…``); without one the
    default SQLite file in the user's data directory is used; ``create=False`` refuses a store
    that is not there instead of creating it. ``actor`` (``role:name``) is recorded on every
    event; each command also takes ``actor=`` to act as someone else; without either, commands
    that record are refused. ``plugins`` (from
    :func:`goalengine.modalities.manager.make_manager`) replaces the installed plugins, which are
    otherwise all loaded on first use. The engine reads no environment variable.

    One engine serves one thread at a time; see docs/embedding.md for concurrency.
    """

    def __enter__(self) -> GoalEngine:
        return self

    # -- names of the previous release, kept one release ----------------------------------------

    def review(
        self, goal: str | UUID, outcome: ReviewOutcome | OutcomeName, **kwargs: Any
    ) -> GoalReviewed:
        """Deprecated: use :meth:`record_goal_review`."""
        warnings.warn(
            "GoalEngine.review is renamed record_goal_review", DeprecationWarning, stacklevel=2
        )
        return self.record_goal_review(goal, outcome, **kwargs)

    def review_client(self, client: str | UUID) -> ClientReview:
        """Deprecated: use :meth:`client_review`."""
        warnings.warn(
            "GoalEngine.review_client is renamed client_review", DeprecationWarning, stacklevel=2
        )
        return self.client_review(client)


__all__ = ["ActorLike", "GoalEngine", "default_actor"]
