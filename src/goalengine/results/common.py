"""The fixed word sets of every result (the enums' values) and the pieces every area uses."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

HorizonName = Literal["short", "long"]
KindName = Literal["process", "outcome"]
DomainName = Literal["behavioral", "cognitive", "emotional"]
StatusName = Literal["active", "paused", "achieved", "abandoned", "voided"]
RoleName = Literal["therapist", "client", "collateral", "supervisor", "auditor", "system"]
RaterName = Literal["client", "therapist", "collateral"]
AuthorshipName = Literal["therapist", "client", "co-created"]
OutcomeName = Literal["keep", "adjust", "retire"]
SeverityName = Literal["error", "warning", "suggestion"]
AggregateTypeName = Literal["goal", "client", "access"]
#: The order of a series query: newest first (the default) or oldest first.
Order = Literal["newest", "oldest"]


class FindingResult(TypedDict):
    """What a rule found, stamped with the plugin that found it."""

    rule: str
    severity: SeverityName
    message: str
    plugin: str
    plugin_version: str


class ChangeResult(TypedDict):
    """One field of a revision, before and after (a target as its text)."""

    field: str
    before: Any
    after: Any
