"""``goalengine audit …``: the store-wide feed, checkpoints, verify, export and offline replay.

``audit history`` and ``audit show`` read a goal's or client's past like ``goal history`` and
``goal show --as-of`` do, and are themselves recorded (who, when, what) with every export;
``audit log --access`` lists those records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from goalengine.errors import InvalidInput
from goalengine_cli import output as out
from goalengine_cli.context import App, json_option, pass_app
from goalengine_cli.params import AS_OF, SINCE, UNTIL, SafePath
from goalengine_cli.render import render_client, render_goal

ENV_AUDIT_KEY = "GOALENGINE_AUDIT_KEY"
#: Show a progress bar when verifying more entries than this.
PROGRESS_FROM = 2000


def _key(key_file: Path | None) -> bytes | None:
    """The auditor's HMAC key: the file's bytes exactly as they are (a trailing newline is part
    of the key; nothing is stripped), else ``GOALENGINE_AUDIT_KEY``'s value as UTF-8, exactly
    as given, else none (docs/audit.md, "Signed checkpoints")."""
    if key_file is not None:
        try:
            data = key_file.read_bytes()
        except OSError as e:
            raise InvalidInput(f"cannot read key file {key_file}: {e.strerror or e}") from e
        if not data:
            raise InvalidInput(f"key file {key_file} is empty")
        return data
    env = os.environ.get(ENV_AUDIT_KEY, "")
    return env.encode("utf-8") if env else None


key_option = click.option(
    "--key-file",
    type=SafePath(exists=True, dir_okay=False, path_type=Path),
    help=f"The auditor's HMAC key, kept apart from the store (or set {ENV_AUDIT_KEY}).",
)
checkpoint_option = click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    metavar="POS:DIGEST",
    help="A checkpoint taken earlier (repeatable); signed ones need the key.",
)


@click.group()
@json_option
def audit() -> None:
    """History, past states, tamper evidence and exports an auditor can verify offline."""


# -- reading the past ----------------------------------------------------------------------------


@audit.command()
@click.argument("ref", metavar="GOAL|CLIENT")
@json_option
@pass_app
def history(app: App, ref: str) -> None:
    """Every event of a goal or client (recorded in the access log)."""
    out.emit(app, app.engine.audit_history(ref), human=out.history)


@audit.command()
@click.argument("ref", metavar="GOAL|CLIENT")
@click.option("--version", type=click.IntRange(min=1), help="The state just after that event.")
@click.option("--as-of", type=AS_OF, help="The state current at that moment.")
@json_option
@pass_app
def show(app: App, ref: str, version: int | None, as_of: datetime | None) -> None:
    """A goal's or client's state at a version or moment (recorded in the access log)."""
    if version is not None and as_of is not None:
        raise click.UsageError("give either --version or --as-of, not both")
    state = app.engine.audit_show(ref, version=version, as_of=as_of)
    out.emit(app, state, human=_render_state)


def _render_state(state: Mapping[str, Any]) -> None:
    if "title" in state:
        render_goal(state)
    else:
        render_client(state)


# -- the feed -------------------------------------------------------------------------------------


@audit.command("log")
@click.option("--since", type=SINCE, help="From this time (a bare date: its start).")
@click.option("--until", type=UNTIL, help="Up to this time (a bare date: its end).")
@click.option("--actor", help="Only events by this actor (ROLE:NAME, or just NAME).")
@click.option("--client", "client_ref", metavar="CLIENT", help="Only this client's events.")
@click.option("--access", is_flag=True, help="List the audited reads and exports instead.")
@click.option(
    "--after",
    type=click.IntRange(min=0),
    metavar="SEQ",
    help="Follow the store: the events after this position, every kind, in store order.",
)
@click.option(
    "--limit", type=click.IntRange(1, 1000), help="With --after: at most this many (1000)."
)
@json_option
@pass_app
def log(
    app: App,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    client_ref: str | None,
    access: bool,
    after: int | None,
    limit: int | None,
) -> None:
    """The store-wide feed of events, oldest first (streamed page by page).

    With --after SEQ (and --limit N) it is the event feed an embedder follows: the next events
    after that store position, audit accesses included, each with its fields under "data"; keep
    the last "seq" you handled and ask for what follows.
    """
    if after is not None or limit is not None:
        if since or until or actor or client_ref or access:
            raise click.UsageError(
                "--after/--limit follow the whole store in order; they do not combine with "
                "--since, --until, --actor, --client or --access"
            )
        events = app.engine.events(after=after or 0, limit=limit or 1000)
        out.emit(app, events, human=_render_events)
        return
    entries = app.engine.audit_log(
        since=since, until=until, actor=actor, client=client_ref, access=access
    )
    if app.json:
        _stream_json(entries)
    else:
        _render_log(entries, access)


def _render_events(events: Sequence[Mapping[str, Any]]) -> None:
    if not events:
        click.echo("No events after that position.")
        return
    out.table(_LOG_HEADERS, [_log_cells(e, e["event"]) for e in events])
    click.echo(f"Next: goalengine audit log --after {events[-1]['seq']}")


def _stream_json(entries: Iterable[Mapping[str, Any]]) -> None:
    """One JSON array on stdout, written as the entries arrive (never all in memory)."""
    first = True
    click.echo("[", nl=False)
    for entry in entries:
        text = json.dumps(entry, ensure_ascii=False, default=str, indent=2)
        click.echo(("\n" if first else ",\n") + "  " + text.replace("\n", "\n  "), nl=False)
        first = False
    click.echo("\n]" if not first else "]")


_LOG_HEADERS = ["SEQ", "TIME", "ACTOR", "WHAT", "ID", "V", "EVENT"]
_LOG_WIDTHS = (6, 16, 22, 6, 8, 4)


def _log_cells(entry: Mapping[str, Any], what: Any) -> list[Any]:
    """A feed entry's cells under :data:`_LOG_HEADERS`, ``what`` (the event) last."""
    return [
        entry["seq"],
        out.local_time(entry["recorded_at"]),
        entry["actor"],
        entry["aggregate_type"],
        out.short(entry["aggregate_id"]),
        entry["version"],
        what,
    ]


def _render_log(entries: Iterable[Mapping[str, Any]], access: bool) -> None:
    """One aligned line per entry, printed as it arrives (fixed widths: the feed streams)."""

    def line(cells: list[Any]) -> str:
        head = [str(c).ljust(w) for c, w in zip(cells, _LOG_WIDTHS, strict=False)]
        return "  ".join([*head, str(cells[-1])]).rstrip()

    any_ = False
    for entry in entries:
        if not any_:
            click.echo(click.style(line(_LOG_HEADERS), bold=True))
        any_ = True
        if access:
            detail = entry.get("detail") or {}
            extra = ", ".join(f"{k}={v}" for k, v in detail.items())
            summary = f"{entry.get('action')} {out.short(entry.get('subject'))}"
            summary += f" ({extra})" if extra else ""
        else:
            text, _ = out.history_summary(entry)
            summary = f"{entry['event']} {text}".strip()
        click.echo(line(_log_cells(entry, summary)))
    if not any_:
        click.echo("No entries.")


# -- checkpoints and verification -----------------------------------------------------------------


@audit.command()
@key_option
@json_option
@pass_app
def checkpoint(app: App, key_file: Path | None) -> None:
    """Print the store's checkpoint now (POS:DIGEST), for an auditor to keep apart.

    With a key (--key-file or GOALENGINE_AUDIT_KEY) it is signed: POS:DIGEST:HMAC.
    """
    result = app.engine.checkpoint(key=_key(key_file))

    def render(c: Mapping[str, Any]) -> None:
        click.echo(c["checkpoint"])
        note = "signed with your key" if c["signed"] else "unsigned"
        click.echo(
            click.style(
                f"position {c['position']}, last event {out.local_time(c['recorded_at'])}, {note}",
                dim=True,
            ),
            err=True,
        )

    out.emit(app, result, human=render)


@audit.command()
@checkpoint_option
@key_option
@click.option(
    "--read-models/--no-read-models",
    default=True,
    help="Also check the read-model rows against a rebuild (a second phase; on by default).",
)
@json_option
@pass_app
def verify(
    app: App, checkpoints: tuple[str, ...], key_file: Path | None, read_models: bool
) -> None:
    """Check every event's links, the sequence, every snapshot and the given checkpoints, then
    the read-model rows against what a rebuild gives.

    Exit 0 when everything holds; exit 1 naming the first broken goal and version otherwise.
    """
    key = _key(key_file)
    engine = app.engine
    with out.progress_bar("verifying", at_least=PROGRESS_FROM) as progress:
        report = engine.verify(
            checkpoints=checkpoints, key=key, progress=progress, read_models=read_models
        )
    out.emit(app, report, human=_render_verify)
    if not report["ok"]:
        first = report["first_problem"] or {"message": "see the problems listed"}
        click.echo(f"Error: integrity check failed: {first['message']}", err=True)
        click.get_current_context().exit(1)


def _render_verify(r: Mapping[str, Any]) -> None:
    status = click.style("OK", fg="green") if r["ok"] else click.style("FAILED", fg="red")
    out.heading(f"Integrity {status}")
    out.fields(
        [
            ("events", r["events"]),
            ("aggregates", r["aggregates"]),
            ("snapshots", r["snapshots_checked"]),
            ("unchecked", _unchecked_text(r.get("unchecked"))),
            ("head", r["head"]),
            ("backfilled", r.get("chain_backfilled_at")),
        ]
    )
    for c in r["checkpoints"]:
        mark = "ok" if c["ok"] else "FAILED"
        click.echo(f"  checkpoint {c['checkpoint'][:24]}…  {mark}")
    rm = r.get("read_models")
    if rm is not None:
        rate = f", {rm['rate']:,} events/s" if rm.get("rate") else ""
        if rm["ok"]:
            click.echo(f"  read models {rm['rows']} rows match a rebuild{rate}")
        else:
            n = rm["differ"]
            click.echo(
                click.style("  read models: ", fg="red")
                + f"{n} row{'s' if n != 1 else ''} differ{'s' if n == 1 else ''} — run `goalengine admin rebuild`{rate}"
            )
    for p in r["problems"]:
        if p["kind"] != "read_model":  # shown above, apart from the chain
            click.echo(click.style(f"  {p['kind']}: ", fg="red") + p["message"])
    if r["problem_count"] > len(r["problems"]):
        click.echo(f"  … and {r['problem_count'] - len(r['problems'])} more")


def _unchecked_text(u: Mapping[str, Any] | None) -> str | None:
    """``3 (salt missing: 3 — a failure)``: how much content was not checked, and why."""
    if not u or not u.get("events"):
        return None
    parts = [
        f"{why}: {n}" + ("" if why == "erased" else " — a failure")
        for why, n in u["reasons"].items()
    ]
    return f"{u['events']} ({', '.join(parts)})"


# -- export and offline replay --------------------------------------------------------------------


@audit.command()
@click.option(
    "--out",
    "out_path",
    required=True,
    type=SafePath(dir_okay=False, path_type=Path),
    help="The file to write.",
)
@click.option("--client", "client_ref", metavar="CLIENT", help="Only this client's records.")
@click.option("--since", type=SINCE, help="From the first position recorded at or after this time.")
@click.option(
    "--from", "from_position", type=click.IntRange(min=1), help="From this store position."
)
@json_option
@pass_app
def export(
    app: App,
    out_path: Path,
    client_ref: str | None,
    since: datetime | None,
    from_position: int | None,
) -> None:
    """Write a contiguous range of the chain as JSON Lines, the manifest first (recorded).

    --client keeps the other positions as skeleton rows (no content), so the file still
    verifies against a store checkpoint.
    """
    manifest = app.engine.export(
        out_path, client=client_ref, since=since, from_position=from_position
    )

    def render(m: Mapping[str, Any]) -> None:
        c = m["counts"]
        click.echo(
            f"Exported {c['events']} events ({c['goals']} goals, {c['clients']} clients) to "
            f"{out_path}"
        )
        out.fields(
            [
                ("from", out.local_time(m["time_range"]["first"])),
                ("to", out.local_time(m["time_range"]["last"])),
                ("checkpoint", m["checkpoint"]),
                ("recorded at", m.get("access_checkpoint")),
            ]
        )
        click.echo(
            "  a checkpoint at or after the export's record (`audit checkpoint` now) "
            "authenticates its manifest",
            err=True,
        )

    out.emit(app, manifest, human=render)


@audit.command()
@click.argument("file", type=SafePath(exists=True, dir_okay=False, path_type=Path))
@click.option("--goal", "ref", metavar="ID", help="Rebuild this goal (or client) only.")
@click.option("--as-of", type=AS_OF, help="The state current at that moment.")
@checkpoint_option
@key_option
@json_option
@pass_app
def replay(
    app: App,
    file: Path,
    ref: str | None,
    as_of: datetime | None,
    checkpoints: tuple[str, ...],
    key_file: Path | None,
) -> None:
    """Verify an export and rebuild state from the file alone (no store is opened).

    With --goal it prints the same JSON as `goal show`.
    """
    from goalengine.engine import GoalEngine

    result = GoalEngine.replay(
        file, ref=ref, as_of=as_of, checkpoints=checkpoints, key=_key(key_file)
    )

    def render(r: Mapping[str, Any]) -> None:
        if "manifest" not in r:
            _render_state(r)
            return
        m = r["manifest"]
        click.echo(
            f"{file}: verified, {r['events']} events from {m['engine_version']} "
            f"(checkpoint {m['checkpoint'][:20]}…)"
        )
        if r.get("manifest_authenticated"):
            click.echo(f"  manifest authenticated by {r.get('authenticated_by')}")
        elif r.get("unauthenticated"):
            where = r.get("authenticated_by") or "no access record (an old export)"
            click.echo(
                click.style("  manifest not authenticated", fg="yellow")
                + f" (needs a checkpoint covering {where}): "
                + ", ".join(r["unauthenticated"]),
            )
        for why, n in (r.get("unchecked") or {}).items():
            click.echo(f"  unchecked: {n} ({why})")
        out.table(
            ["ID", "TITLE", "STATUS", "SCALE", "V"],
            [
                [
                    out.short(g["id"]),
                    out.clip(g["title"], 40),
                    g["status"],
                    out.bar(g["scale"]),
                    g["version"],
                ]
                for g in r["goals"]
            ],
        )

    out.emit(app, result, human=render)


__all__ = ["AS_OF", "audit"]
