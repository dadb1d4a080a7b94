"""The report, ``fapisim backtest`` and the README's "Backtest in five minutes".

The README commands run as written (``fapisim`` as ``python -m engine``) on files the
sample-data script generates; two runs in separate processes with different
``PYTHONHASHSEED`` must print byte-identical JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("numpy")

from backtest_support import T0, tape, trades  # noqa: E402

from engine.backtest import Strategy, run  # noqa: E402
from engine.backtest.report import max_drawdown  # noqa: E402
from engine.cli import main  # noqa: E402
from engine.core.decimals import fmt_ratio  # noqa: E402
from engine.core.instrument import money_str  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BRACKET = "engine.backtest.examples.bracket:BracketScalper"
SMA = "engine.backtest.examples.sma_cross:SmaCross"

#: The strategy file of the README section, verbatim.
README_STRATEGY = '''\
from engine.backtest import Strategy


class DipBuyer(Strategy):
    """Each minute, bid 5 ticks under the close with a take-profit and a stop-loss
    attached; an unfilled bid is cancelled (its TP/SL go with it) a minute later."""

    def on_start(self):
        self.bid = None

    def on_bar(self, bar):
        if self.bid is not None:
            gone = self.client.cancel_order(symbol=bar.symbol, orderId=self.bid)
            self.bid = None
            if gone["executedQty"] != "0":  # a partial fill lost its TP/SL: close it
                self.client.new_order(symbol=bar.symbol, side="SELL", type="MARKET",
                                      quantity=gone["executedQty"], reduceOnly="true")
        held = self.client.get_position_risk(symbol=bar.symbol)  # no row while flat
        if held and held[0]["positionAmt"] != "0":
            return  # in a position: its TP or SL will close it
        price = bar.close - 5  # prices are integer ticks; bar.price() writes them
        order = self.client.new_order(
            symbol=bar.symbol, side="BUY", type="LIMIT", timeInForce="GTC",
            quantity="0.010", price=bar.price(price),
            takeProfitPrice=bar.price(price + 30), stopLossPrice=bar.price(price - 20))
        self.bid = order["orderId"]

    def on_order_update(self, order):
        if order["orderId"] == self.bid and order["status"] == "FILLED":
            self.bid = None  # now a position, protected by its TP/SL
'''

#: The README section's commands, in order.
README_COMMANDS = [
    "fapisim sample-data data --days 2 --seed 7",
    "fapisim backtest data --strategy my_strategy.py:DipBuyer --balance 1000 --out out",
    f"fapisim backtest data --strategy {BRACKET} --param tp=40 --leverage 10 --json",
]


def _argv(command: str, work: Path) -> list[str]:
    words = command.split()
    if words[0] == "fapisim":
        return [sys.executable, "-m", "engine", *words[1:]]
    assert words[0] == "python"
    return [sys.executable, str(ROOT / words[1]), *words[2:]]


def _sh(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=full,
                          timeout=300)


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory):
    """Run the README section's commands in a fresh directory; keep their results."""
    work = tmp_path_factory.mktemp("readme")
    (work / "my_strategy.py").write_text(README_STRATEGY)
    results = [_sh(_argv(c, work), work) for c in README_COMMANDS]
    return work, results


# -- the README section ------------------------------------------------------------------------
def test_the_readme_commands_generate_data_and_backtest_it_to_a_report(readme_run):
    work, results = readme_run
    for command, result in zip(README_COMMANDS, results, strict=True):
        assert result.returncode == 0, (command, result.stderr)
    assert "BTCUSDT-aggTrades-2024-01-02.zip" in results[0].stdout
    summary = results[1].stdout
    assert "starting balance" in summary and "max drawdown" in summary
    report = json.loads((work / "out" / "report.json").read_text())
    assert report["summary"]["trades"] > 0 and report["summary"]["trigger_orders"] > 0
    assert report["summary"]["config"]["strategy"].endswith(":DipBuyer")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not (work / "out" / "equity.png").exists()
    else:
        assert (work / "out" / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_bundled_bracket_example_cancels_and_meets_the_2091_answer(readme_run):
    _work, results = readme_run
    stats = json.loads(results[2].stdout)["summary"]["strategy_stats"]
    assert stats["entries"] > 0 and stats["entries_cancelled"] > 0
    assert stats["take_profits"] + stats["stop_losses"] > 0
    assert stats["error_-2091"] > 0  # the sibling the OCO cancel already took


def test_a_long_replay_shows_no_progress_bar_when_stderr_is_not_a_terminal(readme_run,
                                                                           capsys):
    _work, results = readme_run
    assert results[1].stderr == ""  # replayed through a pipe: nothing on stderr
    from engine.backtest import progress

    assert progress.progress_bar(10**9) is None
    bar = progress.progress_bar(5, enabled=True)
    bar.update(5)
    bar.close()
    assert "replay" in capsys.readouterr().err


# -- determinism ------------------------------------------------------------------------------
def test_two_processes_with_different_hash_seeds_print_byte_identical_json(readme_run):
    work, _results = readme_run
    argv = _argv(f"fapisim backtest data --strategy {BRACKET} --json", work)
    a = _sh(argv, work, PYTHONHASHSEED="0")
    b = _sh(argv, work, PYTHONHASHSEED="4242")
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout
    # ... and the same as in this process, state hash included
    here = run(work / "data", BRACKET)
    assert here.to_json() == a.stdout
    assert json.loads(a.stdout)["summary"]["state_hash"] == here.exchange.state_hash()


# -- the report -------------------------------------------------------------------------------
def _types(value, path="$"):
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), path
            yield from _types(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _types(v, f"{path}[{i}]")
    else:
        yield path, type(value)


def test_the_report_holds_only_ints_strings_bools_and_nulls_with_sorted_keys():
    report = run([trades(20_000, 5, gap=600, step=10)], SMA, params={"fast": "3", "slow": "8"})
    kinds = {t for _p, t in _types(report.to_dict())}
    assert kinds <= {int, str, bool, type(None)}
    text = report.to_json()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"
    assert report.summary["trades"] > 0 and len(report.equity) > 3


def _naive_drawdown(xs):
    """Every (earlier, later) pair for the fall; the ratio against the running peak."""
    best, num, den = 0, 0, 1
    for j, later in enumerate(xs):
        best = max([best] + [peak - later for peak in xs[:j + 1]])
        peak = max(xs[:j + 1])
        if peak > 0 and Fraction(peak - later, peak) > Fraction(num, den):
            num, den = peak - later, peak
    return best, num, den


@given(st.lists(st.integers(-10**12, 10**12), max_size=40))
def test_max_drawdown_equals_the_largest_fall_from_any_earlier_peak(xs):
    worst, num, den = max_drawdown(xs)
    ref_worst, ref_num, ref_den = _naive_drawdown(xs)
    assert (worst, Fraction(num, den)) == (ref_worst, Fraction(ref_num, ref_den))


def test_max_drawdown_in_the_report_is_exact_on_the_sampled_equity():
    report = run([trades(20_000, 5, gap=600, step=10)], SMA, params={"fast": "3", "slow": "8"})
    equity = [e for _t, e in report.equity]
    worst, num, den = _naive_drawdown(equity)
    assert worst > 0
    assert report.summary["max_drawdown"] == money_str(worst)
    assert report.summary["max_drawdown_ratio"] == fmt_ratio(num, den, 8)


class Holder(Strategy):
    def on_start(self):
        self.client.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                              quantity="0.010", price="30000")


def test_the_final_equity_sample_is_the_summary_equity_at_mark():
    rows = [(T0 + 1, 300_000, 10, True), (T0 + 2, 299_990, 10, True),
            (T0 + 90_000, 301_000, 5, False)]
    report = run([tape("BTCUSDT", rows)], Holder)
    # bought 0.010 at 30000 as maker (fee 0.06), marked at the last print 30100: +1
    assert report.summary["equity"] == "10000.94"
    assert report.equity[-1] == (T0 + 90_000, 1_000_094_000_000)


# -- the command line -------------------------------------------------------------------------
def test_a_malformed_row_stops_the_backtest_naming_file_line_and_reason(tmp_path, capsys):
    bad = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    bad.write_text(f"1,30000.10,0.010,1,1,{T0},true\n2,30000.1x,0.010,2,2,{T0},false\n")
    code = main(["backtest", str(bad), "--strategy", SMA])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bad}, line 2: price '30000.1x'" in err


@pytest.mark.parametrize("spec, message", [
    ("nocolon", "MODULE:CLASS"),
    ("no.such.module:X", "cannot import strategy module"),
    ("engine.backtest.examples.sma_cross:Missing", "not a subclass"),
])
def test_a_strategy_that_cannot_be_loaded_is_a_usage_error(tmp_path, capsys, spec, message):
    data = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    data.write_text(f"1,30000.10,0.010,1,1,{T0},true\n")
    assert main(["backtest", str(data), "--strategy", spec]) == 2
    assert message in capsys.readouterr().err


def test_strategy_params_reach_the_constructor_as_strings(tmp_path, capsys):
    data = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    data.write_text(f"1,30000.10,0.010,1,1,{T0},true\n")
    assert main(["backtest", str(data), "--strategy", SMA, "--param", "fast=9",
                 "--param", "slow=7"]) == 2
    assert "need 0 < fast < slow" in capsys.readouterr().err
    assert main(["backtest", str(data), "--strategy", SMA, "--param", "fast=2",
                 "--param", "slow=7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["config"]["params"] == {"fast": "2", "slow": "7"}


def test_a_leverage_the_venue_refuses_and_data_without_trades_are_usage_errors(tmp_path,
                                                                                capsys):
    data = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    data.write_text(f"1,30000.10,0.010,1,1,{T0},true\n")
    assert main(["backtest", str(data), "--strategy", SMA, "--leverage", "500"]) == 2
    assert "leverage 500 on BTCUSDT" in capsys.readouterr().err
    assert main(["backtest", str(data), "--strategy", SMA, "--symbols", "ETHUSDT"]) == 2
    assert "no trades in the data for ETHUSDT" in capsys.readouterr().err


def test_two_trade_streams_for_one_symbol_are_refused_rather_than_replayed_twice():
    rows = [(T0 + 1, 300_000, 1, False)]
    with pytest.raises(ValueError, match="two trade streams for BTCUSDT"):
        run([tape("BTCUSDT", rows), tape("BTCUSDT", rows)], SMA)


def _readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    body = text.split("## Backtest in five minutes\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_the_readme_strategy_is_the_one_these_tests_run():
    assert _readme_blocks()[0] == README_STRATEGY


def test_the_readme_python_run_works_on_the_generated_data(readme_run, monkeypatch, capsys):
    work, _results = readme_run
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))
    namespace: dict = {}

    exec(compile(_readme_blocks()[1], "README run block", "exec"), namespace)  # noqa: S102

    assert "max drawdown" in capsys.readouterr().out
    assert namespace["report"].summary["trades"] > 0
