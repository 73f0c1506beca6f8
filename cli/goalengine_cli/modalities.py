"""``goalengine modalities …``, ``client prioritize``/``priorities``, ``goal suggest-steps``,
``review CLIENT`` and the ``--attr KEY=VALUE`` parameter type.

Everything here calls the engine and renders; the rules live in the plugins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from goalengine_cli import output as out
from goalengine_cli.context import App, json_option, pass_app


class AttributeType(click.ParamType):  # type: ignore[type-arg]
    """``KEY=VALUE`` → ``(key, value)``: a modality attribute (``--attr category=skills``)."""

    name = "KEY=VALUE"

    def __init__(self, *, clearable: bool = False) -> None:
        self.clearable = clearable  # KEY= (an empty value) passes, to remove the attribute

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        key, sep, text = str(value).partition("=")
        if not sep or not key.strip() or not (text.strip() or self.clearable):
            self.fail(f"{value!r} is not KEY=VALUE, e.g. --attr category=skills", param, ctx)
        return key.strip().lower(), text.strip()


ATTRIBUTE = AttributeType()
CLEARABLE_ATTRIBUTE = AttributeType(clearable=True)


def attributes_option(f: Any, *, clearable: bool = False) -> Any:
    """``--attr KEY=VALUE`` (repeatable) for the goal's modality attributes."""
    return click.option(
        "--attr",
        "attributes",
        type=CLEARABLE_ATTRIBUTE if clearable else ATTRIBUTE,
        multiple=True,
        help="A modality attribute, e.g. --attr category=life-threatening (repeat; see "
        "`goalengine modalities show NAME`).",
    )(f)


def attributes_dict(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The ``--attr`` pairs as a mapping; a key given twice is a usage error."""
    result: dict[str, str] = {}
    for key, value in pairs:
        if key in result:
            raise click.BadParameter(f"attribute {key!r} is given twice", param_hint="'--attr'")
        result[key] = value
    return result


# -- modalities --------------------------------------------------------------------------------


@click.group()
def modalities() -> None:
    """The modalities the installed plugins provide, and their rules."""


def _render_modalities(items: Sequence[Mapping[str, Any]]) -> None:
    out.table(
        ["NAME", "TITLE", "PLUGIN", "ATTRIBUTES", "RULES"],
        [
            (
                m["name"],
                m["title"],
                f"{m['plugin']} {m['plugin_version']}",
                ", ".join(m["attributes"]) or "—",
                len(m["rules"]),
            )
            for m in items
        ],
        empty="No modalities registered (see `goalengine plugins list`).",
    )


@modalities.command("list")
@json_option
@pass_app
def list_(app: App) -> None:
    """List the registered modalities (needs no store)."""
    from goalengine.modalities import listing

    out.emit(app, listing.modalities(app.plugin_manager().load()), human=_render_modalities)


def _render_rules(rules: Sequence[Mapping[str, Any]]) -> None:
    for r in rules:
        click.echo(f"  {r['id']}  [{r['severity']}]  {r['title']}")
        if r["explanation"]:
            click.echo(f"      {r['explanation']}")
        if r["source"]:
            click.echo(click.style(f"      source: {r['source']}", dim=True))


def _render_modality(m: Mapping[str, Any]) -> None:
    out.heading(f"{m['name']} — {m['title']}")
    if m["description"]:
        click.echo(f"  {m['description']}")
    out.fields([("plugin", f"{m['plugin']} {m['plugin_version']} ({m['plugin_status']})")])
    click.echo()
    out.heading("Attributes (--attr KEY=VALUE)")
    if not m["attributes"]:
        click.echo("  none")
    for a in m["attributes"]:
        choices = f" — one of: {', '.join(a['choices'])}" if a["choices"] else ""
        required = " (required)" if a["required"] else ""
        click.echo(f"  {a['key']}{required}: {a['description']}{choices}")
    click.echo()
    out.heading("Rules")
    _render_rules(m["rules"])
    click.echo()
    out.heading("Rules for every goal")
    _render_rules(m["general_rules"])


@modalities.command()
@click.argument("name")
@json_option
@pass_app
def show(app: App, name: str) -> None:
    """Show modality NAME: its attributes and its rules (ids, severities, sources); needs no
    store."""
    from goalengine.modalities import listing

    out.emit(app, listing.modality(app.plugin_manager().load(), name), human=_render_modality)


# -- priorities --------------------------------------------------------------------------------


def _render_order(order: Sequence[Mapping[str, Any]]) -> None:
    out.table(
        ["#", "GOAL", "TITLE", "WHY HERE"],
        [(e["position"], out.short(e["id"]), out.clip(e["title"], 40), e["reason"]) for e in order],
        empty="No open goals.",
    )


@click.command()
@click.argument("client_ref", metavar="CLIENT")
@click.argument("goal_refs", metavar="GOAL…", nargs=-1, required=True)
@json_option
@pass_app
def prioritize(app: App, client_ref: str, goal_refs: tuple[str, ...]) -> None:
    """Record the clinician's order of CLIENT's goals (first = top priority).

    The goals not listed keep their places after these. The client's modality checks the order
    (DBT refuses a lower target first while a life-threatening target is active); `goal list
    --client` follows it.
    """

    def render(result: Mapping[str, Any]) -> None:
        click.echo(f"Priorities recorded for client {out.short(result['client_id'])}:")
        _render_order(result["order"])

    out.emit(app, app.engine.prioritize_client(client_ref, goal_refs), human=render)


@click.command()
@click.argument("client_ref", metavar="CLIENT")
@json_option
@pass_app
def priorities(app: App, client_ref: str) -> None:
    """Show CLIENT's open goals in priority order, with the reason for each place."""
    out.emit(app, app.engine.prioritized_goals(client_ref), human=_render_order)


# -- suggestions and review --------------------------------------------------------------------


@click.command("suggest-steps")
@click.argument("goal_ref", metavar="GOAL")
@json_option
@pass_app
def suggest_steps(app: App, goal_ref: str) -> None:
    """Suggest steps to chain under GOAL (from the rules and its modality)."""

    def render(items: Sequence[Mapping[str, Any]]) -> None:
        if not items:
            click.echo("No suggestions.")
        for s in items:
            target = f"  (target {s['target']})" if s.get("target") else ""
            click.echo(f"- {s['title']} [{s['kind']}]{target}  ({s['plugin']})")
            if s.get("description"):
                click.echo(f"    {s['description']}")
        if items:
            click.echo(f"Chain one with: goalengine goal chain {out.short(goal_ref)} TITLE")

    out.emit(app, app.engine.suggest_steps(goal_ref), human=render)


@click.command()
@click.argument("client_ref", metavar="CLIENT")
@json_option
@pass_app
def review(app: App, client_ref: str) -> None:
    """Review CLIENT: alerts, agenda and suggestions from the rules, risk first."""

    def render(result: Mapping[str, Any]) -> None:
        items = result["items"]
        if not items:
            click.echo("Nothing to flag.")
        for item in items:
            colour = "red" if item["risk"] or item["kind"] == "error" else None
            label = click.style(f"{item['kind']}:", fg=colour, bold=item["risk"])
            goal = f" [{out.short(item['goal_id'])}]" if item.get("goal_id") else ""
            click.echo(f"{label} {item['message']}{goal} ({item['plugin']})")

    out.emit(app, app.engine.client_review(client_ref), human=render)
