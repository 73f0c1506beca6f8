"""The results about clients: a client's state, with their goals, in a list; their sessions."""

from __future__ import annotations

from typing import TypedDict

from goalengine.results.common import ChangeResult
from goalengine.results.goals import GoalEntry


class SessionRef(TypedDict):
    number: int
    on: str


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


class SessionRecorded(SessionRef):
    client_id: str
    review_due: bool


class SessionRow(SessionRef):
    """One session (``session list --json``)."""

    client_id: str
    version: int
    recorded_at: str
    actor: str
