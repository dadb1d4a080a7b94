"""Order entry: ``new_order`` for ordinary orders, attached TP/SL, and conditional rows.

Every rule is judged before the first mutation (validate → commit), except a
FOK that the book cannot fill after all (rolled back by the undo log).

Ordinary orders (LIMIT, MARKET)
-------------------------------
After parameter parsing (``params``): client id unique among the caller's open orders
(-4116); reduce-only needs something to reduce and may not carry TP/SL (-2022; in hedge
mode BUY SHORT / SELL LONG are closing orders and count as reduce-only); PERCENT_PRICE
around the mark for LIMIT (-4016 / -4024); MIN_NOTIONAL unless reduce-only, at the limit
price or, for MARKET, the mark (-4164); MAX_NUM_ORDERS of open LIMIT orders per account
and symbol (-2025); the cap on conditional orders for attached TP/SL (-4045, below); GTX
that would take (-5022); FOK the book cannot fill (-5021); attached TP/SL on their
protective side (-2021); margin (-2019). A ``priceMatch`` mode chooses the price before
PERCENT_PRICE (:func:`match_price`, -5041 on an empty side); every rule judges it as if
sent. A GTD order left open by matching is scheduled in ``VenueState.expiries``.

Margin (SPEC 6)
---------------
A LIMIT order freezes, for the part that can open exposure ``q = max(0, qty − what it could
reduce now)``, ``ceil(price × q / leverage) + q × max(0, dir × (price − mark))``; the sum is
fixed at placement. MARKET orders freeze nothing: the fills the book would give now are
margin-checked — ``ceil(Σ price × lots / leverage)`` plus the same open loss, over the lots
past the reducing part. A check fails when the need exceeds ``availableBalance``.

Trigger rows
------------
*Attached at entry* (``takeProfitPrice`` / ``stopLossPrice``): created PENDING in the same
transaction as the parent, ids right after it, side opposite, reduce-only, freezing nothing,
quantity = the parent's. *Attached later* (``parentOrderId``): the parent must be the caller's
ordinary order on the same symbol, open — or filled/expired with a position left to protect —
and its OCO group must not have fired yet (at most one row of a group triggers), else -2013;
same side as the parent, a reduce-only parent, or an open parent that has filled but left
nothing for the row to reduce is -2022. *Standalone*: ARMED at once; reduce-only /
close-position rows need something to reduce (-2022); stop entries pass MIN_NOTIONAL at their
price (stop price for the ``_MARKET`` types). A row that would fire at once is -2021; an
attached row must also lie on its protective side of the parent's limit price.

The cap on conditional orders (-4045)
-------------------------------------
Binance holds every conditional order — STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET,
TRAILING_STOP_MARKET, whether sent to ``/fapi/v1/order`` or ``/fapi/v1/algoOrder``, and the
TP/SL attached to a parent — in its Algo Service, and caps how many one account may have open.
Its USDⓈ-M change log of 2025-12-29
(https://developers.binance.com/docs/derivatives/change-log): "The parameter "filterType":
"MAX_NUM_ALGO_ORDERS" has been removed from the endpoint GET /fapi/v1/exchangeInfo. The
condtional order limits is 200 across all symbols." The code is -4045 MAX_STOP_ORDER_EXCEEDED,
"Reach max stop order limit." (Binance's error table; the change log names no code, and -4045 is
the table's one code for a stop-order count).

Here every trigger row counts while it is untriggered (PENDING or ARMED, wire status
NEW), on every symbol of the account; a TRIGGERED, CANCELED or EXPIRED row frees its
slot. The cap is the venue's ``max_num_algo_orders``
(``Exchange(max_num_algo_orders=...)``, default 200). A request that would take the
account past it is refused with -4045 and changes nothing: a standalone row or one
attached later needs one free slot, a parent needs one per TP/SL it carries (two for TP
and SL) and is refused whole — the parent is not placed either. The count is the order
index's running ``open_row_count`` (O(1)).

Where it sits among the other refusals: like -2025, the per-account count of the
ordinary order book, it is judged after the request's own static rules and before
anything that depends on the book or the watched price. So for a parent: -2025 (the
parent's own slot among open orders) first, then -4045 (its rows' slots), then GTX/FOK,
the rows' -2021 and margin; for a standalone row: after reduce-only (-2022) and
MIN_NOTIONAL (-4164), before -2021; for a row attached later: after the parent checks
(-2013, -2022), before -2021. Binance documents no order between these codes; this one
reads a request the way its two services do: the order first, then the conditional
orders it brings, each judged by its count before its price.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.core.book import Level, OrderBook
from engine.core.enums import (
    BOTH,
    BUY,
    CANCELED,
    CONDITIONAL_TYPES,
    FOK,
    GTC,
    GTX,
    LIMIT,
    REJECTED,
    SELL,
    SHORT,
    STP_NONE,
    TRAILING_STOP_MARKET,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
)
from engine.core.errors import ClientError, reject
from engine.core.ledger import DEFAULT_LEVERAGE
from engine.core.order import Order, TriggerRow, row_rises
from engine.core.triggers import fires_at
from engine.venue.rule import Rule
from engine.wire.orders import order_ack, order_result, order_wire
from engine.wire.params import (
    _PLAIN_KEYS,
    _SIDES,
    OrderRequest,
    parse_new_order,
    parse_price,
    parse_quantity,
)

if TYPE_CHECKING:
    from engine.core.events import EventLog
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState, Ledger
    from engine.core.market import Market
    from engine.core.orderindex import OrderIndex
    from engine.core.txn import UndoLog
    from engine.venue.firing import Firing
    from engine.venue.matching import Matching
    from engine.venue.runner import Runner
    from engine.venue.state import VenueState
    from engine.venue.tape import Tape

__all__ = ["Entry"]

_OPPOSITE = {BUY: SELL, SELL: BUY}
_RESTING_TIFS = {"GTC": GTC, "GTX": GTX}


def _order_id(result: tuple[Order, list[TriggerRow] | None]) -> int:
    """The quiet answer of a placement: the new order's (or trigger row's) id."""
    return result[0].order_id


def match_price(book: OrderBook, side: Side, mode: str) -> int:
    """The price ``priceMatch`` ``mode`` reads for a ``side`` order: OPPONENT(_n) the best
    (n-th best) level of the other side, QUEUE(_n) of the order's own side — the deepest
    level when the side has fewer than n — or -5041 when that side is empty.  O(log L)."""
    asks = (side is BUY) == mode.startswith("OPPONENT")
    levels = book.asks if asks else book.bids
    if not levels:
        raise reject("BBO_ORDER_REJECT")
    n = mode.rpartition("_")[2]
    key = levels.peekitem(min(int(n) if n.isdigit() else 1, len(levels)) - 1)[0]
    return key if asks else -key  # bids are keyed by -price


def _closing(acct: AccountState, side: Side, pside: PositionSide) -> bool:
    """Hedge mode: BUY SHORT and SELL LONG close a position."""
    return acct.dual_side and (side is BUY) == (pside is SHORT)


class Entry(Rule):
    """``new_order`` and its rules.

    Room: the instruments, the markets, the order index, the ledger, the undo
    log, the clock and the id sequence; peers: ``runner`` (commands), ``matching``
    (execution, what a position can reduce, the book walk), ``firing`` (arming a
    standalone or an armed attached row) and ``tape`` (would the tape take an order?).
    """

    PEERS = ("runner", "matching", "firing", "tape")

    # the state it touches (engine.venue.rule)
    _instruments: dict[str, Instrument]
    _markets: dict[str, Market]
    _index: OrderIndex
    _ledger: Ledger
    _undo: UndoLog
    _events: EventLog
    # the rules it calls
    _runner: Runner
    _matching: Matching
    _firing: Firing
    _tape: Tape

    def new_order(
        self, acct: AccountState, params: Mapping[str, Any], respond: bool = True
    ) -> Any:
        """Place an order for ``acct`` from wire parameters; the Binance response dict:
        the order after matching (``newOrderRespType`` RESULT, the default here), or as
        accepted, before it traded (ACK: :func:`~engine.wire.orders.order_ack`; the REST
        route's default, as Binance's).

        ``respond=False`` (``Client.new_order_quiet``) applies the same rules and
        refusals but builds no response and returns the new ``orderId``.
        """
        s = self._s
        if s.journal is not None:  # the journal keeps a digest of the response
            out = s.journal.record("new_order", acct, params)
            return out if respond else out["orderId"]
        if s.fast_paths and not acct.dual_side:
            out = self._place_resting(acct, params, respond)
            if out is not None:
                return out
        if not respond:
            fmt: Any = _order_id
        else:
            fmt = order_ack if params.get("newOrderRespType") == "ACK" else order_result
        return self._runner.run_fmt(self.enter, fmt, acct, params)

    def _place_resting(self, acct: AccountState, params: Mapping[str, Any], respond: bool) -> Any:
        """The hot path of placement: a plain LIMIT GTC/GTX (one-way mode, no client id,
        TP/SL or reduce-only) whose price and quantity strings parse cleanly (memoised),
        passes every filter, crosses nothing (in replay mode, not the tape
        either: :meth:`~engine.venue.tape.Tape.rests_clear`) and is covered by the margin
        available: committed inline.  None whenever anything differs — the general path
        then judges, and words any error, in the documented order.  Performance: it roughly
        halves a resting placement (benchmarks/; replay: ``market_maker_cycle``)."""
        if not params.keys() <= _PLAIN_KEYS:
            return None
        get = params.get
        symbol, side_v, tif_v = get("symbol"), get("side"), get("timeInForce")
        price_v, qty_v, resp = get("price"), get("quantity"), get("newOrderRespType")
        if (
            get("type") != "LIMIT" or type(symbol) is not str or type(side_v) is not str
            or type(tif_v) is not str or type(price_v) is not str or type(qty_v) is not str
            or (resp is not None and resp != "RESULT" and resp != "ACK")
        ):
            return None
        inst = self._instruments.get(symbol)
        side = _SIDES.get(side_v)
        tif = _RESTING_TIFS.get(tif_v)
        if inst is None or side is None or tif is None:
            return None
        memo = inst.parse_memo
        price = memo["price"].get(price_v)
        qty = memo["qty"].get(qty_v)
        if price is None or qty is None:  # parse (and memoise) here: a new price each
            try:  # re-quote sent every placement the general way (market_maker_cycle)
                price = parse_price(price_v, inst) if price is None else price
                qty = parse_quantity(qty_v, inst, False) if qty is None else qty
            except ClientError:
                return None  # the general path words the refusal
        market = self._markets[symbol]
        mark = market.mark_price()
        if mark is not None and (
            price * inst.pct_den > mark * inst.up_num
            or price * inst.pct_den < mark * inst.down_num
        ):
            return None
        unit = inst.notional_unit_e8
        if price * qty * unit < inst.min_notional_e8:
            return None
        table = self._index.open_orders.get((acct.name, symbol))
        if table is not None and len(table) >= inst.max_num_orders:
            return None
        buy = side is BUY
        opposite = market.book.asks if buy else market.book.bids
        if opposite:
            best = opposite.peekitem(0)[0]
            if (price >= best) if buy else (price <= -best):
                return None
        if self._s.tape is not None and not self._tape.rests_clear(market, buy, price):
            return None
        position = acct.positions.get((symbol, BOTH))
        q = 0 if position is None else position.qty
        reducible = (-q if q < 0 else 0) if buy else (q if q > 0 else 0)
        opening = qty - reducible if qty > reducible else 0
        need = 0
        if opening:
            need = -(-price * opening * unit // acct.leverage.get(symbol, DEFAULT_LEVERAGE))
            gap = (price - mark if buy else mark - price) if mark is not None else 0
            if gap > 0:
                need += opening * gap * unit
            if need > self._ledger.available_e8(acct, self._instruments):
                return None
        order = Order(
            0, acct, inst, side, BOTH, LIMIT, tif, price, qty, False, self._s.now, None,
            STP_NONE,
        )
        order.margin0_e8 = need
        out = self._runner.run_fmt(self._rest_new, order_wire if respond else None, order, market)
        return out if respond else out.order_id

    def enter(
        self, acct: AccountState, params: Mapping[str, Any]
    ) -> tuple[Order, list[TriggerRow] | None]:
        """The body of a placement (general path), run inside a command: parse, judge,
        commit.  The new order (or row) and, for a parent, its attached rows."""
        req = parse_new_order(params, self._instruments, acct.dual_side, self._s.now)
        market = self._markets[req.inst.symbol]
        if req.cid is not None:
            existing = self._index.find_cid(acct.name, req.cid)
            if existing is not None and existing.is_open:
                raise reject("DUPLICATED_CLIENT_ORDER_ID")
        if req.type in CONDITIONAL_TYPES:
            if req.parent_id is not None:
                return self._attach_row(acct, req, market), None
            return self._standalone_row(acct, req, market), None
        return self._place(acct, req, market)

    # -- ordinary orders ---------------------------------------------------------------
    def _place(
        self, acct: AccountState, req: OrderRequest, market: Market
    ) -> tuple[Order, list[TriggerRow] | None]:
        inst = req.inst
        side = req.side
        reduce = req.reduce_only or _closing(acct, side, req.pside)
        q = acct.position_qty(inst.symbol, req.pside)
        reducible = (-q if q < 0 else 0) if side is BUY else (q if q > 0 else 0)
        if reduce and (reducible == 0 or req.legs):
            raise reject("REDUCE_ONLY_REJECT")
        limit = req.type is LIMIT
        book = market.book
        price = req.price if req.price_match == "NONE" else match_price(book, side, req.price_match)
        mark = market.mark_price()
        if limit and mark is not None:
            inst.check_band(price, mark)
        if not reduce:
            ref = price if limit else mark
            if ref is not None and ref * req.qty * inst.notional_unit_e8 < inst.min_notional_e8:
                raise reject("MIN_NOTIONAL", inst.min_notional)
        if limit and self._index.count_open(acct.name, inst.symbol) >= inst.max_num_orders:
            raise reject("MAX_OPEN_ORDER_EXCEEDED")
        if req.legs:
            self._check_row_cap(acct, len(req.legs))
        if limit:
            if req.tif is GTX:
                best = book.best(_OPPOSITE[side])
                if best is not None and (price >= best if side is BUY else price <= best):
                    raise reject("GTX_ORDER_REJECT")
            elif req.tif is FOK:
                if sum(t for _p, t in self._matching.walk(book, side, req.qty, price)) < req.qty:
                    raise reject("FOK_ORDER_REJECT")
        if req.legs:
            self._check_legs(req, market, price)
        s = self._s
        order = Order(
            0, acct, inst, side, req.pside, req.type, req.tif, price, req.qty, reduce,
            s.now, req.cid, req.stp, req.gtd, req.price_match,
        )
        if not reduce:
            margin0 = self.entry_margin(order, market, reducible)
            if margin0 is None:
                raise reject("MARGIN_NOT_SUFFICIENT")
            order.margin0_e8 = margin0
        # -- commit --
        if (
            limit and not reduce and not req.legs and req.cid is None and s.fast_paths
            and (req.tif is GTC or req.tif is GTX) and not req.gtd
        ):
            best = book.best(_OPPOSITE[side])
            if (best is None or (price < best if side is BUY else price > best)) and (
                    s.tape is None or self._tape.rests_clear(market, side is BUY, price)):
                self._rest_new(order, market)  # crosses nothing: the common resting case
                return order, None
        order.order_id = s.next_order_id()
        self._index.add(order)
        self._events.order(order, "NEW")
        if reduce:
            self._index.add_reducer(order)
        if order.margin0_e8:
            self._ledger.freeze(acct, order.margin0_e8)
        rows = self._create_legs(order, req) if req.legs else None
        self._matching.take(order, market)
        if order.gtd and order.is_open:
            s.add_expiry(order)
        return order, rows

    def _rest_new(self, order: Order, market: Market) -> Order:
        """Commit a new LIMIT order that crosses nothing and has no rows, no client id,
        no reduce-only: id, order index, frozen margin, book (and its update id) — one
        compound undo record.

        Performance: the hot path of placement (benchmarks/): the general commit's
        calls (id, index, ledger, matching, book) cost more than their work here.
        """
        acct = order.owner
        index = self._index
        key = (acct.name, order.inst.symbol)
        table = index.open_orders.get(key)
        if table is None:
            table = index.open_orders[key] = {}
        book = market.book
        if order.side is BUY:
            levels, bkey = book.bids, -order.price
        else:
            levels, bkey = book.asks, order.price
        level = levels.get(bkey)
        s = self._s
        oid = s.last_id + 1
        events = self._events
        ring = events.ring
        if len(ring) > events.limit:
            events.trim()
        self._undo.append((_unrest_new, s, order, table, book, bkey, level is None))
        ring.append(oid)  # the placement's event (engine.core.events), undone by that record
        s.last_id = oid
        order.order_id = oid
        if level is None:
            level = levels[bkey] = Level()
        level.orders[oid] = order
        level.total += order.qty
        book.update_id += 1
        index.by_id[oid] = order
        table[oid] = order
        acct.frozen_e8 += order.margin0_e8
        return order

    def entry_margin(self, order: Order, market: Market, reducible: int) -> int | None:
        """Margin to freeze for ``order`` (0 for MARKET), or None when it exceeds available."""
        acct = order.owner
        if order.type is LIMIT:
            need = frozen = self.limit_margin(order, market, reducible)
            if not need:
                return 0
        else:
            inst = order.inst
            lev = acct.leverage_of(inst.symbol)
            unit = inst.notional_unit_e8
            mark = market.mark_price()
            direction = 1 if order.side is BUY else -1
            skip = reducible
            notional = loss = 0
            for price, lots in self._matching.walk(market.book, order.side, order.qty, None):
                if skip >= lots:
                    skip -= lots
                    continue
                lots -= skip
                skip = 0
                notional += price * lots * unit
                if mark is not None and direction * (price - mark) > 0:
                    loss += lots * direction * (price - mark) * unit
            need = -(-notional // lev) + loss
            frozen = 0
        if need and need > self._ledger.available_e8(acct, self._instruments):
            return None
        return frozen

    def limit_margin(self, order: Order, market: Market, reducible: int) -> int:
        """The margin a LIMIT ``order`` of its whole quantity freezes: its notional
        beyond what it would reduce, over the leverage, plus the loss its price
        locks in against the mark (none for the part that reduces)."""
        q = order.qty - reducible if order.qty > reducible else 0
        if not q:
            return 0
        price = order.price
        unit = order.inst.notional_unit_e8
        need = -(-price * q * unit // order.owner.leverage_of(order.inst.symbol))
        mark = market.mark_price()
        direction = 1 if order.side is BUY else -1
        if mark is not None and direction * (price - mark) > 0:
            need += q * direction * (price - mark) * unit
        return need

    # -- attached TP/SL at entry -------------------------------------------------------
    def _check_legs(self, req: OrderRequest, market: Market, price: int) -> None:
        row_side = _OPPOSITE[req.side]
        watched = market.watched(req.tpsl_working_type)
        parent_price = price if req.type is LIMIT else None
        for leg in req.legs:
            rises = row_rises(leg.type, row_side)
            if parent_price is not None and (
                leg.stop <= parent_price if rises else leg.stop >= parent_price
            ):
                raise reject("WOULD_IMMEDIATELY_TRIGGER")
            if watched is not None and (watched >= leg.stop if rises else watched <= leg.stop):
                raise reject("WOULD_IMMEDIATELY_TRIGGER")

    def _create_legs(self, parent: Order, req: OrderRequest) -> list[TriggerRow]:
        rows = []
        for leg in req.legs:
            row = self._new_row(
                parent.owner, req, _OPPOSITE[parent.side], leg.type, leg.price, parent.qty
            )
            row.stop_price = leg.stop
            row.working_type = req.tpsl_working_type
            row.reduce_only = True
            row.parent = parent
            row.order_id = self._s.next_order_id()
            self._index.add(row)
            self._events.row(row)
            rows.append(row)
        self._undo.append((setattr, parent, "rows", parent.rows))
        parent.rows = rows
        return rows

    # -- conditional rows --------------------------------------------------------------
    def _check_row_cap(self, acct: AccountState, n: int) -> None:
        """-4045 when ``n`` more untriggered rows would take ``acct`` past the venue's cap
        on conditional orders (see the module docstring).  O(1)."""
        if self._index.rows_open(acct.name) + n > self._s.max_num_algo_orders:
            raise reject("MAX_STOP_ORDER_EXCEEDED")

    def _new_row(
        self, acct: AccountState, req: OrderRequest, side: Side, type_: OrderType,
        price: int, qty: int,
    ) -> TriggerRow:
        """An unregistered row object (id 0) — the caller validates, then commits it."""
        return TriggerRow(acct, req.inst, side, req.pside, type_, price, qty, self._s.now)

    def _row_from_request(self, acct: AccountState, req: OrderRequest) -> TriggerRow:
        row = self._new_row(acct, req, req.side, req.type, req.price, req.qty)
        row.stop_price = req.stop
        row.working_type = req.working_type
        row.price_protect = req.price_protect
        row.rate = req.rate
        row.cid = req.cid
        return row

    def _check_row_price(self, row: TriggerRow, req: OrderRequest, market: Market) -> None:
        """-2021 when the row would fire at the watched price now (trailing: activation side)."""
        watched = market.watched(row.working_type)
        if row.orig_type is TRAILING_STOP_MARKET:
            act = req.activation
            if act is not None and watched is not None and (
                act >= watched if row.rises else act <= watched
            ):
                raise reject("WOULD_IMMEDIATELY_TRIGGER")
            row.activation = act if act is not None else watched
        elif watched is not None and fires_at(row, watched):
            raise reject("WOULD_IMMEDIATELY_TRIGGER")

    def _standalone_row(self, acct: AccountState, req: OrderRequest, market: Market) -> TriggerRow:
        row = self._row_from_request(acct, req)
        reduce = req.reduce_only or req.close_position or _closing(acct, req.side, req.pside)
        row.reduce_only = reduce
        row.close_position = req.close_position
        if reduce and self._matching.reducible(row) == 0:
            raise reject("REDUCE_ONLY_REJECT")
        inst = req.inst
        if not reduce:
            ref = req.price or req.stop or req.activation or market.mark_price()
            if ref and ref * req.qty * inst.notional_unit_e8 < inst.min_notional_e8:
                raise reject("MIN_NOTIONAL", inst.min_notional)
        self._check_row_cap(acct, 1)
        self._check_row_price(row, req, market)
        row.order_id = self._s.next_order_id()
        self._index.add(row)
        self._events.row(row)
        self._firing.arm(row)
        return row

    def _attach_row(self, acct: AccountState, req: OrderRequest, market: Market) -> TriggerRow:
        parent = self._index.by_id.get(req.parent_id)  # type: ignore[arg-type]
        if (
            parent is None or parent.is_trigger or parent.owner is not acct
            or parent.inst is not req.inst or parent.status is CANCELED
            or parent.status is REJECTED
        ):
            raise reject("NO_SUCH_ORDER")
        if req.side is parent.side or req.pside is not parent.pside or parent.reduce_only:
            raise reject("REDUCE_ONLY_REJECT")
        row = self._row_from_request(acct, req)
        row.reduce_only = True
        row.parent = parent
        row.cap = req.qty or None
        armed = parent.executed > 0
        reducible = self._matching.reducible
        if not parent.is_open and (not armed or reducible(row) == 0):
            raise reject("NO_SUCH_ORDER")
        if any(r.status is OrderStatus.TRIGGERED for r in parent.rows or ()):
            raise reject("NO_SUCH_ORDER")  # its OCO group is spent: one row already fired
        if armed and reducible(row) == 0:
            raise reject("REDUCE_ONLY_REJECT")
        self._check_row_cap(acct, 1)
        base = parent.executed if armed else parent.qty
        row.qty = base if row.cap is None or row.cap > base else row.cap
        if parent.type is LIMIT and row.orig_type is not TRAILING_STOP_MARKET:
            if row.stop_price <= parent.price if row.rises else row.stop_price >= parent.price:
                raise reject("WOULD_IMMEDIATELY_TRIGGER")
        self._check_row_price(row, req, market)
        row.order_id = self._s.next_order_id()
        self._index.add(row)
        self._events.row(row)
        if parent.rows is None:
            self._undo.append((setattr, parent, "rows", None))
            parent.rows = [row]
        else:
            self._undo.append((parent.rows.pop,))
            parent.rows.append(row)
        if armed:
            self._firing.arm(row)
        return row


def _unrest_new(
    s: VenueState, order: Order, table: dict, book: OrderBook, bkey: int, created: bool
) -> None:
    """Inverse of ``_rest_new`` (undone before anything logged after it), its event
    off the event log too."""
    s.events.ring.pop()
    oid = order.order_id
    s.last_id = oid - 1
    del s.index.by_id[oid]
    del table[oid]
    levels = book.bids if order.side is BUY else book.asks
    level = levels[bkey]
    del level.orders[oid]
    level.total -= order.qty
    book.update_id -= 1
    if created:
        del levels[bkey]
    order.owner.frozen_e8 -= order.margin0_e8
    order.order_id = 0
