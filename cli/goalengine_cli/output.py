"""Shared output: JSON documents, aligned tables, local times, the scale bar, findings, errors.

A command renders through :func:`emit`: with ``--json`` it prints exactly one JSON document on
stdout, otherwise it calls the command's human renderer and then prints any findings. Errors are
never handled in commands: :class:`RootGroup` reports every error in one place (:func:`report`).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click

from goalengine.errors import GoalEngineError, redact
from goalengine_cli.context import App

SCALE_FULL, SCALE_EMPTY = "▇", "▁"
# click >= 8.2 raises this for a group called without a command (it shows the help, exit 2).
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())

# -- values ------------------------------------------------------------------------------------


def short(ident: str | None) -> str:
    """The first 8 characters of an id (what people type back)."""
    return (ident or "")[:8]


def local_time(iso: str | None) -> str:
    """A stored UTC timestamp shown in local time, to the minute."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def local_date(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone().date().isoformat()


def bar(value: int | None) -> str:
    """A 0-10 rating as a small bar: ``▇▇▇▇▁▁▁▁▁▁ 4/10`` (``unrated`` when there is none)."""
    if value is None:
        return "unrated"
    return SCALE_FULL * value + SCALE_EMPTY * (10 - value) + f" {value}/10"


def clip(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def target_text(value: Any) -> str:
    """A target as people write it (``phq9<10``), from its string or its stored fields."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    number = value["value"]
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    per = f"/{value['per']}" if value.get("per") else ""
    return f"{value['measure']}{value['comparator']}{number}{per}"


def field_text(name: str, value: Any) -> str:
    """A stored field value (e.g. of a revision) as one short readable string."""
    if value is None or value == [] or value == "":
        return "—"
    if name == "target":
        return target_text(value)
    if name == "anchors" and isinstance(value, Mapping):
        return f"0: {value.get('low') or '—'} / 10: {value.get('high') or '—'}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(field_text(name, v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


# -- layout ------------------------------------------------------------------------------------


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    indent: int = 0,
    details: Sequence[Sequence[str]] | None = None,
    empty: str | None = None,
) -> None:
    """Print ``rows`` in aligned columns under bold ``headers`` (``empty``, when given, instead
    of a table without rows).

    ``details[i]`` are extra lines printed under row ``i``, indented past its first column.
    """
    cells = [["" if c is None else str(c) for c in row] for row in rows]
    if not cells and empty is not None:
        click.echo(empty)
        return
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    pad = " " * indent

    def line(values: Sequence[str]) -> str:
        return pad + "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    click.echo(click.style(line(headers), bold=True))
    sub = pad + " " * (widths[0] + 2) if widths else pad
    for i, row in enumerate(cells):
        click.echo(line(row))
        for extra in details[i] if details else ():
            click.echo(sub + extra)


@contextlib.contextmanager
def progress_bar(
    label: str, *, at_least: int, terminal_only: bool = False
) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback that shows a bar on stderr once ``total`` is at
    least ``at_least`` (with ``terminal_only``: only when stderr is a terminal); it is closed
    when the block ends."""
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if total < at_least or (terminal_only and not sys.stderr.isatty()):
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def fields(pairs: Iterable[tuple[str, Any]], *, indent: int = 2) -> None:
    """Print ``label  value`` lines, labels aligned; empty values are left out."""
    shown = [(k, str(v)) for k, v in pairs if v not in (None, "", [], ())]
    width = max((len(k) for k, _ in shown), default=0)
    for k, v in shown:
        click.echo(" " * indent + click.style(k.ljust(width), dim=True) + "  " + v)


def heading(text: str) -> None:
    click.echo(click.style(text, bold=True))


def findings(items: Iterable[Mapping[str, Any]] | None) -> None:
    """Print the findings of rules after a command's output: ``warning: message (rule)``."""
    for f in items or ():
        colour = {"error": "red", "warning": "yellow"}.get(f.get("severity", ""), "cyan")
        label = click.style(f"{f.get('severity', 'note')}:", fg=colour)
        source = f.get("rule") or f.get("plugin") or ""
        click.echo(f"{label} {f.get('message', '')}" + (f" ({source})" if source else ""))


def dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def emit(app: App, data: Any, human: Callable[[Any], None] | None = None) -> None:
    """Print a command's result: one JSON document with ``--json``, else ``human(data)`` then
    the findings, if the result has any."""
    if app.json:
        click.echo(dump(data))
        return
    if human is not None:
        human(data)
    if isinstance(data, Mapping):
        findings(data.get("findings"))


# -- errors ------------------------------------------------------------------------------------


def _store_failure(exc: BaseException) -> bool:
    """An error of the database layer itself (lost connection, read-only file, …)."""
    kinds: list[type[BaseException]] = []
    for module, name in (
        ("eventsourcing.persistence", "PersistenceError"),
        ("sqlite3", "Error"),
        ("psycopg", "Error"),
    ):
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            kinds.append(cls)
    return isinstance(exc, tuple(kinds))


def _printable_streams() -> None:
    """Text that cannot be encoded (a non-UTF-8 byte of an argument, which Python hands over
    as a lone surrogate) is shown escaped (``\\udcff``) instead of failing while printing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            with contextlib.suppress(ValueError, OSError, TypeError):
                reconfigure(errors="backslashreplace")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def wants_json(argv: Sequence[str]) -> bool:
    """Whether ``--json`` was among the options (for errors raised before it was parsed)."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def report(exc: BaseException, app: App, argv: Sequence[str]) -> int:
    """Report an error: one line on stderr (and ``{"error": …}`` on stdout with ``--json``).

    Returns the exit code: the error's own for goalengine errors (1 domain, 2 usage,
    3 environment), 2 for click usage errors, 3 for a failure of the database layer.
    """
    details: dict[str, Any] = {}
    if isinstance(exc, GoalEngineError):
        kind, message, code = exc.type, exc.message, exc.exit_code
        details = dict(exc.details)
        if not (app.json or wants_json(argv)):
            message = exc.screen  # a person may see the names and titles details carry
    elif isinstance(exc, click.UsageError):
        kind, message, code = "UsageError", exc.format_message(), exc.exit_code
        if exc.ctx is not None:
            details["command"] = exc.ctx.command_path
            message = message.rstrip()
            message += ("" if message.endswith((".", "!", "?")) else ".") + (
                f" See '{exc.ctx.command_path} --help'."
            )
        param = getattr(exc, "param", None)
        if param is not None and param.name:
            details["param"] = param.name
    elif isinstance(exc, click.ClickException):
        kind, message, code = "Error", exc.format_message(), exc.exit_code
    else:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        kind, message, code = "StoreError", f"store failure on {app.store_url}: {first}", 3
        message = redact(message)  # a database error may quote the connection's password
    if app.json or wants_json(argv):
        error = {"type": kind, "message": _one_line(message), "details": details}
        click.echo(dump({"error": error}))
    click.echo(f"Error: {_one_line(message)}", err=True)
    return code


class RootGroup(click.Group):
    """The root group: builds the :class:`App` and reports every error in one place."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        _printable_streams()
        app = extra.pop("obj", None) or App()
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, False, obj=app, **extra)
        try:
            code = super().main(argv, prog_name, complete_var, False, obj=app, **extra)
        except _NO_ARGS_IS_HELP as e:
            if app.json or wants_json(argv):
                code = report(click.UsageError("Missing command.", ctx=e.ctx), app, argv)
            else:
                e.show()
                code = e.exit_code
        except (click.ClickException, GoalEngineError) as e:
            code = report(e, app, argv)
        except click.Abort:
            click.echo("Aborted!", err=True)
            code = 1
        except Exception as e:
            if not _store_failure(e):
                raise
            code = report(e, app, argv)
        finally:
            app.close()
        sys.exit(code if isinstance(code, int) else 0)


# -- history -----------------------------------------------------------------------------------

_HISTORY_BASE = {"version", "event", "recorded_at", "actor", "findings"}


def history_summary(entry: Mapping[str, Any]) -> tuple[str, list[str]]:
    """One summary line for an event and its extra lines (changes, reason, note, findings)."""
    event = entry["event"]
    extra: list[str] = []
    summary = ""
    if event == "Created" and "spec" in entry:
        spec = entry["spec"]
        summary = f"“{spec['title']}” ({spec['horizon']}-term {spec['kind']})"
        if entry.get("parent_id"):
            summary += f", a step of {short(entry['parent_id'])}"
    elif event == "Registered":
        summary = str(entry.get("name", ""))
        if entry.get("values"):
            extra.append("values: " + "; ".join(entry["values"]))
    elif event == "Chained":
        summary = f"step {short(entry['step_id'])} at position {int(entry['position']) + 1}"
    elif event == "StepsReordered":
        summary = "steps: " + ", ".join(short(s) for s in entry.get("steps", []))
    elif event == "Scaled":
        summary = f"{bar(entry['value'])} by {entry['rater']}"
        if entry.get("session"):
            summary += f", session {entry['session']}"
        if entry.get("note"):
            extra.append(f"note: {entry['note']}")
    elif event == "Revised":
        extra.extend(change_lines(entry.get("changes", [])))
        summary = ", ".join(c["field"] for c in entry.get("changes", []))
        extra.append(f"reason: {entry.get('reason', '')}")
    elif event == "Reviewed":
        summary = str(entry["outcome"])
        if entry.get("value_alignment") is not None:
            summary += f", value alignment {entry['value_alignment']}/10"
        if entry.get("note"):
            extra.append(f"note: {entry['note']}")
    elif event == "SessionRecorded":
        summary = f"session {entry['number']} on {entry['on']}"
    elif entry.get("note") is not None or event in {
        "Paused",
        "Resumed",
        "Achieved",
        "Abandoned",
        "Voided",
    }:
        if entry.get("note"):
            label = "reason" if event in ("Abandoned", "Voided") else "note"
            extra.append(f"{label}: {entry['note']}")
    else:
        rest = {k: v for k, v in entry.items() if k not in _HISTORY_BASE}
        summary = "; ".join(f"{k}: {field_text(k, v)}" for k, v in rest.items())
    for f in entry.get("findings") or ():
        by = " ".join(str(x) for x in (f.get("plugin"), f.get("plugin_version")) if x)
        extra.append(
            f"{f.get('severity')}: {f.get('message')} ({f.get('rule')}"
            + (f"; {by})" if by else ")")
        )
    return summary, extra


def change_lines(changes: Sequence[Mapping[str, Any]]) -> list[str]:
    """``field: before → after`` for each change of a revision."""
    return [
        f"{c['field']}: {field_text(c['field'], c['before'])} → {field_text(c['field'], c['after'])}"
        for c in changes
    ]


def history(entries: Sequence[Mapping[str, Any]]) -> None:
    """Print a history: version, recorded time (local), the day it happened when that differs,
    actor, event, a summary; then before → after of revisions, reasons and notes."""
    rows, details = [], []
    for entry in entries:
        occurred = entry.get("occurred_on") or ""
        if occurred and occurred == local_date(entry["recorded_at"]):
            occurred = ""
        summary, extra = history_summary(entry)
        rows.append(
            [
                f"v{entry['version']}",
                local_time(entry["recorded_at"]),
                occurred,
                entry["actor"],
                entry["event"],
                summary,
            ]
        )
        details.append(extra)
    table(["VER", "RECORDED", "OCCURRED", "ACTOR", "EVENT", "WHAT"], rows, details=details)
