"""The event log: a client that knows only the events ends where the venue's answers are.

The property test drives the venue state machine (:class:`~engine.testing.VenueMachine`:
orders with and without TP/SL, fills, triggers, cancels and their cascades,
refusals, the countdown, deposits, restarts from a snapshot) and, after every
step, feeds a plain reference view — open orders, trigger rows, wallet,
positions, leverage — with nothing but the user-data messages the event log
formats (:func:`engine.wire.events.user_messages`), as a bot on the user-data
stream would build it.  Then every figure of the view must equal what the
venue answers: ``query_order`` for every order and row the view knows,
``get_orders`` for which are open, ``account`` for the wallet,
``get_position_risk`` for positions and leverage.  It also checks the log's own
promises: events numbered 1, 2, 3, … without a gap, across restarts (a
snapshot carries the number); a refused command yields none; the REST order
object of each order event (:func:`engine.wire.events.order_at`) is exactly
what ``query_order`` answered at that moment.
"""

from __future__ import annotations

import os
import tempfile
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis.stateful import invariant

from engine import Exchange
from engine.core.errors import ClientError
from engine.core.events import CANCEL, ORDER, PLACE, ROW, TRADE, EventGap, EventLog
from engine.core.instrument import money_str
from engine.core.txn import InjectedFault, UndoLog, inject_fault
from engine.testing import VenueMachine, ci_settings
from engine.venue.commands import new_algo_order, query_algo_order
from engine.wire.events import frozen_after, order_at, owner_of, user_messages

OPEN = ("NEW", "PARTIALLY_FILLED")


class UserView:
    """One account's view, built only from its user-data messages (the reference model)."""

    def __init__(self) -> None:
        self.orders: dict[int, dict] = {}  # ORDER_TRADE_UPDATE "o" by orderId
        self.algos: dict[int, dict] = {}  # ALGO_UPDATE "o" by algoId
        self.wallet: str | None = None
        self.positions: dict[tuple[str, str], dict] = {}
        self.leverage: dict[str, int] = {}
        self.frozen: dict[int, int] = {}  # order margin each order's last event left frozen

    def apply(self, msg: dict) -> None:
        kind = msg["e"]
        if kind == "ORDER_TRADE_UPDATE":
            o = msg["o"]
            if o["o"] != "LIQUIDATION":
                self.orders[o["i"]] = o
        elif kind == "ALGO_UPDATE":
            self.algos[msg["o"]["aid"]] = msg["o"]
        elif kind == "ACCOUNT_UPDATE":
            self.wallet = msg["a"]["B"][0]["wb"]
            for p in msg["a"]["P"]:
                self.positions[(p["s"], p["ps"])] = p
        elif kind == "ACCOUNT_CONFIG_UPDATE":
            self.leverage[msg["ac"]["s"]] = msg["ac"]["l"]
        elif kind == "MARGIN_CALL":
            assert msg["p"] and all(p["mt"] == "CROSSED" for p in msg["p"])
        else:
            assert kind == "TRADE_LITE", kind


class EventViewMachine(VenueMachine):
    """The venue state machine with a client per account that reads only the event log."""

    def __init__(self) -> None:
        super().__init__()
        self.views: dict[str, UserView] = {}
        self.cursor = 0

    def call(self, account: str, method: str, **params: Any) -> tuple[Any, ClientError | None]:
        before = self.ex._s.event_seq
        resp, err = super().call(account, method, **params)
        if err is not None:
            assert self.ex._s.event_seq == before, f"refused {method} yielded events"
        return resp, err

    @invariant()
    def the_events_rebuild_every_answer(self) -> None:
        ex = self.ex
        events = ex._s.events
        read = events.read(self.cursor)
        # numbered on without a gap, also across a restart from a snapshot
        assert [seq for seq, _t, _d in read] == list(range(self.cursor + 1, ex._s.event_seq + 1))
        for seq, time, delta in read:
            name = owner_of(delta)
            if name is None:
                continue
            view = self.views.setdefault(name, UserView())
            for msg in user_messages(time, delta, ex._s, seq):
                assert msg["E"] == time
                view.apply(msg)
            frozen = frozen_after(delta, ex._s, seq)
            if frozen is not None:
                view.frozen[delta[3]] = frozen
            if seq == ex._s.event_seq and delta[0] in (ORDER, TRADE, ROW, CANCEL, PLACE):
                # the last event of an order is its state now, exactly as REST says it
                o = ex._s.index.by_id[delta[3]]
                assert order_at(delta, ex._s, seq) == self.clients[name].query_order(
                    symbol=o.inst.symbol, orderId=o.order_id
                )
        self.cursor = ex._s.event_seq
        for name, view in self.views.items():
            self._compare(name, view)

    def _compare(self, name: str, view: UserView) -> None:
        client = self.clients[name]
        listed = {o["orderId"]: o for o in client.get_orders()}
        for oid, o in view.orders.items():
            q = client.query_order(symbol=o["s"], orderId=oid)
            assert (o["X"], o["z"], o["ap"], o["q"], o["p"], o["sp"], o["T"]) == (
                q["status"], q["executedQty"], q["avgPrice"], q["origQty"], q["price"],
                q["stopPrice"], q["updateTime"]), (o, q)
            assert (o["c"], o["S"], o["o"], o["ot"], o["f"], o["ps"], o["R"], o["V"]) == (
                q["clientOrderId"], q["side"], q["type"], q["origType"], q["timeInForce"],
                q["positionSide"], q["reduceOnly"], q["selfTradePreventionMode"])
        for aid, a in view.algos.items():
            q = client.query_order(symbol=a["s"], orderId=aid)
            algo = query_algo_order(self.ex, self.ex.account_state(name), {"algoId": aid})
            assert (a["X"], a["q"], a["tp"], a["p"], a["caid"], a["o"], a["S"], a["R"]) == (
                algo["algoStatus"], q["origQty"], q["stopPrice"], q["price"],
                q["clientOrderId"], q["origType"], q["side"], q["reduceOnly"]), (a, q, algo)
            assert a["ai"] == str(q.get("triggeredOrderId", "")) == algo["actualOrderId"]
            if a["X"] == "FINISHED":  # its order's fills, as the order's own events say
                child = view.orders[int(a["ai"])]
                assert (a["ap"], a["aq"]) == (child["ap"], child["z"]) == (
                    algo["actualPrice"], child["z"]), (a, child, algo)
        open_orders = {i for i, o in view.orders.items() if o["X"] in OPEN}
        open_rows = {i for i, a in view.algos.items() if a["X"] == "NEW"}
        assert open_orders | open_rows == set(listed), (open_orders, open_rows, set(listed))
        account = client.account()
        assets = {a["asset"]: a for a in account["assets"]}
        assert view.wallet == assets["USDT"]["walletBalance"]
        # the order margin frozen, to the last unit, from the events alone
        assert money_str(sum(view.frozen.values())) == account["totalOpenOrderInitialMargin"]
        risk = {(r["symbol"], r["positionSide"]): r for r in client.get_position_risk()}
        for key, p in view.positions.items():
            r = risk.get(key)
            if r is None:
                assert p["pa"] == "0", (key, p)
                continue
            assert (p["pa"], p["ep"], p["bep"], p["iw"]) == (
                r["positionAmt"], r["entryPrice"], r["breakEvenPrice"], r["isolatedWallet"]), (
                p, r)
        for key, r in risk.items():
            if r["positionAmt"] != "0":
                assert key in view.positions, key
        for symbol, lev in view.leverage.items():
            rows = [r for (s, _ps), r in risk.items() if s == symbol]
            assert all(r["leverage"] == str(lev) for r in rows)


class JournaledEventViewMachine(EventViewMachine):
    """The same, journaled: a restart replays the journal's tail onto the snapshot, and
    the replayed commands number their events on from the snapshot's."""

    directory = tempfile.mkdtemp(prefix="fapisim-events-")

    def journal_path(self) -> str:
        return os.path.join(self.directory, f"example-{os.getpid()}.jsonl")


TestEventView = EventViewMachine.TestCase
TestEventView.settings = ci_settings(max_examples=60)
TestJournaledEventView = JournaledEventViewMachine.TestCase
TestJournaledEventView.settings = ci_settings(max_examples=20)


# -- the log itself ------------------------------------------------------------------------
def test_a_command_is_one_batch_at_one_time_and_a_refusal_is_none():
    ex = Exchange()
    ex.create_account("a", balance="10000")
    c = ex.client("a")
    o = c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.010", price="30000", takeProfitPrice="31000",
                    stopLossPrice="29000")
    ex.advance(5_000)
    before = ex._s.event_seq
    with pytest.raises(ClientError):
        c.cancel_order(symbol="BTCUSDT", orderId=o["orderId"] + 99)
    assert ex._s.event_seq == before
    c.cancel_order(symbol="BTCUSDT", orderId=o["orderId"])
    batch = ex._s.events.batches_after(before)[-1]
    messages = [m for d in batch.deltas for m in user_messages(batch.time, d, ex._s)]
    # the parent's CANCELED and both rows' CANCELED, in one event time, the cancel's
    assert [(m["e"], (m["o"].get("x") or m["o"]["X"])) for m in messages] == [
        ("ORDER_TRADE_UPDATE", "CANCELED"), ("ALGO_UPDATE", "CANCELED"),
        ("ALGO_UPDATE", "CANCELED")]
    assert {m["E"] for m in messages} == {ex.now} and batch.first == before + 1


def test_a_fault_inside_a_batch_cancel_publishes_nothing():
    """Inside an atomic block, items commit to the block only; a fault undoes their events."""
    ex = Exchange()
    ex.create_account("a", balance="10000")
    c = ex.client("a")
    ids = [c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                       quantity="0.010", price=str(29000 + i))["orderId"] for i in range(3)]
    before = (ex._s.event_seq, ex.state_hash())
    twin = Exchange.restore(ex.snapshot())
    with inject_fault(twin._undo, at=0) as count:  # count the batch's mutation points
        twin.client("a").cancel_batch_order(symbol="BTCUSDT", orderIdList=ids,
                                            origClientOrderIdList=None)
    assert count[0] >= 3  # one per item at least
    # the fault at the last one: two items have committed to the block by then
    with inject_fault(ex._undo, at=count[0]), pytest.raises(InjectedFault):
        c.cancel_batch_order(symbol="BTCUSDT", orderIdList=ids, origClientOrderIdList=None)
    assert (ex._s.event_seq, ex.state_hash()) == before
    c.cancel_batch_order(symbol="BTCUSDT", orderIdList=ids, origClientOrderIdList=None)
    assert ex._s.event_seq == before[0] + 3


def test_the_ring_keeps_the_newest_events_and_says_when_a_reader_fell_behind():
    undo = UndoLog()
    venue = SimpleNamespace(now=1000, index=SimpleNamespace(by_id={}))
    log = EventLog(undo, venue, capacity=2)  # keeps the newest 2 once it passes 4
    for n in (2, 3, 1):
        if len(log.ring) > log.limit:
            log.trim()
        for i in range(n):
            log.emit(("delta", None, venue.now, i))
        undo.clear()
        venue.now += 1
    assert log.last() == 6 and log.horizon() == 4  # events 1-3 were dropped
    assert [(s, t) for s, t, _d in log.read(3)] == [(4, 1001), (5, 1001), (6, 1002)]
    with pytest.raises(EventGap, match="events 2..3 are no longer held"):
        log.read(1)
    assert log.read(6) == []
    log._check()


def test_a_restored_venue_numbers_on_and_its_ring_starts_empty():
    ex = Exchange()
    ex.create_account("a", balance="10000")
    ex.client("a").change_leverage(symbol="BTCUSDT", leverage=5)
    restored = Exchange.restore(ex.snapshot())
    assert restored._s.event_seq == ex._s.event_seq == 2
    assert restored._s.events.horizon() is None
    restored.client("a").change_leverage(symbol="BTCUSDT", leverage=7)
    assert [s for s, _t, _d in restored._s.events.read(2)] == [3]


def test_a_margin_call_comes_at_80_percent_of_the_margin_balance_and_changes_nothing():
    # carol: 100 USDT, long 0.040 @ 30000 (fee 0.6 → wallet 99.4); maintenance 0.4 %:
    # at 27700 the margin balance is 7.4 against 4.432 (60 %), at 27650 5.4 against
    # 4.424 (82 %), and she is liquidated only at 27625.5
    ex = Exchange()
    ex.create_account("bob", balance="10000")
    ex.create_account("carol", balance="100")
    ex.client("bob").new_order(symbol="BTCUSDT", side="SELL", type="LIMIT",
                               timeInForce="GTC", quantity="0.040", price="30000")
    ex.client("carol").new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.040")
    seq = ex._s.event_seq
    ex.set_mark_price("BTCUSDT", "27700")
    assert ex._s.event_seq == seq  # 60 %: nothing
    ex.set_mark_price("BTCUSDT", "27650")
    before = ex.state_hash()
    (_n, time, delta), = ex._s.events.read(seq)
    (msg,) = user_messages(time, delta, ex._s)
    risk = ex.client("carol").get_position_risk(symbol="BTCUSDT")[0]
    assert msg == {"e": "MARGIN_CALL", "E": ex.now, "cw": "99.4", "p": [{
        "s": "BTCUSDT", "ps": "BOTH", "pa": "0.04", "mt": "CROSSED", "iw": "0", "mp": "27650",
        "up": risk["unRealizedProfit"], "mm": risk["maintMargin"]}]}
    assert risk["unRealizedProfit"] == "-94" and risk["positionAmt"] == "0.04"
    assert ex.state_hash() == before and not ex.ledger.liquidations


def test_the_ring_stays_bounded_when_nothing_is_placed():
    """Funding payments alone (wallet changes, no order placed) trim the ring too."""
    ex = Exchange()
    for name in ("a", "b"):
        ex.create_account(name, balance="10000")
    ex.client("b").new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                             quantity="0.010", price="30000")
    ex.client("a").new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
    events = ex._s.events
    events.capacity, events.limit = 4, 8
    for _ in range(30):
        ex.settle_funding("BTCUSDT", "0.0001")  # two ACCOUNT_UPDATEs each
    assert len(events.ring) <= events.limit + 2 and ex._s.event_seq == events.last()
    assert [s for s, _t, _d in events.read(events.base)] == list(
        range(events.base + 1, ex._s.event_seq + 1))
    ex.check_invariants()


def test_a_fired_row_says_triggering_then_its_orders_fate_as_the_algo_query_does():
    """TRIGGERING then TRIGGERED (its order placed) or REJECTED (refused by the margin
    check, with the reason); FINISHED after the event that ends its order, with that
    order's fills; ``GET /fapi/v1/algoOrder`` says the same status at each step."""
    ex = Exchange()
    ex.set_mark_price("BTCUSDT", "30000")
    ex.create_account("a", balance="1000")
    ex.create_account("b", balance="10000")
    ex.client("b").new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                             quantity="0.010", price="30000")
    ex.client("b").new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                             quantity="1.000", price="30700")  # what the margin check walks
    a = ex.account_state("a")

    def algo(**p: str) -> int:
        return query_algo_order(ex, a, {"algoId": new_algo_order(ex, a, {
            "algoType": "CONDITIONAL", "symbol": "BTCUSDT", "workingType": "MARK_PRICE",
            "triggerPrice": "30500", **p})["algoId"]})["algoId"]

    rests = algo(side="BUY", type="STOP", quantity="0.010", price="29000")
    fills = algo(side="SELL", type="TAKE_PROFIT_MARKET", quantity="0.010")
    too_big = algo(side="BUY", type="STOP_MARKET", quantity="1.000")  # 1535 USDT margin
    status = lambda aid: query_algo_order(ex, a, {"algoId": aid})  # noqa: E731
    before = ex._s.event_seq
    ex.set_mark_price("BTCUSDT", "30600")

    def algo_events(after: int) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = {}
        for b in ex._s.events.batches_after(after):
            for d in b.deltas:
                for m in user_messages(b.time, d, ex._s):
                    if m["e"] == "ALGO_UPDATE":
                        out.setdefault(m["o"]["aid"], []).append(m["o"])
        return out

    got = algo_events(before)
    assert {aid: [o["X"] for o in v] for aid, v in got.items()} == {
        rests: ["TRIGGERING", "TRIGGERED"], fills: ["TRIGGERING", "TRIGGERED", "FINISHED"],
        too_big: ["TRIGGERING", "REJECTED"]}
    for aid, v in got.items():
        assert v[0]["ai"] == "" and "ap" not in v[0] and v[0]["tt"] == ex.now
        assert v[1]["ai"] == status(aid)["actualOrderId"] != "" and v[1]["tt"] == ex.now
    assert (got[rests][1]["ap"], got[rests][1]["aq"], got[rests][1]["act"]) == (
        "0", "0", "LIMIT")
    assert "ap" not in got[too_big][1] and got[too_big][1]["rm"] == "Margin is insufficient."
    assert got[rests][1]["rm"] == "" and "ap" in got[fills][1]
    assert (got[fills][2]["ap"], got[fills][2]["aq"]) == ("30000", "0.01")
    assert [status(i)["algoStatus"] for i in (rests, fills, too_big)] == [
        "TRIGGERED", "FINISHED", "REJECTED"]
    child = int(status(rests)["actualOrderId"])
    before = ex._s.event_seq
    ex.client("a").cancel_order(symbol="BTCUSDT", orderId=child)
    finished = algo_events(before)[rests]
    assert [(o["X"], o["ai"], o["aq"], o["ap"]) for o in finished] == [
        ("FINISHED", str(child), "0", "0")]
    assert status(rests)["algoStatus"] == "FINISHED"
    restored = Exchange.restore(ex.snapshot())  # the map of fired orders is rebuilt
    assert restored._s.events.fired_by(child) == rests
    restored.check_invariants()
