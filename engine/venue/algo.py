"""Binance's Algo Order endpoints as views of the trigger registry (SPEC 2.3).

Binance now serves conditional orders (STOP, STOP_MARKET, TAKE_PROFIT,
TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET) on ``/fapi/v1/algoOrder`` and its
siblings, and python-binance and ccxt route them there.  This venue keeps one
registry: an algo order *is* a trigger row, the same row ``new_order`` creates
for a conditional type or an attached TP/SL, so both families of endpoints see
and change the same state.  The mapping is the venue's, not the wire's, so it
lives here.

Parameters (algo name → order-entry name)
-----------------------------------------
``algoType`` must be ``CONDITIONAL`` (-1102 missing, -1130 otherwise);
``type`` must be a conditional type (LIMIT/MARKET → -1116);
``triggerPrice`` → ``stopPrice``; ``clientAlgoId`` → ``newClientOrderId``;
``activatePrice`` (or ``activationPrice``) → ``activationPrice``;
``algoId`` → ``orderId``.  Everything else — ``parentOrderId``, ``quantity``,
``price``, ``reduceOnly``, ``closePosition``, ``workingType``… — is order
entry's, with its rules and codes.  ``stopPrice`` and ``newClientOrderId``
are not algo parameters and are ignored here (python-binance drops the
latter itself).  Error messages name the algo parameters.

The algo object
---------------
``algoId`` (the row's ``orderId``), ``clientAlgoId``, ``algoType``
(CONDITIONAL), ``orderType``, ``symbol``, ``side``, ``positionSide``,
``timeInForce``, ``quantity``, ``algoStatus``, ``triggerPrice``, ``price``,
``actualOrderId`` (the child's id as a string once fired, else ``""``),
``actualPrice`` (the child's average fill price, ``"0"`` before),
``selfTradePreventionMode``, ``workingType``, ``priceMatch``,
``closePosition``, ``priceProtect``, ``reduceOnly``, ``createTime``,
``updateTime``, ``triggerTime`` (0 until fired), ``goodTillDate`` (0),
``parentOrderId`` (0 for a standalone row) and, for trailing rows,
``activatePrice`` and ``callbackRate``.  Never ``orderId``, ``status``,
``type`` or ``origQty``: ccxt reads those before the algo names.

``algoStatus`` is ``NEW`` while the row is PENDING or ARMED, then ``CANCELED``
or ``EXPIRED``, or once it fired, by the order it placed: ``TRIGGERED`` while that
order is open, ``FINISHED`` once it is filled, cancelled or expired, ``REJECTED``
when the margin check refused it.  (Binance also shows TRIGGERING, between the
condition and the placement; here a row fires and places its order in one
transaction, so a query never sees it — the user-data stream sends it.)

Cancels
-------
``cancel_algo_order`` takes ``algoId`` or ``clientAlgoId`` (neither → -1102;
``algoId`` wins; ``symbol`` is ignored, as ccxt sends it); an unknown id or an
id that is not a trigger row → -2011; then exactly the precedence of
``DELETE /fapi/v1/order`` on a trigger row: another account's row -2093, a
fired row -2090, a cancelled one -2091, an expired one -2092.  It answers
``{"algoId", "clientAlgoId", "code": "200", "msg": "success"}`` — ``code`` is
a string there, as Binance sends it.  ``cancel_algo_open_orders`` cancels the
caller's untriggered rows on a symbol (never its ordinary orders), one
transaction.

>>> from engine import Exchange
>>> from engine.venue import commands
>>> ex = Exchange(); _ = ex.create_account("ann", balance="10000")
>>> acct = ex.account_state("ann")
>>> a = commands.new_algo_order(ex, acct, {"algoType": "CONDITIONAL", "symbol": "BTCUSDT",
...     "side": "BUY", "type": "STOP_MARKET", "quantity": "0.01", "triggerPrice": "31000"})
>>> a["algoId"], a["orderType"], a["algoStatus"], "orderId" in a
(1, 'STOP_MARKET', 'NEW', False)
>>> commands.cancel_algo_order(ex, acct, {"algoId": "1"})["code"]
'200'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.core.decimals import fmt_scaled, parse_int, present
from engine.core.enums import (
    LIMIT,
    MARKET,
    TRAILING_STOP_MARKET,
    OrderStatus,
)
from engine.core.errors import ClientError, reject
from engine.venue.rule import Rule
from engine.wire.orders import avg_price_str
from engine.wire.params import parse_symbol

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState
    from engine.core.market import Market
    from engine.core.order import Order, TriggerRow
    from engine.core.orderindex import OrderIndex
    from engine.venue.cancel import Cancels
    from engine.venue.entry import Entry
    from engine.venue.runner import Runner

__all__ = ["ALGO_TYPE", "Algo", "algo_status", "algo_to_order_params", "algo_wire"]

ALGO_TYPE = "CONDITIONAL"
_CANCEL_ALL_DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}
#: algo-only names, and order-entry names that are not algo parameters (ignored here)
_NOT_PASSED = frozenset(
    {"algoType", "triggerPrice", "clientAlgoId", "activatePrice", "stopPrice",
     "newClientOrderId", "activationPrice"}
)
#: order entry's parameter names as they appear in error messages → the algo names
_RENAMES = (
    ("'stopPrice'", "'triggerPrice'"),
    ("'newClientOrderId'", "'clientAlgoId'"),
    ("'activationPrice'", "'activatePrice'"),
)
_LIST_MAX = 1000


def algo_status(row: TriggerRow, child: Order | None = None) -> str:
    """The ``algoStatus`` of a row: NEW while untriggered, CANCELED or EXPIRED; once
    fired, by the order it placed (``child``): REJECTED if the margin check refused
    it, FINISHED once it is filled, cancelled or expired, else TRIGGERED."""
    if row.status is not OrderStatus.TRIGGERED or child is None:
        return row.status._value_
    status = child.status
    if status is OrderStatus.REJECTED:
        return "REJECTED"
    if status is OrderStatus.NEW or status is OrderStatus.PARTIALLY_FILLED:
        return "TRIGGERED"
    return "FINISHED"


def algo_wire(row: TriggerRow, child: Order | None) -> dict[str, Any]:
    """The algo object of ``row``; ``child`` is the order it placed when it fired.  O(1)."""
    inst = row.inst
    ps = inst.price_str
    fired = row.status is OrderStatus.TRIGGERED
    d: dict[str, Any] = {
        "algoId": row.order_id,
        "clientAlgoId": row.client_order_id,
        "algoType": ALGO_TYPE,
        "orderType": row.orig_type._value_,
        "symbol": inst.symbol,
        "side": row.side._value_,
        "positionSide": row.pside._value_,
        "timeInForce": row.tif._value_,
        "quantity": inst.qty_str(row.qty),
        "algoStatus": algo_status(row, child),
        "triggerPrice": ps(row.stop_price),
        "price": ps(row.price),
        "actualOrderId": "" if row.triggered_id is None else str(row.triggered_id),
        "actualPrice": "0" if child is None else avg_price_str(child),
        "selfTradePreventionMode": row.stp._value_,
        "workingType": row.working_type._value_,
        "priceMatch": "NONE",
        "closePosition": row.close_position,
        "priceProtect": row.price_protect,
        "reduceOnly": row.reduce_only,
        "createTime": row.time,
        "updateTime": row.update_time,
        "triggerTime": row.update_time if fired else 0,
        "goodTillDate": 0,
        "parentOrderId": 0 if row.parent is None else row.parent.order_id,
    }
    if row.orig_type is TRAILING_STOP_MARKET:
        d["activatePrice"] = ps(row.activation or 0)
        d["callbackRate"] = fmt_scaled(row.rate, 1)
    return d


def algo_to_order_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """New-algo-order parameters as ``new_order`` parameters (see the module docstring)."""
    algo_type = params.get("algoType")
    if not present(algo_type):
        raise reject("MANDATORY_PARAM", "algoType")
    if algo_type != ALGO_TYPE:
        raise reject("INVALID_PARAMETER", "algoType")
    type_v = params.get("type")
    if type_v in (LIMIT, MARKET):
        raise reject("INVALID_ORDER_TYPE")
    out = {k: v for k, v in params.items() if k not in _NOT_PASSED}
    for algo_name, order_name in (
        ("triggerPrice", "stopPrice"), ("clientAlgoId", "newClientOrderId"),
        ("activationPrice", "activationPrice"), ("activatePrice", "activationPrice"),
    ):
        value = params.get(algo_name)
        if present(value):
            out[order_name] = value
    return out


def _renamed(e: ClientError) -> ClientError:
    msg = e.error_message
    for old, new in _RENAMES:
        msg = msg.replace(old, new)
    return ClientError(e.status_code, e.error_code, msg, e.header)


def _either(params: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """``(algoId, None)`` or ``(None, clientAlgoId)`` (algoId wins), else -1102."""
    aid = params.get("algoId")
    if present(aid):
        return (aid if type(aid) is int else parse_int(aid, "algoId")), None
    cid = params.get("clientAlgoId")
    if present(cid):
        return None, cid if isinstance(cid, str) else str(cid)
    raise reject("EITHER_PARAM", "algoId", "clientAlgoId")


class Algo(Rule):
    """The Algo Order endpoints.

    Room: the instruments, the markets and the order index; peers: ``runner``
    (commands), ``entry`` (placing the row) and ``cancels`` (cancelling it).
    """

    PEERS = ("runner", "entry", "cancels")

    # the state it touches (engine.venue.rule)
    _instruments: dict[str, Instrument]
    _markets: dict[str, Market]
    _index: OrderIndex
    # the rules it calls
    _runner: Runner
    _entry: Entry
    _cancels: Cancels

    # -- helpers -----------------------------------------------------------------------
    def _algo_object(self, row: TriggerRow) -> dict[str, Any]:
        child = None if row.triggered_id is None else self._index.by_id.get(row.triggered_id)
        return algo_wire(row, child)

    def _find_algo(self, acct: AccountState, params: Mapping[str, Any]) -> Order | None:
        """The trigger row named by algoId / clientAlgoId (any owner by id), or None."""
        aid, cid = _either(params)
        if aid is not None:
            order = self._index.by_id.get(aid)
        else:
            assert cid is not None
            order = self._index.find_cid(acct.name, cid)
        return order if order is not None and order.is_trigger else None

    # -- commands ----------------------------------------------------------------------
    def new_algo_order(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        """``POST /fapi/v1/algoOrder``: a conditional order (standalone or, with
        ``parentOrderId``, attached); the algo object of the new row."""
        journal = self._s.journal
        if journal is not None:
            return journal.record("new_algo_order", acct, params)
        try:
            mapped = algo_to_order_params(params)
            return self._runner.run_fmt(
                self._entry.enter, self._algo_entry_response, acct, mapped
            )
        except ClientError as e:
            raise _renamed(e) from None

    def _algo_entry_response(self, result: tuple[Order, Any]) -> dict:
        row = result[0]
        assert row.is_trigger, row
        return self._algo_object(row)  # type: ignore[arg-type]

    def cancel_algo_order(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        """``DELETE /fapi/v1/algoOrder``: cancel one untriggered row (its parent untouched)."""
        journal = self._s.journal
        if journal is not None:
            return journal.record("cancel_algo_order", acct, params)
        return self._runner.run_fmt(self._cancel_algo, _cancel_response, acct, params)

    def _cancel_algo(self, acct: AccountState, params: Mapping[str, Any]) -> Order:
        row = self._find_algo(acct, params)
        if row is None:
            raise reject("UNKNOWN_ORDER")
        market = self._markets[row.inst.symbol]
        # by id even when found by client id: the owner and status checks are cancel's own
        order = self._cancels.find_for_cancel(acct, market, row.order_id, None)
        self._cancels.cancel_commit(order)
        return order

    def cancel_algo_open_orders(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        """``DELETE /fapi/v1/algoOpenOrders``: every untriggered row of ``acct`` on a symbol."""
        journal = self._s.journal
        if journal is not None:
            return journal.record("cancel_algo_open_orders", acct, params)
        inst = parse_symbol(params, self._instruments)
        self._runner.run(self._cancel_all_rows, acct, inst.symbol)
        return dict(_CANCEL_ALL_DONE)

    def _cancel_all_rows(self, acct: AccountState, symbol: str) -> None:
        table = self._index.open_rows.get((acct.name, symbol))
        for oid in sorted(table or ()):
            row = self._index.by_id[oid]
            if row.is_open:
                self._cancels.cancel_commit(row)

    # -- views -------------------------------------------------------------------------
    def query_algo_order(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        """``GET /fapi/v1/algoOrder``: one of the caller's rows, any status (else -2013)."""
        row = self._find_algo(acct, params)
        if row is None or row.owner is not acct:
            raise reject("NO_SUCH_ORDER")
        return self._algo_object(row)  # type: ignore[arg-type]

    def open_algo_orders(self, acct: AccountState, params: Mapping[str, Any]) -> list[dict]:
        """``GET /fapi/v1/openAlgoOrders``: the caller's untriggered rows by id; optional
        ``symbol``, ``algoType`` and ``algoId`` filters."""
        symbol = None
        if present(params.get("symbol")):
            symbol = parse_symbol(params, self._instruments).symbol
        algo_type = params.get("algoType")
        if present(algo_type) and algo_type != ALGO_TYPE:
            raise reject("INVALID_PARAMETER", "algoType")
        only = params.get("algoId")
        only_id = parse_int(only, "algoId") if present(only) else None
        return [
            self._algo_object(o)  # type: ignore[arg-type]
            for o in self._index.open_of(acct.name, symbol)
            if o.is_trigger and (only_id is None or o.order_id == only_id)
        ]

    def all_algo_orders(self, acct: AccountState, params: Mapping[str, Any]) -> list[dict]:
        """``GET /fapi/v1/allAlgoOrders``: the caller's rows on ``symbol``, oldest first;
        ``algoId`` (from that id), ``startTime``/``endTime`` (on createTime), ``page``
        (from 1) and ``limit`` (default 500, at most 1000)."""
        inst = parse_symbol(params, self._instruments)
        from_id = _opt(params, "algoId") or 0
        start, end = _opt(params, "startTime"), _opt(params, "endTime")
        limit = _opt(params, "limit") or 500
        page = _opt(params, "page") or 1
        if not 1 <= limit <= _LIST_MAX:
            raise reject("INVALID_PARAMETER", "limit")
        skip = (page - 1) * limit
        out: list[dict] = []
        for oid in sorted(self._index.by_id):
            if oid < from_id:
                continue
            o = self._index.by_id[oid]
            if not o.is_trigger or o.owner is not acct or o.inst is not inst:
                continue
            if (start is not None and o.time < start) or (end is not None and o.time > end):
                continue
            if skip:
                skip -= 1
                continue
            out.append(self._algo_object(o))  # type: ignore[arg-type]
            if len(out) == limit:
                break
        return out


def _opt(params: Mapping[str, Any], name: str) -> int | None:
    v = params.get(name)
    return parse_int(v, name) if present(v) else None


def _cancel_response(row: Order) -> dict:
    return {"algoId": row.order_id, "clientAlgoId": row.client_order_id, "code": "200",
            "msg": "success"}
