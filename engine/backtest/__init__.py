"""Backtesting: historical market data in, replayed against the venue.

:mod:`engine.backtest.data` reads Binance's public USDⓈ-M market-data files into
integer numpy streams and merges them in time order; :mod:`engine.backtest.synthetic`
makes seeded synthetic streams for tests and benchmarks.  Both need numpy, so this
package file imports nothing: ``import engine`` stays free of it.
"""
