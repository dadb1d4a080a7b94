"""Sample market-data files from the synthetic market: ``fapisim sample-data``.

    write_sample("data", ["BTCUSDT"], days=2, seed=7)

Files land in data.binance.vision's layout under the directory, in Binance's exact csv
formats (see :mod:`engine.backtest.data`), one zip holding one csv each:

* ``futures/um/daily/aggTrades/SYM/SYM-aggTrades-DAY.zip`` — the prints of
  :func:`~engine.backtest.synthetic.minute_trades`, with a header row on the first,
  third, … day and without on the others, as older files have none (``header``);
* ``futures/um/daily/bookTicker/SYM/SYM-bookTicker-DAY.zip`` — the touch just before
  every print, the print at the bid (a sell) or the ask (a buy);
* ``futures/um/daily/klines/SYM/1m/SYM-1m-DAY.zip`` — 1-minute bars of those prints
  (a minute without prints repeats the close);
* ``futures/um/daily/markPriceKlines/SYM/1m/SYM-markPriceKlines-1m-DAY.zip`` — the mark,
  a tick or two around the last price;
* ``futures/um/monthly/fundingRate/SYM/SYM-fundingRate-MONTH.zip`` — a rate every 8 h.

The market is :class:`~engine.backtest.synthetic.MarketModel` at the symbol's
:data:`START_PRICES` (its volatility clusters, it jumps now and then, and a day moves
about 1–3 % high to low).  Everything comes from the seed: the same arguments give
byte-identical files (zip entries carry a fixed date).  Rows are written by
:func:`~engine.backtest.csvtext.csv_rows` and deflated at level 1, two files at a time.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from engine.backtest.csvtext import Col, csv_rows
from engine.backtest.synthetic import (
    DAY_MINUTES,
    MINUTE_MS,
    MarketModel,
    Minutes,
    minute_path,
    minute_trades,
)
from engine.core.instrument import Instrument, default_instruments

__all__ = ["HEADERS", "START_PRICES", "SampleDay", "epoch_day", "iso_day", "write_sample"]

FUNDING_MS = 8 * 3_600_000
DAY_MS = DAY_MINUTES * MINUTE_MS
#: the symbols the sample knows, and where their prices start
START_PRICES = {"BTCUSDT": 42_000, "ETHUSDT": 2_300}
HEADERS = {
    "aggTrades": "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
                 "is_buyer_maker",
    "bookTicker": "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,"
                  "transaction_time,event_time",
    "klines": "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
              "taker_buy_volume,taker_buy_quote_volume,ignore",
    "fundingRate": "calc_time,funding_interval_hours,last_funding_rate",
}
_HEADER_RULES = {"alternate": None, "all": True, "none": False}


def _zip(path: Path, header: str | None, body: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    info = zipfile.ZipInfo(path.with_suffix(".csv").name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    text = (header.encode() + b"\n" if header else b"") + body
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, text, compresslevel=1)
    return path


class SampleDay:
    """One symbol's day: its prints and the columns of each file."""

    def __init__(self, inst: Instrument, minutes: Minutes, seed: int, day: int,
                 first_id: int) -> None:
        self.inst, self.minutes = inst, minutes
        self.trades = t = minute_trades(minutes, seed, day, symbol=inst.symbol)
        rng = np.random.default_rng([seed, 2, day])
        n = len(t)
        self.agg_id = first_id + np.arange(n, dtype=np.int64)
        spans = rng.integers(1, 4, size=n)
        self.last = first_id * 2 + np.cumsum(spans)
        self.first = self.last - spans + 1
        self.rng = rng

    def price(self, ticks: np.ndarray) -> Col:
        inst = self.inst
        return Col(ticks * inst.tick_m, inst.price_exp, max(inst.price_precision,
                                                           inst.price_exp))

    def qty(self, lots: np.ndarray) -> Col:
        inst = self.inst
        return Col(lots * inst.step_m, inst.qty_exp, max(inst.quantity_precision,
                                                        inst.qty_exp))

    def quote(self, ticks_x_lots: np.ndarray) -> Col:
        inst = self.inst
        return Col(ticks_x_lots * inst.tick_m * inst.step_m, inst.price_exp + inst.qty_exp,
                   inst.price_exp + inst.qty_exp)

    def agg_trades(self) -> list[Col]:
        t = self.trades
        return [Col(self.agg_id), self.price(t.price), self.qty(t.qty), Col(self.first),
                Col(self.last), Col(t.time), Col(t.buyer_maker)]

    def book_ticker(self, first_update: int) -> list[Col]:
        t, rng, n = self.trades, self.rng, len(self.trades)
        spread = rng.integers(1, 3, size=n)
        bid = np.where(t.buyer_maker, t.price, t.price - spread)
        ask = bid + spread
        at = np.maximum.accumulate(np.maximum(t.time - rng.integers(0, 4, size=n), 0))
        update = first_update + np.cumsum(rng.integers(1, 10, size=n))
        return [Col(update), self.price(bid), self.qty(t.qty + rng.integers(0, 901, size=n)),
                self.price(ask), self.qty(rng.integers(1, 901, size=n)), Col(at),
                Col(at + rng.integers(1, 5, size=n))]

    def klines(self) -> tuple[list[Col], np.ndarray]:
        """1-minute bars of the prints, and each bar's close."""
        t, mins = self.trades, self.minutes
        count = mins.count
        starts = np.cumsum(count) - count
        has = count > 0
        m = len(count)
        close = np.empty(m, np.int64)
        close[has] = t.price[starts[has] + count[has] - 1]
        # a minute without prints repeats the last close before it
        idx = np.maximum.accumulate(np.where(has, np.arange(m), -1))
        close = np.where(idx >= 0, close[np.maximum(idx, 0)], mins.open[0])
        first = t.price[np.minimum(starts, len(t) - 1)] if len(t) else np.zeros(m, np.int64)
        open_ = np.where(has, first, np.concatenate(([mins.open[0]], close[:-1])))
        high, low = open_.copy(), open_.copy()
        vol = np.zeros(m, np.int64)
        quote_v = np.zeros(m, np.int64)
        buy_v = np.zeros(m, np.int64)
        buy_q = np.zeros(m, np.int64)
        if len(t):
            s = starts[has]
            high[has] = np.maximum.reduceat(t.price, s)
            low[has] = np.minimum.reduceat(t.price, s)
            buys = ~t.buyer_maker
            vol[has] = np.add.reduceat(t.qty, s)
            quote_v[has] = np.add.reduceat(t.qty * t.price, s)
            buy_v[has] = np.add.reduceat(t.qty * buys, s)
            buy_q[has] = np.add.reduceat(t.qty * t.price * buys, s)
        open_time = mins.start_ms + MINUTE_MS * np.arange(m, dtype=np.int64)
        trades_in = np.zeros(m, np.int64)
        if len(t):
            trades_in[has] = np.add.reduceat(self.last - self.first + 1, starts[has])
        cols = [Col(open_time), self.price(open_), self.price(high), self.price(low),
                self.price(close), self.qty(vol), Col(open_time + MINUTE_MS - 1),
                self.quote(quote_v), Col(trades_in), self.qty(buy_v), self.quote(buy_q),
                Col(np.zeros(m, np.int64))]
        return cols, close

    def mark_klines(self, close: np.ndarray) -> list[Col]:
        rng, m = self.rng, len(close)
        mark = np.maximum(1, close + rng.integers(-2, 3, size=m))
        prev = np.concatenate((mark[:1], mark[:-1]))
        high = np.maximum(prev, mark) + rng.integers(0, 3, size=m)
        low = np.maximum(1, np.minimum(prev, mark) - rng.integers(0, 3, size=m))
        open_time = self.minutes.start_ms + MINUTE_MS * np.arange(m, dtype=np.int64)
        zero = Col(np.zeros(m, np.int64))
        return [Col(open_time), self.price(prev), self.price(high), self.price(low),
                self.price(mark), zero, Col(open_time + MINUTE_MS - 1), zero,
                Col(np.full(m, 60, np.int64)), zero, zero, zero]


def write_sample(
    outdir: str | Path, symbols: Sequence[str], days: int, seed: int, *,
    start: str = "2024-01-01", trades_per_day: int = 100_000, header: str = "alternate",
) -> list[Path]:
    """Write ``days`` days of sample files for each of ``symbols`` under ``outdir`` from
    the day ``start`` (``YYYY-MM-DD``, UTC); the paths written, in order.  ``header``:
    ``alternate`` (aggTrades files of even days have a header row), ``all`` or ``none``."""
    first_day = epoch_day(start)
    if header not in _HEADER_RULES:
        raise ValueError(f"header is one of {sorted(_HEADER_RULES)}, not {header!r}")
    if days < 1 or trades_per_day < 1:
        raise ValueError("days and trades_per_day must be ≥ 1")
    by_symbol = {i.symbol: i for i in default_instruments()}
    unknown = [s for s in symbols if s not in START_PRICES]
    if unknown:
        raise ValueError(f"no sample market for {', '.join(unknown)} "
                         f"(known: {', '.join(START_PRICES)})")
    root = Path(outdir) / "futures" / "um"
    jobs: list[tuple[Path, str | None, list[Col]]] = []
    for k, sym in enumerate(symbols):
        inst = by_symbol[sym]
        model = MarketModel(START_PRICES[sym] * 10**inst.price_exp // inst.tick_m,
                            trades_per_day=trades_per_day)
        path = minute_path(model, seed + 1000 * k, first_day * DAY_MS, days * DAY_MINUTES)
        first_id, funding = 1, []
        for d in range(days):
            day = iso_day(first_day + d)
            minutes = path.slice(d * DAY_MINUTES, (d + 1) * DAY_MINUTES)
            if not minutes.count.any():  # a day's files are never empty: one print at least
                minutes.count[-1] = 1
            data = SampleDay(inst, minutes, seed + 1000 * k, d, first_id)
            first_id += len(data.trades)
            daily = root / "daily"
            rule = _HEADER_RULES[header]
            agg_header = HEADERS["aggTrades"] if (d % 2 == 0 if rule is None else rule) else None
            jobs.append((daily / "aggTrades" / sym / f"{sym}-aggTrades-{day}.zip", agg_header,
                         data.agg_trades()))
            jobs.append((daily / "bookTicker" / sym / f"{sym}-bookTicker-{day}.zip",
                         HEADERS["bookTicker"], data.book_ticker(3_000_000_000 + d * 10**8)))
            klines, close = data.klines()
            jobs.append((daily / "klines" / sym / "1m" / f"{sym}-1m-{day}.zip",
                         HEADERS["klines"], klines))
            jobs.append((daily / "markPriceKlines" / sym / "1m" /
                         f"{sym}-markPriceKlines-1m-{day}.zip", HEADERS["klines"],
                         data.mark_klines(close)))
            rates = data.rng.integers(-5_000, 15_001, size=3)  # 10^-8: -0.005 … 0.015 %
            funding += [((first_day + d) * DAY_MS + j * FUNDING_MS, int(r))
                        for j, r in enumerate(rates)]
        months: dict[str, list[tuple[int, int]]] = {}
        for t, r in funding:
            months.setdefault(iso_day(t // DAY_MS)[:7], []).append((t, r))
        for month, rows in months.items():
            ts = np.array([t for t, _ in rows], np.int64)
            jobs.append((root / "monthly" / "fundingRate" / sym / f"{sym}-fundingRate-{month}.zip",
                         HEADERS["fundingRate"],
                         [Col(ts), Col(np.full(len(rows), 8, np.int64)),
                          Col(np.array([r for _, r in rows], np.int64), 8, 8)]))
    with ThreadPoolExecutor(2) as pool:  # formatting and deflating release the GIL
        return list(pool.map(lambda job: _zip(job[0], job[1], csv_rows(job[2])), jobs))


def _civil(days: int) -> tuple[int, int, int]:
    """Year, month, day of ``days`` since 1970-01-01 (proleptic Gregorian; integers)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def iso_day(days: int) -> str:
    """``YYYY-MM-DD`` of ``days`` since 1970-01-01.

    >>> iso_day(0), iso_day(19_723), iso_day(19_782)
    ('1970-01-01', '2024-01-01', '2024-02-29')
    """
    y, m, d = _civil(days)
    return f"{y:04d}-{m:02d}-{d:02d}"


def epoch_day(text: str) -> int:
    """Days since 1970-01-01 of a ``YYYY-MM-DD`` date; ValueError if it is not one.

    >>> epoch_day("2024-01-01"), epoch_day("2024-03-01") - epoch_day("2024-02-01")
    (19723, 29)
    """
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts) or (
            [len(p) for p in parts] != [4, 2, 2]):
        raise ValueError(f"a day is YYYY-MM-DD, not {text!r}")
    y, m, d = map(int, parts)
    yy = y - (m <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    if not 1 <= m <= 12 or iso_day(days) != text:
        raise ValueError(f"no such day: {text!r}")
    return days
