"""The one least-recently-used map of the service: every in-process cache (rendered images,
fetched assets, trial verdicts, decoded and prepared layers on the render workers) is one.

Bounded by a total cost: bytes when ``cost`` measures them, else one per entry. An entry that
alone costs more than ``largest`` (by default the whole budget) is not kept: the caller made
it and uses it once. Not thread-safe: each user lives on one event loop or one worker.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["LRU"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _one(_: object) -> int:
    return 1


class LRU(Generic[K, V]):
    def __init__(
        self, budget: int, cost: Callable[[V], int] = _one, largest: int | None = None
    ) -> None:
        self.budget = budget
        self.largest = budget if largest is None else largest
        self.size = 0
        self._cost = cost
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def get(self, key: K) -> V | None:
        """The value kept for ``key`` (now the most recently used), or None."""
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` (replacing what ``key`` had), dropping the least recently used
        entries until the total is within the budget; a value over ``largest`` is not kept."""
        self.pop(key)
        cost = self._cost(value)
        if cost > self.largest:
            return
        self._items[key] = (value, cost)
        self.size += cost
        while self.size > self.budget:
            _, (_, dropped) = self._items.popitem(last=False)
            self.size -= dropped

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found

    def pop(self, key: K) -> V | None:
        found = self._items.pop(key, None)
        if found is None:
            return None
        self.size -= found[1]
        return found[0]

    def clear(self) -> None:
        self._items.clear()
        self.size = 0
