"""Event-log deltas as Binance shapes them: the user-data stream's JSON and order objects.

The venue's event log (:mod:`engine.core.events`) holds compact deltas; this
module formats them, per reader and only when read, given the venue's state
(``VenueState``: its order index and instruments, for the fields of an order that
never change).  Every value that may have changed since the event comes from the
delta, never from the live order, so a delta formats the same whenever it is read.

User-data events (Binance's field names, letters, key order and JSON types —
decimals are minimal strings, ids and times are numbers, flags booleans):

* an ordinary order's update → ``ORDER_TRADE_UPDATE`` with execution type
  ``x`` NEW, CANCELED, EXPIRED, AMENDMENT (a modify: its new ``p`` and ``q``, the
  status unchanged) or TRADE, and for a fill ``TRADE_LITE`` first
  (as Binance sends it); a liquidation → ``ORDER_TRADE_UPDATE`` of order type
  LIQUIDATION, execution type CALCULATED, client id ``autoclose-<tradeId>``;
* a trigger row (attached TP/SL, standalone conditional order) →
  ``ALGO_UPDATE`` with ``X`` NEW, CANCELED or EXPIRED; when it fires, TRIGGERING
  (condition met) and then TRIGGERED (its order placed; ``ai`` that order's id as a
  string, ``ap``/``aq``/``act``) or REJECTED (the margin check refused the order it
  would place; ``rm`` says so) — Binance's Algo Service sends these apart, here one
  transaction does both; that order then reports through ``ORDER_TRADE_UPDATE``
  like any other, and the event that ends it (filled, cancelled, expired) is followed
  by the row's FINISHED with the order's ``ap`` and ``aq``;
* a wallet or position change → ``ACCOUNT_UPDATE`` with reason ``m`` (DEPOSIT,
  ORDER, FUNDING_FEE, INSURANCE_CLEAR), the USDT balance and the changed
  positions (none for a funding fee, which names its symbol in ``S``);
* a leverage change → ``ACCOUNT_CONFIG_UPDATE`` (``ac``);
* a risk check that finds the margin ratio high (:mod:`engine.venue.risk`) →
  ``MARGIN_CALL`` (``cw`` and each position's ``pa``, ``mp``, ``up``, ``mm``).

Beyond Binance's events: :func:`frozen_after` — the order margin an order's event
left frozen for it (what an event froze or released is the change from the order's
previous event), which Binance's events do not carry and an operator's view needs.

Choices where Binance's documents are silent: ``b``/``a`` (open bid/ask
notional) are "0" as in the REST answers; the expiry reason ``er`` is
"9" for a MARKET remainder, "2" for an IOC one, "4" for a reduce-only order
with nothing left to reduce, "1" for self-trade prevention; ``cr`` (a
position's accumulated realized profit) is "0" (the venue does not keep it);
``T`` (transaction time) is the order's update time for order events and the
command's event time otherwise.
"""

from __future__ import annotations

from typing import Any

from engine.core.decimals import fmt_ratio
from engine.core.enums import IOC, MARKET, REJECTED, TRAILING_STOP_MARKET
from engine.core.events import (
    ACCOUNT,
    CANCEL,
    CONFIG,
    LIQUIDATION,
    MARGIN_CALL,
    ORDER,
    PLACE,
    ROW,
    TRADE,
)
from engine.core.instrument import money_str
from engine.wire.orders import order_wire

__all__ = ["frozen_after", "order_at", "owner_of", "user_messages"]


def _avg(inst: Any, cum_e8: int, executed: int) -> str:
    if not executed:
        return "0"
    return fmt_ratio(cum_e8, executed * inst.step_m * 10 ** (8 - inst.qty_exp), 8)


def owner_of(delta: tuple) -> str | None:
    """The name of the account ``delta`` belongs to (None for a market print)."""
    return delta[1]  # type: ignore[no-any-return]


def _then(s: Any, o: Any, seq: int) -> tuple[int, int, int]:
    """The price, quantity and margin order ``o`` had at event number ``seq`` (0: now)
    — an amendment (:mod:`engine.venue.amend`) may have changed them since: the
    "before" of the first amendment after ``seq``."""
    amends = s.amendments.get(o.order_id) if seq else None
    if amends:
        for a in amends:
            if a[0] > seq:
                return a[2], a[4], a[6]
    return o.price, o.qty, o.margin0_e8


def _as_of(s: Any, o: Any, seq: int) -> tuple[int, int]:
    """The price and quantity order ``o`` had at event number ``seq`` (see :func:`_then`)."""
    return _then(s, o, seq)[:2]


def _ordinary(delta: tuple) -> tuple[int, str, str, int, int, int] | None:
    """An ordinary order's delta as ``(order_id, x, status, executed, cum_quote_e8,
    update_time)`` — the hot paths' short forms (an unfilled order placed or
    cancelled) spelled out — or None for any other delta."""
    kind = delta[0]
    if kind == ORDER:
        return delta[3:]  # type: ignore[return-value]
    if kind == TRADE:
        return (delta[3], "TRADE", *delta[4:8])  # type: ignore[return-value]
    if kind == PLACE or kind == CANCEL:
        x = "NEW" if kind == PLACE else "CANCELED"
        return delta[3], x, x, 0, 0, delta[2]
    return None


def frozen_after(delta: tuple, s: Any, seq: int = 0) -> int | None:
    """The order margin (10⁻⁸ USDT) an ordinary order's event left frozen for it —
    ``ceil(margin × leaves / quantity)`` while it is open, 0 once it is closed — or
    None for any other delta.  What one event froze or released is the difference
    from the order's previous event (0 before its first).  The venue's margin
    ledger freezes exactly this much per order (``check_invariants``); Binance's
    events do not carry it, so an operator's view reads it here."""
    fields = _ordinary(delta)
    if fields is None:
        return None
    oid, _x, status, executed, _cum, _upd = fields
    if status != "NEW" and status != "PARTIALLY_FILLED":
        return 0
    _price, qty, margin = _then(s, s.index.by_id[oid], seq)
    return -(-margin * (qty - executed) // qty) if margin else 0


def order_at(delta: tuple, s: Any, seq: int = 0) -> dict[str, Any] | None:
    """The REST order object (with ``time``) of an order or row as this event left it;
    None for other deltas.  ``s``: the venue's state; ``seq``: the event's number
    (its price and quantity as then; 0: as now)."""
    kind = delta[0]
    fields = _ordinary(delta)
    if fields is not None:
        oid, _x, status, executed, cum, upd = fields
    elif kind == ROW:
        oid, status, qty, upd, triggered = delta[3:]
        o = s.index.by_id[oid]
        d = order_wire(o)
        d["status"] = status
        d["origQty"] = o.inst.qty_str(qty)
        d["updateTime"] = upd
        if triggered is None:
            d.pop("triggeredOrderId", None)
        else:
            d["triggeredOrderId"] = triggered
        d["time"] = o.time
        return d
    else:
        return None
    o = s.index.by_id[oid]
    d = order_wire(o)
    inst = o.inst
    price, qty = _as_of(s, o, seq)
    d["price"] = inst.price_str(price)
    d["origQty"] = inst.qty_str(qty)
    d["status"] = status
    ex = inst.qty_str(executed) if executed else "0"
    d["executedQty"] = d["cumQty"] = ex
    d["cumQuote"] = money_str(cum) if executed else "0"
    d["avgPrice"] = _avg(inst, cum, executed)
    d["updateTime"] = upd
    d["time"] = o.time
    return d


def user_messages(time: int, delta: tuple, s: Any, seq: int = 0) -> list[dict[str, Any]]:
    """The user-data messages of one delta published at event time ``time`` (a fill
    gives two: TRADE_LITE, then ORDER_TRADE_UPDATE; a market print gives none).
    ``s``: the venue's state; ``seq``: the delta's event number, so an order shows the
    price and quantity it had then (0: as now, right for a reader that reads each
    command's events before the next command)."""
    kind = delta[0]
    if kind == ORDER or kind == CANCEL or kind == PLACE:
        oid, x, status, executed, cum, upd = _ordinary(delta)  # type: ignore[misc]
        o = s.index.by_id[oid]
        return _finished([_order_update(time, o, x, status, executed, cum, upd,
                                        _as_of(s, o, seq))], s, o, time, status, executed,
                         cum, upd)
    if kind == TRADE:
        (oid, status, executed, cum, upd, lots, price, fee, realized, maker,
         trade_id) = delta[3:]
        o = s.index.by_id[oid]
        inst = o.inst
        out = _order_update(time, o, "TRADE", status, executed, cum, upd, _as_of(s, o, seq))
        body = out["o"]
        body["l"] = inst.qty_str(lots)
        body["L"] = inst.price_str(price)
        body["n"] = money_str(fee)
        body["t"] = trade_id
        body["m"] = maker
        body["rp"] = money_str(realized)
        lite = {
            "e": "TRADE_LITE", "E": time, "T": upd, "s": inst.symbol, "q": body["q"],
            "p": body["p"], "m": maker, "c": body["c"], "S": body["S"], "L": body["L"],
            "l": body["l"], "t": trade_id, "i": o.order_id,
        }
        return _finished([lite, out], s, o, time, status, executed, cum, upd)
    if kind == ROW:
        oid, status, qty, upd, triggered = delta[3:]
        r = s.index.by_id[oid]
        if status != "TRIGGERED":
            return [_algo_update(time, r, status, qty, upd, None)]
        # it fired: condition met (TRIGGERING), then its order placed (TRIGGERED) or
        # refused by the margin check (REJECTED), in one transaction here
        placed = s.index.by_id[triggered].status is not REJECTED  # final from birth
        return [_algo_update(time, r, "TRIGGERING", qty, upd, None, upd),
                _algo_update(time, r, "TRIGGERED" if placed else "REJECTED", qty, upd,
                             triggered, upd, "0" if placed else None)]
    if kind == ACCOUNT:
        return [_account_update(time, s.instruments, *delta[3:])]
    if kind == CONFIG:
        symbol, leverage = delta[3:]
        return [{"e": "ACCOUNT_CONFIG_UPDATE", "E": time, "T": time,
                 "ac": {"s": symbol, "l": leverage}}]
    if kind == MARGIN_CALL:
        wallet, rows = delta[3:]
        return [_margin_call(time, s.instruments, wallet, rows)]
    if kind == LIQUIDATION:
        symbol, pside, qty, price, realized, trade_id = delta[3:]
        return [_liquidation(time, s.instruments[symbol], pside, qty, price, realized, trade_id,
                             delta[2])]
    return []


def _expiry_reason(o: Any, status: str) -> str:
    if status != "EXPIRED":
        return "0"
    if o.type is MARKET:
        return "9"
    if o.tif is IOC:
        return "2"
    if o.reduce_only:
        return "4"
    if o.gtd:
        return "0"  # its goodTillDate passed: Binance's reason list has no entry for it
    return "1"


def _order_update(
    time: int, o: Any, x: str, status: str, executed: int, cum: int, upd: int,
    then: tuple[int, int],
) -> dict[str, Any]:
    inst = o.inst
    price = inst.price_str
    body: dict[str, Any] = {
        "s": inst.symbol,
        "c": o.client_order_id,
        "S": o.side._value_,
        "o": o.type._value_,
        "f": "GTD" if o.gtd else o.tif._value_,
        "q": inst.qty_str(then[1]),
        "p": price(then[0]),
        "ap": _avg(inst, cum, executed),
        "sp": price(o.stop_price),
        "x": x,
        "X": status,
        "i": o.order_id,
        "l": "0",
        "z": inst.qty_str(executed) if executed else "0",
        "L": "0",
        "N": inst.margin_asset,
        "n": "0",
        "T": upd,
        "t": 0,
        "b": "0",
        "a": "0",
        "m": False,
        "R": o.reduce_only,
        "wt": o.working_type._value_,
        "ot": o.orig_type._value_,
        "ps": o.pside._value_,
        "cp": False,
        "pP": False,
        "si": 0,
        "ss": 0,
        "rp": "0",
        "V": o.stp._value_,
        "pm": o.price_match,
        "gtd": o.gtd,
        "er": _expiry_reason(o, status),
    }
    return {"e": "ORDER_TRADE_UPDATE", "E": time, "T": upd, "o": body}


def _finished(out: list[dict[str, Any]], s: Any, o: Any, time: int, status: str,
              executed: int, cum: int, upd: int) -> list[dict[str, Any]]:
    """``out``, and when ``o`` is the order a trigger row placed and this event ended it
    (filled, cancelled, expired), the row's ``ALGO_UPDATE`` FINISHED after it."""
    if status in _ENDED and o.orig_type is not o.type:
        aid = s.events.fired_by(o.order_id)
        if aid is not None:
            r = s.index.by_id[aid]
            out.append(_algo_update(
                time, r, "FINISHED", r.qty, upd, o.order_id, r.update_time,
                _avg(o.inst, cum, executed), o.inst.qty_str(executed) if executed else "0"))
    return out


_ENDED = frozenset({"FILLED", "CANCELED", "EXPIRED"})
#: ``rm`` of a row whose order the margin check refused (Binance's -2019 message)
_REJECTED_REASON = "Margin is insufficient."


def _algo_update(
    time: int, r: Any, status: str, qty: int, upd: int, triggered: int | None,
    fired_at: int = 0, ap: str | None = None, aq: str = "0",
) -> dict[str, Any]:
    """One row's ``ALGO_UPDATE``: ``fired_at`` its trigger time (``tt``, 0 before it
    fired); ``ap`` (None: not placed in the matching engine, so no ``ap``/``aq``/
    ``act``) and ``aq`` its order's average price and executed quantity."""
    inst = r.inst
    price = inst.price_str
    body: dict[str, Any] = {
        "caid": r.client_order_id,
        "aid": r.order_id,
        "at": "CONDITIONAL",
        "o": r.orig_type._value_,
        "s": inst.symbol,
        "S": r.side._value_,
        "ps": r.pside._value_,
        "f": r.tif._value_,
        "q": inst.qty_str(qty),
        "X": status,
        "ai": "" if triggered is None else str(triggered),
    }
    if ap is not None:
        body["ap"] = ap
        body["aq"] = aq
        body["act"] = "LIMIT" if r.price else "MARKET"
    body["tp"] = price(r.stop_price)
    body["p"] = price(r.price)
    body["V"] = r.stp._value_
    body["wt"] = r.working_type._value_
    body["pm"] = "NONE"
    body["cp"] = r.close_position
    body["pP"] = r.price_protect
    body["R"] = r.reduce_only
    body["tt"] = fired_at
    body["gtd"] = 0
    body["rm"] = _REJECTED_REASON if status == "REJECTED" else ""
    if r.orig_type is TRAILING_STOP_MARKET:
        body["ia"] = r.activation is not None
    return {"e": "ALGO_UPDATE", "T": upd, "E": time, "o": body}


def _account_update(
    time: int, instruments: Any, reason: str, wallet: int, change: int,
    positions: tuple[tuple, ...], symbol: str, cross: int | None = None,
) -> dict[str, Any]:
    wb = money_str(wallet)
    cw = wb if cross is None else money_str(cross)
    data: dict[str, Any] = {
        "m": reason,
        "B": [{"a": "USDT", "wb": wb, "cw": cw, "bc": money_str(change)}],
        "P": [_position(instruments[p[0]], *p[1:]) for p in positions],
    }
    if symbol:
        data["S"] = symbol
    return {"e": "ACCOUNT_UPDATE", "E": time, "T": time, "a": data}


def _position(inst: Any, pside: str, qty: int, cost: int, mark: int | None,
              iso: int | None = None, fee: int = 0) -> dict[str, Any]:
    """One ``P`` row; ``iso``: the isolated wallet of a position on an isolated symbol
    (``mt`` isolated, ``iw`` it), None on a cross one; ``fee``: the commissions of its
    opening fills, which ``bep`` folds in as positionRisk's ``breakEvenPrice`` does."""
    if qty:
        per_lot = qty * inst.step_m * 10 ** (8 - inst.qty_exp)
        entry, bep = fmt_ratio(cost, per_lot, 8), fmt_ratio(cost + fee, per_lot, 8)
    else:
        entry = bep = "0"
    notional = qty * (mark or 0) * inst.notional_unit_e8
    return {
        "s": inst.symbol, "pa": inst.signed_qty_str(qty), "ep": entry, "bep": bep,
        "cr": "0", "up": money_str(notional - cost if mark else 0),
        "mt": "cross" if iso is None else "isolated", "iw": money_str(iso or 0), "ps": pside,
    }


def _liquidation(
    time: int, inst: Any, pside: str, qty: int, price: int, realized: int, trade_id: int,
    at: int,
) -> dict[str, Any]:
    p = inst.price_str(price)
    lots = inst.qty_str(abs(qty))
    body = {
        "s": inst.symbol, "c": f"autoclose-{trade_id}", "S": "SELL" if qty > 0 else "BUY",
        "o": "LIQUIDATION", "f": "IOC", "q": lots, "p": p, "ap": p, "sp": "0",
        "x": "CALCULATED", "X": "FILLED", "i": 0, "l": lots, "z": lots, "L": p,
        "N": inst.margin_asset, "n": "0", "T": at, "t": trade_id, "b": "0", "a": "0",
        "m": False, "R": True, "wt": "CONTRACT_PRICE", "ot": "LIQUIDATION",
        "ps": pside, "cp": False, "pP": False, "si": 0, "ss": 0,
        "rp": money_str(realized), "V": "NONE", "pm": "NONE", "gtd": 0, "er": "0",
    }
    return {"e": "ORDER_TRADE_UPDATE", "E": time, "T": at, "o": body}


def _margin_call(time: int, instruments: Any, wallet: int, rows: tuple) -> dict[str, Any]:
    """Binance's MARGIN_CALL: the cross wallet and each position at risk (no ``T``)."""
    out = []
    for symbol, pside, qty, mark, upnl, mm in rows:
        inst = instruments[symbol]
        out.append({"s": symbol, "ps": pside, "pa": inst.signed_qty_str(qty), "mt": "CROSSED",
                    "iw": "0", "mp": inst.price_str(mark), "up": money_str(upnl),
                    "mm": money_str(mm)})
    return {"e": "MARGIN_CALL", "E": time, "cw": money_str(wallet), "p": out}
