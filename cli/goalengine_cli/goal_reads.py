"""``goalengine goal show|list|history|ratings|reviews``: reading goals and their series."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click
from attrs import frozen

from goalengine.results import Order
from goalengine.values import RATER_ROLES, Role, Status
from goalengine_cli import output as out
from goalengine_cli.context import App, json_option, packed_options, pass_app
from goalengine_cli.goals import goal
from goalengine_cli.params import AS_OF, DATE, choice_of
from goalengine_cli.render import (
    SHOWN,
    render_goal,
    render_goal_list,
    render_ratings,
    render_reviews,
)

#: The page size of ``goal ratings``/``goal reviews``/``session list`` unless --limit says.
PAGE = 50


@goal.command()
@click.argument("goal_ref", metavar="GOAL")
@click.option("--version", type=click.IntRange(min=1), help="Show it as it was at that version.")
@click.option("--as-of", type=AS_OF, help="Show it as it was at that time (a bare date: its end).")
@json_option
@pass_app
def show(app: App, goal_ref: str, version: int | None, as_of: datetime | None) -> None:
    """Show GOAL: target, anchors, its latest ratings and reviews, steps."""
    if version is not None and as_of is not None:
        raise click.UsageError("give either --version or --as-of, not both")
    shown = app.engine.get_goal(goal_ref, version=version, as_of=as_of)

    def render(g: Mapping[str, Any]) -> None:
        then = {"version": g["version"]}
        render_goal(
            g,
            app.engine.get_client(g["client_id"]),
            app.engine.ratings(g["id"], limit=SHOWN, **then),
            app.engine.reviews(g["id"], limit=SHOWN, **then),
        )

    out.emit(app, shown, human=render)


@goal.command("list")
@click.option("--client", "client_ref", metavar="CLIENT", help="Only this client's goals.")
@click.option("--status", type=choice_of(Status), help="Only goals with this status.")
@click.option("--all", "include_voided", is_flag=True, help="Include voided goals.")
@json_option
@pass_app
def list_(app: App, client_ref: str | None, status: Status | None, include_voided: bool) -> None:
    """List goals, each followed by its steps in order."""
    goals = app.engine.list_goals(client=client_ref, status=status, include_voided=include_voided)

    def render(gs: Sequence[Mapping[str, Any]]) -> None:
        names = None
        if client_ref is None:
            names = {c["id"]: c["name"] for c in app.engine.list_clients()}
        render_goal_list(gs, names)

    out.emit(app, goals, human=render)


@goal.command()
@click.argument("goal_ref", metavar="GOAL")
@json_option
@pass_app
def history(app: App, goal_ref: str) -> None:
    """Every event of GOAL: when, who, what changed and why."""
    out.emit(app, app.engine.history(goal_ref), human=out.history)


@frozen
class Page:
    """Which page of a series a command shows: the days, its size, the cursor and the order."""

    since: date | None
    until: date | None
    limit: int
    after: int | None
    oldest_first: bool

    @property
    def order(self) -> Order:
        return "oldest" if self.oldest_first else "newest"


#: --since/--until (days), --limit, --after (a version cursor), --oldest-first: a ``page``.
page_options = packed_options(
    "page",
    Page,
    click.option("--since", type=DATE, help="From this day (when it happened)."),
    click.option("--until", type=DATE, help="Up to this day (included)."),
    click.option(
        "--limit",
        type=click.IntRange(1, 1000),
        default=PAGE,
        show_default=True,
        help="At most this many.",
    ),
    click.option(
        "--after",
        type=click.IntRange(min=1),
        metavar="VERSION",
        help="Continue after this version (the last one of the previous page).",
    ),
    click.option("--oldest-first", is_flag=True, help="Oldest first (default: newest)."),
)


def again(command: str, **options: Any) -> str:
    """The command that shows the next page: ``command`` with the filters given (the page size
    stays the default)."""
    words = [command]
    for name, value in options.items():
        if value is True:
            words.append(f"--{name.replace('_', '-')}")
        elif value not in (None, False):
            text = value.value if isinstance(value, enum.Enum) else value
            words.append(f"--{name.replace('_', '-')} {text}")
    return " ".join(words)


def emit_page(
    app: App,
    fetch: Callable[..., Sequence[Mapping[str, Any]]],
    page: Page,
    command: str,
    render: Callable[[Sequence[Mapping[str, Any]]], None],
    what: str,
    **filters: Any,
) -> None:
    """One page of a series: ``fetch(since=, until=, order=, limit=, after=)`` answers; the text
    output ends with the command for the next page when there is one (``command`` with the
    ``filters`` and the page's days and order)."""

    def query(**cursor: Any) -> Sequence[Mapping[str, Any]]:
        return fetch(since=page.since, until=page.until, order=page.order, **cursor)

    items = query(limit=page.limit, after=page.after)
    again_text = again(
        command, **filters, since=page.since, until=page.until, oldest_first=page.oldest_first
    )

    def human(rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows and page.after is not None:
            click.echo(f"No more {what}.")
            return
        render(rows)
        last = rows[-1]["version"] if rows else None
        if last is not None and len(rows) == page.limit and query(limit=1, after=last):
            click.echo(f"… more: {again_text} --after {last}")

    out.emit(app, items, human=human)


@goal.command()
@click.argument("goal_ref", metavar="GOAL")
@click.option("--rater", type=choice_of(Role, *RATER_ROLES), help="Only this rater's ratings.")
@page_options
@json_option
@pass_app
def ratings(app: App, goal_ref: str, rater: Role | None, page: Page) -> None:
    """GOAL's ratings, newest first by when they happened, a page at a time."""
    fetch = functools.partial(app.engine.ratings, goal_ref, rater=rater)
    command = f"goalengine goal ratings {goal_ref}"
    emit_page(app, fetch, page, command, render_ratings, "ratings", rater=rater)


@goal.command()
@click.argument("goal_ref", metavar="GOAL")
@page_options
@json_option
@pass_app
def reviews(app: App, goal_ref: str, page: Page) -> None:
    """GOAL's periodic reviews, newest first, a page at a time."""
    fetch = functools.partial(app.engine.reviews, goal_ref)
    emit_page(app, fetch, page, f"goalengine goal reviews {goal_ref}", render_reviews, "reviews")
