"""The replay loop: merged market data through the venue and a strategy, event by event.

The loop owns no rule.  It sequences events into the venue's tape commands
(:mod:`engine.venue.tape`: ``tape_trade``, ``tape_quote``, ``tape_mark``;
:mod:`engine.venue.risk`: ``settle_funding``), calls the strategy's callbacks
(:mod:`engine.backtest.strategy`), and decides which events it may skip.

Per event, in order
-------------------
1. *time stops* (an event at or after the next boundary): sample the equity
   curve (wallet + unrealized PnL at mark, labelled with the boundary), then
   deliver every bar that closed (``on_bar``);
2. apply the event: a trade → ``tape_trade``; a quote → ``tape_quote``; a mark →
   ``tape_mark``; a funding time → move the clock there, ``settle_funding``;
3. deliver order updates (``on_order_update``) until none are left;
4. a trade, when the strategy overrides ``on_trade``: ``on_trade``, then 3 again.

Fast path (skip ahead)
----------------------
Unless the strategy wants every trade, the loop stops only where something
can happen, found by a vectorised scan over the per-event price array: a print
outside its symbol's band (:func:`engine.venue.tapeloop.replay_band`: no resting
order, armed trigger — a trailing stop's activation, new extreme or firing
price included — or liquidation price inside), a mark or a funding time,
and the first event at or after the next time stop (bar close, equity sample,
countdown-cancel deadline, GTD expiry).  Quotes do not stop the scan: a quote only sets
the quote (and the clock), which matters to an order placed or taking
liquidity later — at a stop, after the skipped run is applied.  The events
skipped before a stop are applied at once by :func:`engine.venue.tapeloop.skip_run`
(the last print and the last quote of each symbol, and the count of updates
stepping would have made), so the venue, the callbacks and the report are
exactly those of stepping every event (``fast=False``) — a test compares both.

When the strategy does want every trade, each print still reaches Python, but
one inside its band is applied with the venue's cheaper touch
(:meth:`~engine.venue.tape.Tape.toucher`: ``tape_touch``'s writes without the command).

Bands are recomputed only after something that can move them: a print outside
the band, a mark, funding, a countdown deadline or GTD expiry, or a callback
that changed the venue (its update counter moved).

What still stops the scan
-------------------------
* *a strategy overriding* ``on_trade`` (it sees every print, by design: the
  every-trade loop above, touching in-band prints), and ``fast=False``;
* *marks and funding times*: each moves a price or money that triggers,
  liquidation and the equity read;
* *time stops*: the equity sample (one per ``equity_interval_ms``), each bar
  close when the strategy overrides ``on_bar``, each countdown deadline and GTD
  expiry (the clock alone changes the venue there; a stop delivers it when
  stepping would);
* *a narrow or empty band*: a print that would fill a resting order, fire a
  trigger, activate a trailing stop or move its extreme (an activated trailing
  stop's band ends at the extreme so far: every new high of a sell's, low of a
  buy's, is a stop), or liquidate — each such print is a stop by definition;
* *cross margin across symbols without marks*: an account holding cross
  positions on two symbols neither of which has mark data (each mark is its own
  last price) gets no band on either (:func:`~engine.venue.tapeloop.replay_band`
  returns None, every print of them is stepped): a print of one moves the other's
  liquidation price, and a skipped run moves both at once.  A band safe for the
  pair would bound each liquidation price over the other symbol's whole band,
  whose own liquidation bound depends on the first — not done; give the symbols
  mark data (markPriceKlines), or use isolated margin, which keeps bands.

Performance
-----------
A scan costs a few numpy passes over a chunk of the price array; chunks grow
geometrically while nothing stops, so a quiet stretch of n events costs
O(n) in numpy and O(log n) in Python: 5 million aggTrades replay in about
0.2 s when the strategy trades rarely.  Per event in the every-trade mode the
cost is the touch (a few attribute writes), one :class:`~engine.backtest.strategy.Trade`
and the callback: about 0.5 µs with an empty ``on_trade``, 37–39 % of a bare loop that
builds the same ``Trade`` and calls the same method.  See benchmarks/test_targets.py
(``noop_on_trade``) and benchmarks/test_backtest_replay.py.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.backtest.data import Kind, Stream, Timeline, merge
from engine.backtest.strategy import Bar, Strategy, Trade, overrides
from engine.backtest.synthetic import fixed_str
from engine.venue.tapeloop import (
    OrderWatch,
    last_prices,
    margin_balance_e8,
    next_deadline,
    print_calls,
    replay_band,
    skip_run,
    update_counter,
    update_id,
)

if TYPE_CHECKING:
    from engine.venue.exchange import Exchange

_TRADE, _QUOTE, _MARK, _FUNDING = 0, 1, 2, 3
_KIND_CODE = {Kind.TRADE: _TRADE, Kind.QUOTE: _QUOTE, Kind.MARK: _MARK, Kind.FUNDING: _FUNDING}
#: the price-array entry of a quote: outside every band, but skippable (see _scan)
_QUOTE_MARK = -2
#: far beyond any clock (ms): "no time stop"
_NEVER = 1 << 62
#: scan chunk bounds (events): small after a near stop, growing while nothing stops
_CHUNK_MIN, _CHUNK_MAX = 64, 1 << 20
#: rows per Python-list block in the every-trade loop (bounds memory of .tolist())
_BLOCK = 1 << 16
#: order updates delivered after one event before the loop gives up (a strategy that
#: answers every update with a new order would otherwise never return)
_UPDATE_LIMIT = 100_000


class Replay:
    """One backtest replay of ``streams`` through ``ex`` for ``strategy`` on ``account``.

    ``streams``: trade, quote, mark and funding streams (kline streams are not
    replayed; bars come from the trades).  ``fast``: skip ahead where nothing
    can happen (False: step every event; the result is the same).
    ``equity_interval_ms``: the equity curve's sampling period.  ``progress``:
    an object with ``update(n)`` and ``close()`` (or None).
    """

    def __init__(
        self, ex: Exchange, streams: Sequence[Stream], strategy: Strategy, account: str, *,
        fast: bool = True, equity_interval_ms: int = 60_000, progress: Any = None,
    ) -> None:
        if equity_interval_ms < 1:
            raise ValueError(f"equity_interval_ms must be ≥ 1, not {equity_interval_ms}")
        self.ex = ex
        self.strategy = strategy
        self.account = account
        self.fast = fast
        self.progress = progress
        self.streams = [s for s in streams if s.kind in _KIND_CODE]
        self.symbols = sorted({s.symbol for s in self.streams})
        self._code = {s: k for k, s in enumerate(self.symbols)}
        self.instruments = ex.instruments
        self.timeline = _timeline(self.streams)
        self._arrays()
        self.wants_trades = overrides(strategy, "on_trade")
        self.wants_bars = overrides(strategy, "on_bar")
        self.wants_updates = overrides(strategy, "on_order_update")
        self._bars = self._make_bars(strategy.bar_interval_ms) if self.wants_bars else []
        self._next_bar = 0
        self._equity_ms = equity_interval_ms
        self._next_sample = _NEVER
        #: (time_ms, margin balance e8) samples of the strategy's account
        self.equity: list[tuple[int, int]] = []
        self._marked = {s: False for s in self.symbols}
        self._watch = OrderWatch(ex, account)
        self._deadline = _NEVER
        self._time_stop = _NEVER
        self._tstop_at = (-1, 0)  # (time_stop, first event index at or after it)
        self._bands_ok = False
        self._lo = np.zeros(len(self.symbols), dtype=np.int64)
        self._hi = np.zeros(len(self.symbols), dtype=np.int64)
        self._band_list: list[tuple[int, int]] = []
        self._chunk = _CHUNK_MIN
        self._done = 0
        #: events the loop applied one by one (the rest were skipped in runs)
        self.stops = 0

    # -- set-up ---------------------------------------------------------------------------
    def _arrays(self) -> None:
        """Per-event arrays over the timeline: kind, symbol code, trade price/qty/side."""
        tl = self.timeline
        n = len(tl)
        self.n = n
        self.time = tl.time
        self._one_symbol = len(self.symbols) == 1
        self._has_quotes = False
        if len(self.streams) == 1 and self.streams[0].kind is Kind.TRADE:
            # one trade stream: the timeline is the stream itself, so its columns serve
            # as they are (no gather: half the set-up time of a 5M-event replay)
            s = self.streams[0]
            self.kind = self.sym = np.zeros(n, dtype=np.int64)
            self.price, self.qty, self.bm = s.price, s.qty, s.buyer_maker
            return
        kind = np.zeros(n, dtype=np.int64)
        sym = np.zeros(n, dtype=np.int64)
        price = np.full(n, -1, dtype=np.int64)  # -1: never inside a band (a stop)
        qty = np.zeros(n, dtype=np.int64)
        bm = np.zeros(n, dtype=np.bool_)
        for k, s in enumerate(self.streams):
            mine = np.flatnonzero(tl.stream_index == k)
            kind[mine] = _KIND_CODE[s.kind]
            sym[mine] = self._code[s.symbol]
            if s.kind is Kind.TRADE:
                rows = tl.row_index[mine]
                price[mine] = s.price[rows]
                qty[mine] = s.qty[rows]
                bm[mine] = s.buyer_maker[rows]
            elif s.kind is Kind.QUOTE:
                price[mine] = _QUOTE_MARK
                self._has_quotes = True
        self.kind, self.sym, self.price, self.qty, self.bm = kind, sym, price, qty, bm

    def _make_bars(self, interval: int) -> list[Bar]:
        """Every bar of every symbol's trades, by (close, symbol); the loop delivers those
        that close before the data ends."""
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f"bar_interval_ms must be an int ≥ 1, not {interval!r}")
        out: list[tuple[int, int, Bar]] = []
        for s in self.streams:
            if s.kind is not Kind.TRADE or len(s) == 0:
                continue
            inst = self.instruments[s.symbol]
            bar_id = s.time // interval
            starts = np.concatenate(([0], np.flatnonzero(np.diff(bar_id)) + 1))
            ends = np.concatenate((starts[1:], [len(s)]))
            cols = (
                (bar_id[starts] * interval).tolist(), s.price[starts].tolist(),
                np.maximum.reduceat(s.price, starts).tolist(),
                np.minimum.reduceat(s.price, starts).tolist(), s.price[ends - 1].tolist(),
                np.add.reduceat(s.qty, starts).tolist(), (ends - starts).tolist(),
            )
            code = self._code[s.symbol]
            for t0, o, h, lo, c, v, count in zip(*cols, strict=True):
                out.append((t0 + interval, code, Bar(inst, t0, t0 + interval - 1, o, h, lo, c,
                                                      v, count)))
        out.sort(key=_bar_key)
        return [b for _end, _code, b in out]

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        """Replay every event: on_start, the events, on_end (see the module docstring)."""
        ex, strategy = self.ex, self.strategy
        start = int(self.time[0]) if self.n else ex.now
        self._sample(ex.now)
        self._next_sample = (start // self._equity_ms + 1) * self._equity_ms
        self._callback(strategy.on_start)
        self._refresh()
        if not self.fast:
            for j in range(self.n):
                self._stop(j)
                if j - self._done >= _BLOCK:
                    self._progress(j)
        elif self.wants_trades:
            self._every_trade()
        else:
            self._skipping()
        self._progress(self.n)
        self._callback(strategy.on_end)
        self._sample(ex.now)

    def _skipping(self) -> None:
        i, n = 0, self.n
        while i < n:
            if not self._bands_ok:
                self._bands()
            j = self._scan(i)
            if j > i:
                self._skip(i, j)
            if j == n:
                break
            self._stop(j)
            i = j + 1
            if i - self._done >= _BLOCK:
                self._progress(i)

    def _every_trade(self) -> None:
        ex, strategy = self.ex, self.strategy
        insts = [self.instruments[s] for s in self.symbols]
        names = self.symbols
        touches, tape_trade = print_calls(ex, names)
        counter = update_counter(ex)
        on_trade = strategy.on_trade
        # the loop's state in locals, re-read after any call that may change it (a time
        # stop, a stop of the loop, a callback that changed the venue): 2 % fewer instructions
        # per print than reading them as attributes (benchmarks/count_instructions.py,
        # backtest_every_trade)
        bands, time_stop, deadline = self._state_now()
        for a in range(0, self.n, _BLOCK):
            b = min(self.n, a + _BLOCK)
            self._progress(a)
            cols = (self.time[a:b].tolist(), self.kind[a:b].tolist(), self.sym[a:b].tolist(),
                    self.price[a:b].tolist(), self.qty[a:b].tolist(), self.bm[a:b].tolist())
            j = a - 1
            for t, k, s, p, q, m in zip(*cols, strict=True):
                j += 1
                if k != _TRADE:
                    self._stop(j)
                    bands, time_stop, deadline = self._state_now()
                    continue
                if t >= time_stop:
                    self._timed(t)
                    bands, time_stop, deadline = self._state_now()
                lo, hi = bands[s]
                if lo <= p <= hi and t < deadline:
                    touches[s](p, t)
                else:
                    self.stops += 1
                    tape_trade(names[s], p, q, m, t)
                    self._changed()
                    bands, time_stop, deadline = self._state_now()
                uid = counter.update_id  # tapeloop.update_id, inlined on this hot path
                on_trade(Trade(insts[s], t, p, q, m))
                if counter.update_id != uid:
                    self._changed()
                    bands, time_stop, deadline = self._state_now()

    def _state_now(self) -> tuple[list[tuple[int, int]], int, int]:
        """The every-trade loop's locals: the bands (recomputed if stale), the next time
        stop and the deadline."""
        if not self._bands_ok:
            self._bands()
        return self._band_list, self._time_stop, self._deadline

    # -- scanning and skipping --------------------------------------------------------------
    def _bands(self) -> None:
        bands = []
        for k, s in enumerate(self.symbols):
            band = replay_band(self.ex, s, self._marked)
            lo, hi = (1, 0) if band is None else band
            self._lo[k], self._hi[k] = lo, hi
            bands.append((lo, hi))
        self._band_list = bands
        self._bands_ok = True

    def _scan(self, i: int) -> int:
        """The first event at or after ``i`` the loop must stop at (``n`` if none)."""
        stop_t = self._time_stop
        if self._tstop_at[0] != stop_t:
            self._tstop_at = (stop_t, int(np.searchsorted(self.time, stop_t, "left")))
        limit = max(i, self._tstop_at[1])
        price, chunk = self.price, self._chunk
        a = i
        while a < limit:
            b = min(limit, a + chunk)
            p = price[a:b]
            if self._one_symbol:
                bad = (p < self._lo[0]) | (p > self._hi[0])
            else:
                codes = self.sym[a:b]
                bad = (p < self._lo[codes]) | (p > self._hi[codes])
            if self._has_quotes:
                bad &= p != _QUOTE_MARK  # a quote never stops the scan (see _skip)
            k = int(bad.argmax())
            if bad[k]:
                self._chunk = min(_CHUNK_MAX, max(_CHUNK_MIN, 2 * (a + k - i)))
                return a + k
            a = b
            chunk = min(_CHUNK_MAX, chunk * 4)
        self._chunk = chunk
        return limit

    def _skip(self, i: int, j: int) -> None:
        """Apply events ``i..j-1`` — prints inside their band, and quotes — as stepping
        them would have: the last print and quote of each symbol, and the update count."""
        ex = self.ex
        if j - i == 1:  # one event: its own command counts its update as stepping would
            if self.kind[i] == _TRADE:
                ex.tape_touch(self.symbols[int(self.sym[i])], int(self.price[i]),
                              int(self.time[i]))
            else:
                skip_run(ex, [self._quote(i)], 1)
            return
        ts, ps = self.time[i:j], self.price[i:j]
        before = np.empty(j - i, dtype=np.int64)
        before[0] = ex.now
        before[1:] = ts[:-1]
        changed = ts > before  # an event moving the clock is an update
        codes = self.sym[i:j]
        last_events: list[tuple[int, tuple]] = []
        if self._has_quotes:
            quoted = ps == _QUOTE_MARK
            changed |= quoted  # every quote is an update
            if self._one_symbol:
                where = np.flatnonzero(quoted)
                if where.shape[0]:
                    last_events.append((int(where[-1]), self._quote(i + int(where[-1]))))
            else:
                for c in np.unique(codes[quoted]).tolist():
                    k = int(np.flatnonzero(quoted & (codes == c))[-1])
                    last_events.append((k, self._quote(i + k)))
            traded = ~quoted
        present = [0] if self._one_symbol else np.unique(codes).tolist()
        last = last_prices(ex, [self.symbols[c] for c in present])
        for c in present:
            if self._has_quotes:
                idx = np.flatnonzero(traded if self._one_symbol else traded & (codes == c))
            elif self._one_symbol:
                idx = np.arange(j - i)
            else:
                idx = np.flatnonzero(codes == c)
            if not idx.shape[0]:
                continue
            mine = ps[idx]
            prior = last[self.symbols[c]]
            prev = np.empty(mine.shape[0], dtype=np.int64)
            prev[0] = -1 if prior is None else prior
            prev[1:] = mine[:-1]
            changed[idx] |= mine != prev  # a print moving its symbol's last price too
            k = int(idx[-1])
            last_events.append((k, ("trade", self.symbols[c], int(ts[k]), int(mine[-1]))))
        last_events.sort(key=_first)
        skip_run(ex, [e for _k, e in last_events], int(changed.sum()))

    def _quote(self, j: int) -> tuple:
        s = self.streams[int(self.timeline.stream_index[j])]
        row = int(self.timeline.row_index[j])
        return ("quote", s.symbol, int(self.time[j]), int(s.bid[row]), int(s.bid_qty[row]),
                int(s.ask[row]), int(s.ask_qty[row]))

    # -- one event, applied in full -----------------------------------------------------------
    def _stop(self, j: int) -> None:
        self.stops += 1
        ex = self.ex
        t = int(self.time[j])
        if t >= self._time_stop:
            self._timed(t)
        kind = int(self.kind[j])
        symbol = self.symbols[int(self.sym[j])]
        if kind == _TRADE:
            p, q, m = int(self.price[j]), int(self.qty[j]), bool(self.bm[j])
            ex.tape_trade(symbol, p, q, m, t)
            self._changed()
            if self.wants_trades:
                self._callback(self.strategy.on_trade,
                               Trade(self.instruments[symbol], t, p, q, m))
            return
        s = self.streams[int(self.timeline.stream_index[j])]
        row = int(self.timeline.row_index[j])
        if kind == _QUOTE:
            _kind, _symbol, _t, bid, bid_qty, ask, ask_qty = self._quote(j)
            ex.tape_quote(symbol, bid, bid_qty, ask, ask_qty, t)
            if t >= self._deadline:
                self._changed()
            return
        if kind == _MARK:
            ex.tape_mark(symbol, int(s.price[row]), t)
            self._marked[symbol] = True
        else:
            ex.set_time(t)
            ex.settle_funding(symbol, fixed_str(int(s.rate_e8[row]), 8, 8))
        self._changed()

    def _timed(self, t: int) -> None:
        """Time stops due at ``t``: the equity sample, then closed bars (before the event)."""
        if t >= self._next_sample:
            label = t // self._equity_ms * self._equity_ms
            self._sample(label)
            self._next_sample = label + self._equity_ms
        bars = self._bars
        while self._next_bar < len(bars) and bars[self._next_bar].close_time < t:
            bar = bars[self._next_bar]
            self._next_bar += 1
            self._callback(self.strategy.on_bar, bar)
        self._refresh()

    def _sample(self, label: int) -> None:
        self.equity.append((label, margin_balance_e8(self.ex, self.account)))

    # -- after anything that may have changed the venue ---------------------------------------
    def _callback(self, fn: Any, *args: Any) -> None:
        uid = update_id(self.ex)
        fn(*args)
        if update_id(self.ex) != uid:
            self._changed()

    def _changed(self) -> None:
        """Deliver order updates until none are left; bands and deadline are stale.

        Updates are the account's order events from the venue's event log, in the
        order they happened (:class:`~engine.venue.tapeloop.OrderWatch`); those a
        callback causes are read right after it and queued behind the rest.  A strategy
        that does not override ``on_order_update`` gets none, and none are built
        (benchmarks/test_targets.py, ``market_maker_cycle``)."""
        ex, watch, on_update = self.ex, self._watch, self.strategy.on_order_update
        if self.wants_updates:
            queue = deque(watch.changes())
        else:
            watch.skip()
            queue = deque()
        delivered = 0
        while queue:
            if delivered == _UPDATE_LIMIT:
                raise RuntimeError(f"{type(self.strategy).__name__}: order updates did not "
                                   f"settle after {_UPDATE_LIMIT} calls of on_order_update")
            uid = update_id(ex)
            on_update(queue.popleft())
            delivered += 1
            if update_id(ex) != uid:
                queue.extend(watch.changes())
        self._bands_ok = False
        self._refresh()

    def _refresh(self) -> None:
        """Recompute the next time stop: countdown deadline or GTD expiry, equity sample,
        bar close."""
        deadline = next_deadline(self.ex)
        self._deadline = _NEVER if deadline is None else deadline
        bar = (self._bars[self._next_bar].close_time + 1 if self._next_bar < len(self._bars)
               else _NEVER)
        self._time_stop = min(self._deadline, self._next_sample, bar)

    def _progress(self, i: int) -> None:
        if self.progress is not None and i > self._done:
            self.progress.update(i - self._done)
        self._done = max(self._done, i)


def _bar_key(entry: tuple[int, int, Bar]) -> tuple[int, int]:
    return entry[0], entry[1]


def _first(entry: tuple[int, tuple]) -> int:
    return entry[0]


def _timeline(streams: list[Stream]) -> Timeline:
    """:func:`~engine.backtest.data.merge`, short-cut for one stream (already in order)."""
    if len(streams) == 1:
        s = streams[0]
        return Timeline((s,), s.time, np.zeros(len(s), dtype=np.int64),
                        np.arange(len(s), dtype=np.int64))
    return merge(streams)
