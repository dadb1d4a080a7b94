"""Instruments: one perpetual contract's grid, filters, fees and leverage brackets.

An :class:`Instrument` is an immutable description (its only mutable parts are
memo caches of wire strings, which are not state).  It converts between wire
decimals and the engine's integers:

* price  = ``ticks × tickSize``          (``price_ticks``)
* qty    = ``lots × stepSize``           (``qty_lots``)
* money  = ``e8 × 10⁻⁸ USDT``            (``*_e8``)
* notional of ``ticks`` × ``lots`` = ``ticks × lots × notional_unit_e8``

``notional_unit_e8`` (tick × step in 10⁻⁸ USDT) must be a whole number, which
holds for every real Binance contract; a grid too fine for it is refused with
``ValueError``.

The defaults (:func:`default_instruments`) are SPEC 3's BTCUSDT and ETHUSDT.

>>> btc = default_instruments()[0]
>>> btc.symbol, btc.notional_unit_e8, btc.price_str(300001), btc.qty_str(10)
('BTCUSDT', 10000, '30000.1', '0.01')
>>> btc.min_price_ticks, btc.max_price_ticks, btc.min_notional_e8
(2611, 8094840, 10000000000)
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from engine.core.decimals import fmt_scaled, scaled_exact, unit_of
from engine.core.enums import OrderType, TimeInForce
from engine.core.errors import reject

E8 = 100_000_000


def money_str(e8: int) -> str:
    """Wire string of an amount of money held in 10⁻⁸ USDT."""
    return fmt_scaled(e8, 8)


class Bracket:
    """One leverage bracket: notional band, max leverage, maintenance margin ratio, cum."""

    __slots__ = ("bracket", "initial_leverage", "floor_e8", "cap_e8", "mmr_ppm", "cum_e8")

    def __init__(
        self, bracket: int, initial_leverage: int, floor_e8: int, cap_e8: int, mmr_ppm: int,
        cum_e8: int,
    ) -> None:
        self.bracket = bracket
        self.initial_leverage = initial_leverage
        self.floor_e8 = floor_e8
        self.cap_e8 = cap_e8
        self.mmr_ppm = mmr_ppm
        self.cum_e8 = cum_e8

    def to_wire(self) -> dict[str, Any]:
        """Binance's leverageBracket row (numbers, as Binance sends them)."""
        return {
            "bracket": self.bracket,
            "initialLeverage": self.initial_leverage,
            "notionalCap": _number(self.cap_e8, 8),
            "notionalFloor": _number(self.floor_e8, 8),
            "maintMarginRatio": _number(self.mmr_ppm, 6),
            "cum": _number(self.cum_e8, 8),
        }


def _number(n: int, exp: int) -> int | Decimal:
    """An int when whole, else an exact Decimal (leverageBracket sends JSON numbers)."""
    q, r = divmod(n, 10**exp)
    return q if r == 0 else Decimal(fmt_scaled(n, exp))


def _on_grid(value: Decimal, step: Decimal, rounding: str) -> int:
    """``value / step`` rounded to a whole number of steps in the given direction."""
    return int((value / step).to_integral_value(rounding=rounding))


def make_brackets(rows: list[tuple[str, int, str]]) -> tuple[Bracket, ...]:
    """Build brackets from ``(notionalCap, initialLeverage, maintMarginRatio)`` rows.

    ``cum`` is derived as Binance derives it: cum_i = cum_{i-1} + floor_i × (mmr_i − mmr_{i-1}).
    """
    out: list[Bracket] = []
    floor_e8, cum_e8, prev_mmr = 0, 0, 0
    for i, (cap, lev, mmr) in enumerate(rows, start=1):
        cap_e8 = scaled_exact(Decimal(cap), 8)
        mmr_ppm = scaled_exact(Decimal(mmr), 6)
        assert cap_e8 is not None and mmr_ppm is not None
        cum_e8 += floor_e8 * (mmr_ppm - prev_mmr) // 1_000_000
        out.append(Bracket(i, lev, floor_e8, cap_e8, mmr_ppm, cum_e8))
        floor_e8, prev_mmr = cap_e8, mmr_ppm
    return tuple(out)


def _bracket_state(b: Bracket) -> tuple:
    return tuple(getattr(b, name) for name in Bracket.__slots__)


class Instrument:
    """A perpetual contract: grid, filters, fees, brackets.  Immutable once built."""

    __slots__ = (
        "symbol", "base_asset", "quote_asset", "margin_asset",
        "tick_size", "step_size", "price_precision", "quantity_precision",
        "min_price", "max_price", "min_qty", "max_qty", "market_max_qty", "min_notional",
        "multiplier_up", "multiplier_down", "max_num_orders", "maker_rate", "taker_rate",
        "liquidation_fee", "brackets",
        # derived integers
        "tick_m", "price_exp", "step_m", "qty_exp", "notional_unit_e8",
        "min_price_ticks", "max_price_ticks", "min_lots", "max_lots", "market_max_lots",
        "min_notional_e8", "up_num", "down_num", "pct_den", "maker_rate_e8", "taker_rate_e8",
        "liquidation_fee_e8",
        "_price_cache", "_qty_cache", "wire_templates", "parse_memo",
    )

    def __init__(
        self,
        symbol: str,
        *,
        base_asset: str,
        tick_size: str,
        step_size: str,
        price_precision: int,
        quantity_precision: int,
        min_price: str,
        max_price: str,
        min_qty: str,
        max_qty: str,
        market_max_qty: str,
        min_notional: str,
        brackets: tuple[Bracket, ...],
        quote_asset: str = "USDT",
        margin_asset: str = "USDT",
        multiplier_up: str = "1.0500",
        multiplier_down: str = "0.9500",
        max_num_orders: int = 200,
        maker_rate: str = "0.0002",
        taker_rate: str = "0.0005",
        liquidation_fee: str = "0.0125",
    ) -> None:
        self.symbol = symbol
        self.base_asset = base_asset
        self.quote_asset = quote_asset
        self.margin_asset = margin_asset
        self.tick_size = Decimal(tick_size)
        self.step_size = Decimal(step_size)
        self.price_precision = price_precision
        self.quantity_precision = quantity_precision
        self.min_price = Decimal(min_price)
        self.max_price = Decimal(max_price)
        self.min_qty = Decimal(min_qty)
        self.max_qty = Decimal(max_qty)
        self.market_max_qty = Decimal(market_max_qty)
        self.min_notional = Decimal(min_notional)
        self.multiplier_up = Decimal(multiplier_up)
        self.multiplier_down = Decimal(multiplier_down)
        self.max_num_orders = max_num_orders
        self.maker_rate = Decimal(maker_rate)
        self.taker_rate = Decimal(taker_rate)
        self.liquidation_fee = Decimal(liquidation_fee)
        self.brackets = brackets

        self.tick_m, self.price_exp = unit_of(self.tick_size)
        self.step_m, self.qty_exp = unit_of(self.step_size)
        unit = scaled_exact(self.tick_size * self.step_size, 8)
        if unit is None or unit <= 0:
            raise ValueError(f"tick {tick_size} × step {step_size} is finer than 1e-8 USDT")
        self.notional_unit_e8 = unit
        self.min_price_ticks = _on_grid(self.min_price, self.tick_size, ROUND_CEILING)
        self.max_price_ticks = _on_grid(self.max_price, self.tick_size, ROUND_FLOOR)
        self.min_lots = _on_grid(self.min_qty, self.step_size, ROUND_CEILING)
        self.max_lots = _on_grid(self.max_qty, self.step_size, ROUND_FLOOR)
        self.market_max_lots = _on_grid(self.market_max_qty, self.step_size, ROUND_FLOOR)
        notional = scaled_exact(self.min_notional, 8)
        assert notional is not None
        self.min_notional_e8 = notional
        self.pct_den = 10_000
        up, down = scaled_exact(self.multiplier_up, 4), scaled_exact(self.multiplier_down, 4)
        assert up is not None and down is not None
        self.up_num, self.down_num = up, down
        maker, taker = scaled_exact(self.maker_rate, 8), scaled_exact(self.taker_rate, 8)
        if maker is None or taker is None:
            raise ValueError("commission rates have more than 8 decimals")
        self.maker_rate_e8, self.taker_rate_e8 = maker, taker
        liq = scaled_exact(self.liquidation_fee, 8)
        if liq is None:
            raise ValueError("liquidation fee has more than 8 decimals")
        self.liquidation_fee_e8 = liq
        self._price_cache: dict[int, str] = {}
        self._qty_cache: dict[int, str] = {}
        #: memo of order-object templates by static fields (see ``wire.order_wire``)
        self.wire_templates: dict[tuple, dict] = {}
        #: memo of wire strings that parsed cleanly, per kind (see ``params``)
        self.parse_memo: dict[str, dict[str, int]] = {
            "price": {}, "stop": {}, "qty": {}, "market_qty": {},
        }

    def __repr__(self) -> str:
        return f"Instrument({self.symbol!r})"

    #: the slots that are memos, not the contract (rebuilt on demand; not hashed)
    MEMOS = frozenset({"_price_cache", "_qty_cache", "wire_templates", "parse_memo"})

    def _state(self) -> tuple:
        """Canonical state for hashing: every slot but the memos, brackets as tuples."""
        return tuple(
            tuple(_bracket_state(b) for b in self.brackets) if name == "brackets"
            else getattr(self, name)
            for name in Instrument.__slots__ if name not in Instrument.MEMOS
        )

    # -- wire strings (memoised: an order book reuses a few thousand prices) ----------
    def price_str(self, ticks: int) -> str:
        """Wire string of a price in ticks.  Runtime complexity: O(1) amortised."""
        s = self._price_cache.get(ticks)
        if s is None:
            s = fmt_scaled(ticks * self.tick_m, self.price_exp)
            if len(self._price_cache) < 1_000_000:
                self._price_cache[ticks] = s
        return s

    def qty_str(self, lots: int) -> str:
        """Wire string of a quantity in lots.  Runtime complexity: O(1) amortised."""
        s = self._qty_cache.get(lots)
        if s is None:
            s = fmt_scaled(lots * self.step_m, self.qty_exp)
            if len(self._qty_cache) < 100_000:
                self._qty_cache[lots] = s
        return s

    def signed_qty_str(self, lots: int) -> str:
        return "-" + self.qty_str(-lots) if lots < 0 else self.qty_str(lots)

    # -- brackets ------------------------------------------------------------------------
    def bracket_for(self, notional_e8: int) -> Bracket:
        """The bracket whose band holds ``|notional|`` (the last one beyond every cap)."""
        n = abs(notional_e8)
        for b in self.brackets:
            if n < b.cap_e8:
                return b
        return self.brackets[-1]

    def check_band(self, price: int, mark: int) -> None:
        """PERCENT_PRICE: a LIMIT ``price`` within the ``mark``'s multiplier cap and floor
        (ticks), else -4016 / -4024."""
        if price * self.pct_den > mark * self.up_num:
            raise reject("PRICE_HIGHTER_THAN_MULTIPLIER_UP")
        if price * self.pct_den < mark * self.down_num:
            raise reject("PRICE_LOWER_THAN_MULTIPLIER_DOWN")

    def maint_margin_e8(self, notional_e8: int) -> int:
        """Maintenance margin of a position of that notional (rounded up, never below 0)."""
        b = self.bracket_for(notional_e8)
        need = -(-abs(notional_e8) * b.mmr_ppm // 1_000_000) - b.cum_e8
        return max(0, need)

    def max_notional_e8(self, leverage: int) -> int:
        """The largest position notional the brackets allow at ``leverage`` (Binance's
        ``maxNotionalValue``): the cap of the last bracket that still offers it."""
        return max((b.cap_e8 for b in self.brackets if b.initial_leverage >= leverage),
                   default=0)

    # -- exchangeInfo ------------------------------------------------------------------
    def symbol_info(self) -> dict[str, Any]:
        """The exchangeInfo ``symbols[]`` object (CLIENTS.md §6: every parser's needs).

        No ``MAX_NUM_ALGO_ORDERS`` filter: Binance removed it from exchangeInfo on
        2025-12-29, when the cap on conditional orders became one per account across
        all symbols (200; https://developers.binance.com/docs/derivatives/change-log).
        That cap is the venue's ``max_num_algo_orders``, not a symbol's filter."""
        return {
            "symbol": self.symbol,
            "pair": self.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": self.base_asset,
            "quoteAsset": self.quote_asset,
            "marginAsset": self.margin_asset,
            "pricePrecision": self.price_precision,
            "quantityPrecision": self.quantity_precision,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": f"{self.liquidation_fee:.6f}",
            "marketTakeBound": "0.05",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": str(self.min_price),
                    "maxPrice": str(self.max_price),
                    "tickSize": str(self.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": str(self.min_qty),
                    "maxQty": str(self.max_qty),
                    "stepSize": str(self.step_size),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": str(self.min_qty),
                    "maxQty": str(self.market_max_qty),
                    "stepSize": str(self.step_size),
                },
                {"filterType": "MAX_NUM_ORDERS", "limit": self.max_num_orders},
                {"filterType": "MIN_NOTIONAL", "notional": str(self.min_notional)},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": str(self.multiplier_up),
                    "multiplierDown": str(self.multiplier_down),
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": [t.value for t in OrderType],
            "timeInForce": [t.value for t in TimeInForce],
        }


_BTC_BRACKETS = [
    ("50000", 125, "0.004"), ("600000", 100, "0.005"), ("3000000", 75, "0.0065"),
    ("12000000", 50, "0.01"), ("70000000", 25, "0.02"), ("100000000", 20, "0.025"),
    ("230000000", 10, "0.05"), ("480000000", 5, "0.1"), ("600000000", 4, "0.125"),
    ("800000000", 3, "0.15"), ("1200000000", 2, "0.25"), ("1800000000", 1, "0.5"),
]
_ETH_BRACKETS = [
    ("50000", 125, "0.005"), ("600000", 100, "0.0065"), ("3000000", 75, "0.01"),
    ("12000000", 50, "0.02"), ("50000000", 25, "0.05"), ("65000000", 20, "0.1"),
    ("150000000", 10, "0.125"), ("320000000", 5, "0.15"), ("400000000", 4, "0.25"),
    ("530000000", 3, "0.333"), ("800000000", 2, "0.5"), ("1200000000", 1, "0.5"),
]


def default_instruments(**overrides: Any) -> list[Instrument]:
    """SPEC 3's default venue: BTCUSDT and ETHUSDT perpetuals.

    Keyword ``overrides`` apply to both (e.g. ``max_num_orders=10**6`` for a deep book).
    """
    return [
        Instrument(
            "BTCUSDT", **{
                "base_asset": "BTC", "tick_size": "0.10", "step_size": "0.001",
                "price_precision": 2, "quantity_precision": 3, "min_price": "261.10",
                "max_price": "809484", "min_qty": "0.001", "max_qty": "1000",
                "market_max_qty": "120", "min_notional": "100",
                "brackets": make_brackets(_BTC_BRACKETS), **overrides,
            },
        ),
        Instrument(
            "ETHUSDT", **{
                "base_asset": "ETH", "tick_size": "0.01", "step_size": "0.001",
                "price_precision": 2, "quantity_precision": 3, "min_price": "39.86",
                "max_price": "306177", "min_qty": "0.001", "max_qty": "10000",
                "market_max_qty": "2000", "min_notional": "20",
                "brackets": make_brackets(_ETH_BRACKETS), **overrides,
            },
        ),
    ]
