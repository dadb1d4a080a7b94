"""The default market of ``fapisim serve``: a seeded synthetic market, with history.

:class:`SyntheticFeed` runs :class:`~engine.backtest.synthetic.MarketModel` for each
listed symbol (each starts at its reference price in :mod:`engine.core.listing`, else
at the middle of its price band) and
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
from typing import TYPE_CHECKING

import numpy as np

from engine.backtest.marketdata import MINUTE_MS, Candles, Prints
from engine.backtest.synthetic import DAY_MINUTES, MarketModel, minute_path, minute_trades
from engine.core.decimals import scaled_exact
from engine.core.listing import LISTINGS, reference_price

if TYPE_CHECKING:
    from engine.backtest.stream import Stream
    from engine.core.instrument import Instrument
    from engine.venue.exchange import Exchange

__all__ = ["FUNDING_MS", "LADDER_LEVELS", "SymbolFeed", "SyntheticFeed", "ladder"]

FUNDING_MS = 8 * 3_600_000
DAY_MS = DAY_MINUTES * MINUTE_MS


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


def start_ticks(inst: Instrument) -> int:
    """Where a symbol's synthetic market starts: its reference price in the listing
    table (:mod:`engine.core.listing`), else the middle of its price band."""
    if inst.symbol in LISTINGS:
        e8 = scaled_exact(Decimal(reference_price(inst.symbol)), inst.price_exp)
        if e8 is not None and e8 // inst.tick_m >= max(1, inst.min_price_ticks):
            return e8 // inst.tick_m
    return max(1, (inst.min_price_ticks + inst.max_price_ticks) // 2)


class SymbolFeed:
    """One symbol's synthetic market: the day of prints in play and its store."""

    def __init__(self, inst: Instrument, model: MarketModel, seed: int, origin_ms: int) -> None:
        self.inst, self.model, self.seed, self.origin = inst, model, seed, origin_ms
        self.candles, self.prints = Candles(), Prints()
        #: settled funding: (time, rate in 10^-8, mark in ticks)
        self.funding: list[tuple[int, int, int]] = []
        self._day = -1
        self._trades: Stream | None = None
        self._next = 0  # the next print of the day in play
        #: the minute (ms // MINUTE_MS) of the last print, or of history's last candle
        self.last_minute: int | None = None

    def _load(self, day: int) -> None:
        path = minute_path(self.model, self.seed, self.origin, (day + 1) * DAY_MINUTES)
        self._trades = minute_trades(path.slice(day * DAY_MINUTES, (day + 1) * DAY_MINUTES),
                                     self.seed, day, symbol=self.inst.symbol)
        self._day, self._next = day, 0

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


class SyntheticFeed:
    """The synthetic market of every listed symbol, applied to ``exchange`` (see the
    module docstring).  ``now_ms``: where history ends and prints begin.  History and
    the live market draw from different streams of the seed (``seed + 500``).
    ``open_venue``: apply the opening marks and ladders to the venue (False when the
    venue comes from a snapshot that holds them already)."""

    def __init__(self, exchange: Exchange, *, seed: int, now_ms: int,
                 history_minutes: int = 500 * 60, trades_per_day: int = 86_400,
                 open_venue: bool = True) -> None:
        self.exchange = exchange
        #: the parameters that rebuild this feed (a journal's ``market_open`` line)
        self.params = {"seed": seed, "now_ms": now_ms, "history_minutes": history_minutes,
                       "trades_per_day": trades_per_day}
        self.seed = seed
        now_minute = now_ms // MINUTE_MS * MINUTE_MS
        self.symbols: dict[str, SymbolFeed] = {}
        opening: list[tuple[str, Instrument, int]] = []
        for k, inst in enumerate(exchange.instruments.values()):
            ticks = start_ticks(inst)
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
            opening.append((inst.symbol, inst, ticks))
            self.symbols[inst.symbol] = feed
        self._funded = now_ms // FUNDING_MS
        #: prints applied so far (to the venue: history's are not counted)
        self.applied = 0
        #: the time the market has reached (what :meth:`advance` last returned)
        self.reached = now_ms
        if open_venue:
            def open_() -> None:
                exchange.enable_tape()
                at = max(now_ms, exchange.now)
                for symbol, inst, ticks in opening:
                    exchange.tape_mark(symbol, ticks, at)
                    exchange.tape_ladder(symbol, *ladder(inst, ticks), at)

            journal = exchange.journal
            if journal is None:
                open_()
            else:  # one line says it all: replay rebuilds the feed from the parameters
                journal.defer("market_open", open_, lambda: dict(self.params))
                journal.flush()

    def next_print_time(self) -> int:
        """The time of the next print not yet applied (whenever it falls)."""
        return min(nxt[0] for f in self.symbols.values()
                   if (nxt := f.peek(1 << 62)) is not None)

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
        return self.position()

    # -- a state file (the server's --state snapshots) ---------------------------------
    def state(self) -> dict[str, object]:
        """The feed's progress as plain values (bytes for the stores), for
        :meth:`restore_state` on a feed rebuilt from :attr:`params` with
        ``open_venue=False``."""
        return {
            "applied": self.applied, "reached": self.reached, "funded": self._funded,
            "symbols": {sym: {"day": f._day, "next": f._next, "last_minute": f.last_minute,
                              "candles": f.candles.to_bytes(),
                              "prints": f.prints.to_bytes(),
                              "funding": [list(x) for x in f.funding]}
                        for sym, f in self.symbols.items()},
        }

    def restore_state(self, state: dict[str, object]) -> None:
        """Take up the progress :meth:`state` gave (``ValueError`` on anything else)."""
        try:
            symbols = state["symbols"]
            applied, reached, funded = state["applied"], state["reached"], state["funded"]
            if not (isinstance(symbols, dict) and sorted(symbols) == sorted(self.symbols)
                    and all(type(v) is int for v in (applied, reached, funded))):
                raise ValueError("not this market's state")
            loaded = {}
            for sym in self.symbols:
                st = symbols[sym]
                day, nxt, funding = st["day"], st["next"], st["funding"]
                last_minute = st["last_minute"]
                if type(day) is not int or type(nxt) is not int or day < -1 or nxt < 0 or (
                        day == -1 and nxt) or not (last_minute is None
                                                   or type(last_minute) is int):
                    raise ValueError(f"{sym}: a position that is not one")
                rows = [tuple(x) for x in funding]
                if any(len(r) != 3 or any(type(v) is not int for v in r) for r in rows):
                    raise ValueError(f"{sym}: funding rows are (time, rate, mark) ints")
                loaded[sym] = (day, nxt, last_minute, Candles.from_bytes(st["candles"]),
                               Prints.from_bytes(st["prints"]), rows)
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a market state ({e!r})") from None
        for sym, (day, nxt, last_minute, candles, prints, rows) in loaded.items():
            f = self.symbols[sym]
            if day >= 0:
                f._load(day)
                assert f._trades is not None
                if nxt > len(f._trades):
                    raise ValueError(f"{sym}: print {nxt} of a day of {len(f._trades)}")
            f._day, f._next, f.last_minute = day, nxt, last_minute
            f.candles, f.prints, f.funding = candles, prints, rows  # type: ignore[assignment]
        self.applied, self.reached, self._funded = applied, reached, funded  # type: ignore[assignment]

    # -- the market --------------------------------------------------------------------
    def advance(self, now_ms: int, budget: int | None = None) -> int:
        """Apply the prints, marks and funding due by ``now_ms``, in time order — at most
        ``budget`` prints (None: all) — and return the time the market has reached:
        ``now_ms``, or the last applied print's time when prints due by ``now_ms`` are
        left.  Call between commands (the server holds the lock).  On a journaled venue
        the progress is one deferred ``market`` line (:meth:`position`; replayed by
        :meth:`redo`), not a line per print: the prints follow from the parameters."""
        journal = self.exchange.journal
        if journal is None:
            return self._advance(now_ms, budget)
        before = (self.applied, self.reached)
        return journal.defer(  # type: ignore[no-any-return]
            "market", lambda: self._advance(now_ms, budget), self.position,
            lambda: (self.applied, self.reached) != before)

    def _advance(self, now_ms: int, budget: int | None) -> int:
        """:meth:`advance` itself.  Where it stops depends only on how many prints have
        been applied and ``now_ms`` — not on how the calls were split — so one
        ``market`` line replays any run of calls."""
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
        for feed in self.symbols.values():
            if len(feed.candles):
                feed.candles.fill_to(now_ms)
        self.reached = max(self.reached, now_ms)
        ex = self.exchange
        if not ex.pass_time(now_ms):  # the clock reaches now_ms with the market
            ex.set_time(now_ms)
        return now_ms

    def _print(self, feed: SymbolFeed, t: int, price: int, qty: int, maker: bool) -> None:
        ex, sym = self.exchange, feed.inst.symbol
        t = max(t, ex.now)
        candles = feed.candles
        minute = t // MINUTE_MS
        if feed.last_minute is not None and minute > feed.last_minute:
            # a minute closed: the mark moves to its close (the last print), whether or
            # not the candles were already filled to this minute
            ex.tape_mark(sym, int(candles.column("close")[-1]), t)
        feed.last_minute = minute
        ex.tape_ladder(sym, *ladder(feed.inst, price), t)  # around the print, then print
        ex.tape_trade(sym, price, qty, maker, t)
        feed.prints.add(t, price, qty, maker)
        candles.add_print(t, price, qty, maker)

    def _settle_funding_until(self, t: int) -> None:
        while (self._funded + 1) * FUNDING_MS <= t:
            self._funded += 1
            ex = self.exchange
            if not ex.pass_time(self._funded * FUNDING_MS):
                ex.set_time(self._funded * FUNDING_MS)
            for k, (sym, feed) in enumerate(self.symbols.items()):
                # each settlement's rate has its own stream: nothing to carry between them
                rng = np.random.default_rng([self.seed, 4, self._funded, k])
                rate = int(rng.integers(-5_000, 15_001))  # 10^-8: -0.005 … 0.015 %
                ex.settle_funding(sym, f"{rate}e-8")
                close = feed.candles.column("close")
                mark = int(close[-1]) if len(close) else feed.model.start_price_ticks
                feed.funding.append((self._funded * FUNDING_MS, rate, mark))
