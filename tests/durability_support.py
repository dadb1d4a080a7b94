"""Shared sessions for the journal, snapshot and determinism tests.

``busy_session(ex)`` drives a venue through every journaled command and its
interesting variants (fills, cascades, trigger firing, the countdown, algo
orders, leverage, position mode, refusals in between) and returns every
answer.  ``random_session(ex, seed, steps)`` is a seeded stream of client
calls and market moves.  Both only call public methods, so the same session
can run against a fresh, a journaled, a restored or a replayed venue.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from engine import ClientError, Exchange
from engine.core.instrument import Instrument, make_brackets
from engine.venue import commands as cmd


def answer(call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``'s response, or its refusal as ``("error", code, msg)``."""
    try:
        return call(*args, **kwargs)
    except ClientError as e:
        return ("error", e.error_code, e.error_message)


def sol_instrument() -> Instrument:
    """A third, non-default perpetual (coarser grid, other fees)."""
    return Instrument(
        "SOLUSDT", base_asset="SOL", tick_size="0.010", step_size="0.1", price_precision=3,
        quantity_precision=1, min_price="1", max_price="10000", min_qty="0.1", max_qty="50000",
        market_max_qty="5000", min_notional="5",
        brackets=make_brackets([("50000", 50, "0.01"), ("500000", 20, "0.025")]),
        maker_rate="0.0001", taker_rate="0.0004",
    )


def busy_session(ex: Exchange) -> list[Any]:
    """Every journaled command at least once; the answers in order."""
    out: list[Any] = []
    add = out.append
    add(ex.create_account("alice", balance="50000"))
    add(ex.create_account("bob", balance=Decimal("50000.5")))
    add(ex.create_account("carol", balance=40000, api_key="carol-key", api_secret="carol-s"))
    ex.add_instrument(sol_instrument())
    a, b, c = (ex.client(n) for n in ("alice", "bob", "carol"))
    alice, bob, carol = (ex.account_state(n) for n in ("alice", "bob", "carol"))
    ex.set_mark_price("BTCUSDT", "30000")
    ex.set_mark_price("ETHUSDT", Decimal("2000.00"))
    ex.set_mark_price("SOLUSDT", "100")
    add(answer(lambda: a.change_leverage(symbol="BTCUSDT", leverage=10)))
    add(answer(lambda: a.change_leverage(symbol="BTCUSDT", leverage=500)))  # refused
    add(answer(lambda: c.change_margin_type(symbol="BTCUSDT", marginType="ISOLATED")))
    parent = a.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity=0.013, price=Decimal("30000"), takeProfitPrice="31000",
                         stopLossPrice="29500", newClientOrderId="parent",
                         tpslWorkingType="MARK_PRICE")
    add(parent)
    add(b.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.005"))  # partial
    for i in range(3):
        add(c.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                        quantity="0.004", price=f"{30100 + 10 * i}"))
        add(c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                        quantity="0.004", price=f"{29400 - 10 * i}"))
    add(b.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010"))  # sweeps
    add(a.new_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", stopPrice="29700",
                    parentOrderId=parent["orderId"], workingType="MARK_PRICE"))  # attached later
    add(answer(lambda: a.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                   timeInForce="GTC", quantity="0.001", price="1")))  # refused
    add(cmd.new_algo_order(ex, alice, {"algoType": "CONDITIONAL", "symbol": "ETHUSDT",
                                       "side": "BUY", "type": "STOP_MARKET", "quantity": "0.5",
                                       "triggerPrice": "2090"}))
    add(cmd.new_algo_order(ex, bob, {"algoType": "CONDITIONAL", "symbol": "ETHUSDT", "side": "SELL",
                                "type": "TRAILING_STOP_MARKET", "quantity": "0.2",
                                "callbackRate": "1", "clientAlgoId": "trail"}))
    add(cmd.cancel_algo_order(ex, bob, {"clientAlgoId": "trail"}))
    add(cmd.new_algo_order(ex, bob, {"algoType": "CONDITIONAL", "symbol": "ETHUSDT", "side": "SELL",
                                "type": "STOP_MARKET", "quantity": "0.2",
                                "triggerPrice": "1900"}))
    add(cmd.cancel_algo_open_orders(ex, bob, {"symbol": "ETHUSDT"}))
    add(c.new_order(symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                    quantity="1", price="2095"))
    ex.set_mark_price("ETHUSDT", "2092")  # alice's stop entry fires and buys from carol
    ex.set_mark_price("BTCUSDT", "29650")  # the late row fires, sells into carol's bids
    add(c.new_order(symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="10", price="99.5", stopLossPrice="95"))
    add(c.new_order(symbol="SOLUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                    quantity="10", price="101", newClientOrderId="sol-ask"))
    add(c.modify_order(symbol="SOLUSDT", side="SELL", quantity="12", price="100.5",
                       origClientOrderId="sol-ask"))  # amended: a new price and size
    add(answer(lambda: c.modify_order(symbol="SOLUSDT", side="SELL", quantity="12",
                                      price="100.5", origClientOrderId="sol-ask")))  # -5027
    add(c.new_batch_order([  # a batch: a resting bid, a refused item
        {"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "3", "price": "98", "newClientOrderId": "sol-bid"},
        {"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "3", "price": "abc"}]))
    add(c.modify_batch_order('[{"symbol": "SOLUSDT", "side": "BUY", "quantity": "4", '
                             '"price": "98.5", "origClientOrderId": "sol-bid"}]'))
    add(c.new_order_test(symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity="3", price="98"))
    add(answer(lambda: c.change_margin_type(symbol="SOLUSDT", marginType="ISOLATED")))  # orders
    bids = [o["orderId"] for o in c.get_orders(symbol="BTCUSDT") if o["side"] == "BUY"]
    add(c.cancel_order(symbol="BTCUSDT", orderId=bids[0]))  # the inline fast path
    add(c.cancel_batch_order("BTCUSDT", [*bids[1:], 424242, Decimal(1)], None))
    add(answer(lambda: c.cancel_order(symbol="SOLUSDT")))  # refused: no id
    add(c.countdown_cancel_order(symbol="SOLUSDT", countdownTime=1500))
    ex.advance(1000)
    ex.set_time(ex.now + 1000)  # the countdown fires on the way
    ex.set_time(ex.now - 5)  # the past: no effect
    add(c.cancel_open_orders(symbol="BTCUSDT"))
    add(c.cancel_open_orders(symbol="ETHUSDT"))
    add(answer(lambda: c.change_position_mode(dualSidePosition="true")))  # refused: positions
    add(ex.create_account("dave", balance="10000"))
    add(ex.deposit("dave", "2500.125"))  # the operator's deposit
    d = ex.client("dave")
    add(d.change_position_mode(dualSidePosition="true"))
    add(d.new_order(symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="1", price="99", positionSide="LONG"))
    # isolated margin: dave's BTCUSDT LONG, its wallet topped up
    add(d.change_margin_type(symbol="BTCUSDT", marginType="ISOLATED"))
    add(c.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                    quantity="0.010", price="29650"))
    add(d.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010",
                    positionSide="LONG", newOrderRespType="ACK"))
    add(d.modify_isolated_position_margin(symbol="BTCUSDT", amount="25.5", type=1,
                                          positionSide="LONG"))
    # replay mode and funding: prints, quotes, marks, a touch, a funding payment
    ex.enable_tape(fill="touch", slippage_ticks=1)
    ex.tape_quote("SOLUSDT", 9_940, 500, 10_020, 500, ex.now + 1)
    ex.tape_trade("SOLUSDT", 9_900, 300, True, ex.now + 2)  # fills dave's bid at 99
    ex.tape_touch("SOLUSDT", 9_950, ex.now + 3)
    ex.tape_mark("SOLUSDT", 9_960, ex.now + 4)
    add(ex.settle_funding("SOLUSDT", "0.0001"))
    # the tape's ladder: placed, then moved (the unchanged level keeps its order)
    ex.tape_ladder("SOLUSDT", [(9_930, 5), (9_920, 8)], [(9_990, 5)], ex.now + 5)
    ex.tape_ladder("SOLUSDT", [(9_930, 5)], [(9_980, 5), (9_990, 5)], ex.now + 6)
    return out


def random_session(ex: Exchange, seed: int, steps: int) -> list[Any]:
    """A seeded stream of orders, cancels and mark moves between three accounts."""
    rng = random.Random(seed)
    names = ("alice", "bob", "carol")
    for n in names:
        ex.create_account(n, balance="100000")
    ex.set_mark_price("BTCUSDT", "30000")
    clients = [ex.client(n) for n in names]
    out: list[Any] = []
    for _ in range(steps):
        c = rng.choice(clients)
        roll = rng.random()
        side = rng.choice(("BUY", "SELL"))
        ticks = 300_000 + rng.randint(-20, 20) * 50
        price = f"{ticks // 10}.{ticks % 10}"
        if roll < 0.45:
            params: dict[str, Any] = dict(symbol="BTCUSDT", side=side, type="LIMIT",
                                          timeInForce=rng.choice(("GTC", "GTC", "IOC")),
                                          quantity=f"0.{rng.randint(1, 30):03d}", price=price)
            if rng.random() < 0.3:
                sign = 1 if side == "BUY" else -1
                params["stopLossPrice"] = f"{(ticks - sign * 600) // 10}"
            out.append(answer(c.new_order, **params))
        elif roll < 0.55:
            out.append(answer(c.new_order, symbol="BTCUSDT", side=side, type="MARKET",
                              quantity=f"0.{rng.randint(1, 20):03d}"))
        elif roll < 0.8:
            oid = rng.randint(1, max(1, ex._s.last_id))
            out.append(answer(c.cancel_order, symbol="BTCUSDT", orderId=oid))
        elif roll < 0.9:
            ex.set_mark_price("BTCUSDT", price)
        elif roll < 0.95:
            out.append(answer(c.cancel_open_orders, symbol="BTCUSDT"))
        else:
            ex.advance(rng.randint(0, 3000))
    return out
