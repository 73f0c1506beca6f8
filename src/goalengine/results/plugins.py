"""The results of rules and plugins: priorities, step suggestions, the client review, listings."""

from __future__ import annotations

from typing import Literal, TypedDict

from goalengine.results.common import FindingResult, KindName, SeverityName, StatusName


class PriorityEntry(TypedDict):
    """A goal in priority order, with the reason for its place and who decided it."""

    position: int
    id: str
    title: str
    status: StatusName
    category: str | None
    attributes: dict[str, str]
    reason: str
    plugin: str | None
    plugin_version: str | None


class Prioritized(TypedDict):
    client_id: str
    priorities: list[str]
    order: list[PriorityEntry]
    findings: list[FindingResult]


class StepSuggestion(TypedDict):
    title: str
    kind: KindName
    description: str
    target: str | None
    plugin: str
    plugin_version: str


class ReviewItemResult(TypedDict):
    kind: Literal["alert", "agenda", "suggestion", "error"]
    message: str
    goal_id: str | None
    risk: bool
    plugin: str
    plugin_version: str


class ClientReview(TypedDict):
    """``review CLIENT --json``: what needs attention, risk items first (not recorded)."""

    client_id: str
    modality: str | None
    items: list[ReviewItemResult]


class PluginInfo(TypedDict):
    name: str
    version: str
    status: Literal["ok", "failed"]
    reason: str | None
    source: str
    module: str
    modalities: list[str]
    hooks: list[str]
    rules: list[str]
    attributes: list[str]


class ModalityBase(TypedDict):
    """What a modality is and the plugin that provides it (both listings start with it)."""

    name: str
    title: str
    description: str
    plugin: str
    plugin_version: str
    plugin_status: str


class ModalityInfo(ModalityBase):
    """A modality in ``modalities list --json``: its attributes' keys and its rules' ids."""

    attributes: list[str]
    rules: list[str]


class AttributeInfo(TypedDict):
    key: str
    description: str
    choices: list[str]
    required: bool


class RuleInfo(TypedDict):
    id: str
    severity: SeverityName
    title: str
    explanation: str
    source: str
    plugin: str
    plugin_version: str


class ModalityDetail(ModalityBase):
    """``modalities show --json``: the attributes and rules in full, then the general rules."""

    attributes: list[AttributeInfo]
    rules: list[RuleInfo]
    general_rules: list[RuleInfo]
