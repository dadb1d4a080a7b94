"""What a replay loop needs from the venue beyond :mod:`engine.venue.tape`'s commands.

A backtest (:mod:`engine.backtest.replay`) only sequences events and decides
which prints it may skip; every rule it relies on is stated here, next to the
venue whose state it reads.

Skipping prints and quotes
--------------------------
:meth:`~engine.venue.tape.Tape.tape_band` gives, per symbol, the prices at
which a print changes nothing but the last price and the clock; a quote
changes nothing but the quote and the clock (it only matters to orders placed
or taking liquidity later).  A replay that skips a run of such events calls
:func:`skip_run` with the last print and the last quote of each symbol in the
run, in event order, and the number of events that *would have been an
update*: the venue counts one update per command that changed any state
(its update counter, part of ``state_hash``; each book's ``lastUpdateId`` counts
only that book's changes, and prints do not change books): such a
print changes state exactly when it moves the clock or its symbol's last
price; a quote always counts (``tape_quote`` records the quote it replaces
even when equal).  After :func:`skip_run` the venue is the one that replaying every event
with ``tape_trade``/``tape_quote`` would have left — same ``state_hash()``.

:func:`replay_band` is ``tape_band`` made safe for several symbols: while a
symbol's mark falls back to its last price, its band includes the liquidation
price of each position, computed with every *other* position held at its
mark; when another of the account's positions also has no mark, that mark
moves with its own prints inside a skipped run, so neither band is safe and
both are None (step every print).

Watching orders
---------------
:class:`OrderWatch` tells, after any command, which of one account's orders
changed since the last look — new orders (a fired trigger's child included),
fills, status changes — as Binance order objects, by comparing a fingerprint
``(status, executedQty, origQty, updateTime)`` of the orders open at the last
look.  Runtime complexity: O(open orders + orders created since) per look.

Nothing here mutates state except :func:`skip_run`, which runs ``tape_touch``
and ``tape_quote`` (one command per symbol and kind of the run) and then sets
the update counter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from engine.wire.orders import order_wire_timed

if TYPE_CHECKING:
    from engine.core.order import Order
    from engine.venue.exchange import Exchange
    from engine.venue.state import VenueState

__all__ = [
    "OrderWatch", "last_prices", "margin_balance_e8", "next_deadline", "print_calls",
    "replay_band", "skip_run", "update_counter", "update_id",
]


def skip_run(ex: Exchange, last: Iterable[tuple], updates: int) -> None:
    """Apply a skipped run of prints inside their symbol's band, and of quotes.

    ``last``: the last event of each (symbol, kind) in the run, in event order:
    ``("trade", symbol, time_ms, price_ticks)`` or ``("quote", symbol, time_ms,
    bid, bid_qty, ask, ask_qty)``.  ``updates``: how many events of the run
    ``tape_trade``/``tape_quote`` would have counted as updates — every quote,
    and every print that moved the clock or changed its symbol's last price.  The caller vouches
    for the band, as for ``tape_touch``.  Runtime complexity: O(len(last)).
    """
    if isinstance(updates, bool) or not isinstance(updates, int) or updates < 0:
        raise ValueError(f"updates must be an int ≥ 0, not {updates!r}")
    if ex.journal is not None:
        # the counter is set directly below, which a journal could not replay
        raise ValueError("skip_run on a journaled venue: replay every event instead")
    s = ex._s
    start = s.update_id
    for event in last:
        if event[0] == "trade":
            _kind, symbol, time_ms, price = event
            ex.tape_touch(symbol, price, time_ms)
        elif event[0] == "quote":
            _kind, symbol, time_ms, bid, bid_qty, ask, ask_qty = event
            ex.tape_quote(symbol, bid, bid_qty, ask, ask_qty, time_ms)
        else:
            raise ValueError(f"not a trade or quote event: {event!r}")
    s.update_id = start + updates


def last_prices(ex: Exchange, symbols: Iterable[str]) -> dict[str, int | None]:
    """Each symbol's last trade price in ticks (None before its first trade or fill).

    Unlike the views, no fallback to the mark: this is what a print compares
    with to tell whether it changes the last price.
    """
    markets = ex._s.markets
    return {s: markets[s].last for s in symbols}


def update_id(ex: Exchange) -> int:
    """The venue's update counter: it moves exactly when a command
    changed some state, so a caller can tell whether anything happened."""
    return ex._s.update_id


def print_calls(ex: Exchange) -> tuple[Callable[..., None], Callable[..., None]]:
    """``(tape_touch, tape_trade)`` of ``ex`` as the tape rule's own bound methods:
    the same calls as the Exchange's, without its delegating frame — the replay loop
    makes one per print, and the frame cost 2.3 % of an every-trade backtest's
    instructions (``benchmarks/count_instructions.py``)."""
    return ex._tape.tape_touch, ex._tape.tape_trade


def update_counter(ex: Exchange) -> VenueState:
    """What a hot replay loop reads the update counter from: ``.update_id`` of the
    returned object is :func:`update_id` without the call (see ``backtest.replay``)."""
    return ex._s


def next_deadline(ex: Exchange) -> int | None:
    """The earliest countdown-cancel deadline (ms) of any account, or None."""
    countdowns = ex._s.countdowns
    return min(countdowns.values()) if countdowns else None


def replay_band(ex: Exchange, symbol: str, marked: Mapping[str, bool]) -> tuple[int, int] | None:
    """:meth:`~engine.venue.tape.Tape.tape_band`, or None where cross margin makes it unsafe.

    ``marked[s]`` says whether symbol ``s`` has a mark price of its own (else
    it falls back to the last price).  See the module docstring.
    """
    if not marked.get(symbol, False):
        for name, acct in ex._s.ledger.accounts.items():
            if name.startswith("@"):
                continue
            held = {s for (s, _ps), p in acct.positions.items() if p.qty}
            if symbol in held and any(not marked.get(s, False) for s in held if s != symbol):
                return None
    return ex.tape_band(symbol)


def margin_balance_e8(ex: Exchange, name: str) -> int:
    """Wallet balance + unrealized PnL at mark of account ``name``, in 10⁻⁸ USDT."""
    acct = ex.account_state(name)
    upnl, _im, _mm = ex._s.ledger.margin_figures(acct, ex._s.instruments)
    return acct.wallet_e8 + upnl


def _fingerprint(o: Any) -> tuple:
    return (o.status, o.executed, o.qty, o.update_time)


class OrderWatch:
    """The orders of one account that changed since the last :meth:`changes`.

    >>> from engine import Exchange
    >>> ex = Exchange(); _ = ex.create_account("a", balance="1000")
    >>> w = OrderWatch(ex, "a")
    >>> o = ex.client("a").new_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
    ...                              timeInForce="GTC", quantity="0.01", price="20000")
    >>> [(d["orderId"], d["status"]) for d in w.changes()], w.changes()
    ([(1, 'NEW')], [])
    >>> _ = ex.client("a").cancel_order(symbol="BTCUSDT", orderId=1)
    >>> [(d["orderId"], d["status"]) for d in w.changes()]
    [(1, 'CANCELED')]
    >>> w._check()
    """

    __slots__ = ("_ex", "_acct", "_seen_id", "_open")

    def __init__(self, ex: Exchange, name: str) -> None:
        self._ex = ex
        self._acct = ex.account_state(name)
        self._seen_id = 0
        #: order id -> (order, fingerprint at the last look), for orders open then
        self._open: dict[int, tuple[Order, tuple]] = {}

    def changes(self) -> list[dict]:
        """Binance order objects of the orders that changed or appeared, by ``orderId``.

        Runtime complexity: O(orders open at the last look + orders created since).
        """
        ex = self._ex
        changed: list[Order] = []
        watched = self._open
        for oid in list(watched):
            order, fp = watched[oid]
            now = _fingerprint(order)
            if now != fp:
                changed.append(order)
                if order.is_open:
                    watched[oid] = (order, now)
                else:
                    del watched[oid]
        last = ex._s.last_id
        if last != self._seen_id:
            by_id, acct = ex._s.index.by_id, self._acct
            for oid in range(self._seen_id + 1, last + 1):
                new = by_id.get(oid)
                if new is None or new.owner is not acct:
                    continue
                changed.append(new)
                if new.is_open:
                    watched[oid] = (new, _fingerprint(new))
            self._seen_id = last
        if not changed:
            return []
        changed.sort(key=_order_id)
        return [order_wire_timed(o) for o in changed]

    def _check(self) -> None:
        """Assert: every watched order is the account's, open, and fingerprinted as it
        is now unless it changed since the last look; every open one is watched."""
        index, acct = self._ex._s.index, self._acct
        for oid, (order, _fp) in self._open.items():
            assert index.by_id[oid] is order and order.owner is acct, oid
        for table in (index.open_orders, index.open_rows):
            for (name, _symbol), orders in table.items():
                if name == acct.name:
                    missing = [oid for oid in orders
                               if oid <= self._seen_id and oid not in self._open]
                    assert not missing, missing


def _order_id(o: Order) -> int:
    return o.order_id
