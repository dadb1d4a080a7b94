"""The floor: the thinnest possible book, measured beside the venue on the same workload.

A dict of order ids plus a ``SortedDict`` of price levels holding
insertion-ordered dicts, with add and cancel and nothing else — no
validation, no money, no response.  Every venue figure is reported as a ratio
to this book's rate on the same operations.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

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


def filled(book: Any, prices: list[tuple[str, int]]) -> list:
    """``[book, next order id]`` after adding one order of 10 lots at each (side, ticks)."""
    for i, (_side, ticks) in enumerate(prices, 1):
        book.add(i, ticks, 10)
    return [book, len(prices) + 1]


def stage_cancels(state: list, prices: list[tuple[str, int]], rng: random.Random) -> list[int]:
    """Add an order at each of ``prices`` to ``state``'s book (untimed); their ids, shuffled."""
    book, start = state
    state[1] += len(prices)
    for i, (_side, ticks) in enumerate(prices):
        book.add(start + i, ticks, 10)
    ids = list(range(start, start + len(prices)))
    rng.shuffle(ids)
    return ids


class PairedFloor:
    """Rounds of the floor's add or cancel, run between a venue benchmark's own rounds.

    A venue benchmark calls :meth:`round` in its (untimed) setup, so every venue
    round has a floor round on the same workload just before it: the same
    number of operations on a floor book of the same depth, at prices drawn the
    way the venue's are.  Both medians then come from the same minutes of the
    same run, and a machine that slows down or speeds up moves both alike.
    """

    def __init__(self, state: list, op: str, ops: int, prices: Callable[[int, random.Random], list],
                 seed: int) -> None:
        self.book: FloorBook = state[0]
        self.state = state  # [book, next order id]
        self.op = op
        self.ops = ops
        self.prices = prices
        self.rng = random.Random(seed)
        self.seconds: list[float] = []

    def round(self) -> None:
        book, k = self.book, self.ops
        prices = self.prices(k, self.rng)
        if self.op == "add":
            start = self.state[1]
            self.state[1] += k
            add = book.add
            t0 = time.perf_counter()
            for i, (_side, ticks) in enumerate(prices):
                add(start + i, ticks, 10)
            self.seconds.append(time.perf_counter() - t0)
            for i in range(k):
                book.cancel(start + i)
        else:
            ids = stage_cancels(self.state, prices, self.rng)
            cancel = book.cancel
            t0 = time.perf_counter()
            for oid in ids:
                cancel(oid)
            self.seconds.append(time.perf_counter() - t0)

    def rate(self, rounds: int) -> float:
        """Operations per second: the median of the last ``rounds`` rounds (after warm-up)."""
        return self.ops / statistics.median(self.seconds[-rounds:])


class FloorSweep:
    """The floor of a fill: bids and asks (``SortedDict`` s of insertion-ordered dicts, bids
    keyed by the negated price), an id index, two balance integers and a fill list.

    :meth:`sweep` takes ``levels`` levels from the best of one side: peek the best level,
    take its first order, append a fill tuple, update the two balances, delete the emptied
    order and level — the matching a LIMIT IOC across single-order levels does, with no
    rule, no margin, no fee and no answer.
    """

    __slots__ = ("ids", "bids", "asks", "taker", "maker", "fills")

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.taker = self.maker = 0
        self.fills: list[tuple[int, int, int]] = []

    def add(self, order_id: int, side: str, price: int, qty: int) -> None:
        levels, key = (self.bids, -price) if side == "BUY" else (self.asks, price)
        level = levels.get(key)
        if level is None:
            level = levels[key] = {}
        level[order_id] = qty
        self.ids[order_id] = key

    def sweep(self, buy: bool, levels: int) -> None:
        book = self.asks if buy else self.bids
        fills, ids = self.fills, self.ids
        for _ in range(levels):
            key, level = book.peekitem(0)
            oid, qty = next(iter(level.items()))
            fills.append((oid, key, qty))
            self.taker -= qty * key
            self.maker += qty * key
            del level[oid]
            del ids[oid]
            if not level:
                del book[key]


class PairedSweep(PairedFloor):
    """Rounds of :meth:`FloorSweep.sweep` (``ops`` sweeps of 3 levels, buys and sells in
    turn, on 3 × ``ops`` single-order levels staged untimed), paired like :class:`PairedFloor`
    with a venue benchmark: the floor of ``fill_ioc_3_levels``."""

    def __init__(self, depth: int, ops: int, seed: int) -> None:
        from benchmarks.workload import resting_prices
        book = FloorSweep()
        for i, (side, ticks) in enumerate(resting_prices(depth, random.Random(7)), 1):
            book.add(i, side, ticks, 10)
        super().__init__([book, depth + 1], "sweep", ops, resting_prices, seed)
        self.sides = book

    def round(self) -> None:
        from benchmarks.workload import fill_levels
        book, k = self.sides, self.ops
        levels, _takers = fill_levels(k)
        oid = self.state[1]
        for side, ticks in levels:
            book.add(oid, side, ticks, 10)
            oid += 1
        self.state[1] = oid
        sweep = book.sweep
        t0 = time.perf_counter()
        for i in range(k):
            sweep(not i % 2, 3)
        self.seconds.append(time.perf_counter() - t0)
        book.fills.clear()
