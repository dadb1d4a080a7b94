"""What every served market shares: per-symbol stores, the tape's ladder, the journal.

A served market (:class:`~engine.server.feed.SyntheticFeed`, the default;
:class:`~engine.server.replayfeed.ReplayFeed`, ``--replay DATA``) is a
:class:`MarketFeed`: for each listed symbol a :class:`SymbolMarket` — the candles,
prints and settled funding the market-data endpoints (:mod:`~engine.server.market`)
answer from — and the venue it moves:

* a print is applied as :meth:`MarketFeed._print` does it: the tape's ladder moves
  around it (:func:`ladder`: 20 levels a side of real resting orders of the tape
  account, so ``/fapi/v1/depth`` shows them and a bot's MARKET or crossing LIMIT
  order walks them in price-time priority), then the print itself
  (:meth:`~engine.venue.exchange.Exchange.tape_trade`, at a price between the
  ladder's sides, so it trades with no order of the tape but goes through any
  bot's order it reaches), and it is stored; when a print opens a new minute, the
  mark first moves to the last minute's close (unless the market has marks of its
  own);
* the clock follows: :meth:`MarketFeed.advance` applies what falls due by a time and
  leaves the venue clock there.

On a journaled venue a market is not journaled print by print: it is deterministic
from its parameters (a seed, or data files), so the journal holds one
``market_open`` line with :attr:`MarketFeed.params` and then deferred ``market``
lines with the market's :meth:`~MarketFeed.position` (prints applied, time
reached), which :meth:`~MarketFeed.redo` replays (:meth:`engine.persist.journal.Journal.defer`).
That needs :meth:`MarketFeed._advance` to stop where the print count and the target
time say, however the calls were split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from engine.backtest.marketdata import MINUTE_MS, Candles, Prints
from engine.core.events import EventGap

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.venue.exchange import Exchange

__all__ = ["FUNDING_MS", "LADDER_LEVELS", "MarketFeed", "SymbolMarket", "ladder"]

FUNDING_MS = 8 * 3_600_000
#: levels of the tape's ladder on each side
LADDER_LEVELS = 20
#: the notional of the ladder's nearest levels, in USDT (farther levels hold more)
LEVEL_USDT = 2_000


def ladder(inst: Instrument, price: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The tape's book around a print at ``price`` (ticks): :data:`LADDER_LEVELS` bids
    and asks on a grid about a basis point apart (fixed while the price stays in a grid
    cell, so most prints leave the ladder as it is), the nearest below and above
    ``price``; each level about :data:`LEVEL_USDT` deep, more every four levels out."""
    step = max(1, price // 10_000)
    unit = price * inst.tick_m * inst.step_m  # 10^-(price_exp + qty_exp) USDT per lot
    base = max(inst.min_lots, LEVEL_USDT * 10 ** (inst.price_exp + inst.qty_exp) // unit)
    first_bid = (price - 1) // step * step
    first_ask = (price // step + 1) * step
    bids = [(first_bid - k * step, base * (1 + k // 4)) for k in range(LADDER_LEVELS)
            if first_bid - k * step >= max(1, inst.min_price_ticks)]
    asks = [(first_ask + k * step, base * (1 + k // 4)) for k in range(LADDER_LEVELS)
            if first_ask + k * step <= inst.max_price_ticks]
    return bids, asks


class SymbolMarket:
    """One symbol's market as the endpoints see it: candles, prints, settled funding."""

    def __init__(self, inst: Instrument, open_ticks: int) -> None:
        self.inst = inst
        #: the price the market opened at (ticks)
        self.open_ticks = open_ticks
        self.candles, self.prints = Candles(), Prints()
        #: settled funding: (time, rate in 10^-8, mark in ticks)
        self.funding: list[tuple[int, int, int]] = []
        #: the minute (ms // MINUTE_MS) of the last print, or of history's last candle
        self.last_minute: int | None = None
        #: the market brings this symbol's marks (else each minute's close is the mark)
        self.own_marks = False

    def state(self) -> dict[str, Any]:
        return {"last_minute": self.last_minute, "candles": self.candles.to_bytes(),
                "prints": self.prints.to_bytes(), "funding": [list(x) for x in self.funding]}

    def load_state(self, st: Any) -> Callable[[], None]:
        """Check ``st`` (from :meth:`state`); the function that takes it up."""
        last_minute, funding = st["last_minute"], st["funding"]
        if not (last_minute is None or type(last_minute) is int):
            raise ValueError(f"{self.inst.symbol}: a last minute that is not one")
        rows = [tuple(x) for x in funding]
        if any(len(r) != 3 or any(type(v) is not int for v in r) for r in rows):
            raise ValueError(f"{self.inst.symbol}: funding rows are (time, rate, mark) ints")
        candles, prints = Candles.from_bytes(st["candles"]), Prints.from_bytes(st["prints"])

        def take() -> None:
            self.last_minute, self.candles, self.prints = last_minute, candles, prints
            self.funding = rows  # type: ignore[assignment]

        return take


class MarketFeed:
    """A market applied to ``exchange`` (see the module docstring).  Subclasses set
    :attr:`params` and :attr:`symbols`, and implement :meth:`_advance` and
    :meth:`next_print_time`."""

    #: ``"synthetic"`` or ``"replay"``: what :attr:`params` describe
    kind = ""

    def __init__(self, exchange: Exchange, now_ms: int, fill: str = "through",
                 queue: bool = False) -> None:
        if fill not in ("through", "touch") or not isinstance(queue, bool):
            raise ValueError(f"fill is 'through' or 'touch' and queue a bool, not {fill!r}, "
                             f"{queue!r}")
        self.exchange = exchange
        #: the backtest's fill rule for resting orders a print reaches (``--fill``,
        #: ``--queue``; :meth:`~engine.venue.exchange.Exchange.enable_tape`)
        self.fill, self.queue = fill, queue
        self.params: dict[str, Any] = {}
        self.symbols: dict[str, SymbolMarket] = {}
        #: prints applied so far (to the venue: history's are not counted)
        self.applied = 0
        #: the time the market has reached (what :meth:`advance` last returned)
        self.reached = now_ms
        #: the market has nothing more to apply (a replay whose data ran out)
        self.ended = False
        #: the number of the last venue event :meth:`take_venue_prints` has looked at
        self._heard = exchange._s.event_seq

    def _open(self, now_ms: int, opening: Iterable[tuple[Instrument, int]]) -> None:
        """Put the venue in tape mode with each symbol's mark and ladder at its opening
        price (ticks) — one ``market_open`` line on a journaled venue."""
        exchange = self.exchange
        opening = list(opening)

        def open_() -> None:
            exchange.enable_tape(fill=self.fill, queue=self.queue)
            at = max(now_ms, exchange.now)
            for inst, ticks in opening:
                exchange.tape_mark(inst.symbol, ticks, at)
                exchange.tape_ladder(inst.symbol, *ladder(inst, ticks), at)

        journal = exchange.journal
        if journal is None:
            open_()
        else:  # one line says it all: replay rebuilds the feed from the parameters
            journal.defer("market_open", open_, lambda: dict(self.params))
            journal.flush()

    # -- the journal -------------------------------------------------------------------
    def position(self) -> dict[str, int]:
        """Where the market is: prints applied and the time reached (a ``market`` line)."""
        return {"prints": self.applied, "to": self.reached}

    def redo(self, params: dict[str, int]) -> dict[str, int]:
        """Replay a ``market`` line: apply prints until ``params["prints"]`` are applied,
        up to ``params["to"]``; the position reached (equal to ``params`` when this feed
        and venue are those that wrote it)."""
        to, prints = params["to"], params["prints"]
        if type(to) is not int or type(prints) is not int or prints < self.applied:
            raise ValueError(f"a market line says {params!r}; the market is at "
                             f"{self.position()}")
        self._advance(to, prints - self.applied)
        self.take_venue_prints()
        return self.position()

    def advance(self, now_ms: int, budget: int | None = None) -> int:
        """Apply the prints, marks and funding due by ``now_ms``, in time order — at most
        ``budget`` prints (None: all) — and return the time the market has reached:
        ``now_ms``, or the last applied print's time when prints due by ``now_ms`` are
        left.  The venue clock is left there.  Call between commands (the server holds
        the lock).  On a journaled venue the progress is one deferred ``market`` line
        (:meth:`position`; replayed by :meth:`redo`), not a line per print."""
        journal = self.exchange.journal
        if journal is None:
            reached = self._advance(now_ms, budget)
        else:
            before = (self.applied, self.reached)
            reached = journal.defer(
                "market", lambda: self._advance(now_ms, budget), self.position,
                lambda: (self.applied, self.reached) != before)
        self.take_venue_prints()
        return reached  # type: ignore[no-any-return]

    def take_venue_prints(self) -> None:
        """Record the venue's own trades since the last call — a bot's order matched in
        the book (the tape's ladder or another bot's order), ``PRINT`` events of the
        venue's log — in the stores, after the prints recorded before them: so
        ``aggTrades``, ``trades``, the klines, the tickers and their streams show them as
        Binance shows every trade.  Only the stores change, never the venue, so when it
        is called does not matter to the venue; the stores' order is the log's, and the
        log's place of the market's own prints (each :meth:`_print` takes what came
        before it).  Call between commands: after each command and before each print.
        A print of a bot's maker order the market's print reaches is that print (it is
        recorded once, as the market's)."""
        events = self.exchange._s.events
        if events.last() == self._heard:
            return
        try:
            prints = events.prints_after(self._heard)
        except EventGap:  # cannot happen between two commands; never stop the market
            prints = events.prints_after(events.base)
        self._heard = events.last()
        symbols = self.symbols
        for _kind, _acct, t, sym, price, lots, buyer_maker, _trade_id in prints:
            feed = symbols.get(sym)
            if feed is not None:
                feed.prints.add(t, price, lots, buyer_maker)
                feed.candles.add_print(t, price, lots, buyer_maker)

    def _advance(self, now_ms: int, budget: int | None) -> int:
        raise NotImplementedError

    def next_print_time(self) -> int:
        """The time of the next print not yet applied (whenever it falls)."""
        raise NotImplementedError

    def next_funding_time(self, symbol: str, now_ms: int) -> int:
        """When ``symbol``'s funding is next settled after ``now_ms``: the next 00:00,
        08:00 or 16:00 UTC (a replay: its data's next funding row)."""
        return (now_ms // FUNDING_MS + 1) * FUNDING_MS

    def _finish(self, now_ms: int) -> int:
        """End a complete :meth:`_advance` at ``now_ms``: candles filled, clock moved."""
        for feed in self.symbols.values():
            if len(feed.candles):
                feed.candles.fill_to(now_ms)
        self.reached = max(self.reached, now_ms)
        ex = self.exchange
        if not ex.pass_time(now_ms):  # the clock reaches now_ms with the market
            ex.set_time(now_ms)
        return now_ms

    def _print(self, feed: SymbolMarket, t: int, price: int, qty: int, maker: bool) -> None:
        ex, sym = self.exchange, feed.inst.symbol
        t = max(t, ex.now)
        self.take_venue_prints()
        minute = t // MINUTE_MS
        if not feed.own_marks and feed.last_minute is not None and minute > feed.last_minute:
            # a minute closed: the mark moves to its close, whether or not the candles
            # were already filled to this minute, or a bot's trade opened it
            opens, close = feed.candles.column("open_time"), feed.candles.column("close")
            i = len(close) - 1 - (int(opens[-1]) >= minute * MINUTE_MS)
            ex.tape_mark(sym, int(close[i]), t)
        feed.last_minute = minute
        ex.tape_ladder(sym, *ladder(feed.inst, price), t)  # around the print, then print
        self.take_venue_prints()  # what the mark fired
        ex.tape_trade(sym, price, qty, maker, t)
        feed.prints.add(t, price, qty, maker)  # then what the print fired
        feed.candles.add_print(t, price, qty, maker)

    def _settle(self, t: int, rates: Iterable[tuple[str, int]]) -> None:
        """Funding at ``t``: each ``(symbol, rate in 10^-8)``, recorded with its mark."""
        ex = self.exchange
        if not ex.pass_time(t):
            ex.set_time(t)
        for sym, rate in rates:
            ex.settle_funding(sym, f"{rate}e-8")
            feed = self.symbols[sym]
            close = feed.candles.column("close")
            mark = int(close[-1]) if len(close) else feed.open_ticks
            feed.funding.append((t, rate, mark))

    # -- a state file (the server's --state snapshots) ---------------------------------
    def state(self) -> dict[str, Any]:
        """The feed's progress as plain values (bytes for the stores), for
        :meth:`restore_state` on a feed rebuilt from :attr:`params` with
        ``open_venue=False``.  The stores take the venue's trades first
        (:meth:`take_venue_prints`): a restored feed hears only the events after the
        snapshot's."""
        self.take_venue_prints()
        return {"applied": self.applied, "reached": self.reached, **self._state(),
                "symbols": {sym: {**f.state(), **self._symbol_state(f)}
                            for sym, f in self.symbols.items()}}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Take up the progress :meth:`state` gave (``ValueError`` on anything else;
        nothing is taken up then)."""
        try:
            symbols = state["symbols"]
            applied, reached = state["applied"], state["reached"]
            if not (isinstance(symbols, dict) and sorted(symbols) == sorted(self.symbols)
                    and type(applied) is int and type(reached) is int):
                raise ValueError("not this market's state")
            takes = [self._load_state(state)]
            for sym, f in self.symbols.items():
                takes += [f.load_state(symbols[sym]), self._load_symbol_state(f, symbols[sym])]
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a market state ({e!r})") from None
        for take in takes:
            take()
        self.applied, self.reached = applied, reached

    def _state(self) -> dict[str, Any]:
        return {}

    def _symbol_state(self, feed: SymbolMarket) -> dict[str, Any]:
        return {}

    def _load_state(self, state: Any) -> Callable[[], None]:
        return lambda: None

    def _load_symbol_state(self, feed: SymbolMarket, st: Any) -> Callable[[], None]:
        return lambda: None
