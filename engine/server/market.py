"""The market-data endpoints of a served market: klines, trades, tickers (Binance's shapes).

Built over the feed's stores (:class:`~engine.server.feed.SyntheticFeed`: each
symbol's :class:`~engine.backtest.marketdata.Candles` and
:class:`~engine.backtest.marketdata.Prints`), as routes the facade adds to
:data:`~engine.server.routes.ROUTES`:

* ``GET /fapi/v1/klines`` — ``symbol``, ``interval`` (-1120 if not Binance's),
  ``startTime``, ``endTime``, ``limit`` 1..1500 (default 500); rows of
  ``[openTime, open, high, low, close, volume, closeTime, quoteVolume, trades,
  takerBuyVolume, takerBuyQuoteVolume, "0"]``; weight 1 / 2 / 5 / 10 by limit
  (<100, <500, ≤1000, more).  The candle still open is the last row.
* ``continuousKlines`` (``pair``, ``contractType=PERPETUAL``), ``markPriceKlines``,
  ``indexPriceKlines`` (``pair``) and ``premiumIndexKlines``: the same candles (mark
  and index follow the last price here; the premium is zero), with Binance's zero
  volume columns and the seconds a candle spans where Binance counts its samples;
* ``GET /fapi/v1/fundingRate`` — ``symbol`` (else every symbol), ``startTime``,
  ``endTime``, ``limit`` 1..1000 (default 100): the funding settled so far as
  ``{"symbol", "fundingRate" (8 decimals), "fundingTime", "markPrice"}``;
  ``fundingInfo`` is empty (no symbol has adjusted funding caps);
* ``GET /fapi/v1/openInterest`` — ``{"symbol", "openInterest", "time"}``: the long
  positions of every account, the tape's included;
* ``GET /fapi/v1/aggTrades`` — ``symbol``, ``fromId``, ``startTime``, ``endTime``
  (at most an hour apart, else -1127), ``limit`` 1..1000 (default 500); rows of
  ``{"a", "p", "q", "f", "l", "T", "m"}``; weight 20.
* ``GET /fapi/v1/trades`` — ``symbol``, ``limit`` 1..1000 (default 500): the most
  recent prints as ``{"id", "price", "qty", "quoteQty", "time", "isBuyerMaker"}``
  (one trade per aggregate here); weight 5.
* ``GET /fapi/v1/ticker/price`` and ``/fapi/v2/ticker/price`` — ``{"symbol", "price",
  "time"}`` for one symbol (weight 1) or a list of all (weight 2).
* ``GET /fapi/v1/ticker/24hr`` — the rolling 24 hours to now per symbol, from the
  1-minute candles: ``priceChange``, ``priceChangePercent``, ``weightedAvgPrice``,
  ``lastPrice``, ``lastQty``, ``openPrice``, ``highPrice``, ``lowPrice``, ``volume``,
  ``quoteVolume``, ``openTime``, ``closeTime``, ``firstId``, ``lastId``, ``count``;
  weight 1 with a symbol, 40 without.

Decimals are the venue's minimal strings (SPEC 9); times are ints.  The prints are the
feed's; a bot's own fills against other accounts are not in them yet.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.backtest.marketdata import INTERVALS, MINUTE_MS
from engine.backtest.synthetic import fixed_str
from engine.core.decimals import fmt_scaled, parse_int, present
from engine.core.errors import reject
from engine.server.routes import Endpoint, Params, by_symbol

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.server.feed import SymbolFeed, SyntheticFeed

__all__ = ["market_routes"]

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def _feed(market: SyntheticFeed, params: Params) -> SymbolFeed:
    symbol = params.get("symbol")
    if not present(symbol):
        raise reject("MANDATORY_PARAM", "symbol")
    feed = market.symbols.get(symbol) if isinstance(symbol, str) else None
    if feed is None:
        raise reject("BAD_SYMBOL")
    return feed


def _int(params: Params, name: str) -> int | None:
    v = params.get(name)
    return parse_int(v, name) if present(v) else None


def _limit(params: Params, default: int, most: int) -> int:
    n = _int(params, "limit")
    if n is None:
        return default
    if not 1 <= n <= most:
        raise reject("INVALID_PARAMETER", "limit")
    return n


def _quote(inst: Instrument, ticks_x_lots: int) -> str:
    return fmt_scaled(ticks_x_lots * inst.tick_m * inst.step_m, inst.price_exp + inst.qty_exp)


def klines(market: SyntheticFeed, params: Params) -> list[list[Any]]:
    feed = _feed(market, params)
    interval = params.get("interval")
    if not present(interval):
        raise reject("MANDATORY_PARAM", "interval")
    if interval not in INTERVALS:
        raise reject("BAD_INTERVAL")
    start, end = _int(params, "startTime"), _int(params, "endTime")
    k = feed.candles.klines(str(interval), start=start, end=end,
                            limit=_limit(params, 500, 1500))
    inst = feed.inst
    ps, qs = inst.price_str, inst.qty_str
    return [
        [ot, ps(o), ps(h), ps(lo), ps(c), qs(v), ct, _quote(inst, q), n, qs(tv),
         _quote(inst, tq), "0"]
        for ot, o, h, lo, c, v, ct, q, n, tv, tq in zip(
            k.open_time.tolist(), k.open.tolist(), k.high.tolist(), k.low.tolist(),
            k.close.tolist(), k.volume.tolist(), k.close_time.tolist(), k.quote.tolist(),
            k.count.tolist(), k.taker_volume.tolist(), k.taker_quote.tolist(), strict=True)
    ]


def _price_klines(market: SyntheticFeed, params: Params, name: str, zero: bool) -> list:
    """markPriceKlines, indexPriceKlines (``pair``), premiumIndexKlines: the mark and the
    index follow the last price here, so their candles are the trade candles' prices
    (and the premium's are all zero), with Binance's zero volume columns."""
    p = dict(params)
    if name != "symbol":
        p["symbol"] = params.get(name, "")
        if not present(params.get(name)):
            raise reject("MANDATORY_PARAM", name)
    rows = klines(market, p)
    out = []
    for r in rows:
        prices = ["0"] * 4 if zero else r[1:5]
        out.append([r[0], *prices, "0", r[6], "0", (r[6] + 1 - r[0]) // 1000, "0", "0", "0"])
    return out


def continuous_klines(market: SyntheticFeed, params: Params) -> list:
    """``pair`` and ``contractType`` (PERPETUAL only): the pair's klines."""
    if not present(params.get("pair")):
        raise reject("MANDATORY_PARAM", "pair")
    if params.get("contractType") != "PERPETUAL":
        raise reject("INVALID_PARAMETER", "contractType")
    return klines(market, {**params, "symbol": params["pair"]})


def funding_rate(market: SyntheticFeed, params: Params) -> list[dict[str, Any]]:
    """Settled funding, oldest first: within ``startTime``..``endTime``, the first
    ``limit`` (1..1000, default 100) from ``startTime``, else the last ``limit``."""
    feeds = [_feed(market, params)] if present(params.get("symbol")) else list(
        market.symbols.values())
    start, end = _int(params, "startTime"), _int(params, "endTime")
    limit = _limit(params, 100, 1000)
    rows = sorted(
        (t, f.inst.symbol, rate, mark, f.inst) for f in feeds for t, rate, mark in f.funding
        if (start is None or t >= start) and (end is None or t <= end))
    rows = rows[:limit] if start is not None else rows[-limit:]
    return [{"symbol": sym, "fundingRate": fixed_str(rate, 8, 8), "fundingTime": t,
             "markPrice": inst.price_str(mark)} for t, sym, rate, mark, inst in rows]


def open_interest(market: SyntheticFeed, params: Params) -> dict[str, Any]:
    """Open contracts of ``symbol``: every account's long positions together (the tape
    account's too: it is the other side of the market's prints)."""
    feed = _feed(market, params)
    sym = feed.inst.symbol
    ex = market.exchange
    longs = sum(p.qty for acct in ex.ledger.accounts.values()
                for (s, _side), p in acct.positions.items() if s == sym and p.qty > 0)
    return {"symbol": sym, "openInterest": feed.inst.qty_str(longs), "time": ex.now}


def _klines_weight(params: Params) -> int:
    v = params.get("limit") or "500"
    n = int(v) if v.isascii() and v.isdigit() and len(v) <= 6 else 500
    return 1 if n < 100 else 2 if n < 500 else 5 if n <= 1000 else 10


def agg_trades(market: SyntheticFeed, params: Params) -> list[dict[str, Any]]:
    feed = _feed(market, params)
    from_id = _int(params, "fromId")
    start, end = _int(params, "startTime"), _int(params, "endTime")
    if start is not None and end is not None and end - start > HOUR_MS:
        raise reject("MORE_THAN_XX_HOURS", 1)
    limit = _limit(params, 500, 1000)
    tape = feed.prints
    rows = tape.query(from_id=from_id, start=start, end=end, limit=limit)
    inst = feed.inst
    ps, qs = inst.price_str, inst.qty_str
    cols = [tape.column(n)[rows].tolist() for n in ("a", "p", "q", "f", "l", "T", "m")]
    return [{"a": a, "p": ps(p), "q": qs(q), "f": f, "l": la, "T": t, "m": bool(m)}
            for a, p, q, f, la, t, m in zip(*cols, strict=True)]


def trades(market: SyntheticFeed, params: Params) -> list[dict[str, Any]]:
    feed = _feed(market, params)
    tape = feed.prints
    rows = tape.query(limit=_limit(params, 500, 1000))
    inst = feed.inst
    ps, qs = inst.price_str, inst.qty_str
    cols = [tape.column(n)[rows].tolist() for n in ("a", "p", "q", "T", "m")]
    return [{"id": a, "price": ps(p), "qty": qs(q), "quoteQty": _quote(inst, p * q),
             "time": t, "isBuyerMaker": bool(m)} for a, p, q, t, m in zip(*cols, strict=True)]


def _each(market: SyntheticFeed, params: Params,
          one: Callable[[SymbolFeed], dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    if present(params.get("symbol")):
        return one(_feed(market, params))
    return [one(f) for f in market.symbols.values()]


def ticker_price(market: SyntheticFeed, params: Params) -> Any:
    now = market.exchange.now

    def one(feed: SymbolFeed) -> dict[str, Any]:
        close = feed.candles.column("close")
        return {"symbol": feed.inst.symbol, "price": feed.inst.price_str(int(close[-1])),
                "time": now}

    return _each(market, params, one)


def ticker_24hr(market: SyntheticFeed, params: Params) -> Any:
    now = market.exchange.now

    def one(feed: SymbolFeed) -> dict[str, Any]:
        inst, c = feed.inst, feed.candles
        t = c.column("open_time")
        a = int(t.searchsorted(now - DAY_MS + MINUTE_MS))
        window = slice(a, len(t))
        o, last = int(c.column("open")[a]), int(c.column("close")[-1])
        vol = int(c.column("volume")[window].sum())
        quote = int(c.column("quote")[window].sum())
        tape = feed.prints
        first = int(tape.query(start=now - DAY_MS, limit=1)[0]) if len(tape) else -1
        change = last - o
        pct = (Decimal(change) * 100 / o).quantize(Decimal("0.001")) if o else Decimal(0)
        avg = quote // vol if vol else last
        return {
            "symbol": inst.symbol,
            "priceChange": ("-" if change < 0 else "") + inst.price_str(abs(change)),
            "priceChangePercent": str(pct),
            "weightedAvgPrice": inst.price_str(avg),
            "lastPrice": inst.price_str(last),
            "lastQty": inst.qty_str(int(tape.column("q")[-1]) if len(tape) else 0),
            "openPrice": inst.price_str(o),
            "highPrice": inst.price_str(int(c.column("high")[window].max())),
            "lowPrice": inst.price_str(int(c.column("low")[window].min())),
            "volume": inst.qty_str(vol),
            "quoteVolume": _quote(inst, quote),
            "openTime": int(t[a]),
            "closeTime": now,
            "firstId": int(tape.column("a")[first]) if first >= 0 else -1,
            "lastId": int(tape.column("a")[-1]) if len(tape) else -1,
            "count": int(c.column("count")[window].sum()),
        }

    return _each(market, params, one)


def market_routes(market: SyntheticFeed) -> dict[str, dict[str, Endpoint]]:
    """The market-data routes over ``market`` (public, unsigned)."""

    def public(fn: Callable[[SyntheticFeed, Params], Any], weight: Any) -> Endpoint:
        return Endpoint(lambda _ex, _a, p: fn(market, p), False, weight)

    price = {"GET": public(ticker_price, by_symbol(1, 2))}
    return {
        "/fapi/v1/klines": {"GET": public(klines, _klines_weight)},
        "/fapi/v1/continuousKlines": {"GET": public(continuous_klines, _klines_weight)},
        "/fapi/v1/markPriceKlines": {"GET": public(
            lambda m, p: _price_klines(m, p, "symbol", False), _klines_weight)},
        "/fapi/v1/indexPriceKlines": {"GET": public(
            lambda m, p: _price_klines(m, p, "pair", False), _klines_weight)},
        "/fapi/v1/premiumIndexKlines": {"GET": public(
            lambda m, p: _price_klines(m, p, "symbol", True), _klines_weight)},
        "/fapi/v1/fundingRate": {"GET": public(funding_rate, 1)},
        "/fapi/v1/fundingInfo": {"GET": public(lambda m, p: [], 1)},
        "/fapi/v1/openInterest": {"GET": public(open_interest, 1)},
        "/fapi/v1/aggTrades": {"GET": public(agg_trades, 20)},
        "/fapi/v1/trades": {"GET": public(trades, 5)},
        "/fapi/v1/ticker/price": price,
        "/fapi/v2/ticker/price": price,
        "/fapi/v1/ticker/24hr": {"GET": public(ticker_24hr, by_symbol(1, 40))},
    }

