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
    from goalengine.values import Actor

F = TypeVar("F", bound=Any)


class App:
    """The settings of one invocation and the engine they open (lazily)."""

    def __init__(self) -> None:
        self.store: str | None = None
        self.actor: Actor | None = None
        self.json = False
        self._engine: GoalEngine | None = None

    @property
    def store_url(self) -> str:
        """The store this invocation uses (the default SQLite file when none was given)."""
        from goalengine.config import default_store_url

        return self.store or default_store_url()

    @property
    def engine(self) -> GoalEngine:
        """The engine on :attr:`store`, opened on first use and kept for the invocation."""
        if self._engine is None:
            from goalengine.engine import GoalEngine

            self._engine = GoalEngine(self.store, actor=self.actor)
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
