"""The ``goalengine`` command line: a click app over :class:`goalengine.GoalEngine`.

The root group lives in :mod:`goalengine_cli.main`; see its docstring for how a command group plugs in.
"""
