"""Example strategies for ``fapisim backtest`` (``--strategy engine.backtest.examples.X:Y``).

* :class:`~engine.backtest.examples.sma_cross.SmaCross` — a moving-average
  crossover on bars, always in the market, MARKET orders only;
* :class:`~engine.backtest.examples.bracket.BracketScalper` — LIMIT entries with
  attached take-profit and stop-loss, stale entries cancelled (cascading to their
  TP/SL), stops trailed by cancelling and re-attaching the stop-loss row, and
  every cancel refusal (-2090…-2092) counted.
"""

__all__ = ["bracket", "sma_cross"]
