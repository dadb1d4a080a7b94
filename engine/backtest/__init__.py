"""Backtesting: historical market data replayed through a strategy against the venue.

Needs the ``backtest`` extra (numpy, tqdm); ``import engine`` does not import this
package, so the venue itself stays free of numpy.

* :func:`run` — files (or streams) and a strategy in, a :class:`Report` out
  (:mod:`engine.backtest.runner`); ``fapisim backtest`` is its command line;
* :class:`Strategy` — the base class with callbacks (``on_start``, ``on_trade``,
  ``on_bar``, ``on_order_update``, ``on_end``), trading through the same
  UMFutures-shaped client as everywhere else (:mod:`engine.backtest.strategy`);
* :mod:`engine.backtest.data` reads Binance's public USDⓈ-M market-data files
  into integer numpy streams and merges them in time order;
  :mod:`engine.backtest.synthetic` makes seeded synthetic streams;
* :mod:`engine.backtest.replay` is the event loop (with its skip-ahead fast
  path), :mod:`engine.backtest.report` the deterministic JSON report;
* :mod:`engine.backtest.examples` holds two example strategies.

May import: :mod:`engine.venue` and :mod:`engine.core`.
Must not import: persistence, the wire edge, the scenarios, the fuzz toolkit,
the server or the command line.  Its market-data code (``data``, ``stream``,
``synthetic``) is the one part the server may import; the rest is the command
line's.
"""

from engine.backtest.report import Report
from engine.backtest.runner import run
from engine.backtest.strategy import Bar, Strategy, Trade

__all__ = ["Bar", "Report", "Strategy", "Trade", "run"]
