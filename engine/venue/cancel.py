"""Cancel — the venue's heart (SPEC 4): single, batch, all-open, and the countdown.

Lookup and precedence of failures (nothing changes on any of them)
------------------------------------------------------------------
1. ``symbol`` missing -1102, unknown -1121;
2. neither ``orderId`` nor ``origClientOrderId`` -1102 (``orderId`` wins when
   both are sent; a client id is looked up among the caller's own orders,
   the open one winning over older closed ones);
3. unknown id -2011; a trigger row of another account -2093; another
   account's ordinary order -2011; a symbol that is not the order's -2011;
   an ordinary order that is not open -2011; a trigger row that is not
   untriggered -2090 (it fired) / -2091 (cancelled, by any path) / -2092
   (expired with its position).

Commit
------
An ordinary order leaves the book (O(1) in its level, O(log L) if the level
empties), its remaining frozen margin goes back to ``availableBalance`` to the
last unit, its status becomes CANCELED, and — in the same transaction — every
untriggered row attached to it (PENDING or ARMED) becomes CANCELED; the
response lists those rows under ``triggerOrders``.  A trigger row cancelled
directly is the only thing that changes.  Wallet balance never moves on a cancel.

Batch items are separate transactions (results in request order, failures as
``{"code", "msg"}``); ``cancel_open_orders`` is one transaction; the countdown
cancels like ``cancel_open_orders`` at its deadline — the clock's moves go
through :meth:`Cancels.advance_to`, which fires the countdowns that fall due.

The clock
---------
:meth:`Cancels.advance_to` is the one way a command moves the clock: it walks the
countdown deadlines and the GTD expiries (``VenueState.expiries``) that fall due
by the target in time order, each at its own time (the clock set to it, so
``updateTime`` is the deadline or the goodTillDate); at one time the countdowns
go first, then the expiries by order id.  An expiry closes its order as EXPIRED
as any expiring order closes (``Matching.expire``: off the book, margin
released; its TP/SL rows as for any expiring parent: ARMED ones stay, PENDING
ones are cancelled); an entry whose order already closed is dropped.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from engine.core.book import OrderBook
from engine.core.decimals import parse_int, present
from engine.core.enums import (
    BUY,
    CANCELED,
    NEW,
    OPEN_STATUSES,
    OrderStatus,
)
from engine.core.errors import ClientError, reject
from engine.core.order import AUTO_CID_PREFIX
from engine.core.orderindex import set_row_count
from engine.venue.rule import Rule
from engine.wire.orders import order_result, order_wire
from engine.wire.params import parse_symbol

if TYPE_CHECKING:
    from sortedcontainers import SortedList

    from engine.core.events import EventLog
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState, Ledger
    from engine.core.market import Market
    from engine.core.order import Order, TriggerRow
    from engine.core.orderindex import OrderIndex
    from engine.core.txn import UndoLog
    from engine.venue.firing import Firing
    from engine.venue.matching import Matching
    from engine.venue.runner import Runner

__all__ = ["MAX_BATCH_CANCEL", "Cancels"]

MAX_BATCH_CANCEL = 10
_DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}


class Cancels(Rule):
    """Cancel commands, the countdown, and the clock that drives it.

    Room: the instruments, the markets, the order index, the undo log, the
    countdowns (and the ledger, to find a countdown's account), the GTD expiries,
    the clock and the update counter; peers: ``runner`` (commands, the batch's
    transaction), ``matching`` (closing an ordinary order, expiring a GTD one) and
    ``firing`` (closing a trigger row).
    """

    PEERS = ("runner", "matching", "firing")

    # the state it touches (engine.venue.rule)
    _instruments: dict[str, Instrument]
    _markets: dict[str, Market]
    _index: OrderIndex
    _undo: UndoLog
    _events: EventLog
    _countdowns: dict[tuple[str, str], int]
    _expiries: SortedList
    _ledger: Ledger
    # the rules it calls
    _runner: Runner
    _matching: Matching
    _firing: Firing

    # -- single -----------------------------------------------------------------------
    def cancel_order(
        self, acct: AccountState, symbol: Any, order_id: Any = None, cid: Any = None,
        respond: bool = True,
    ) -> Any:
        """Cancel one order (and cascade); the Binance response dict.  O(log L).

        ``respond=False`` (``Client.cancel_order_quiet``) applies the same rules
        and refusals but builds no response and returns None.

        The hot path is written out inline: an open, unfilled, ordinary order that
        is not reduce-only, named by an int ``orderId`` (or, without one, by its
        ``origClientOrderId``) on its own symbol, whose rows (if any) are PENDING
        or closed, goes to :meth:`_cancel_plain`.
        Anything else — every refusal included — takes the general path, which
        judges it and words the error in the documented order.
        """
        s = self._s
        if s.journal is not None:  # the journal keeps a digest of the response
            out = s.journal.record("cancel_order", acct, symbol, order_id, cid)
            return out if respond else None
        if s.fast_paths:
            if type(order_id) is int:
                o = self._index.by_id.get(order_id)
            elif order_id is None and type(cid) is str and cid:
                o = self._index.find_cid(acct.name, cid)  # the caller's own, open one first
            else:
                o = None
            if (
                o is not None and o.owner is acct and o.status is NEW  # NEW: nothing filled
                and not o.reduce_only and not o.is_trigger and not o.stop_price
                and o.inst.symbol == symbol
            ):
                rows = o.rows
                if rows is None:
                    return self._cancel_plain(o, None, respond)
                cascade: list[TriggerRow] = []
                for r in rows:
                    if r.status is NEW:
                        if r.armed:
                            break  # ARMED rows leave the fire index: general path
                        cascade.append(r)
                else:
                    return self._cancel_plain(o, cascade, respond)
        out = self._runner.run_fmt(
            self._cancel_one, order_result if respond else None, acct, symbol, order_id, cid
        )
        return out if respond else None

    def _cancel_plain(
        self, o: Order, cascade: list[TriggerRow] | None, respond: bool
    ) -> dict | None:
        """Commit the hot-path cancel of ``o`` (see :meth:`cancel_order`); the response
        (None unless ``respond``).

        Same effect as :meth:`cancel_commit` — book (and its update id), margin (all
        of ``margin0``: a NEW order is unfilled, which ``check_invariants`` asserts),
        status, open sets, the cascade to PENDING rows — with one compound undo record.
        What a command runner does around a command is done here: an exception rolls
        everything back, a commit bumps the update counter.

        The response is :func:`~engine.wire.orders.order_wire`'s common case (unfilled, no stop
        price, template remembered) written out; rows and a quietly placed order
        go through ``order_wire`` itself.

        Performance: the general path's layers (runner, lookup, book, ledger,
        index, formatter) cost about twice the work they do on a plain cancel
        (benchmarks/test_hot_paths.py); calling ``order_with_rows`` instead of the
        inline response measured 4-7% slower on plain cancels and 8-10% on
        cascades (alternating in-process rounds, 100k-order book).
        ``tests/test_fast_paths.py`` holds both paths to the same answers and
        states on generated commands.
        """
        u = self._undo
        inst = o.inst
        oid = o.order_id
        acct = o.owner
        open_key = (acct.name, inst.symbol)
        index = self._index
        table = index.open_orders[open_key]
        book = self._markets[inst.symbol].book
        if o.side is BUY:
            levels, key = book.bids, -o.price
        else:
            levels, key = book.asks, o.price
        level = levels[key]
        qty = o.qty
        m = o.margin0_e8
        s = self._s
        now = s.now
        try:
            ring = self._events.ring
            u.append((_uncancel_plain, o, book, key, level, qty, m, o.update_time, table, ring))
            ring.append(~oid)  # the cancel's event (engine.core.events), undone by that record
            orders = level.orders
            del orders[oid]
            level.total -= qty
            book.update_id += 1
            if not orders:
                del levels[key]
            acct.frozen_e8 -= m
            o.status = CANCELED
            o.update_time = now
            del table[oid]
            if cascade:
                row_table = index.open_rows[open_key]
                counts = index.open_row_count
                u.append((
                    _uncancel_rows, [(r, r.update_time) for r in cascade], row_table, counts,
                    acct.name, counts[acct.name],
                ))
                for r in cascade:
                    r.status = CANCELED
                    r.update_time = now
                    del row_table[r.order_id]
                    self._events.row(r)
                set_row_count(counts, acct.name, counts[acct.name] - len(cascade))
            d = None
            if respond:
                t = o.tmpl
                if t is None:  # placed quietly: no template remembered yet
                    d = order_wire(o)
                else:
                    d = t.copy()
                    d["orderId"] = oid
                    d["status"] = "CANCELED"
                    cid = o.cid
                    d["clientOrderId"] = AUTO_CID_PREFIX + str(oid) if cid is None else cid
                    price = o.price
                    d["price"] = inst._price_cache.get(price) or inst.price_str(price)
                    d["origQty"] = inst._qty_cache.get(qty) or inst.qty_str(qty)
                    d["updateTime"] = now
                    if o.gtd:
                        d["goodTillDate"] = o.gtd
                if cascade is not None:
                    d["triggerOrders"] = [order_wire(r) for r in cascade]
        except BaseException:
            self._runner.abort()
            raise
        u.clear()
        s.update_id += 1
        return d

    def _cancel_one(
        self, acct: AccountState, symbol: Any, order_id: Any, cid: Any
    ) -> tuple[Order, list[TriggerRow] | None]:
        market = self._markets.get(symbol) if isinstance(symbol, str) else None
        if market is None:
            if not present(symbol):
                raise reject("MANDATORY_PARAM", "symbol")
            raise reject("BAD_SYMBOL")
        order = self.find_for_cancel(acct, market, order_id, cid)
        return order, self.cancel_commit(order)

    def find_for_cancel(
        self, acct: AccountState, market: Market, order_id: Any, cid: Any
    ) -> Order:
        """The caller's cancellable order, or the refusal in SPEC 4.4's precedence."""
        if order_id is not None and order_id != "":
            oid = order_id if type(order_id) is int else parse_int(order_id, "orderId")
            order = self._index.by_id.get(oid)
        elif present(cid):
            order = self._index.find_cid(acct.name, cid) if isinstance(cid, str) else None
        else:
            raise reject("EITHER_PARAM", "orderId", "origClientOrderId")
        if order is None:
            raise reject("UNKNOWN_ORDER")
        if order.owner is not acct:
            if order.is_trigger:
                raise reject("TRIGGER_NOT_OWNED", order.order_id)
            raise reject("UNKNOWN_ORDER")
        if order.inst is not market.inst:
            raise reject("UNKNOWN_ORDER")
        status = order.status
        if status not in OPEN_STATUSES:
            if not order.is_trigger:
                raise reject("UNKNOWN_ORDER")
            if status is OrderStatus.TRIGGERED:
                raise reject(
                    "TRIGGER_ALREADY_TRIGGERED", order.order_id,
                    order.triggered_id,  # type: ignore[attr-defined]
                )
            if status is CANCELED:
                raise reject("TRIGGER_ALREADY_CANCELED", order.order_id)
            raise reject("TRIGGER_POSITION_CLOSED", order.order_id)
        return order

    def cancel_commit(self, order: Order) -> list[TriggerRow] | None:
        """Cancel an open order; returns the rows the cascade cancelled (None: not a parent)."""
        if order.is_trigger:
            self._firing.close_row(order, CANCELED)  # type: ignore[arg-type]
            return None
        self._markets[order.inst.symbol].book.remove(order)
        return self._matching.close_ordinary(order, CANCELED)

    # -- batch -------------------------------------------------------------------------
    def cancel_batch(
        self, acct: AccountState, symbol: Any, order_ids: Any, cids: Any
    ) -> list[dict]:
        """Cancel up to 10 orders, each its own transaction; results in request order.

        Each item is refused or succeeds on its own, but the batch is one
        transaction against faults: an exception that is not a refusal undoes
        every item (SPEC 8), so a failure never leaves half a batch applied.
        """
        journal = self._s.journal
        if journal is not None:
            return journal.record("cancel_batch", acct, symbol, order_ids, cids)
        parse_symbol({"symbol": symbol}, self._instruments)
        if present(order_ids):
            items = [(oid, None) for oid in _id_list(order_ids, "orderIdList")]
        elif present(cids):
            items = [(None, cid) for cid in _id_list(cids, "origClientOrderIdList")]
        else:
            raise reject("EITHER_PARAM", "orderIdList", "origClientOrderIdList")
        if not items:
            raise reject("EITHER_PARAM", "orderIdList", "origClientOrderIdList")
        if len(items) > MAX_BATCH_CANCEL:
            raise reject("EXCEED_MAX_CANCEL_ORDER_SIZE")
        out: list[dict] = []
        with self._runner.atomic():
            for oid, cid in items:
                try:
                    out.append(self.cancel_order(acct, symbol, oid, cid))
                except ClientError as e:
                    out.append(e.to_wire())
        return out

    # -- all open ----------------------------------------------------------------------
    def cancel_open_orders(self, acct: AccountState, symbol: Any) -> dict:
        """Cancel every open order and untriggered row of ``acct`` on ``symbol`` (one txn)."""
        journal = self._s.journal
        if journal is not None:
            return journal.record("cancel_open_orders", acct, symbol)
        parse_symbol({"symbol": symbol}, self._instruments)
        self._runner.run(self._cancel_all, acct, symbol)
        return dict(_DONE)

    def _cancel_all(self, acct: AccountState, symbol: str | None) -> None:
        for order in self._index.open_of(acct.name, symbol):
            if order.status in OPEN_STATUSES:  # a parent earlier in the loop may have cascaded
                self.cancel_commit(order)

    # -- countdown ---------------------------------------------------------------------
    def countdown_cancel(self, acct: AccountState, symbol: Any, countdown: Any) -> dict:
        """Arm (or with 0 disarm) the auto-cancel of ``acct``'s orders on ``symbol``."""
        s = self._s
        if s.journal is not None:
            return s.journal.record("countdown_cancel", acct, symbol, countdown)
        inst = parse_symbol({"symbol": symbol}, self._instruments)
        if not present(countdown):
            raise reject("MANDATORY_PARAM", "countdownTime")
        ms = parse_int(countdown, "countdownTime")
        key = (acct.name, inst.symbol)

        def commit() -> None:
            prev = self._countdowns.get(key)
            self._undo.append((_restore_key, self._countdowns, key, prev))
            if ms:
                self._countdowns[key] = s.now + ms
            elif prev is not None:
                del self._countdowns[key]

        self._runner.run(commit)
        return {"symbol": inst.symbol, "countdownTime": str(ms)}

    def advance_to(self, target: int) -> None:
        """Move the clock to ``target`` (inside a command), cancelling as each countdown
        deadline on the way falls due and expiring each GTD order whose goodTillDate
        falls due, each at its own time (see the module docstring).  O(log n) per
        expiry, O(countdowns) per deadline."""
        s = self._s
        countdowns, expiries = self._countdowns, self._expiries
        while countdowns or (expiries and expiries[0][0] <= target):
            due = min(((t, k) for k, t in countdowns.items() if t <= target), default=None)
            first = expiries[0] if expiries and expiries[0][0] <= target else None
            if due is not None and (first is None or due[0] <= first[0]):
                deadline, key = due
                s.set_now(deadline)
                self._undo.append((countdowns.__setitem__, key, deadline))
                del countdowns[key]
                name, symbol = key
                self._cancel_all(self._ledger.accounts[name], symbol)
            elif first is not None:
                self._expire(first)
            else:
                break
        s.set_now(target)

    def _expire(self, entry: tuple[int, int]) -> None:
        """The GTD expiry ``entry`` falls due: off the schedule, and its order EXPIRED at
        its goodTillDate if it is still open."""
        self._undo.append((self._expiries.add, entry))
        self._expiries.remove(entry)
        gtd, oid = entry
        self._s.set_now(gtd)
        order = self._index.by_id[oid]
        if order.status in OPEN_STATUSES:
            self._matching.expire(order)

def _uncancel_plain(
    o: Order, book: OrderBook, key: int, level: Any, leaves: int, frozen: int,
    update_time: int, table: dict, ring: list,
) -> None:
    """Inverse of ``_cancel_plain``: the order back at its FIFO place, margin re-frozen,
    the book's update id back, the cancel's event off the event log."""
    ring.pop()
    table[o.order_id] = o
    o.status, o.update_time = NEW, update_time
    o.owner.frozen_e8 += frozen
    levels = book.bids if o.side is BUY else book.asks
    if key not in levels:
        levels[key] = level
    OrderBook._restore(levels, key, o, leaves)
    book.update_id -= 1


def _uncancel_rows(
    rows: list[tuple[TriggerRow, int]], table: dict, counts: dict[str, int], account: str,
    count: int,
) -> None:
    """Inverse of the fast cascade: each row back to PENDING (NEW) with its old updateTime,
    and the account's open-row count back to ``count``."""
    for r, update_time in rows:
        r.status = NEW
        r.update_time = update_time
        table[r.order_id] = r
    counts[account] = count


def _id_list(value: Any, param: str) -> list[Any]:
    """A list parameter: a Python list/tuple, or its compact JSON text (as on the wire)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            raise reject("MANDATORY_PARAM", param) from None
        if isinstance(parsed, list):
            return parsed
    raise reject("MANDATORY_PARAM", param)


def _restore_key(table: dict, key: object, prev: object) -> None:
    if prev is None:
        table.pop(key, None)
    else:
        table[key] = prev
