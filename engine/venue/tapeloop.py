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
mark; when another of the account's *cross* positions also has no mark, that
mark moves with its own prints inside a skipped run, so neither band is safe
and both are None (step every print).  An isolated position answers for itself
(its own wallet, its own mark): it neither needs nor spoils another symbol's
band.  The two sides of a hedge-mode position on one symbol need nothing more:
where the price falls the short side only gains (its PnL grows, its maintenance
margin shrinks), and where it rises the long side does (its PnL grows faster
than its maintenance margin), so each side's liquidation price, computed with
the other held at the current price, is conservative where it applies.

Watching orders
---------------
:class:`OrderWatch` gives, after any command, one account's order events since
the last look — each order or trigger row created, filled, cancelled, expired,
triggered or resized, in the order it happened — as the Binance order object
the event left (:func:`engine.wire.events.order_at`).  It reads the venue's
event log (:mod:`engine.core.events`), the same one the user-data stream reads:
there is no second account of what changed.  Runtime complexity: O(1) when no
command committed since the last look, else O(events since).

Nothing here mutates state except :func:`skip_run`, which runs ``tape_touch``
and ``tape_quote`` (one command per symbol and kind of the run) and then sets
the update counter, and the touches :func:`print_calls` hands out
(:meth:`~engine.venue.tape.Tape.toucher`: ``tape_touch``'s writes, or the command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from engine.core.events import CANCEL, ORDER, PLACE, ROW, TRADE
from engine.wire.events import order_at

_ORDER_KINDS = (ORDER, TRADE, ROW, CANCEL, PLACE)

if TYPE_CHECKING:
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


def print_calls(ex: Exchange, symbols: Sequence[str]) -> tuple[
        list[Callable[[int, int], None]], Callable[..., None]]:
    """``(touches, tape_trade)``: per symbol of ``symbols``, ``touch(price, time_ms)``
    (:meth:`~engine.venue.tape.Tape.toucher`, ``tape_touch`` without the command's
    machinery where nothing but the clock and prices can change), and the tape rule's own
    bound ``tape_trade`` (without the Exchange's delegating frame, which cost 2.3 % of an
    every-trade backtest's instructions, ``benchmarks/count_instructions.py``)."""
    tape = ex._tape
    return [tape.toucher(s) for s in symbols], tape.tape_trade


def update_counter(ex: Exchange) -> VenueState:
    """What a hot replay loop reads the update counter from: ``.update_id`` of the
    returned object is :func:`update_id` without the call (see ``backtest.replay``)."""
    return ex._s


def next_deadline(ex: Exchange) -> int | None:
    """The earliest time (ms) at which the clock alone changes the venue, or None: a
    countdown-cancel deadline of any account, or a GTD order's ``goodTillDate``.

    Either falls due inside the command that first moves the clock to it or past it
    (``advance_to``), so a replay stops at the first event at or after it and delivers
    what it did there, as stepping would.  An expiry entry whose order already closed
    still counts (it is dropped only when it falls due): one extra stop, no harm.
    """
    s = ex._s
    countdowns, expiries = s.countdowns, s.expiries
    first = min(countdowns.values()) if countdowns else None
    if expiries:
        gtd = expiries[0][0]
        first = gtd if first is None or gtd < first else first
    return first


def replay_band(ex: Exchange, symbol: str, marked: Mapping[str, bool]) -> tuple[int, int] | None:
    """:meth:`~engine.venue.tape.Tape.tape_band`, or None where cross margin makes it unsafe.

    ``marked[s]`` says whether symbol ``s`` has a mark price of its own (else
    it falls back to the last price).  See the module docstring.
    """
    if not marked.get(symbol, False):
        for name, acct in ex._s.ledger.accounts.items():
            if name.startswith("@"):
                continue
            isolated = acct.isolated
            if symbol in isolated:
                continue  # an isolated position answers for itself (its own wallet)
            cross = {s for (s, _ps), p in acct.positions.items() if p.qty and s not in isolated}
            if symbol in cross and any(not marked.get(s, False) for s in cross if s != symbol):
                return None
    return ex.tape_band(symbol)


def margin_balance_e8(ex: Exchange, name: str) -> int:
    """Wallet balance + unrealized PnL at mark of account ``name``, in 10⁻⁸ USDT."""
    acct = ex.account_state(name)
    upnl, _im, _mm = ex._s.ledger.margin_figures(acct, ex._s.instruments)
    return acct.wallet_e8 + upnl


class OrderWatch:
    """One account's order events since the last :meth:`changes`, from the event log.

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

    __slots__ = ("_s", "_acct", "_seen")

    def __init__(self, ex: Exchange, name: str) -> None:
        self._s = ex._s
        self._acct = ex.account_state(name)
        #: the number of the last event looked at
        self._seen = ex._s.event_seq

    def changes(self) -> list[dict]:
        """The order objects of the account's order and row events since the last look,
        oldest first (:class:`~engine.core.events.EventGap` if the ring no longer holds
        them all: look after every command)."""
        s = self._s
        seen = self._seen
        if s.event_seq == seen:
            return []
        name = self._acct.name
        out: list[dict] = []
        for first, _time, deltas in s.events.batches_after(seen):
            for i in range(seen + 1 - first if first <= seen else 0, len(deltas)):
                d = deltas[i]
                if d[0] in _ORDER_KINDS and d[1] == name:
                    out.append(order_at(d, s, first + i))  # type: ignore[arg-type]
        self._seen = s.event_seq
        return out

    def skip(self) -> None:
        """Look without reading: the next :meth:`changes` starts after every event so far.
        O(1)."""
        self._seen = self._s.event_seq

    def _check(self) -> None:
        """Assert: the last event looked at is one the venue has published."""
        assert 0 <= self._seen <= self._s.event_seq, (self._seen, self._s.event_seq)
