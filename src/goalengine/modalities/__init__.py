"""Modality plugins: the contract (:mod:`.hookspecs`), the manager and the built-ins.

A plugin imports what it needs from here and ``hookimpl`` from :mod:`goalengine`.
"""

from goalengine.modalities.hookspecs import hookimpl, hookspec
from goalengine.modalities.types import (
    Attribute,
    ClientView,
    Flag,
    GoalView,
    Modality,
    Priority,
    ReviewItem,
    Rule,
    StepTemplate,
)

__all__ = [
    "Attribute",
    "ClientView",
    "Flag",
    "GoalView",
    "Modality",
    "Priority",
    "ReviewItem",
    "Rule",
    "StepTemplate",
    "hookimpl",
    "hookspec",
]
