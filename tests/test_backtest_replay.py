"""The replay loop: the fast path equals stepping, callbacks come in order, bars are exact.

The reference for the fast path is the replay itself with ``fast=False``, which
applies every event with ``tape_trade``; the two must give byte-identical JSON
reports and the same ``state_hash()`` on generated data where a seeded strategy
keeps orders, triggers (both working types, trailing ones too) and liquidation
prices near and far from the price.
"""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")

from backtest_support import (  # noqa: E402
    T0,
    Chaos,
    ChaosEveryTrade,
    StartOnly,
    marks_for,
    quotes_for,
    tape,
    trades,
)

from engine.backtest import Bar, Strategy, run  # noqa: E402
from engine.backtest.data import merge  # noqa: E402

BTC, ETH = "BTCUSDT", "ETHUSDT"


def both(streams, strategy, **kw):
    fast = run(streams, strategy, fast=True, **kw)
    slow = run(streams, strategy, fast=False, **kw)
    fast.exchange.check_invariants()
    return fast, slow


BT = trades(12_000, 3, step=30)
ET = trades(9_000, 9, symbol=ETH, start=230_000, step=20)
CASES = {
    "trades only, through": ([BT], {}),
    "quotes, marks and funding": ([BT, quotes_for(BT, 4), marks_for(BT, 5)],
                                  {"funding_rate": "0.001", "funding_interval_ms": 60_000}),
    "touch fills, no trailing stops": ([BT], {"fill": "touch", "trailing": "0"}),
    "touch with the queue model": ([BT, quotes_for(BT, 4)], {"fill": "touch", "queue": True}),
    "two symbols without marks": ([BT, ET], {"trailing": "0"}),
    "two symbols, one marked": ([BT, ET, marks_for(ET, 6)], {}),
    "two symbols, both quoted": ([BT, ET, quotes_for(BT, 4), quotes_for(ET, 7)], {}),
}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_the_fast_path_gives_exactly_the_report_and_state_of_stepping(case, seed):
    # Arrange: near and far orders, triggers, big sizes at 125x so liquidations happen
    streams, extra = CASES[case]
    extra = dict(extra)
    params = {"seed": seed, "qmax": 200, "trailing": extra.pop("trailing", "1")}
    # Act
    fast, slow = both(streams, Chaos, params=params, balance="60", leverage=125, **extra)
    # Assert
    assert fast.to_json() == slow.to_json()
    assert fast.state_hash == slow.state_hash
    assert fast.stats["stops"] < slow.stats["stops"] == slow.stats["events"]
    assert fast.summary["trades"] > 0


def test_the_every_trade_mode_with_in_band_touches_equals_stepping():
    fast, slow = both([BT, ET, marks_for(ET, 6)], ChaosEveryTrade,
                      params={"seed": 3, "qmax": 200, "trailing": "0"}, balance="60",
                      leverage=125)
    assert fast.to_json() == slow.to_json()
    assert fast.summary["liquidations"] > 0
    assert fast.stats["stops"] < fast.stats["events"] // 2  # most prints were touches


def test_the_comparison_is_sharp_enough_to_see_liquidations_and_refusals():
    fast, _ = both([BT, ET], Chaos, params={"seed": 2, "qmax": 200, "trailing": "0"},
                   balance="60", leverage=125)
    stats = fast.summary["strategy_stats"]
    assert fast.summary["liquidations"] > 0
    assert stats["error_-2019"] > 0 and stats["updates"] > 50


class Quiet(Strategy):
    """Rests one bid far below the price at start and never trades."""

    def on_start(self):
        self.client.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                              quantity="0.010", price="20000")


def test_a_quiet_strategy_makes_the_loop_visit_only_the_equity_boundaries():
    tr = trades(100_000, 7)
    minutes = int(tr.time[-1] - tr.time[0]) // 60_000 + 1
    fast, slow = both([tr], Quiet)
    assert fast.to_json() == slow.to_json()
    assert fast.stats["stops"] <= minutes + 1 < fast.stats["events"] // 50


def test_a_countdown_deadline_inside_a_quiet_stretch_cancels_on_time():
    # Arrange: a far bid and a 5 s countdown from the start; prints every 10 ms
    rows = [(T0 + 10 * k, 300_000 + k % 3, 1, k % 2 == 0) for k in range(1, 2_000)]

    def arm(c):
        c.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.010", price="20000")
        return c.countdown_cancel_order(symbol=BTC, countdownTime=5_000)

    for fast in (True, False):
        strategy = StartOnly({0: arm})
        # Act
        report = run([tape(BTC, rows)], strategy, fast=fast)
        # Assert: the clock starts at the first print (T0 + 10); the cancel happens at
        # the deadline, as the first print at or after it moves the clock there
        assert [(u["status"], u["updateTime"]) for u in strategy.updates] == [
            ("NEW", T0 + 10), ("CANCELED", T0 + 5_010)]
        assert report.stats["stops"] < 100 if fast else True


class Recorder(Strategy):
    bar_interval_ms = 1_000

    def __init__(self):
        super().__init__()
        self.calls: list[tuple] = []

    def on_start(self):
        self.calls.append(("start", self.client.time()["serverTime"]))

    def on_trade(self, trade):
        self.calls.append(("trade", trade.time, trade.price_ticks, trade.qty_lots,
                           trade.buyer_maker))

    def on_bar(self, bar: Bar):
        self.calls.append(("bar", bar.open_time, bar.close_time, bar.open, bar.high, bar.low,
                           bar.close, bar.volume, bar.trades))

    def on_end(self):
        self.calls.append(("end",))


def test_callbacks_come_in_replay_order_and_bars_close_before_the_next_event():
    # Arrange: three prints in the first second, one in the third
    rows = [(T0 + 5, 300_000, 2, False), (T0 + 400, 300_009, 1, False),
            (T0 + 999, 299_990, 4, True), (T0 + 2_500, 300_100, 1, False)]
    strategy = Recorder()
    # Act
    run([tape(BTC, rows)], strategy)
    # Assert: the first bar arrives before the print that follows its close; the open
    # bar at the end of the data is not delivered; an empty second has no bar
    assert strategy.calls == [
        ("start", T0 + 5),
        ("trade", T0 + 5, 300_000, 2, False),
        ("trade", T0 + 400, 300_009, 1, False),
        ("trade", T0 + 999, 299_990, 4, True),
        ("bar", T0, T0 + 999, 300_000, 300_009, 299_990, 299_990, 7, 3),
        ("trade", T0 + 2_500, 300_100, 1, False),
        ("end",),
    ]


def test_bars_equal_a_plain_aggregation_of_the_trades():
    # Arrange
    tr = trades(30_000, 11)

    class Bars(Strategy):
        bar_interval_ms = 7_000

        def __init__(self):
            super().__init__()
            self.bars = []

        def on_bar(self, bar):
            self.bars.append((bar.open_time, bar.open, bar.high, bar.low, bar.close,
                              bar.volume, bar.trades))

    strategy = Bars()
    # Act
    run([tr], strategy)
    # Assert: the model groups by (time // interval) in plain Python
    groups: dict[int, list[tuple[int, int]]] = {}
    for t, p, q in zip(tr.time.tolist(), tr.price.tolist(), tr.qty.tolist(), strict=True):
        groups.setdefault(t // 7_000 * 7_000, []).append((p, q))
    model = [(t0, g[0][0], max(p for p, _ in g), min(p for p, _ in g), g[-1][0],
              sum(q for _, q in g), len(g)) for t0, g in sorted(groups.items())]
    assert strategy.bars == model[:-1]  # the last bar is still open when the data ends


def test_the_equity_curve_is_sampled_at_each_boundary_before_that_instants_event():
    rows = [(T0 + 1, 300_000, 1, False), (T0 + 61_000, 300_000, 1, False),
            (T0 + 200_000, 300_000, 1, False)]
    report = run([tape(BTC, rows)], Quiet, equity_interval_ms=60_000)
    # start, the 1-minute boundary, the 3-minute boundary (one sample for a gap), end
    assert [t for t, _e in report.equity] == [T0 + 1, T0 + 60_000, T0 + 180_000, T0 + 200_000]


def test_a_strategy_answering_every_update_with_an_order_is_stopped_with_an_error():
    class Spinner(Strategy):
        def on_start(self):
            self.on_order_update({})

        def on_order_update(self, order):
            self.client.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity="0.010", price="20000")
            self.client.cancel_open_orders(symbol=BTC)

    import engine.backtest.replay as replay

    old, replay._UPDATE_LIMIT = replay._UPDATE_LIMIT, 50
    try:
        with pytest.raises(RuntimeError, match="did not settle after 50 calls"):
            run([tape(BTC, [(T0 + 1, 300_000, 1, False)])], Spinner)
    finally:
        replay._UPDATE_LIMIT = old


def test_the_single_stream_short_cut_lays_events_as_merge_does():
    from engine.backtest.replay import _timeline

    tl, ref = _timeline([BT]), merge([BT])
    assert all((getattr(tl, a) == getattr(ref, a)).all()
               for a in ("time", "stream_index", "row_index"))
