"""Execution in a backtest: the fill model, prices, funding and liquidation, end to end.

Each backtest runs twice — skipping ahead and stepping every event — and the two
reports must be byte-identical; the figures asserted are worked out by hand in the
comments (BTCUSDT: tick 0.1, step 0.001, taker fee 0.0005, maker 0.0002, bracket 1
MMR 0.4 % cum 0, liquidation fee 0.0125).
"""

from __future__ import annotations

import pytest

pytest.importorskip("numpy")

from backtest_support import (  # noqa: E402
    T0,
    Scripted,
    StartOnly,
    funding,
    marks,
    quotes,
    tape,
)

from engine.backtest import run  # noqa: E402

BTC = "BTCUSDT"
HOUR = 3_600_000


def backtest(streams, make, **kw):
    """Run fast and stepping; assert identical reports; return (report, strategy) of the
    fast run."""
    out = []
    for fast in (True, False):
        strategy = make()
        report = run(streams, strategy, fast=fast, **kw)
        report.exchange.check_invariants()
        out.append((report, strategy))
    assert out[0][0].to_json() == out[1][0].to_json()
    assert out[0][0].state_hash == out[1][0].state_hash
    return out[0]


def limit(side, price, qty="0.010", **extra):
    def place(c):
        return c.new_order(symbol=BTC, side=side, type="LIMIT", timeInForce="GTC",
                           quantity=qty, price=price, **extra)
    return place


def market(side, qty="0.010"):
    def place(c):
        return c.new_order(symbol=BTC, side=side, type="MARKET", quantity=qty)
    return place


def fills(report):
    return [(t["price"], t["qty"], t["maker"], t["time"]) for t in report.trades]


# -- the fill model ----------------------------------------------------------------------------
PRINTS_AT_THE_BID = [
    (T0 + 1, 300_000, 5, False),
    (T0 + 2, 299_900, 10, True),   # a sell print at 29990: touches the bid
    (T0 + 3, 299_899, 10, True),   # one tick lower: goes through it
    (T0 + 4, 299_950, 10, False),
]


def test_a_resting_bid_fills_on_the_print_through_its_price_by_default():
    report, _ = backtest([tape(BTC, PRINTS_AT_THE_BID)],
                         lambda: StartOnly({0: limit("BUY", "29990")}))
    assert fills(report) == [("29990", "0.01", True, T0 + 3)]
    # maker fee 0.0002 × 299.9 = 0.05998
    assert report.summary["fees"] == "0.05998"


def test_in_touch_mode_the_bid_fills_on_the_sell_print_at_its_price():
    report, _ = backtest([tape(BTC, PRINTS_AT_THE_BID)],
                         lambda: StartOnly({0: limit("BUY", "29990")}), fill="touch")
    assert fills(report) == [("29990", "0.01", True, T0 + 2)]


def test_an_order_fills_partly_across_prints_and_each_step_is_an_order_update():
    prints = [(T0 + 1, 300_000, 1, True), (T0 + 2, 300_101, 4, False),
              (T0 + 3, 300_105, 4, False), (T0 + 4, 300_110, 9, False)]
    report, strategy = backtest([tape(BTC, prints)],
                                lambda: StartOnly({0: limit("SELL", "30010")}))
    assert [t[1] for t in fills(report)] == ["0.004", "0.004", "0.002"]
    assert [(u["status"], u["executedQty"]) for u in strategy.updates] == [
        ("NEW", "0"), ("PARTIALLY_FILLED", "0.004"), ("PARTIALLY_FILLED", "0.008"),
        ("FILLED", "0.01")]


def test_the_queue_model_waits_behind_the_quoted_size_at_the_orders_price():
    # 0.050 rests at 29990 when the bid is placed; sell prints of 0.030 then 0.030
    streams = [quotes(BTC, [(T0 + 1, 299_900, 50, 300_000, 50)]),
               tape(BTC, [(T0 + 1, 300_000, 1, False), (T0 + 2, 299_900, 30, True),
                          (T0 + 3, 299_900, 30, True), (T0 + 4, 299_900, 30, True)])]
    report, _ = backtest(streams, lambda: Scripted({1: limit("BUY", "29990")}),
                         fill="touch", queue=True)
    # the first print eats 0.030 of the queue, the second 0.020 more and 0.010 of ours
    assert fills(report) == [("29990", "0.01", True, T0 + 3)]


def test_a_market_order_fills_at_the_replayed_quote_when_quotes_are_loaded():
    streams = [quotes(BTC, [(T0 + 1, 299_995, 7, 300_005, 3)]),
               tape(BTC, [(T0 + 1, 300_000, 1, False), (T0 + 2, 300_001, 1, False)])]
    report, strategy = backtest(streams, lambda: Scripted({1: market("BUY", "0.020")}))
    assert strategy.answers[0]["avgPrice"] == "30000.5"
    assert fills(report) == [("30000.5", "0.02", False, T0 + 1)]


def test_without_quotes_a_market_order_fills_at_the_last_trade_plus_slippage():
    streams = [tape(BTC, [(T0 + 1, 300_000, 1, False), (T0 + 2, 300_001, 1, False)])]
    report, strategy = backtest(streams, lambda: Scripted({1: market("BUY")}),
                                slippage_ticks=3)
    assert strategy.answers[0]["avgPrice"] == "30000.3"
    # taker fee 0.0005 × 300.003 = 0.1500015
    assert report.summary["fees"] == "0.1500015"


@pytest.mark.parametrize("working_type, fired_at", [("MARK_PRICE", T0 + 60_000),
                                                    ("CONTRACT_PRICE", T0 + 3)])
def test_a_stop_fires_off_the_price_stream_its_working_type_names(working_type, fired_at):
    # prints run to 30100 while the mark stays at 30000, until a mark of 30060
    streams = [marks(BTC, [(T0, 300_000), (T0 + 60_000, 300_600)]),
               tape(BTC, [(T0 + 1, 300_000, 1, False), (T0 + 3, 301_000, 1, False),
                          (T0 + 70_000, 301_000, 1, False)])]

    def stop(c):
        return c.new_order(symbol=BTC, side="BUY", type="STOP_MARKET", stopPrice="30050",
                           quantity="0.010", workingType=working_type)

    report, strategy = backtest(streams, lambda: Scripted({1: stop}))
    row = strategy.answers[0]["orderId"]
    fired = [u for u in strategy.updates if u["orderId"] == row and u["status"] == "TRIGGERED"]
    assert [u["updateTime"] for u in fired] == [fired_at]
    assert [t["time"] for t in report.trades] == [fired_at]


# -- funding ---------------------------------------------------------------------------------
def long_at_30000():
    """A long of 0.010 bought at 30000 (the ask) on the first print: fee 0.15."""
    return Scripted({1: market("BUY")})


def funding_data(hours):
    return [quotes(BTC, [(T0 + 1, 299_990, 50, 300_000, 50)]),
            marks(BTC, [(T0 + 60_000, 300_000)]),
            tape(BTC, [(T0 + 1, 300_000, 1, False)]
                 + [(T0 + h * HOUR + 5, 300_000, 1, False) for h in range(1, hours + 1)])]


def test_funding_from_the_rate_series_is_paid_by_the_long_at_each_funding_time():
    # 0.010 × 30000 × 0.0001 = 0.03 paid at 08:00; at 16:00 the rate is -0.0002: 0.06 received
    streams = funding_data(17) + [funding(BTC, [(T0 + 8 * HOUR, 10_000),
                                                (T0 + 16 * HOUR, -20_000)])]
    report, _ = backtest(streams, long_at_30000)
    ex = report.exchange
    rows = ex.client("strategy").get_income_history(incomeType="FUNDING_FEE")
    assert [(r["time"], r["income"]) for r in rows] == [(T0 + 8 * HOUR, "-0.03"),
                                                        (T0 + 16 * HOUR, "0.06")]
    assert report.summary["funding"] == "0.03"
    # wallet = 10000 − 0.15 fee + 0.03 funding
    assert report.summary["wallet_balance"] == "9999.88"


def test_a_constant_funding_rate_settles_every_eight_hours_from_midnight():
    report, _ = backtest(funding_data(17), long_at_30000, funding_rate="0.0001")
    rows = report.exchange.client("strategy").get_income_history(incomeType="FUNDING_FEE")
    # 00:00 comes before the position: nothing to pay then
    assert [(r["time"], r["income"]) for r in rows] == [(T0 + 8 * HOUR, "-0.03"),
                                                        (T0 + 16 * HOUR, "-0.03")]


# -- liquidation -----------------------------------------------------------------------------
def bracket_long(c):
    """BUY 0.010 at 30000 crossing the last print (taker, fee 0.15), TP 32000 / SL 27000."""
    return c.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                       quantity="0.010", price="30000", takeProfitPrice="32000",
                       stopLossPrice="27000")


def test_a_long_is_liquidated_at_the_first_print_at_its_liquidation_price_without_marks():
    # wallet 20 − 0.15 = 19.85.  Liquidated when 19.85 + 0.01 (P − 30000) ≤ 0.01 P × 0.004:
    # P ≤ 280.15 / 0.00996 = 28127.51…, so the first tick at or below is 28127.5.
    # At 28127.6: margin balance 1.126 > MM 1.125104 — still alive.
    # At 28127.5: margin balance 1.125 ≤ MM 1.1251 — closed at 28127.5 against @insurance,
    # realized 0.01 × (28127.5 − 30000) = −18.725, fee ceil(281.275 × 0.0125) = 3.5159375
    # capped at the 1.125 left in the wallet, which ends at 0.
    prints = [(T0 + 1, 300_000, 5, False), (T0 + 10, 295_000, 5, True),
              (T0 + 20, 290_000, 5, True), (T0 + 30, 285_000, 5, True),
              (T0 + 40, 281_276, 5, True), (T0 + 50, 281_275, 5, True),
              (T0 + 60, 280_000, 5, True)]
    report, strategy = backtest([tape(BTC, prints)], lambda: Scripted({1: bracket_long}),
                                balance="20", leverage=20)
    ex = report.exchange
    assert ex._risk.liquidation_price(ex.account_state("strategy"), BTC) is None  # flat now
    assert report.liquidations == [{"time": T0 + 50, "symbol": BTC, "positionSide": "BOTH",
                                    "qty": "0.01", "price": "28127.5", "fee": "1.125"}]
    s = report.summary
    assert (s["realized_pnl"], s["fees"], s["liquidation_fees"], s["wallet_balance"]) == (
        "-18.725", "0.15", "1.125", "0")
    # both attached rows EXPIRED with the position; cancelling one now answers -2092
    rows = [r["orderId"] for r in strategy.answers[0]["triggerOrders"]]
    assert strategy.errors == [(rows[0], -2092), (rows[1], -2092)]
    assert {o["orderId"]: o["status"] for o in report.orders if "parentOrderId" in o} == {
        rows[0]: "EXPIRED", rows[1]: "EXPIRED"}


def test_with_marks_a_gap_through_the_bankruptcy_price_liquidates_on_the_mark_with_cover():
    # Prints fall to 28000, but the mark (30000) keeps the account alive; then the mark gaps
    # to 27000, beyond the bankruptcy price 30000 − 19.85 / 0.01 = 28015: closed at 27000,
    # realized −30, no fee (nothing left), the fee account covers the −10.15 deficit.
    streams = [marks(BTC, [(T0, 300_000), (T0 + 60_000, 270_000)]),
               tape(BTC, [(T0 + 1, 300_000, 5, False), (T0 + 10, 280_000, 5, True),
                          (T0 + 70_000, 270_500, 5, False)])]
    report, strategy = backtest(streams, lambda: Scripted({1: bracket_long}),
                                balance="20", leverage=20)
    ex = report.exchange
    assert report.liquidations == [{"time": T0 + 60_000, "symbol": BTC,
                                    "positionSide": "BOTH", "qty": "0.01", "price": "27000",
                                    "fee": "0"}]
    s = report.summary
    assert (s["realized_pnl"], s["liquidation_fees"], s["insurance_cover"],
            s["wallet_balance"]) == ("-30", "0", "10.15", "0")
    assert [code for _row, code in strategy.errors] == [-2092, -2092]
    assert ex.client("strategy").get_position_risk(symbol=BTC) == []  # flat: no row (v3)


def test_the_summary_reconciles_the_wallet_with_its_income_to_the_last_unit():
    streams = funding_data(17) + [funding(BTC, [(T0 + 8 * HOUR, 12_345)])]
    report, _ = backtest(streams, long_at_30000)
    s = report.summary

    def e8(x):
        return int(__import__("decimal").Decimal(x) * 10**8)

    assert e8(s["wallet_balance"]) == (e8(s["starting_balance"]) + e8(s["realized_pnl"])
                                       - e8(s["fees"]) + e8(s["funding"])
                                       - e8(s["liquidation_fees"]) + e8(s["insurance_cover"]))
