"""Integer columns → csv text, vectorised: the writer behind ``fapisim sample-data``.

A row of Binance's market-data csv is a handful of numbers (ids, times, fixed-point
prices and quantities) and flags.  :func:`csv_rows` lays every row out at a fixed
width in one ``uint8`` matrix (digits by integer division, separators, the newline),
marks the bytes to keep (no leading zeros, a sign only where negative, ``true`` or
``false``), and returns the kept bytes in order: a few numpy passes over the matrix,
no Python per row.  About 10 times faster than formatting rows with f-strings.

>>> import numpy as np
>>> csv_rows([Col(np.array([1, 22])), Col(np.array([300001, -5]), exp=1, decimals=2),
...           Col(np.array([True, False]))])
b'1,30000.10,true\\n22,-0.50,false\\n'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Col", "csv_rows"]

_ZERO, _DOT, _COMMA, _MINUS, _NL = (ord(c) for c in "0.,-\n")
_TRUE, _FALSE = np.frombuffer(b"true ", np.uint8), np.frombuffer(b"false", np.uint8)


@dataclass(frozen=True)
class Col:
    """One column: int64 ``units × 10^-exp`` written with ``decimals`` (≥ ``exp``) decimals
    (0: an integer), or a bool array written ``true``/``false``."""

    values: np.ndarray
    exp: int = 0
    decimals: int = 0


def _digits(n: int) -> int:
    return max(1, len(str(n)))


def _width(col: Col) -> int:
    """The bytes a value of ``col`` may take: sign (if any is negative), whole digits,
    point, decimals."""
    if col.values.dtype == bool:
        return 5
    mag = int(np.abs(col.values).max(initial=0)) * 10 ** (col.decimals - col.exp)
    whole_w = _digits(mag // 10**col.decimals)
    sign = 1 if col.values.size and int(col.values.min()) < 0 else 0
    return sign + whole_w + (1 + col.decimals if col.decimals else 0)


#: the four digit bytes of 0..9999, zero-padded: digits are written four at a time
_QUADS = np.frombuffer(b"".join(b"%04d" % i for i in range(10_000)), np.uint8).reshape(
    10_000, 4)


#: 10^0 … 10^18: a value's digit count is where it sorts among them
_POWERS = np.array([10**k for k in range(19)], np.int64)


def _number(col: Col, out: np.ndarray, keep: np.ndarray) -> None:
    """Write ``col`` into ``out`` (n × its width) and mark the bytes to keep."""
    width, n = out.shape[1], out.shape[0]
    v = col.values.astype(np.int64, copy=False)
    mag = np.abs(v) * 10 ** (col.decimals - col.exp)
    frac_w = col.decimals
    signed = 1 if (v < 0).any() else 0
    if signed:
        keep[:, 0] = v < 0
        out[:, 0] = _MINUS
    whole_w = width - signed - (1 + frac_w if frac_w else 0)
    total = whole_w + frac_w
    padded = -(-total // 4) * 4
    digits = np.empty((n, padded), np.uint8)
    rest = mag
    for at in range(padded, 0, -4):  # four digits a pass, right to left
        rest, quad = np.divmod(rest, 10_000)
        digits[:, at - 4:at] = _QUADS[quad]
    digits = digits[:, padded - total:]
    lead = signed + whole_w
    out[:, signed:lead] = digits[:, :whole_w]
    if frac_w:
        out[:, lead] = _DOT
        out[:, lead + 1:] = digits[:, whole_w:]
    if whole_w > 1:  # leading zeros of the whole part are dropped (one zero stays)
        ndig = np.maximum(np.searchsorted(_POWERS, mag // 10**frac_w, side="right"), 1)
        keep[:, signed:lead] = np.arange(whole_w) >= (whole_w - ndig)[:, None]


def _flag(col: Col, out: np.ndarray, keep: np.ndarray) -> None:
    b = col.values.astype(bool, copy=False)
    out[:] = np.where(b[:, None], _TRUE[None, :], _FALSE[None, :])
    keep[:, 4] = ~b


def csv_rows(cols: list[Col]) -> bytes:
    """The rows of ``cols`` (equal lengths) as csv text, each ending in a newline."""
    n = len(cols[0].values)
    if any(len(c.values) != n for c in cols):
        raise ValueError("columns of different lengths")
    if n == 0:
        return b""
    widths = [_width(c) for c in cols]
    matrix = np.empty((n, sum(widths) + len(cols)), np.uint8)
    mask = np.ones(matrix.shape, bool)
    at = 0
    for col, width in zip(cols, widths, strict=True):
        part = slice(at, at + width)
        if col.values.dtype == bool:
            _flag(col, matrix[:, part], mask[:, part])
        else:
            _number(col, matrix[:, part], mask[:, part])
        at += width
        matrix[:, at] = _COMMA
        at += 1
    matrix[:, -1] = _NL
    return matrix[mask].tobytes()
