"""A bracket scalper: LIMIT entries with attached TP/SL, heavy on cancels.

Per symbol, on each bar:

* flat and no entry resting → place a LIMIT entry ``offset`` ticks inside the
  bar's close (a BUY below it after an up bar, a SELL above it after a down
  bar) with ``takeProfitPrice`` ``tp`` ticks beyond the entry and
  ``stopLossPrice`` ``sl`` ticks behind it, attached (one OCO group);
* an entry still unfilled after ``patience`` bars → cancel it (the cancel
  cascades to its PENDING TP/SL, listed in the response's ``triggerOrders``)
  and place a fresh one;
* in a position, every ``trail`` bars → move the stop-loss towards the price:
  cancel the stop-loss row by its own ``orderId`` and attach a new one with
  ``parentOrderId`` (never past the entry price: an attached stop stays on its
  protective side).

On order updates: when a TP or SL row fires, its sibling is CANCELED by the
venue (OCO); the strategy then cancels the sibling anyway, to show the answer
(-2091), and after a liquidation it cancels its expired rows (-2092).  Every
refusal is counted by code in ``stats``, which the report shows.

Parameters: ``qty`` (default ``"0.010"``), ``offset``, ``tp``, ``sl`` (ticks;
defaults 20, 60, 40), ``patience`` and ``trail`` (bars; defaults 3 and 2).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine import ClientError
from engine.backtest.strategy import Bar, Strategy


class _Book:
    """One symbol's working state: the entry order, its rows, its age in bars."""

    __slots__ = ("entry", "entry_price", "side", "tp", "sl", "sl_price", "age", "filled")

    def __init__(self) -> None:
        self.entry: int | None = None
        self.entry_price = 0
        self.side = ""
        self.tp: int | None = None
        self.sl: int | None = None
        self.sl_price = 0
        self.age = 0
        self.filled = False


class BracketScalper(Strategy):
    """LIMIT entries with attached TP/SL; stale entries cancelled; stops trailed."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.qty = str(params.get("qty", "0.010"))
        self.offset = int(params.get("offset", 20))
        self.tp_ticks = int(params.get("tp", 60))
        self.sl_ticks = int(params.get("sl", 40))
        self.patience = int(params.get("patience", 3))
        self.trail = int(params.get("trail", 2))
        self.books: dict[str, _Book] = {}
        self.stats: dict[str, int] = {
            "entries": 0, "entries_cancelled": 0, "stops_moved": 0, "take_profits": 0,
            "stop_losses": 0, "expired_rows": 0,
        }

    def on_start(self) -> None:
        self.books = {s: _Book() for s in self.symbols}

    # -- bars -----------------------------------------------------------------------------
    def on_bar(self, bar: Bar) -> None:
        book = self.books[bar.symbol]
        if book.entry is None:
            self._enter(bar, book)
            return
        book.age += 1
        if not book.filled:
            if book.age >= self.patience:
                self._cancel(bar.symbol, book.entry, "entries_cancelled")
                self.books[bar.symbol] = book = _Book()
                self._enter(bar, book)
            return
        if book.sl is not None and book.age % self.trail == 0:
            self._trail(bar, book)

    def _enter(self, bar: Bar, book: _Book) -> None:
        buy = bar.close >= bar.open
        sign = 1 if buy else -1
        price = bar.close - sign * self.offset
        try:
            o = self.client.new_order(
                symbol=bar.symbol, side="BUY" if buy else "SELL", type="LIMIT",
                timeInForce="GTC", quantity=self.qty, price=bar.price(price),
                takeProfitPrice=bar.price(price + sign * self.tp_ticks),
                stopLossPrice=bar.price(price - sign * self.sl_ticks),
            )
        except ClientError as e:
            self._count(e)
            return
        self.stats["entries"] += 1
        book.entry, book.entry_price, book.side = o["orderId"], price, o["side"]
        book.age, book.filled = 0, o["executedQty"] != "0"
        for row in o["triggerOrders"]:
            if row["type"].startswith("TAKE_PROFIT"):
                book.tp = row["orderId"]
            else:
                book.sl, book.sl_price = row["orderId"], price - sign * self.sl_ticks

    def _trail(self, bar: Bar, book: _Book) -> None:
        sign = 1 if book.side == "BUY" else -1
        target = bar.close - sign * self.sl_ticks
        # an attached stop stays behind the entry: at most one tick short of it
        target = min(target, book.entry_price - 1) if sign > 0 else max(
            target, book.entry_price + 1)
        if sign * (target - book.sl_price) <= 0:
            return
        if not self._cancel(bar.symbol, book.sl, None):
            return
        try:
            row = self.client.new_order(
                symbol=bar.symbol, side="SELL" if sign > 0 else "BUY", type="STOP_MARKET",
                stopPrice=bar.price(target), parentOrderId=book.entry,
            )
        except ClientError as e:
            self._count(e)  # e.g. -2021: the price is already through the new stop
            book.sl = None
            return
        self.stats["stops_moved"] += 1
        book.sl, book.sl_price = row["orderId"], target

    # -- order updates ------------------------------------------------------------------------
    def on_order_update(self, order: dict) -> None:
        book = self.books.get(order["symbol"])
        if book is None or book.entry is None:
            return
        oid, status = order["orderId"], order["status"]
        if oid == book.entry and Decimal(order["executedQty"]):
            book.filled = True
        if oid not in (book.tp, book.sl):
            return
        if status == "TRIGGERED":
            self.stats["take_profits" if oid == book.tp else "stop_losses"] += 1
            sibling = book.sl if oid == book.tp else book.tp
            if sibling is not None:
                self._cancel(order["symbol"], sibling, None)  # OCO already did: -2091
            self.books[order["symbol"]] = _Book()
        elif status == "EXPIRED":
            self.stats["expired_rows"] += 1
            self._cancel(order["symbol"], oid, None)  # its position is gone: -2092
            self.books[order["symbol"]] = _Book()

    # -- helpers ------------------------------------------------------------------------------
    def _cancel(self, symbol: str, order_id: int | None, stat: str | None) -> bool:
        if order_id is None:
            return False
        try:
            self.client.cancel_order(symbol=symbol, orderId=order_id)
        except ClientError as e:
            self._count(e)
            return False
        if stat is not None:
            self.stats[stat] += 1
        return True

    def _count(self, e: ClientError) -> None:
        key = f"error_{e.error_code}"
        self.stats[key] = self.stats.get(key, 0) + 1
