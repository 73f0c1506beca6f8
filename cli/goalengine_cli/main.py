"""The root ``goalengine`` group: global options, the per-invocation :class:`App`, the groups.

``goalengine [--store URL] [--as ROLE:NAME] [--json] COMMAND …``

How a command group plugs in (e.g. ``plugins``, ``audit``):

1. Write ``goalengine_cli/<group>.py`` with a ``@click.group()`` and its commands. Each command
   takes the :class:`~goalengine_cli.context.App` through ``@pass_app`` and accepts ``--json``
   through ``@json_option`` (both from :mod:`goalengine_cli.context`)::

       @plugins.command("list")
       @json_option
       @pass_app
       def list_(app: App) -> None:
           emit(app, app.engine.plugins(), human=_render)

2. Call the engine through ``app.engine`` (opened on first use, closed by the root) and print
   through :func:`goalengine_cli.output.emit`: one JSON document with ``--json``, else your
   renderer (use ``output.table``, ``fields``, ``bar``, ``local_time``, ``short``), then the
   findings of a result that has them.
3. Do not catch :class:`goalengine.GoalEngineError`: :class:`~goalengine_cli.output.RootGroup`
   reports every error (one line on stderr, ``{"error": …}`` on stdout with ``--json``, the
   error's exit code). Parse domain values with a ``click.ParamType`` (see
   :mod:`goalengine_cli.params`) so bad input is a usage error (exit 2) before a store opens.
4. Register it below with one line: ``cli.add_command(plugins)``; a command added to an existing
   group (``client prioritize``) registers with ``client.add_command(prioritize)``.

Keep imports at the top of a group module cheap (click, ``goalengine.values``/``errors``/
``config``): ``goalengine --help`` must not import eventsourcing. Import anything heavy inside the
command that needs it.
"""

from __future__ import annotations

import os

import click

from goalengine.config import ENV_ACTOR, ENV_PLUGINS, ENV_STORE
from goalengine.values import Actor
from goalengine_cli import goal_reads  # noqa: F401  (registers goal show/list/…)
from goalengine_cli.admin import admin, demo, init
from goalengine_cli.audit import audit
from goalengine_cli.clients import client
from goalengine_cli.context import App, json_option
from goalengine_cli.goals import goal
from goalengine_cli.modalities import modalities, priorities, prioritize, review, suggest_steps
from goalengine_cli.output import RootGroup
from goalengine_cli.params import ACTOR
from goalengine_cli.plugins import plugins
from goalengine_cli.sessions import session


@click.group("goalengine", cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar=ENV_STORE,
    show_envvar=True,
    metavar="URL",
    help="Where the records are: sqlite:///file.db, postgresql://user@host/db or memory:// "
    "(default: goalengine.db in your data directory).",
)
@click.option(
    "--as",
    "actor",
    type=ACTOR,
    envvar=ENV_ACTOR,
    show_envvar=True,
    help="Who is acting, recorded on every event (default: therapist:<your user name>).",
)
@json_option
@click.version_option(package_name="goalengine", prog_name="goalengine")
@click.pass_context
def cli(ctx: click.Context, store: str | None, actor: Actor | None) -> None:
    """Therapy goals as an auditable record: set, scale, chain, revise and review them."""
    app = ctx.ensure_object(App)
    # Every file this invocation writes (stores, their -wal/-shm, exports) is private.
    previous = os.umask(0o077)
    ctx.call_on_close(lambda: os.umask(previous))
    if store:
        app.store = store
    app.actor = actor
    # GOALENGINE_PLUGINS: read here (click treats an empty variable as unset), set but empty
    # is a mistake, never "no plugins".
    plugin_names = os.environ.get(ENV_PLUGINS)
    if plugin_names is not None:
        app.plugins = [p.strip() for p in plugin_names.split(",") if p.strip()]
        if not app.plugins:
            raise click.BadParameter(
                f"{ENV_PLUGINS} is set but names no plugin; unset it to load every installed "
                "plugin, or list the ones to load, e.g. core,cbt",
                param_hint=ENV_PLUGINS,
            )
    ctx.call_on_close(app.close)


cli.add_command(init)
cli.add_command(client)
cli.add_command(session)
cli.add_command(goal)
cli.add_command(plugins)
cli.add_command(modalities)
cli.add_command(review)
client.add_command(prioritize)
client.add_command(priorities)
goal.add_command(suggest_steps)
cli.add_command(admin)
cli.add_command(demo)
cli.add_command(audit)
