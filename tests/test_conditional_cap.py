"""Binance's cap on conditional orders: 200 open per account, across all symbols (-4045).

Binance's USDⓈ-M change log of 2025-12-29
(https://developers.binance.com/docs/derivatives/change-log): "The parameter
"filterType": "MAX_NUM_ALGO_ORDERS" has been removed from the endpoint GET
/fapi/v1/exchangeInfo. The condtional order limits is 200 across all symbols."
A request past it answers -4045 MAX_STOP_ORDER_EXCEEDED, "Reach max stop order
limit." (BINANCE_ERRORS.md).  Here every untriggered trigger row counts —
standalone conditional orders on ``new_order``, algo orders, and the TP/SL
attached to a parent, at entry or later — whichever symbol it is on; the cap is
``Exchange(max_num_algo_orders=...)`` (default 200).  A refusal changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from engine import ClientError, Exchange
from engine.core.instrument import default_instruments
from engine.core.txn import InjectedFault, inject_fault
from engine.persist.journal import JournalError
from engine.venue import commands as cmd

BTC, ETH = "BTCUSDT", "ETHUSDT"
CAP = 200
MESSAGE = "Reach max stop order limit."


# -- the venue and its requests -----------------------------------------------------------
def venue(cap: int | None = None, **kw: Any) -> Exchange:
    """alice, bob and carol with deep wallets; marks BTCUSDT 30000, ETHUSDT 2000."""
    ex = Exchange(**kw) if cap is None else Exchange(max_num_algo_orders=cap, **kw)
    for name in ("alice", "bob", "carol"):
        ex.create_account(name, balance="10000000")
    ex.set_mark_price(BTC, "30000")
    ex.set_mark_price(ETH, "2000")
    return ex


def acct(ex: Exchange, name: str) -> Any:
    return ex.account_state(name)


def stop(ex: Exchange, name: str = "alice", symbol: str = BTC) -> dict:
    """A standalone stop entry through ``new_order``: STOP_MARKET BUY above the mark."""
    if symbol == BTC:
        return ex.client(name).new_order(symbol=BTC, side="BUY", type="STOP_MARKET",
                                         quantity="0.010", stopPrice="31000")
    return ex.client(name).new_order(symbol=ETH, side="BUY", type="STOP_MARKET",
                                     quantity="0.100", stopPrice="2100")


def algo(ex: Exchange, name: str = "alice", **params: Any) -> dict:
    base = {"algoType": "CONDITIONAL", "symbol": BTC, "side": "BUY", "type": "STOP_MARKET",
            "quantity": "0.010", "triggerPrice": "31000"}
    base.update(params)
    return cmd.new_algo_order(ex, acct(ex, name), {k: v for k, v in base.items() if v is not None})


def parent(ex: Exchange, name: str = "alice", price: str = "29000", qty: str = "0.010",
           **kw: Any) -> dict:
    """A LIMIT BUY (resting below the mark unless ``price`` says otherwise)."""
    return ex.client(name).new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                                     quantity=qty, price=price, **kw)


def bracket(ex: Exchange, name: str = "alice", price: str = "29000", qty: str = "0.010",
            **kw: Any) -> dict:
    """A LIMIT BUY with TP 33000 and SL 28000 (two rows), watching the mark."""
    return parent(ex, name, price, qty, takeProfitPrice="33000", stopLossPrice="28000",
                  tpslWorkingType="MARK_PRICE", **kw)


def fill(ex: Exchange, n: int, name: str = "alice", symbol: str = BTC) -> None:
    for _ in range(n):
        stop(ex, name, symbol)


def rows_open(ex: Exchange, name: str = "alice") -> int:
    """The account's untriggered rows as ``openAlgoOrders`` lists them (all symbols), checked
    against the index's running count."""
    listed = len(cmd.open_algo_orders(ex, acct(ex, name), {}))
    assert ex._index.rows_open(name) == listed
    return listed


def refused(ex: Exchange, call: Callable[[], Any], code: int = -4045,
            message: str = MESSAGE) -> None:
    """``call()`` is refused with ``code`` (HTTP 400) and changes nothing, no id consumed."""
    before, last_id, counts = ex.state_hash(), ex._s.last_id, dict(ex._index.open_row_count)
    with pytest.raises(ClientError) as e:
        call()
    assert (e.value.status_code, e.value.error_code, e.value.error_message) == (
        400, code, message)
    assert ex.state_hash() == before
    assert ex._s.last_id == last_id and ex._index.open_row_count == counts
    ex.check_invariants()


# -- the 200th row is accepted, the 201st refused, on every path ------------------------------
Path = Callable[[Exchange, int], Any]  # (venue, a bare parent's id) -> one new row


def _new_order_type(kind: str) -> Path:
    params = {
        "STOP": {"price": "31100", "stopPrice": "31000"},
        "STOP_MARKET": {"stopPrice": "31000"},
        "TAKE_PROFIT": {"price": "28900", "stopPrice": "29000"},
        "TAKE_PROFIT_MARKET": {"stopPrice": "29000"},
        "TRAILING_STOP_MARKET": {"activationPrice": "29000", "callbackRate": "1"},
    }[kind]
    return lambda ex, _parent: ex.client("alice").new_order(
        symbol=BTC, side="BUY", type=kind, quantity="0.010", **params)


PATHS: dict[str, Path] = {
    **{f"new_order {k}": _new_order_type(k) for k in (
        "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")},
    "new_algo_order": lambda ex, _parent: algo(ex),
    "new_algo_order TRAILING_STOP_MARKET": lambda ex, _parent: algo(
        ex, type="TRAILING_STOP_MARKET", triggerPrice=None, activatePrice="29000",
        callbackRate="1"),
    "TP attached at entry": lambda ex, _parent: parent(ex, takeProfitPrice="33000"),
    "SL attached at entry": lambda ex, _parent: parent(ex, stopLossPrice="28000"),
    "row attached later": lambda ex, parent_id: ex.client("alice").new_order(
        symbol=BTC, side="SELL", type="TAKE_PROFIT_MARKET", stopPrice="33000",
        parentOrderId=parent_id),
    "algo row attached later": lambda ex, parent_id: algo(
        ex, side="SELL", type="TAKE_PROFIT_MARKET", triggerPrice="33000", quantity=None,
        parentOrderId=str(parent_id)),
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_the_200th_row_is_accepted_and_the_201st_refused_on_every_path(path):
    ex = venue()
    request = PATHS[path]
    bare = parent(ex, price="28500")["orderId"]  # no rows: for the attach-later paths
    fill(ex, CAP - 1)
    assert rows_open(ex) == CAP - 1

    request(ex, bare)  # the 200th

    assert rows_open(ex) == CAP
    refused(ex, lambda: request(ex, bare))  # the 201st
    assert rows_open(ex) == CAP


def test_of_a_flood_of_stops_exactly_200_are_accepted_and_listed():
    ex = venue()
    answers = []
    for _ in range(250):
        try:
            answers.append(stop(ex)["status"])
        except ClientError as e:
            answers.append(e.error_code)

    assert answers == ["NEW"] * CAP + [-4045] * 50
    assert len(cmd.open_algo_orders(ex, acct(ex, "alice"), {})) == CAP
    assert len(ex.client("alice").get_orders(symbol=BTC)) == CAP
    ex.check_invariants()


# -- a parent and its TP/SL: one request, refused whole ----------------------------------------
def test_a_parent_with_tp_and_sl_when_one_slot_is_left_is_refused_whole():
    ex = venue()
    fill(ex, CAP - 1)
    orders_before = ex.client("alice").get_orders(symbol=BTC)

    refused(ex, lambda: bracket(ex))

    assert ex.client("alice").get_orders(symbol=BTC) == orders_before  # no parent either
    assert ex.client("alice").account()["totalOpenOrderInitialMargin"] == "0"
    # one row fits: a parent with a take-profit alone is placed
    placed = parent(ex, takeProfitPrice="33000")
    assert [r["status"] for r in placed["triggerOrders"]] == ["NEW"]
    assert rows_open(ex) == CAP
    ex.check_invariants()


def test_a_parent_with_tp_and_sl_takes_the_last_two_slots():
    ex = venue(cap=5)
    fill(ex, 3)

    placed = bracket(ex)

    assert len(placed["triggerOrders"]) == 2 and rows_open(ex) == 5
    refused(ex, lambda: stop(ex))


def test_a_market_parent_with_tp_and_sl_is_refused_whole_too():
    ex = venue(cap=1)
    ex.client("bob").new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC",
                               quantity="0.010", price="30000")

    refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="BUY", type="MARKET", quantity="0.010", takeProfitPrice="33000",
        stopLossPrice="28000", tpslWorkingType="MARK_PRICE"))

    assert ex.client("alice").get_position_risk(symbol=BTC) == []  # flat: no row (v3)


def test_rows_are_counted_when_created_even_if_they_end_in_the_same_command():
    # an IOC parent that finds no liquidity expires, its PENDING rows cancelled with it:
    # the count is judged when they are created, so two rows need two free slots
    ex = venue(cap=1)

    refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="BUY", type="LIMIT", timeInForce="IOC", quantity="0.010",
        price="30000", takeProfitPrice="33000", stopLossPrice="28000"))
    ex2 = venue(cap=2)
    done = ex2.client("alice").new_order(
        symbol=BTC, side="BUY", type="LIMIT", timeInForce="IOC", quantity="0.010",
        price="30000", takeProfitPrice="33000", stopLossPrice="28000")
    assert done["status"] == "EXPIRED"
    assert [r["status"] for r in done["triggerOrders"]] == ["CANCELED", "CANCELED"]
    assert rows_open(ex2) == 0
    stop(ex2)
    stop(ex2)
    assert rows_open(ex2) == 2


# -- what counts ----------------------------------------------------------------------------
def test_rows_on_two_symbols_count_together():
    ex = venue()
    fill(ex, CAP // 2, symbol=BTC)
    fill(ex, CAP // 2, symbol=ETH)

    refused(ex, lambda: stop(ex, symbol=ETH))
    refused(ex, lambda: stop(ex, symbol=BTC))
    refused(ex, lambda: algo(ex, symbol=ETH, quantity="0.100", triggerPrice="2100"))
    assert rows_open(ex) == CAP


def test_the_cap_is_per_account():
    ex = venue()
    fill(ex, CAP, "alice")

    fill(ex, CAP, "bob")  # bob is not held back by alice's 200

    refused(ex, lambda: stop(ex, "alice"))
    refused(ex, lambda: stop(ex, "bob"))
    assert rows_open(ex, "alice") == rows_open(ex, "bob") == CAP
    assert rows_open(ex, "carol") == 0
    stop(ex, "carol")


def test_ordinary_orders_do_not_count():
    ex = venue(cap=1)
    for i in range(5):
        parent(ex, price=str(29000 - i))
    stop(ex)

    refused(ex, lambda: stop(ex))


# -- slots come back when a row finishes ---------------------------------------------------------
def _free_by_cancel_row(ex: Exchange, ids: list[int]) -> None:
    ex.client("alice").cancel_order(symbol=BTC, orderId=ids[0])


def _free_by_cancel_algo(ex: Exchange, ids: list[int]) -> None:
    cmd.cancel_algo_order(ex, acct(ex, "alice"), {"algoId": str(ids[0])})


def _free_by_cancel_open_orders(ex: Exchange, ids: list[int]) -> None:
    ex.client("alice").cancel_open_orders(symbol=BTC)


def _free_by_cancel_algo_open_orders(ex: Exchange, ids: list[int]) -> None:
    cmd.cancel_algo_open_orders(ex, acct(ex, "alice"), {"symbol": BTC})


def _free_by_batch(ex: Exchange, ids: list[int]) -> None:
    ex.client("alice").cancel_batch_order(BTC, ids, None)


def _free_by_countdown(ex: Exchange, ids: list[int]) -> None:
    ex.client("alice").countdown_cancel_order(symbol=BTC, countdownTime=1000)
    ex.advance(1000)


def _free_by_firing(ex: Exchange, ids: list[int]) -> None:
    ex.set_mark_price(BTC, "31000")  # the stop entries fire: TRIGGERED
    assert {ex.client("alice").query_order(symbol=BTC, orderId=i)["status"] for i in ids} == {
        "TRIGGERED"}
    ex.set_mark_price(BTC, "30000")  # (new stops at 31000 would fire at once)


FREEING = {
    "cancel the row": (_free_by_cancel_row, 1),
    "cancel the algo order": (_free_by_cancel_algo, 1),
    "cancel open orders": (_free_by_cancel_open_orders, 2),
    "cancel algo open orders": (_free_by_cancel_algo_open_orders, 2),
    "batch cancel": (_free_by_batch, 2),
    "countdown": (_free_by_countdown, 2),
    "the rows fire": (_free_by_firing, 2),
}


@pytest.mark.parametrize("how", sorted(FREEING))
def test_a_row_that_finishes_frees_its_slot(how):
    free, freed = FREEING[how]
    ex = venue(cap=2)
    ids = [stop(ex)["orderId"], stop(ex)["orderId"]]
    refused(ex, lambda: stop(ex))

    free(ex, ids)

    assert rows_open(ex) == 2 - freed
    for _ in range(freed):
        stop(ex)
    refused(ex, lambda: stop(ex))
    ex.check_invariants()


@pytest.mark.parametrize("by", ["cancel_order", "batch", "client id"])
def test_cancelling_a_parent_frees_its_pending_rows(by):
    # a NEW parent with PENDING rows: the inline cancel's cascade
    ex = venue(cap=2)
    placed = bracket(ex, newClientOrderId="p")
    refused(ex, lambda: stop(ex))
    alice = ex.client("alice")

    if by == "cancel_order":
        resp = alice.cancel_order(symbol=BTC, orderId=placed["orderId"])
    elif by == "client id":
        resp = alice.cancel_order(symbol=BTC, origClientOrderId="p")
    else:
        resp = alice.cancel_batch_order(BTC, [placed["orderId"]], None)[0]

    assert [r["status"] for r in resp["triggerOrders"]] == ["CANCELED", "CANCELED"]
    assert rows_open(ex) == 0
    stop(ex)
    stop(ex)
    refused(ex, lambda: stop(ex))


def test_cancelling_a_part_filled_parent_frees_its_armed_rows():
    ex = venue(cap=2)
    placed = bracket(ex, price="30000", qty="0.020")
    ex.client("bob").new_order(symbol=BTC, side="SELL", type="MARKET", quantity="0.010")
    assert ex.client("alice").query_order(symbol=BTC, orderId=placed["orderId"])[
        "status"] == "PARTIALLY_FILLED"
    refused(ex, lambda: stop(ex))

    resp = ex.client("alice").cancel_order(symbol=BTC, orderId=placed["orderId"])

    assert [r["status"] for r in resp["triggerOrders"]] == ["CANCELED", "CANCELED"]
    assert rows_open(ex) == 0
    stop(ex)
    stop(ex)


def test_a_row_that_fires_frees_its_slot_and_its_cancelled_sibling_too():
    ex = venue(cap=2)
    placed = parent(ex, price="30000", takeProfitPrice="33000", stopLossPrice="29000",
                    tpslWorkingType="MARK_PRICE")
    ex.client("bob").new_order(symbol=BTC, side="SELL", type="MARKET", quantity="0.010")
    ex.client("carol").new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                                 quantity="0.010", price="28600")
    refused(ex, lambda: stop(ex))

    ex.set_mark_price(BTC, "28900")  # the stop-loss fires; the take-profit is cancelled

    tp, sl = (ex.client("alice").query_order(symbol=BTC, orderId=r["orderId"])["status"]
              for r in placed["triggerOrders"])
    assert (tp, sl) == ("CANCELED", "TRIGGERED")
    assert rows_open(ex) == 0
    ex.set_mark_price(BTC, "30000")
    stop(ex)
    stop(ex)


def test_rows_that_expire_with_their_position_free_their_slots():
    ex = venue(cap=2)
    placed = bracket(ex, price="30000")
    ex.client("bob").new_order(symbol=BTC, side="SELL", type="MARKET", quantity="0.010")
    ex.client("carol").new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                                 quantity="0.010", price="30000")
    refused(ex, lambda: stop(ex))

    ex.client("alice").new_order(symbol=BTC, side="SELL", type="MARKET", quantity="0.010")

    statuses = [ex.client("alice").query_order(symbol=BTC, orderId=r["orderId"])["status"]
                for r in placed["triggerOrders"]]
    assert statuses == ["EXPIRED", "EXPIRED"]
    assert rows_open(ex) == 0
    stop(ex)
    stop(ex)


# -- where -4045 sits among the other refusals -----------------------------------------------------
def test_max_open_orders_is_judged_before_the_cap_on_conditional_orders():
    ex = Exchange(default_instruments(max_num_orders=1), max_num_algo_orders=1)
    ex.create_account("alice", balance="10000000")
    ex.set_mark_price(BTC, "30000")
    parent(ex, takeProfitPrice="33000")  # one open order, one row: both limits reached

    # a LIMIT parent with a TP: its own slot among open orders first
    refused(ex, lambda: parent(ex, price="28900", takeProfitPrice="33000"), -2025,
            "Reach max open order limit.")
    # a MARKET parent takes no open-order slot: the cap on its rows refuses it
    refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="BUY", type="MARKET", quantity="0.010", takeProfitPrice="33000"))


def test_a_row_past_the_cap_is_refused_before_its_price_is_judged():
    ex = venue(cap=1)
    placed = parent(ex)
    stop(ex)

    # would fire at once (-2021), but the cap is judged first
    refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="BUY", type="STOP_MARKET", quantity="0.010", stopPrice="29000"))
    refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="SELL", type="STOP_MARKET", stopPrice="29500",
        parentOrderId=placed["orderId"]))
    refused(ex, lambda: parent(ex, takeProfitPrice="28000"))
    # the request's own rules come first: reduce-only with nothing to reduce, MIN_NOTIONAL,
    # an unknown parent
    refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="SELL", type="STOP_MARKET", quantity="0.010", stopPrice="29000",
        reduceOnly="true"), -2022, "ReduceOnly Order is rejected.")
    refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="BUY", type="STOP_MARKET", quantity="0.001", stopPrice="31000"),
        -4164, "Order's notional must be no smaller than 100 (unless you choose reduce only)")
    refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="SELL", type="STOP_MARKET", stopPrice="28000", parentOrderId=999),
        -2013, "Order does not exist.")


# -- the setting ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -1, True, False, "3", 2.0, None])
def test_a_cap_that_is_not_a_positive_int_is_a_value_error(bad):
    with pytest.raises(ValueError, match="max_num_algo_orders must be a positive int"):
        Exchange(max_num_algo_orders=bad)


def test_a_configured_cap_refuses_past_it():
    ex = venue(cap=3)
    stop(ex)
    algo(ex)
    parent(ex, stopLossPrice="28000")

    refused(ex, lambda: stop(ex))
    refused(ex, lambda: algo(ex))
    refused(ex, lambda: parent(ex, takeProfitPrice="33000"))
    assert rows_open(ex) == 3


def test_the_cap_is_part_of_the_state_hash_only_when_it_is_not_the_default():
    default, explicit, other = venue(), venue(cap=CAP), venue(cap=CAP + 1)

    assert default.state_hash() == explicit.state_hash() != other.state_hash()


def test_a_journaled_cap_survives_replay(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = venue(cap=3, journal=path)
    fill(ex, 3)
    refused(ex, lambda: stop(ex))

    header = json.loads(path.read_text().splitlines()[0])
    replayed = Exchange.replay(path)

    assert header["max_num_algo_orders"] == 3
    assert replayed._s.max_num_algo_orders == 3
    assert replayed.state_hash() == ex.state_hash()
    refused(replayed, lambda: stop(replayed))
    replayed.client("alice").cancel_open_orders(symbol=BTC)
    fill(replayed, 3)
    refused(replayed, lambda: stop(replayed))


def rewrite_header(path, change) -> dict:
    """Apply ``change`` to a copy of the journal's header line and write it back; the
    header as it was."""
    lines = path.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    edited = dict(header)
    change(edited)
    path.write_text(json.dumps(edited) + "\n" + "".join(lines[1:]))
    return header


def test_a_journal_without_the_cap_in_its_header_replays_with_200(tmp_path):
    path = tmp_path / "old.jsonl"
    ex = venue(journal=path)
    fill(ex, 5)
    header = rewrite_header(path, lambda h: h.pop("max_num_algo_orders"))
    assert header["max_num_algo_orders"] == CAP

    replayed = Exchange.replay(path)

    assert replayed._s.max_num_algo_orders == CAP
    assert replayed.state_hash() == ex.state_hash()


@pytest.mark.parametrize("bad", [0, "200", None])
def test_a_journal_header_with_a_bad_cap_is_refused(tmp_path, bad):
    path = tmp_path / "bad.jsonl"
    venue(journal=path).close_journal()
    rewrite_header(path, lambda h: h.update(max_num_algo_orders=bad))

    with pytest.raises(JournalError, match="line 1: max_num_algo_orders must be"):
        Exchange.replay(path)


def test_a_configured_cap_survives_a_snapshot():
    ex = venue(cap=3)
    fill(ex, 3)

    restored = Exchange.restore(ex.snapshot())

    assert restored._s.max_num_algo_orders == 3
    assert restored.state_hash() == ex.state_hash()
    refused(restored, lambda: stop(restored))
    restored.client("alice").cancel_open_orders(symbol=BTC)
    fill(restored, 3)
    refused(restored, lambda: stop(restored))


def test_exchange_info_lists_no_max_num_algo_orders_filter():
    ex = venue()

    for symbol in ex.client("alice").exchange_info()["symbols"]:
        kinds = [f["filterType"] for f in symbol["filters"]]
        assert "MAX_NUM_ALGO_ORDERS" not in kinds  # removed by Binance on 2025-12-29
        assert "MAX_NUM_ORDERS" in kinds


# -- atomicity: a failure mid-command leaves the count as it was -------------------------
def _every_fault_rolls_back(build: Callable[[], Exchange], command: Callable[[Exchange], Any]
                            ) -> int:
    probe = build()
    with inject_fault(probe._undo, 0) as count:
        command(probe)
    for k in range(1, count[0] + 1):
        ex = build()
        before, counts = ex.state_hash(), dict(ex._index.open_row_count)
        with inject_fault(ex._undo, k), pytest.raises(InjectedFault):
            command(ex)
        assert ex.state_hash() == before and ex._index.open_row_count == counts, k
        ex.check_invariants()
    return count[0]


def test_a_fault_while_placing_a_parent_with_rows_leaves_the_count():
    assert _every_fault_rolls_back(lambda: venue(cap=3), bracket) >= 4


def test_a_fault_after_an_inline_cascade_in_a_batch_restores_the_count():
    # the batch is one transaction against faults: a fault in its second item undoes the
    # first item's inline cascade, its count included
    def build() -> Exchange:
        ex = venue(cap=3)
        bracket(ex)  # 1, rows 2 and 3
        parent(ex, price="28600")  # 4
        return ex

    points = _every_fault_rolls_back(
        build, lambda ex: ex.client("alice").cancel_batch_order(BTC, [1, 4], None))
    assert points >= 2
