"""Market data kept for the endpoints bots poll: 1-minute candles and the prints, columnar.

:class:`Candles` holds one symbol's 1-minute candles as growable int64 columns (a
year is 525,600 rows, 80 bytes each): appended a stretch at a time for history
(:meth:`Candles.extend`, vectorised) and print by print as the market trades
(:meth:`Candles.add_print`).  Every minute from the first to the last is present —
a minute without prints is flat at the previous close — so :meth:`Candles.klines`
builds a candle of any Binance interval by reducing a slice of minutes
(``numpy.ufunc.reduceat``): the work is proportional to the minutes the answer
covers, never to the history kept.

:class:`Prints` holds one symbol's aggregated trades (``a, p, q, f, l, T, m`` of
``GET /fapi/v1/aggTrades``) the same way and answers Binance's queries by id and by
time with binary searches.

Intervals (:data:`INTERVALS`) are Binance's: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d
3d 1w 1M.  Candles of a fixed length open at multiples of it since the epoch, but
weeks open on Monday (1970-01-05 was one) and months on the first of the month (UTC;
month starts come from integer calendar arithmetic, no clock).

Query rules (``klines``; Binance's): ``limit`` is 1..1500 (default 500); with
``startTime`` the first ``limit`` candles opening at or after it (and at or before
``endTime`` if given); with only ``endTime`` the last ``limit`` candles opening at
or before it; with neither, the last ``limit``, the one still open included.
Everything is integers (ticks, lots, ticks × lots); the server writes the strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np

from engine.backtest.sample import epoch_day, iso_day
from engine.core.errors import InvariantError

__all__ = ["INTERVALS", "Candles", "Kline", "Prints", "interval_starts"]

MINUTE_MS = 60_000
DAY_MS = 86_400_000
#: interval name → length in ms (``1M``: None, calendar months)
INTERVALS: dict[str, int | None] = {
    "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS, "1h": 60 * MINUTE_MS, "2h": 120 * MINUTE_MS,
    "4h": 240 * MINUTE_MS, "6h": 360 * MINUTE_MS, "8h": 480 * MINUTE_MS,
    "12h": 720 * MINUTE_MS, "1d": DAY_MS, "3d": 3 * DAY_MS, "1w": 7 * DAY_MS, "1M": None,
}
_MONDAY = 4 * DAY_MS  # 1970-01-01 was a Thursday
_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "quote", "count",
            "taker_volume", "taker_quote")


def _month_starts(first_ms: int, last_ms: int) -> np.ndarray:
    """Open times of the months from the one holding ``first_ms`` past ``last_ms``."""
    y, m = map(int, iso_day(first_ms // DAY_MS)[:7].split("-"))
    out = []
    while True:
        start = epoch_day(f"{y:04d}-{m:02d}-01") * DAY_MS
        out.append(start)
        if start > last_ms:
            return np.array(out, np.int64)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def interval_starts(interval: str, first_ms: int, last_ms: int) -> np.ndarray:
    """Open times of the ``interval`` candles from the one holding ``first_ms`` to the one
    after the one holding ``last_ms`` (the last is where the range ends)."""
    length = INTERVALS[interval]
    if length is None:
        return _month_starts(first_ms, last_ms)
    offset = _MONDAY if interval == "1w" else 0
    a = (first_ms - offset) // length * length + offset
    b = (last_ms - offset) // length * length + offset + length
    return np.arange(a, b + 1, length, dtype=np.int64)


@dataclass(frozen=True)
class Kline:
    """Candles of one interval, integer columns (ticks, lots, ticks × lots)."""

    open_time: np.ndarray
    close_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote: np.ndarray
    count: np.ndarray
    taker_volume: np.ndarray
    taker_quote: np.ndarray

    def __len__(self) -> int:
        return int(self.open_time.shape[0])


class _Columns:
    """Growable int64 columns (capacity doubles), the rows used first."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.n = 0
        self._data = {name: np.zeros(1024, np.int64) for name in names}

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_") or name in ("names", "n"):
            raise AttributeError(name)
        return self._data[name][: self.n]

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        cap = len(next(iter(self._data.values())))
        if need > cap:
            while cap < need:
                cap *= 2
            for name, col in self._data.items():
                grown = np.zeros(cap, np.int64)
                grown[: self.n] = col[: self.n]
                self._data[name] = grown

    def append(self, **values: np.ndarray | int) -> None:
        k = int(np.size(values[self.names[0]]))
        self._reserve(k)
        for name in self.names:
            self._data[name][self.n:self.n + k] = values[name]
        self.n += k

    def set_last(self, name: str, value: int) -> None:
        self._data[name][self.n - 1] = value

    def nbytes(self) -> int:
        return sum(col.nbytes for col in self._data.values())


class _Store:
    """Rows in growable columns: their count, their bytes, a column's used part."""

    _c: _Columns

    def __len__(self) -> int:
        return self._c.n

    @property
    def nbytes(self) -> int:
        """Bytes allocated for the columns (capacity included)."""
        return self._c.nbytes()

    def column(self, name: str) -> np.ndarray:
        return getattr(self._c, name)  # type: ignore[no-any-return]

    def to_bytes(self) -> dict[str, bytes]:
        """The rows, column by column, as little-endian int64 bytes (for a state file)."""
        return {name: getattr(self._c, name).astype("<i8").tobytes() for name in self._c.names}

    @classmethod
    def from_bytes(cls, columns: dict[str, bytes]) -> Self:
        """A store holding the rows :meth:`to_bytes` gave; ``ValueError`` on columns that
        are not exactly this store's, of one length each, or rows that break its rules."""
        store = cls()
        names = store._c.names
        if not isinstance(columns, dict) or sorted(columns) != sorted(names) or any(
                not isinstance(v, bytes) or len(v) % 8 for v in columns.values()):
            raise ValueError(f"a {cls.__name__} state holds int64 columns {', '.join(names)}")
        arrays = {n: np.frombuffer(columns[n], "<i8").astype(np.int64) for n in names}
        if len({len(a) for a in arrays.values()}) != 1:
            raise ValueError(f"a {cls.__name__} state's columns differ in length")
        store._c.append(**arrays)
        try:
            store._check()
        except InvariantError as e:
            raise ValueError(f"a {cls.__name__} state breaks its rules: {e}") from None
        return store

    def _check(self) -> None:
        raise NotImplementedError


class Candles(_Store):
    """One symbol's 1-minute candles, every minute from the first to the last."""

    def __init__(self) -> None:
        self._c = _Columns(_COLUMNS)

    def extend(self, open_time: np.ndarray, open_: np.ndarray, high: np.ndarray,
               low: np.ndarray, close: np.ndarray, volume: np.ndarray | None = None,
               count: np.ndarray | None = None, *, quote: np.ndarray | None = None,
               taker_volume: np.ndarray | None = None,
               taker_quote: np.ndarray | None = None) -> None:
        """Append consecutive minutes (history): ``open_time`` must continue the last
        minute one minute at a time.  Volume and prints default to none; quote volume
        (ticks × lots) is estimated at the close, and the taker's side at half, unless
        given."""
        k = len(open_time)
        if k == 0:
            return
        expect = self.column("open_time")[-1] + MINUTE_MS if len(self) else open_time[0]
        if open_time[0] != expect or (np.diff(open_time) != MINUTE_MS).any():
            raise ValueError("candles must continue minute by minute")
        vol = np.zeros(k, np.int64) if volume is None else volume
        taker = vol // 2 if taker_volume is None else taker_volume
        self._c.append(open_time=open_time, open=open_, high=high, low=low, close=close,
                       volume=vol, quote=vol * close if quote is None else quote,
                       count=np.zeros(k, np.int64) if count is None else count,
                       taker_volume=taker,
                       taker_quote=taker * close if taker_quote is None else taker_quote)

    def fill_to(self, time_ms: int) -> None:
        """Flat minutes at the last close up to the minute holding ``time_ms``."""
        if not len(self):
            raise ValueError("no candle yet to continue")
        last = int(self.column("open_time")[-1])
        minute = time_ms // MINUTE_MS * MINUTE_MS
        if minute > last:
            times = np.arange(last + MINUTE_MS, minute + 1, MINUTE_MS, dtype=np.int64)
            c = np.full(len(times), int(self.column("close")[-1]), np.int64)
            self.extend(times, c, c, c, c)

    def add_print(self, time_ms: int, price: int, qty: int, buyer_maker: bool,
                  trades: int = 1) -> None:
        """Account a print in the minute holding ``time_ms`` (not before the last one)."""
        minute = time_ms // MINUTE_MS * MINUTE_MS
        c = self._c
        if not len(self):
            self._c.append(open_time=minute, open=price, high=price, low=price, close=price,
                           volume=0, quote=0, count=0, taker_volume=0, taker_quote=0)
        elif minute < int(self.column("open_time")[-1]):
            raise ValueError("a print before the last minute")
        else:
            self.fill_to(time_ms)
        i = c.n - 1
        d = c._data
        if d["count"][i] == 0 and d["volume"][i] == 0:  # the minute's first print opens it
            d["open"][i] = d["high"][i] = d["low"][i] = price
        d["high"][i] = max(int(d["high"][i]), price)
        d["low"][i] = min(int(d["low"][i]), price)
        d["close"][i] = price
        d["volume"][i] += qty
        d["quote"][i] += qty * price
        d["count"][i] += trades
        if not buyer_maker:
            d["taker_volume"][i] += qty
            d["taker_quote"][i] += qty * price

    def klines(self, interval: str, *, start: int | None = None, end: int | None = None,
               limit: int = 500) -> Kline:
        """The ``interval`` candles the query selects (see the module docstring)."""
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}")
        if not 1 <= limit <= 1500:
            raise ValueError("limit is 1..1500")
        t = self.column("open_time")
        if not len(t):
            return _empty()
        bounds = interval_starts(interval, int(t[0]), int(t[-1]))  # candle i: [b_i, b_i+1)
        opens = bounds[:-1]
        a = 0 if start is None else int(np.searchsorted(opens, start, "left"))
        b = len(opens) if end is None else int(np.searchsorted(opens, end, "right"))
        a, b = (a, min(b, a + limit)) if start is not None else (max(a, b - limit), b)
        if a >= b:
            return _empty()
        # every candle holds at least one minute: minutes run unbroken from first to last
        edges = np.searchsorted(t, bounds[a:b + 1])
        seg, last_row = edges[:-1], edges[1:] - 1

        def red(ufunc: np.ufunc, name: str) -> np.ndarray:
            return ufunc.reduceat(self.column(name)[: edges[-1]], seg)

        return Kline(opens[a:b], bounds[a + 1:b + 1] - 1, self.column("open")[seg],
                     red(np.maximum, "high"), red(np.minimum, "low"),
                     self.column("close")[last_row], red(np.add, "volume"),
                     red(np.add, "quote"), red(np.add, "count"), red(np.add, "taker_volume"),
                     red(np.add, "taker_quote"))

    def _check(self) -> None:
        """Minutes are consecutive and each candle holds its open and close."""
        t = self.column("open_time")
        if not (np.diff(t) == MINUTE_MS).all():
            raise InvariantError("a minute is missing from the candles")
        o, h, lo, c = (self.column(n) for n in ("open", "high", "low", "close"))
        if not ((h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()):
            raise InvariantError("a candle does not hold its open and close")


def _empty() -> Kline:
    z = np.zeros(0, np.int64)
    return Kline(z, z, z, z, z, z, z, z, z, z, z)


class Prints(_Store):
    """One symbol's aggregated trades, in id (and time) order."""

    def __init__(self) -> None:
        self._c = _Columns(("a", "p", "q", "f", "l", "T", "m"))

    def extend(self, time_ms: np.ndarray, price: np.ndarray, qty: np.ndarray,
               buyer_maker: np.ndarray, trades: np.ndarray) -> None:
        """Append aggregate prints (history) after the last one, ids consecutive: print
        ``i`` aggregates ``trades[i]`` (≥ 1) trades."""
        k = len(time_ms)
        if k == 0:
            return
        if (trades < 1).any() or (np.diff(time_ms) < 0).any() or (
                len(self) and time_ms[0] < self.column("T")[-1]):
            raise ValueError("history prints go forward in time, a trade at least each")
        c = self._c
        first_id = int(c._data["l"][c.n - 1]) + 1 if c.n else 1
        last = first_id - 1 + np.cumsum(trades)
        c.append(a=c.n + 1 + np.arange(k, dtype=np.int64), p=price, q=qty,
                 f=last - trades + 1, l=last, T=time_ms, m=buyer_maker.astype(np.int64))

    def _check(self) -> None:
        """Ids run 1, 2, …; trade ids run on without a gap; times never go back."""
        n = len(self)
        a, f, last, t = (self.column(k) for k in ("a", "f", "l", "T"))
        if n and not ((a == np.arange(1, n + 1)).all() and (last >= f).all()
                      and (f[1:] == last[:-1] + 1).all() and (np.diff(t) >= 0).all()):
            raise InvariantError("prints out of order")

    def add(self, time_ms: int, price: int, qty: int, buyer_maker: bool,
            trades: int = 1) -> int:
        """Record a print; its aggregate id (consecutive from 1)."""
        c = self._c
        a = c.n + 1
        f = int(c._data["l"][c.n - 1]) + 1 if c.n else 1
        c.append(a=a, p=price, q=qty, f=f, l=f + trades - 1, T=time_ms, m=int(buyer_maker))
        return a

    def query(self, *, from_id: int | None = None, start: int | None = None,
              end: int | None = None, limit: int = 500) -> np.ndarray:
        """Row indices of Binance's ``aggTrades`` answer: from ``from_id`` on; or within
        ``[start, end]`` (the first ``limit``); or the last ``limit``."""
        n = len(self)
        if from_id is not None:
            a = max(0, from_id - 1)
            return np.arange(a, min(n, a + limit))
        t = self.column("T")
        if start is None and end is None:
            return np.arange(max(0, n - limit), n)
        a = 0 if start is None else int(np.searchsorted(t, start, "left"))
        b = n if end is None else int(np.searchsorted(t, end, "right"))
        if start is None:
            return np.arange(max(a, b - limit), b)
        return np.arange(a, min(b, a + limit))
