"""Event-sourced aggregates: :class:`Goal` and :class:`Client`."""

from goalengine.aggregates.client import Client
from goalengine.aggregates.goal import Goal

__all__ = ["Client", "Goal"]
