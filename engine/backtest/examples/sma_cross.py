"""A moving-average crossover on bars: long when the fast average is above the slow one,
short when below, always through MARKET orders.

Parameters (strings on the command line): ``fast`` and ``slow`` (bars, default
10 and 30), ``qty`` (order quantity, default ``"0.010"``).  Averages are
compared as integer sums (``fast_sum × slow > slow_sum × fast``), so no
division and no rounding.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from engine.backtest.strategy import Bar, Strategy


class SmaCross(Strategy):
    """Long above, short below: a MARKET order for the difference on each crossover."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.fast = int(params.get("fast", 10))
        self.slow = int(params.get("slow", 30))
        if not 0 < self.fast < self.slow:
            raise ValueError(f"need 0 < fast < slow, not fast={self.fast} slow={self.slow}")
        self.qty = Decimal(str(params.get("qty", "0.010")))
        self.closes: dict[str, deque[int]] = {}
        self.side: dict[str, int] = {}
        self.stats: dict[str, int] = {"crossovers": 0, "rejected": 0}

    def on_start(self) -> None:
        for symbol in self.symbols:
            self.closes[symbol] = deque(maxlen=self.slow)
            self.side[symbol] = 0

    def on_bar(self, bar: Bar) -> None:
        closes = self.closes[bar.symbol]
        closes.append(bar.close)
        if len(closes) < self.slow:
            return
        slow_sum = sum(closes)
        fast_sum = sum(list(closes)[-self.fast:])
        lhs, rhs = fast_sum * self.slow, slow_sum * self.fast
        want = 1 if lhs > rhs else -1 if lhs < rhs else self.side[bar.symbol]
        if want == self.side[bar.symbol]:
            return
        self.stats["crossovers"] += 1
        rows = self.client.get_position_risk(symbol=bar.symbol)  # none while flat (v3)
        held = Decimal(rows[0]["positionAmt"]) if rows else Decimal(0)
        delta = want * self.qty - held
        if not delta:
            return
        from engine import ClientError

        try:
            self.client.new_order(symbol=bar.symbol, side="BUY" if delta > 0 else "SELL",
                                  type="MARKET", quantity=str(abs(delta)))
        except ClientError:
            self.stats["rejected"] += 1  # e.g. -2019 margin: stay as we are
            return
        self.side[bar.symbol] = want
