"""Binance's USDⓈ-M market stream names: what each means, its category and its cadence.

A name is parsed once, when a connection subscribes (:func:`parse_stream`); the
hub (:mod:`~engine.server.hub`) then keys subscriptions by the name exactly as
sent.  Symbols are lower case in names (``btcusdt@aggTrade``), as Binance's.

=====================================  ========  ===============================
name                                   category  sent
=====================================  ========  ===============================
``<s>@aggTrade``                       market    each print of the market
``<s>@trade``                          public    each print (one trade per aggregate)
``<s>@markPrice`` / ``@markPrice@1s``  market    every 3 s / 1 s
``!markPrice@arr`` (``@1s``)           market    every 3 s / 1 s, all symbols
``<s>@kline_<i>``                      market    every 250 ms (the open candle)
``<pair>_perpetual@continuousKline_<i>`` market  every 250 ms
``<s>@miniTicker`` / ``<s>@ticker``    market    every 2 s
``!miniTicker@arr`` / ``!ticker@arr``  market    every 1 s, all symbols
``<s>@forceOrder``, ``!forceOrder@arr`` market   each liquidation
``<s>@bookTicker``, ``!bookTicker``    public    each change of the best levels
``<s>@depth<5|10|20>[@100ms|@500ms]``  public    every 250 ms (or as named)
``<s>@depth[@100ms|@500ms]``           public    every 250 ms (or as named), diffs
=====================================  ========  ===============================

Intervals are Binance's (1m … 1M).  A name of no known form, or naming a symbol
the venue does not list, is refused when subscribed (the error frame names it):
Binance accepts any name and stays silent, which leaves a typo undiagnosed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.backtest.marketdata import INTERVALS

__all__ = ["ALL", "Stream", "parse_stream"]

#: the ``!…`` streams over every symbol
ALL = {
    "!markPrice@arr": ("markPrice", 3000), "!markPrice@arr@1s": ("markPrice", 1000),
    "!miniTicker@arr": ("miniTicker", 1000), "!ticker@arr": ("ticker", 1000),
    "!bookTicker": ("bookTicker", 0), "!forceOrder@arr": ("forceOrder", 0),
}

_SYMBOL = re.compile(r"[a-z0-9]{1,32}")
_DEPTH = re.compile(r"depth(5|10|20)?(@100ms|@500ms)?")
_PUBLIC = frozenset({"bookTicker", "depth", "partialDepth", "trade"})


@dataclass(frozen=True, slots=True)
class Stream:
    """A parsed stream name: ``kind`` (aggTrade, markPrice, kline, continuousKline,
    miniTicker, ticker, forceOrder, bookTicker, depth, partialDepth), ``symbol`` (upper
    case; None for an all-symbols stream), ``arg`` (a kline interval, or a depth's
    levels), ``period_ms`` (0: sent as it happens)."""

    name: str
    kind: str
    symbol: str | None
    arg: str
    period_ms: int

    @property
    def category(self) -> str:
        return "public" if self.kind in _PUBLIC else "market"


def parse_stream(name: object, symbols: dict[str, object]) -> Stream | None:
    """``name`` as a :class:`Stream`, or None when it is no stream of a listed symbol."""
    if not isinstance(name, str) or len(name) > 128:
        return None
    if name in ALL:
        kind, period = ALL[name]
        return Stream(name, kind, None, "", period)
    sym, at, rest = name.partition("@")
    if at and rest.startswith("continuousKline_"):
        pair, _, contract = sym.rpartition("_")
        symbol = pair.upper()
        interval = rest[len("continuousKline_"):]
        if (contract != "perpetual" or not _SYMBOL.fullmatch(pair) or symbol not in symbols
                or interval not in INTERVALS):
            return None
        return Stream(name, "continuousKline", symbol, interval, 250)
    if not at or not _SYMBOL.fullmatch(sym):
        return None
    symbol = sym.upper()
    if symbol not in symbols:
        return None
    if rest == "aggTrade":
        return Stream(name, "aggTrade", symbol, "", 0)
    if rest == "trade":
        return Stream(name, "trade", symbol, "", 0)
    if rest in ("markPrice", "markPrice@1s"):
        return Stream(name, "markPrice", symbol, "", 1000 if rest.endswith("1s") else 3000)
    if rest.startswith("kline_") and rest[6:] in INTERVALS:
        return Stream(name, "kline", symbol, rest[6:], 250)
    if rest in ("miniTicker", "ticker"):
        return Stream(name, rest, symbol, "", 2000)
    if rest == "forceOrder":
        return Stream(name, "forceOrder", symbol, "", 0)
    if rest == "bookTicker":
        return Stream(name, "bookTicker", symbol, "", 0)
    m = _DEPTH.fullmatch(rest)
    if m:
        levels, speed = m.group(1), m.group(2)
        period = 250 if speed is None else int(speed[1:-2])
        return Stream(name, "partialDepth" if levels else "depth", symbol, levels or "", period)
    return None
