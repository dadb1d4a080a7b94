"""Order modify (``PUT /fapi/v1/order``): a resting LIMIT order's new price and quantity.

Binance's rules (USDⓈ-M *Modify Order (TRADE)*), in the order they are judged:

1. ``symbol`` (-1102 / -1121); ``side`` and ``quantity`` (each -1102 when
   missing); ``priceMatch`` (-5037 unknown, or OPPONENT_10 / OPPONENT_20, as on
   placement); ``price`` (-1102 when missing without a priceMatch mode — USDⓈ-M
   wants quantity and price both — and -1106 when sent with one); ``orderId`` or
   ``origClientOrderId`` (``orderId`` wins; neither: -1102) — then the order, found
   as a query finds it: unknown, another account's, on another symbol or no longer
   open → -2013 "Order does not exist."; a trigger row or any type but LIMIT →
   -1116 ("currently only LIMIT order modification is supported"); ``side`` other
   than the order's → -1117.
2. With a priceMatch mode, the price it reads from the book now, as a placement
   reads it (-5041 when that side is empty; the order's own level counts).
   The new price and quantity on the filters, as a placement checks them
   (PRICE_FILTER, LOT_SIZE; PERCENT_PRICE against the mark) — refused, the order
   stays as it is.  The same price and quantity → -5027 "No need to modify the
   order."; an order amended 10,000 times already → -5026.
3. The order is *cancelled by the amendment* (status CANCELED, its untriggered
   TP/SL rows with it, as a cancel) when it is partially filled and the new
   quantity is at most ``executedQty``, or when it is GTX (post-only) and the new
   price would trade at once.
4. Otherwise it leaves the book, its frozen margin is released and frozen again for
   the new price and quantity (what is left of it, as a placement margins it;
   -2019 when the new margin exceeds the available balance, and nothing changes),
   and it is matched like a new taker at its new price: what is left rests at the
   back of its price's queue — "modified orders will be reordered in the match
   queue", so even a smaller quantity at the same price loses its place.

One transaction: an amendment is all of that or nothing.  It yields an
``ORDER_TRADE_UPDATE`` with execution type ``AMENDMENT`` (status unchanged), then
the fills it made; the amendment is kept in ``VenueState.amendments`` (event
number, time, price, quantity and margin before and after), which ``GET
/fapi/v1/orderAmendment`` reads and which lets an earlier event of the order
format with the price and quantity it had then (:mod:`engine.wire.events`).
The answer is the order object (``PUT`` answers as ``POST`` does); over REST it
weighs 0 and counts as an order, as Binance's page says.

Choices where the USDⓈ-M page is silent: ``selfTradePreventionMode`` is kept (the
coin-margined page says modify resets it to NONE); MIN_NOTIONAL is not re-checked
(the page names only the three filters above); a reduce-only order freezes nothing,
before and after.  A GTD order keeps its ``goodTillDate`` (and its scheduled
expiry).  The order's ``priceMatch`` becomes the mode the amendment sent, or NONE
when it sent a price; a mode that reads the order's own price with the same
quantity is -5027 like any amendment that changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.core.decimals import present
from engine.core.enums import BUY, GTX, LIMIT, OPEN_STATUSES, Side
from engine.core.errors import reject
from engine.venue.entry import match_price
from engine.venue.rule import Rule
from engine.wire.orders import order_wire
from engine.wire.params import parse_price, parse_price_match, parse_quantity, parse_symbol

if TYPE_CHECKING:
    from engine.core.events import EventLog
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState, Ledger
    from engine.core.market import Market
    from engine.core.order import Order
    from engine.core.orderindex import OrderIndex
    from engine.core.txn import UndoLog
    from engine.venue.cancel import Cancels
    from engine.venue.entry import Entry
    from engine.venue.matching import Matching
    from engine.venue.runner import Runner
    from engine.venue.views import Views

__all__ = ["MAX_AMENDMENTS", "Amends"]

#: amendments one order may have (Binance: "less than 10000 times")
MAX_AMENDMENTS = 10_000


class Amends(Rule):
    """Order modify (see the module docstring).

    Room: the undo log, the event log, the instruments and markets, the ledger, the
    order index and the amendments; peers: the runner, entry (margin), matching
    (the new taker), cancels (an amendment that cancels) and views (the lookup of
    an order by id or client id, as a query finds it).
    """

    PEERS = ("runner", "entry", "matching", "cancels", "views")

    _undo: UndoLog
    _events: EventLog
    _instruments: dict[str, Instrument]
    _markets: dict[str, Market]
    _ledger: Ledger
    _index: OrderIndex
    _amendments: dict[int, list[tuple[int, int, int, int, int, int, int, int]]]
    _runner: Runner
    _entry: Entry
    _matching: Matching
    _cancels: Cancels
    _views: Views

    def modify_order(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        """``PUT /fapi/v1/order``: amend ``acct``'s open LIMIT order; its order object."""
        journal = self._s.journal
        if journal is not None:
            return journal.record("modify_order", acct, params)  # type: ignore[no-any-return]
        return self._runner.run_fmt(self._modify, order_wire, acct, params)  # type: ignore

    def _modify(self, acct: AccountState, params: Mapping[str, Any]) -> Order:
        get = params.get
        parse_symbol(params, self._instruments)
        for name in ("side", "quantity"):
            if not present(get(name)):
                raise reject("MANDATORY_PARAM", name)
        pm_v = get("priceMatch")
        match = parse_price_match(pm_v) if present(pm_v) else "NONE"
        if match == "NONE" and not present(get("price")):
            raise reject("MANDATORY_PARAM", "price")
        if match != "NONE" and present(get("price")):
            raise reject("PARAM_NOT_REQUIRED", "price")
        order = self._views.lookup(acct, params)  # -1102 without an id, -2013 not the caller's
        if order.status not in OPEN_STATUSES:
            raise reject("NO_SUCH_ORDER")
        if order.is_trigger or order.type is not LIMIT:
            raise reject("INVALID_ORDER_TYPE")
        if get("side") != order.side._value_:
            raise reject("INVALID_SIDE")
        inst = order.inst
        market = self._markets[inst.symbol]
        if match == "NONE":
            price = parse_price(get("price"), inst)
        else:
            price = match_price(market.book, order.side, match)
        qty = parse_quantity(get("quantity"), inst, False)
        mark = market.mark_price()
        if mark is not None:
            inst.check_band(price, mark)
        if price == order.price and qty == order.qty:
            raise reject("SAME_ORDER")
        past = self._amendments.get(order.order_id)
        if past is not None and len(past) >= MAX_AMENDMENTS:
            raise reject("MODIFY_LIMIT")
        # -- commit --
        buy = order.side is BUY
        best = market.book.best(Side.SELL if buy else Side.BUY)
        crosses = best is not None and (price >= best if buy else price <= best)
        if (order.executed and qty <= order.executed) or (order.tif is GTX and crosses):
            self._cancels.cancel_commit(order)  # cancelled by the amendment
            return order
        market.book.remove(order)
        frozen = order.frozen_e8()
        if frozen:
            self._ledger.release(acct, frozen)
        u = self._undo
        u.append((_restore, order, order.price, order.qty, order.margin0_e8, order.update_time))
        before = (order.price, order.qty, order.margin0_e8)
        order.price, order.qty, order.update_time = price, qty, self._s.now
        if match != order.price_match:
            u.append((_set_match, order, order.price_match))
            _set_match(order, match)
        if not order.reduce_only:
            margin0 = self._entry.limit_margin(order, market, self._matching.reducible(order))
            order.margin0_e8 = margin0
            frozen = order.frozen_e8()
            if frozen > self._ledger.available_e8(acct, self._instruments):
                raise reject("MARGIN_NOT_SUFFICIENT")
            self._ledger.freeze(acct, frozen)
        events = self._events
        events.order(order, "AMENDMENT")
        record = (events.last(), self._s.now, before[0], price, before[1], qty, before[2],
                  order.margin0_e8)
        if past is None:
            u.append((self._amendments.pop, order.order_id))
            self._amendments[order.order_id] = [record]
        else:
            u.append((past.pop,))
            past.append(record)
        self._matching.take(order, market)
        book = market.book
        if order.status in OPEN_STATUSES and book.contains(order):
            book.requeue(order, (2 * self._s.last_id + 1, record[0]))  # behind younger ids
        return order


def _set_match(order: Order, mode: str) -> None:
    """Set the order's priceMatch mode; its wire template (keyed by it) is rebuilt."""
    order.price_match = mode
    order.tmpl = None


def _restore(order: Order, price: int, qty: int, margin0: int, upd: int) -> None:
    order.price, order.qty, order.margin0_e8, order.update_time = price, qty, margin0, upd
