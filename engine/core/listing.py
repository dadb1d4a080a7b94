"""Listed contracts: a bundled, dated table of twelve large USDⓈ-M perpetuals.

:func:`listed` builds the :class:`~engine.core.instrument.Instrument` of each
symbol asked for, in the order asked; :func:`reference_price` is the price a
synthetic market of that symbol starts at.  The table itself is
:data:`LISTINGS` (read-only), one :class:`Listing` per symbol.

>>> [inst.symbol for inst in listed(["SOLUSDT", "BTCUSDT"])]
['SOLUSDT', 'BTCUSDT']
>>> sol = listed(["SOLUSDT"])[0]
>>> sol.symbol_info()["filters"][0]
{'filterType': 'PRICE_FILTER', 'minPrice': '0.4200', 'maxPrice': '6857', 'tickSize': '0.0010'}
>>> reference_price("DOGEUSDT"), LISTING_DATE
('0.09', '2024-03-31')

The table
---------
Figures as Binance served them at :data:`LISTING_DATE` (BTCUSDT and ETHUSDT:
SPEC 3's defaults, see *Choices* below).  Prices and quantities in USDT and
base units; PERCENT_PRICE is up / down around the mark; brackets are
``notionalCap × initialLeverage @ maintMarginRatio``, ``cum`` derived.

========  ========  =====  ==  ==  ===============  ======================  ====  =========  =====
symbol    tick      step   pp  qp  min–max price    min–max qty (market)    notl  pct price  ref.
========  ========  =====  ==  ==  ===============  ======================  ====  =========  =====
BTCUSDT   0.10      0.001  2   3   261.10–809484    0.001–1000 (120)        100   1.05/0.95  42000
ETHUSDT   0.01      0.001  2   3   39.86–306177     0.001–10000 (2000)      20    1.05/0.95  2300
BNBUSDT   0.010     0.01   3   2   6.600–100000     0.01–100000 (2000)      5     1.05/0.95  310
SOLUSDT   0.0010    1      4   0   0.4200–6857      1–1000000 (5000)        5     1.05/0.95  100
XRPUSDT   0.0001    0.1    4   1   0.0143–100000    0.1–10000000 (2000000)  5     1.05/0.95  0.62
DOGEUSDT  0.000010  1      6   0   0.002440–30      1–50000000 (30000000)   5     1.10/0.90  0.09
ADAUSDT   0.00010   1      5   0   0.01740–20000    1–2000000 (300000)      5     1.05/0.95  0.59
AVAXUSDT  0.0010    1      4   0   0.3500–2403      1–100000 (5000)         5     1.10/0.90  39
LINKUSDT  0.001     0.01   3   2   0.464–100000     0.01–200000 (20000)     20    1.10/0.90  15
LTCUSDT   0.01      0.001  2   3   3.61–100000      0.001–10000 (5000)      20    1.05/0.95  73
DOTUSDT   0.001     0.1    3   1   0.373–2398       0.1–1000000 (50000)     5     1.05/0.95  8.1
TRXUSDT   0.00001   1      5   0   0.00132–20000    1–10000000 (5000000)    5     1.05/0.95  0.11
========  ========  =====  ==  ==  ===============  ======================  ====  =========  =====

Bracket 1 (cap × leverage @ MMR) and the last one: BTC 50k × 125 @ 0.4% … 1.8B × 1 @ 50%;
ETH 50k × 125 @ 0.5% … 1.2B × 1 @ 50%; BNB 10k × 75 @ 0.5% … 50M × 1; SOL 10k × 100 @ 0.5%
… 100M × 1; XRP, ADA, LINK, LTC 5k × 75 @ 0.5% … 50M × 1; DOGE 5k × 75 @ 0.5% … 30M × 1;
AVAX 5k × 75 @ 0.5% … 50M × 1; DOT, TRX 10k × 75 @ 0.65% … 50M / 30M × 1.  Liquidation fee
(``liquidationFee``): 1.25 % BTC, ETH, XRP; 1.5 % BNB, SOL, AVAX, LINK, LTC, DOT; 1 % DOGE,
ADA, TRX.  Fees are the engine's defaults (maker 0.02 %, taker 0.05 %).

Sources
-------
* **Filters of the ten added contracts** (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE,
  MIN_NOTIONAL, PERCENT_PRICE, ``pricePrecision``, ``quantityPrecision``,
  ``liquidationFee``): Binance's ``GET /fapi/v1/exchangeInfo`` with ``serverTime``
  1711627208783 (2024-03-28 12:00 UTC), a verbatim copy committed to a public
  repository as a JavaScript file (``const data = {…}``).  The search index it was
  found through does not name that repository, so it is described rather than cited.
  Corroboration, named: ccxt/ccxt ``ts/src/test/static/markets/binance.json`` (ccxt's
  recorded Binance markets from late 2023: it lists the BTCUSDT_231229 quarterly)
  has the same price filter, lot sizes, precisions and PERCENT_PRICE for XRPUSDT,
  DOGEUSDT, ADAUSDT, LTCUSDT and TRXUSDT, and ETHUSDT's and BTCUSDT's 2024 price
  filters; its MIN_NOTIONAL is 5 for all of them, where the 2024 file has 100, 20
  and 20 for BTC, ETH and LTC (the table follows the 2024 file); melight402/trading-back
  ``constants/binancePrecision.js`` (a later listing) has the same tick and step for
  BNBUSDT, AVAXUSDT, DOTUSDT and LINKUSDT.
* **Leverage brackets of the ten**: Binance's ``GET /fapi/v1/leverageBracket`` as
  cached in freqtrade/freqtrade ``freqtrade/exchange/binance_leverage_tiers.json``,
  the version freqtrade's bot committed on 2024-03-31 07:15 UTC (a534340cc129),
  minutes after the CI step that regenerates the file from Binance was added.  Every
  ``cum`` printed there equals the one :func:`~engine.core.instrument.make_brackets`
  derives.
* **BTCUSDT and ETHUSDT**: :func:`~engine.core.instrument.default_instruments`
  (SPEC 3), read from there, so the figures have one source.  (The arrow cannot
  point the other way: this module builds instruments, and the engine allows no
  import cycle — tests/test_layers.py.)
* **Reference prices**: each contract's level at 2024-01-01 00:00 UTC — the venue
  clock's default start — rounded to two significant figures.  That rule turns
  Binance's 2024-01-01 daily opens of BTCUSDT 42283.58 and ETHUSDT 2281.87 into the
  serve feed's existing start prices 42000 and 2300, and SOLUSDT's 101.72 into 100
  (Binance public spot klines, data.binance.vision, as copied into public test
  fixtures).

Choices and gaps
----------------
* The dates differ by figure group: filters 2024-03-28, brackets 2024-03-31 (so
  :data:`LISTING_DATE` is the later), reference prices 2024-01-01.
* BTCUSDT and ETHUSDT are SPEC 3's and stay so (recorded state hashes and journals
  depend on them, tests/test_compatibility.py), which makes them older or newer than
  the rest: BTC's price filter 261.10–809484 is from an earlier exchangeInfo (several
  public fixtures carry it; the 2024-03-28 one says 556.80–4529764); BTC's twelve
  brackets are Binance's from 2024-06 to at least 2024-10 (on 2024-03-31 BTC had ten,
  125× to 50k then 100× to 500k); ETH's caps and leverages are Binance's of that same
  later period, but its maintenance ratios are SPEC 3's (bracket 1 at 0.5 %; Binance's
  were 0.4 %, 0.5 %, 0.65 %, 1 %, 2 %, 2.5 %, 5 %, 10 %, 12.5 %, 15 %, 25 %, 50 %).
* The ten other reference prices (BNB 310, XRP 0.62, DOGE 0.09, ADA 0.59, AVAX 39,
  LINK 15, LTC 73, DOT 8.1, TRX 0.11) were not checked against a daily kline: they
  are round new-year levels in line with the market reports of 2024-01-02/03
  (cryptopotato.com's Market Watch: AVAX "well above $40" after +11 %, BNB about $330
  after +2.5 % and +4 %; benzinga.com: DOGE $0.091).  At two significant figures only
  an open near a rounding boundary could change one.  A reference price only seeds a
  synthetic market; nothing else reads it.
* Beyond the figures asked for, the ten carry their own PERCENT_PRICE multipliers and
  ``liquidationFee`` from the same exchangeInfo (the engine's defaults are BTC's);
  fees and MAX_NUM_ORDERS (200) are the engine's defaults for all twelve.

Invariants (tests/test_listing.py)
----------------------------------
Every row builds an :class:`Instrument`; tick divides the min and max price, step the
min, max and market-max quantity; ``pricePrecision`` and ``quantityPrecision`` are the
decimals of tick and step as written; MIN_NOTIONAL is reachable within
MARKET_LOT_SIZE at the reference price, which lies on the tick grid inside the price
band; caps rise strictly, leverage never rises, maintenance ratios never fall.

Runtime complexity: the table is built once at import; :func:`listed` is O(symbols).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.core.decimals import fmt_scaled
from engine.core.instrument import Instrument, default_instruments, make_brackets

__all__ = ["LISTINGS", "LISTING_DATE", "REFERENCE_DATE", "Listing", "listed", "reference_price"]

#: the date the table describes (filters 2024-03-28, brackets 2024-03-31)
LISTING_DATE = "2024-03-31"
#: the date of every reference price: the venue clock's default start (2024-01-01T00:00Z)
REFERENCE_DATE = "2024-01-01"


@dataclass(frozen=True, slots=True)
class Listing:
    """One row: a contract's exchangeInfo figures, its brackets and its reference price.

    Field names are :class:`Instrument`'s keyword arguments; decimals are strings as
    Binance writes them (``"0.0010"``: trailing zeros kept).  ``brackets`` are
    ``(notionalCap, initialLeverage, maintMarginRatio)`` rows, ``cum`` derived."""

    symbol: str
    base_asset: str
    tick_size: str
    step_size: str
    price_precision: int
    quantity_precision: int
    min_price: str
    max_price: str
    min_qty: str
    max_qty: str
    market_max_qty: str
    min_notional: str
    multiplier_up: str
    multiplier_down: str
    liquidation_fee: str
    brackets: tuple[tuple[str, int, str], ...]
    #: the price a synthetic market of the symbol starts at (USDT, on the tick grid)
    reference_price: str
    #: the date :attr:`reference_price` is the level of
    reference_date: str = REFERENCE_DATE

    def instrument(self, **overrides: Any) -> Instrument:
        """A fresh :class:`Instrument` of this row; ``overrides`` as for
        :func:`~engine.core.instrument.default_instruments`.  O(brackets)."""
        params: dict[str, Any] = {
            "base_asset": self.base_asset, "tick_size": self.tick_size,
            "step_size": self.step_size, "price_precision": self.price_precision,
            "quantity_precision": self.quantity_precision, "min_price": self.min_price,
            "max_price": self.max_price, "min_qty": self.min_qty, "max_qty": self.max_qty,
            "market_max_qty": self.market_max_qty, "min_notional": self.min_notional,
            "multiplier_up": self.multiplier_up, "multiplier_down": self.multiplier_down,
            "liquidation_fee": self.liquidation_fee,
            "brackets": make_brackets(list(self.brackets)),
        }
        return Instrument(self.symbol, **{**params, **overrides})


def _from_instrument(inst: Instrument, reference: str) -> Listing:
    """The row of a built instrument (SPEC 3's defaults): its constructor's strings back."""
    return Listing(
        inst.symbol, inst.base_asset, str(inst.tick_size), str(inst.step_size),
        inst.price_precision, inst.quantity_precision, str(inst.min_price),
        str(inst.max_price), str(inst.min_qty), str(inst.max_qty), str(inst.market_max_qty),
        str(inst.min_notional), str(inst.multiplier_up), str(inst.multiplier_down),
        str(inst.liquidation_fee),
        tuple((fmt_scaled(b.cap_e8, 8), b.initial_leverage, fmt_scaled(b.mmr_ppm, 6))
              for b in inst.brackets),
        reference,
    )


_UP, _DOWN = "1.0500", "0.9500"  # PERCENT_PRICE of most contracts
_WIDE_UP, _WIDE_DOWN = "1.1000", "0.9000"  # DOGE, AVAX, LINK

# Brackets shared by several contracts on 2024-03-31 (same caps, leverages, ratios).
_TIERS_75_50M = (  # XRPUSDT, LTCUSDT
    ("5000", 75, "0.005"), ("10000", 50, "0.006"), ("50000", 40, "0.01"),
    ("750000", 25, "0.02"), ("3000000", 10, "0.05"), ("10000000", 5, "0.1"),
    ("12000000", 4, "0.125"), ("20000000", 3, "0.15"), ("30000000", 2, "0.25"),
    ("50000000", 1, "0.5"),
)
_TIERS_75_250K = (  # ADAUSDT, LINKUSDT
    ("5000", 75, "0.005"), ("10000", 50, "0.006"), ("50000", 40, "0.01"),
    ("250000", 25, "0.02"), ("1000000", 10, "0.05"), ("5000000", 5, "0.1"),
    ("10000000", 4, "0.125"), ("20000000", 3, "0.15"), ("30000000", 2, "0.25"),
    ("50000000", 1, "0.5"),
)

_DEFAULTS = {inst.symbol: inst for inst in default_instruments()}

#: every listed contract by symbol, in this order; read-only
LISTINGS: Mapping[str, Listing] = MappingProxyType({row.symbol: row for row in (
    _from_instrument(_DEFAULTS["BTCUSDT"], "42000"),
    _from_instrument(_DEFAULTS["ETHUSDT"], "2300"),
    Listing(
        "BNBUSDT", "BNB", "0.010", "0.01", 3, 2, "6.600", "100000", "0.01", "100000",
        "2000", "5", _UP, _DOWN, "0.015000",
        (("10000", 75, "0.005"), ("50000", 50, "0.006"), ("100000", 40, "0.01"),
         ("500000", 25, "0.02"), ("2000000", 10, "0.05"), ("6000000", 5, "0.1"),
         ("10000000", 4, "0.125"), ("20000000", 3, "0.15"), ("30000000", 2, "0.25"),
         ("50000000", 1, "0.5")),
        "310",
    ),
    Listing(
        "SOLUSDT", "SOL", "0.0010", "1", 4, 0, "0.4200", "6857", "1", "1000000",
        "5000", "5", _UP, _DOWN, "0.015000",
        (("10000", 100, "0.005"), ("50000", 75, "0.0065"), ("200000", 50, "0.01"),
         ("500000", 40, "0.012"), ("1000000", 25, "0.02"), ("2000000", 20, "0.025"),
         ("5000000", 10, "0.05"), ("15000000", 5, "0.1"), ("20000000", 4, "0.125"),
         ("50000000", 2, "0.25"), ("100000000", 1, "0.5")),
        "100",
    ),
    Listing(
        "XRPUSDT", "XRP", "0.0001", "0.1", 4, 1, "0.0143", "100000", "0.1", "10000000",
        "2000000", "5", _UP, _DOWN, "0.012500", _TIERS_75_50M, "0.62",
    ),
    Listing(
        "DOGEUSDT", "DOGE", "0.000010", "1", 6, 0, "0.002440", "30", "1", "50000000",
        "30000000", "5", _WIDE_UP, _WIDE_DOWN, "0.010000",
        (("5000", 75, "0.005"), ("10000", 50, "0.006"), ("50000", 40, "0.007"),
         ("750000", 25, "0.01"), ("1100000", 20, "0.025"), ("2200000", 10, "0.05"),
         ("5600000", 5, "0.1"), ("7000000", 4, "0.125"), ("18000000", 2, "0.25"),
         ("30000000", 1, "0.5")),
        "0.09",
    ),
    Listing(
        "ADAUSDT", "ADA", "0.00010", "1", 5, 0, "0.01740", "20000", "1", "2000000",
        "300000", "5", _UP, _DOWN, "0.010000", _TIERS_75_250K, "0.59",
    ),
    Listing(
        "AVAXUSDT", "AVAX", "0.0010", "1", 4, 0, "0.3500", "2403", "1", "100000",
        "5000", "5", _WIDE_UP, _WIDE_DOWN, "0.015000",
        (("5000", 75, "0.005"), ("10000", 50, "0.0065"), ("25000", 40, "0.0075"),
         ("50000", 25, "0.01"), ("250000", 20, "0.025"), ("1000000", 10, "0.05"),
         ("2000000", 5, "0.1"), ("5000000", 4, "0.125"), ("20000000", 2, "0.25"),
         ("50000000", 1, "0.5")),
        "39",
    ),
    Listing(
        "LINKUSDT", "LINK", "0.001", "0.01", 3, 2, "0.464", "100000", "0.01", "200000",
        "20000", "20", _WIDE_UP, _WIDE_DOWN, "0.015000", _TIERS_75_250K, "15",
    ),
    Listing(
        "LTCUSDT", "LTC", "0.01", "0.001", 2, 3, "3.61", "100000", "0.001", "10000",
        "5000", "20", _UP, _DOWN, "0.015000", _TIERS_75_50M, "73",
    ),
    Listing(
        "DOTUSDT", "DOT", "0.001", "0.1", 3, 1, "0.373", "2398", "0.1", "1000000",
        "50000", "5", _UP, _DOWN, "0.015000",
        (("10000", 75, "0.0065"), ("50000", 50, "0.01"), ("500000", 25, "0.02"),
         ("2000000", 10, "0.05"), ("5000000", 5, "0.1"), ("7000000", 4, "0.125"),
         ("10000000", 3, "0.15"), ("30000000", 2, "0.25"), ("50000000", 1, "0.5")),
        "8.1",
    ),
    Listing(
        "TRXUSDT", "TRX", "0.00001", "1", 5, 0, "0.00132", "20000", "1", "10000000",
        "5000000", "5", _UP, _DOWN, "0.010000",
        (("10000", 75, "0.0065"), ("90000", 50, "0.01"), ("645000", 20, "0.02"),
         ("1200000", 10, "0.05"), ("3000000", 5, "0.1"), ("6000000", 4, "0.125"),
         ("12000000", 3, "0.15"), ("20000000", 2, "0.25"), ("30000000", 1, "0.5")),
        "0.11",
    ),
)})


def _row(symbol: str) -> Listing:
    row = LISTINGS.get(symbol)
    if row is None:
        raise ValueError(f"unknown symbol {symbol!r}; listed: {', '.join(LISTINGS)}")
    return row


def listed(symbols: Iterable[str], **overrides: Any) -> list[Instrument]:
    """Fresh instruments of ``symbols``, in the order given.

    ``overrides`` apply to each, as for
    :func:`~engine.core.instrument.default_instruments` (``listed(["BTCUSDT",
    "ETHUSDT"])`` builds instruments equal to the defaults).  Every symbol is checked
    before any is built: an unknown one raises ``ValueError`` naming the listed ones, a
    repeated one ``ValueError``, and a bare string (not a collection of symbols)
    ``TypeError``.  Runtime complexity: O(symbols × brackets).

    >>> listed(["SOLUSDT", "PEPEUSDT"])
    Traceback (most recent call last):
    ...
    ValueError: unknown symbol 'PEPEUSDT'; listed: BTCUSDT, ETHUSDT, BNBUSDT, SOLUSDT, \
XRPUSDT, DOGEUSDT, ADAUSDT, AVAXUSDT, LINKUSDT, LTCUSDT, DOTUSDT, TRXUSDT
    """
    if isinstance(symbols, str):
        raise TypeError(f"symbols must be a collection of symbols, not the string {symbols!r}")
    rows = [_row(symbol) for symbol in symbols]
    seen: set[str] = set()
    for row in rows:
        if row.symbol in seen:
            raise ValueError(f"symbol {row.symbol!r} given twice")
        seen.add(row.symbol)
    return [row.instrument(**overrides) for row in rows]


def reference_price(symbol: str) -> str:
    """The price a synthetic market of ``symbol`` starts at, as a decimal string (its
    level on :data:`REFERENCE_DATE`, two significant figures).  ``ValueError`` naming
    the listed symbols on an unknown one.  Runtime complexity: O(1).

    >>> reference_price("BTCUSDT"), reference_price("TRXUSDT")
    ('42000', '0.11')
    """
    return _row(symbol).reference_price
