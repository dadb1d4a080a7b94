"""Per-symbol market state: the book plus the two prices (last trade, mark).

Price rules (SPEC 3): the last (contract) price is set by trades, the mark by
``set_mark_price`` (or replayed data).  Until the first trade the last price
*is* the mark; until a mark is set the mark *is* the last price; with neither
known both are None.  ``prev`` remembers each working type's watched price at
the previous trigger evaluation (it orders rows that fire together).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.book import OrderBook
from engine.core.enums import (
    MARK_PRICE,
    WorkingType,
)

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.txn import UndoLog


class Market:
    """One symbol's book and prices (ticks)."""

    __slots__ = (
        "inst", "book", "last", "mark", "prev_mark", "prev_last", "quote", "queue_ahead",
        "_undo",
    )

    def __init__(self, inst: Instrument, undo: UndoLog) -> None:
        self.inst = inst
        self.book = OrderBook(inst, undo)
        self.last: int | None = None
        self.mark: int | None = None
        self.prev_mark: int | None = None
        self.prev_last: int | None = None
        #: replayed best (bid, bid_qty, ask, ask_qty) in ticks/lots (tape mode)
        self.quote: tuple[int, int, int, int] | None = None
        #: queue model: lots still ahead of a resting order at its price (tape mode)
        self.queue_ahead: dict[int, int] = {}
        self._undo = undo

    def mark_price(self) -> int | None:
        """Mark price in ticks (falls back to the last price)."""
        m = self.mark
        return self.last if m is None else m

    def last_price(self) -> int | None:
        """Last (contract) price in ticks (falls back to the mark price)."""
        p = self.last
        return self.mark if p is None else p

    def watched(self, wt: WorkingType) -> int | None:
        return self.mark_price() if wt is MARK_PRICE else self.last_price()

    def set_last(self, price: int) -> None:
        if price != self.last:
            self._undo.append((setattr, self, "last", self.last))
            self.last = price

    def set_mark(self, price: int) -> None:
        if price != self.mark:
            self._undo.append((setattr, self, "mark", self.mark))
            self.mark = price

    def prev(self, wt: WorkingType) -> int | None:
        return self.prev_mark if wt is MARK_PRICE else self.prev_last

    def set_prev(self, wt: WorkingType, price: int) -> None:
        if wt is MARK_PRICE:
            old = self.prev_mark
            if old != price:
                self._undo.append((setattr, self, "prev_mark", old))
                self.prev_mark = price
        else:
            old = self.prev_last
            if old != price:
                self._undo.append((setattr, self, "prev_last", old))
                self.prev_last = price

    def _state(self) -> tuple:
        return (self.inst.symbol, self.last, self.mark, self.prev_mark, self.prev_last,
                self.quote, tuple(sorted(self.queue_ahead.items())), self.book._state())
