"""Market stream payloads in Binance's shapes, built from what the REST answers read.

Each builder is called under the venue lock and reads the same state the REST
endpoint of the same fact answers from — the venue's books and marks
(:mod:`engine.venue.views`), the market's candles, prints and funding
(:mod:`engine.server.market`) — so a stream never says what REST would not.
Events carry venue time (SPEC 9): ``E`` and ``T`` are the venue clock.

Depth diffs follow Binance's "how to manage a local order book": a book's
``lastUpdateId`` (REST ``/fapi/v1/depth``) counts each change of that book, and
a diff event covers the changes since the last one sent on that stream: ``U``
the first, ``u`` the last, ``pu`` the previous event's ``u``; its levels are
those whose quantity differs, a removed level with quantity "0".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.core.enums import BUY, SELL
from engine.core.events import LIQUIDATION
from engine.server.market import klines as rest_klines
from engine.server.market import premium_index, ticker_24hr
from engine.venue import commands as c

if TYPE_CHECKING:
    from engine.server.marketfeed import MarketFeed
    from engine.venue.exchange import Exchange

__all__ = [
    "Levels", "agg_trades", "book_levels", "book_ticker", "depth_event", "force_order", "kline",
    "mark_price", "mini_ticker", "ticker",
]

#: a side of a book as ``{price ticks: lots}``
Levels = dict[int, int]


def book_levels(ex: Exchange, symbol: str) -> tuple[Levels, Levels, int]:
    """``(bids, asks, lastUpdateId)`` of ``symbol``'s book now."""
    book = ex._s.markets[symbol].book
    return dict(book.depth(BUY, 1 << 30)), dict(book.depth(SELL, 1 << 30)), book.update_id


def depth_event(ex: Exchange, symbol: str, first: int, last: int, prev: int,
                bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> dict[str, Any]:
    """A ``depthUpdate`` event (diff or partial): levels as ``(ticks, lots)``."""
    inst = ex._s.instruments[symbol]
    ps, qs = inst.price_str, inst.qty_str
    now = ex.now
    return {"e": "depthUpdate", "E": now, "T": now, "s": symbol, "U": first, "u": last,
            "pu": prev, "b": [[ps(p), qs(q)] for p, q in bids],
            "a": [[ps(p), qs(q)] for p, q in asks]}


def diff(old: Levels, new: Levels, descending: bool) -> list[tuple[int, int]]:
    """The levels of ``new`` that differ from ``old``, removed ones at 0, best first."""
    out = [(p, q) for p, q in new.items() if old.get(p) != q]
    out += [(p, 0) for p in old if p not in new]
    out.sort(reverse=descending)
    return out


def book_ticker(ex: Exchange, symbol: str) -> dict[str, Any]:
    """A ``bookTicker`` event: the best bid and ask now, with the book's update id."""
    m = ex._s.markets[symbol]
    inst, book, now = m.inst, m.book, ex.now
    bid, ask = book.best_level(BUY), book.best_level(SELL)
    ps, qs = inst.price_str, inst.qty_str
    return {"e": "bookTicker", "u": book.update_id, "E": now, "T": now, "s": symbol,
            "b": ps(bid[0]) if bid else "0", "B": qs(bid[1].total) if bid else "0",
            "a": ps(ask[0]) if ask else "0", "A": qs(ask[1].total) if ask else "0"}


def mark_price(ex: Exchange, market: MarketFeed | None, symbol: str) -> dict[str, Any]:
    """A ``markPriceUpdate`` from ``GET /fapi/v1/premiumIndex``'s answer for ``symbol``."""
    params = {"symbol": symbol}
    row: Any = (premium_index(market, params) if market is not None
                else c.mark_price_info(ex, params))
    return {"e": "markPriceUpdate", "E": ex.now, "s": symbol, "p": row["markPrice"],
            "ap": row["markPrice"], "i": row["indexPrice"],
            "P": row["estimatedSettlePrice"], "r": row["lastFundingRate"],
            "T": row["nextFundingTime"]}


def kline(ex: Exchange, market: MarketFeed, symbol: str, interval: str,
          continuous: bool) -> dict[str, Any] | None:
    """A ``kline`` (or ``continuous_kline``) event of the open candle, from
    ``GET /fapi/v1/klines``'s last row; None before the market has a candle."""
    rows = rest_klines(market, {"symbol": symbol, "interval": interval, "limit": "1"})
    if not rows:
        return None
    ot, o, h, lo, c, v, ct, q, n, tv, tq, _ignore = rows[-1]
    tape = market.symbols[symbol].prints
    times = tape.column("T")
    a, b = int(times.searchsorted(ot, "left")), int(times.searchsorted(ct, "right"))
    first, last = (int(tape.column("f")[a]), int(tape.column("l")[b - 1])) if b > a else (-1, -1)
    k: dict[str, Any] = {"t": ot, "T": ct}
    if not continuous:
        k["s"] = symbol
    k.update({"i": interval, "f": first, "L": last, "o": o, "c": c, "h": h, "l": lo, "v": v, "n": n,
              "x": ct < ex.now, "q": q, "V": tv, "Q": tq, "B": "0"})
    if continuous:
        return {"e": "continuous_kline", "E": ex.now, "ps": symbol, "ct": "PERPETUAL", "k": k}
    return {"e": "kline", "E": ex.now, "s": symbol, "k": k}


def _ticker_row(ex: Exchange, market: MarketFeed, symbol: str) -> dict[str, Any] | None:
    if not len(market.symbols[symbol].candles):
        return None
    return ticker_24hr(market, {"symbol": symbol})  # type: ignore[no-any-return]


def ticker(ex: Exchange, market: MarketFeed, symbol: str) -> dict[str, Any] | None:
    """A ``24hrTicker`` event from ``GET /fapi/v1/ticker/24hr``'s answer."""
    r = _ticker_row(ex, market, symbol)
    if r is None:
        return None
    return {"e": "24hrTicker", "E": ex.now, "s": symbol, "p": r["priceChange"],
            "P": r["priceChangePercent"], "w": r["weightedAvgPrice"], "c": r["lastPrice"],
            "Q": r["lastQty"], "o": r["openPrice"], "h": r["highPrice"], "l": r["lowPrice"],
            "v": r["volume"], "q": r["quoteVolume"], "O": r["openTime"], "C": r["closeTime"],
            "F": r["firstId"], "L": r["lastId"], "n": r["count"]}


def mini_ticker(ex: Exchange, market: MarketFeed, symbol: str) -> dict[str, Any] | None:
    """A ``24hrMiniTicker`` event from the same answer."""
    r = _ticker_row(ex, market, symbol)
    if r is None:
        return None
    return {"e": "24hrMiniTicker", "E": ex.now, "s": symbol, "c": r["lastPrice"],
            "o": r["openPrice"], "h": r["highPrice"], "l": r["lowPrice"], "v": r["volume"],
            "q": r["quoteVolume"]}


def agg_trades(ex: Exchange, market: MarketFeed, symbol: str, start: int, single: bool = False
               ) -> tuple[list[dict[str, Any]], int]:
    """``aggTrade`` events of the market's prints from row ``start`` on (the rows
    ``GET /fapi/v1/aggTrades`` answers), and the row to start from next time; with
    ``single``, ``trade`` events instead (one trade per aggregate, its id the
    aggregate's, as ``GET /fapi/v1/trades`` answers)."""
    feed = market.symbols[symbol]
    tape = feed.prints
    end = len(tape)
    if end <= start:
        return [], end
    inst = feed.inst
    ps, qs = inst.price_str, inst.qty_str
    cols = [tape.column(n)[start:end].tolist() for n in ("a", "p", "q", "f", "l", "T", "m")]
    now = ex.now
    if single:
        return [{"e": "trade", "E": now, "T": t, "s": symbol, "t": a, "p": ps(p), "q": qs(q),
                 "X": "MARKET", "m": bool(m)}
                for a, p, q, _f, _la, t, m in zip(*cols, strict=True)], end
    out = [{"e": "aggTrade", "E": now, "s": symbol, "a": a, "p": ps(p), "q": qs(q),
            "nq": qs(q), "f": f, "l": la, "T": t, "m": bool(m)}
           for a, p, q, f, la, t, m in zip(*cols, strict=True)]
    return out, end


def force_order(ex: Exchange, time: int, delta: tuple) -> dict[str, Any] | None:
    """A ``forceOrder`` event of a liquidation delta (:mod:`engine.core.events`)."""
    if delta[0] != LIQUIDATION:
        return None
    symbol, _pside, qty, price, _realized, _trade_id = delta[3:]
    at = delta[2]
    inst = ex._s.instruments[symbol]
    p, lots = inst.price_str(price), inst.qty_str(abs(qty))
    return {"e": "forceOrder", "E": time, "o": {
        "s": inst.symbol, "S": "SELL" if qty > 0 else "BUY", "o": "LIMIT", "f": "IOC",
        "q": lots, "p": p, "ap": p, "X": "FILLED", "l": lots, "z": lots, "T": at}}
