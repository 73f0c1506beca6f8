"""``goalengine session …``: record and list a client's sessions."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import click

from goalengine_cli import output as out
from goalengine_cli.context import App, json_option, pass_app
from goalengine_cli.goal_reads import Page, emit_page, page_options
from goalengine_cli.params import DATE


@click.group()
@json_option
def session() -> None:
    """Sessions with a client (ratings and reviews link to them by date)."""


@session.command()
@click.argument("client_ref", metavar="CLIENT")
@click.option("--on", "on", type=DATE, help="The day of the session (default: today).")
@click.option("--number", type=click.IntRange(min=1), help="Its number (default: the next).")
@json_option
@pass_app
def add(app: App, client_ref: str, on: date | None, number: int | None) -> None:
    """Record a session with CLIENT."""
    recorded = app.engine.record_session(client_ref, on=on, number=number)

    def render(s: Mapping[str, Any]) -> None:
        click.echo(f"Recorded session {s['number']} on {s['on']} with {out.short(s['client_id'])}.")
        if s.get("review_due"):
            click.echo("A goal review is due at this session: `goalengine goal review GOAL …`.")

    out.emit(app, recorded, human=render)


@session.command("list")
@click.argument("client_ref", metavar="CLIENT")
@page_options
@json_option
@pass_app
def list_(app: App, client_ref: str, page: Page) -> None:
    """List CLIENT's sessions, newest first, a page at a time."""

    def render(items: Sequence[Mapping[str, Any]]) -> None:
        rows = [[s["number"], s["on"], s["version"]] for s in items]
        out.table(["#", "DATE", "V"], rows, empty="No sessions yet.")

    fetch = functools.partial(app.engine.sessions, client_ref)
    emit_page(app, fetch, page, f"goalengine session list {client_ref}", render, "sessions")
