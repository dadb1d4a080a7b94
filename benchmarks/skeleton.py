"""A reference point between the floor and the venue: the skeleton of a cancel that answers.

Not a venue and not used by one: it shows what the cancel target costs in
CPython before any rule is checked.  Each resting order is a slotted object (as
the venue's are), held in an id index and in its price level's insertion-ordered
dict; a cancel looks the order up, logs one undo record, takes it off its level
(dropping an emptied level), releases its frozen margin, marks it CANCELED and
answers a Binance-shaped dict copied from a template with the per-order fields
set — the work the issue's cancel definition names (margin release, the full
response dict), and nothing else: no symbol, owner or status check, no client
layer, no open-order set, no trigger rows.

Measured beside the floor in ``benchmarks/test_hot_paths.py``
(``skeleton_cancel``): its ratio bounds what any venue built from order objects
and response dicts can reach on the same machine.  ``SkeletonBook(respond=False)``
(``skeleton_cancel_quiet``) stops before the response, so the two rows price the
dict itself; ``benchmarks/compiled_skeleton.py`` runs this module compiled by
mypyc beside the interpreted one.
"""

from __future__ import annotations

from typing import Any

from sortedcontainers import SortedDict

_FIELDS = (
    "orderId symbol status clientOrderId price avgPrice origQty executedQty cumQty cumQuote "
    "timeInForce type reduceOnly closePosition side positionSide stopPrice workingType "
    "priceProtect origType priceMatch selfTradePreventionMode goodTillDate updateTime"
).split()
_TEMPLATE: dict[str, Any] = dict.fromkeys(_FIELDS, "0")


class _Order:
    __slots__ = ("order_id", "price", "qty", "margin", "status", "owner", "update_time")

    def __init__(self, order_id: int, price: int, qty: int, owner: _Account) -> None:
        self.order_id, self.price, self.qty, self.owner = order_id, price, qty, owner
        self.margin = price * qty  # any integer: the cancel releases what was frozen
        self.status = "NEW"
        self.update_time = 0


class _Account:
    __slots__ = ("frozen",)

    def __init__(self) -> None:
        self.frozen = 0


class SkeletonBook:
    """Add and cancel-with-response; see the module docstring for what is left out."""

    __slots__ = ("by_id", "levels", "account", "undo", "price_text", "now", "respond")

    def __init__(self, respond: bool = True) -> None:
        self.by_id: dict[int, _Order] = {}
        self.levels: SortedDict = SortedDict()
        self.account = _Account()
        self.undo: list[tuple] = []
        self.price_text: dict[int, str] = {}
        self.now = 0
        self.respond = respond

    def add(self, order_id: int, price: int, qty: int) -> None:
        o = _Order(order_id, price, qty, self.account)
        level = self.levels.get(price)
        if level is None:
            level = self.levels[price] = {}
        level[order_id] = o
        self.by_id[order_id] = o
        self.account.frozen += o.margin
        if price not in self.price_text:
            self.price_text[price] = f"{price // 10}.{price % 10}"

    def cancel(self, order_id: int) -> dict[str, Any] | None:
        o = self.by_id[order_id]
        price = o.price
        level = self.levels[price]
        self.undo.append((o, level, o.status, o.update_time))
        del level[order_id]
        if not level:
            del self.levels[price]
        o.owner.frozen -= o.margin
        o.status = "CANCELED"
        o.update_time = now = self.now
        self.undo.clear()
        if not self.respond:
            return None
        d = _TEMPLATE.copy()
        d["orderId"] = order_id
        d["status"] = "CANCELED"
        d["clientOrderId"] = "x-sim-" + str(order_id)
        d["price"] = self.price_text[price]
        d["origQty"] = "0.010"
        d["updateTime"] = now
        return d
