"""A freqtrade strategy that trades as often as it can: a long entry on every pass of the
bot loop while flat, an exit a few seconds later, and a stop-loss on the exchange meanwhile.

Loaded by freqtrade (``--strategy QuickFlip --strategy-path tests/freqtrade``), never by
pytest: ``conftest.py`` here keeps ``--doctest-modules`` from importing it without freqtrade.
"""

from __future__ import annotations

from datetime import datetime

from freqtrade.strategy import IStrategy
from pandas import DataFrame


class QuickFlip(IStrategy):
    INTERFACE_VERSION = 3

    timeframe = "1m"
    can_short = False
    process_only_new_candles = False  # decide on every bot loop, not once a minute
    startup_candle_count = 30
    minimal_roi = {"0": 100}  # never: the exit is custom_exit's
    stoploss = -0.10  # placed on the exchange as a STOP_MARKET algo order
    use_custom_stoploss = False
    use_exit_signal = True

    #: seconds a position is held before custom_exit closes it
    hold_seconds = 4

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe

    def custom_exit(self, pair: str, trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs) -> str | None:
        if (current_time - trade.open_date_utc).total_seconds() >= self.hold_seconds:
            return "held"
        return None
