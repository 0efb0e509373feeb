"""Per-process caches of costly answers, valid while a database sequence stands still.

Triggers move a sequence (`issue_tallies_version` for open problems' counts,
`issues_version` for any write to problems, categories, photos, units or areas, `coverage_version` for
stations, visits, look-backs and places) on every write
that can change an answer, so an entry made at version v is good until the
sequence moves on. Sequences are not transactional: a writer moves one before it
commits, so an answer computed in that instant could be kept under the new
version; `max_age` bounds how long such an answer may live (and how long any
entry lives at all). Each gunicorn worker has its own cache; nothing is shared.

The cache is off when the app is testing (each test's writes are rolled back,
and a rolled-back write leaves the sequence moved but the data unchanged) unless
the config's `FIELDWATCH_CACHE` is set true, as the cache's own tests do;
`FIELDWATCH_CACHE=0` in the environment turns it off for a server.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app
from sqlalchemy import text

from fieldwatch.extensions import db


class VersionedCache:
    """A small LRU of answers keyed by (key, version of `sequence`)."""

    def __init__(self, sequence: str, max_entries: int = 256, max_age: float = 60.0):
        self.sequence = sequence
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[Hashable, tuple[int, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def enabled() -> bool:
        # FIELDWATCH_CACHE=0 in the environment turns it off (to measure the queries alone)
        default = not current_app.testing and os.environ.get("FIELDWATCH_CACHE", "1") != "0"
        return bool(current_app.config.get("FIELDWATCH_CACHE", default))

    def version(self) -> int:
        """Return how often the sequence has moved (one cheap round trip, no lock)."""
        # a fresh sequence reads 1 before and after its first nextval: is_called tells them apart
        sql = f"SELECT last_value + is_called::int FROM {self.sequence}"
        return db.session.execute(text(sql)).scalar()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """Return the cached answer for `key`, or make, keep and return it."""
        if not self.enabled():
            return make()
        version = self.version()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry[0] == version and now - entry[1] < self.max_age:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[2]
        value = make()
        with self._lock:
            self.misses += 1
            self._entries[key] = (version, now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: low-zoom issue tiles (a few hundred bytes to a few KB each)
tiles = VersionedCache("issue_tallies_version", max_entries=2048, max_age=60.0)
#: issue tiles from zoom 12 on (points with their properties), any reader's scope
issue_tiles = VersionedCache("issues_version", max_entries=2048, max_age=60.0)
#: pages of the OGC `issues` layer per (reader's scope, box, interval, limit, offset, day);
#: `issues_version` also moves on photos, units and areas (migration 0007)
ogc_issues = VersionedCache("issues_version", max_entries=512, max_age=60.0)
#: coverage answers per (as_of, since, township), the province's ~1 MB, and the townships'
#: map markers (fieldwatch.map.queries.tallies): all change only with places and stations
coverage = VersionedCache("coverage_version", max_entries=64, max_age=300.0)
