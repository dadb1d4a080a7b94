"""Streams of market events as integer numpy arrays, and their merge into replay order.

A :class:`Stream` is one symbol's events of one :class:`Kind`, in time order,
as parallel int64 arrays (ticks, lots, 10⁻⁸) plus numpy bools; :func:`merge`
interleaves several into a :class:`Timeline` by time, ties broken by
:data:`PRIORITY` (funding < mark < quote < trade < kline: a bar closes after its
trades), then list position, then row.  :mod:`engine.backtest.data` reads
Binance's files into streams.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
_I64_MAX = 2**63 - 1


class Kind(StrEnum):
    """What a stream's events are (the tie-break order is :data:`PRIORITY`)."""

    FUNDING = "funding"
    MARK = "mark"
    QUOTE = "quote"
    TRADE = "trade"
    KLINE = "kline"


#: Tie-break of :func:`merge` at equal times: lower first.
PRIORITY = {Kind.FUNDING: 0, Kind.MARK: 1, Kind.QUOTE: 2, Kind.TRADE: 3, Kind.KLINE: 4}

#: The columns (besides ``time``) of a stream of each kind.
COLUMNS: dict[Kind, tuple[str, ...]] = {
    Kind.TRADE: ("price", "qty", "buyer_maker"),
    Kind.MARK: ("price",),
    Kind.KLINE: ("open", "high", "low", "close", "volume"),
    Kind.QUOTE: ("bid", "bid_qty", "ask", "ask_qty"),
    Kind.FUNDING: ("rate_e8",),
}


@dataclass(frozen=True, eq=False)
class Stream:
    """One symbol's events of one kind, in time order, as parallel numpy arrays.

    ``time`` is int64 ms; the kind's columns (:data:`COLUMNS`) are int64 (ticks, lots,
    10⁻⁸) or numpy bool, read as attributes (``stream.price``) or from ``columns``.
    ``files`` names the files it was read from (empty when made in memory).

    >>> s = Stream("BTCUSDT", Kind.MARK, np.array([5, 9]), {"price": np.array([300001, 2])})
    >>> len(s), s.price.tolist(), int(s.columns["price"][1])
    (2, [300001, 2], 2)
    """

    symbol: str
    kind: Kind
    time: Array
    columns: dict[str, Array]
    files: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def __getattr__(self, name: str) -> Array:
        # Reached only for names that are not fields; copy and pickle probe dunders.
        if name.startswith("_") or name == "columns":
            raise AttributeError(name)
        try:
            return self.columns[name]
        except KeyError:
            raise AttributeError(f"a {self.kind} stream has no column {name!r}") from None

    def __repr__(self) -> str:
        return f"Stream({self.symbol!r}, {self.kind.value!r}, {len(self)} rows)"

    def _check(self) -> None:
        """Assert the structure: the kind's columns, equal lengths, int64/bool, time order."""
        assert tuple(self.columns) == COLUMNS[self.kind], (self.kind, tuple(self.columns))
        assert self.time.dtype == np.int64 and self.time.ndim == 1
        for name, col in self.columns.items():
            want = np.bool_ if name == "buyer_maker" else np.int64
            assert col.dtype == want and col.shape == self.time.shape, name
        assert not (np.diff(self.time) < 0).any(), "time goes backwards"


@dataclass(frozen=True, eq=False)
class Timeline:
    """Every event of several streams in replay order (see the module docstring).

    Event ``i`` is row ``row_index[i]`` of ``streams[stream_index[i]]``, at ``time[i]``.
    Iterating yields ``(time, stream_index, row_index)`` tuples of Python ints, the fast
    way for a replay loop to walk it.
    """

    streams: tuple[Stream, ...]
    time: Array
    stream_index: Array
    row_index: Array

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        arrays = (self.time, self.stream_index, self.row_index)
        return zip(*(a.tolist() for a in arrays), strict=True)

    def _check(self) -> None:
        """Assert that every row of every stream appears once, in merge order."""
        assert len(self) == sum(len(s) for s in self.streams)
        prio = np.array([PRIORITY[s.kind] for s in self.streams], dtype=np.int64)
        keys = (self.row_index, self.stream_index, prio[self.stream_index], self.time)
        assert (np.lexsort(keys) == np.arange(len(self))).all(), "not in merge order"
        for k, s in enumerate(self.streams):
            mine = self.stream_index == k
            assert (self.row_index[mine] == np.arange(len(s))).all(), k
            assert (s.time == self.time[mine]).all(), k


def merge(streams: Sequence[Stream]) -> Timeline:
    """All events of ``streams`` in time order, ties broken by :data:`PRIORITY`, then list
    position, then row.  Runtime complexity: O(n log k) for n events in k streams.

    >>> a = Stream("BTCUSDT", Kind.TRADE, np.array([1, 2]), {"price": np.array([9, 9]),
    ...            "qty": np.array([1, 1]), "buyer_maker": np.array([True, False])})
    >>> b = Stream("BTCUSDT", Kind.MARK, np.array([2]), {"price": np.array([9])})
    >>> list(merge([a, b]))
    [(1, 0, 0), (2, 1, 0), (2, 0, 1)]
    """
    streams, k = tuple(streams), len(streams)
    lengths = np.array([len(s) for s in streams], dtype=np.int64)
    if int(lengths.sum()) == 0:
        return Timeline(streams, *(np.zeros(0, dtype=np.int64) for _ in range(3)))
    time = np.concatenate([s.time for s in streams]).astype(np.int64, copy=False)
    index = np.repeat(np.arange(k, dtype=np.int64), lengths)
    rows = np.arange(time.shape[0], dtype=np.int64) - (np.cumsum(lengths) - lengths)[index]
    prio = np.array([PRIORITY[s.kind] for s in streams], dtype=np.int64)[index]
    # One int64 key under a stable sort (timsort merges the per-stream sorted runs) took
    # half np.lexsort's time on 2 × 5M trades; the stable sort keeps rows in order.
    span = 8 * k
    if int(time.min()) >= 0 and int(time.max()) < _I64_MAX // span - 1:
        order = np.argsort(time * span + prio * k + index, kind="stable")
    else:
        order = np.lexsort((rows, index, prio, time))
    return Timeline(streams, time[order], index[order], rows[order])


def concat(streams: Sequence[Stream]) -> Stream:
    """Streams of one symbol and kind, one after another, as one (the caller keeps time
    order; :func:`load` checks it).  ``ValueError`` when symbols or kinds differ.  O(n).
    """
    first = streams[0]
    if any((s.symbol, s.kind) != (first.symbol, first.kind) for s in streams):
        raise ValueError(f"cannot concatenate streams of different symbols or kinds: {streams}")
    return Stream(
        first.symbol, first.kind, np.concatenate([s.time for s in streams]),
        {c: np.concatenate([s.columns[c] for s in streams]) for c in first.columns},
        tuple(f for s in streams for f in s.files),
    )


