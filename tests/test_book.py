"""``engine.core.book.OrderBook`` alone, against a plain reference model.

The model is, per side, a dict ``price → list of [order_id, leaves]`` in arrival order.  A
hypothesis state machine applies random adds, removes and partial reductions on both sides
to the real book and to the model, commits (clears the undo log) and rolls back, and after
every step compares best prices, ``depth()``, level totals and FIFO order, and calls
``book._check()``.  Unit tests then show that a rolled-back removal puts the order back at
its FIFO place.

The book needs only a few fields of an order, so the tests use :class:`StandIn` records
rather than real orders (no exchange, no money).
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from engine import InvariantError
from engine.core.book import OrderBook
from engine.core.enums import OPEN_STATUSES, OrderStatus, Side
from engine.core.instrument import default_instruments
from engine.core.txn import UndoLog, rollback

INST = default_instruments()[0]
#: bids rest at 100–109 ticks, asks at 110–119: the book is never crossed (matching is not
#: the book's job), and ten prices a side make shared levels, hence FIFO, common.
BID_PRICES = st.integers(100, 109)
ASK_PRICES = st.integers(110, 119)
LOTS = st.integers(1, 50)


class StandIn:
    """The fields of an order that the book reads."""

    __slots__ = ("order_id", "side", "price", "qty", "executed", "status", "inst", "owner")

    def __init__(self, order_id: int, side: Side, price: int, qty: int) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price
        self.qty = qty
        self.executed = 0
        self.status = OrderStatus.NEW
        self.inst = INST
        self.owner = None

    def __repr__(self) -> str:
        return (
            f"StandIn({self.order_id}, Side.{self.side.name}, price={self.price}, "
            f"qty={self.qty}, executed={self.executed})"
        )


class ReferenceBook:
    """Per side, ``price → [[order_id, leaves], ...]`` in arrival order."""

    def __init__(self) -> None:
        self.levels: dict[Side, dict[int, list[list[int]]]] = {Side.BUY: {}, Side.SELL: {}}

    def add(self, side: Side, price: int, order_id: int, leaves: int) -> None:
        self.levels[side].setdefault(price, []).append([order_id, leaves])

    def remove(self, side: Side, price: int, order_id: int) -> None:
        level = self.levels[side][price]
        level[:] = [e for e in level if e[0] != order_id]
        if not level:
            del self.levels[side][price]

    def reduce(self, side: Side, price: int, order_id: int, lots: int) -> None:
        for entry in self.levels[side][price]:
            if entry[0] == order_id:
                entry[1] -= lots

    def best(self, side: Side) -> int | None:
        prices = self.levels[side]
        if not prices:
            return None
        return max(prices) if side is Side.BUY else min(prices)

    def depth(self, side: Side, limit: int) -> list[tuple[int, int]]:
        prices = sorted(self.levels[side], reverse=side is Side.BUY)
        return [(p, sum(leaves for _oid, leaves in self.levels[side][p])) for p in prices][:limit]

    def fifo(self, side: Side) -> dict[int, list[int]]:
        return {p: [oid for oid, _l in level] for p, level in self.levels[side].items()}

    def entries(self) -> list[tuple[Side, int, int, int]]:
        """Every resting ``(side, price, order_id, leaves)``, by order id."""
        out = [
            (side, price, oid, leaves)
            for side, levels in self.levels.items()
            for price, level in levels.items()
            for oid, leaves in level
        ]
        return sorted(out, key=lambda e: e[2])


def book_fifo(book: OrderBook, side: Side) -> dict[int, list[int]]:
    sign = -1 if side is Side.BUY else 1
    return {sign * key: list(level.orders) for key, level in book.side_of(side).items()}


def book_totals(book: OrderBook, side: Side) -> dict[int, int]:
    sign = -1 if side is Side.BUY else 1
    return {sign * key: level.total for key, level in book.side_of(side).items()}


# -- the property test ---------------------------------------------------------------------------


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.undo = UndoLog()
        self.book = OrderBook(INST, self.undo)
        self.model = ReferenceBook()
        self.orders: dict[int, StandIn] = {}
        self.next_id = 1
        self.committed = copy.deepcopy(self.model)

    # -- rules --------------------------------------------------------------------------------
    def _add(self, side: Side, price: int, lots: int) -> None:
        o = StandIn(self.next_id, side, price, lots)
        self.next_id += 1
        note(f"add {o!r}")
        self.book.add(o)
        self.model.add(side, price, o.order_id, lots)
        self.orders[o.order_id] = o

    @rule(price=BID_PRICES, lots=LOTS)
    def add_bid(self, price: int, lots: int) -> None:
        self._add(Side.BUY, price, lots)

    @rule(price=ASK_PRICES, lots=LOTS)
    def add_ask(self, price: int, lots: int) -> None:
        self._add(Side.SELL, price, lots)

    @precondition(lambda self: self.model.entries())
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        side, price, oid, _leaves = data.draw(st.sampled_from(self.model.entries()))
        o = self.orders[oid]
        note(f"remove {o!r}")
        self.book.remove(o)
        self.undo.append((setattr, o, "status", o.status))
        o.status = OrderStatus.CANCELED
        self.model.remove(side, price, oid)

    @precondition(lambda self: any(e[3] > 1 for e in self.model.entries()))
    @rule(data=st.data())
    def reduce(self, data: st.DataObject) -> None:
        candidates = [e for e in self.model.entries() if e[3] > 1]
        side, price, oid, leaves = data.draw(st.sampled_from(candidates))
        lots = data.draw(st.integers(1, leaves - 1))
        o = self.orders[oid]
        note(f"reduce {o!r} by {lots}")
        self.book.reduce(o, lots)
        self.undo.append((setattr, o, "executed", o.executed))
        self.undo.append((setattr, o, "status", o.status))
        o.executed += lots
        o.status = OrderStatus.PARTIALLY_FILLED
        self.model.reduce(side, price, oid, lots)

    @rule()
    def commit(self) -> None:
        note("commit")
        self.undo.clear()
        self.committed = copy.deepcopy(self.model)

    @rule()
    def roll_back(self) -> None:
        note("rollback")
        rollback(self.undo)
        self.model = copy.deepcopy(self.committed)

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def book_matches_the_model(self) -> None:
        book, model = self.book, self.model
        self.book._check()
        for side in (Side.BUY, Side.SELL):
            assert book.best(side) == model.best(side)
            assert book.depth(side, 1000) == model.depth(side, 1000)
            assert book.depth(side, 2) == model.depth(side, 2)
            assert book_fifo(book, side) == model.fifo(side)
            assert book_totals(book, side) == dict(model.depth(side, 1000))
        entries = model.entries()
        assert len(book) == len(entries)
        resting = {oid for _s, _p, oid, _l in entries}
        for oid, o in self.orders.items():
            assert book.contains(o) == (oid in resting)
            if oid in resting:
                assert o.status in OPEN_STATUSES

    @invariant()
    def leaves_of_resting_orders_match_the_model(self) -> None:
        for _side, _price, oid, leaves in self.model.entries():
            o = self.orders[oid]
            assert o.qty - o.executed == leaves


BookMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
TestBookAgainstReferenceModel = BookMachine.TestCase


# -- rollback restores FIFO places ------------------------------------------------------------


def level_at(book: OrderBook, side: Side, price: int):
    return book.side_of(side)[-price if side is Side.BUY else price]


def three_bids_at_100() -> tuple[UndoLog, OrderBook, list[StandIn]]:
    """A book with bids 1, 2, 3 (5, 6 and 7 lots) at 100 ticks; the undo log committed."""
    undo = UndoLog()
    book = OrderBook(INST, undo)
    orders = [StandIn(i, Side.BUY, 100, lots) for i, lots in ((1, 5), (2, 6), (3, 7))]
    for o in orders:
        book.add(o)
    undo.clear()
    return undo, book, orders


@pytest.mark.parametrize("removed", [0, 1, 2])
def test_rolled_back_removal_puts_the_order_back_at_its_fifo_place(removed):
    # Arrange
    undo, book, orders = three_bids_at_100()
    book.remove(orders[removed])
    assert len(level_at(book, Side.BUY, 100).orders) == 2
    # Act
    rollback(undo)
    # Assert
    level = level_at(book, Side.BUY, 100)
    assert list(level.orders) == [1, 2, 3]
    assert level.total == 18
    assert book.depth(Side.BUY, 5) == [(100, 18)]
    book._check()


def test_rolled_back_removal_of_a_levels_only_order_brings_the_level_back():
    # Arrange: bids 4 lots at 101 (id 1) and 6 at 100 (id 2)
    undo = UndoLog()
    book = OrderBook(INST, undo)
    best, other = StandIn(1, Side.BUY, 101, 4), StandIn(2, Side.BUY, 100, 6)
    book.add(best)
    book.add(other)
    undo.clear()
    book.remove(best)
    assert book.best(Side.BUY) == 100
    # Act
    rollback(undo)
    # Assert
    assert book.best(Side.BUY) == 101
    assert book.depth(Side.BUY, 5) == [(101, 4), (100, 6)]
    book._check()


def test_rollback_of_removals_and_a_later_add_restores_the_original_queue():
    # Arrange: remove 1 and 3, then a newcomer 4 joins the level
    undo, book, orders = three_bids_at_100()
    book.remove(orders[0])
    book.remove(orders[2])
    book.add(StandIn(4, Side.BUY, 100, 9))
    assert list(level_at(book, Side.BUY, 100).orders) == [2, 4]
    # Act
    rollback(undo)
    # Assert
    level = level_at(book, Side.BUY, 100)
    assert (list(level.orders), level.total) == ([1, 2, 3], 18)
    book._check()


def test_rolled_back_partial_reduction_restores_the_level_total():
    # Arrange: order 2 loses 4 of its 6 lots
    undo, book, orders = three_bids_at_100()
    book.reduce(orders[1], 4)
    undo.append((setattr, orders[1], "executed", 0))  # the caller logs its own inverse
    orders[1].executed = 4
    assert level_at(book, Side.BUY, 100).total == 14
    book._check()
    # Act
    rollback(undo)
    # Assert
    assert (level_at(book, Side.BUY, 100).total, orders[1].executed) == (18, 0)
    book._check()


def test_rollback_of_an_add_and_removal_in_one_transaction_leaves_the_book_as_before():
    # Arrange: a committed bid at 100; then, in one transaction, an ask opens a new level
    # at 110 and is removed again, which empties that level
    undo = UndoLog()
    book = OrderBook(INST, undo)
    book.add(StandIn(1, Side.BUY, 100, 5))
    undo.clear()
    ask = StandIn(2, Side.SELL, 110, 3)
    book.add(ask)
    book.remove(ask)
    # Act
    rollback(undo)
    # Assert: as it was at the commit — no ask level, the bid untouched
    assert book.depth(Side.SELL, 5) == []
    assert book.depth(Side.BUY, 5) == [(100, 5)]
    book._check()


def test_rollback_of_a_reduction_then_removal_of_a_levels_only_order_restores_its_leaves():
    # Arrange: a committed ask of 10 lots alone at 110; then, in one transaction, 4 lots
    # fill (the caller logs its own inverse) and the order is removed, emptying the level
    undo = UndoLog()
    book = OrderBook(INST, undo)
    ask = StandIn(1, Side.SELL, 110, 10)
    book.add(ask)
    undo.clear()
    book.reduce(ask, 4)
    undo.append((setattr, ask, "executed", 0))
    ask.executed = 4
    book.remove(ask)
    # Act
    rollback(undo)
    # Assert: the order is back with its 10 lots, and so is its level's total
    assert ask.executed == 0
    assert book.depth(Side.SELL, 5) == [(110, 10)]
    book._check()


# -- _check reports a broken book -----------------------------------------------------------------


def test_check_reports_a_level_out_of_fifo_order():
    # Arrange: swap orders 1 and 2 in the queue
    _undo, book, _orders = three_bids_at_100()
    level = level_at(book, Side.BUY, 100)
    items = list(level.orders.items())
    level.orders.clear()
    level.orders.update([items[1], items[0], items[2]])
    # Act / Assert
    with pytest.raises(InvariantError, match="level 100 not FIFO"):
        book._check()


def test_check_reports_a_crossed_book():
    # Arrange: a bid at 110 and an ask at 110
    book = OrderBook(INST, UndoLog())
    book.add(StandIn(1, Side.BUY, 110, 1))
    book.add(StandIn(2, Side.SELL, 110, 1))
    # Act / Assert
    with pytest.raises(InvariantError, match="book crossed, bid 110 >= ask 110"):
        book._check()


def test_check_reports_a_level_total_that_is_not_the_sum_of_its_orders():
    # Arrange
    _undo, book, _orders = three_bids_at_100()
    level_at(book, Side.BUY, 100).total -= 1
    # Act / Assert
    with pytest.raises(InvariantError, match="level 100 total 17 != 18"):
        book._check()
