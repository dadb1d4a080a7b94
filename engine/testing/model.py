"""A plain reference model of SPEC 4 and 5's cascade rules, for property tests.

It knows only what the public API shows: who placed which order, on which
symbol, which rows belong to which parent (one OCO group per parent), and the
wire status of everything as last observed.  From that it predicts:

* the exact outcome of a cancel (success, or which failure code, SPEC 4.4 precedence);
* which rows must be CANCELED after a successful cancel of a parent;
* which status transitions are allowed in any step (terminal states are
  final; a TRIGGERED row's NEW siblings are CANCELED in the same step; a
  parent that ends with no fill leaves no row NEW and none TRIGGERED or
  EXPIRED; a cancelled parent leaves no row NEW).

It needs no hypothesis and no venue: feed it order objects with
:meth:`CascadeModel.learn`.

>>> m = CascadeModel()
>>> m.learn("alice", {"orderId": 1, "symbol": "BTCUSDT", "status": "NEW", "executedQty": "0",
...     "triggerOrders": [{"orderId": 2, "symbol": "BTCUSDT", "status": "NEW",
...                        "executedQty": "0", "parentOrderId": 1}]})
>>> m.expected_cancel("bob", "BTCUSDT", 2), m.expected_cancel("alice", "BTCUSDT", 1)
(-2093, None)
>>> m.cascade_of(1), sorted(m.open_ids)
([2], [1, 2])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TERMINAL = frozenset({"FILLED", "CANCELED", "EXPIRED", "TRIGGERED", "REJECTED"})
OPEN = frozenset({"NEW", "PARTIALLY_FILLED"})
_ROW_FAILURE = {"TRIGGERED": -2090, "CANCELED": -2091, "EXPIRED": -2092}


@dataclass
class Rec:
    """One order as the public API last showed it."""

    order_id: int
    owner: str
    symbol: str
    is_row: bool
    parent: int | None = None
    group: list[int] = field(default_factory=list)  # rows, on a parent
    status: str = "NEW"
    executed: str = "0"
    child: int | None = None


class CascadeModel:
    """Orders as the public API shows them, and the cascade rules over them.

    ``open_ids`` holds the ids last seen open (NEW or PARTIALLY_FILLED): only
    those can change, so an observer re-reads them and nothing else.
    """

    def __init__(self) -> None:
        self.orders: dict[int, Rec] = {}
        self.open_ids: set[int] = set()

    # -- learning -------------------------------------------------------------------
    def learn(self, owner: str, wire: dict[str, Any]) -> None:
        """Record an order object from a response (and its ``triggerOrders``).  O(rows)."""
        oid = wire["orderId"]
        rec = self.orders.get(oid)
        if rec is None:
            parent = wire.get("parentOrderId") or None
            rec = Rec(oid, owner, wire["symbol"], "parentOrderId" in wire, parent)
            self.orders[oid] = rec
            if parent is not None:
                self.orders[parent].group.append(oid)
        status = rec.status = wire["status"]
        rec.executed = wire["executedQty"]
        rec.child = wire.get("triggeredOrderId")
        if status in OPEN:
            self.open_ids.add(oid)
        else:
            self.open_ids.discard(oid)
        for row in wire.get("triggerOrders", ()):
            self.learn(owner, row)

    def snapshot(self) -> dict[int, tuple[str, str]]:
        """``id -> (status, executedQty)`` of the open orders: what a step may change."""
        orders = self.orders
        return {oid: (orders[oid].status, orders[oid].executed) for oid in self.open_ids}

    # -- predictions --------------------------------------------------------------------
    def expected_cancel(self, caller: str, symbol: str, order_id: int) -> int | None:
        """The error code a cancel must fail with, or None when it must succeed."""
        rec = self.orders.get(order_id)
        if rec is None:
            return -2011
        if rec.owner != caller:
            return -2093 if rec.is_row else -2011
        if rec.symbol != symbol:
            return -2011
        if rec.status in OPEN:
            return None
        if not rec.is_row:
            return -2011
        return _ROW_FAILURE[rec.status]

    def cascade_of(self, order_id: int) -> list[int]:
        """Rows that a successful cancel of ``order_id`` must cancel (its NEW rows)."""
        rec = self.orders[order_id]
        return [r for r in rec.group if self.orders[r].status == "NEW"]

    # -- transitions -----------------------------------------------------------------
    def check_step(self, before: dict[int, tuple[str, str]], cancelled: set[int]) -> None:
        """Check every status change since ``before`` (:meth:`snapshot` of the step's start).

        ``cancelled`` holds the ids this step cancelled on purpose (a cancel
        command and its cascade); any other CANCELED must come from an OCO
        sibling firing or a parent ending without a fill.  Orders that were
        terminal before cannot change (:meth:`check_final` re-reads them).
        O(orders that were open + their groups).
        """
        parents: set[int] = set()
        for oid, (old_status, _old_exec) in before.items():
            rec = self.orders[oid]
            if rec.parent is not None:
                parents.add(rec.parent)
            elif rec.group:
                parents.add(oid)
            if rec.status == old_status or not rec.is_row:
                continue
            assert old_status == "NEW", f"row {oid} was {old_status}"
            self._check_row_change(rec, before, cancelled)
        for pid in parents:
            self._check_group(self.orders[pid])

    def _check_row_change(
        self, rec: Rec, before: dict[int, tuple[str, str]], cancelled: set[int]
    ) -> None:
        oid = rec.order_id
        parent = self.orders.get(rec.parent) if rec.parent else None
        group = [] if parent is None else [self.orders[s] for s in parent.group]
        if rec.status == "TRIGGERED":
            assert rec.child is not None, f"row {oid} TRIGGERED without a child id"
            for sib in group:
                if sib.order_id != oid and before.get(sib.order_id, ("", ""))[0] == "NEW":
                    assert sib.status == "CANCELED", (
                        f"row {oid} fired but sibling {sib.order_id} is {sib.status}"
                    )
        elif rec.status == "CANCELED" and oid not in cancelled:
            sibling_fired = any(
                s.status == "TRIGGERED" and before.get(s.order_id, ("", ""))[0] == "NEW"
                for s in group
            )
            parent_ended_unfilled = (
                parent is not None and parent.status in TERMINAL and parent.executed == "0"
            )
            assert sibling_fired or parent_ended_unfilled, (
                f"row {oid} CANCELED with no cancel, no OCO fire, no unfilled parent end"
            )
        elif rec.status == "EXPIRED":
            assert parent is None or parent.executed != "0", (
                f"row {oid} EXPIRED though its parent never filled"
            )

    def _check_group(self, parent: Rec) -> None:
        rows = [self.orders[r] for r in parent.group]
        fired = [r for r in rows if r.status == "TRIGGERED"]
        assert len(fired) <= 1, f"parent {parent.order_id}: {len(fired)} rows TRIGGERED"
        if parent.status == "CANCELED":
            assert all(r.status != "NEW" for r in rows), (
                f"parent {parent.order_id} cancelled, a row NEW"
            )
        if parent.status in TERMINAL and parent.executed == "0":
            assert all(r.status == "CANCELED" for r in rows), (
                f"parent {parent.order_id} ended unfilled; rows {[r.status for r in rows]}"
            )

    def check_final(self, seen: dict[int, dict[str, Any]]) -> None:
        """Every order the model holds as terminal still shows that status in ``seen``
        (``id -> order object`` as re-read now): terminal states are final."""
        for oid, rec in self.orders.items():
            if rec.status in TERMINAL:
                now = seen[oid]["status"]
                assert now == rec.status, f"{oid}: terminal {rec.status} -> {now}"
