"""``engine.backtest.run``: data files and a strategy in, a backtest report out.

Set-up, in order (all deterministic):

1. load the data (:func:`engine.backtest.data.load`: files and directories of
   Binance's public data; or :class:`~engine.backtest.data.Stream` objects),
   keep the wanted ``symbols`` (default: every symbol with trades); kline files
   are not replayed (bars come from the trades); two streams of one kind for one
   symbol (aggTrades and trades, or markPriceKlines of two intervals) are refused;
2. with ``funding_rate``, replace any fundingRate data by that constant rate
   at every multiple of ``funding_interval_ms`` (00:00, 08:00, 16:00 UTC by
   default) between the first and the last event;
3. a venue (:class:`~engine.venue.exchange.Exchange`) whose clock starts at the first
   event, listing the instruments (default: BTCUSDT and ETHUSDT with the given
   maker/taker fees), in replay mode (``enable_tape``: fill model, queue
   model, slippage); one account with ``balance`` USDT and ``leverage`` on
   every replayed symbol;
4. the strategy (an instance, a :class:`~engine.backtest.strategy.Strategy`
   subclass, or ``"module:Class"`` / ``"path/to/file.py:Class"``, built with
   ``params``) gets the account's client, then the replay
   (:class:`~engine.backtest.replay.Replay`) runs it;
5. the report is read back from the venue.

``fast=False`` steps every event instead of skipping ahead; the report is the
same (only ``Report.stats`` differs).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from engine.backtest.data import Kind, Stream, load
from engine.backtest.progress import progress_bar
from engine.backtest.replay import Replay
from engine.backtest.report import Report, build_report
from engine.backtest.strategy import Strategy
from engine.core.decimals import scaled_exact
from engine.core.errors import ClientError
from engine.core.instrument import Instrument, default_instruments
from engine.venue.exchange import Exchange

HOUR_MS = 3_600_000
#: Binance's funding interval on most perpetuals
FUNDING_INTERVAL_MS = 8 * HOUR_MS
_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": HOUR_MS, "d": 24 * HOUR_MS}
_INTERVAL = re.compile(r"([0-9]+)(ms|s|m|h|d)?")

Data = str | Path | Stream


def parse_interval(text: str | int) -> int:
    """Milliseconds of ``"500ms"``, ``"15s"``, ``"1m"``, ``"8h"``, ``"1d"`` or a plain number.

    >>> parse_interval("1m"), parse_interval("8h"), parse_interval(250)
    (60000, 28800000, 250)
    """
    if isinstance(text, int) and not isinstance(text, bool):
        ms = text
    else:
        m = _INTERVAL.fullmatch(str(text).strip())
        if m is None:
            raise ValueError(f"interval {text!r} is not like 500ms, 15s, 1m, 8h or 1d")
        ms = int(m[1]) * _UNITS[m[2] or "ms"]
    if ms < 1:
        raise ValueError(f"interval {text!r} must be at least 1 ms")
    return ms


def load_strategy(spec: str) -> type[Strategy]:
    """The class named by ``"package.module:Class"`` or ``"path/to/file.py:Class"``."""
    module_name, sep, cls_name = spec.rpartition(":")
    if not sep or not module_name or not cls_name:
        raise ValueError(f"strategy {spec!r} must be MODULE:CLASS or FILE.py:CLASS")
    if module_name.endswith(".py") or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise ValueError(f"strategy file {module_name!r} not found")
        mod_spec = importlib.util.spec_from_file_location(f"_strategy_{path.stem}", path)
        assert mod_spec is not None and mod_spec.loader is not None
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise ValueError(f"cannot import strategy module {module_name!r}: {e}") from None
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ValueError(f"{spec!r} is not a subclass of engine.backtest.Strategy")
    return cls


def constant_funding(symbols: Iterable[str], rate: str | Decimal, start_ms: int, end_ms: int,
                     interval_ms: int = FUNDING_INTERVAL_MS) -> list[Stream]:
    """Funding streams of one constant ``rate`` at every multiple of ``interval_ms`` in
    ``[start_ms, end_ms]``, one per symbol.

    >>> [s.time.tolist() for s in constant_funding(["BTCUSDT"], "0.0001", 1, 20, 8)]
    [[8, 16]]
    """
    rate_e8 = scaled_exact(Decimal(rate), 8)
    if rate_e8 is None:
        raise ValueError(f"funding rate {rate!r} has more than 8 decimals")
    first = -(-start_ms // interval_ms) * interval_ms
    times = np.arange(first, end_ms + 1, interval_ms, dtype=np.int64)
    return [Stream(s, Kind.FUNDING, times, {"rate_e8": np.full(times.shape, rate_e8,
                                                               dtype=np.int64)})
            for s in symbols]


def run(
    data: Data | Iterable[Data],
    strategy: Strategy | type[Strategy] | str,
    *,
    symbols: Iterable[str] | None = None,
    balance: str | int | Decimal = "10000",
    maker_fee: str | None = None,
    taker_fee: str | None = None,
    leverage: int = 20,
    fill: str = "through",
    queue: bool = False,
    slippage_ticks: int = 0,
    funding_rate: str | Decimal | None = None,
    funding_interval_ms: int = FUNDING_INTERVAL_MS,
    equity_interval_ms: int = 60_000,
    params: Mapping[str, Any] | None = None,
    account: str = "strategy",
    instruments: list[Instrument] | None = None,
    round_mark: bool = True,
    fast: bool = True,
    progress: bool | None = None,
) -> Report:
    """Backtest ``strategy`` on ``data`` and return the :class:`Report` (see the module
    docstring).  ``ValueError`` (``DataError`` among them) on bad input; an exception
    raised by the strategy propagates.

    ``maker_fee``/``taker_fee`` (default 0.0002/0.0005) apply to the default
    instruments; with ``instruments`` given, theirs apply.  ``round_mark``: round
    markPriceKlines to the tick grid (real ones carry more decimals).
    ``progress``: None shows a bar on long replays when stderr is a terminal.
    """
    if instruments is None:
        fees = {k: v for k, v in (("maker_rate", maker_fee), ("taker_rate", taker_fee)) if v}
        instruments = default_instruments(**fees)
    elif maker_fee is not None or taker_fee is not None:
        raise ValueError("give fees in the instruments, not maker_fee/taker_fee, with instruments")
    streams = _streams(data, instruments, round_mark)
    wanted = sorted(set(symbols)) if symbols is not None else sorted(
        {s.symbol for s in streams if s.kind is Kind.TRADE})
    have = {s.symbol for s in streams if s.kind is Kind.TRADE and len(s)}
    missing = [s for s in wanted if s not in have]
    if missing or not wanted:
        raise ValueError(f"no trades in the data for {', '.join(missing) or 'any symbol'}")
    streams = [s for s in streams if s.symbol in wanted and s.kind is not Kind.KLINE]
    seen: dict[tuple[str, Kind], Stream] = {}
    for s in streams:
        other = seen.setdefault((s.symbol, s.kind), s)
        if other is not s:
            raise ValueError(
                f"two {s.kind.value} streams for {s.symbol} ({', '.join(other.files) or 'given'}"
                f" and {', '.join(s.files) or 'given'}): load aggTrades or trades, and one "
                "interval of markPriceKlines, per symbol")
    times = [s.time for s in streams if len(s)]  # not empty: there are trades
    start, end = min(int(t[0]) for t in times), max(int(t[-1]) for t in times)
    if funding_rate is not None:
        streams = [s for s in streams if s.kind is not Kind.FUNDING]
        streams += constant_funding(wanted, funding_rate, start, end, funding_interval_ms)

    ex = Exchange(instruments, start_time=start)
    ex.create_account(account, balance)
    ex.enable_tape(fill=fill, queue=queue, slippage_ticks=slippage_ticks)
    client = ex.client(account)
    for symbol in wanted:
        try:
            client.change_leverage(symbol=symbol, leverage=leverage)
        except ClientError as e:
            raise ValueError(f"leverage {leverage!r} on {symbol}: {e.error_message}") from None
    starting = ex.account_state(account).wallet_e8

    strat, name = _strategy(strategy, params)
    strat.client = client
    strat.symbols = tuple(wanted)
    strat.instruments = {s: ex.instruments[s] for s in wanted}
    total = sum(len(s) for s in streams)
    bar = progress_bar(total, progress)
    try:
        replay = Replay(ex, streams, strat, account, fast=fast,
                        equity_interval_ms=equity_interval_ms, progress=bar)
        replay.run()
    finally:
        if bar is not None:
            bar.close()
    config = {
        "strategy": name,
        "params": {k: str(v) for k, v in sorted((params or getattr(strat, "params", None)
                                                  or {}).items())},
        "fill": fill, "queue": bool(queue), "slippage_ticks": slippage_ticks,
        "leverage": leverage,
        "maker_fee": str(ex.instruments[wanted[0]].maker_rate),
        "taker_fee": str(ex.instruments[wanted[0]].taker_rate),
        "funding_rate": None if funding_rate is None else str(funding_rate),
        "funding_interval_ms": funding_interval_ms,
        "bar_interval_ms": strat.bar_interval_ms,
        "equity_interval_ms": equity_interval_ms,
    }
    report = build_report(
        ex, account, wanted, starting_balance_e8=starting, events=replay.n,
        start_time=start, equity=replay.equity, config=config,
        strategy_stats=getattr(strat, "stats", None),
    )
    report.stats.update({"events": replay.n, "stops": replay.stops})
    return report


def _streams(data: Data | Iterable[Data], instruments: list[Instrument],
             round_mark: bool) -> list[Stream]:
    items = [data] if isinstance(data, (str, Path, Stream)) else list(data)
    paths = [d for d in items if not isinstance(d, Stream)]
    given = [d for d in items if isinstance(d, Stream)]
    return given + (load(paths, instruments, round_mark=round_mark) if paths else [])


def _strategy(strategy: Strategy | type[Strategy] | str,
              params: Mapping[str, Any] | None) -> tuple[Strategy, str]:
    if isinstance(strategy, Strategy):
        if params:
            raise ValueError("params go to the strategy's constructor; pass a class or spec")
        cls = type(strategy)
        return strategy, f"{cls.__module__}:{cls.__qualname__}"
    cls = load_strategy(strategy) if isinstance(strategy, str) else strategy
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ValueError(f"{strategy!r} is not a Strategy subclass, instance or spec")
    return cls(**dict(params or {})), f"{cls.__module__}:{cls.__qualname__}"
