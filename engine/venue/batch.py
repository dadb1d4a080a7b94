"""Batch placement and modify (``POST`` / ``PUT /fapi/v1/batchOrders``) and the test order.

``batchOrders`` is a list of one to five orders: the parameters of ``POST
/fapi/v1/order`` (placement) or of ``PUT /fapi/v1/order`` (modify) per item.
Over the wire it is a JSON array of objects, as Binance's connectors send it
(:func:`parse_batch`: numbers are read as the text they were written as, booleans
as ``"true"``/``"false"``, ``null`` as not sent); in process a list of mappings
is taken as it is.

* Missing or empty → -1102; not a JSON array of objects → -1130 ``Data sent for
  parameter 'batchOrders' is not valid.``; no item or more than five → -4082
  ``Invalid number of batch place orders: <n>``.  These refuse the whole request.
* Otherwise every item is its own command, judged and applied on its own exactly
  as the single endpoint would, in list order; the answer lists, in the items'
  order, each one's order object or its refusal as ``{"code", "msg"}``.  Binance
  says its items are "processed concurrently, and the order of matching is not
  guaranteed"; here they run one after another in the order sent, which is one
  of the orders Binance may use, and the one a replay can repeat.
* Like a batch cancel, the batch is one transaction against faults (an exception
  that is not a refusal undoes every item), and one journal line.

``newOrderRespType`` is per item (placement): ACK or RESULT, RESULT by default in
process and ACK over REST (the route fills it in, as for a single order).

The test order (``POST /fapi/v1/order/test``) judges an order as a placement would
— parameters, filters, margin, the book — and then undoes it: it answers ``{}``
when the order would be accepted, the placement's refusal when not, and changes
nothing either way (no id is consumed, no event is logged, nothing is journaled).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from engine.core.decimals import present
from engine.core.errors import ClientError, reject
from engine.venue.rule import Rule

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.venue.amend import Amends
    from engine.venue.entry import Entry
    from engine.venue.runner import Runner

__all__ = ["MAX_BATCH_ORDERS", "Batches", "parse_batch"]

#: Binance's most orders in one ``batchOrders`` request
MAX_BATCH_ORDERS = 5


class _Undo(Exception):
    """Raised inside the test order's transaction so that the runner rolls it back."""


def _undo(_result: Any) -> Any:
    raise _Undo


def _text(value: Any) -> Any:
    if value is True or value is False:
        return "true" if value else "false"
    return value


def parse_batch(value: Any) -> list[dict[str, Any]]:
    """The items of ``batchOrders`` (see the module docstring), or the request's refusal.

    Runtime complexity: O(length of the value).
    """
    if not present(value):
        raise reject("MANDATORY_PARAM", "batchOrders")
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_float=str, parse_int=str, parse_constant=str)
        except (ValueError, RecursionError):
            raise reject("INVALID_PARAMETER", "batchOrders") from None
    if not isinstance(value, list | tuple) or not all(isinstance(i, Mapping) for i in value):
        raise reject("INVALID_PARAMETER", "batchOrders")
    if not 1 <= len(value) <= MAX_BATCH_ORDERS:
        raise reject("INVALID_BATCH_PLACE_ORDER_SIZE", len(value))
    return [{str(k): _text(v) for k, v in item.items() if v is not None} for item in value]


class Batches(Rule):
    """Batch placement, batch modify and the test order.

    Room: none of its own; peers: ``runner`` (the batch's transaction, the test
    order's undo), ``entry`` (placement) and ``amends`` (modify).
    """

    PEERS = ("runner", "entry", "amends")

    # the rules it calls
    _runner: Runner
    _entry: Entry
    _amends: Amends

    def new_batch(self, acct: AccountState, batch: Any) -> list[dict]:
        """Place up to five orders for ``acct``, each its own command; results in order."""
        journal = self._s.journal
        if journal is not None:
            return journal.record("new_batch_orders", acct, batch)  # type: ignore[no-any-return]
        return self._each(parse_batch(batch), lambda item: self._entry.new_order(acct, item))

    def modify_batch(self, acct: AccountState, batch: Any) -> list[dict]:
        """Modify up to five orders of ``acct``, each its own command; results in order."""
        journal = self._s.journal
        if journal is not None:
            return journal.record("modify_batch_orders", acct, batch)  # type: ignore[no-any-return]
        return self._each(parse_batch(batch), lambda item: self._amends.modify_order(acct, item))

    def _each(self, items: list[dict[str, Any]], apply: Callable[[dict], dict]) -> list[dict]:
        out: list[dict] = []
        with self._runner.atomic():
            for item in items:
                try:
                    out.append(apply(item))
                except ClientError as e:
                    out.append(e.to_wire())
        return out

    def test_order(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        """Judge ``params`` as :meth:`Entry.new_order` would, then undo it: ``{}``, or the
        refusal.  Changes nothing."""
        try:
            self._runner.run_fmt(self._entry.enter, _undo, acct, params)
        except _Undo:
            return {}
        raise AssertionError("the test order was not undone")  # pragma: no cover
