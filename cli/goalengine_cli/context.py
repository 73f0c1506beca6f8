"""What every command receives: the :class:`App` in ``ctx.obj``, ``pass_app`` and ``json_option``;
``packed_options`` hands a group of options to a command as one value.

The engine is opened on first use of :attr:`App.engine`, so ``--help``, usage errors and
``--version`` never open a store (nor import eventsourcing); it is closed when the root context
closes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

if TYPE_CHECKING:
    from goalengine.engine import GoalEngine
    from goalengine.modalities.manager import PluginManager
    from goalengine.values import Actor

F = TypeVar("F", bound=Any)

#: Commands that only read a store: on a store that does not exist they refuse (exit 3,
#: ``no store at …``) and create nothing. Audited reads and exports record an access, but only
#: in a store that is there.
READ_ONLY = frozenset(
    {
        "admin rebuild",
        "audit checkpoint",
        "audit export",
        "audit history",
        "audit log",
        "audit replay",
        "audit show",
        "audit verify",
        "client history",
        "client list",
        "client priorities",
        "client show",
        "goal history",
        "goal list",
        "goal ratings",
        "goal reviews",
        "goal show",
        "goal suggest-steps",
        "review",
        "session list",
    }
)
#: Commands that record: they create the store on first use. (``plugins …`` and
#: ``modalities list/show`` open no store; they are listed so that every command is classed.)
WRITES = frozenset(
    {
        "init",
        "demo",
        "client add",
        "client revise",
        "client prioritize",
        "goal abandon",
        "goal achieve",
        "goal chain",
        "goal create",
        "goal pause",
        "goal reorder",
        "goal resume",
        "goal review",
        "goal revise",
        "goal scale",
        "goal void",
        "session add",
        "plugins install",
        "plugins list",
        "modalities list",
        "modalities show",
        "plugins new",
        "plugins uninstall",
    }
)


def command_name(ctx: click.Context) -> str:
    """The command's path below the root group: ``goal show``."""
    return " ".join(ctx.command_path.split()[1:])


class App:
    """The settings of one invocation and the engine they open (lazily).

    The CLI is the one place that reads the environment: ``main.cli`` resolves
    ``GOALENGINE_STORE`` (``store``), ``GOALENGINE_ACTOR`` (``actor``, else the operating-system
    user when the engine opens) and ``GOALENGINE_PLUGINS`` (``plugins``), and hands them to the
    engine as arguments.
    """

    def __init__(self) -> None:
        self.store: str | None = None
        self.actor: Actor | None = None
        #: The plugins to load by name (``GOALENGINE_PLUGINS``); None: every installed plugin.
        self.plugins: list[str] | None = None
        self.json = False
        self._engine: GoalEngine | None = None

    def plugin_manager(self) -> PluginManager:
        """The plugins this invocation loads (not loaded yet)."""
        if self.plugins is None:
            from goalengine.engine.core import installed_plugins

            return installed_plugins()
        from goalengine.modalities.manager import make_manager

        return make_manager(only=self.plugins)

    def creates_store(self) -> bool:
        """Whether the command running may create a missing store (see :data:`READ_ONLY`)."""
        ctx = click.get_current_context(silent=True)
        return ctx is None or command_name(ctx) not in READ_ONLY

    @property
    def store_url(self) -> str:
        """The store this invocation uses (the default SQLite file when none was given), its
        password shown as ``***``: for messages."""
        from goalengine.config import default_store_url
        from goalengine.errors import redact

        return redact(self.store or default_store_url())

    @property
    def engine(self) -> GoalEngine:
        """The engine on :attr:`store`, opened on first use and kept for the invocation."""
        if self._engine is None:
            from goalengine.config import default_actor
            from goalengine.engine import GoalEngine

            # store None: the default file in the data directory (made 0700 on a write).
            self._engine = GoalEngine(
                self.store,
                actor=self.actor or default_actor(),
                plugins=self.plugin_manager(),
                create=self.creates_store(),
            )
        return self._engine

    def use_store(self, url: str) -> None:
        """Point this invocation at another store (before the engine is opened)."""
        if self._engine is not None:
            raise RuntimeError("the store is already open")
        self.store = url

    def close(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            engine.close()


#: Decorator handing a command the :class:`App` (``def cmd(app: App, ...)``).
pass_app = click.make_pass_decorator(App, ensure=True)


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(App).json = True


def json_option(f: F) -> F:
    """``--json`` on a command or group: print one JSON document on stdout.

    Eager, so that it is in force before the other parameters are converted and a usage error in
    them is reported as JSON too. The value lands in :attr:`App.json`; commands do not take it.
    """
    option = click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print one JSON document on stdout.",
    )
    return option(f)


def packed_options(
    into: str, pack: Callable[..., object], *options: Callable[[F], F]
) -> Callable[[F], F]:
    """``options`` handed to the command as one keyword ``into``: ``pack`` called with their
    values (its parameters are the options' names). The options show in ``--help`` in order."""
    names = list(inspect.signature(pack).parameters)

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def command(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names}
            return f(*args, **kwargs, **{into: pack(**values)})

        packed: Any = command
        for option in reversed(options):
            packed = option(packed)
        return cast(F, packed)

    return decorate
