"""GoalEngine: the one façade for embedders, the CLI and plugins.

Every command is get → decide → save: it loads the aggregates it needs, lets them check their
invariants and trigger events, and saves every changed aggregate (and their read-model rows) in one
atomic ``save``. A command that raises has recorded nothing. Queries return plain JSON-shaped values,
never aggregates.
"""

from __future__ import annotations

import getpass
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, PersistenceError

from goalengine.aggregates import Client, Goal
from goalengine.aggregates.client import check_name, check_review_every, check_values
from goalengine.config import parse_store_url
from goalengine.errors import (
    AmbiguousId,
    Conflict,
    GoalEngineError,
    InvalidInput,
    NotFound,
    StoreError,
)
from goalengine.modalities.commands import PluginCommands
from goalengine.modalities.manager import PluginManager
from goalengine.serialization import unstructure
from goalengine.store import Row, Store
from goalengine.values import (
    RATER_ROLES,
    REVISABLE,
    Actor,
    Authorship,
    Domain,
    Finding,
    GoalSpec,
    Horizon,
    Kind,
    ReviewOutcome,
    Role,
    ScaleAnchors,
    Status,
    Target,
    parse_enum,
)
from goalengine.when import not_future, parse_day, parse_when

_PREFIX = re.compile(r"^[0-9a-f-]+$")
MIN_PREFIX = 4
ActorLike = Actor | str | None


def default_actor() -> Actor:
    """``therapist:`` + the operating-system user name."""
    try:
        user = getpass.getuser()
    except Exception:  # pragma: no cover - no user name on this platform
        user = "unknown"
    return Actor(Role.THERAPIST, user or "unknown")


def _actor(value: ActorLike) -> Actor | None:
    if value is None or isinstance(value, Actor):
        return value
    return Actor.parse(value)


class GoalEngine(PluginCommands):
    """Therapy goals as an auditable, event-sourced record.

    >>> with GoalEngine("memory://", actor="therapist:lee") as engine:
    ...     client = engine.add_client("Alex", values=["being a present parent"])
    ...     goal = engine.create_goal(client["id"], "Walk 20 minutes after lunch",
    ...                               horizon="short", kind="process", domains=["behavioral"])
    ...     engine.scale(goal["id"], 4)["scale"]
    4

    ``store`` is a URL (``sqlite:///file.db``, ``memory://``, ``postgresql://…``); without one the
    default SQLite file in the user's data directory is used. ``actor`` (``role:name``) is recorded
    on every event; each command also takes ``actor=`` to act as someone else. ``plugins`` (from
    :func:`goalengine.modalities.manager.make_manager`) replaces the installed plugins, which are
    otherwise loaded on first use (``GOALENGINE_PLUGINS`` limits them).
    """

    def __init__(
        self,
        store: str | None = None,
        *,
        actor: ActorLike = None,
        plugins: PluginManager | None = None,
    ) -> None:
        from goalengine.config import data_dir, default_store_url

        url = store or default_store_url()
        config = parse_store_url(url)
        if store is None and config.path is not None:
            data_dir().mkdir(parents=True, exist_ok=True)
        self.actor: Actor = _actor(actor) or default_actor()
        self.store_url = config.display
        self._store = Store(config)
        # None: the installed plugins (entry points, GOALENGINE_PLUGINS), loaded on first use.
        self._plugin_manager = plugins

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> GoalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------

    def _who(self, actor: ActorLike) -> Actor:
        return _actor(actor) or self.actor

    def _save(self, *aggregates: Goal | Client) -> None:
        rows = [self._row(a) for a in aggregates]
        try:
            self._store.app.save(*aggregates, readmodel=rows)
        except IntegrityError as e:
            raise Conflict(
                "someone else changed this record at the same moment; nothing was saved, "
                "run the command again"
            ) from e
        except PersistenceError as e:
            raise StoreError(f"cannot write to store {self.store_url}: {e}") from e

    def _row(self, aggregate: Goal | Client) -> Row:
        if isinstance(aggregate, Goal):
            state = aggregate.state()
            doc = {k: state[k] for k in _GOAL_SUMMARY}
            doc["rated_at"] = state["ratings"][-1]["recorded_at"] if state["ratings"] else None
            return Row(
                table="goals",
                id=state["id"],
                client_id=state["client_id"],
                status=state["status"],
                created_at=state["created_at"],
                doc=doc,
            )
        state = aggregate.state()
        doc = {
            k: state[k]
            for k in (
                "id",
                "name",
                "modality",
                "values",
                "review_every",
                "priorities",
                "created_at",
                "updated_at",
                "version",
            )
        }
        doc["sessions"] = len(state["sessions"])
        doc["last_session"] = state["sessions"][-1]["on"] if state["sessions"] else None
        return Row(
            table="clients",
            id=state["id"],
            client_id=state["id"],
            status="active",
            created_at=state["created_at"],
            doc=doc,
        )

    def _resolve(self, table: str, ref: str | UUID) -> UUID:
        what = "goal" if table == "goals" else "client"
        if isinstance(ref, UUID):
            return ref
        text = str(ref).strip().lower()
        try:
            return UUID(text)
        except ValueError:
            pass
        if len(text) < MIN_PREFIX or not _PREFIX.match(text):
            raise InvalidInput(
                f"{what} id {ref!r} is not an id or a prefix of at least {MIN_PREFIX} hex characters"
            )
        found = self._store.ids_with_prefix(table, text)
        if not found:
            raise NotFound(f"no {what} has an id starting with {text!r}", id=text)
        if len(found) > 1:
            docs = {d["id"]: d for d in self._store.docs(table, "id LIKE ?", (text + "%",))}
            label = "title" if table == "goals" else "name"
            candidates: list[dict[str, Any]] = [
                {"id": i, label: docs.get(i, {}).get(label)} for i in found[:10]
            ]
            listing = ", ".join(f"{c['id'][:8]} ({c[label]})" for c in candidates)
            raise AmbiguousId(
                f"{what} id {text!r} is ambiguous: {listing}; type more characters",
                candidates=candidates,
            )
        return UUID(found[0])

    def _goal(self, ref: str | UUID, version: int | None = None) -> Goal:
        goal_id = self._resolve("goals", ref)
        try:
            goal: Any = self._store.app.repository.get(goal_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"no goal with id {goal_id}", id=str(goal_id)) from None
        if not isinstance(goal, Goal):
            raise NotFound(f"{goal_id} is not a goal", id=str(goal_id))
        return goal

    def _client(self, ref: str | UUID, version: int | None = None) -> Client:
        client_id = self._resolve("clients", ref)
        try:
            client: Any = self._store.app.repository.get(client_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"no client with id {client_id}", id=str(client_id)) from None
        if not isinstance(client, Client):
            raise NotFound(f"{client_id} is not a client", id=str(client_id))
        return client

    # -- clients --------------------------------------------------------------------------------

    def add_client(
        self,
        name: str,
        *,
        modality: str | None = None,
        values: Sequence[str] = (),
        review_every: int = 4,
        actor: ActorLike = None,
    ) -> dict[str, Any]:
        """Register a client with their top 1-3 values in rank order."""
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
    ) -> dict[str, Any]:
        """Change a client's name, modality, values or review cadence, with a reason."""
        c = self._client(client)
        changes: dict[str, Any] = {}
        for key, value in (
            ("name", name),
            ("modality", modality),
            ("values", values),
            ("review_every", review_every),
        ):
            if value is not None:
                changes[key] = value
        if not changes:
            raise InvalidInput(
                "nothing to revise: give --name, --modality, --value or --review-every"
            )
        if modality and modality.strip().lower() != c.modality:
            self._check_modality(modality)
        diff = c.revise(changes, reason, self._who(actor))
        self._save(c)
        return {**c.state(), "changes": [unstructure(d) for d in diff]}

    def record_session(
        self,
        client: str | UUID,
        *,
        on: date | str | None = None,
        number: int | None = None,
        actor: ActorLike = None,
    ) -> dict[str, Any]:
        """Record a session with the client (numbered in order; ``on`` defaults to today)."""
        c = self._client(client)
        day = not_future(parse_day(on, "session date"), "session date") or parse_day("today")
        assert day is not None
        session = c.record_session(day, self._who(actor), number)
        self._save(c)
        return {"client_id": str(c.id), **unstructure(session), "review_due": self._review_due(c)}

    @staticmethod
    def _review_due(c: Client) -> bool:
        return bool(c.sessions) and c.sessions[-1].number % c.review_every == 0

    def get_client(
        self, client: str | UUID, *, as_of: datetime | date | str | None = None
    ) -> dict[str, Any]:
        """A client's state; ``as_of`` (a date or date-time) gives the state current then,
        with each of their goals as it stood at that moment."""
        if as_of is not None:
            from goalengine.audit import service

            return service.client_as_of(self, client, as_of)
        c = self._client(client)
        state = c.state()
        state["review_due"] = self._review_due(c)
        state["goals"] = self.list_goals(client=c.id)
        return state

    def list_clients(self) -> list[dict[str, Any]]:
        """Every client, from the read model, with counts of their goals by status."""
        clients = self._store.docs("clients")
        counts: dict[str, dict[str, int]] = {}
        for row in self._store.query(
            "SELECT client_id, status, COUNT(*) AS n FROM {p}goalengine_goals "
            "GROUP BY client_id, status"
        ):
            counts.setdefault(row["client_id"], {})[row["status"]] = int(row["n"])
        for doc in clients:
            doc["goals"] = {
                k: v
                for k, v in sorted(counts.get(doc["id"], {}).items())
                if k != Status.VOIDED.value
            }
        return clients

    # -- goals: create and chain ----------------------------------------------------------------

    def create_goal(
        self,
        client: str | UUID,
        title: str,
        *,
        horizon: Horizon | str,
        kind: Kind | str,
        domains: Iterable[Domain | str],
        description: str | None = None,
        values: Sequence[str] = (),
        target: Target | str | None = None,
        due: date | str | None = None,
        parent: str | UUID | None = None,
        position: int | None = None,
        anchor_low: str | None = None,
        anchor_high: str | None = None,
        authorship: Authorship | str = Authorship.CO_CREATED,
        client_agreed: bool = True,
        modality: str | None = None,
        attributes: Mapping[str, str] | None = None,
        actor: ActorLike = None,
    ) -> dict[str, Any]:
        """Create a goal; with ``parent`` it is chained as a step of that long-term goal.

        ``position`` (1-based) places the step among the parent's steps; the default is last.
        """
        c = self._client(client)
        spec = self._spec(
            c,
            title=title,
            horizon=horizon,
            kind=kind,
            domains=domains,
            description=description,
            values=values,
            target=target,
            due=due,
            anchors=ScaleAnchors(anchor_low, anchor_high),
            authorship=authorship,
            client_agreed=client_agreed,
            modality=modality,
            attributes=attributes or {},
        )
        who = self._who(actor)
        parent_goal = self._goal(parent) if parent is not None else None
        if parent_goal is not None and parent_goal.client_id != c.id:
            raise InvalidInput(
                f"goal {str(parent_goal.id)[:8]} belongs to another client; a step shares its "
                "parent's client"
            )
        findings = self._evaluate("create", spec, c, parent=parent_goal)
        goal = Goal(
            client_id=c.id,
            spec=spec,
            parent_id=parent_goal.id if parent_goal else None,
            actor=who,
            findings=findings,
        )
        if parent_goal is None:
            if position is not None:
                raise InvalidInput("--position places a step; it needs --parent")
            self._save(goal)
        else:
            parent_goal.chain(goal.id, None if position is None else position - 1, who)
            self._save(goal, parent_goal)
        return {**goal.state(), "findings": [unstructure(f) for f in findings]}

    def chain(
        self,
        goal: str | UUID,
        title: str,
        *,
        position: int | None = None,
        kind: Kind | str | None = None,
        domains: Iterable[Domain | str] | None = None,
        description: str | None = None,
        target: Target | str | None = None,
        due: date | str | None = None,
        anchor_low: str | None = None,
        anchor_high: str | None = None,
        actor: ActorLike = None,
    ) -> dict[str, Any]:
        """Add a short-term step under a long-term goal (at 1-based ``position``, default last).

        The step inherits the parent's domains, values and modality unless given; both goals are
        saved in one transaction.
        """
        parent = self._goal(goal)
        return self.create_goal(
            parent.client_id,
            title,
            horizon=Horizon.SHORT,
            kind=kind or Kind.PROCESS,
            domains=domains or parent.spec.domains,
            description=description,
            values=parent.spec.values,
            target=target,
            due=due,
            parent=parent.id,
            position=position,
            anchor_low=anchor_low,
            anchor_high=anchor_high,
            authorship=parent.spec.authorship,
            client_agreed=parent.spec.client_agreed,
            modality=parent.spec.modality,
            attributes=dict(parent.spec.attributes),
            actor=actor,
        )

    def move_step(
        self, step: str | UUID, position: int, *, actor: ActorLike = None
    ) -> dict[str, Any]:
        """Move a step to 1-based ``position`` among its parent's steps."""
        s = self._goal(step)
        if s.parent_id is None:
            raise InvalidInput(f"goal {str(s.id)[:8]} is not a step of another goal")
        parent = self._goal(s.parent_id)
        order = [x for x in parent.steps if x != s.id]
        if not 1 <= position <= len(parent.steps):
            raise InvalidInput(
                f"position {position} is out of range; choose 1 to {len(parent.steps)}"
            )
        order.insert(position - 1, s.id)
        parent.reorder(order, self._who(actor))
        self._save(parent)
        return parent.state()

    def _spec(self, client: Client, **fields: Any) -> GoalSpec:
        return GoalSpec(**self._spec_changes(client, fields))

    # -- goals: progress and revision -----------------------------------------------------------

    def scale(
        self,
        goal: str | UUID,
        value: int,
        *,
        rater: Role | str | None = None,
        note: str | None = None,
        session: int | None = None,
        on: date | str | None = None,
        actor: ActorLike = None,
    ) -> dict[str, Any]:
        """Rate a goal 0-10. ``rater`` defaults to the actor's role; ``on`` is when it happened."""
        g = self._goal(goal)
        who = self._who(actor)
        if rater is None:
            if who.role not in RATER_ROLES:
                raise InvalidInput(
                    f"{who} cannot rate for someone; give the rater: client, therapist or collateral"
                )
            rater_role = who.role
        else:
            rater_role = parse_enum(Role, rater, "rater")
        day = not_future(parse_day(on, "rating date"), "rating date")
        if session is None and day is not None:
            client = self._client(g.client_id)
            session = next((s.number for s in client.sessions if s.on == day), None)
        g.scale(value, rater_role, who, note=note, session=session, occurred_on=day)
        self._save(g)
        return g.state()

    def revise(
        self, goal: str | UUID, *, reason: str, actor: ActorLike = None, **changes: Any
    ) -> dict[str, Any]:
        """Change any of a goal's fields (``title=…``, ``target="phq9<10"``, …) with a reason.

        Accepted fields: the revisable ones (``title description horizon kind domains values
        target due authorship client_agreed modality attributes``) and ``anchor_low`` /
        ``anchor_high``. ``target=""`` or ``due=""`` clears them. The event stores each field's
        value before and after.
        """
        g = self._goal(goal)
        if not reason or not reason.strip():
            raise InvalidInput("a revision needs a reason (--reason): why is the goal changing?")
        unknown = set(changes) - set(REVISABLE) - {"anchor_low", "anchor_high"}
        if unknown:
            raise InvalidInput(
                f"cannot revise {', '.join(sorted(unknown))}; revisable: "
                f"{', '.join(REVISABLE)}, anchor_low, anchor_high"
            )
        fields = {k: v for k, v in changes.items() if v is not None}
        low, high = fields.pop("anchor_low", None), fields.pop("anchor_high", None)
        if low is not None or high is not None:
            fields["anchors"] = ScaleAnchors(
                g.spec.anchors.low if low is None else low,
                g.spec.anchors.high if high is None else high,
            )
        if "due" in fields and fields["due"] == "":
            fields["due"] = None
        client = self._client(g.client_id)
        parsed = self._spec_changes(client, fields)
        try:
            new_spec = attrs.evolve(g.spec, **parsed)
        except (TypeError, ValueError) as e:
            raise InvalidInput(str(e)) from None
        if new_spec.horizon is Horizon.SHORT and g.steps:
            raise Conflict(
                f"goal {str(g.id)[:8]} has {len(g.steps)} step(s); it stays long-term while it has"
                " steps"
            )
        findings = self._evaluate("revise", new_spec, client, goal=g)
        diff = g.revise(new_spec, reason, self._who(actor), findings)
        self._save(g)
        return {
            **g.state(),
            "changes": [unstructure(d) for d in diff],
            "findings": [unstructure(f) for f in findings],
        }

    def _spec_changes(self, client: Client, fields: dict[str, Any]) -> dict[str, Any]:
        """Parse goal fields as people give them (texts, value ranks, "phq9<10", ISO dates)."""
        parsed = dict(fields)
        if "values" in parsed:
            parsed["values"] = tuple(client.value_for(v) for v in parsed["values"])
        if "target" in parsed:
            t = parsed["target"]
            parsed["target"] = (
                Target.parse(t)
                if isinstance(t, str) and t.strip()
                else (t if isinstance(t, Target) else None)
            )
        if "due" in parsed:
            parsed["due"] = parse_day(parsed["due"], "due date")
        for name, cls, what in (
            ("horizon", Horizon, "horizon"),
            ("kind", Kind, "kind"),
            ("authorship", Authorship, "authorship"),
        ):
            if name in parsed:
                parsed[name] = parse_enum(cls, parsed[name], what)
        if "domains" in parsed:
            parsed["domains"] = tuple(parsed["domains"])
        if parsed.get("modality"):
            parsed["modality"] = parsed["modality"].strip().lower()
        return parsed

    def review(
        self,
        goal: str | UUID,
        outcome: ReviewOutcome | str,
        *,
        value_alignment: int | None = None,
        note: str | None = None,
        on: date | str | None = None,
        actor: ActorLike = None,
    ) -> dict[str, Any]:
        """Record the periodic review: keep, adjust or retire, and how well it serves the values."""
        g = self._goal(goal)
        g.review(
            parse_enum(ReviewOutcome, outcome, "review outcome"),
            self._who(actor),
            value_alignment=value_alignment,
            note=note,
            occurred_on=not_future(parse_day(on, "review date"), "review date"),
        )
        self._save(g)
        return g.state()

    def pause(
        self, goal: str | UUID, *, note: str | None = None, actor: ActorLike = None
    ) -> dict[str, Any]:
        """Put a goal on hold (it can be resumed)."""
        return self._transition(goal, Status.PAUSED, note, actor)

    def resume(
        self, goal: str | UUID, *, note: str | None = None, actor: ActorLike = None
    ) -> dict[str, Any]:
        """Make a paused goal active again."""
        return self._transition(goal, Status.ACTIVE, note, actor)

    def achieve(
        self, goal: str | UUID, *, note: str | None = None, actor: ActorLike = None
    ) -> dict[str, Any]:
        """Mark a goal achieved (terminal)."""
        return self._transition(goal, Status.ACHIEVED, note, actor)

    def abandon(self, goal: str | UUID, *, reason: str, actor: ActorLike = None) -> dict[str, Any]:
        """Abandon a goal with a reason (terminal)."""
        return self._transition(goal, Status.ABANDONED, reason, actor)

    def void(self, goal: str | UUID, *, reason: str, actor: ActorLike = None) -> dict[str, Any]:
        """Mark a goal entered in error: kept in history and audit, left out of lists."""
        return self._transition(goal, Status.VOIDED, reason, actor)

    def _transition(
        self, goal: str | UUID, to: Status, note: str | None, actor: ActorLike
    ) -> dict[str, Any]:
        g = self._goal(goal)
        g.check_transition(to, note)
        client = self._client(g.client_id)
        findings = self._evaluate("transition", g.spec, client, goal=g, to=to)
        g.transition(to, self._who(actor), note, findings)
        self._save(g)
        return {**g.state(), "findings": [unstructure(f) for f in findings]}

    # -- rules ----------------------------------------------------------------------------------

    def _evaluate(
        self,
        action: str,
        spec: GoalSpec,
        client: Client,
        *,
        goal: Goal | None = None,
        to: Status | None = None,
        parent: Goal | None = None,
    ) -> tuple[Finding, ...]:
        """The findings of the rules on a goal about to be created, revised or moved to ``to``.

        Raises :class:`RuleViolation` when any finding is an error; the warnings and suggestions
        returned are stored in the event. The plugins answer (see goalengine.modalities);
        a plugin that raises refuses the command with PluginError.
        """
        return self._rules_findings(action, spec, client, goal=goal, to=to, parent=parent)

    # -- goals: queries -------------------------------------------------------------------------

    def get_goal(
        self,
        goal: str | UUID,
        *,
        version: int | None = None,
        as_of: datetime | date | str | None = None,
    ) -> dict[str, Any]:
        """A goal's full state; ``version`` gives the state just after that event, ``as_of``
        (a date or date-time; a bare date means the end of that local day) the state current
        at that moment, replayed from the nearest snapshot."""
        if version is not None and version < 1:
            raise InvalidInput("versions start at 1")
        if as_of is not None:
            if version is not None:
                raise InvalidInput("give either a version or --as-of, not both")
            from goalengine.audit import service

            goal_id = self._resolve("goals", goal)
            version = service.resolve_version(self._store, goal_id, "goal", as_of)
        g = self._goal(goal)
        if version is not None:
            if version > g.version:
                raise NotFound(
                    f"goal {str(g.id)[:8]} has {g.version} version(s); there is no version {version}"
                )
            g = self._goal(g.id, version=version)
        return g.state()

    def list_goals(
        self,
        *,
        client: str | UUID | None = None,
        status: Status | str | None = None,
        include_voided: bool = False,
    ) -> list[dict[str, Any]]:
        """Goals from the read model: each client's top-level goals in creation order (with
        ``client``: the clinician's order from ``prioritize_client`` first), each followed by its
        steps in chain order (``depth`` 1). Voided goals are left out unless asked for by
        ``status="voided"`` or ``include_voided``."""
        where, params = [], []
        if client is not None:
            where.append("client_id = ?")
            params.append(str(self._resolve("clients", client)))
        wanted = parse_enum(Status, status, "status") if status is not None else None
        if wanted is not None:
            where.append("status = ?")
            params.append(wanted.value)
        elif not include_voided:
            where.append("status <> ?")
            params.append(Status.VOIDED.value)
        docs = self._store.docs("goals", " AND ".join(where), params)
        if client is not None:  # the clinician's explicit order first (client prioritize)
            owner = self._store.docs("clients", "id = ?", (params[0],))
            rank = {g: i for i, g in enumerate(owner[0].get("priorities", []) if owner else [])}
            docs.sort(key=lambda d: rank.get(d["id"], len(rank)))
        return _tree_order(docs)

    def history(self, goal: str | UUID) -> list[dict[str, Any]]:
        """Every event of a goal in order: version, type, recorded time, actor, what changed."""
        g_id = self._resolve("goals", goal)
        events = list(self._store.app.events.get(g_id))
        if not events:
            raise NotFound(f"no goal with id {g_id}", id=str(g_id))
        if not isinstance(events[0], Goal.Event):
            raise NotFound(f"{g_id} is not a goal", id=str(g_id))
        return [_history_entry(e) for e in events]

    def client_history(self, client: str | UUID) -> list[dict[str, Any]]:
        """Every event of a client in order, like :meth:`history`."""
        c_id = self._resolve("clients", client)
        events = list(self._store.app.events.get(c_id))
        if not events:
            raise NotFound(f"no client with id {c_id}", id=str(c_id))
        if not isinstance(events[0], Client.Event):
            raise NotFound(f"{c_id} is not a client", id=str(c_id))
        return [_history_entry(e) for e in events]

    # -- audit (the logic lives in goalengine.audit) --------------------------------------------

    def audit_log(
        self,
        *,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        actor: str | None = None,
        client: str | UUID | None = None,
        access: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """The store-wide feed of events (``access``: of audited reads and exports), oldest
        first, streamed in pages; filters combine."""
        from goalengine.audit import service

        return service.feed(
            self._store,
            since=None if since is None else parse_when(since, end_of_day=False),
            until=None if until is None else parse_when(until, end_of_day=True),
            actor=actor,
            client=None if client is None else self._resolve("clients", client),
            access=access,
        )

    def checkpoint(self, *, key: bytes | None = None) -> dict[str, Any]:
        """The store's position and digest now (``POS:DIGEST``), HMAC-signed with ``key``."""
        from goalengine.audit import service

        return service.checkpoint(self._store, key)

    def verify(
        self,
        *,
        checkpoints: Sequence[str] = (),
        key: bytes | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Check the integrity chain, the sequence, every snapshot and ``checkpoints``.

        Returns a report (``ok``, counts, ``problems``, ``first_problem``); ``progress(done,
        total)`` is called after each page.
        """
        from goalengine.audit import service

        return service.verify(self._store, checkpoints, key, progress)

    def export(
        self,
        out: str | Path,
        *,
        client: str | UUID | None = None,
        since: datetime | date | str | None = None,
        actor: ActorLike = None,
    ) -> dict[str, Any]:
        """Write an export (JSON Lines, manifest first) to ``out``; the export is itself
        recorded in the access log. Returns the manifest."""
        from goalengine.audit import service

        return service.export_and_record(self, Path(out), client, since, self._who(actor))

    def audit_history(self, ref: str | UUID, *, actor: ActorLike = None) -> list[dict[str, Any]]:
        """A goal's or client's full history, recorded in the access log."""
        from goalengine.audit import service

        return service.audited_history(self, ref, self._who(actor))

    def audit_show(
        self,
        ref: str | UUID,
        *,
        version: int | None = None,
        as_of: datetime | date | str | None = None,
        actor: ActorLike = None,
    ) -> dict[str, Any]:
        """A goal's or client's state at a version or moment, recorded in the access log."""
        from goalengine.audit import service

        return service.audited_show(self, ref, version, as_of, self._who(actor))

    @staticmethod
    def replay(
        path: str | Path,
        *,
        ref: str | None = None,
        as_of: datetime | date | str | None = None,
        checkpoints: Sequence[str] = (),
        key: bytes | None = None,
    ) -> dict[str, Any]:
        """Verify an export file and rebuild state from it alone (no store needed): one
        aggregate's state with ``ref``, else a summary with every goal's and client's state."""
        from goalengine.audit import service

        return service.replay_file(Path(path), ref, as_of, checkpoints, key)

    # -- administration -------------------------------------------------------------------------

    def store_info(self) -> dict[str, Any]:
        """Where the store is, the format it records and how many events it holds."""
        found = self._store.query("SELECT value FROM {p}goalengine_meta WHERE key = ?", ("format",))
        return {
            "store": self.store_url,
            "format": int(found[0]["value"]) if found else None,
            "events": self._store.max_notification_id(),
        }

    def _aggregate_ids(self) -> Iterator[tuple[UUID, str]]:
        """Each aggregate id once, with its kind, by paging through the event log."""
        seen: set[Any] = set()
        start = 1
        recorder = self._store.app.recorder
        while True:
            page = recorder.select_notifications(start=start, limit=1000)
            if not page:
                return
            for n in page:
                if n.originator_version == 1 and n.originator_id not in seen:
                    seen.add(n.originator_id)
                    kind = "goals" if ":Goal." in n.topic else "clients"
                    yield UUID(str(n.originator_id)), kind
            start = page[-1].id + 1

    def rebuild_read_models(self) -> dict[str, int]:
        """Rebuild the read models from the event log alone; returns the row counts."""
        for _attempt in range(5):
            before = self._store.max_notification_id()
            rows = [
                self._row(self._goal(i) if kind == "goals" else self._client(i))
                for i, kind in self._aggregate_ids()
            ]
            if self._store.max_notification_id() == before:
                self._store.replace_read_models(rows)
                return {
                    "goals": sum(r.table == "goals" for r in rows),
                    "clients": sum(r.table == "clients" for r in rows),
                    "events": before,
                }
        raise Conflict("the store kept changing while rebuilding; run the rebuild again")

    def fingerprint(self) -> dict[str, Any]:
        """A digest of the whole event log and every read-model row.

        Two equal fingerprints mean nothing was recorded in between: tests use it to prove that a
        refused command changed nothing.
        """
        digest = hashlib.sha256()
        count, start = 0, 1
        recorder = self._store.app.recorder
        while True:
            page = recorder.select_notifications(start=start, limit=1000)
            if not page:
                break
            for n in page:
                count += 1
                digest.update(
                    f"{n.id}|{n.originator_id}|{n.originator_version}|{n.topic}|".encode()
                )
                digest.update(n.state)
            start = page[-1].id + 1
        return {
            "events": count,
            "events_sha256": digest.hexdigest(),
            "read_models": self._store.read_model_dump(),
        }


_GOAL_SUMMARY = (
    "id",
    "client_id",
    "title",
    "status",
    "horizon",
    "kind",
    "domains",
    "values",
    "scale",
    "target",
    "due",
    "parent_id",
    "steps",
    "modality",
    "attributes",
    "created_at",
    "updated_at",
    "version",
)


def _tree_order(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {d["id"]: d for d in docs}
    out: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(doc: dict[str, Any], depth: int) -> None:
        if doc["id"] in placed:
            return
        placed.add(doc["id"])
        out.append({**doc, "depth": depth, "position": _position(doc, by_id)})
        for step_id in doc.get("steps", []):
            if step_id in by_id:
                place(by_id[step_id], depth + 1)

    for doc in docs:
        if doc.get("parent_id") not in by_id:
            place(doc, 0)
    for doc in docs:
        place(doc, 0)
    return out


def _position(doc: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> int | None:
    parent = by_id.get(doc.get("parent_id") or "")
    if parent and doc["id"] in parent.get("steps", []):
        return int(parent["steps"].index(doc["id"])) + 1
    return None


_EVENT_BASE = {
    "originator_id",
    "originator_version",
    "timestamp",
    "actor",
    "findings",
    "originator_topic",
}


def _history_entry(event: Any) -> dict[str, Any]:
    fields = {k: v for k, v in vars(event).items() if k not in _EVENT_BASE}
    data = unstructure(fields)
    if "changes" in data:
        data["changes"] = [unstructure(c) for c in event.changes]
    if "spec" in data:
        data["spec"] = unstructure(event.spec)
    when = event.timestamp
    return {
        "version": event.originator_version,
        "event": type(event).__name__,
        "recorded_at": when.astimezone(UTC).isoformat(),
        "actor": str(event.actor),
        **{k: _plain(v) for k, v in data.items()},
        "findings": [unstructure(f) for f in event.findings],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return value.value
    return value


__all__ = ["GoalEngine", "GoalEngineError"]
