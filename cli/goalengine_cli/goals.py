"""``goalengine goal …``: create, chain, reorder, scale, revise, review, the lifecycle, and reads."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs
import click

from goalengine.values import (
    RATER_ROLES,
    Authorship,
    Domain,
    Horizon,
    Kind,
    ReviewOutcome,
    Role,
    Target,
)
from goalengine_cli import output as out
from goalengine_cli.context import App, json_option, packed_options, pass_app
from goalengine_cli.modalities import attributes_dict, attributes_option
from goalengine_cli.params import DATE, SCALE, TARGET, DateType, TargetType, choice_of

CLEARABLE_TARGET = TargetType(clearable=True)
CLEARABLE_DATE = DateType(clearable=True)


@click.group()
@json_option
def goal() -> None:
    """Therapy goals: create, chain into steps, scale 0-10, revise, review, close."""


# -- rendering ---------------------------------------------------------------------------------


def _render_change(verb: str) -> Any:
    def render(goal: Mapping[str, Any]) -> None:
        click.echo(f"{verb} goal {out.short(goal['id'])}  {goal['title']}")
        for line in out.change_lines(goal.get("changes") or ()):
            click.echo(f"  {line}")

    return render


def _render_status(goal: Mapping[str, Any]) -> None:
    note = f" — {goal['status_note']}" if goal.get("status_note") else ""
    click.echo(f"Goal {out.short(goal['id'])} ({goal['title']}) is now {goal['status']}{note}.")


# -- shared options ----------------------------------------------------------------------------


@attrs.frozen
class SpecOptions:
    """The options a new goal or step shares with create (the engine's keywords for them)."""

    description: str | None
    target: Target | None
    due: date | None
    anchor_low: str | None
    anchor_high: str | None

    def keywords(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=False)


#: --description, --target, --due, --anchor-low, --anchor-high: a ``spec``.
_spec_options = packed_options(
    "spec",
    SpecOptions,
    click.option("--description", help="What the goal means in the client's words."),
    click.option("--target", type=TARGET, help="What counts as reached, e.g. phq9<10."),
    click.option("--due", type=DATE, help="When it should be reached (YYYY-MM-DD)."),
    click.option("--anchor-low", metavar="TEXT", help="What 0 on the scale looks like."),
    click.option("--anchor-high", metavar="TEXT", help="What 10 on the scale looks like."),
)


def _show_created(app: App, created: Mapping[str, Any]) -> None:
    def render(g: Mapping[str, Any]) -> None:
        where = ""
        if g.get("parent_id"):
            position = app.engine.get_goal(g["parent_id"])["steps"].index(g["id"]) + 1
            where = f" as step {position} of {out.short(g['parent_id'])}"
        click.echo(f"Created goal {out.short(g['id'])}{where}: {g['title']}")
        click.echo(f"  id {g['id']}")

    out.emit(app, created, human=render)


# -- commands: create and chain ----------------------------------------------------------------


@goal.command()
@click.argument("client_ref", metavar="CLIENT")
@click.argument("title")
@click.option("--horizon", type=choice_of(Horizon), required=True, help="short or long term.")
@click.option("--kind", type=choice_of(Kind), required=True, help="process or outcome.")
@click.option(
    "--domain",
    "domains",
    type=choice_of(Domain),
    multiple=True,
    required=True,
    help="behavioral, cognitive or emotional (repeat for several).",
)
@click.option(
    "--value", "values", multiple=True, help="A client value it serves (text or rank; repeat)."
)
@_spec_options
@click.option("--parent", metavar="GOAL", help="Make it a step of this long-term goal.")
@click.option("--position", type=click.IntRange(min=1), help="The step's place (with --parent).")
@click.option("--authorship", type=choice_of(Authorship), default="co-created", show_default=True)
@click.option(
    "--client-agreed/--client-not-agreed", default=True, help="Whether the client agreed."
)
@click.option("--modality", help="The goal's own modality (default: the client's).")
@attributes_option
@json_option
@pass_app
def create(
    app: App,
    client_ref: str,
    title: str,
    horizon: Horizon,
    kind: Kind,
    domains: tuple[Domain, ...],
    values: tuple[str, ...],
    spec: SpecOptions,
    parent: str | None,
    position: int | None,
    authorship: Authorship,
    client_agreed: bool,
    modality: str | None,
    attributes: tuple[tuple[str, str], ...],
) -> None:
    """Create a goal for CLIENT (prints its id)."""
    created = app.engine.create_goal(
        client_ref,
        title,
        horizon=horizon,
        kind=kind,
        domains=domains,
        values=values,
        parent=parent,
        position=position,
        authorship=authorship,
        client_agreed=client_agreed,
        modality=modality,
        attributes=attributes_dict(attributes),
        **spec.keywords(),
    )
    _show_created(app, created)


@goal.command()
@click.argument("goal_ref", metavar="GOAL")
@click.argument("title")
@click.option(
    "--position", type=click.IntRange(min=1), help="Its place on the ladder (default last)."
)
@click.option("--kind", type=choice_of(Kind), help="process (default) or outcome.")
@click.option(
    "--domain",
    "domains",
    type=choice_of(Domain),
    multiple=True,
    help="Domains (default: the parent's).",
)
@_spec_options
@functools.partial(attributes_option, clearable=True)
@json_option
@pass_app
def chain(
    app: App,
    goal_ref: str,
    title: str,
    position: int | None,
    kind: Kind | None,
    domains: tuple[Domain, ...],
    spec: SpecOptions,
    attributes: tuple[tuple[str, str], ...],
) -> None:
    """Add a short-term step TITLE under the long-term GOAL.

    The step inherits the parent's domains (unless --domain), values, authorship, agreement,
    modality and modality attributes; --attr KEY=VALUE sets one attribute over the inherited
    ones, KEY= drops an inherited one.
    """
    step_attributes = None
    if attributes:
        inherited = app.engine.get_goal(goal_ref)["attributes"]
        merged = {**inherited, **attributes_dict(attributes)}
        step_attributes = {k: v for k, v in merged.items() if v != ""}
    created = app.engine.chain(
        goal_ref,
        title,
        position=position,
        kind=kind,
        domains=domains or None,
        attributes=step_attributes,
        **spec.keywords(),
    )
    _show_created(app, created)


@goal.command()
@click.argument("step_ref", metavar="STEP")
@click.option(
    "--position", type=click.IntRange(min=1), required=True, help="The new place (1 = first)."
)
@json_option
@pass_app
def reorder(app: App, step_ref: str, position: int) -> None:
    """Move STEP to another place among its parent's steps."""
    parent = app.engine.move_step(step_ref, position)

    def render(g: Mapping[str, Any]) -> None:
        click.echo(f"Steps of {out.short(g['id'])} ({g['title']}) are now:")
        titles = {d["id"]: d["title"] for d in app.engine.list_goals(client=g["client_id"])}
        for n, step_id in enumerate(g["steps"], 1):
            click.echo(f"  {n}. {out.short(step_id)}  {titles.get(step_id, '')}")

    out.emit(app, parent, human=render)


# -- commands: progress and revision -----------------------------------------------------------


@goal.command()
@click.argument("goal_ref", metavar="GOAL")
@click.argument("value", metavar="N", type=SCALE)
@click.option("--note", help="What moved it since last time?")
@click.option(
    "--rater",
    type=choice_of(Role, *RATER_ROLES),
    help="Who gave the rating (default: the role of --as).",
)
@click.option("--session", type=click.IntRange(min=1), help="The session it was given in.")
@click.option("--on", "on", type=DATE, help="The day it was given (default: today).")
@json_option
@pass_app
def scale(
    app: App,
    goal_ref: str,
    value: int,
    note: str | None,
    rater: Role | None,
    session: int | None,
    on: date | None,
) -> None:
    """Rate GOAL from 0 (the starting point) to 10 (the goal reached)."""
    rated = app.engine.scale(goal_ref, value, rater=rater, note=note, session=session, on=on)

    def render(r: Mapping[str, Any]) -> None:
        when = r.get("occurred_on") or out.local_date(r["recorded_at"])
        click.echo(f"Rated goal {out.short(r['goal_id'])} (version {r['version']})")
        click.echo(f"  {out.bar(r['value'])}  by {r['rater']} on {when}")
        if r.get("note"):
            click.echo(f"  note: {r['note']}")

    out.emit(app, rated, human=render)


@attrs.frozen
class RevisionOptions:
    """The fields ``goal revise`` may change (None or nothing given: kept as they are)."""

    title: str | None
    description: str | None
    horizon: Horizon | None
    kind: Kind | None
    domains: tuple[Domain, ...]
    values: tuple[str, ...]
    target: Target | str | None
    due: date | str | None
    anchor_low: str | None
    anchor_high: str | None
    authorship: Authorship | None
    modality: str | None

    def keywords(self) -> dict[str, Any]:
        """The engine's keywords (no --domain or --value given: None, keep them)."""
        given = attrs.asdict(self, recurse=False)
        return {**given, "domains": self.domains or None, "values": self.values or None}


@goal.command()
@click.argument("goal_ref", metavar="GOAL")
@packed_options(
    "fields",
    RevisionOptions,
    click.option("--title"),
    click.option("--description"),
    click.option("--horizon", type=choice_of(Horizon)),
    click.option("--kind", type=choice_of(Kind)),
    click.option("--domain", "domains", type=choice_of(Domain), multiple=True),
    click.option("--value", "values", multiple=True, help="The values it serves (replaces them)."),
    click.option("--target", type=CLEARABLE_TARGET, help='New target ("" removes it).'),
    click.option("--due", type=CLEARABLE_DATE, help='New due date ("" removes it).'),
    click.option("--anchor-low", metavar="TEXT"),
    click.option("--anchor-high", metavar="TEXT"),
    click.option("--authorship", type=choice_of(Authorship)),
    click.option("--modality", help="Move the goal to another modality (e.g. cbt)."),
)
@functools.partial(attributes_option, clearable=True)
@click.option("--reason", required=True, help="Why the goal is changing (kept in its history).")
@json_option
@pass_app
def revise(
    app: App,
    goal_ref: str,
    fields: RevisionOptions,
    attributes: tuple[tuple[str, str], ...],
    reason: str,
) -> None:
    """Change any of GOAL's fields, with a reason; the history keeps before → after.

    --attr KEY=VALUE changes one modality attribute and keeps the others; KEY= removes it.
    """
    changed_attributes = None
    if attributes:
        # --attr changes the keys given and keeps the others; KEY= removes one.
        current = app.engine.get_goal(goal_ref)["attributes"]
        merged = {**current, **attributes_dict(attributes)}
        changed_attributes = {k: v for k, v in merged.items() if v != ""}
    revised = app.engine.revise(
        goal_ref, reason=reason, attributes=changed_attributes, **fields.keywords()
    )
    out.emit(app, revised, human=_render_change("Revised"))


@goal.command()
@click.argument("goal_ref", metavar="GOAL")
@click.argument("outcome", type=choice_of(ReviewOutcome))
@click.option(
    "--alignment",
    type=click.IntRange(0, 10),
    help="How well the goal serves the client's values (0-10).",
)
@click.option("--note")
@click.option("--on", "on", type=DATE, help="The day of the review (default: today).")
@json_option
@pass_app
def review(
    app: App,
    goal_ref: str,
    outcome: ReviewOutcome,
    alignment: int | None,
    note: str | None,
    on: date | None,
) -> None:
    """Record the periodic check of GOAL: keep, adjust or retire."""
    reviewed = app.engine.record_goal_review(
        goal_ref, outcome, value_alignment=alignment, note=note, on=on
    )

    def render(g: Mapping[str, Any]) -> None:
        r = g["review"]
        alignment_text = (
            ""
            if r.get("value_alignment") is None
            else f", value alignment {r['value_alignment']}/10"
        )
        click.echo(
            f"Reviewed goal {out.short(g['id'])} ({g['title']}): {r['outcome']}{alignment_text}"
        )

    out.emit(app, reviewed, human=render)


def _transition_command(name: str, doc: str, *, reason: bool) -> click.Command:
    """``goal pause|resume|achieve|abandon|void GOAL``: with a required --reason, or a --note."""
    if reason:
        given = click.option("--reason", required=True, help="Why (kept in the goal's history).")
    else:
        given = click.option("--note", help="A remark kept in the goal's history.")

    @click.argument("goal_ref", metavar="GOAL")
    @given
    @json_option
    @pass_app
    def transition(app: App, /, goal_ref: str, **why: str | None) -> None:
        result = getattr(app.engine, name)(goal_ref, **why)
        out.emit(app, result, human=_render_status)

    return click.command(name, help=doc)(transition)


for _name, _doc, _reason in (
    ("pause", "Put GOAL on hold (resume it later).", False),
    ("resume", "Make a paused GOAL active again.", False),
    ("achieve", "Mark GOAL achieved.", False),
    ("abandon", "Abandon GOAL, with the reason.", True),
    ("void", "Mark GOAL entered in error: kept in history, left out of lists.", True),
):
    goal.add_command(_transition_command(_name, _doc, reason=_reason))
