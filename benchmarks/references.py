"""In-run references of the performance targets that the floor alone does not give.

Each is run between a venue benchmark's own rounds (inside its untimed setup), as
:class:`~benchmarks.floor.PairedFloor` is, so both medians come from the same minutes:

* :class:`PairedRounds` — any timed round (a callable returning its seconds): the venue
  placing MARKET orders directly (the reference of trigger firing), a backtest without a
  trailing stop, the bare per-event loop (:func:`bare_trade_loop`), the floor's re-quotes
  (:func:`floor_requotes`);
* :class:`TemplateCancelBook` / :class:`PairedTemplateCancel` — ``template_cancel``: the
  floor's cancel plus the 24-key answer dict built from a template (the restated cancel
  target's reference).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.floor import FloorBook, PairedFloor, stage_cancels


class PairedRounds:
    """Rounds of a reference run between a benchmark's rounds: :meth:`round` calls
    ``timed()`` (which stages what it needs untimed and returns the seconds of its timed
    part) and keeps the seconds; :meth:`rate` is ``ops`` over their median."""

    def __init__(self, ops: int, timed: Callable[[], float]) -> None:
        self.ops = ops
        self.timed = timed
        self.seconds: list[float] = []

    def round(self) -> None:
        self.seconds.append(self.timed())

    def rate(self, rounds: int) -> float:
        """Operations per second: the median of the last ``rounds`` rounds (after warm-up)."""
        return self.ops / statistics.median(self.seconds[-rounds:])


def timed_call(fn: Callable[..., Any], *args: Any) -> float:
    """Seconds of ``fn(*args)``."""
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


# -- template_cancel ----------------------------------------------------------------------
class TemplateCancelBook(FloorBook):
    """The floor's book whose cancel also answers: :meth:`cancel_answer` is
    :meth:`FloorBook.cancel`'s work (the id popped, the order taken off its level, an
    emptied level dropped) plus the answer a venue cancel returns, built as the venue
    builds it — a copy of a 24-key template (a cancel answer of the same side: status
    CANCELED, side, type, ... already set) with the five per-order keys set: ``orderId``,
    ``clientOrderId``, ``price``, ``origQty``, ``updateTime`` (price and quantity texts from
    tables made up front, as the venue's instrument caches them).

    ``bid_answer`` / ``ask_answer`` are real cancel answers of the venue (one per side), so
    the reference builds exactly the dict the venue answers; ``price_str`` writes a tick
    price as the venue does; prices below ``first_ask`` are bids.
    """

    __slots__ = ("templates", "first_ask", "cid_prefix", "price_text", "qty_text", "now")

    def __init__(self, bid_answer: dict, ask_answer: dict, price_str: Callable[[int], str],
                 prices: range | list[int], first_ask: int) -> None:
        super().__init__()
        self.templates = (dict(ask_answer), dict(bid_answer))  # indexed by "is a bid"
        self.first_ask = first_ask
        oid, cid = str(bid_answer["orderId"]), bid_answer["clientOrderId"]
        if not cid.endswith(oid):
            raise ValueError(f"clientOrderId {cid!r} does not end with the orderId {oid}")
        self.cid_prefix = cid[:-len(oid)]
        self.price_text = {p: price_str(p) for p in prices}
        self.qty_text = {10: bid_answer["origQty"]}  # the floor's orders are 10 lots (LOT)
        self.now = bid_answer["updateTime"]

    def cancel_answer(self, order_id: int) -> dict[str, Any]:
        price = self.ids.pop(order_id)
        level = self.levels[price]
        qty = level.pop(order_id)
        if not level:
            del self.levels[price]
        d = self.templates[price < self.first_ask].copy()
        d["orderId"] = order_id
        d["clientOrderId"] = self.cid_prefix + str(order_id)
        d["price"] = self.price_text[price]
        d["origQty"] = self.qty_text[qty]
        d["updateTime"] = self.now
        return d


class PairedTemplateCancel(PairedFloor):
    """Rounds of ``template_cancel`` paired with a venue benchmark: ``ops`` operations of
    ``per_op`` template cancels each (3 for the cascade: a parent, its TP and its SL), on
    orders staged untimed at prices drawn by ``prices``; the rate is per operation."""

    def __init__(self, state: list, ops: int, prices: Callable[[int, random.Random], list],
                 seed: int, per_op: int = 1) -> None:
        super().__init__(state, "template_cancel", ops, prices, seed)
        self.per_op = per_op

    def round(self) -> None:
        book: TemplateCancelBook = self.state[0]
        ids = stage_cancels(self.state, self.prices(self.ops * self.per_op, self.rng), self.rng)
        cancel = book.cancel_answer
        t0 = time.perf_counter()
        for oid in ids:
            cancel(oid)
        self.seconds.append(time.perf_counter() - t0)


# -- the per-event loop's floor -----------------------------------------------------------
#: rows per ``.tolist()`` block, as the replay's every-trade loop takes them
BLOCK = 1 << 16


def bare_trade_loop(stream: Any, inst: Any, on_trade: Callable[[Any], None]) -> float:
    """The floor of the every-trade replay: a bare Python loop over the trade stream's
    arrays (time, price, qty, buyer_maker, as ``.tolist()`` blocks of ``BLOCK`` rows) that
    builds the replay's :class:`~engine.backtest.strategy.Trade` for each print and calls
    ``on_trade`` with it.  No venue, no band, no clock.  Returns the seconds it took."""
    from engine.backtest.strategy import Trade

    t0 = time.perf_counter()
    n = len(stream)
    for a in range(0, n, BLOCK):
        b = min(n, a + BLOCK)
        for t, p, q, m in zip(stream.time[a:b].tolist(), stream.price[a:b].tolist(),
                              stream.qty[a:b].tolist(), stream.buyer_maker[a:b].tolist(),
                              strict=True):
            on_trade(Trade(inst, t, p, q, m))
    return time.perf_counter() - t0


# -- the re-quote cycle's floor -----------------------------------------------------------
def floor_requotes(book: FloorBook, prices: list[int], first_id: int, offset: int = 3,
                   qty: int = 4) -> float:
    """The floor of a market maker's re-quote cycles: for each price, 2 floor cancels (the
    quotes before) and 2 floor adds (a bid ``offset`` ticks below it, an ask ``offset``
    above), on a book holding just the two quotes (as a backtest's book holds only the
    strategy's orders).  The first pair is staged and the last cancelled untimed.  Returns
    the seconds of the ``len(prices)`` timed cycles."""
    add, cancel = book.add, book.cancel
    oid = first_id
    add(oid, prices[0] - offset, qty)
    add(oid + 1, prices[0] + offset, qty)
    t0 = time.perf_counter()
    for p in prices:
        cancel(oid)
        cancel(oid + 1)
        oid += 2
        add(oid, p - offset, qty)
        add(oid + 1, p + offset, qty)
    seconds = time.perf_counter() - t0
    cancel(oid)
    cancel(oid + 1)
    return seconds
