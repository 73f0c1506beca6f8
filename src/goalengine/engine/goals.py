"""Goals: creating and chaining them, rating, revising, reviewing and moving them on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import attrs

from goalengine.aggregates import Client, Goal
from goalengine.engine import checks
from goalengine.engine.clients import ClientsArea
from goalengine.engine.core import ActorLike
from goalengine.errors import InvalidInput
from goalengine.results import (
    AuthorshipName,
    DomainName,
    GoalChanged,
    GoalReviewed,
    GoalRevised,
    GoalState,
    HorizonName,
    KindName,
    OutcomeName,
    RaterName,
    RatingRow,
)
from goalengine.serialization import unstructure
from goalengine.values import (
    RATER_ROLES,
    Authorship,
    Domain,
    GoalSpec,
    Horizon,
    Kind,
    ReviewOutcome,
    Role,
    ScaleAnchors,
    Status,
    Target,
    parse_enum,
    parse_rater,
)
from goalengine.when import not_future, parse_day


class GoalsArea(ClientsArea):
    """Commands on goals (their queries are in :mod:`goalengine.engine.goal_reads`)."""

    def _require_plugin(self, goal: Goal, client: Client | None = None) -> Client:
        """The one rule of every command that records on a goal: refused with PluginError when
        the plugin of the goal's effective modality (its own, else its client's) is not loaded
        — nothing is recorded unvalidated. Reading, history and replay never ask. Returns the
        goal's client."""
        c = client if client is not None else self._client(goal.client_id)
        modality = goal.spec.modality or c.modality
        if modality:
            self.plugins.owner(modality)
        return c

    # -- create and chain -----------------------------------------------------------------------

    def create_goal(
        self,
        client: str | UUID,
        title: str,
        *,
        horizon: Horizon | HorizonName,
        kind: Kind | KindName,
        domains: Iterable[Domain | DomainName],
        description: str | None = None,
        values: Sequence[str] = (),
        target: Target | str | None = None,
        due: date | str | None = None,
        parent: str | UUID | None = None,
        position: int | None = None,
        anchor_low: str | None = None,
        anchor_high: str | None = None,
        authorship: Authorship | AuthorshipName = Authorship.CO_CREATED,
        client_agreed: bool = True,
        modality: str | None = None,
        attributes: Mapping[str, str] | None = None,
        actor: ActorLike = None,
    ) -> GoalChanged:
        """Create a goal; with ``parent`` it is chained as a step of that long-term goal.

        ``position`` (1-based) places the step among the parent's steps; the default is last.
        """
        client = checks.ref(client, "client")
        title = checks.text(title, "title")
        horizon = checks.choice(horizon, "horizon", Horizon)
        kind = checks.choice(kind, "kind", Kind)
        domains = checks.choices(domains, "domains", Domain)
        description = checks.opt_text(description, "description")
        values = checks.texts(values, "values")
        target = checks.target(target)
        due = checks.day(due, "due")
        parent = checks.opt_ref(parent, "parent")
        position = checks.opt_integer(position, "position", low=1)
        anchor_low = checks.opt_text(anchor_low, "anchor_low")
        anchor_high = checks.opt_text(anchor_high, "anchor_high")
        authorship = checks.choice(authorship, "authorship", Authorship)
        client_agreed = checks.boolean(client_agreed, "client_agreed")
        modality = checks.opt_text(modality, "modality", max_len=100)
        attributes = checks.str_map(attributes, "attributes")
        actor = checks.actor(actor)
        c = self._client(client)
        spec = GoalSpec(
            **self._spec_changes(
                c,
                {
                    "title": title,
                    "horizon": horizon,
                    "kind": kind,
                    "domains": domains,
                    "description": description,
                    "values": values,
                    "target": target,
                    "due": due,
                    "anchors": ScaleAnchors(anchor_low, anchor_high),
                    "authorship": authorship,
                    "client_agreed": client_agreed,
                    "modality": modality,
                    "attributes": attributes or {},
                },
            )
        )
        who = self._who(actor)
        parent_goal = self._goal(parent) if parent is not None else None
        if parent_goal is not None and parent_goal.client_id != c.id:
            raise InvalidInput(
                f"goal {str(parent_goal.id)[:8]} belongs to another client; a step shares its "
                "parent's client"
            )
        if parent_goal is None and position is not None:
            raise InvalidInput("--position places a step; it needs --parent")
        if parent_goal is not None:
            self._require_plugin(parent_goal, c)
        findings = self._evaluate("create", spec, c, parent=parent_goal)
        goal = Goal(
            client_id=c.id,
            spec=spec,
            parent_id=parent_goal.id if parent_goal else None,
            actor=who,
            findings=findings,
        )
        if parent_goal is None:
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
        kind: Kind | KindName | None = None,
        domains: Iterable[Domain | DomainName] | None = None,
        description: str | None = None,
        target: Target | str | None = None,
        due: date | str | None = None,
        anchor_low: str | None = None,
        anchor_high: str | None = None,
        attributes: Mapping[str, str] | None = None,
        actor: ActorLike = None,
    ) -> GoalChanged:
        """Add a short-term step under a long-term goal (at 1-based ``position``, default last).

        The step inherits from its parent: the domains (unless ``domains`` is given), the
        values, authorship, client agreement and modality, and the modality attributes unless
        ``attributes`` is given (then exactly those, ``{}`` for none). Both goals are saved in
        one transaction. Refused (PluginError) when the parent's modality plugin is missing.
        """
        goal = checks.ref(goal, "goal")
        title = checks.text(title, "title")
        position = checks.opt_integer(position, "position", low=1)
        kind = checks.opt_choice(kind, "kind", Kind)
        domains = None if domains is None else checks.choices(domains, "domains", Domain)
        description = checks.opt_text(description, "description")
        target = checks.target(target)
        due = checks.day(due, "due")
        anchor_low = checks.opt_text(anchor_low, "anchor_low")
        anchor_high = checks.opt_text(anchor_high, "anchor_high")
        attributes = checks.str_map(attributes, "attributes")
        actor = checks.actor(actor)
        parent = self._goal(goal)
        self._require_plugin(parent)
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
            attributes=dict(parent.spec.attributes) if attributes is None else attributes,
            actor=actor,
        )

    def move_step(self, step: str | UUID, position: int, *, actor: ActorLike = None) -> GoalState:
        """Move a step to 1-based ``position`` among its parent's steps."""
        step = checks.ref(step, "step")
        position = checks.integer(position, "position", low=1)
        actor = checks.actor(actor)
        s = self._goal(step)
        if s.parent_id is None:
            raise InvalidInput(f"goal {str(s.id)[:8]} is not a step of another goal")
        parent = self._goal(s.parent_id)
        self._require_plugin(parent)
        parent.move_step(s.id, position, self._who(actor))
        self._save(parent)
        return parent.state()

    # -- progress -------------------------------------------------------------------------------

    def scale(
        self,
        goal: str | UUID,
        value: int,
        *,
        rater: Role | RaterName | None = None,
        note: str | None = None,
        session: int | None = None,
        on: date | str | None = None,
        actor: ActorLike = None,
    ) -> RatingRow:
        """Rate a goal 0-10 and return the rating recorded. ``rater`` defaults to the actor's
        role; ``on`` is when it happened (a session on that day is linked unless ``session``)."""
        goal = checks.ref(goal, "goal")
        value = checks.integer(value, "value", low=0, high=10, what="a rating")
        if rater is not None and not isinstance(rater, Role):
            rater = checks.text(rater, "rater", max_len=100)  # type: ignore[assignment]
        note = checks.opt_text(note, "note")
        session = checks.opt_integer(session, "session", low=1, what="a session number")
        on = checks.day(on, "on")
        actor = checks.actor(actor)
        g = self._goal(goal)
        self._require_plugin(g)
        who = self._who(actor)
        if rater is None:
            if who.role not in RATER_ROLES:
                raise InvalidInput(
                    f"{who} cannot rate for someone; give the rater: client, therapist or collateral"
                )
            rater_role = who.role
        else:
            rater_role = parse_rater(rater)
        day = not_future(parse_day(on, "rating date"), "rating date")
        if session is None and day is not None:
            session = self._read.session_on(g.client_id, day)
        g.scale(value, rater_role, who, note=note, session=session, occurred_on=day)
        self._save(g)
        return self._read.rating(g.id, g.version)

    def revise(
        self,
        goal: str | UUID,
        *,
        reason: str,
        title: str | None = None,
        description: str | None = None,
        horizon: Horizon | HorizonName | None = None,
        kind: Kind | KindName | None = None,
        domains: Iterable[Domain | DomainName] | None = None,
        values: Sequence[str] | None = None,
        target: Target | str | None = None,
        due: date | str | None = None,
        anchor_low: str | None = None,
        anchor_high: str | None = None,
        authorship: Authorship | AuthorshipName | None = None,
        client_agreed: bool | None = None,
        modality: str | None = None,
        attributes: Mapping[str, str] | None = None,
        actor: ActorLike = None,
    ) -> GoalRevised:
        """Change any of a goal's fields with a reason; ``None`` leaves a field as it is.

        ``target=""`` or ``due=""`` clears them; ``attributes`` replaces the modality
        attributes. The event stores each changed field's value before and after.
        """
        goal = checks.ref(goal, "goal")
        reason = checks.text(reason, "reason")
        title = checks.opt_text(title, "title")
        description = checks.opt_text(description, "description")
        horizon = checks.opt_choice(horizon, "horizon", Horizon)
        kind = checks.opt_choice(kind, "kind", Kind)
        domains = None if domains is None else checks.choices(domains, "domains", Domain)
        values = checks.opt_texts(values, "values")
        target = checks.target(target)
        due = checks.day(due, "due")
        anchor_low = checks.opt_text(anchor_low, "anchor_low")
        anchor_high = checks.opt_text(anchor_high, "anchor_high")
        authorship = checks.opt_choice(authorship, "authorship", Authorship)
        client_agreed = checks.opt_boolean(client_agreed, "client_agreed")
        modality = checks.opt_text(modality, "modality", max_len=100)
        attributes = checks.str_map(attributes, "attributes")
        actor = checks.actor(actor)
        g = self._goal(goal)
        client = self._require_plugin(g)
        Goal.check_reason(reason)
        fields: dict[str, Any] = {
            k: v
            for k, v in {
                "title": title,
                "description": description,
                "horizon": horizon,
                "kind": kind,
                "domains": domains,
                "values": values,
                "target": target,
                "due": due,
                "authorship": authorship,
                "client_agreed": client_agreed,
                "modality": modality,
                "attributes": attributes,
            }.items()
            if v is not None
        }
        if anchor_low is not None or anchor_high is not None:
            fields["anchors"] = ScaleAnchors(
                g.spec.anchors.low if anchor_low is None else anchor_low,
                g.spec.anchors.high if anchor_high is None else anchor_high,
            )
        if fields.get("due") == "":
            fields["due"] = None
        try:
            new_spec = attrs.evolve(g.spec, **self._spec_changes(client, fields))
        except (TypeError, ValueError) as e:
            raise InvalidInput(str(e)) from None
        g.check_revision(new_spec)
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
        for name, cls in (("horizon", Horizon), ("kind", Kind), ("authorship", Authorship)):
            if name in parsed:
                parsed[name] = parse_enum(cls, parsed[name], name)
        if "domains" in parsed:
            parsed["domains"] = tuple(parsed["domains"])
        if parsed.get("modality"):
            parsed["modality"] = parsed["modality"].strip().lower()
        return parsed

    def record_goal_review(
        self,
        goal: str | UUID,
        outcome: ReviewOutcome | OutcomeName,
        *,
        value_alignment: int | None = None,
        note: str | None = None,
        on: date | str | None = None,
        actor: ActorLike = None,
    ) -> GoalReviewed:
        """Record the periodic review of a goal: keep, adjust or retire, and how well it serves
        the client's values (0-10). Returns the goal with the review recorded (``review``)."""
        goal = checks.ref(goal, "goal")
        outcome = checks.choice(outcome, "outcome", ReviewOutcome)
        value_alignment = checks.opt_integer(
            value_alignment, "value_alignment", low=0, high=10, what="value alignment"
        )
        note = checks.opt_text(note, "note")
        on = checks.day(on, "on")
        actor = checks.actor(actor)
        g = self._goal(goal)
        self._require_plugin(g)
        g.review(
            parse_enum(ReviewOutcome, outcome, "review outcome"),
            self._who(actor),
            value_alignment=value_alignment,
            note=note,
            occurred_on=not_future(parse_day(on, "review date"), "review date"),
        )
        self._save(g)
        return {**g.state(), "review": self._read.review(g.id, g.version)}

    # -- lifecycle ------------------------------------------------------------------------------

    def pause(
        self, goal: str | UUID, *, note: str | None = None, actor: ActorLike = None
    ) -> GoalChanged:
        """Put a goal on hold (it can be resumed)."""
        return self._transition(goal, Status.PAUSED, note, actor)

    def resume(
        self, goal: str | UUID, *, note: str | None = None, actor: ActorLike = None
    ) -> GoalChanged:
        """Make a paused goal active again."""
        return self._transition(goal, Status.ACTIVE, note, actor)

    def achieve(
        self, goal: str | UUID, *, note: str | None = None, actor: ActorLike = None
    ) -> GoalChanged:
        """Mark a goal achieved (terminal)."""
        return self._transition(goal, Status.ACHIEVED, note, actor)

    def abandon(self, goal: str | UUID, *, reason: str, actor: ActorLike = None) -> GoalChanged:
        """Abandon a goal with a reason (terminal)."""
        return self._transition(goal, Status.ABANDONED, reason, actor)

    def void(self, goal: str | UUID, *, reason: str, actor: ActorLike = None) -> GoalChanged:
        """Mark a goal entered in error: kept in history and audit, left out of lists."""
        return self._transition(goal, Status.VOIDED, reason, actor)

    def _transition(
        self, goal: str | UUID, to: Status, note: str | None, actor: ActorLike
    ) -> GoalChanged:
        goal = checks.ref(goal, "goal")
        note = checks.opt_text(
            note, "reason" if to in (Status.ABANDONED, Status.VOIDED) else "note"
        )
        actor = checks.actor(actor)
        g = self._goal(goal)
        client = self._require_plugin(g)
        g.check_transition(to, note)
        findings = self._evaluate("transition", g.spec, client, goal=g, to=to)
        g.transition(to, self._who(actor), note, findings)
        self._save(g)
        return {**g.state(), "findings": [unstructure(f) for f in findings]}
