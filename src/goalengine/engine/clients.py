"""Clients: registering, revising, sessions, and reading them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, overload
from uuid import UUID

from goalengine.aggregates import Client
from goalengine.aggregates.client import check_name, check_review_every, check_values
from goalengine.engine import checks
from goalengine.engine.core import ActorLike, EngineCore
from goalengine.engine.series import SeriesQuery, series_query
from goalengine.errors import Conflict, InvalidInput, NotFound
from goalengine.results import (
    ClientAsOf,
    ClientDetail,
    ClientEntry,
    ClientRevised,
    ClientState,
    HistoryEntry,
    Order,
    SessionRecorded,
    SessionRow,
)
from goalengine.serialization import unstructure
from goalengine.when import not_future, parse_day


class ClientsArea(EngineCore):
    """Commands and queries on clients."""

    def add_client(
        self,
        name: str,
        *,
        modality: str | None = None,
        values: Sequence[str] = (),
        review_every: int = 4,
        actor: ActorLike = None,
    ) -> ClientState:
        """Register a client with their top 1-3 values in rank order."""
        name = checks.text(name, "name")
        modality = checks.opt_text(modality, "modality", max_len=100)
        values = checks.texts(values, "values")
        review_every = checks.integer(
            review_every, "review_every", low=1, high=52, what="the review cadence"
        )
        actor = checks.actor(actor)
        client = Client(
            name=check_name(name),
            modality=self._check_modality(modality),
            values=check_values(values),
            review_every=check_review_every(review_every),
            actor=self._who(actor),
            findings=(),
        )
        self._save(client)
        return client.state()

    def revise_client(
        self,
        client: str | UUID,
        *,
        reason: str,
        name: str | None = None,
        modality: str | None = None,
        values: Sequence[str] | None = None,
        review_every: int | None = None,
        actor: ActorLike = None,
    ) -> ClientRevised:
        """Change a client's name, modality, values or review cadence, with a reason."""
        client = checks.ref(client, "client")
        reason = checks.text(reason, "reason")
        name = checks.opt_text(name, "name")
        modality = checks.opt_text(modality, "modality", max_len=100)
        values = checks.opt_texts(values, "values")
        review_every = checks.opt_integer(
            review_every, "review_every", low=1, high=52, what="the review cadence"
        )
        actor = checks.actor(actor)
        c = self._client(client)
        changes: dict[str, Any] = {
            key: value
            for key, value in (
                ("name", name),
                ("modality", modality),
                ("values", values),
                ("review_every", review_every),
            )
            if value is not None
        }
        if not changes:
            raise InvalidInput(
                "nothing to revise: give --name, --modality, --value or --review-every"
            )
        if modality is not None and (modality.strip().lower() or None) != c.modality:
            self._check_goals_under(c, self._check_modality(modality))
        diff = c.revise(changes, reason, self._who(actor))
        self._save(c)
        return {**c.state(), "changes": [unstructure(d) for d in diff]}

    def _check_goals_under(self, c: Client, modality: str | None) -> None:
        """Refuse a modality change that would leave open goals invalid: each open goal of the
        client without a modality of its own is checked against ``modality``'s attributes
        (Conflict naming the goals that need attention, by short id)."""
        import attrs

        from goalengine.modalities.views import view_from_doc

        docs = self._read.docs("goal", "client_id = ?", (str(c.id),))
        trouble: list[tuple[str, str]] = []
        for doc in docs:
            if doc.get("modality") or doc["status"] not in ("active", "paused"):
                continue
            view = attrs.evolve(view_from_doc(doc, c.modality, {}), modality=modality)
            try:
                self.plugins.check_attributes(view)
            except InvalidInput as e:
                trouble.append((doc["id"], e.message))
        if trouble:
            to = f"modality {modality}" if modality else "no modality"
            listed = "; ".join(f"goal {gid[:8]}: {why}" for gid, why in trouble)
            raise Conflict(
                f"client {str(c.id)[:8]} cannot move to {to}: {len(trouble)} open goal(s) need "
                f"attention first ({listed}); revise them (goal revise GOAL --attr KEY=VALUE, "
                "or --modality to keep one on its modality), then change the client's",
                goals=[gid for gid, _ in trouble],
                reasons=dict(trouble),
            )

    def record_session(
        self,
        client: str | UUID,
        *,
        on: date | str | None = None,
        number: int | None = None,
        actor: ActorLike = None,
    ) -> SessionRecorded:
        """Record a session with the client (numbered in order; ``on`` defaults to today)."""
        client = checks.ref(client, "client")
        on = checks.day(on, "on")
        number = checks.opt_integer(number, "number", low=1, what="a session number")
        actor = checks.actor(actor)
        c = self._client(client)
        day = not_future(parse_day(on, "session date"), "session date") or parse_day("today")
        assert day is not None
        known = (
            isinstance(number, int)
            and not isinstance(number, bool)
            and self._read.has_session(c.id, number)
        )
        session = c.record_session(day, self._who(actor), number, known=known)
        self._save(c)
        return {
            "client_id": str(c.id),
            "number": session.number,
            "on": session.on.isoformat(),
            "review_due": c.review_due,
        }

    @overload
    def get_client(self, client: str | UUID, *, as_of: None = None) -> ClientDetail: ...

    @overload
    def get_client(self, client: str | UUID, *, as_of: datetime | date | str) -> ClientAsOf: ...

    def get_client(
        self, client: str | UUID, *, as_of: datetime | date | str | None = None
    ) -> ClientDetail | ClientAsOf:
        """A client's state with their goals in tree order; ``as_of`` (a date or date-time)
        gives the state current then, with each of their goals as it stood at that moment."""
        client = checks.ref(client, "client")
        as_of = checks.moment(as_of, "as_of")
        if as_of is not None:
            return self._client_as_of(client, as_of)
        c = self._client(client)
        return {**c.state(), "goals": self._read.goal_tree(client=c.id)}

    def _client_as_of(self, client: str | UUID, as_of: datetime | date | str) -> ClientAsOf:
        from goalengine.audit import asof

        client_id = self._read.resolve("client", client)
        moment, version = asof.moment_and_version(self._store, client_id, "client", as_of)
        state = self._client(client_id, version=version).state()
        docs = []
        for doc in self._read.goal_tree(client=client_id, include_voided=True):
            v = asof.version_at(self._store, UUID(doc["id"]), moment)
            if v is not None:
                docs.append(self._goal(doc["id"], version=v).state())
        return {**state, "goals": asof.goals_then(docs), "as_of": moment.isoformat()}

    def list_clients(self) -> list[ClientEntry]:
        """Every client, from the read model, with counts of their goals by status."""
        return self._read.clients()

    def client_history(self, client: str | UUID) -> list[HistoryEntry]:
        """Every event of a client in order: version, type, recorded time, actor, what changed."""
        client = checks.ref(client, "client")
        return self._history("client", Client, client)

    def sessions(
        self,
        client: str | UUID,
        *,
        since: date | str | None = None,
        until: date | str | None = None,
        limit: int | None = None,
        after: int | None = None,
        order: Order = "newest",
    ) -> list[SessionRow]:
        """A client's sessions from the read model, newest first (``order="oldest"``: oldest
        first); ``since``/``until`` are days (both included), ``after`` a version cursor."""
        client = checks.ref(client, "client")
        c_id = self._read.resolve("client", client)
        if self._read.doc("client", c_id) is None:
            raise NotFound(f"no client with id {c_id}", id=str(c_id))
        query: SeriesQuery = series_query(
            since=since, until=until, limit=limit, after=after, order=order
        )
        return self._read.sessions(c_id, **query)
