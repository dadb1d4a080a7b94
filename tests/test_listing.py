"""The listing table (engine.core.listing): twelve real perpetuals, each a valid contract.

Each row must build an instrument whose exchangeInfo says what the table says, on a
consistent grid, with brackets shaped and summed as Binance's are; BTCUSDT and
ETHUSDT must stay SPEC 3's defaults; and a venue listing all twelve must trade.
The published figures pinned here (trailing-zero tick strings, the last bracket's
``cum``) come from the sources named in the module docstring, not from the table.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import pairwise

import pytest

import engine.core.listing as listing
from engine import ClientError, Exchange
from engine.core.instrument import default_instruments
from engine.core.listing import LISTING_DATE, LISTINGS, REFERENCE_DATE, listed, reference_price

SYMBOLS = list(LISTINGS)
ADDED = [s for s in SYMBOLS if s not in ("BTCUSDT", "ETHUSDT")]


def filters_of(info: dict) -> dict[str, dict]:
    return {f["filterType"]: f for f in info["filters"]}


def decimals_as_written(text: str) -> int:
    return max(0, -Decimal(text).as_tuple().exponent)  # type: ignore[operator]


def on_grid(value: str, step: str) -> bool:
    return Decimal(value) % Decimal(step) == 0


# -- the table ---------------------------------------------------------------------------
def test_the_table_lists_twelve_contracts_dated_and_btc_and_eth_first():
    assert SYMBOLS[:2] == ["BTCUSDT", "ETHUSDT"]
    assert len(SYMBOLS) == 12
    assert (LISTING_DATE, REFERENCE_DATE) == ("2024-03-31", "2024-01-01")
    assert all(row.reference_date == REFERENCE_DATE for row in LISTINGS.values())


def docstring_rows() -> list[list[str]]:
    """The rows of the table in the module docstring, split into their columns."""
    lines = (listing.__doc__ or "").split("The table", 1)[1].splitlines()
    rules = [n for n, line in enumerate(lines) if line.startswith("========")]
    return [line.split() for line in lines[rules[1] + 1:rules[2]]]


def test_the_docstring_table_says_what_the_table_holds():
    expected = [[
        r.symbol, r.tick_size, r.step_size, str(r.price_precision), str(r.quantity_precision),
        f"{r.min_price}–{r.max_price}", f"{r.min_qty}–{r.max_qty}", f"({r.market_max_qty})",
        r.min_notional, f"{Decimal(r.multiplier_up):.2f}/{Decimal(r.multiplier_down):.2f}",
        r.reference_price,
    ] for r in LISTINGS.values()]

    assert docstring_rows() == expected


def test_the_table_cannot_be_changed_in_place():
    with pytest.raises(TypeError):
        LISTINGS["PEPEUSDT"] = LISTINGS["BTCUSDT"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        LISTINGS["SOLUSDT"].min_notional = "1"  # type: ignore[misc]


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_a_listed_contract_serves_the_tables_figures_in_its_exchange_info(symbol):
    row = LISTINGS[symbol]

    (inst,) = listed([symbol])
    info = inst.symbol_info()

    f = filters_of(info)
    assert (info["symbol"], info["baseAsset"]) == (symbol, row.base_asset)
    assert (info["pricePrecision"], info["quantityPrecision"]) == (
        row.price_precision, row.quantity_precision)
    assert f["PRICE_FILTER"] == {"filterType": "PRICE_FILTER", "minPrice": row.min_price,
                                 "maxPrice": row.max_price, "tickSize": row.tick_size}
    assert f["LOT_SIZE"] == {"filterType": "LOT_SIZE", "minQty": row.min_qty,
                             "maxQty": row.max_qty, "stepSize": row.step_size}
    assert f["MARKET_LOT_SIZE"] == {"filterType": "MARKET_LOT_SIZE", "minQty": row.min_qty,
                                    "maxQty": row.market_max_qty, "stepSize": row.step_size}
    assert f["MIN_NOTIONAL"] == {"filterType": "MIN_NOTIONAL", "notional": row.min_notional}
    assert (f["PERCENT_PRICE"]["multiplierUp"], f["PERCENT_PRICE"]["multiplierDown"]) == (
        row.multiplier_up, row.multiplier_down)
    assert Decimal(info["liquidationFee"]) == Decimal(row.liquidation_fee)


@pytest.mark.parametrize(("symbol", "price_filter", "lot_size"), [
    # as Binance's exchangeInfo of 2024-03-28 writes them (trailing zeros included)
    ("SOLUSDT", ("0.4200", "6857", "0.0010"), ("1", "1000000", "1")),
    ("DOGEUSDT", ("0.002440", "30", "0.000010"), ("1", "50000000", "1")),
    ("ADAUSDT", ("0.01740", "20000", "0.00010"), ("1", "2000000", "1")),
    ("BNBUSDT", ("6.600", "100000", "0.010"), ("0.01", "100000", "0.01")),
    ("AVAXUSDT", ("0.3500", "2403", "0.0010"), ("1", "100000", "1")),
])
def test_tick_sizes_keep_binances_trailing_zeros_on_the_wire(symbol, price_filter, lot_size):
    f = filters_of(listed([symbol])[0].symbol_info())

    assert (f["PRICE_FILTER"]["minPrice"], f["PRICE_FILTER"]["maxPrice"],
            f["PRICE_FILTER"]["tickSize"]) == price_filter
    assert (f["LOT_SIZE"]["minQty"], f["LOT_SIZE"]["maxQty"],
            f["LOT_SIZE"]["stepSize"]) == lot_size


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_tick_divides_the_price_band_and_step_divides_every_quantity_limit(symbol):
    row = LISTINGS[symbol]

    assert on_grid(row.min_price, row.tick_size) and on_grid(row.max_price, row.tick_size)
    for qty in (row.min_qty, row.max_qty, row.market_max_qty):
        assert on_grid(qty, row.step_size), qty
    assert Decimal(row.min_price) < Decimal(row.max_price)
    assert Decimal(row.min_qty) <= Decimal(row.market_max_qty) <= Decimal(row.max_qty)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_precisions_are_the_decimals_of_tick_and_step_as_written(symbol):
    row = LISTINGS[symbol]

    assert row.price_precision == decimals_as_written(row.tick_size)
    assert row.quantity_precision == decimals_as_written(row.step_size)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_min_notional_is_reachable_anywhere_in_the_band_and_at_the_reference_price(symbol):
    row = LISTINGS[symbol]
    step, notional = Decimal(row.step_size), Decimal(row.min_notional)
    ref = Decimal(reference_price(symbol))

    lots = (notional / ref / step).to_integral_value(rounding=ROUND_CEILING)
    qty = max(lots * step, Decimal(row.min_qty))

    assert Decimal(row.min_price) * Decimal(row.max_qty) >= notional
    assert qty * ref >= notional
    assert qty <= Decimal(row.market_max_qty)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_the_reference_price_is_rounded_to_two_significant_figures(symbol):
    digits = Decimal(reference_price(symbol)).normalize().as_tuple().digits

    assert len(digits) <= 2


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_the_reference_price_lies_on_the_tick_grid_inside_the_price_band(symbol):
    row = LISTINGS[symbol]
    ref = reference_price(symbol)

    assert ref == row.reference_price
    assert on_grid(ref, row.tick_size)
    assert Decimal(row.min_price) <= Decimal(ref) <= Decimal(row.max_price)


# -- brackets ----------------------------------------------------------------------------
@pytest.mark.parametrize("symbol", SYMBOLS)
def test_bracket_caps_rise_leverage_never_rises_and_maintenance_never_falls(symbol):
    (inst,) = listed([symbol])
    b = inst.brackets

    assert [x.bracket for x in b] == list(range(1, len(b) + 1))
    assert b[0].floor_e8 == 0 and all(y.floor_e8 == x.cap_e8 for x, y in pairwise(b))
    assert all(x.cap_e8 < y.cap_e8 for x, y in pairwise(b))
    assert all(x.initial_leverage >= y.initial_leverage for x, y in pairwise(b))
    assert all(x.mmr_ppm <= y.mmr_ppm for x, y in pairwise(b))
    assert b[0].initial_leverage <= 125 and b[-1].initial_leverage == 1
    assert [(r[0], r[1]) for r in LISTINGS[symbol].brackets] == [
        (w["notionalCap"] if isinstance(w["notionalCap"], str) else str(w["notionalCap"]),
         w["initialLeverage"]) for w in (x.to_wire() for x in b)]


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_cum_is_what_binance_computes_so_maintenance_margin_is_continuous(symbol):
    rows = [x.to_wire() for x in listed([symbol])[0].brackets]

    for prev, row in pairwise(rows):
        floor = Decimal(row["notionalFloor"])
        mmr, prev_mmr = Decimal(row["maintMarginRatio"]), Decimal(prev["maintMarginRatio"])
        assert Decimal(row["cum"]) == Decimal(prev["cum"]) + floor * (mmr - prev_mmr)
        # at the cap between them, both brackets ask the same maintenance margin
        assert floor * prev_mmr - Decimal(prev["cum"]) == floor * mmr - Decimal(row["cum"])


#: the last bracket's ``cum`` as Binance published it on 2024-03-31 (freqtrade's cache)
PUBLISHED_LAST_CUM = {
    "BNBUSDT": 10016210, "SOLUSDT": 15684590, "XRPUSDT": 10223045, "DOGEUSDT": 5663915,
    "ADAUSDT": 9933045, "AVAXUSDT": 5732080, "LINKUSDT": 9933045, "LTCUSDT": 10223045,
    "DOTUSDT": 8915535, "TRXUSDT": 6505285,
}


#: each bracket's ``initialLeverage`` as Binance published them on 2024-03-31
PUBLISHED_LEVERAGES = {
    "BNBUSDT": (75, 50, 40, 25, 10, 5, 4, 3, 2, 1),
    "SOLUSDT": (100, 75, 50, 40, 25, 20, 10, 5, 4, 2, 1),
    "XRPUSDT": (75, 50, 40, 25, 10, 5, 4, 3, 2, 1),
    "DOGEUSDT": (75, 50, 40, 25, 20, 10, 5, 4, 2, 1),
    "ADAUSDT": (75, 50, 40, 25, 10, 5, 4, 3, 2, 1),
    "AVAXUSDT": (75, 50, 40, 25, 20, 10, 5, 4, 2, 1),
    "LINKUSDT": (75, 50, 40, 25, 10, 5, 4, 3, 2, 1),
    "LTCUSDT": (75, 50, 40, 25, 10, 5, 4, 3, 2, 1),
    "DOTUSDT": (75, 50, 25, 10, 5, 4, 3, 2, 1),
    "TRXUSDT": (75, 50, 20, 10, 5, 4, 3, 2, 1),
}


@pytest.mark.parametrize("symbol", ADDED)
def test_the_brackets_are_binances_published_ones(symbol):
    brackets = listed([symbol])[0].brackets

    assert tuple(b.initial_leverage for b in brackets) == PUBLISHED_LEVERAGES[symbol]
    assert brackets[-1].cum_e8 == PUBLISHED_LAST_CUM[symbol] * 10**8


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_maintenance_margin_at_each_cap_is_the_same_from_either_bracket(symbol):
    (inst,) = listed([symbol])

    for x, y in pairwise(inst.brackets):
        cap = x.cap_e8
        below = -(-cap * x.mmr_ppm // 1_000_000) - x.cum_e8
        assert inst.maint_margin_e8(cap) == below  # priced by the next bracket, y
        assert inst.bracket_for(cap) is y


# -- BTCUSDT and ETHUSDT: SPEC 3's defaults ---------------------------------------------
def test_btc_and_eth_are_built_exactly_as_the_default_instruments():
    defaults = default_instruments()

    built = listed(["BTCUSDT", "ETHUSDT"])

    assert [i._state() for i in built] == [i._state() for i in defaults]
    assert [i.symbol_info() for i in built] == [i.symbol_info() for i in defaults]


def test_overrides_reach_the_listed_instruments_as_they_reach_the_defaults():
    built = listed(["BTCUSDT", "ETHUSDT"], max_num_orders=10**6, maker_rate="0")

    assert [i._state() for i in built] == [
        i._state() for i in default_instruments(max_num_orders=10**6, maker_rate="0")]


def test_a_venue_of_the_listed_btc_and_eth_hashes_as_the_default_venue():
    assert Exchange(listed(["BTCUSDT", "ETHUSDT"])).state_hash() == Exchange().state_hash()


def test_the_reference_prices_of_btc_and_eth_are_the_serve_feeds_start_prices():
    pytest.importorskip("numpy")
    from engine.backtest.sample import START_PRICES

    assert {s: Decimal(reference_price(s)) for s in START_PRICES} == {
        s: Decimal(p) for s, p in START_PRICES.items()}


# -- asking for symbols ------------------------------------------------------------------
def test_listed_keeps_the_order_asked_and_builds_fresh_instruments():
    first = listed(["TRXUSDT", "BTCUSDT", "DOGEUSDT"])
    again = listed(["TRXUSDT", "BTCUSDT", "DOGEUSDT"])

    assert [i.symbol for i in first] == ["TRXUSDT", "BTCUSDT", "DOGEUSDT"]
    assert all(a is not b and a._state() == b._state() for a, b in zip(first, again, strict=True))
    assert listed([]) == []


def test_an_unknown_symbol_is_refused_naming_every_listed_one():
    with pytest.raises(ValueError) as refused:
        listed(["SOLUSDT", "solusdt"])
    with pytest.raises(ValueError) as refused_price:
        reference_price("PEPEUSDT")

    for err, bad in ((refused, "'solusdt'"), (refused_price, "'PEPEUSDT'")):
        assert bad in str(err.value)
        assert all(symbol in str(err.value) for symbol in SYMBOLS)


def test_a_symbol_asked_twice_or_a_bare_string_is_refused():
    with pytest.raises(ValueError, match="'SOLUSDT' given twice"):
        listed(["SOLUSDT", "BTCUSDT", "SOLUSDT"])
    with pytest.raises(TypeError, match="not the string 'BTCUSDT'"):
        listed("BTCUSDT")


# -- a venue listing all twelve ----------------------------------------------------------
@pytest.fixture
def ex():
    venue = Exchange(listed(SYMBOLS))
    venue.create_account("alice", balance="100000")
    return venue


def test_a_venue_of_all_twelve_serves_their_info_and_brackets(ex, alice):
    info = alice.exchange_info()
    brackets = {row["symbol"]: row["brackets"] for row in alice.leverage_brackets()}

    assert [s["symbol"] for s in info["symbols"]] == sorted(SYMBOLS)
    by_symbol = {s["symbol"]: s for s in info["symbols"]}
    for symbol, row in LISTINGS.items():
        assert filters_of(by_symbol[symbol])["PRICE_FILTER"]["tickSize"] == row.tick_size
        assert [(Decimal(w["notionalCap"]), w["initialLeverage"],
                 Decimal(w["maintMarginRatio"])) for w in brackets[symbol]] == [
            (Decimal(cap), lev, Decimal(mmr)) for cap, lev, mmr in row.brackets]


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_a_venue_of_all_twelve_takes_and_cancels_a_min_notional_order_on_each(ex, alice,
                                                                              symbol):
    row = LISTINGS[symbol]
    tick, step = Decimal(row.tick_size), Decimal(row.step_size)
    ex.set_mark_price(symbol, reference_price(symbol))
    price = (Decimal(reference_price(symbol)) * Decimal("0.99") / tick).to_integral_value(
        rounding=ROUND_FLOOR) * tick
    lots = (Decimal(row.min_notional) / price / step).to_integral_value(rounding=ROUND_CEILING)
    qty = max(lots * step, Decimal(row.min_qty))

    placed = alice.new_order(symbol=symbol, side="BUY", type="LIMIT", timeInForce="GTC",
                             quantity=str(qty), price=str(price))
    ex.check_invariants()
    canceled = alice.cancel_order(symbol=symbol, orderId=placed["orderId"])

    assert placed["status"] == "NEW"
    assert (Decimal(placed["price"]), Decimal(placed["origQty"])) == (price, qty)
    assert canceled["status"] == "CANCELED"
    assert alice.get_orders(symbol=symbol) == []  # GET /fapi/v1/openOrders
    ex.check_invariants()


def test_an_order_below_a_listed_min_notional_is_refused_and_changes_nothing(ex, alice):
    ex.set_mark_price("LINKUSDT", "15")
    before = ex.state_hash()

    with pytest.raises(ClientError) as refused:  # 1.33 × 15 = 19.95 < LINKUSDT's 20
        alice.new_order(symbol="LINKUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                        quantity="1.33", price="15")

    assert refused.value.error_code == -4164
    assert ex.state_hash() == before


def test_a_venue_of_all_twelve_restores_from_its_snapshot_with_the_same_hash(ex, alice):
    for symbol in ("DOGEUSDT", "ADAUSDT", "SOLUSDT"):
        ex.set_mark_price(symbol, reference_price(symbol))
    alice.new_order(symbol="DOGEUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="100", price="0.0891")

    restored = Exchange.restore(ex.snapshot())

    assert restored.state_hash() == ex.state_hash()
    assert [i.symbol_info() for i in restored.instruments.values()] == [
        i.symbol_info() for i in ex.instruments.values()]
    restored.check_invariants()
