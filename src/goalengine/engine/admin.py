"""Administration: where the store is, rebuilding the read models, and the store's fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from goalengine.engine import checks
from goalengine.engine.core import EngineCore
from goalengine.readmodels import rebuild
from goalengine.results import Fingerprint, RebuildCounts, StoreInfo


class AdminArea(EngineCore):
    """Store-wide operations."""

    def store_info(self) -> StoreInfo:
        """Where the store is, the format it records and how many events it holds."""
        found = self._store.query("SELECT value FROM {p}goalengine_meta WHERE key = ?", ("format",))
        return {
            "store": self.store_url,
            "format": int(found[0]["value"]) if found else None,
            "events": self._store.max_notification_id(),
        }

    def rebuild_read_models(
        self, *, progress: Callable[[int, int], None] | None = None
    ) -> RebuildCounts:
        """Rebuild every read model from the event log alone, streamed in pages
        (``progress(done, total)`` after each); returns the row count of each table and the
        number of events read. The rows equal the ones the live writes made."""
        if progress is not None and not callable(progress):
            raise checks.wrong_type("progress", "a callable(done, total) or None", progress)
        return rebuild(self._store, progress)

    def fingerprint(self) -> Fingerprint:
        """A digest of the whole event log and every read-model row.

        Two equal fingerprints mean nothing was recorded in between: tests use it to prove that a
        refused command changed nothing.
        """
        digest = hashlib.sha256()
        count, start = 0, 1
        recorder: Any = self._store.app.recorder
        while True:
            page = recorder.select_notifications(start=start, limit=1000)
            if not page:
                break
            for n in page:
                count += 1
                digest.update(
                    f"{n.id}|{n.originator_id}|{n.originator_version}|{n.topic}|".encode()
                )
                digest.update(n.state)
            start = page[-1].id + 1
        return {
            "events": count,
            "events_sha256": digest.hexdigest(),
            "read_models": self._read.dump(),
        }
