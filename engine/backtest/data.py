"""Binance USDⓈ-M public market-data files → integer numpy streams, merged in time order.

    streams = load("data/", default_instruments())  # one Stream per series, see Events
    for time_ms, k, row in merge(streams):           # replay order, see Merge order
        stream = streams[k]                          # stream.kind, stream.price[row], …

Files
-----
The csv files of data.binance.vision (``data/futures/um/{daily,monthly}/…``), plain or
as a ``.zip`` holding one ``.csv``.  Columns, in order (a header row, when present —
older files have none — uses these names):

* aggTrades: agg_trade_id, price, quantity, first_trade_id, last_trade_id,
  transact_time, is_buyer_maker
* trades: id, price, qty, quote_qty, time, is_buyer_maker
* klines and markPriceKlines: open_time, open, high, low, close, volume, close_time,
  quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore
* bookTicker: update_id, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty,
  transaction_time, event_time
* fundingRate: calc_time, funding_interval_hours, last_funding_rate

The first row is a header when its first field is not an integer.  Kind and symbol come
from the name (``BTCUSDT-aggTrades-2024-01-01.zip``, ``BTCUSDT-trades-…``,
``BTCUSDT-1m-2024-01-01.csv`` for klines of any interval, ``BTCUSDT-markPriceKlines-1m-…``,
``BTCUSDT-bookTicker-…``, ``BTCUSDT-fundingRate-2024-01.csv``) unless given.

Events
------
A file becomes a :class:`Stream`: ``symbol``, ``kind``, ``time`` (int64 ms) and the
kind's columns (int64; ``buyer_maker`` numpy bool), one row per event:

* ``trade`` (aggTrades, trades): transact_time / time; ``price`` ticks, ``qty`` lots,
  ``buyer_maker`` (True: the buyer rested, the taker sold).
* ``mark`` (markPriceKlines): one per bar at close_time, ``price`` = close in ticks —
  the last mark known at that time, so a replay never sees a mark before it existed.
* ``kline`` (klines): close_time; ``open``/``high``/``low``/``close`` ticks, ``volume`` lots.
* ``quote`` (bookTicker): transaction_time; ``bid``, ``bid_qty``, ``ask``, ``ask_qty``.
* ``funding`` (fundingRate): calc_time; ``rate_e8``, the rate in 10⁻⁸ (signed).

Numbers are read exactly, never through floating point: a field must match
``[0-9]+(\\.[0-9]+)?`` (a leading ``-`` only in a funding rate; ids, times and counts
take no fraction).  Prices become ticks and quantities lots of the symbol's
:class:`~engine.core.instrument.Instrument` (tick 0.10: ``"30000.10"`` → 300001); a value off
its grid, a rate finer than 10⁻⁸ included, is an error.  Real markPriceKlines carry more
decimals than the tick: ``round_mark=True`` rounds marks half-even to the nearest tick.
Columns no event uses are still checked for form (``ignore`` is not).

Errors
------
Nothing is skipped silently.  A wrong field count, a malformed, off-grid or beyond-int64
number, a time going backwards within a file (or from one file of a series to the next,
in :func:`load`), an empty file, an unknown symbol or kind: :class:`DataError` (a
``ValueError``) naming the file, the 1-based line counting the header, and the reason:
``x.csv, line 7: price '30000.05' is off the tick grid (tickSize 0.10)``.  A zip member
is named ``x.zip/x.csv``.  A zip member declaring more than :data:`MAX_ZIP_RATIO` times
its compressed size is refused before it is inflated (a "zip bomb").

Merge order
-----------
:func:`merge` lays streams on one :class:`Timeline` (int64 ``time``, ``stream_index``,
``row_index``) sorted by time; at equal times by kind, funding < mark < quote < trade <
kline (:data:`PRIORITY`: funding settles on the mark of its instant, a trade meets the
book quoted before it, a bar closes after its trades); then by position in the list
given; then by row.  A pure function of the input: no hash order, no clock.

Performance
-----------
The fast path finds every separator in one numpy pass, then reads each column by a
Horner loop over byte positions right-aligned at the separators: about 2 million
aggTrade rows a second on one core.  It checks a field only where its form allows a
non-digit (the last dot, a true/false); counts of such bytes over the whole buffer must
then match, so no stray byte slips through.  Where it doubts, the plain row-by-row
reader — the reference, about 25 times slower — reads that block of rows (2¹⁷) again and
words the error; a bad row late in a big file costs one slow block.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.backtest.stream import COLUMNS, PRIORITY, Array, Kind, Stream, Timeline, concat, merge
from engine.core.instrument import Instrument

__all__ = [
    "COLUMNS", "PRIORITY", "DataError", "FileKind", "Kind", "Stream", "Timeline", "concat",
    "data_files", "infer", "load", "load_file", "merge",
]

Instruments = Instrument | Mapping[str, Instrument] | Iterable[Instrument]

_I64_MAX = 2**63 - 1
_POW10 = np.array([10**i for i in range(19)], dtype=np.int64)
#: a zipped csv inflating more than this many times its compressed size is refused
#: unread (market-data csv deflates 3–6×; a file of one repeated byte, a "zip bomb",
#: about 1000×)
MAX_ZIP_RATIO = 50
#: rows per numpy block: bounds the temporaries to a few MB per column
_BLOCK = 1 << 17


class DataError(ValueError):
    """A market-data file that cannot be read as it stands.

    ``file``, ``line`` (1-based, counting the header; None for a whole-file problem)
    and ``reason`` are kept as attributes.
    """

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        super().__init__(f"{file if line is None else f'{file}, line {line}'}: {reason}")
        self.file, self.line, self.reason = file, line, reason


class FileKind(StrEnum):
    """A Binance market-data file type, named as in data.binance.vision paths."""

    AGG_TRADES = "aggTrades"
    TRADES = "trades"
    KLINES = "klines"
    MARK_PRICE_KLINES = "markPriceKlines"
    BOOK_TICKER = "bookTicker"
    FUNDING_RATE = "fundingRate"


# -- file layouts ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Col:
    """One csv column: its name, how to read it, and the stream column it feeds."""

    name: str
    conv: str  # int | price | mark | qty | rate | dec (form only) | bool | skip
    out: str | None = None


_KLINE_TAIL = ("close_time:int>time quote_volume:dec count:int taker_buy_volume:dec "
               "taker_buy_quote_volume:dec ignore:skip")
#: Each file kind's columns as ``name:conv>out`` (``>out`` only for those a stream keeps).
_SPECS = {
    FileKind.AGG_TRADES: (Kind.TRADE, "agg_trade_id:int price:price>price quantity:qty>qty "
                          "first_trade_id:int last_trade_id:int transact_time:int>time "
                          "is_buyer_maker:bool>buyer_maker"),
    FileKind.TRADES: (Kind.TRADE, "id:int price:price>price qty:qty>qty quote_qty:dec "
                      "time:int>time is_buyer_maker:bool>buyer_maker"),
    FileKind.KLINES: (Kind.KLINE, "open_time:int open:price>open high:price>high "
                      "low:price>low close:price>close volume:qty>volume " + _KLINE_TAIL),
    FileKind.MARK_PRICE_KLINES: (Kind.MARK, "open_time:int open:dec high:dec low:dec "
                                 "close:mark>price volume:dec " + _KLINE_TAIL),
    FileKind.BOOK_TICKER: (Kind.QUOTE, "update_id:int best_bid_price:price>bid "
                           "best_bid_qty:qty>bid_qty best_ask_price:price>ask "
                           "best_ask_qty:qty>ask_qty transaction_time:int>time event_time:int"),
    FileKind.FUNDING_RATE: (Kind.FUNDING, "calc_time:int>time funding_interval_hours:int "
                            "last_funding_rate:rate>rate_e8"),
}
_LAYOUTS = {
    kind: (out, tuple(_Col(w.split(":")[0], *w.split(":")[1].split(">")) for w in spec.split()))
    for kind, (out, spec) in _SPECS.items()
}


def _grid(conv: str, inst: Instrument) -> tuple[int, int, str]:
    """``(exp, unit, why)``: the column holds ``value × 10^exp / unit`` as an integer, and
    ``why`` says what is wrong with a value that does not divide."""
    if conv in ("price", "mark"):
        why = f"is off the tick grid (tickSize {inst.tick_size})"
        hint = "; load with round_mark=True to round marks" if conv == "mark" else ""
        return inst.price_exp, inst.tick_m, why + hint
    if conv == "qty":
        return inst.qty_exp, inst.step_m, f"is off the step grid (stepSize {inst.step_size})"
    return (8, 1, "has more than 8 decimals") if conv == "rate" else (0, 1, "")


# -- the reference parser: one row at a time, words every error ----------------------
class _Bad(Exception):
    """A field that is not what its column needs (the reason is the message)."""


def _field(text: bytes, col: _Col, inst: Instrument, round_mark: bool) -> int | bool | None:
    conv = col.conv
    if conv == "skip":
        return None
    if conv == "bool":
        low = text.lower()
        if low not in (b"true", b"false"):
            raise _Bad(f"{col.name} {_shown(text)} is not true or false")
        return low == b"true"
    sign = conv == "rate" and text.startswith(b"-")
    whole, dot, frac = text[sign:].partition(b".")
    if not (whole.isdigit() and (frac.isdigit() or not dot)) or (dot and conv == "int"):
        grammar = {"int": "non-negative integer", "rate": "decimal"}.get(conv)
        raise _Bad(f"{col.name} {_shown(text)} is not a {grammar or 'non-negative decimal'}")
    if conv == "dec":
        return None
    exp, unit, why = _grid(conv, inst)
    num = int(whole + frac) * 10 ** max(exp - len(frac), 0)
    den = unit * 10 ** max(len(frac) - exp, 0)
    q, r = divmod(-num if sign else num, den)
    if r:
        if not (conv == "mark" and round_mark):
            raise _Bad(f"{col.name} {_shown(text)} {why}")
        q += 2 * r > den or (2 * r == den and q % 2 == 1)
    if not -_I64_MAX - 1 <= q <= _I64_MAX:
        raise _Bad(f"{col.name} {_shown(text)} is out of range")
    return q


def _shown(text: bytes) -> str:
    return repr(text.decode("ascii", "backslashreplace"))


def _parse_slow(
    data: bytes, cols: tuple[_Col, ...], inst: Instrument, round_mark: bool,
    name: str, first_line: int, prev: int | None,
) -> dict[str, Array]:
    """Row by row, after a row at time ``prev``; the first problem raises DataError."""
    out: dict[str, list[Any]] = {c.out: [] for c in cols if c.out}
    time_name = next(c.name for c in cols if c.out == "time")
    for i, line in enumerate(data.split(b"\n")[:-1]):
        fields = line.split(b",")
        try:
            if len(fields) != len(cols):
                raise _Bad(f"wrong field count: {len(fields)} fields, expected {len(cols)}")
            for col, text in zip(cols, fields, strict=True):
                value = _field(text, col, inst, round_mark)
                if col.out:
                    out[col.out].append(value)
            if prev is not None and out["time"][-1] < prev:
                raise _Bad(f"{time_name} {out['time'][-1]} is before the previous row's {prev}")
            prev = out["time"][-1]
        except _Bad as e:
            raise DataError(name, first_line + i, str(e)) from None
    return {k: np.array(v, dtype=np.bool_ if k == "buyer_maker" else np.int64)
            for k, v in out.items()}


# -- the fast path: whole columns at a time, None on any doubt -------------------------
_TRUE, _FALSE = int.from_bytes(b"true", "little"), int.from_bytes(b"false", "little")


def _fast_bool(buf: Array, s: Array, e: Array, tally: dict[str, int]) -> Array | None:
    # The 8 bytes before each separator as one little-endian word, lower-cased.
    word = sliding_window_view(buf, 8)[np.maximum(e - 8, 0)].view("<u8")[:, 0]
    word, lens = word | np.uint64(0x2020202020202020), e - s
    is_true = (lens == 4) & (word >> np.uint64(32) == _TRUE)
    is_false = (lens == 5) & (word >> np.uint64(24) == _FALSE)
    if not bool((is_true | is_false).all()):
        return None
    tally["letters"] += int(lens.sum())
    return is_true


def _fast_number(
    buf: Array, s: Array, e: Array, col: _Col, inst: Instrument, round_mark: bool,
    tally: dict[str, int],
) -> Array | None:
    """A block of one column as int64, or None when the slow path must decide."""
    lens = e - s
    width, shortest = int(lens.max()), int(lens.min())
    decimal = col.conv != "int"
    # A funding file has a few hundred rows a month: signs are left to the reference.
    if shortest < 1 or width > (20 if decimal else 18) or col.conv == "rate":
        return None
    if not decimal and col.out is None:  # the tally is all the checking an id needs
        return np.zeros(0, dtype=np.int64)
    # Horner over byte positions, right-aligned at the separator: a digit d gives
    # 10v + d, a "." keeps v, a byte before the field's start gives 0.
    n, first, inside = lens.shape[0], width - lens, width - shortest
    value = np.zeros(n, dtype=np.int64)
    last_dot = np.full(n, -1, dtype=np.int64)
    for p in range(width):
        c = buf.take(e - (width - p), mode="clip")
        digit = c - np.uint8(48)
        dot = c == 46 if decimal else None
        if dot is not None and dot.any():
            last_dot = np.where(dot & (p >= first), p, last_dot)
            value = np.where(dot, value, value * 10 + digit)
        elif p >= inside:  # every field covers p: the plain step, in place
            value *= 10
            value += digit
        else:
            value = value * 10 + digit
        if p < inside:
            value = np.where(p >= first, value, 0)
    has_dot = last_dot >= 0
    frac = np.where(has_dot, width - 1 - last_dot, 0)
    ndigits = lens - has_dot
    if ((ndigits - frac < 1) | (ndigits > 18) | (has_dot & (frac < 1))).any():
        return None
    tally["dots"] += int(has_dot.sum())
    if col.out is None:
        return np.zeros(0, dtype=np.int64)
    exp, unit, _why = _grid(col.conv, inst)
    up, down = np.maximum(exp - frac, 0), np.maximum(frac - exp, 0)
    if int(up.max()) > 18 or unit * 10 ** int(down.max()) > _I64_MAX // 2:
        return None
    if (value > _I64_MAX // _POW10[up]).any():
        return None
    den = unit * _POW10[down]
    q, r = np.divmod(value * _POW10[up], den)
    if r.any():
        if not (col.conv == "mark" and round_mark):
            return None
        q += (2 * r > den) | ((2 * r == den) & (q % 2 == 1))
    return q


def _parse_fast(
    buf: Array, seps: Array, lo: int, hi: int, cols: tuple[_Col, ...], inst: Instrument,
    round_mark: bool,
) -> dict[str, Array] | None:
    """The rows in ``buf[lo:hi]``, whose separators are ``seps``, or None on any doubt."""
    width = len(cols)
    pattern = np.array([44] * (width - 1) + [10], dtype=np.uint8)
    if seps.shape[0] % width or not (buf[seps].reshape(-1, width) == pattern).all():
        return None
    ends = seps.reshape(-1, width)
    out: dict[str, Array] = {}
    # Fields are checked only where their form allows a non-digit (the last dot, a whole
    # true/false); the counts of bytes below "0" and above "9" must then equal the
    # separators plus this tally, so a stray byte anywhere is caught.
    tally = {"dots": 0, "letters": 0}
    for j, col in enumerate(cols):
        if col.conv == "skip":  # no dots or letters there on this path
            continue
        e = ends[:, j]
        s = ends[:, j - 1] + 1 if j else np.concatenate(([lo], ends[:-1, -1] + 1))
        part = (_fast_bool(buf, s, e, tally) if col.conv == "bool"
                else _fast_number(buf, s, e, col, inst, round_mark, tally))
        if part is None:
            return None
        if col.out:
            out[col.out] = part
    low, high = np.count_nonzero(buf[lo:hi] < 48), np.count_nonzero(buf[lo:hi] > 57)
    if (low, high) != (seps.shape[0] + tally["dots"], tally["letters"]):
        return None
    return out


def _parse_rows(
    data: bytes | memoryview, cols: tuple[_Col, ...], inst: Instrument, round_mark: bool,
    name: str, first_line: int,
) -> dict[str, Array]:
    """Blocks of rows in order, each by the fast path or, when it doubts, the reference:
    the first error in line order is raised, and costs one slow block to word."""
    buf = np.frombuffer(data, dtype=np.uint8)
    # Bytes below "," count as separators; any but "," and newline fails a block.
    seps = np.flatnonzero(buf <= 44)
    row_ends = seps[buf[seps] == 10]
    time_name = next(c.name for c in cols if c.out == "time")
    blocks: list[dict[str, Array]] = []
    prev: int | None = None
    for r0 in range(0, row_ends.shape[0], _BLOCK):
        r1 = min(r0 + _BLOCK, row_ends.shape[0])
        lo, hi = int(row_ends[r0 - 1]) + 1 if r0 else 0, int(row_ends[r1 - 1]) + 1
        mine = seps[np.searchsorted(seps, lo):np.searchsorted(seps, hi)]
        block = _parse_fast(buf, mine, lo, hi, cols, inst, round_mark)
        if block is None:
            block = _parse_slow(bytes(data[lo:hi]), cols, inst, round_mark, name,
                                first_line + r0, prev)
        times = block["time"] if prev is None else np.concatenate(([prev], block["time"]))
        back = np.flatnonzero(np.diff(times) < 0)
        if back.shape[0]:  # only after the fast path, whose fields are all sound
            i = int(back[0]) + 1
            raise DataError(name, first_line + r0 + i - (prev is not None), f"{time_name} "
                            f"{int(times[i])} is before the previous row's {int(times[i - 1])}")
        blocks.append(block)
        prev = int(times[-1])
    return {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}


# -- files -----------------------------------------------------------------------------
def _parse(
    data: bytes, kind: FileKind, inst: Instrument, name: str, symbol: str | None,
    round_mark: bool,
) -> tuple[Stream, int]:
    """The stream and the line number of its first data row."""
    out_kind, cols = _LAYOUTS[kind]
    data = data.removeprefix(b"\xef\xbb\xbf")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    if not data.endswith(b"\n") or data.endswith(b"\n\n"):
        data = data.rstrip(b"\n") + b"\n"
    head, first_line, body = data[:data.index(b"\n")], 1, memoryview(data)  # no copies
    if head and not head.split(b",", 1)[0].isdigit():
        if head.count(b",") + 1 != len(cols):
            raise DataError(name, 1, f"header has {head.count(b',') + 1} fields, "
                            f"expected {len(cols)}")
        body, first_line = body[len(head) + 1:], 2
    if body in (b"", b"\n"):
        raise DataError(name, first_line, "empty file: no data rows")
    arrays = _parse_rows(body, cols, inst, round_mark, name, first_line)
    columns = {c: arrays[c] for c in COLUMNS[out_kind]}
    return Stream(symbol or inst.symbol, out_kind, arrays["time"], columns, (name,)), first_line


_NAME = re.compile(r"([A-Za-z0-9_]+)-(aggTrades|trades|bookTicker|fundingRate|"
                   r"markPriceKlines-[0-9]+[a-zA-Z]+|[0-9]+(?:s|m|h|d|w|mo|M))-")


def infer(filename: str) -> tuple[str, FileKind, str]:
    """``(symbol, file kind, interval)`` from a data.binance.vision file name.

    >>> infer("BTCUSDT-1m-2024-01-01.zip")
    ('BTCUSDT', <FileKind.KLINES: 'klines'>, '1m')
    >>> infer("ETHUSDT-markPriceKlines-1h-2024-01.csv")[1:]
    (<FileKind.MARK_PRICE_KLINES: 'markPriceKlines'>, '1h')
    """
    m = _NAME.match(Path(filename).name)
    if m is None:
        raise DataError(filename, None, "cannot tell symbol and file kind from the name "
                        "(like BTCUSDT-aggTrades-2024-01-01.zip); pass kind= and symbol=")
    symbol, tag = m[1], m[2]
    if tag.startswith("markPriceKlines-"):
        return symbol, FileKind.MARK_PRICE_KLINES, tag.split("-", 1)[1]
    if tag[0].isdigit():
        return symbol, FileKind.KLINES, tag
    return symbol, FileKind(tag), ""


def _instrument(instruments: Instruments, symbol: str, name: str) -> Instrument:
    table = ({instruments.symbol: instruments} if isinstance(instruments, Instrument)
             else dict(instruments) if isinstance(instruments, Mapping)
             else {i.symbol: i for i in instruments})
    if symbol not in table:
        raise DataError(name, None, f"no instrument for symbol {symbol!r} "
                        f"(known: {', '.join(sorted(table))})")
    return table[symbol]


def _read(path: Path) -> tuple[bytes, str]:
    """The csv bytes of a .csv or a one-csv .zip, and the name to report."""
    if path.suffix.lower() != ".zip":
        return path.read_bytes(), str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise DataError(str(path), None,
                                f"the zip holds {len(members)} csv files, expected one")
            member = members[0]
            if member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1024):
                raise DataError(f"{path}/{member.filename}", None,
                                f"it inflates to {member.file_size} bytes from "
                                f"{member.compress_size}, more than {MAX_ZIP_RATIO} times: "
                                "not a market-data file")
            return archive.read(member), f"{path}/{member.filename}"
    except zipfile.BadZipFile as e:
        raise DataError(str(path), None, f"not a readable zip archive ({e})") from None


def load_file(
    path: str | Path, instruments: Instruments, *, kind: FileKind | str | None = None,
    symbol: str | None = None, round_mark: bool = False,
) -> Stream:
    """One file (.csv, or .zip of one csv) as a :class:`Stream`.  Runtime: O(bytes).

    ``kind`` (a :class:`FileKind` or its name, e.g. ``"aggTrades"``) and ``symbol``
    default to what the file name says; ``instruments`` (one, a list, or a mapping by
    symbol) gives the symbol's grid.
    """
    return _load_file(Path(path), instruments, kind, symbol, round_mark)[0]


def _load_file(
    path: Path, instruments: Instruments, kind: FileKind | str | None, symbol: str | None,
    round_mark: bool,
) -> tuple[Stream, int]:
    if kind is None or symbol is None:
        named = infer(path.name)
        kind, symbol = kind or named[1], symbol or named[0]
    inst = _instrument(instruments, symbol, str(path))
    data, name = _read(path)
    return _parse(data, FileKind(kind), inst, name, symbol, round_mark)


def data_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """The files ``paths`` name, directories searched recursively for .csv/.zip (sorted
    by path within each), each once, in order."""
    files: list[Path] = []
    for p in map(Path, [paths] if isinstance(paths, (str, Path)) else paths):
        if p.is_dir():
            files += sorted((f for f in p.rglob("*") if f.is_file()
                             and f.suffix.lower() in (".csv", ".zip")),
                            key=lambda f: f.relative_to(p).as_posix())
        else:
            files.append(p)
    return list(dict.fromkeys(files))  # a file named twice is read once


def load(
    paths: str | Path | Iterable[str | Path], instruments: Instruments, *,
    round_mark: bool = False,
) -> list[Stream]:
    """Files and directories (searched recursively for .csv/.zip, sorted by path) as streams.

    Kind and symbol come from each file's name.  Files of one symbol, file kind and
    interval (the days or months of one series) are concatenated in name order into one
    stream; a file starting before the previous one ends is a :class:`DataError` at its
    first data line.  Streams come in the order of their first files.  Load aggTrades or
    trades of a symbol, not both: each gives a trade stream.
    """
    series: dict[tuple[str, FileKind, str], list[Stream]] = {}
    for f in data_files(paths):
        key = infer(f.name)
        stream, first_line = _load_file(f, instruments, key[1], key[0], round_mark)
        done = series.setdefault(key, [])
        if done and int(stream.time[0]) < int(done[-1].time[-1]):
            raise DataError(stream.files[0], first_line, f"time {int(stream.time[0])} is "
                            f"before the end of {done[-1].files[0]} ({int(done[-1].time[-1])})")
        done.append(stream)
    return [concat(streams) for streams in series.values()]
