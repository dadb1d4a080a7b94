"""A reference point between the floor sweep and the venue: the skeleton of a fill.

Not a venue and not used by one: what the fill target's definition names, in CPython,
with no rule checked.  "A LIMIT IOC crossing 3 levels (one resting order of another
account per level; both accounts' margin, fees and positions updated; the full answer
built)": an order object for the taker, one undo record for the command, and per level —
peek the best level, take its first order, the fill's notional and both fees
(``ceil``), both positions (quantity, cost) and wallets, the maker's margin released,
both orders' executed quantity, quote and status, a trade row on each account, the maker
off its level and the id index (and the level dropped when empty) — then the answer, a
24-key dict copied from a template with the taker's fields set.

Left out, all of which the venue does: parameter parsing and every filter, the realized
PnL of a reducing fill, the income rows, the event log, history kept per order, the
settle pass (reduce-only sweep, trigger evaluation, liquidation check), the update
counter.  Measured beside the floor sweep in ``benchmarks/test_targets.py``
(``skeleton_fill_ioc``): its ratio bounds what a venue built from order objects and
response dicts can reach on the same machine for this target.
"""

from __future__ import annotations

from typing import Any

from sortedcontainers import SortedDict

from benchmarks.skeleton import _TEMPLATE

_E8 = 10**8
_UNIT = 10**5  # 10⁻⁸ USDT per (tick of 0.1 × lot of 0.001)
_TAKER_RATE, _MAKER_RATE = 50_000, 20_000  # 0.0005, 0.0002 in 10⁻⁸


class _Account:
    __slots__ = ("wallet", "frozen", "qty", "cost", "trades")

    def __init__(self) -> None:
        self.wallet = 10**20
        self.frozen = self.qty = self.cost = 0
        self.trades: list[tuple] = []


class _Order:
    __slots__ = ("order_id", "owner", "buy", "price", "qty", "executed", "cum", "status",
                 "margin", "update_time")

    def __init__(self, order_id: int, owner: _Account, buy: bool, price: int, qty: int) -> None:
        self.order_id, self.owner, self.buy, self.price, self.qty = order_id, owner, buy, price, qty
        self.executed = self.cum = 0
        self.status = "NEW"
        self.margin = price * qty * _UNIT // 20
        self.update_time = 0


class SkeletonFillBook:
    """Resting orders of a maker, and LIMIT IOC takers of a taker; see the module docstring."""

    __slots__ = ("ids", "bids", "asks", "maker", "taker", "undo", "next_id", "now", "fee")

    def __init__(self) -> None:
        self.ids: dict[int, _Order] = {}
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.maker, self.taker = _Account(), _Account()
        self.undo: list[tuple] = []
        self.next_id = 1
        self.now = 0
        self.fee = 0

    def add(self, side: str, price: int, qty: int) -> None:
        buy = side == "BUY"
        o = _Order(self.next_id, self.maker, buy, price, qty)
        self.next_id += 1
        levels, key = (self.bids, -price) if buy else (self.asks, price)
        level = levels.get(key)
        if level is None:
            level = levels[key] = {}
        level[o.order_id] = o
        self.ids[o.order_id] = o
        self.maker.frozen += o.margin

    def ioc(self, side: str, price: int, qty: int) -> dict[str, Any]:
        buy = side == "BUY"
        taker = _Order(self.next_id, self.taker, buy, price, qty)
        self.next_id += 1
        undo = self.undo
        undo.append((taker,))
        book = self.asks if buy else self.bids
        now = self.now
        sign = 1 if buy else -1
        while taker.executed < qty and book:
            key, level = book.peekitem(0)
            px = key if buy else -key
            if px > price if buy else px < price:
                break
            maker = next(iter(level.values()))
            lots = min(qty - taker.executed, maker.qty - maker.executed)
            notional = lots * px * _UNIT
            for o, rate, dq in ((maker, _MAKER_RATE, -sign * lots),
                                (taker, _TAKER_RATE, sign * lots)):
                acct = o.owner
                fee = -(-notional * rate // _E8)
                undo.append((o, o.executed, o.cum, o.status, acct, acct.qty, acct.cost,
                             acct.wallet, acct.frozen))
                acct.qty += dq
                acct.cost += dq * px * _UNIT
                acct.wallet -= fee
                self.fee += fee
                before = -(-o.margin * (o.qty - o.executed) // o.qty)
                o.executed += lots
                o.cum += notional
                o.status = "FILLED" if o.executed == o.qty else "PARTIALLY_FILLED"
                o.update_time = now
                acct.frozen -= before + (-o.margin * (o.qty - o.executed) // o.qty)
                acct.trades.append((o.order_id, px, lots, fee, o is maker, now))
            if maker.executed == maker.qty:
                del level[maker.order_id]
                del self.ids[maker.order_id]
                if not level:
                    del book[key]
        if taker.executed < qty:
            taker.status = "EXPIRED"
        undo.clear()
        d = _TEMPLATE.copy()
        d["orderId"] = taker.order_id
        d["status"] = taker.status
        d["side"] = side
        d["price"] = str(price)
        d["origQty"] = d["executedQty"] = d["cumQty"] = str(taker.executed)
        d["cumQuote"] = str(taker.cum)
        d["avgPrice"] = str(taker.cum // max(1, taker.executed))
        d["updateTime"] = now
        return d
