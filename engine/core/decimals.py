"""The numeric edge: wire values in, integers out; integers in, minimal decimal strings out.

Inside the engine every price is an integer number of ticks, every quantity an
integer number of lots, every amount of money an integer number of 10⁻⁸ USDT.
This module is the only place that sees ``Decimal``: it turns a wire value
(``str``, ``int``, ``Decimal``, or a ``float`` taken through ``repr``) into a
``Decimal``, checks it, and scales it to an integer; and it formats scaled
integers back into Binance's minimal decimal strings (``"10"``, ``"0.3"``,
``"0"``).

Rules
-----
* Accepted text: ASCII ``[+-]digits[.digits][e±digits]``.  Anything else —
  NaN, infinity, spaces, non-ASCII digits, booleans — is -1100.
* A float is accepted only through ``repr`` (so ``0.1`` means ``"0.1"``); the
  engine never computes with it.
* Trailing zeros carry no precision: ``"0.0100"`` has two decimals.

>>> fmt_scaled(123450, 2), fmt_scaled(5, 0), fmt_scaled(3, 1), fmt_scaled(0, 8)
('1234.5', '5', '0.3', '0')
>>> fmt_scaled(-5, 3)
'-0.005'
>>> parse_decimal("1e-05", "quantity")
Decimal('0.00001')
>>> decimals_of(parse_decimal("0.0100", "quantity"))
2
>>> scaled_exact(parse_decimal("30000.10", "price"), 1)
300001
"""

from __future__ import annotations

import re
from decimal import Decimal

from engine.core.errors import reject

#: Binance's description of a legal decimal parameter, quoted in -1100 messages.
LEGAL_DECIMAL = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
LEGAL_INTEGER = "^[0-9]{1,20}$"
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?", re.ASCII)
_INTEGER = re.compile(r"[+]?[0-9]{1,20}", re.ASCII)
#: an amount written plainly: ASCII digits and an optional fraction (a minus sign is let
#: through to be refused by its bound; no exponent, spaces, underscores or other
#: scripts' digits, all of which Decimal() would take)
_PLAIN = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,30})?", re.ASCII)
_INT_LIMIT = 10**20  # the same 20 digits a wire integer may have
#: Values beyond this many digits either side of the point are out of any range we serve.
_MAX_MAGNITUDE = 40


def present(value: object) -> bool:
    """True when a parameter was sent with content (None and ``""`` count as not sent)."""
    return value is not None and value != ""


def parse_decimal(value: object, param: str) -> Decimal:
    """Parse a wire number into a finite ``Decimal``, or raise -1100 naming ``param``.

    Runtime complexity: O(len(text)).
    """
    if isinstance(value, bool):
        raise reject("ILLEGAL_CHARS", param, LEGAL_DECIMAL)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        raise reject("ILLEGAL_CHARS", param, LEGAL_DECIMAL)
    if _NUMBER.fullmatch(text) is None:
        raise reject("ILLEGAL_CHARS", param, LEGAL_DECIMAL)
    number = Decimal(text)
    if number and abs(number.adjusted()) > _MAX_MAGNITUDE:
        raise reject("ILLEGAL_CHARS", param, LEGAL_DECIMAL)
    return number


def parse_int(value: object, param: str) -> int:
    """Parse a non-negative wire integer (an id, a time, a count), or raise -1100."""
    if isinstance(value, bool):
        raise reject("ILLEGAL_CHARS", param, LEGAL_INTEGER)
    if isinstance(value, int):
        if value < 0 or value >= _INT_LIMIT:
            raise reject("ILLEGAL_CHARS", param, LEGAL_INTEGER)
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise reject("ILLEGAL_CHARS", param, LEGAL_INTEGER)


def parse_bool(value: object, param: str) -> bool:
    """Parse ``true``/``false`` in any case (or a bool), else -1130 naming ``param``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.lower()
        if low == "true":
            return True
        if low == "false":
            return False
    raise reject("INVALID_PARAMETER", param)


def decimals_of(number: Decimal) -> int:
    """Number of significant decimal places (trailing zeros ignored)."""
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    if exponent >= 0:
        return 0
    trailing = 0
    for d in reversed(digits):
        if d:
            break
        trailing += 1
    if trailing == len(digits):
        return 0
    return max(0, -(exponent + trailing))


def scaled_exact(number: Decimal, exp: int) -> int | None:
    """``number × 10^exp`` as an int, or None when that is not a whole number.

    Call only on range-checked values (the result is exact, not rounded).
    """
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    mantissa = 0
    for d in digits:
        mantissa = mantissa * 10 + d
    shift = exponent + exp
    if shift >= 0:
        result = mantissa * 10**shift
    else:
        q, r = divmod(mantissa, 10**-shift)
        if r:
            return None
        result = q
    return -result if sign else result


def fmt_scaled(n: int, exp: int) -> str:
    """Minimal decimal string of ``n × 10^-exp``.  Runtime complexity: O(digits)."""
    if exp <= 0:
        return str(n * 10**-exp)
    neg = n < 0
    s = str(-n if neg else n)
    if len(s) <= exp:
        s = "0" * (exp - len(s) + 1) + s
    head, tail = s[:-exp], s[-exp:].rstrip("0")
    out = f"{head}.{tail}" if tail else head
    return "-" + out if neg and out != "0" else out


def fmt_ratio(num: int, den: int, exp: int) -> str:
    """Minimal string of ``num / den`` rounded half-even to ``exp`` decimal places."""
    if den < 0:
        num, den = -num, -den
    q, r = divmod(num * 10**exp, den)
    twice = 2 * r
    if twice > den or (twice == den and q % 2):
        q += 1
    return fmt_scaled(q, exp)


def unit_of(step: Decimal) -> tuple[int, int]:
    """Split a grid step into ``(mantissa, exp)`` with ``step == mantissa × 10^-exp``.

    >>> unit_of(Decimal("0.10")), unit_of(Decimal("0.001")), unit_of(Decimal("5"))
    ((1, 1), (1, 3), (5, 0))
    """
    exp = max(0, decimals_of(step))
    mantissa = scaled_exact(step, exp)
    assert mantissa is not None and mantissa > 0, step
    return mantissa, exp


#: the largest deposit one operator command makes, in 10^-8 USDT
MAX_DEPOSIT_E8 = 10**12 * 10**8


def usdt_e8(what: str, value: object, least_e8: int) -> int:
    """``value`` (a str, int or Decimal of USDT with at most 8 decimals, at least
    ``least_e8`` 10^-8 USDT; a deposit at most :data:`MAX_DEPOSIT_E8`) in 10^-8 USDT;
    else ``ValueError`` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{what} must be a str, int or Decimal, not {value!r}")
    if isinstance(value, str) and not _PLAIN.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a number (plain ASCII digits, an "
                         "optional point)")
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"{what} {value!r} is not a number") from None
    e8 = scaled_exact(amount, 8) if amount.is_finite() and decimals_of(amount) <= 8 else None
    if e8 is None or e8 < least_e8 or (least_e8 and e8 > MAX_DEPOSIT_E8):
        bound = "≥ 0" if not least_e8 else "> 0 and ≤ 10^12"
        raise ValueError(f"{what} {value!r} must be {bound} with at most 8 decimals")
    return e8
