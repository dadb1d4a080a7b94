"""The market-data endpoints of a served market: klines, trades, tickers, funding, open
interest (Binance's shapes).

Built over the feed's stores (:class:`~engine.server.marketfeed.MarketFeed`: each
symbol's :class:`~engine.backtest.marketdata.Candles` and
:class:`~engine.backtest.marketdata.Prints`) and the venue, as routes the facade adds
to :data:`~engine.server.routes.ROUTES` (``premiumIndex`` replaces the plain venue's):

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
* ``GET /fapi/v1/premiumIndex`` — ``symbol`` (else every symbol, a list): the
  venue's mark (the last closed minute's close, moved by the feed) as ``markPrice``,
  ``indexPrice`` and ``estimatedSettlePrice``; ``lastFundingRate`` the rate the feed
  last settled (``"0.00000000"`` before its first settlement); ``interestRate``
  Binance's usual ``"0.00010000"``; ``nextFundingTime`` the next 00:00 / 08:00 /
  16:00 UTC after now; ``time`` now.  Weight 1 with a symbol, 10 without.
* ``GET /fapi/v1/openInterest`` — ``{"symbol", "openInterest", "time"}``: the long
  positions of every account, the tape's included;
* ``GET /futures/data/openInterestHist`` — ``symbol``, ``period`` (5m 15m 30m 1h 2h
  4h 6h 12h 1d; else -1130), ``limit`` 1..500 (default 30), ``startTime``,
  ``endTime``: the open interest at each multiple of the period (UTC-aligned) within
  the last 30 days and since the market's history begins, oldest first — from
  ``startTime`` the first ``limit``, else the last ``limit`` up to ``endTime`` or
  now.  Nothing samples it: :func:`open_interest_at` rebuilds it from the venue's own
  records (every account's fills and the liquidations), which journals and snapshots
  keep, so the answer does not depend on when it is asked.  ``sumOpenInterestValue``
  values it at the close of the minute that ends at that time (the mark then).
  Weight 0 (Binance's).
* ``GET /fapi/v1/aggTrades`` — ``symbol``, ``fromId``, ``startTime``, ``endTime``
  (at most an hour apart, else -1127), ``limit`` 1..1000 (default 500); rows of
  ``{"a", "p", "q", "f", "l", "T", "m"}``; weight 20.
* ``GET /fapi/v1/trades`` — ``symbol``, ``limit`` 1..1000 (default 500): the most
  recent prints as ``{"id", "price", "qty", "quoteQty", "time", "isBuyerMaker",
  "isRPITrade"}`` (one trade per aggregate here; never RPI); weight 5.
* ``GET /fapi/v1/historicalTrades`` — MARKET_DATA: ``X-MBX-APIKEY`` is required
  (missing → 401 -2014, unknown → 401 -2015) but no signature
  (:attr:`~engine.server.routes.Endpoint.keyed`); ``symbol``, ``fromId`` (an ``id``
  of ``trades``; absent: the most recent), ``limit`` 1..500 (default 100); rows as
  ``trades``; weight 20.
* ``GET /fapi/v1/ticker/price`` and ``/fapi/v2/ticker/price`` — ``{"symbol", "price",
  "time"}`` for one symbol (weight 1) or a list of all (weight 2).
* ``GET /fapi/v1/ticker/24hr`` — the rolling 24 hours to now per symbol, from the
  1-minute candles: ``priceChange``, ``priceChangePercent``, ``weightedAvgPrice``,
  ``lastPrice``, ``lastQty``, ``openPrice``, ``highPrice``, ``lowPrice``, ``volume``,
  ``quoteVolume``, ``openTime``, ``closeTime``, ``firstId``, ``lastId``, ``count``;
  weight 1 with a symbol, 40 without.

``depth`` and ``ticker/bookTicker`` are the venue's own (:mod:`engine.venue.views`),
served with or without a market: the book is the tape's ladder and the bots' orders,
and ``lastUpdateId`` is the book's own change count
(:attr:`~engine.core.book.OrderBook.update_id`): it moves only when that book
changes.

Checked against Binance's pages (developers.binance.com › Derivatives › USDⓈ-M
Futures › Market Data › REST API), field by field; "str" is a decimal string (minimal
here, SPEC 9, where Binance pads to its precision), "int" an id or ms time:

* *Order Book* (``depth``): ``lastUpdateId`` int, ``E`` int (message output time),
  ``T`` int (transaction time), ``bids`` / ``asks`` ``[[price str, qty str], …]`` —
  all here; ``E`` = ``T`` = the venue clock.  Differs: Binance takes only the limits
  5, 10, 20, 50, 100, 500, 1000 (else -4021 "'%s' is not valid depth limit."); this
  venue takes 1..1000 and answers -1130 outside.
* *Symbol Order Book Ticker*: ``symbol`` str, ``bidPrice``, ``bidQty``, ``askPrice``,
  ``askQty`` str, ``time`` int — all here, an empty side ``"0"`` — and
  ``lastUpdateId`` int, which the page's WebSocket-API twin (``ticker.book``) shows
  and the REST example no longer does: kept, for the diff-depth bookkeeping.
* *Old Trades Lookup (MARKET_DATA)*: ``id`` int, ``price``, ``qty``, ``quoteQty``
  str, ``time`` int, ``isBuyerMaker``, ``isRPITrade`` bool; weight 20; ``limit``
  default 100, max 500; ``fromId`` "TradeId to fetch from. Default gets most recent
  trades." — all here; the page's three-month window is not applied (every print
  kept is served).
* *Mark Price* (``premiumIndex``): ``symbol`` str, ``markPrice``, ``indexPrice``,
  ``estimatedSettlePrice``, ``lastFundingRate``, ``interestRate`` str,
  ``nextFundingTime``, ``time`` int — all here; weight "1 with symbol, 10 without".
* *Open Interest Statistics*: ``symbol`` str, ``sumOpenInterest``,
  ``sumOpenInterestValue`` str, ``timestamp`` — here an int, as Binance's answers
  and its coin-margined page write it (the USDⓈ-M page's example quotes it); the
  page's ``CMCCirculatingSupply`` (CoinMarketCap's supply figure) is left out: the
  venue has none to give.  Weight 0, ``limit`` default 30, max 500, "Only the data
  of the latest 1 month is available".

The prints are the market's and the venue's own trades: a bot's order matched in the
book — against the tape's ladder or another bot's order — is a print of its own at
its fill's price and quantity, ``m`` from its taker's side
(:meth:`~engine.server.marketfeed.MarketFeed.take_venue_prints`, from the venue's
event log); so it moves ``aggTrades``, ``trades``, the klines and the tickers as on
Binance.  One print per fill: Binance would aggregate a taker's fills at one price
into one ``aggTrades`` row.  A bot's resting order that the market's print reaches
trades within that print, which is recorded once.  The trade ids of prints (``f``,
``l``, ``id``) are the market's own count, not the ids ``userTrades`` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.backtest.marketdata import INTERVALS, MINUTE_MS
from engine.backtest.synthetic import fixed_str
from engine.core.decimals import fmt_scaled, parse_int, present
from engine.core.enums import BUY
from engine.core.errors import reject
from engine.server.routes import Endpoint, Params, by_symbol
from engine.venue import commands as c

if TYPE_CHECKING:
    import numpy as np

    from engine.core.instrument import Instrument
    from engine.server.marketfeed import MarketFeed, SymbolMarket
    from engine.venue.exchange import Exchange

__all__ = ["market_routes", "open_interest_at"]

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: ``openInterestHist``'s periods (ms)
OI_PERIODS = {"5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS, "30m": 30 * MINUTE_MS,
              "1h": HOUR_MS, "2h": 2 * HOUR_MS, "4h": 4 * HOUR_MS, "6h": 6 * HOUR_MS,
              "12h": 12 * HOUR_MS, "1d": DAY_MS}
#: how far back ``openInterestHist`` answers ("the latest 1 month")
OI_KEPT_MS = 30 * DAY_MS


def _feed(market: MarketFeed, params: Params) -> SymbolMarket:
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


def klines(market: MarketFeed, params: Params) -> list[list[Any]]:
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


def _price_klines(market: MarketFeed, params: Params, name: str, zero: bool) -> list:
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


def continuous_klines(market: MarketFeed, params: Params) -> list:
    """``pair`` and ``contractType`` (PERPETUAL only): the pair's klines."""
    if not present(params.get("pair")):
        raise reject("MANDATORY_PARAM", "pair")
    if params.get("contractType") != "PERPETUAL":
        raise reject("INVALID_PARAMETER", "contractType")
    return klines(market, {**params, "symbol": params["pair"]})


def funding_rate(market: MarketFeed, params: Params) -> list[dict[str, Any]]:
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


def open_interest(market: MarketFeed, params: Params) -> dict[str, Any]:
    """Open contracts of ``symbol``: every account's long positions together (the tape
    account's too: it is the other side of the market's prints)."""
    feed = _feed(market, params)
    sym = feed.inst.symbol
    ex = market.exchange
    longs = sum(p.qty for acct in ex.ledger.accounts.values()
                for (s, _side), p in acct.positions.items() if s == sym and p.qty > 0)
    return {"symbol": sym, "openInterest": feed.inst.qty_str(longs), "time": ex.now}


def open_interest_at(ex: Exchange, symbol: str, times: list[int]) -> list[int]:
    """The open interest of ``symbol`` in lots — every long position, the venue's own
    accounts' included, as :func:`open_interest` counts it — as it stood at each of
    ``times`` (ascending), fills stamped at the time included.

    Rebuilt from the records the venue keeps (part of its state: journaled, in
    snapshots): each trader's fills (``AccountState.trades``, liquidations included)
    give its positions; the insurance account's is the sum of the liquidations
    (``Ledger.liquidations``), the only way it takes a position; the tape's, whose
    fills against traders' orders are not recorded on its side, is what makes every
    symbol's positions sum to zero (SPEC 6.4).  Runtime complexity: O(f log f +
    len(times)) for the symbol's f fills."""
    ledger = ex.ledger
    events: list[tuple[int, Any, int]] = []  # (time, (account, side) or None, lots)
    for name, acct in ledger.accounts.items():
        if name.startswith("@"):
            continue
        for _tid, sym, _oid, side, pside, _p, lots, _r, _f, _m, t in acct.trades:
            if sym == symbol:
                events.append((t, (name, pside), lots if side is BUY else -lots))
    for t, _name, sym, _pside, qty, _price, _fee in ledger.liquidations:
        if sym == symbol:
            events.append((t, None, qty))  # the insurance account takes the position
    events.sort(key=lambda e: e[0])
    held: dict[Any, int] = {}
    longs = net = insurance = i = 0
    out = []
    for at in times:
        while i < len(events) and events[i][0] <= at:
            _t, key, lots = events[i]
            i += 1
            if key is None:
                insurance += lots
                continue
            old = held.get(key, 0)
            held[key] = old + lots
            longs += max(0, old + lots) - max(0, old)
            net += lots
        out.append(longs + max(0, insurance) + max(0, -net - insurance))
    return out


def _oi_times(feed: SymbolMarket, now: int, step: int, params: Params) -> list[int]:
    """The multiples of ``step`` ``openInterestHist`` answers for (see the module
    docstring): within ``startTime``..``endTime``, the last 30 days and the market's
    history; from ``startTime`` the first ``limit``, else the last ``limit``."""
    start, end = _int(params, "startTime"), _int(params, "endTime")
    limit = _limit(params, 30, 500)
    opened = feed.candles.column("open_time")
    if not len(opened):
        return []  # no market yet
    first = max(now - OI_KEPT_MS, int(opened[0]))
    if start is not None:
        first = max(first, start)
    last = now if end is None else min(now, end)
    lo, hi = -(-first // step) * step, last // step * step
    if hi < lo:
        return []
    if start is not None:
        return list(range(lo, min(hi, lo + (limit - 1) * step) + 1, step))
    return list(range(max(lo, hi - (limit - 1) * step), hi + 1, step))


def open_interest_hist(market: MarketFeed, params: Params) -> list[dict[str, Any]]:
    """``GET /futures/data/openInterestHist`` (see the module docstring)."""
    feed = _feed(market, params)
    period = params.get("period")
    if not present(period):
        raise reject("MANDATORY_PARAM", "period")
    step = OI_PERIODS.get(period) if isinstance(period, str) else None
    if step is None:
        raise reject("INVALID_PARAMETER", "period")
    ex = market.exchange
    times = _oi_times(feed, ex.now, step, params)
    inst = feed.inst
    lots = open_interest_at(ex, inst.symbol, times)
    candles = feed.candles
    opened, close = candles.column("open_time"), candles.column("close")
    rows = []
    for at, oi in zip(times, lots, strict=True):
        k = int(opened.searchsorted(at, "left"))  # the minute ``at`` closes is k - 1
        price = int(close[k - 1]) if k else int(candles.column("open")[0])
        rows.append({"symbol": inst.symbol, "sumOpenInterest": inst.qty_str(oi),
                     "sumOpenInterestValue": _quote(inst, oi * price), "timestamp": at})
    return rows


def premium_index(market: MarketFeed, params: Params) -> Any:
    """``GET /fapi/v1/premiumIndex``: the venue's answer (mark, index; -1121 for an
    unknown symbol) with ``lastFundingRate`` the rate the feed last settled on the
    symbol, ``"0.00000000"`` before the first, and ``nextFundingTime`` the market's
    next settlement (a replay's next funding row, rebased)."""
    answer = c.mark_price_info(market.exchange, params)
    for row in answer if isinstance(answer, list) else [answer]:
        feed = market.symbols.get(row["symbol"])
        settled = feed.funding if feed is not None else []
        row["lastFundingRate"] = fixed_str(settled[-1][1] if settled else 0, 8, 8)
        row["nextFundingTime"] = market.next_funding_time(row["symbol"], market.exchange.now)
    return answer


def _klines_weight(params: Params) -> int:
    v = params.get("limit") or "500"
    n = int(v) if v.isascii() and v.isdigit() and len(v) <= 6 else 500
    return 1 if n < 100 else 2 if n < 500 else 5 if n <= 1000 else 10


def agg_trades(market: MarketFeed, params: Params) -> list[dict[str, Any]]:
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


def _trade_rows(feed: SymbolMarket, rows: np.ndarray) -> list[dict[str, Any]]:
    """Prints ``rows`` (indices) as Binance's trade objects: one trade per aggregate, its
    id the aggregate's; nothing here is an RPI trade."""
    tape, inst = feed.prints, feed.inst
    ps, qs = inst.price_str, inst.qty_str
    cols = [tape.column(n)[rows].tolist() for n in ("a", "p", "q", "T", "m")]
    return [{"id": a, "price": ps(p), "qty": qs(q), "quoteQty": _quote(inst, p * q),
             "time": t, "isBuyerMaker": bool(m), "isRPITrade": False}
            for a, p, q, t, m in zip(*cols, strict=True)]


def trades(market: MarketFeed, params: Params) -> list[dict[str, Any]]:
    """``GET /fapi/v1/trades``: the most recent ``limit`` (1..1000, default 500)."""
    feed = _feed(market, params)
    return _trade_rows(feed, feed.prints.query(limit=_limit(params, 500, 1000)))


def historical_trades(market: MarketFeed, params: Params) -> list[dict[str, Any]]:
    """``GET /fapi/v1/historicalTrades``: ``limit`` (1..500, default 100) trades from
    ``fromId`` on, else the most recent."""
    feed = _feed(market, params)
    from_id = _int(params, "fromId")
    limit = _limit(params, 100, 500)
    return _trade_rows(feed, feed.prints.query(from_id=from_id, limit=limit))


def _each(market: MarketFeed, params: Params,
          one: Callable[[SymbolMarket], dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    if present(params.get("symbol")):
        return one(_feed(market, params))
    return [one(f) for f in market.symbols.values()]


def ticker_price(market: MarketFeed, params: Params) -> Any:
    now = market.exchange.now

    def one(feed: SymbolMarket) -> dict[str, Any]:
        close = feed.candles.column("close")
        return {"symbol": feed.inst.symbol, "price": feed.inst.price_str(int(close[-1])),
                "time": now}

    return _each(market, params, one)


def ticker_24hr(market: MarketFeed, params: Params) -> Any:
    now = market.exchange.now

    def one(feed: SymbolMarket) -> dict[str, Any]:
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


def market_routes(market: MarketFeed) -> dict[str, dict[str, Endpoint]]:
    """The market-data routes over ``market``: public, unsigned; ``historicalTrades``
    asks for the key (MARKET_DATA)."""

    def public(fn: Callable[[MarketFeed, Params], Any], weight: Any,
               keyed: bool = False) -> Endpoint:
        return Endpoint(lambda _ex, _a, p: fn(market, p), False, weight, keyed=keyed)

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
        "/fapi/v1/premiumIndex": {"GET": public(premium_index, by_symbol(1, 10))},
        "/fapi/v1/openInterest": {"GET": public(open_interest, 1)},
        "/futures/data/openInterestHist": {"GET": public(open_interest_hist, 0)},
        "/fapi/v1/aggTrades": {"GET": public(agg_trades, 20)},
        "/fapi/v1/trades": {"GET": public(trades, 5)},
        "/fapi/v1/historicalTrades": {"GET": public(historical_trades, 20, keyed=True)},
        "/fapi/v1/ticker/price": price,
        "/fapi/v2/ticker/price": price,
        "/fapi/v1/ticker/24hr": {"GET": public(ticker_24hr, by_symbol(1, 40))},
    }

