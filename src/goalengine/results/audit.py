"""The results of auditing and administration: checkpoints, verify, export, replay, the store."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from goalengine.results.clients import ClientState
from goalengine.results.goals import GoalState


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


class Unchecked(TypedDict):
    """What a verification could not check, and why (``reasons``: count per reason;
    ``erased`` is the only one that is not a failure)."""

    events: int
    reasons: dict[str, int]
    erased_owners: list[str]
    owners_without_salt: list[str]


class ReadModelCheck(TypedDict):
    """``audit verify``'s second phase: the read-model rows against what a rebuild gives."""

    ok: bool
    rows: int
    differ: int
    tables: dict[str, int]
    examples: list[dict[str, Any]]
    #: Events per second of this phase (None when it could not run).
    rate: int | None


class VerifyReport(TypedDict):
    """``audit verify --json``."""

    ok: bool
    events: int
    aggregates: int
    snapshots_checked: int
    unreadable: int
    unchecked: Unchecked
    head: str
    checkpoints: list[CheckpointCheck]
    chain_backfilled_at: str | None
    #: Events per second of the chain phase.
    chain_rate: NotRequired[int | None]
    #: None when verify ran without the read-model phase.
    read_models: NotRequired[ReadModelCheck | None]
    problem_count: int
    first_problem: dict[str, Any] | None
    problems: list[dict[str, Any]]


class ExportManifest(TypedDict):
    """The first line of an export (``audit export --json``)."""

    format: str
    engine_version: str
    #: The plugins loaded when the export was written (name → version).
    plugin_versions: dict[str, str]
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
    store_format: NotRequired[str | None]
    stale_temp_files_removed: NotRequired[list[str]]
    #: Returned by ``export`` only (not in the file): the access record's ``POS:DIGEST``.
    access_checkpoint: NotRequired[str | None]


class ReplaySummary(TypedDict):
    """``audit replay FILE --json`` without a GOAL|CLIENT: every state the export rebuilds."""

    file: str
    verified: bool
    manifest: ExportManifest
    as_of: str | None
    events: int
    partial: list[str]
    unchecked: NotRequired[dict[str, int]]
    manifest_authenticated: NotRequired[bool]
    unauthenticated: NotRequired[list[str]]
    authenticated_by: NotRequired[str | None]
    lines_covered_through: NotRequired[int | None]
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
