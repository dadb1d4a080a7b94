"""The default market of ``fapisim serve``: a seeded synthetic market, with history.

:class:`SyntheticFeed` runs :class:`~engine.backtest.synthetic.MarketModel` for each
listed symbol (each starts at the venue's mark if one is set, else at its reference
price in :mod:`engine.core.listing`, else at the middle of its price band) and
applies it to the venue as the venue clock reaches it:

* **history** — at start, the ``history_minutes`` before now become 1-minute candles
  and sparse prints (each minute's trades as one aggregate trade at its close; none is
  applied to the venue, so start-up is quick): a bot's candle or trade download
  succeeds at once;
* **prints** — from the current minute on, every print of
  :func:`~engine.backtest.synthetic.minute_trades` is a tape print
  (:meth:`~engine.venue.exchange.Exchange.tape_trade`): resting orders it goes through
  fill, the last price moves, triggers fire; it is also kept in the symbol's
  :class:`~engine.backtest.marketdata.Prints` and :class:`~engine.backtest.marketdata.Candles`
  for the market-data endpoints;
* **the book** — before each print the tape's ladder moves around it
  (:func:`ladder`, :meth:`~engine.venue.exchange.Exchange.tape_ladder`): 20 levels a
  side of real resting orders of the tape account, so ``/fapi/v1/depth`` shows them
  and a bot's MARKET or crossing LIMIT order walks them in price-time priority, and
  the print, at a price between the ladder's sides, trades with no order of the tape;
* **mark and index** — at each minute's close the mark moves to the last print;
* **funding** — every 8 hours (00:00, 08:00, 16:00 UTC) positions pay or receive a
  small seeded rate (:meth:`~engine.venue.exchange.Exchange.settle_funding`).

The venue runs in replay mode (:meth:`~engine.venue.exchange.Exchange.enable_tape`):
the tape account ``@tape`` is every print's counterparty and is never margin-checked,
liquidated or charged fees.

Everything comes from the seed and the start time: the same two give the same market.
:meth:`SyntheticFeed.advance` is called by the server under the venue lock, with the
time to advance to; the feed never reads a clock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.backtest.marketdata import MINUTE_MS, Candles, Prints
from engine.backtest.synthetic import DAY_MINUTES, MarketModel, minute_path, minute_trades
from engine.core.decimals import scaled_exact
from engine.core.listing import LISTINGS, reference_price
from engine.server.marketfeed import FUNDING_MS, LADDER_LEVELS, MarketFeed, SymbolMarket, ladder

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.backtest.stream import Stream
    from engine.core.instrument import Instrument
    from engine.venue.exchange import Exchange

__all__ = ["FUNDING_MS", "LADDER_LEVELS", "SymbolFeed", "SyntheticFeed", "ladder", "start_ticks"]

DAY_MS = DAY_MINUTES * MINUTE_MS


def start_ticks(inst: Instrument, exchange: Exchange | None = None) -> int:
    """Where a symbol's synthetic market starts: the venue's mark, if one is set; else
    its reference price in the listing table (:mod:`engine.core.listing`); else the
    middle of its price band."""
    mark = None if exchange is None else exchange.mark_ticks(inst.symbol)
    if mark is not None:
        return mark
    if inst.symbol in LISTINGS:
        e8 = scaled_exact(Decimal(reference_price(inst.symbol)), inst.price_exp)
        if e8 is not None and e8 // inst.tick_m >= max(1, inst.min_price_ticks):
            return e8 // inst.tick_m
    return max(1, (inst.min_price_ticks + inst.max_price_ticks) // 2)


class SymbolFeed(SymbolMarket):
    """One symbol's synthetic market: its stores and the day of prints in play."""

    def __init__(self, inst: Instrument, model: MarketModel, seed: int, origin_ms: int) -> None:
        super().__init__(inst, model.start_price_ticks)
        self.model, self.seed, self.origin = model, seed, origin_ms
        self._day = -1
        self._trades: Stream | None = None
        self._next = 0  # the next print of the day in play

    def day_trades(self, day: int) -> Stream:
        """The prints of ``day`` (0: the day from the origin), generated."""
        path = minute_path(self.model, self.seed, self.origin, (day + 1) * DAY_MINUTES)
        return minute_trades(path.slice(day * DAY_MINUTES, (day + 1) * DAY_MINUTES),
                             self.seed, day, symbol=self.inst.symbol)

    def _load(self, day: int) -> None:
        self._trades, self._day, self._next = self.day_trades(day), day, 0

    def peek(self, now_ms: int) -> tuple[int, int, int, bool] | None:
        """The next print at or before ``now_ms`` — (time, price ticks, lots, buyer_maker)
        — without taking it; None if there is none yet."""
        while True:
            if self._trades is None:
                self._load(0)
            t = self._trades
            assert t is not None
            if self._next < len(t):
                i = self._next
                if int(t.time[i]) > now_ms:
                    return None
                return int(t.time[i]), int(t.price[i]), int(t.qty[i]), bool(t.buyer_maker[i])
            if self.origin + (self._day + 1) * DAY_MS > now_ms:
                return None
            self._load(self._day + 1)

    def take(self) -> None:
        """Consume the print :meth:`peek` returned."""
        self._next += 1


class SyntheticFeed(MarketFeed):
    """The synthetic market of every listed symbol, applied to ``exchange`` (see the
    module docstring).  ``now_ms``: where history ends and prints begin.  History and
    the live market draw from different streams of the seed (``seed + 500``).
    ``fill``, ``queue``: the backtest's fill rule for resting orders a print reaches.
    ``open_ticks``: where each symbol's market starts (default :func:`start_ticks`),
    recorded in :attr:`params` so the feed can be rebuilt against any later venue.
    ``open_venue``: apply the opening marks and ladders to the venue (False when the
    venue comes from a snapshot that holds them already)."""

    kind = "synthetic"
    symbols: dict[str, SymbolFeed]  # type: ignore[assignment]

    def __init__(self, exchange: Exchange, *, seed: int, now_ms: int,
                 history_minutes: int = 500 * 60, trades_per_day: int = 86_400,
                 open_ticks: dict[str, int] | None = None, fill: str = "through",
                 queue: bool = False, open_venue: bool = True) -> None:
        super().__init__(exchange, now_ms, fill, queue)
        if open_ticks is None:
            open_ticks = {sym: start_ticks(inst, exchange)
                          for sym, inst in exchange.instruments.items()}
        if sorted(open_ticks) != sorted(exchange.instruments) or any(
                type(v) is not int or v < 1 for v in open_ticks.values()):
            raise ValueError(f"opening prices {open_ticks!r} are not one tick count ≥ 1 per "
                             "listed symbol")
        #: the parameters that rebuild this feed (a journal's ``market_open`` line)
        self.params = {"seed": seed, "now_ms": now_ms, "history_minutes": history_minutes,
                       "trades_per_day": trades_per_day, "open_ticks": dict(open_ticks),
                       "fill": fill, "queue": queue}
        self.seed = seed
        now_minute = now_ms // MINUTE_MS * MINUTE_MS
        opening: list[tuple[Instrument, int]] = []
        for k, inst in enumerate(exchange.instruments.values()):
            ticks = open_ticks[inst.symbol]
            sym_seed = seed + 1000 * k
            past = Candles()
            if history_minutes:
                origin = now_minute - history_minutes * MINUTE_MS
                path = minute_path(MarketModel(ticks, trades_per_day=trades_per_day),
                                   sym_seed + 500, origin, history_minutes)
                times = origin + MINUTE_MS * np.arange(history_minutes, dtype=np.int64)
                past.extend(times, path.open, path.high, path.low, path.close,
                            path.count * 4, path.count)  # prints average about 4 lots
                # sparse prints: each minute's trades as one aggregate at its close
                busy = path.count > 0
                feed_prints = Prints()
                feed_prints.extend((times + MINUTE_MS - 1)[busy], path.close[busy],
                                   (path.count * 4)[busy], (path.close < path.open)[busy],
                                   path.count[busy])
                ticks = int(path.close[-1])
            feed = SymbolFeed(inst, MarketModel(ticks, trades_per_day=trades_per_day),
                              sym_seed, now_minute)
            feed.candles = past
            if history_minutes:
                feed.prints = feed_prints
                feed.last_minute = now_minute // MINUTE_MS - 1
            opening.append((inst, ticks))
            self.symbols[inst.symbol] = feed
        self._funded = now_ms // FUNDING_MS
        if open_venue:
            self._open(now_ms, opening)

    def next_print_time(self) -> int:
        """The time of the next print not yet applied (whenever it falls)."""
        return min(nxt[0] for f in self.symbols.values()
                   if (nxt := f.peek(1 << 62)) is not None)

    def _advance(self, now_ms: int, budget: int | None) -> int:
        """:meth:`~MarketFeed.advance` itself.  Where it stops depends only on how many
        prints have been applied and ``now_ms`` — not on how the calls were split — so
        one ``market`` line replays any run of calls."""
        applied = 0
        while True:
            best: tuple[SymbolFeed, tuple[int, int, int, bool]] | None = None
            for feed in self.symbols.values():
                nxt = feed.peek(now_ms)
                if nxt is not None and (best is None or nxt[0] < best[1][0]):
                    best = (feed, nxt)
            if best is None:
                break
            if budget is not None and applied >= budget:  # out of budget, behind now_ms
                self.applied += applied
                self.reached = max(self.reached, self.exchange.now)
                return self.reached
            feed, (t, price, qty, maker) = best
            feed.take()
            self._settle_funding_until(t)
            self._print(feed, t, price, qty, maker)
            applied += 1
        self.applied += applied
        self._settle_funding_until(now_ms)
        return self._finish(now_ms)

    def _settle_funding_until(self, t: int) -> None:
        while (self._funded + 1) * FUNDING_MS <= t:
            self._funded += 1
            # each settlement's rates have their own stream: nothing to carry between them
            self._settle(self._funded * FUNDING_MS, [
                (sym, int(np.random.default_rng([self.seed, 4, self._funded, k]).integers(
                    -5_000, 15_001)))  # 10^-8: -0.005 … 0.015 %
                for k, sym in enumerate(self.symbols)])

    # -- a state file ------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"funded": self._funded}

    def _symbol_state(self, feed: SymbolMarket) -> dict[str, Any]:
        assert isinstance(feed, SymbolFeed)
        return {"day": feed._day, "next": feed._next}

    def _load_state(self, state: Any) -> Callable[[], None]:
        funded = state["funded"]
        if type(funded) is not int:
            raise ValueError("not this market's state")

        def take() -> None:
            self._funded = funded

        return take

    def _load_symbol_state(self, feed: SymbolMarket, st: Any) -> Callable[[], None]:
        assert isinstance(feed, SymbolFeed)
        day, nxt = st["day"], st["next"]
        if type(day) is not int or type(nxt) is not int or day < -1 or nxt < 0 or (
                day == -1 and nxt):
            raise ValueError(f"{feed.inst.symbol}: a position that is not one")
        trades = None if day < 0 else feed.day_trades(day)
        if trades is not None and nxt > len(trades):
            raise ValueError(f"{feed.inst.symbol}: print {nxt} of a day of {len(trades)}")

        def take() -> None:
            feed._trades, feed._day, feed._next = trades, day, nxt

        return take
