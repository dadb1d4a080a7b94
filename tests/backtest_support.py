"""Seeded market data and test strategies for the backtest tests.

Streams are built in memory with numpy (the loaders have their own tests): trades
from :func:`engine.backtest.synthetic.random_walk_trades`, and quotes and marks
derived from them the way real data relates to trades (the touch just before a
print; the mark a tick or two around the last price at each minute).
"""

from __future__ import annotations

import random

import numpy as np

from engine import ClientError
from engine.backtest import Strategy
from engine.backtest.data import Kind, Stream
from engine.backtest.synthetic import START_MS, random_walk_trades

T0 = START_MS


def trades(n: int, seed: int, *, symbol: str = "BTCUSDT", start: int = 300_000,
           step: int = 3, gap: int = 40) -> Stream:
    return random_walk_trades(n, start, seed, symbol=symbol, max_step_ticks=step,
                              max_gap_ms=gap)


def tape(symbol: str, rows: list[tuple[int, int, int, bool]]) -> Stream:
    """A trade stream from ``(time, price_ticks, qty_lots, buyer_maker)`` rows."""
    t, p, q, m = zip(*rows, strict=True)
    return Stream(symbol, Kind.TRADE, np.array(t, dtype=np.int64),
                  {"price": np.array(p, dtype=np.int64), "qty": np.array(q, dtype=np.int64),
                   "buyer_maker": np.array(m, dtype=np.bool_)})


def quotes(symbol: str, rows: list[tuple[int, int, int, int, int]]) -> Stream:
    """A quote stream from ``(time, bid, bid_qty, ask, ask_qty)`` rows."""
    cols = list(zip(*rows, strict=True))
    return Stream(symbol, Kind.QUOTE, np.array(cols[0], dtype=np.int64),
                  {k: np.array(c, dtype=np.int64) for k, c in
                   zip(("bid", "bid_qty", "ask", "ask_qty"), cols[1:], strict=True)})


def marks(symbol: str, rows: list[tuple[int, int]]) -> Stream:
    t, p = zip(*rows, strict=True)
    return Stream(symbol, Kind.MARK, np.array(t, dtype=np.int64),
                  {"price": np.array(p, dtype=np.int64)})


def funding(symbol: str, rows: list[tuple[int, int]]) -> Stream:
    t, r = zip(*rows, strict=True)
    return Stream(symbol, Kind.FUNDING, np.array(t, dtype=np.int64),
                  {"rate_e8": np.array(r, dtype=np.int64)})


def quotes_for(tr: Stream, seed: int) -> Stream:
    """The touch at each print's time: the print at the bid (a sell) or the ask (a buy)."""
    rng = np.random.default_rng(seed)
    spread = rng.integers(1, 3, size=len(tr), dtype=np.int64)
    bid = np.where(tr.buyer_maker, tr.price, tr.price - spread)
    ask = np.where(tr.buyer_maker, tr.price + spread, tr.price)
    return Stream(tr.symbol, Kind.QUOTE, tr.time.copy(), {
        "bid": bid, "bid_qty": rng.integers(1, 60, size=len(tr), dtype=np.int64),
        "ask": ask, "ask_qty": rng.integers(1, 60, size=len(tr), dtype=np.int64)})


def marks_for(tr: Stream, seed: int, every_ms: int = 60_000) -> Stream:
    """A mark at each boundary: the last print before it, a couple of ticks off."""
    rng = np.random.default_rng(seed)
    first = (int(tr.time[0]) // every_ms + 1) * every_ms
    times = np.arange(first, int(tr.time[-1]) + 1, every_ms, dtype=np.int64)
    last = tr.price[np.searchsorted(tr.time, times, "left") - 1]
    return Stream(tr.symbol, Kind.MARK, times,
                  {"price": last + rng.integers(-2, 3, size=times.shape[0], dtype=np.int64)})


class Chaos(Strategy):
    """Seeded random trading on bars: orders near and far from the price, attached and
    standalone triggers on both working types, trailing stops, MARKET orders, cancels,
    countdowns.  Every refusal is counted, so any difference shows in the report."""

    bar_interval_ms = 5_000

    def __init__(self, **params):
        super().__init__(**params)
        self.rng = random.Random(int(params.get("seed", 1)))
        self.trailing = params.get("trailing", "1") == "1"
        self.qmax = int(params.get("qmax", 40))
        self.stats = {"updates": 0}
        self.updates: list[tuple[int, str, str]] = []

    def on_bar(self, bar):
        self.act(bar.symbol, bar.close)

    def on_order_update(self, order):
        self.stats["updates"] += 1
        self.updates.append((order["orderId"], order["status"], order["executedQty"]))

    def act(self, symbol: str, last: int) -> None:
        rng, c, inst = self.rng, self.client, self.instruments[symbol]
        px, q = inst.price_str, inst.qty_str
        side = rng.choice(("BUY", "SELL"))
        sign = 1 if side == "BUY" else -1
        wt = rng.choice(("MARK_PRICE", "CONTRACT_PRICE"))
        action = rng.randrange(12)
        try:
            if action <= 2:  # near the price, often with TP/SL
                price = last - sign * rng.randint(0, 6)
                extra = {}
                if rng.random() < 0.6:
                    extra = {"takeProfitPrice": px(price + sign * rng.randint(3, 30)),
                             "stopLossPrice": px(price - sign * rng.randint(3, 30)),
                             "tpslWorkingType": wt}
                c.new_order(symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                            quantity=q(rng.randint(1, self.qmax)), price=px(price), **extra)
            elif action == 3:  # far away
                c.new_order(symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                            quantity=q(rng.randint(1, self.qmax)),
                            price=px(last - sign * rng.randint(150, 400)))
            elif action == 4:
                c.new_order(symbol=symbol, side=side, type="MARKET",
                            quantity=q(rng.randint(1, self.qmax)))
            elif action == 5:  # a standalone stop, entry or protective
                c.new_order(symbol=symbol, side=side, type="STOP_MARKET", workingType=wt,
                            stopPrice=px(last + sign * rng.randint(2, 25)),
                            quantity=q(rng.randint(1, self.qmax)),
                            reduceOnly=rng.choice(("true", "false")))
            elif action == 6 and self.trailing:
                c.new_order(symbol=symbol, side=side, type="TRAILING_STOP_MARKET",
                            quantity=q(rng.randint(1, self.qmax)), callbackRate="0.1",
                            workingType=wt)
            elif action == 7:
                c.countdown_cancel_order(symbol=symbol,
                                         countdownTime=rng.choice((0, 1500, 4000, 20000)))
            elif action in (8, 9):
                open_orders = c.get_orders(symbol=symbol)
                if open_orders:
                    o = rng.choice(open_orders)
                    c.cancel_order(symbol=symbol, orderId=o["orderId"])
            elif action == 10 and rng.random() < 0.3:
                c.cancel_open_orders(symbol=symbol)
            else:  # a reduce-only limit at the touch
                c.new_order(symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                            quantity=q(rng.randint(1, self.qmax)), price=px(last - sign),
                            reduceOnly="true")
        except ClientError as e:
            key = f"error_{e.error_code}"
            self.stats[key] = self.stats.get(key, 0) + 1


class ChaosEveryTrade(Chaos):
    """:class:`Chaos` that also sees every trade, acting on one trade in ``every``."""

    def __init__(self, **params):
        super().__init__(**params)
        self.every = int(params.get("every", 97))
        self.seen = 0

    def on_trade(self, trade):
        self.seen += 1
        if self.seen % self.every == 0:
            self.act(trade.symbol, trade.price_ticks)


class Scripted(Strategy):
    """Runs ``plan[n](client)`` at the n-th trade (``plan[0]`` at start), keeps what each
    call answered (or the error code), and every order update."""

    def __init__(self, plan, every_trade: bool = True):
        super().__init__()
        self.plan = dict(plan)
        self.answers: list = []
        self.updates: list[dict] = []
        self.errors: list[tuple[int, int]] = []
        self.seen = 0

    def on_start(self):
        self._do(0)

    def on_trade(self, trade):
        self.seen += 1
        self._do(self.seen)

    def on_order_update(self, order):
        self.updates.append(order)
        if order["status"] == "EXPIRED" and "parentOrderId" in order:
            try:  # the position it protected is gone: the venue says -2092
                self.client.cancel_order(symbol=order["symbol"], orderId=order["orderId"])
            except ClientError as e:
                self.errors.append((order["orderId"], e.error_code))

    def _do(self, n):
        action = self.plan.get(n)
        if action is None:
            return
        try:
            self.answers.append(action(self.client))
        except ClientError as e:
            self.answers.append(e.error_code)


class StartOnly(Scripted):
    """:class:`Scripted` with only the start action, so the replay may skip ahead."""

    on_trade = Strategy.on_trade
