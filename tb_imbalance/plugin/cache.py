"""The dashboard's memory: decoded series, least recently used out, bounded in bytes.

``read_tensors`` returns every retained step of a (run, tag) at once, and
decoded, 100 steps of a 1000-class matrix are 800 MB of dense int64. The
reader (:mod:`tb_imbalance.plugin.reader`) therefore keeps the
:class:`~tb_imbalance.plugin.series.MatrixSeries` of each (experiment, run,
tag) in one :class:`SeriesCache`, and reads again only when the data provider
reports a new version of the series. The same cache (and byte bound) holds
the examples' step listings and decoded indexes
(:mod:`tb_imbalance.plugin.examples`): any entry with a ``version`` and an
``nbytes`` (:class:`CacheEntry`) fits.

Example:
    >>> cache = SeriesCache(max_bytes=1_000_000)
    >>> len(cache), cache.nbytes
    (0, 0)
"""

from __future__ import annotations

import collections
import threading
from typing import Callable, Hashable, Protocol, TypeVar

__all__ = ["DEFAULT_CACHE_BYTES", "CacheEntry", "SeriesCache"]

#: Default memory bound of the decoded-matrix cache.
DEFAULT_CACHE_BYTES = 512 * 1024 * 1024


class CacheEntry(Protocol):
    """What :class:`SeriesCache` holds: a ``MatrixSeries`` or an examples entry."""

    @property
    def version(self) -> Hashable:
        """The data provider's version of what the entry was read from."""

    @property
    def nbytes(self) -> int:
        """Memory held, counted against the cache's bound."""


Entry = TypeVar("Entry", bound=CacheEntry)


class SeriesCache:
    """Thread-safe LRU cache of series (and other :class:`CacheEntry`), bounded in bytes.

    Each key is loaded by at most one thread at a time: concurrent requests
    for the same series wait for that one read instead of repeating it, while
    different series load in parallel. The most recent entry is kept even if
    it alone exceeds ``max_bytes``. A key's load lock lives only while a
    thread loads or waits for it, so a server that sees runs and steps come
    and go for days holds no lock per key it ever saw.

    Args:
        max_bytes: memory bound (``MatrixSeries.nbytes`` summed).

    Example:
        >>> cache = SeriesCache(max_bytes=10_000_000)
        >>> from tb_imbalance import format as fmt
        >>> from tb_imbalance.plugin.series import MatrixSeries
        >>> info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
        >>> load = lambda: MatrixSeries(info, "v1", [], [], [])
        >>> cache.get(("", "run", "tag"), "v1", load) is cache.get(("", "run", "tag"), "v1", load)
        True
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        if max_bytes < 0:
            raise ValueError(f"`max_bytes` must be non-negative, received {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._entries: collections.OrderedDict[Hashable, CacheEntry] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        # key -> [lock, threads loading or waiting]; dropped when the count falls to 0
        self._load_locks: dict[Hashable, list] = {}

    @property
    def nbytes(self) -> int:
        """Bytes currently held."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def get(self, key: Hashable, version: Hashable, load: Callable[[], Entry]) -> Entry:
        """Return the cached entry for ``key`` if it has ``version``, else ``load()`` it.

        Args:
            key: e.g. ``(experiment_id, run, tag)``.
            version: the current version; a cached entry with another one is
                replaced.
            load: reads the entry (e.g. a series); its exceptions propagate
                (nothing is cached then).

        Returns:
            The cached or freshly loaded entry.
        """
        with self._lock:
            cached = self._lookup(key, version)
            if cached is not None:
                return cached
            slot = self._load_locks.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        try:
            with slot[0]:
                with self._lock:
                    cached = self._lookup(key, version)
                    if cached is not None:
                        return cached
                series = load()
                with self._lock:
                    self._store(key, series)
                return series
        finally:
            with self._lock:
                slot[1] -= 1
                if slot[1] == 0:
                    del self._load_locks[key]

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _lookup(self, key: Hashable, version: Hashable) -> CacheEntry | None:
        series = self._entries.get(key)
        if series is None or series.version != version:
            return None
        self._entries.move_to_end(key)
        return series

    def _store(self, key: Hashable, series: CacheEntry) -> None:
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= previous.nbytes
        self._entries[key] = series
        self._bytes += series.nbytes
        while self._bytes > self.max_bytes and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes

