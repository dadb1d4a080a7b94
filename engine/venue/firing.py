"""Trigger rows over their lifetime: arming, expiry, evaluation and firing (SPEC 5).

Lifecycle
---------
``PENDING`` (attached row, parent has no fill) → ``ARMED`` (parent filled some;
standalone rows start here) → ``TRIGGERED`` | ``CANCELED`` | ``EXPIRED``.

* A parent's first fill arms its PENDING rows; each fill sets an attached row's
  quantity to the parent's ``executedQty`` (capped by the ``quantity`` sent
  with ``parentOrderId``).
* A parent that is cancelled cancels all its untriggered rows (see ``cancel``);
  a parent that *expires* keeps its ARMED rows, and its PENDING rows (no fill)
  are CANCELED.
* An ARMED reduce-only row (every attached row, and standalone reduce-only or
  close-position rows) EXPIRES when its position has nothing left to reduce on
  its side, by any path; resting reduce-only orders expire by the same sweep.

Settling (end of every command that traded, moved a price or armed a row;
sequenced by :meth:`~engine.venue.runner.Runner.settle`)
------------------------------------------------------------------------
1. sweep the touched positions (:meth:`Firing.sweep_reducers`): expire
   reduce-only orders and rows with nothing to reduce;
2. evaluate (:meth:`Firing.evaluate`): per symbol (in name order), per working
   type, update trailing rows, then collect every ARMED row whose condition
   holds at the watched price now; fire them nearest-to-the-previous-evaluation-
   price first (in ticks), ties by ``orderId``; remember the price as the new
   "previous";
3. repeat until nothing fires and nothing is touched.

Firing
------
The row becomes TRIGGERED and records ``triggeredOrderId``; its OCO siblings
become CANCELED in the same transaction; a child order with a new id is placed
— MARKET for ``_MARKET`` types, LIMIT GTC at ``price`` for STOP/TAKE_PROFIT,
``origType`` = the row's type, reduce-only when the row is.  A reduce-only
child is sized min(row quantity, what the position can reduce) — if that is 0
the row EXPIRES instead.  A stop entry (not reduce-only) is margin-checked as
it fires; a failed check leaves the child REJECTED and the row TRIGGERED.
PERCENT_PRICE and MIN_NOTIONAL are not applied to children (their parameters
were checked when the row was placed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.enums import (
    CANCELED,
    CONTRACT_PRICE,
    EXPIRED,
    GTC,
    LIMIT,
    LIMIT_CONDITIONAL_TYPES,
    MARK_PRICE,
    MARKET,
    NEW,
    REJECTED,
    STP_NONE,
    OrderStatus,
)
from engine.core.order import Order, TriggerRow
from engine.venue.rule import Rule

if TYPE_CHECKING:
    from engine.core.events import EventLog
    from engine.core.ledger import AccountState, Ledger
    from engine.core.market import Market
    from engine.core.orderindex import OrderIndex
    from engine.core.triggers import TriggerRegistry
    from engine.core.txn import UndoLog
    from engine.venue.entry import Entry
    from engine.venue.matching import Matching

__all__ = ["Firing"]

_WORKING_TYPES = (MARK_PRICE, CONTRACT_PRICE)


class Firing(Rule):
    """Row arming, expiry and firing.

    Room: the undo log, the trigger registry, the order index, the ledger (a
    stop entry's child freezes margin), the markets and symbols, the clock, the
    id sequence and the settle scratch; peers: ``matching`` (what a position can
    reduce; a child order executes; orders expire) and ``entry`` (a child's
    margin check).
    """

    PEERS = ("matching", "entry")

    # the state it touches (engine.venue.rule)
    _undo: UndoLog
    _events: EventLog
    _registry: TriggerRegistry
    _index: OrderIndex
    _ledger: Ledger
    _markets: dict[str, Market]
    _symbols: list[str]
    _touched: dict[tuple[str, str], AccountState]
    # the rules it calls
    _matching: Matching
    _entry: Entry

    # -- row state changes ------------------------------------------------------------
    def arm(self, row: TriggerRow) -> None:
        """PENDING → ARMED (or a standalone row's start): into the fire index."""
        self._undo.append((setattr, row, "armed", False))
        row.armed = True
        self._registry.index(row)
        if row.reduce_only:
            self._index.add_reducer(row)
            self._touched[(row.owner.name, row.inst.symbol)] = row.owner  # sweep: flat?
        self._s.dirty = True

    def close_row(self, row: TriggerRow, status: OrderStatus) -> None:
        """Move an untriggered row to CANCELED / EXPIRED / TRIGGERED."""
        if row.armed:
            self._registry.unindex(row)
        self._undo.append((_restore_row, row, row.status, row.update_time))
        row.status = status
        row.update_time = self._s.now
        self._index.close(row)
        if status is not OrderStatus.TRIGGERED:  # _fire emits it with its order's id
            self._events.row(row)

    def on_parent_fill(self, parent: Order) -> None:
        """A parent filled some: its untriggered rows take its executed quantity and arm."""
        rows = parent.rows
        assert rows is not None
        for r in rows:
            if r.status is not NEW:
                continue
            qty = parent.executed if r.cap is None or r.cap > parent.executed else r.cap
            if r.qty != qty:
                self._undo.append((setattr, r, "qty", r.qty))
                r.qty = qty
                self._events.row(r)
            if not r.armed:
                self.arm(r)

    def on_parent_closed(self, parent: Order, canceled: bool) -> list[TriggerRow]:
        """Rows that end with the parent: all untriggered on cancel, PENDING ones on expiry."""
        out = []
        for r in parent.rows or ():
            if r.status is NEW and (canceled or not r.armed):
                self.close_row(r, CANCELED)
                out.append(r)
        return out

    # -- settling -------------------------------------------------------------------------
    def sweep_reducers(self, key: tuple[str, str]) -> None:
        """Expire the reduce-only orders and rows of (account, symbol) with nothing to reduce."""
        table = self._index.reducers.get(key)
        if not table:
            return
        for oid in sorted(table):
            o = table.get(oid)
            if o is None or not o.is_open or self._matching.reducible(o):
                continue
            if o.is_trigger:
                self.close_row(o, EXPIRED)  # type: ignore[arg-type]
            else:
                self._matching.expire(o)

    def evaluate(self) -> bool:
        """One evaluation pass over every symbol; True when anything fired."""
        registry = self._registry
        armed = registry.armed
        fired = False
        for symbol in self._symbols:
            market = self._markets[symbol]
            batch: list[tuple[int, int, TriggerRow]] = []
            for wt in _WORKING_TYPES:
                price = market.watched(wt)
                if price is None:
                    continue
                if armed:  # no armed row anywhere: nothing to track or fire (fill_ioc_3_levels)
                    prev = market.prev(wt)
                    ref = price if prev is None else prev
                    registry.track(symbol, wt, price)
                    if registry.has_due(symbol, wt, price):
                        for level, row in registry.due(symbol, wt, price):
                            batch.append((abs(level - ref), row.order_id, row))
                market.set_prev(wt, price)
            if not batch:
                continue
            batch.sort(key=_batch_key)
            for _dist, _oid, row in batch:
                if row.status is NEW and row.armed:
                    self._fire(row)
                    fired = True
        return fired

    def _fire(self, row: TriggerRow) -> None:
        matching = self._matching
        reduce = row.reduce_only or row.close_position
        if reduce:
            room = matching.reducible(row)
            size = room if row.close_position or room < row.qty else row.qty
        else:
            size = row.qty
        if size <= 0:
            self.close_row(row, EXPIRED)
            return
        self.close_row(row, OrderStatus.TRIGGERED)
        parent = row.parent
        if parent is not None:
            for sibling in parent.rows or ():
                if sibling is not row and sibling.status is NEW:
                    self.close_row(sibling, CANCELED)
        market = self._markets[row.inst.symbol]
        limit_type = row.orig_type in LIMIT_CONDITIONAL_TYPES
        s = self._s
        child = Order(
            s.next_order_id(), row.owner, row.inst, row.side, row.pside,
            LIMIT if limit_type else MARKET, GTC,
            row.price if limit_type else 0, size, reduce, s.now, None,
            STP_NONE,
        )
        child.orig_type = row.orig_type
        child.stop_price = row.stop_price
        child.working_type = row.working_type
        self._undo.append((setattr, row, "triggered_id", None))
        row.triggered_id = child.order_id
        events = self._events
        events.row(row)
        if not reduce:
            margin0 = self._entry.entry_margin(child, market, matching.reducible(child))
            if margin0 is None:
                child.status = REJECTED
                self._index.add(child)
                self._index.close(child)
                events.order(child, "EXPIRED")  # Binance has no REJECTED execution type
                return
            child.margin0_e8 = margin0
        self._index.add(child)
        events.order(child, "NEW")
        if reduce:
            self._index.add_reducer(child)
        if child.margin0_e8:
            self._ledger.freeze(child.owner, child.margin0_e8)
        matching.take(child, market)


def _batch_key(entry: tuple[int, int, TriggerRow]) -> tuple[int, int]:
    return entry[0], entry[1]


def _restore_row(row: TriggerRow, status: OrderStatus, upd: int) -> None:
    row.status, row.update_time = status, upd
