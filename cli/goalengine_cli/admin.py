"""The store itself: ``goalengine init``, ``goalengine demo`` and ``goalengine admin …``."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

import click
from click.core import ParameterSource

from goalengine_cli import output as out
from goalengine_cli.context import App, json_option, pass_app
from goalengine_cli.render import render_goal_list

#: Show a progress bar when rebuilding from more events than this (on a terminal).
PROGRESS_FROM = 2000


@click.command()
@json_option
@pass_app
def init(app: App) -> None:
    """Create the store (or open an existing one) and say where it is."""
    info = app.engine.store_info()

    def render(i: Mapping[str, Any]) -> None:
        click.echo(f"Store ready: {i['store']}")
        click.echo(f"  format {i['format']}, {i['events']} event(s) recorded")

    out.emit(app, info, human=render)


@click.group()
@json_option
def admin() -> None:
    """Maintenance of the store."""


@admin.command()
@json_option
@pass_app
def rebuild(app: App) -> None:
    """Rebuild the read models (lists, ratings, reviews, sessions) from the event log."""
    with out.progress_bar("rebuilding", at_least=PROGRESS_FROM, terminal_only=True) as progress:
        counts = app.engine.rebuild_read_models(progress=progress)

    def render(c: Mapping[str, Any]) -> None:
        click.echo(
            f"Rebuilt the read models from {c['events']} event(s): {c['goals']} goal(s), "
            f"{c['clients']} client(s), {c['ratings']} rating(s), {c['reviews']} review(s), "
            f"{c['sessions']} session(s)."
        )

    out.emit(app, counts, human=render)


@click.command()
@click.option(
    "--store",
    "demo_store",
    metavar="URL",
    help="Build the demo there (default: demo.db in your data directory, never your store).",
)
@json_option
@pass_app
@click.pass_context
def demo(ctx: click.Context, app: App, demo_store: str | None) -> None:
    """Build a realistic example case in a demo store and show it.

    The demo never goes into your working store: without --store (here, or before the command)
    it uses its own SQLite file; GOALENGINE_STORE is ignored. Running it again adds nothing.
    """
    from goalengine.config import data_dir, demo_store_url
    from goalengine.demo import DEMO_CLIENT, DEMO_THERAPIST, build_demo
    from goalengine.values import Actor, Role

    root = ctx.find_root()
    explicit = root.get_parameter_source("store") is ParameterSource.COMMANDLINE
    url = demo_store or (app.store if explicit and app.store else None)
    if url is None:
        data_dir().mkdir(parents=True, exist_ok=True)
        url = demo_store_url()
    app.use_store(url)
    if app.actor is None:
        # The case's clinician, unless --as names someone: the demo's history reads like a clinic's.
        app.actor = Actor(Role.THERAPIST, DEMO_THERAPIST)
    engine = app.engine
    built = build_demo(engine)
    goals = engine.list_goals(client=built["client_id"])
    history = engine.history(built["goal_id"])
    result = {"store": engine.store_url, **built, "goals": goals, "history": history}

    def render(r: Mapping[str, Any]) -> None:
        state = "Built the demo case in" if r["created"] else "The demo case is already in"
        click.echo(f"{state} {r['store']}")
        click.echo("Point other commands at it with --store, e.g.:")
        click.echo(f"  goalengine --store {shlex.quote(r['store'])} goal list")
        click.echo(
            f"  goalengine --store {shlex.quote(r['store'])} goal show {out.short(r['goal_id'])}"
        )
        click.echo()
        out.heading(f"Goals of {DEMO_CLIENT}")
        render_goal_list(r["goals"], None)
        click.echo()
        title = next(g["title"] for g in r["goals"] if g["id"] == r["goal_id"])
        out.heading(f"History of {out.short(r['goal_id'])} “{title}”")
        out.history(r["history"])

    out.emit(app, result, human=render)
