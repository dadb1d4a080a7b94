"""Execution against replayed market data (the tape): external liquidity for backtests.

Replayed trades and quotes belong to the venue's tape account (``@tape``), so
every fill has a counterparty and every SPEC 6 invariant still holds.  Turn
the tape on with :meth:`Tape.enable_tape`; then, per event:

* :meth:`~Tape.tape_trade` — a print at ``price`` for ``qty``: resting
  orders of every other account that the print goes through fill at their own
  price, in price-time priority, up to the print's quantity (partial fills
  across prints); then the print sets the last price and the venue settles
  (triggers, reduce-only expiry, liquidation).
  *through* (default): a bid fills when a print is below it, an ask when a
  print is above it.  *touch*: also at equal price, when the print's
  aggressor is on the other side (a sell print for a bid).
  *queue* (optional, with quotes): an order that rests at the best quote
  waits behind the quote's size at placement; prints at its price consume
  that queue first.  A print through its price fills it regardless.
* :meth:`~Tape.tape_quote` — the replayed best bid/ask.  Orders that take
  liquidity (MARKET, or a LIMIT crossing it) fill against the quote at the
  quote's price for their whole size (depth beyond the top is not modelled);
  with no quote loaded, at the last trade price ± ``slippage_ticks``.  The
  quote competes with resting orders by price; at an equal price it goes first.
* :meth:`~Tape.tape_mark` — the mark price from mark-price klines.  With
  no mark data the mark is the last price (SPEC 3).
* :meth:`~Tape.tape_ladder` — real resting orders of the tape account (post-only,
  no margin, no fees), for a served market's book: while the tape keeps a ladder on
  a symbol, takers meet only those orders there (no quote, no last-price fill), and
  a print stops at the tape's own orders (a market never trades with itself; the
  caller keeps the ladder on both sides of each print).

The venue's own fills are trades too: they set the last price, exactly as on
the live venue, so a later MARKET order without quotes prices off them.

Fast path for replay loops: :meth:`~Tape.tape_band` gives the range of
prices where a print changes nothing but the last price and the clock, and
:meth:`~Tape.tape_touch` applies such a print cheaply.  A replay may
skip a run of prints of that symbol inside the band, then touch the last one
skipped — as long as nothing else happens in between: the band is computed
from the venue as it is now, and under cross margin a print of another symbol
whose mark is its last price moves every liquidation price of the accounts
holding both (recompute the band after any other event).

The tape account is never margin-checked or liquidated and pays no fees (nor does
any of the venue's own ``@`` accounts, as maker or taker).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from engine.core.enums import (
    BOTH,
    BUY,
    CONTRACT_PRICE,
    GTC,
    LIMIT,
    MARK_PRICE,
    NEW,
    PARTIALLY_FILLED,
    SELL,
    STP_NONE,
)
from engine.core.order import Order
from engine.core.triggers import trailing_band
from engine.core.txn import UndoLog
from engine.venue.rule import Rule
from engine.wire.params import parse_symbol

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.ledger import Ledger
    from engine.core.market import Market
    from engine.core.orderindex import OrderIndex
    from engine.core.triggers import TriggerRegistry
    from engine.venue.cancel import Cancels
    from engine.venue.matching import Matching
    from engine.venue.risk import Risk
    from engine.venue.runner import Runner

__all__ = ["FILL_MODES", "TAPE", "Tape", "TapeConfig"]

TAPE = "@tape"
FILL_MODES = ("through", "touch")


class TapeConfig:
    """How replayed data executes: fill mode, queue model, slippage without quotes."""

    __slots__ = ("fill", "queue", "slippage")

    def __init__(self, fill: str, queue: bool, slippage: int) -> None:
        self.fill, self.queue, self.slippage = fill, queue, slippage

    def _state(self) -> tuple:
        return (self.fill, self.queue, self.slippage)


class Tape(Rule):
    """Replayed trades, quotes and marks.

    Room: the instruments, the markets, the ledger (the tape account), the
    trigger registry (what a band must avoid), the undo log, the clock and the
    settle scratch; peers: ``runner`` (commands), ``cancels`` (the clock, with
    its countdowns), ``matching`` (fills, expiry, what a position can reduce)
    and ``risk`` (liquidation prices, for the band).
    """

    PEERS = ("runner", "cancels", "matching", "risk")

    # the state it touches (engine.venue.rule)
    _instruments: dict[str, Instrument]
    _markets: dict[str, Market]
    _ledger: Ledger
    _registry: TriggerRegistry
    _index: OrderIndex
    _undo: UndoLog
    # the rules it calls
    _runner: Runner
    _cancels: Cancels
    _matching: Matching
    _risk: Risk

    def enable_tape(
        self, *, fill: str = "through", queue: bool = False, slippage_ticks: int = 0
    ) -> None:
        """Replay mode: create the tape account and set the fill model (once)."""
        if fill not in FILL_MODES:
            raise ValueError(f"fill must be one of {FILL_MODES}, not {fill!r}")
        if not isinstance(slippage_ticks, int) or slippage_ticks < 0:
            raise ValueError(f"slippage_ticks must be an int ≥ 0, not {slippage_ticks!r}")
        s = self._s
        if s.tape is not None:
            raise ValueError("the tape is already enabled")
        if s.journal is not None:
            s.journal.record("enable_tape", None, fill, queue, slippage_ticks)
            return
        config = TapeConfig(fill, bool(queue), slippage_ticks)

        def commit() -> None:
            self._ledger.open_account(TAPE, 0, s.now)
            self._undo.append((setattr, s, "tape", None))
            s.tape = config

        self._runner.run(commit)

    # -- events ---------------------------------------------------------------------------
    def tape_trade(
        self, symbol: str, price: int, qty: int, buyer_maker: bool, time_ms: int
    ) -> None:
        """Replay one print (``price`` in ticks, ``qty`` in lots) at ``time_ms``."""
        journal = self._s.journal
        if journal is not None:
            journal.record("tape_trade", None, symbol, price, qty, buyer_maker, time_ms)
            return
        market = self._tape_market(symbol)
        self._runner.run(self._tape_trade, market, price, qty, buyer_maker, time_ms)

    def _tape_trade(
        self, market: Market, price: int, qty: int, buyer_maker: bool, time_ms: int
    ) -> None:
        s = self._s
        if time_ms > s.now:
            self._cancels.advance_to(time_ms)
        self._tape_fills(market, price, qty, buyer_maker)
        market.set_last(price)
        s.dirty = True
        if market.mark is None:
            s.risk_all = True

    def tape_ladder(
        self, symbol: str, bids: Sequence[Sequence[int]], asks: Sequence[Sequence[int]],
        time_ms: int,
    ) -> None:
        """The tape's resting orders on ``symbol`` become exactly ``bids`` and ``asks``
        (``(price ticks, lots)`` each, prices distinct per side), at ``time_ms``.

        A tape order already resting at a wanted price with the wanted lots left keeps
        its place in the queue; any other tape order on the symbol is cancelled; a
        wanted level is then placed as a GTC LIMIT of the tape account — unless it
        would cross the opposite side of the book (post-only: that level is left
        out).  Tape orders freeze no margin and pay no fees; another account's
        order that takes one fills against the tape as against anyone.
        Runtime complexity: O(tape orders on the symbol + levels × log book).
        """
        journal = self._s.journal
        if journal is not None:
            journal.record("tape_ladder", None, symbol, [list(b) for b in bids],
                           [list(a) for a in asks], time_ms)
            return
        market = self._tape_market(symbol)
        want = _ladder(bids, asks)
        self._runner.run(self._tape_ladder, market, want, time_ms)

    def _tape_ladder(self, market: Market, want: dict[tuple[Any, int], int],
                     time_ms: int) -> None:
        s = self._s
        if time_ms > s.now:
            self._cancels.advance_to(time_ms)
        tape = self._ledger.accounts[TAPE]
        inst = market.inst
        table = self._index.open_orders.get((TAPE, inst.symbol), {})
        for order in list(table.values()):
            key = (order.side, order.price)
            if want.get(key) == order.qty - order.executed:
                del want[key]  # unchanged: it keeps its place
            else:
                self._cancels.cancel_commit(order)
        book = market.book
        for (side, price), lots in sorted(want.items(), key=lambda kv: (kv[0][0] is SELL,
                                                                        kv[0][1])):
            best = book.best(SELL if side is BUY else BUY)
            if best is not None and (price >= best if side is BUY else price <= best):
                continue  # post-only: the tape never takes
            order = Order(0, tape, inst, side, BOTH, LIMIT, GTC, price, lots, False, s.now,
                          None, STP_NONE)
            order.order_id = s.next_order_id()
            self._index.add(order)
            self._matching.take(order, market)

    def tape_touch(self, symbol: str, price: int, time_ms: int) -> None:
        """A print inside :meth:`tape_band`: only the last price, ``prev`` and clock move.

        Equivalent to :meth:`tape_trade` for such a print (nothing fills, fires
        or is liquidated); the caller vouches for the band.
        """
        s = self._s
        if s.journal is not None:
            s.journal.record("tape_touch", None, symbol, price, time_ms)
            return
        market = self._tape_market(symbol)

        def commit() -> None:
            if time_ms > s.now:
                self._cancels.advance_to(time_ms)
            market.set_last(price)
            market.set_prev(CONTRACT_PRICE, price)
            if market.mark is None:
                market.set_prev(MARK_PRICE, price)

        self._runner.run(commit)

    def toucher(self, symbol: str) -> Callable[[int, int], None]:
        """``touch(price, time_ms)``: :meth:`tape_touch` on ``symbol`` for a replay loop.

        Between commands, with no journal, no countdown and no GTD expiry due by
        ``time_ms``, it writes what the command would (the clock, the last price, the
        trigger references) straight to the state and counts the update when anything
        changed; otherwise it runs :meth:`tape_touch`.  The same ``state_hash()`` and
        update counter either way (tests/test_tape.py).  The symbol is checked once.

        Performance: the command machinery (a dict to check the symbol, a closure, undo
        records) was over half of an every-trade replay's cost per print
        (benchmarks/test_targets.py, ``noop_on_trade``).
        """
        s = self._s
        market = self._tape_market(symbol)
        countdowns, expiries, general = s.countdowns, s.expiries, self.tape_touch

        def touch(price: int, time_ms: int) -> None:
            undo = s.undo
            if (s.journal is not None or countdowns or undo or undo.__class__ is not UndoLog
                    or (expiries and expiries[0][0] <= time_ms)):
                general(symbol, price, time_ms)
                return
            changed = False
            if time_ms > s.now:
                s.now = time_ms
                changed = True
            if market.last != price:
                market.last = price
                changed = True
            if market.prev_last != price:
                market.prev_last = price
                changed = True
            if market.mark is None and market.prev_mark != price:
                market.prev_mark = price
                changed = True
            if changed:
                s.update_id += 1

        return touch

    def tape_quote(
        self, symbol: str, bid: int, bid_qty: int, ask: int, ask_qty: int, time_ms: int,
    ) -> None:
        """Replay the best bid/ask (ticks, lots); 0 means that side is empty."""
        s = self._s
        if s.journal is not None:
            s.journal.record("tape_quote", None, symbol, bid, bid_qty, ask, ask_qty, time_ms)
            return
        market = self._tape_market(symbol)

        def commit() -> None:
            if time_ms > s.now:
                self._cancels.advance_to(time_ms)
            self._undo.append((setattr, market, "quote", market.quote))
            market.quote = (bid, bid_qty, ask, ask_qty)

        self._runner.run(commit)

    def tape_mark(self, symbol: str, price: int, time_ms: int) -> None:
        """Replay a mark price (ticks) at ``time_ms``; triggers and liquidation follow."""
        s = self._s
        if s.journal is not None:
            s.journal.record("tape_mark", None, symbol, price, time_ms)
            return
        market = self._tape_market(symbol)

        def commit() -> None:
            if time_ms > s.now:
                self._cancels.advance_to(time_ms)
            market.set_mark(price)
            s.dirty = True
            s.risk_all = True

        self._runner.run(commit)

    def _tape_market(self, symbol: str) -> Market:
        if self._s.tape is None:
            raise ValueError("enable_tape() first")
        inst = parse_symbol({"symbol": symbol}, self._instruments)
        return self._markets[inst.symbol]

    # -- execution -----------------------------------------------------------------------
    def external_price(self, market: Market, buy: bool) -> int | None:
        """Where a taker of that side meets the tape: nowhere but its resting orders when
        it keeps a ladder on the symbol (:meth:`tape_ladder`); else the quote, else the
        last price ± slippage."""
        if self._index.open_orders.get((TAPE, market.inst.symbol)):
            return None
        quote = market.quote
        if quote is not None:
            px = quote[2] if buy else quote[0]
            if px:
                return px
        last = market.last
        if last is None:
            return None
        slip = self._s.tape.slippage
        return last + slip if buy else max(1, last - slip)

    def fill_external(
        self, order: Order, lots: int, price: int, market: Market, is_maker: bool = False,
    ) -> None:
        """Fill ``order`` against the tape account (which pays no fee) at ``price``."""
        tape = self._ledger.accounts[TAPE]
        trade_id = self._ledger.next_trade_id()
        dq = lots if order.side is BUY else -lots
        self._ledger.apply_fill(tape, market.inst, BOTH, -dq, price, 0, self._s.now)
        self._matching.fill(order, lots, price, is_maker, trade_id, market)

    def _tape_fills(self, market: Market, price: int, qty: int, buyer_maker: bool) -> None:
        config = self._s.tape
        matching = self._matching
        assert config is not None
        touch = config.fill == "touch"
        book = market.book
        remaining = qty
        for levels, bid in ((book.bids, True), (book.asks, False)):
            while remaining > 0 and levels:
                key, level = levels.peekitem(0)
                px = -key if bid else key
                through = px > price if bid else px < price
                at = px == price and touch and (buyer_maker if bid else not buyer_maker)
                if not (through or at):
                    break
                maker = next(iter(level.orders.values()))
                if maker.owner.name == TAPE:
                    break  # its own ladder: a print never trades with itself
                if not through and config.queue:
                    ahead = market.queue_ahead.get(maker.order_id, 0)
                    if ahead:
                        used = ahead if ahead < remaining else remaining
                        self._undo.append(
                            (market.queue_ahead.__setitem__, maker.order_id, ahead)
                        )
                        market.queue_ahead[maker.order_id] = ahead - used
                        remaining -= used
                        continue
                lots = maker.qty - maker.executed
                if maker.reduce_only:
                    cap = matching.reducible(maker)
                    if cap <= 0:
                        matching.expire(maker)
                        continue
                    lots = cap if cap < lots else lots
                lots = remaining if remaining < lots else lots
                self.fill_external(maker, lots, px, market, is_maker=True)
                remaining -= lots
                if maker.reduce_only and maker.status in (
                    NEW, PARTIALLY_FILLED
                ) and matching.reducible(maker) == 0:
                    matching.expire(maker)

    def rests_clear(self, market: Market, buy: bool, price: int) -> bool:
        """True when a LIMIT of that side at ``price`` meets no tape liquidity
        (:meth:`external_price`) and no queue model applies: order entry may rest it
        inline (``market_maker_cycle`` of benchmarks/test_targets.py)."""
        ext = self.external_price(market, buy)
        return not self._s.tape.queue and (  # type: ignore[union-attr]
            ext is None or (price < ext if buy else price > ext))

    def queue_rest(self, order: Order, market: Market) -> None:
        """Queue model: an order resting at the best quote waits behind the quote's size."""
        quote = market.quote
        if quote is None:
            return
        bid, bid_qty, ask, ask_qty = quote
        ahead = bid_qty if order.side is BUY and order.price == bid else (
            ask_qty if order.side is SELL and order.price == ask else 0
        )
        if ahead:
            self._undo.append((market.queue_ahead.pop, order.order_id))
            market.queue_ahead[order.order_id] = ahead

    # -- the band of prints that change nothing ----------------------------------------------
    def tape_band(self, symbol: str) -> tuple[int, int]:
        """Inclusive ``(lo, hi)`` ticks: prints of ``symbol`` inside change only its last
        price and the clock — valid until any other event (see the module docstring).

        ``lo > hi`` means the band is empty (no print is safe to skip).  Considers
        resting orders (by the fill mode); ARMED rows watching the last price (and
        the mark, while the mark falls back to the last price): stops by their stop
        price, trailing stops by :func:`~engine.core.triggers.trailing_band` (no
        activation reached, no new extreme, no firing); and, while the mark falls
        back to the last price, every position's liquidation price.  (A trailing stop
        once made every print a stop: 600 thousand prints took 100× longer than without
        it; ``trailing_stop`` of benchmarks/test_targets.py measures the band now.)
        """
        market = self._tape_market(symbol)
        lo, hi = 1, 1 << 62
        config = self._s.tape
        touch = config is not None and config.fill == "touch"
        book = market.book
        if book.bids:
            best_bid = -book.bids.peekitem(0)[0]
            lo = max(lo, best_bid + 1 if touch else best_bid)
        if book.asks:
            best_ask = book.asks.peekitem(0)[0]
            hi = min(hi, best_ask - 1 if touch else best_ask)
        watched = [CONTRACT_PRICE]
        if market.mark is None:
            watched.append(MARK_PRICE)
        registry = self._registry
        for wt in watched:
            key = (symbol, wt)
            trailing = registry._trailing.get(key)
            if trailing:
                for row in trailing.values():
                    row_lo, row_hi = trailing_band(row)
                    if row_lo is not None:
                        lo = max(lo, row_lo)
                    if row_hi is not None:
                        hi = min(hi, row_hi)
            rise = registry._rise.get(key)
            if rise:
                hi = min(hi, rise[0][0] - 1)
            fall = registry._fall.get(key)
            if fall:
                lo = max(lo, -fall[0][0] + 1)
        if market.mark is None:
            for name in sorted(self._ledger.accounts):
                if name.startswith("@"):
                    continue
                acct = self._ledger.accounts[name]
                for (sym, pside), pos in acct.positions.items():
                    if sym != symbol or not pos.qty:
                        continue
                    liq = self._band_liquidation_price(acct, symbol, pside)
                    if liq is None:
                        continue
                    if pos.qty > 0:
                        lo = max(lo, liq + 1)
                    else:
                        hi = min(hi, liq - 1)
        return lo, hi

    def _band_liquidation_price(self, acct: Any, symbol: str, pside: Any) -> int | None:
        """Liquidation price, re-derived once at its own bracket (so the band stays safe)."""
        first = self._risk.liquidation_price(acct, symbol, pside)
        if first is None:
            return None
        market = self._markets[symbol]
        saved = market.mark
        market.mark = first  # evaluate the bracket at that price; restored below
        try:
            second = self._risk.liquidation_price(acct, symbol, pside)
        finally:
            market.mark = saved
        if second is None:
            return first
        qty = acct.position_qty(symbol, pside)
        return max(first, second) if qty > 0 else min(first, second)


def _ladder(bids: Sequence[Sequence[int]], asks: Sequence[Sequence[int]]) -> dict[Any, int]:
    """``{(side, price): lots}`` of a ladder; ValueError unless every level is two
    positive ints and no price repeats on a side."""
    want: dict[Any, int] = {}
    for side, levels in ((BUY, bids), (SELL, asks)):
        for level in levels:
            if len(level) != 2 or not all(
                    type(v) is int and v > 0 for v in level):  # noqa: E721 - bools are not ticks
                raise ValueError(f"a ladder level is (price ticks, lots) > 0, not {level!r}")
            price, lots = level
            if (side, price) in want:
                raise ValueError(f"price {price} twice on one side of the ladder")
            want[(side, price)] = lots
    return want
