"""The read models: the one owner of their tables, projection, queries and rebuild.

- :mod:`~goalengine.readmodels.tables` — table names and definitions;
- :mod:`~goalengine.readmodels.projection` — what each event and aggregate writes (pure);
- :mod:`~goalengine.readmodels.queries` — id lookup, goal trees, lists and paged series;
- :mod:`~goalengine.readmodels.rebuild` — refilling every table from the event log.

Only this package and the store's recorders (which run the projection's writes in the events'
transaction) write SQL for them.
"""

from goalengine.readmodels.queries import ReadModels, tree_order
from goalengine.readmodels.rebuild import rebuild

__all__ = ["ReadModels", "rebuild", "tree_order"]
