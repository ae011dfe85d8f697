"""A set that forgets its oldest members past a size: a cheap cache of facts that stay true."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable


class BoundedSet:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: str) -> None:
        self._items[item] = None
        self._items.move_to_end(item)
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def update(self, items: Iterable[str]) -> None:
        for item in items:
            self.add(item)
