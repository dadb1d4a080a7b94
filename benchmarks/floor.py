"""The floor: the thinnest possible book, measured beside the venue on the same workload.

A dict of order ids plus a ``SortedDict`` of price levels holding
insertion-ordered dicts, with add and cancel and nothing else — no
validation, no money, no response.  Every venue figure is reported as a ratio
to this book's rate on the same operations.
"""

from __future__ import annotations

from sortedcontainers import SortedDict


class FloorBook:
    """Add and cancel resting orders; nothing else."""

    __slots__ = ("ids", "levels")

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.levels: SortedDict = SortedDict()

    def add(self, order_id: int, price: int, qty: int) -> None:
        level = self.levels.get(price)
        if level is None:
            level = self.levels[price] = {}
        level[order_id] = qty
        self.ids[order_id] = price

    def cancel(self, order_id: int) -> None:
        price = self.ids.pop(order_id)
        level = self.levels[price]
        del level[order_id]
        if not level:
            del self.levels[price]

    def __len__(self) -> int:
        return len(self.ids)
