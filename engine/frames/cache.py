"""One bounded, thread-safe in-memory cache for every cache of the engine's: least recently used
first out, beyond ``capacity`` entries or, with ``budget``, beyond that many bytes of numpy
arrays (a 1280×720 frame is 2.6 MiB: a count alone would let a cache of HD frames take
gigabytes). Every method holds the cache's own lock, so any thread may read and write it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class LRU:
    """``size_of(value)``: its bytes, for ``budget`` (default: a numpy array's ``nbytes``)."""

    def __init__(self, capacity: int, budget: int | None = None,
                 size_of: Callable[[Any], int] | None = None) -> None:  # fmt: skip
        self.capacity = capacity
        self.budget = budget
        self.size_of = size_of or _nbytes
        self.bytes = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> Any:
        """The value kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            old = self._items.get(key)
            if old is not None:
                self.bytes -= self.size_of(old)
            self._items[key] = value
            self.bytes += self.size_of(value)
            self._items.move_to_end(key)
            while len(self._items) > 1 and (len(self._items) > self.capacity or
                                            self.budget is not None and
                                            self.bytes > self.budget):  # fmt: skip
                _, gone = self._items.popitem(last=False)
                self.bytes -= self.size_of(gone)

    def kept(self, key, make: Callable[[], Any]) -> Any:
        """The value for ``key``, made by ``make()`` (outside the lock) if none is kept. Two
        threads may both make it; the values are equal, and the second is kept."""
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def newest(self) -> list[tuple[Any, Any]]:
        """The (key, value) pairs kept, the most recently used first."""
        with self._lock:
            return list(reversed(self._items.items()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        return key in self._items


def _nbytes(value: Any) -> int:
    return getattr(value, "nbytes", 0)
