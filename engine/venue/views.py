"""Read-only views, shaped as Binance's responses: orders, history, market data.

Choices (also in the README):

* account, balance and positionRisk are :mod:`engine.venue.accounts`'.
* History endpoints select rows as Binance does — default 7-day windows, the
  most recent rows unless an id anchors the list, -4165 past 7 days, income's
  ``page``; self-trades never split across pages (:mod:`engine.venue.history`).
* ``depth`` and ``book_ticker`` answer the book's own ``lastUpdateId``
  (:attr:`~engine.core.book.OrderBook.update_id`): it moves only when that book
  changes, not with the venue's other commands or with reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.core.decimals import fmt_scaled, parse_int, present
from engine.core.enums import (
    BUY,
    SELL,
    IncomeType,
)
from engine.core.errors import reject
from engine.core.instrument import money_str
from engine.venue.accounts import MARGIN_ASSETS
from engine.venue.history import anchored, inside, limit_of, most_recent, opt_int, window
from engine.venue.rule import Rule
from engine.wire.orders import order_wire_timed
from engine.wire.params import parse_symbol

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState, Ledger
    from engine.core.market import Market
    from engine.core.order import Order
    from engine.core.orderindex import OrderIndex

__all__ = ["Views"]

_DEPTH_MAX = 1000


def _order_id(o: Order) -> int:
    return o.order_id


def _trade_id(t: tuple) -> int:
    return t[0]  # type: ignore[no-any-return]


class Views(Rule):
    """Read-only endpoints.

    Room: reads the instruments, symbols, markets, ledger, order index, clock and
    update counter; changes nothing.
    """

    # the state it touches (engine.venue.rule)
    _instruments: dict[str, Instrument]
    _symbols: list[str]
    _markets: dict[str, Market]
    _ledger: Ledger
    _index: OrderIndex
    _amendments: dict[int, list[tuple[int, int, int, int, int, int, int, int]]]
    # -- orders ---------------------------------------------------------------------------
    def lookup(self, acct: AccountState, params: Mapping[str, Any]) -> Order:
        """The caller's order named by ``orderId`` or ``origClientOrderId`` on ``symbol``
        (-1102 without either; -2013 when it is not the caller's there)."""
        inst = parse_symbol(params, self._instruments)
        oid_v, cid_v = params.get("orderId"), params.get("origClientOrderId")
        if present(oid_v):
            order = self._index.by_id.get(parse_int(oid_v, "orderId"))
        elif present(cid_v):
            order = self._index.find_cid(acct.name, cid_v) if isinstance(cid_v, str) else None
        else:
            raise reject("EITHER_PARAM", "orderId", "origClientOrderId")
        if order is None or order.owner is not acct or order.inst is not inst:
            raise reject("NO_SUCH_ORDER")
        return order

    def query_order(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        return order_wire_timed(self.lookup(acct, params))

    def get_open_order(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        order = self.lookup(acct, params)
        if not order.is_open:
            raise reject("NO_SUCH_ORDER")
        return order_wire_timed(order)

    def order_amendments(self, acct: AccountState, params: Mapping[str, Any]) -> list[dict]:
        """``GET /fapi/v1/orderAmendment``: one order's amendments (:mod:`engine.venue.amend`),
        oldest first, within ``startTime``..``endTime``, at most ``limit`` (default 50,
        at most 100).  ``amendmentId`` is the amendment's event number (unique and
        increasing across the venue), ``count`` its ordinal among the order's."""
        order = self.lookup(acct, params)
        start, end = opt_int(params, "startTime"), opt_int(params, "endTime")
        limit = limit_of(params, 50, 100)
        inst, out = order.inst, []
        ps, qs = inst.price_str, inst.qty_str
        for n, (seq, t, pb, pa, qb, qa, *_margin) in enumerate(
                self._amendments.get(order.order_id, ()), 1):
            if (start is not None and t < start) or (end is not None and t > end):
                continue
            out.append({
                "amendmentId": seq, "symbol": inst.symbol, "pair": inst.symbol,
                "orderId": order.order_id, "clientOrderId": order.client_order_id, "time": t,
                "amendment": {"price": {"before": ps(pb), "after": ps(pa)},
                              "origQty": {"before": qs(qb), "after": qs(qa)}, "count": n},
            })
            if len(out) == limit:
                break
        return out

    def get_orders(self, acct: AccountState, params: Mapping[str, Any]) -> list[dict]:
        symbol = None
        if present(params.get("symbol")):
            symbol = parse_symbol(params, self._instruments).symbol
        return [order_wire_timed(o) for o in self._index.open_of(acct.name, symbol)]

    def get_all_orders(
        self, acct: AccountState, params: Mapping[str, Any]
    ) -> list[dict]:
        """``GET /fapi/v1/allOrders`` (:mod:`~engine.venue.history` has the selection)."""
        inst = parse_symbol(params, self._instruments)
        from_id = opt_int(params, "orderId")
        start, end = window(params, self._s.now, anchored=from_id is not None)
        limit = limit_of(params, 500, 1000)
        rows = [o for o in self._index.by_id.values()
                if o.owner is acct and o.inst is inst and inside(o.time, start, end)
                and (from_id is None or o.order_id >= from_id)]
        rows.sort(key=_order_id)  # ids are issued in time order
        page = most_recent(rows, _order_id, limit) if from_id is None else rows[:limit]
        return [order_wire_timed(o) for o in page]

    # -- history ------------------------------------------------------------------------
    def get_account_trades(
        self, acct: AccountState, params: Mapping[str, Any]
    ) -> list[dict]:
        """``GET /fapi/v1/userTrades`` (:mod:`~engine.venue.history`)."""
        inst = parse_symbol(params, self._instruments)
        from_id = opt_int(params, "fromId")
        if from_id is not None and (present(params.get("startTime"))
                                    or present(params.get("endTime"))):
            raise reject("OPTIONAL_PARAMS_BAD_COMBO")
        order_id = opt_int(params, "orderId")
        start, end = window(params, self._s.now,
                            anchored=from_id is not None or order_id is not None)
        limit = limit_of(params, 500, 1000)
        sym = inst.symbol
        rows = [t for t in acct.trades
                if t[1] == sym and inside(t[10], start, end)
                and (from_id is None or t[0] >= from_id)
                and (order_id is None or t[2] == order_id)]
        page = (most_recent(rows, _trade_id, limit, twins=True) if from_id is None
                else anchored(rows, _trade_id, limit, twins=True))
        return [self._trade_row(inst, t) for t in page]

    @staticmethod
    def _trade_row(inst: Instrument, t: tuple) -> dict[str, Any]:
        tid, sym, oid, side, pside, price, lots, realized, fee, maker, time = t
        return {
            "buyer": side is BUY,
            "commission": money_str(fee),
            "commissionAsset": inst.margin_asset,
            "id": tid,
            "maker": maker,
            "orderId": oid,
            "price": inst.price_str(price),
            "qty": inst.qty_str(lots),
            "quoteQty": money_str(price * lots * inst.notional_unit_e8),
            "realizedPnl": money_str(realized),
            "side": side._value_,
            "positionSide": pside._value_,
            "symbol": sym,
            "time": time,
        }

    def get_income_history(
        self, acct: AccountState, params: Mapping[str, Any]
    ) -> list[dict]:
        """``GET /fapi/v1/income``: the window's rows oldest first, ``limit`` a ``page``."""
        symbol = None
        if present(params.get("symbol")):
            symbol = parse_symbol(params, self._instruments).symbol
        kind_v = params.get("incomeType")
        kind = None
        if present(kind_v):
            try:
                kind = IncomeType(str(kind_v))
            except ValueError:
                raise reject("INVALID_PARAMETER", "incomeType") from None
        start, end = window(params, self._s.now, capped=False)
        limit = limit_of(params, 100, 1000)
        page = opt_int(params, "page")
        if page is not None and page < 1:
            raise reject("INVALID_PARAMETER", "page")
        skip = 0 if page is None else (page - 1) * limit
        out = []
        for tran_id, sym, k, amount, info, t, trade_id in acct.incomes:
            if (symbol is not None and sym != symbol) or (kind is not None and k is not kind):
                continue
            if not inside(t, start, end):
                continue
            if skip:
                skip -= 1
                continue
            out.append({
                "symbol": sym,
                "incomeType": k._value_,
                "income": money_str(amount),
                "asset": "USDT",
                "info": info,
                "time": t,
                "tranId": tran_id,
                "tradeId": str(trade_id) if trade_id else "",
            })
            if len(out) == limit:
                break
        return out

    # -- market data ---------------------------------------------------------------------
    def exchange_info(self) -> dict:
        return {
            "timezone": "UTC",
            "serverTime": self._s.now,
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": 2400},
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1,
                 "limit": 1200},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                 "limit": 300},
            ],
            "exchangeFilters": [],
            "assets": [{"asset": a, "marginAvailable": True, "autoAssetExchange": "0"}
                       for a in MARGIN_ASSETS],
            "symbols": [self._instruments[s].symbol_info() for s in self._symbols],
        }

    def depth(self, params: Mapping[str, Any]) -> dict:
        inst = parse_symbol(params, self._instruments)
        limit = limit_of(params, 500, _DEPTH_MAX)
        book = self._markets[inst.symbol].book
        ps, qs = inst.price_str, inst.qty_str
        return {
            "lastUpdateId": book.update_id,
            "E": self._s.now,
            "T": self._s.now,
            "bids": [[ps(p), qs(q)] for p, q in book.depth(BUY, limit)],
            "asks": [[ps(p), qs(q)] for p, q in book.depth(SELL, limit)],
        }

    def _symbols_param(self, params: Mapping[str, Any]) -> list[str] | None:
        if present(params.get("symbol")):
            return [parse_symbol(params, self._instruments).symbol]
        return None

    def mark_price_info(self, params: Mapping[str, Any]) -> dict | list[dict]:
        one = self._symbols_param(params)
        rows = []
        for sym in one or self._symbols:
            m = self._markets[sym]
            mark = m.mark_price()
            ps = m.inst.price_str
            rows.append({
                "symbol": sym,
                "markPrice": ps(mark or 0),
                "indexPrice": ps(mark or 0),
                "estimatedSettlePrice": ps(mark or 0),
                "lastFundingRate": "0.00010000",
                "interestRate": "0.00010000",
                "nextFundingTime": (self._s.now // 28_800_000 + 1) * 28_800_000,
                "time": self._s.now,
            })
        return rows[0] if one else rows

    def book_ticker(self, params: Mapping[str, Any]) -> dict | list[dict]:
        one = self._symbols_param(params)
        rows = []
        for sym in one or self._symbols:
            m = self._markets[sym]
            inst = m.inst
            bid, ask = m.book.best_level(BUY), m.book.best_level(SELL)
            rows.append({
                "symbol": sym,
                "bidPrice": inst.price_str(bid[0]) if bid else "0",
                "bidQty": inst.qty_str(bid[1].total) if bid else "0",
                "askPrice": inst.price_str(ask[0]) if ask else "0",
                "askQty": inst.qty_str(ask[1].total) if ask else "0",
                "time": self._s.now,
                "lastUpdateId": m.book.update_id,
            })
        return rows[0] if one else rows

    def commission_rate(self, params: Mapping[str, Any]) -> dict:
        inst = parse_symbol(params, self._instruments)
        return {
            "symbol": inst.symbol,
            "makerCommissionRate": fmt_scaled(inst.maker_rate_e8, 8),
            "takerCommissionRate": fmt_scaled(inst.taker_rate_e8, 8),
        }

    def leverage_brackets(self, params: Mapping[str, Any]) -> list[dict] | dict:
        one = self._symbols_param(params)
        rows = [
            {"symbol": s, "notionalCoef": 1, "brackets": [
                b.to_wire() for b in self._instruments[s].brackets
            ]}
            for s in one or self._symbols
        ]
        return rows[0] if one else rows
