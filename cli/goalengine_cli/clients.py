"""``goalengine client …``: add, list, show, revise and the history of clients."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import click

from goalengine_cli import output as out
from goalengine_cli.context import App, json_option, pass_app
from goalengine_cli.params import AS_OF
from goalengine_cli.render import render_client, render_client_list


@click.group()
@json_option
def client() -> None:
    """Clients: their values, modality, review cadence and goals."""


def _render_saved(verb: str) -> Any:
    def render(c: Mapping[str, Any]) -> None:
        click.echo(f"{verb} client {out.short(c['id'])}: {c['name']}")
        for line in out.change_lines(c.get("changes") or ()):
            click.echo(f"  {line}")
        if verb == "Added":
            click.echo(f"  id {c['id']}")

    return render


@client.command()
@click.argument("name")
@click.option("--modality", help="The default modality of the client's goals (e.g. cbt).")
@click.option(
    "--value", "values", multiple=True, help="A value that matters to them (repeat, rank order)."
)
@click.option(
    "--review-every",
    type=click.IntRange(1, 52),
    default=4,
    show_default=True,
    help="Review the goals every N sessions.",
)
@json_option
@pass_app
def add(
    app: App, name: str, modality: str | None, values: tuple[str, ...], review_every: int
) -> None:
    """Add a client called NAME (prints its id)."""
    added = app.engine.add_client(name, modality=modality, values=values, review_every=review_every)
    out.emit(app, added, human=_render_saved("Added"))


@client.command("list")
@json_option
@pass_app
def list_(app: App) -> None:
    """List the clients with their goals by status."""
    out.emit(app, app.engine.list_clients(), human=render_client_list)


@client.command()
@click.argument("client_ref", metavar="CLIENT")
@click.option("--as-of", type=AS_OF, help="Show the client as at that time (a bare date: its end).")
@json_option
@pass_app
def show(app: App, client_ref: str, as_of: datetime | None) -> None:
    """Show CLIENT: values, sessions, review cadence and goals."""
    out.emit(app, app.engine.get_client(client_ref, as_of=as_of), human=render_client)


@client.command()
@click.argument("client_ref", metavar="CLIENT")
@click.option("--name")
@click.option("--modality")
@click.option("--value", "values", multiple=True, help="The values, in rank order (replaces them).")
@click.option("--review-every", type=click.IntRange(1, 52))
@click.option("--reason", required=True, help="Why (kept in the client's history).")
@json_option
@pass_app
def revise(
    app: App,
    client_ref: str,
    name: str | None,
    modality: str | None,
    values: tuple[str, ...],
    review_every: int | None,
    reason: str,
) -> None:
    """Change CLIENT's name, modality, values or review cadence, with a reason."""
    revised = app.engine.revise_client(
        client_ref,
        reason=reason,
        name=name,
        modality=modality,
        values=values or None,
        review_every=review_every,
    )
    out.emit(app, revised, human=_render_saved("Revised"))


@client.command()
@click.argument("client_ref", metavar="CLIENT")
@json_option
@pass_app
def history(app: App, client_ref: str) -> None:
    """Every event of CLIENT: registration, revisions, sessions."""
    out.emit(app, app.engine.client_history(client_ref), human=out.history)
