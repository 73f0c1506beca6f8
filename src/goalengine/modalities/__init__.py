"""Modality plugins: the contract (:mod:`.hookspecs`), the manager and the built-ins.

A plugin imports what it needs from here and ``hookimpl`` from :mod:`goalengine`.
"""

from goalengine.modalities.hookspecs import hookimpl, hookspec

# The plugin API, one explicit re-export a name (``X as X``); ``__all__`` lists it for ``import *``.
from goalengine.modalities.types import Attribute as Attribute
from goalengine.modalities.types import ClientView as ClientView
from goalengine.modalities.types import Flag as Flag
from goalengine.modalities.types import GoalView as GoalView
from goalengine.modalities.types import Modality as Modality
from goalengine.modalities.types import Priority as Priority
from goalengine.modalities.types import ReviewItem as ReviewItem
from goalengine.modalities.types import Rule as Rule
from goalengine.modalities.types import StepTemplate as StepTemplate

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
