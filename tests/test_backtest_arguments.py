"""A backtest refuses arguments it cannot honour, before replaying anything, with a
``ValueError`` that says what was wrong."""

from __future__ import annotations

import pytest

pytest.importorskip("numpy")

from backtest_support import trades  # noqa: E402

from engine.backtest import Strategy, run  # noqa: E402
from engine.backtest.runner import constant_funding, load_strategy, parse_interval  # noqa: E402
from engine.core.instrument import default_instruments  # noqa: E402


@pytest.mark.parametrize(("text", "message"), [
    ("5 minutes", "interval '5 minutes' is not like 500ms, 15s, 1m, 8h or 1d"),
    ("0s", "interval '0s' must be at least 1 ms"),
    (0, "interval 0 must be at least 1 ms"),
])
def test_an_interval_that_is_not_a_positive_duration_is_refused(text, message):
    with pytest.raises(ValueError) as info:
        parse_interval(text)

    assert str(info.value) == message


@pytest.mark.parametrize(("spec", "message"), [
    ("no_colon", "strategy 'no_colon' must be MODULE:CLASS or FILE.py:CLASS"),
    ("missing/strategy.py:Mine", "strategy file 'missing/strategy.py' not found"),
])
def test_a_strategy_spec_that_names_nothing_is_refused(spec, message):
    with pytest.raises(ValueError) as info:
        load_strategy(spec)

    assert str(info.value) == message


def test_a_funding_rate_finer_than_eight_decimals_is_refused():
    with pytest.raises(ValueError, match="funding rate '0.000000001' has more than 8 decimals"):
        constant_funding(["BTCUSDT"], "0.000000001", 0, 10, 8)


def _data():
    return trades(20, 1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"instruments": default_instruments(), "maker_fee": "0.0001"},
     "give fees in the instruments, not maker_fee/taker_fee, with instruments"),
    ({"params": {"x": 1}, "strategy": Strategy()},
     "params go to the strategy's constructor; pass a class or spec"),
    ({"strategy": dict}, "is not a Strategy subclass, instance or spec"),
])
def test_run_refuses_arguments_that_contradict_each_other(kwargs, message):
    strategy = kwargs.pop("strategy", Strategy)

    with pytest.raises(ValueError, match=message):
        run(_data(), strategy, progress=False, **kwargs)


# -- the replay loop's own guards -------------------------------------------------------------
@pytest.mark.parametrize(("updates", "last", "message"), [
    (-1, [], "updates must be an int ≥ 0, not -1"),
    (True, [], "updates must be an int ≥ 0, not True"),
    (0, [("mark", "BTCUSDT", 1, 300000)], "not a trade or quote event"),
])
def test_skip_run_refuses_a_count_or_an_event_it_cannot_apply(updates, last, message):
    from engine import Exchange
    from engine.venue.tapeloop import skip_run

    ex = Exchange()
    ex.enable_tape()
    before = ex.state_hash()

    with pytest.raises(ValueError, match=message):
        skip_run(ex, last, updates)
    assert ex.state_hash() == before


def test_skip_run_is_refused_on_a_journaled_venue(tmp_path):
    from engine import Exchange
    from engine.venue.tapeloop import skip_run

    ex = Exchange(journal=tmp_path / "run.jsonl")
    ex.enable_tape()

    with pytest.raises(ValueError, match="skip_run on a journaled venue"):
        skip_run(ex, [("trade", "BTCUSDT", ex.now, 300000)], 1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"equity_interval_ms": 0}, "equity_interval_ms must be ≥ 1, not 0"),
])
def test_run_refuses_an_equity_interval_below_one_millisecond(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(_data(), Strategy, progress=False, **kwargs)


@pytest.mark.parametrize("interval", [0, 1.5])
def test_a_strategy_asking_for_bars_shorter_than_a_millisecond_is_refused(interval):
    class Odd(Strategy):
        bar_interval_ms = interval

        def on_bar(self, bar):
            pass

    with pytest.raises(ValueError, match="bar_interval_ms must be an int ≥ 1"):
        run(_data(), Odd, progress=False)
