"""The order book of one symbol: price levels, FIFO within a level.  It never touches money.

Book layout
-----------
Two ``SortedDict`` s of :class:`Level` s.  ``asks`` is keyed by price in ticks,
``bids`` by the *negated* price, so on both sides index 0 is the best level
and walking the dict from the start walks from the best price outwards.  A
level holds an insertion-ordered ``dict`` ``order_id -> Order`` and ``total``,
the sum of its orders' leaves (lots).

Ordering invariant
------------------
Within a level orders are in ascending ``order_id``, which is arrival order
(ids come from one venue-wide sequence and orders never move), so FIFO is
price-time priority.  A rolled-back removal re-inserts at the FIFO place.

Operations and complexity (L = levels on a side, n = orders in a level)
-----------------------------------------------------------------------
* :meth:`add` — O(log L) for a new level, O(1) into an existing one.
* :meth:`remove` — O(1) within the level, O(log L) when the level empties.
* :meth:`reduce` — O(1): a partial fill lowers the level total.
* :meth:`best` — O(1).

Every mutation logs its inverse to the shared undo log first (see ``txn``).
The book holds only resting orders: open, with leaves > 0.

Update id
---------
``update_id`` counts the book's changes: each :meth:`add`, :meth:`remove` and
:meth:`reduce` (and the venue's inline placement and cancel, which do the same
by hand) adds one, and its inverse takes it back, so a rolled-back command
leaves it as it was.  It is what ``GET /fapi/v1/depth`` and
``/fapi/v1/ticker/bookTicker`` answer as ``lastUpdateId``: per book, it moves only
when that book changes (a command that changes the book several times moves it
several steps, as Binance's does), never on a read or a refused command, and
never goes back.  A command that leaves the book as it found it (an order rested
and taken off again) still counts its steps.

It is state — a snapshot carries it (a slot, so :mod:`engine.persist.graph`
writes it like any field) and replaying a journal rebuilds it, since the same
commands make the same changes — but ``state_hash()`` does not read it: it is a
count of changes whose results the hash reads (the levels, their FIFO ids and
totals, every order), and reading it would move every hash pinned in
``tests/fixtures/pre_layout``.  ``tests/test_book_update_id.py`` checks instead
that refused and rolled-back commands leave it unchanged and that replay and
restore reproduce it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sortedcontainers import SortedDict

from engine.core.enums import (
    BUY,
    OPEN_STATUSES,
    SELL,
    Side,
)
from engine.core.errors import InvariantError

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.order import Order
    from engine.core.txn import UndoLog


class Level:
    """All resting orders at one price, FIFO, with their total leaves in lots.

    Orders queue in the order they joined the level: an order placed joins in id
    order; an amended one joins at the back when it is amended, and ``rank`` (None
    until then) holds its place key — ``(2 × the last id issued then + 1, the
    amendment's event number)`` against ``(2 × id, 0)`` for an order that joined by
    placement — so a rollback puts a removed order back at its very place
    (:meth:`OrderBook._restore`), and no removal pays for it."""

    __slots__ = ("orders", "total", "rank")

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.total = 0
        self.rank: dict[int, tuple[int, int]] | None = None

    def __repr__(self) -> str:
        return f"Level(total={self.total}, orders={list(self.orders)})"


class OrderBook:
    """Price-time priority book of one instrument."""

    __slots__ = ("inst", "bids", "asks", "update_id", "_undo")

    def __init__(self, inst: Instrument, undo: UndoLog) -> None:
        self.inst = inst
        self.bids: SortedDict = SortedDict()  # key: -price_ticks
        self.asks: SortedDict = SortedDict()  # key: price_ticks
        #: changes so far (see "Update id" above): ``lastUpdateId`` of depth and bookTicker
        self.update_id = 0
        self._undo = undo

    # -- queries ------------------------------------------------------------------
    def side_of(self, side: Side) -> SortedDict:
        """The levels on which orders of ``side`` rest (BUY → bids)."""
        return self.bids if side is BUY else self.asks

    def best(self, side: Side) -> int | None:
        """Best resting price (ticks) of orders of ``side``, or None when that side is empty."""
        levels = self.bids if side is BUY else self.asks
        if not levels:
            return None
        key = levels.peekitem(0)[0]
        return -key if side is BUY else key

    def best_level(self, side: Side) -> tuple[int, Level] | None:
        """``(price_ticks, level)`` of the best level of orders of ``side``."""
        levels = self.bids if side is BUY else self.asks
        if not levels:
            return None
        key, level = levels.peekitem(0)
        return (-key if side is BUY else key), level

    def contains(self, order: Order) -> bool:
        """True when ``order`` rests in this book.  O(1)."""
        if order.side is BUY:
            level = self.bids.get(-order.price)
        else:
            level = self.asks.get(order.price)
        return level is not None and order.order_id in level.orders

    def depth(self, side: Side, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` ``(price_ticks, total_lots)`` pairs, best first.  O(limit)."""
        levels = self.bids if side is BUY else self.asks
        sign = -1 if side is BUY else 1
        out = []
        for key in levels.islice(0, limit):
            out.append((sign * key, levels[key].total))
        return out

    def __len__(self) -> int:
        return sum(len(lv.orders) for lv in self.bids.values()) + sum(
            len(lv.orders) for lv in self.asks.values()
        )

    # -- mutations --------------------------------------------------------------------
    def add(self, order: Order) -> None:
        """Rest ``order`` at the back of its price level."""
        if order.side is BUY:
            levels, key = self.bids, -order.price
        else:
            levels, key = self.asks, order.price
        level = levels.get(key)
        if level is None:
            level = Level()
            self._undo.append((levels.__delitem__, key))
            levels[key] = level
        leaves = order.qty - order.executed
        self._undo.append((self._unadd, level, order.order_id, leaves))
        level.orders[order.order_id] = order
        level.total += leaves
        self.update_id += 1

    def remove(self, order: Order) -> None:
        """Take ``order`` (with its current leaves) off the book."""
        if order.side is BUY:
            levels, key = self.bids, -order.price
        else:
            levels, key = self.asks, order.price
        level = levels[key]
        leaves = order.qty - order.executed
        u = self._undo
        u.append((self._unremove, levels, key, order, leaves))
        del level.orders[order.order_id]
        level.total -= leaves
        self.update_id += 1
        if not level.orders:
            # put back this very Level on rollback: older log entries refer to it
            u.append((levels.__setitem__, key, level))
            del levels[key]

    def reduce(self, order: Order, lots: int) -> None:
        """Lower the level total by ``lots`` for a partial fill of ``order`` (caller updates it)."""
        levels = self.bids if order.side is BUY else self.asks
        level = levels[-order.price if order.side is BUY else order.price]
        self._undo.append((self._unreduce, level, lots))
        level.total -= lots
        self.update_id += 1

    # -- inverses (called only by rollback; they log nothing) ------------------------
    def _unadd(self, level: Level, order_id: int, leaves: int) -> None:
        del level.orders[order_id]
        level.total -= leaves
        self.update_id -= 1

    def _unreduce(self, level: Level, lots: int) -> None:
        level.total += lots
        self.update_id -= 1

    def _unremove(self, levels: SortedDict, key: int, order: Order, leaves: int) -> None:
        self._restore(levels, key, order, leaves)
        self.update_id -= 1

    @staticmethod
    def _restore(levels: SortedDict, key: int, order: Order, leaves: int) -> None:
        """Put ``order`` back on its level at its place in the queue (see :class:`Level`)."""
        level = levels.get(key)
        if level is None:
            level = Level()
            levels[key] = level
        orders = level.orders
        rank = level.rank
        needs_sort = bool(orders) and (
            rank is not None or next(reversed(orders)) > order.order_id)
        orders[order.order_id] = order
        if needs_sort:
            items = sorted(orders.items()) if rank is None else sorted(
                orders.items(), key=lambda kv: rank.get(kv[0], (2 * kv[0], 0)))
            orders.clear()
            orders.update(items)
        level.total += leaves

    def requeue(self, order: Order, place: tuple[int, int]) -> None:
        """Record that ``order`` joined its level (at the back) by an amendment, with the
        place key ``place`` (see :class:`Level`) — undoable."""
        levels = self.bids if order.side is BUY else self.asks
        level = levels[-order.price if order.side is BUY else order.price]
        u = self._undo
        if level.rank is None:
            u.append((setattr, level, "rank", None))
            level.rank = {}
        rank, oid = level.rank, order.order_id
        old = rank.get(oid)
        u.append((rank.pop, oid) if old is None else (rank.__setitem__, oid, old))
        rank[oid] = place

    # -- checks -------------------------------------------------------------------------
    def _check(self) -> None:
        """Assert the book's structure: not crossed, totals, FIFO, sides, openness."""
        for levels, side, sign in ((self.bids, BUY, -1), (self.asks, SELL, 1)):
            for key, level in levels.items():
                if not level.orders:
                    raise InvariantError(f"{self.inst.symbol}: empty level at {sign * key}")
                total = 0
                prev = (0, 0)
                rank = level.rank or {}
                for oid, o in level.orders.items():
                    place = rank.get(oid, (2 * oid, 0))
                    if oid != o.order_id or place <= prev:
                        raise InvariantError(f"{self.inst.symbol}: level {sign * key} not FIFO")
                    prev = place
                    if o.side is not side or o.price != sign * key or o.inst is not self.inst:
                        raise InvariantError(f"{o!r} rests in the wrong place")
                    if o.status not in OPEN_STATUSES or o.qty - o.executed <= 0:
                        raise InvariantError(f"{o!r} rests but is not open")
                    total += o.qty - o.executed
                if total != level.total:
                    raise InvariantError(
                        f"{self.inst.symbol}: level {sign * key} total {level.total} != {total}"
                    )
        bid, ask = self.best(BUY), self.best(SELL)
        if bid is not None and ask is not None and bid >= ask:
            raise InvariantError(f"{self.inst.symbol}: book crossed, bid {bid} >= ask {ask}")

    def _state(self) -> tuple:
        """Canonical state for hashing: levels and their FIFO order ids (not
        ``update_id``: see "Update id" above)."""
        return tuple(
            tuple((key, level.total, tuple(level.orders)) for key, level in levels.items())
            for levels in (self.bids, self.asks)
        )
