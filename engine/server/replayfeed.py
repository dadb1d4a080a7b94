"""``fapisim serve --replay DATA``: Binance public-data files served as a live market.

The files ``fapisim backtest`` reads (aggTrades or trades, bookTicker,
markPriceKlines, fundingRate; csv or zip, :mod:`engine.backtest.data`; klines are
read and checked but not replayed — the trades make the candles) become a
:class:`ReplayFeed`, a :class:`~engine.server.marketfeed.MarketFeed` whose events are
the files' rows in their merge order:

* **rebased to now**: the data's ``start`` (a time in the data) is mapped onto the
  venue's ``now`` (whole minutes moved, so candles stay on minute boundaries):
  every event is applied when the venue clock reaches its time plus that offset,
  and every time the endpoints answer is rebased the same way (the data's start
  point lands up to a minute before now, so the first turn applies that bit of
  data at once).  So a bot that
  trusts its wall clock sees a live market at ``--speed 1``; at ``--speed 10`` the
  venue clock (and so every candle and trade time) runs ahead of the wall clock,
  ten minutes of market per minute (SPEC 9).  Funding times move with the offset:
  they fall where the data has them, shifted;
* **history**: the data in ``[start - warmup, start)`` is served at once, built
  vectorised — 1-minute candles from its trades and its trades as aggregate trades —
  and applies nothing to the venue, so a bot's start-up candle download succeeds;
  funding settled then is listed by ``fundingRate``;
* **live**, from ``start`` on: a trade is a print (the tape's ladder around it, then
  the print, :meth:`~engine.server.marketfeed.MarketFeed._print`); a bookTicker row
  moves the ladder to its mid; a markPriceKlines bar's close is the mark at its close
  time (a symbol without them takes each minute's last trade as the mark); a
  fundingRate row settles funding at its time;
* **the end**: when the data runs out the venue keeps serving its final state; the
  server's log and the operator's status (``market.ended``) say so.

Defaults: ``start`` is the data's first trade plus ``warmup``, but at most its
middle, so at least half the data is served live; ``warmup`` is 500 hours (the 500
one-hour candles bots download at start) or, with ``start`` given, everything before
it up to 500 hours.  Every symbol the files carry is listed, with its figures from
:mod:`engine.core.listing`.

Determinism: the feed is a function of the files and ``(now_ms, start, warmup)``;
:attr:`params` records them with each file's SHA-256, so ``--state`` journals the
feed's position only and a resume refuses files that changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.backtest.data import Kind, Stream, infer, load, merge
from engine.backtest.data import data_files as find_files
from engine.backtest.marketdata import MINUTE_MS, Candles, Prints
from engine.server.marketfeed import MarketFeed, SymbolMarket, ladder

if TYPE_CHECKING:
    from engine.venue.exchange import Exchange

__all__ = ["DEFAULT_WARMUP_MS", "ReplayFeed", "data_files", "data_symbols"]

#: history served before the start point by default: 500 one-hour candles
DEFAULT_WARMUP_MS = 500 * 3_600_000


def data_files(paths: Sequence[str | Path]) -> list[Path]:
    """The data files ``paths`` name (:func:`engine.backtest.data.data_files`), as
    absolute paths (a resumed venue finds them from anywhere); ``ValueError`` for a
    path that is not there, or none at all."""
    for p in map(Path, paths):
        if not (p.is_file() or p.is_dir()):
            raise ValueError(f"--replay {p}: no such file or directory")
    out = [f.absolute() for f in find_files([Path(p).absolute() for p in paths])]
    if not out:
        raise ValueError(f"--replay {' '.join(map(str, paths))}: no .csv or .zip data files")
    return out


def data_symbols(files: Sequence[Path]) -> list[str]:
    """The symbols the files carry, by their names, in first-seen order."""
    return list(dict.fromkeys(infer(f.name)[0] for f in files))


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class ReplayFeed(MarketFeed):
    """Data files replayed onto ``exchange`` (see the module docstring).  ``files``: the
    data files (:func:`data_files`); ``now_ms``: the venue time ``start`` maps to;
    ``start``, ``warmup_ms``: None for the defaults; ``digests``: the SHA-256 each file
    must have (a resume), else computed; ``fill``, ``queue``: the backtest's fill
    rule.  ``ValueError`` (a :class:`~engine.backtest.data.DataError` names file, line
    and reason) on data that cannot be served."""

    kind = "replay"

    def __init__(self, exchange: Exchange, *, files: Sequence[str | Path], now_ms: int,
                 start: int | None = None, warmup_ms: int | None = None,
                 digests: Sequence[str] | None = None, fill: str = "through",
                 queue: bool = False, open_venue: bool = True) -> None:
        super().__init__(exchange, now_ms, fill, queue)
        paths = [Path(f) for f in files]
        sums = [_digest(p) for p in paths]
        if digests is not None and list(digests) != sums:
            changed = [str(p) for p, a, b in zip(paths, sums, digests, strict=True) if a != b]
            raise ValueError(f"the replayed data changed since the venue started: "
                             f"{', '.join(changed) or 'the file list'}")
        # klines are read (and checked) but not replayed: the trades make the candles
        streams = [s for s in load(paths, exchange.instruments, round_mark=True)
                   if s.kind is not Kind.KLINE]
        trades = {s.symbol: s for s in streams if s.kind is Kind.TRADE}
        missing = [sym for sym in exchange.instruments if sym not in trades]
        if missing:
            raise ValueError(f"no aggTrades or trades for {', '.join(missing)} in the "
                             "replayed data")
        first = min(int(s.time[0]) for s in trades.values())
        last = max(int(s.time[-1]) for s in trades.values())
        if start is None:
            start = first + min(DEFAULT_WARMUP_MS if warmup_ms is None else warmup_ms,
                                (last - first) // 2)
        if not first <= start <= last:
            raise ValueError(f"--start {start} is outside the data's trades ({first} … {last})")
        warm = DEFAULT_WARMUP_MS if warmup_ms is None else warmup_ms
        if warm < 0:
            raise ValueError("--warmup must not be negative")
        self.start, self.warmup = start, warm
        #: venue time minus data time: whole minutes, the start point at most a minute
        #: before now (candles keep the data's minutes)
        self.offset = (now_ms // MINUTE_MS - start // MINUTE_MS) * MINUTE_MS
        if start + self.offset > now_ms:
            self.offset -= MINUTE_MS
        self.params = {"kind": "replay", "files": [str(p) for p in paths], "digests": sums,
                       "now_ms": now_ms, "start": start, "warmup_ms": warm, "fill": fill,
                       "queue": queue}
        self._timeline = merge(streams)
        t = self._timeline.time
        self._next = int(np.searchsorted(t, start, "left"))
        self._kinds = [s.kind for s in streams]
        #: each symbol's funding times, rebased
        self._funding_times = {s.symbol: s.time + self.offset for s in streams
                               if s.kind is Kind.FUNDING}
        self._stream_symbols = [s.symbol for s in streams]
        opening = []
        for sym, inst in exchange.instruments.items():
            feed = SymbolMarket(inst, 0)
            feed.own_marks = any(s.symbol == sym and s.kind is Kind.MARK for s in streams)
            self._history(feed, trades[sym], [s for s in streams if s.symbol == sym
                                              and s.kind is Kind.FUNDING])
            tr = trades[sym]
            before = int(np.searchsorted(tr.time, start, "left"))
            feed.open_ticks = int(tr.price[max(0, before - 1)])
            self.symbols[sym] = feed
            opening.append((inst, feed.open_ticks))
        # the venue opens at the start point, rebased (up to a minute before now), so
        # the data from there to now keeps its times
        self.reached = start + self.offset
        if open_venue:
            self._open(self.reached, opening)

    def _history(self, feed: SymbolMarket, trades: Stream, funding: list[Stream]) -> None:
        """Candles and aggregate trades of the data in ``[start - warmup, start)``."""
        a = int(np.searchsorted(trades.time, self.start - self.warmup, "left"))
        b = int(np.searchsorted(trades.time, self.start, "left"))
        if a >= b:
            return
        t = trades.time[a:b] + self.offset
        price, qty, maker = trades.price[a:b], trades.qty[a:b], trades.buyer_maker[a:b]
        prints = Prints()
        prints.extend(t, price, qty, maker, np.ones(b - a, np.int64))
        feed.prints = prints
        feed.candles = minute_candles(t, price, qty, maker)
        feed.last_minute = int(t[-1]) // MINUTE_MS
        for s in funding:
            lo = int(np.searchsorted(s.time, self.start - self.warmup, "left"))
            hi = int(np.searchsorted(s.time, self.start, "left"))
            closes = feed.candles.column("close")
            opens = feed.candles.column("open_time")
            for k in range(lo, hi):
                at = int(s.time[k]) + self.offset
                i = int(np.searchsorted(opens, at, "right")) - 1
                feed.funding.append((at, int(s.rate_e8[k]), int(closes[max(0, i)])))

    def next_print_time(self) -> int:
        """The venue time of the next trade not yet applied (the last one's when the data
        has run out)."""
        tl = self._timeline
        for i in range(self._next, len(tl)):
            if self._kinds[int(tl.stream_index[i])] is Kind.TRADE:
                return int(tl.time[i]) + self.offset
        return self.reached

    def next_funding_time(self, symbol: str, now_ms: int) -> int:
        """The data's next funding row of ``symbol`` after ``now_ms`` (rebased); the
        8-hour grid when the data has none left."""
        times = self._funding_times.get(symbol)
        if times is not None:
            i = int(np.searchsorted(times, now_ms, "right"))
            if i < len(times):
                return int(times[i])
        return super().next_funding_time(symbol, now_ms)

    def _advance(self, now_ms: int, budget: int | None) -> int:
        """:meth:`~engine.server.marketfeed.MarketFeed.advance` itself; where it stops
        depends only on the prints applied and ``now_ms``."""
        tl, offset = self._timeline, self.offset
        times, index, rows = tl.time, tl.stream_index, tl.row_index
        cutoff = now_ms - offset
        applied = 0
        i, n = self._next, len(tl)
        while i < n and int(times[i]) <= cutoff:
            k = int(index[i])
            kind, row = self._kinds[k], int(rows[i])
            s = tl.streams[k]
            feed = self.symbols[self._stream_symbols[k]]
            at = int(times[i]) + offset
            if kind is Kind.TRADE:
                if budget is not None and applied >= budget:
                    self._next = i
                    self.applied += applied
                    self.reached = max(self.reached, self.exchange.now)
                    return self.reached
                self._print(feed, at, int(s.price[row]), int(s.qty[row]),
                            bool(s.buyer_maker[row]))
                applied += 1
            elif kind is Kind.MARK:
                self.exchange.tape_mark(feed.inst.symbol, int(s.price[row]),
                                        max(at, self.exchange.now))
            elif kind is Kind.QUOTE:
                mid = (int(s.bid[row]) + int(s.ask[row])) // 2
                if mid > 0:
                    self.exchange.tape_ladder(feed.inst.symbol, *ladder(feed.inst, mid),
                                              max(at, self.exchange.now))
            elif kind is Kind.FUNDING:
                self._settle(max(at, self.exchange.now),
                             [(feed.inst.symbol, int(s.rate_e8[row]))])
            i += 1
        self._next = i
        self.applied += applied
        self.ended = i >= n
        return self._finish(now_ms)

    # -- a state file ------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"next": self._next}

    def _load_state(self, state: Any) -> Callable[[], None]:
        nxt = state["next"]
        if type(nxt) is not int or not 0 <= nxt <= len(self._timeline):
            raise ValueError("not this replay's position")

        def take() -> None:
            self._next = nxt
            self.ended = nxt >= len(self._timeline)

        return take


def minute_candles(t: np.ndarray, price: np.ndarray, qty: np.ndarray,
                   maker: np.ndarray) -> Candles:
    """1-minute candles of trades (time-ordered), every minute from the first trade's
    to the last's; a minute without trades is flat at the last close."""
    minute = t // MINUTE_MS
    starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]])
    ends = np.r_[starts[1:], len(t)] - 1
    present = minute[starts]
    first, last = int(present[0]), int(present[-1])
    span = last - first + 1
    slot = present - first
    high = np.maximum.reduceat(price, starts)
    low = np.minimum.reduceat(price, starts)
    volume = np.add.reduceat(qty, starts)
    taker = np.add.reduceat(np.where(maker, 0, qty), starts)
    quote = np.add.reduceat(qty * price, starts)
    taker_quote = np.add.reduceat(np.where(maker, 0, qty * price), starts)
    count = np.diff(np.r_[starts, len(t)])
    # every minute takes the last present minute at or before it; absent ones are flat
    at = np.zeros(span, np.int64)
    at[slot] = np.arange(len(slot))
    np.maximum.accumulate(at, out=at)
    here = np.zeros(span, bool)
    here[slot] = True
    close_all = price[ends][at]

    def col(values: np.ndarray, flat: np.ndarray | int) -> np.ndarray:
        return np.where(here, values[at], flat)

    candles = Candles()
    times = (first + np.arange(span, dtype=np.int64)) * MINUTE_MS
    candles.extend(times, col(price[starts], close_all), col(high, close_all),
                   col(low, close_all), close_all, col(volume, 0), col(count, 0),
                   quote=col(quote, 0), taker_volume=col(taker, 0),
                   taker_quote=col(taker_quote, 0))
    return candles
