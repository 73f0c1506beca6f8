"""The typed results of every public :class:`~goalengine.GoalEngine` method.

Each is a ``TypedDict`` whose keys are exactly what ``--json`` prints for the matching command, so
an embedder's ``mypy --strict`` catches a misspelt key, and the CLI prints the very dict the engine
returned. Fixed word sets are ``Literal`` types (the enums' values). One name, one type per concept
in every result: ``actor`` is always ``role:name`` text, a ``target`` always its text
(``phq9<10``; ``target_detail`` holds its parts), times are UTC ISO 8601, days ISO dates.

Nothing here runs: the module only describes shapes (``typing`` and nothing else).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

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


# -- pieces -------------------------------------------------------------------------------------


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


class Anchors(TypedDict):
    low: str | None
    high: str | None


class TargetDetail(TypedDict):
    measure: str
    comparator: Literal["<", "<=", ">", ">=", "="]
    value: float
    per: str | None


class LatestRating(TypedDict):
    """A rater's latest rating as a goal keeps it (``goal show``)."""

    value: int
    rater: RaterName
    actor: str
    recorded_at: str
    note: str | None
    session: int | None
    occurred_on: str | None
    day: str


class LastReview(TypedDict):
    outcome: OutcomeName
    actor: str
    recorded_at: str
    value_alignment: int | None
    note: str | None
    occurred_on: str | None
    day: str


class SessionRef(TypedDict):
    number: int
    on: str


# -- goals --------------------------------------------------------------------------------------


class GoalState(TypedDict):
    """A goal (``goal show --json``): what it is, where it stands, its latest ratings."""

    id: str
    client_id: str
    title: str
    description: str | None
    status: StatusName
    status_note: str | None
    horizon: HorizonName
    kind: KindName
    domains: list[DomainName]
    values: list[str]
    anchors: Anchors
    target: str | None
    target_detail: TargetDetail | None
    due: str | None
    authorship: AuthorshipName
    client_agreed: bool
    modality: str | None
    attributes: dict[str, str]
    #: The latest rating by when it happened, from any rater (None: not rated yet).
    scale: int | None
    rated_at: str | None
    latest_ratings: dict[str, LatestRating]
    rating_count: int
    last_review: LastReview | None
    review_count: int
    parent_id: str | None
    steps: list[str]
    created_by: str
    created_at: str
    updated_at: str
    version: int


class GoalEntry(GoalState):
    """A goal in a list (``goal list --json``): ``depth`` 1 for a step, its 1-based
    ``position`` among its parent's steps."""

    depth: int
    position: int | None


class GoalChanged(GoalState):
    """A goal after a command that evaluated the rules (create, chain, pause … void)."""

    findings: list[FindingResult]


class GoalRevised(GoalChanged):
    changes: list[ChangeResult]


class GoalReviewed(GoalState):
    """A goal after its periodic review, with the review recorded (``review``)."""

    review: ReviewRow


class RatingRow(TypedDict):
    """One rating (``goal ratings --json``; what ``scale`` returns)."""

    goal_id: str
    version: int
    value: int
    rater: RaterName
    note: str | None
    session: int | None
    occurred_on: str | None
    #: The day it counts on: ``occurred_on``, else the UTC day it was recorded.
    day: str
    recorded_at: str
    actor: str


class ReviewRow(TypedDict):
    """One periodic review of a goal (``goal reviews --json``)."""

    goal_id: str
    version: int
    outcome: OutcomeName
    value_alignment: int | None
    note: str | None
    occurred_on: str | None
    day: str
    recorded_at: str
    actor: str


# -- clients ------------------------------------------------------------------------------------


class ClientState(TypedDict):
    """A client as the client aggregate keeps it."""

    id: str
    name: str
    modality: str | None
    values: list[str]
    review_every: int
    session_count: int
    last_session: SessionRef | None
    review_due: bool
    priorities: list[str]
    created_by: str
    created_at: str
    updated_at: str
    version: int


class ClientDetail(ClientState):
    """``client show --json``: the client with their goals in tree order."""

    goals: list[GoalEntry]


class ClientAsOf(ClientDetail):
    """``client show --as-of T --json``: the client and their goals as they stood at ``as_of``."""

    as_of: str


class ClientEntry(ClientState):
    """``client list --json``: each client with the counts of their goals by status."""

    goals: dict[str, int]


class ClientRevised(ClientState):
    changes: list[ChangeResult]


class SessionRecorded(TypedDict):
    client_id: str
    number: int
    on: str
    review_due: bool


class SessionRow(TypedDict):
    """One session (``session list --json``)."""

    client_id: str
    version: int
    number: int
    on: str
    recorded_at: str
    actor: str


# -- history and feeds --------------------------------------------------------------------------


class _EventCommon(TypedDict):
    version: int
    event: str
    recorded_at: str
    actor: str
    findings: list[FindingResult]


class _EventFields(TypedDict, total=False):
    """The event classes' own fields (each event has some of them; see docs/events.md)."""

    # Goal.Created / Client.Registered
    spec: dict[str, Any]
    parent_id: str | None
    name: str
    modality: str | None
    values: list[str]
    review_every: int
    # Chained / StepsReordered
    step_id: str
    position: int
    steps: list[str]
    # Scaled / Reviewed / the status changes
    value: int
    rater: RaterName
    note: str | None
    session: int | None
    occurred_on: str | None
    outcome: OutcomeName
    value_alignment: int | None
    # Revised
    changes: list[ChangeResult]
    reason: str
    # SessionRecorded / GoalsPrioritized
    number: int
    on: str
    order: list[str]
    reasons: list[str]
    # AuditAccess.Recorded
    action: str
    subject: str
    detail: dict[str, Any]


class HistoryEntry(_EventCommon, _EventFields):
    """One event of a goal or client (``goal history --json``): the common keys, then the
    event's own fields."""

    client_id: NotRequired[str]


class FeedEntry(_EventCommon, _EventFields):
    """One event in the store-wide audit feed (``audit log --json``): its store position, what
    it belongs to (``client_id``: the client it belongs to, None for store-level records), then
    the history entry's keys."""

    seq: int
    aggregate_type: AggregateTypeName
    aggregate_id: str
    client_id: str | None


class StoreEvent(TypedDict):
    """One event of :meth:`GoalEngine.events` (``audit log --after N --json``): store position,
    what it belongs to, and the event's own fields (and findings) under ``data``."""

    seq: int
    aggregate_type: AggregateTypeName
    aggregate_id: str
    client_id: str | None
    version: int
    event: str
    recorded_at: str
    actor: str
    data: dict[str, Any]


# -- rules and plugins --------------------------------------------------------------------------


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


class ModalityInfo(TypedDict):
    name: str
    title: str
    description: str
    plugin: str
    plugin_version: str
    plugin_status: str
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


class ModalityDetail(TypedDict):
    name: str
    title: str
    description: str
    plugin: str
    plugin_version: str
    plugin_status: str
    attributes: list[AttributeInfo]
    rules: list[RuleInfo]
    general_rules: list[RuleInfo]


# -- audit and administration -------------------------------------------------------------------


class CheckpointResult(TypedDict):
    position: int
    digest: str
    recorded_at: str | None
    checkpoint: str
    signed: bool
    signature: NotRequired[str]


class CheckpointCheck(TypedDict):
    checkpoint: str
    ok: bool


class VerifyReport(TypedDict):
    """``audit verify --json``."""

    ok: bool
    events: int
    aggregates: int
    snapshots_checked: int
    unreadable: int
    head: str
    checkpoints: list[CheckpointCheck]
    chain_backfilled_at: str | None
    problem_count: int
    first_problem: dict[str, Any] | None
    problems: list[dict[str, Any]]


class ExportManifest(TypedDict):
    """The first line of an export (``audit export --json``)."""

    format: str
    engine_version: str
    exported_at: str
    exported_by: str
    scope: dict[str, str | None]
    complete: bool
    counts: dict[str, int]
    time_range: dict[str, str | None]
    positions: dict[str, int | None]
    start_digest: str
    start_links: dict[str, str]
    checkpoint: str
    end_checkpoint: str
    salts: dict[str, str]


class ReplaySummary(TypedDict):
    """``audit replay FILE --json`` without a GOAL|CLIENT: every state the export rebuilds."""

    file: str
    verified: bool
    manifest: ExportManifest
    as_of: str | None
    events: int
    partial: list[str]
    clients: list[ClientState]
    goals: list[GoalState]


class StoreInfo(TypedDict):
    store: str
    format: int | None
    events: int


class RebuildCounts(TypedDict):
    """The rows each read model holds after ``admin rebuild``, and the events read."""

    goals: int
    clients: int
    ratings: int
    reviews: int
    sessions: int
    events: int


class Fingerprint(TypedDict):
    events: int
    events_sha256: str
    read_models: dict[str, list[dict[str, Any]]]
