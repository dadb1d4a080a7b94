"""``engine.backtest.data``: Binance market-data files in, integer streams out, merged in order.

Every format is read from small files written into ``tmp_path`` (with and without a
header, plain and zipped) and checked value by value against hand-computed integers.
Malformed rows must stop the load naming the file, the line and the reason.  Two
reference models back the property tests: the plain row-by-row parser for the
vectorised fast path (same streams, or the same error, on fuzzed files), and Python's
``sorted`` on ``(time, priority, stream, row)`` tuples for :func:`merge`.
"""

from __future__ import annotations

import zipfile
from unittest import mock

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy")

from engine.backtest import data as D  # noqa: E402
from engine.backtest.data import (  # noqa: E402
    DataError,
    FileKind,
    Kind,
    Stream,
    infer,
    load,
    load_file,
    merge,
)
from engine.backtest.synthetic import agg_trades_csv, random_walk_trades  # noqa: E402
from engine.core.instrument import default_instruments  # noqa: E402

BTC, ETH = default_instruments()
T0 = 1704067200000

AGG_HEADER = ("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
              "is_buyer_maker")
AGG_ROWS = [
    f"26129,30000.10,0.010,34001,34001,{T0},true",
    f"26130,30000.00,1.500,34002,34004,{T0},false",
    f"26131,29999.90,0.001,34005,34005,{T0 + 7},true",
]
KLINE_HEADER = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
                "taker_buy_volume,taker_buy_quote_volume,ignore")
KLINE_ROWS = [
    f"{T0},42283.00,42290.50,42270.10,42288.40,12.345,{T0 + 59999},521978.27210,311,"
    "6.100,257947.40410,0",
    f"{T0 + 60000},42288.40,42300.00,42288.40,42299.90,3.001,{T0 + 119999},126925.31600,"
    "97,1.000,42299.90000,0",
]
MARK_ROWS = [
    f"{T0},42283.00,42290.50,42270.10,42288.40,0,{T0 + 59999},0,60,0,0,0",
    f"{T0 + 60000},42288.40,42300.00,42288.40,42299.90,0,{T0 + 119999},0,60,0,0,0",
]
BOOK_HEADER = ("update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,"
               "transaction_time,event_time")
BOOK_ROWS = [
    f"3787264581,2280.45,12.317,2280.46,0.500,{T0 + 3},{T0 + 5}",
    f"3787264590,2280.44,1.000,2280.46,7.200,{T0 + 3},{T0 + 6}",
]
FUNDING_HEADER = "calc_time,funding_interval_hours,last_funding_rate"
FUNDING_ROWS = [f"{T0},8,0.00037409", f"{T0 + 28800000},8,-0.00001200", f"{T0 + 57600000},8,0"]


def write(path, header, rows, *, zipped=False):
    """Write rows (and the header unless None) as Binance does: LF, a final newline."""
    text = "".join(f"{line}\n" for line in ([header] if header else []) + rows).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    if zipped:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(path.name.replace(".zip", ".csv"), text)
    else:
        path.write_bytes(text)
    return path


def expect_error(path, line, reason, **kwargs):
    """Load ``path``; it must fail at ``line`` for ``reason``, naming the file."""
    with pytest.raises(DataError) as info:
        load_file(path, [BTC, ETH], **kwargs)
    err = info.value
    assert (err.line, err.reason) == (line, reason)
    assert err.file.startswith(str(path)) and str(err).startswith(err.file)
    assert f"line {line}: {reason}" in str(err)
    return err


# -- every format, exact values -----------------------------------------------------
@pytest.mark.parametrize("header", [AGG_HEADER, None], ids=["header", "no-header"])
@pytest.mark.parametrize("zipped", [False, True], ids=["csv", "zip"])
def test_agg_trades_read_as_exact_ticks_lots_and_sides_with_or_without_header_or_zip(
    tmp_path, header, zipped,
):
    name = "BTCUSDT-aggTrades-2024-01-01." + ("zip" if zipped else "csv")
    path = write(tmp_path / name, header, AGG_ROWS, zipped=zipped)

    s = load_file(path, [BTC, ETH])

    s._check()
    assert (s.symbol, s.kind) == ("BTCUSDT", Kind.TRADE)
    assert s.time.tolist() == [T0, T0, T0 + 7]
    assert s.price.tolist() == [300001, 300000, 299999]
    assert s.qty.tolist() == [10, 1500, 1]
    assert s.buyer_maker.tolist() == [True, False, True]
    assert s.time.dtype == np.int64 and s.buyer_maker.dtype == np.bool_


def test_trades_file_becomes_a_trade_stream_at_the_trade_time(tmp_path):
    path = write(tmp_path / "ETHUSDT-trades-2024-01-01.csv", "id,price,qty,quote_qty,time,"
                 "is_buyer_maker", [f"1,2280.45,0.500,1140.22500,{T0},False",
                                    f"2,2280.46,1.000,2280.46000,{T0 + 1},TRUE"])

    s = load_file(path, ETH)

    assert (s.symbol, s.kind) == ("ETHUSDT", Kind.TRADE)
    assert (s.time.tolist(), s.price.tolist(), s.qty.tolist()) == (
        [T0, T0 + 1], [228045, 228046], [500, 1000])
    assert s.buyer_maker.tolist() == [False, True]


@pytest.mark.parametrize("header", [KLINE_HEADER, None], ids=["header", "no-header"])
def test_klines_become_one_kline_event_per_bar_at_its_close_time(tmp_path, header):
    path = write(tmp_path / "BTCUSDT-1m-2024-01-01.zip", header, KLINE_ROWS, zipped=True)

    s = load_file(path, {"BTCUSDT": BTC})

    s._check()
    assert s.kind == Kind.KLINE
    assert s.time.tolist() == [T0 + 59999, T0 + 119999]
    assert [s.open.tolist(), s.high.tolist(), s.low.tolist(), s.close.tolist()] == [
        [422830, 422884], [422905, 423000], [422701, 422884], [422884, 422999]]
    assert s.volume.tolist() == [12345, 3001]


def test_mark_price_klines_become_one_mark_per_bar_at_its_close_time(tmp_path):
    path = write(tmp_path / "BTCUSDT-markPriceKlines-1m-2024-01-01.csv", KLINE_HEADER,
                 MARK_ROWS)

    s = load_file(path, BTC)

    s._check()
    assert (s.kind, s.time.tolist(), s.price.tolist()) == (
        Kind.MARK, [T0 + 59999, T0 + 119999], [422884, 422999])


def test_mark_off_the_tick_grid_is_an_error_unless_round_mark_rounds_it_half_even(tmp_path):
    rows = [f"{T0},1,1,1,42288.45000000,0,{T0 + 59999},0,60,0,0,0",
            f"{T0 + 60000},1,1,1,42288.35000000,0,{T0 + 119999},0,60,0,0,0",
            f"{T0 + 120000},1,1,1,42288.35000001,0,{T0 + 179999},0,60,0,0,0"]
    path = write(tmp_path / "BTCUSDT-markPriceKlines-1m-2024-01-01.csv", None, rows)

    expect_error(path, 1, "close '42288.45000000' is off the tick grid (tickSize 0.10); "
                 "load with round_mark=True to round marks")
    s = load_file(path, BTC, round_mark=True)

    assert s.price.tolist() == [422884, 422884, 422884]  # .45 → .4 (even), .35 → .4


@pytest.mark.parametrize("header", [BOOK_HEADER, None], ids=["header", "no-header"])
def test_book_ticker_becomes_quotes_at_the_transaction_time(tmp_path, header):
    path = write(tmp_path / "ETHUSDT-bookTicker-2024-01-01.zip", header, BOOK_ROWS,
                 zipped=True)

    s = load_file(path, [BTC, ETH])

    s._check()
    assert (s.kind, s.time.tolist()) == (Kind.QUOTE, [T0 + 3, T0 + 3])
    assert (s.bid.tolist(), s.bid_qty.tolist()) == ([228045, 228044], [12317, 1000])
    assert (s.ask.tolist(), s.ask_qty.tolist()) == ([228046, 228046], [500, 7200])


@pytest.mark.parametrize("header", [FUNDING_HEADER, None], ids=["header", "no-header"])
def test_funding_rates_read_exactly_in_units_of_1e_8_with_their_sign(tmp_path, header):
    path = write(tmp_path / "BTCUSDT-fundingRate-2024-01.csv", header, FUNDING_ROWS)

    s = load_file(path, BTC)

    s._check()
    assert s.kind == Kind.FUNDING
    assert s.time.tolist() == [T0, T0 + 28800000, T0 + 57600000]
    assert s.rate_e8.tolist() == [37409, -1200, 0]


@pytest.mark.parametrize(("name", "symbol", "kind", "interval"), [
    ("BTCUSDT-aggTrades-2024-01-01.zip", "BTCUSDT", FileKind.AGG_TRADES, ""),
    ("BTCUSDT-trades-2024-01.zip", "BTCUSDT", FileKind.TRADES, ""),
    ("BTCUSDT-1m-2024-01-01.csv", "BTCUSDT", FileKind.KLINES, "1m"),
    ("ETHUSDT-4h-2024-01.zip", "ETHUSDT", FileKind.KLINES, "4h"),
    ("BTCUSDT-markPriceKlines-1m-2024-01-01.zip", "BTCUSDT", FileKind.MARK_PRICE_KLINES, "1m"),
    ("1000PEPEUSDT-bookTicker-2024-01-01.zip", "1000PEPEUSDT", FileKind.BOOK_TICKER, ""),
    ("BTCUSDT-fundingRate-2024-01.csv", "BTCUSDT", FileKind.FUNDING_RATE, ""),
])
def test_symbol_kind_and_interval_are_inferred_from_binance_file_names(
    name, symbol, kind, interval,
):
    assert infer(name) == (symbol, kind, interval)


def test_an_explicit_kind_and_symbol_read_a_file_whose_name_says_nothing(tmp_path):
    path = write(tmp_path / "rates.csv", None, FUNDING_ROWS)

    with pytest.raises(DataError, match="cannot tell symbol and file kind from the name"):
        load_file(path, BTC)
    s = load_file(path, [BTC, ETH], kind="fundingRate", symbol="ETHUSDT")

    assert (s.symbol, s.rate_e8.tolist()) == ("ETHUSDT", [37409, -1200, 0])


def test_a_symbol_without_an_instrument_is_a_data_error(tmp_path):
    path = write(tmp_path / "SOLUSDT-aggTrades-2024-01-01.csv", None, AGG_ROWS)

    with pytest.raises(DataError, match=r"no instrument for symbol 'SOLUSDT' \(known: "
                       r"BTCUSDT, ETHUSDT\)"):
        load_file(path, [BTC, ETH])


def test_crlf_line_ends_a_byte_order_mark_and_trailing_blank_lines_are_read(tmp_path):
    path = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([AGG_HEADER, *AGG_ROWS]).encode() + b"\r\n\n")

    s = load_file(path, BTC)

    assert s.price.tolist() == [300001, 300000, 299999]


def test_a_zip_holding_two_csv_files_is_refused(tmp_path):
    path = tmp_path / "BTCUSDT-aggTrades-2024-01-01.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.csv", "\n".join(AGG_ROWS))
        z.writestr("b.csv", "\n".join(AGG_ROWS))

    with pytest.raises(DataError, match="the zip holds 2 csv files, expected one"):
        load_file(path, BTC)


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    """Real rows, then 20 MB of newlines: the member declares 20 MB from ~20 KB."""
    path = tmp_path / "BTCUSDT-aggTrades-2024-01-01.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("BTCUSDT-aggTrades-2024-01-01.csv",
                   "\n".join(AGG_ROWS) + "\n" * 20_000_000)
    with mock.patch.object(zipfile.ZipFile, "read", side_effect=AssertionError("inflated")):
        with pytest.raises(DataError, match=r"aggTrades-2024-01-01.csv: it inflates to "
                                            r"\d+ bytes from \d+, more than 50 times"):
            load_file(path, BTC)
    # an ordinary zipped file is read
    plain = tmp_path / "ok" / "BTCUSDT-aggTrades-2024-01-01.zip"
    plain.parent.mkdir()
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("BTCUSDT-aggTrades-2024-01-01.csv", "\n".join(AGG_ROWS) + "\n")
    assert len(load_file(plain, BTC)) == len(AGG_ROWS)


# -- malformed files: file, line, reason -----------------------------------------------
def _agg_with(bad_row):
    return [AGG_ROWS[0], AGG_ROWS[1], bad_row, AGG_ROWS[2].replace(f"{T0 + 7}", f"{T0 + 9}")]


@pytest.mark.parametrize(("bad_row", "reason"), [
    (f"9,3O000.10,0.010,1,1,{T0 + 8},true", "price '3O000.10' is not a non-negative decimal"),
    (f"9,,0.010,1,1,{T0 + 8},true", "price '' is not a non-negative decimal"),
    (f"9,-30000.10,0.010,1,1,{T0 + 8},true", "price '-30000.10' is not a non-negative decimal"),
    (f"9,30000.1e0,0.010,1,1,{T0 + 8},true", "price '30000.1e0' is not a non-negative decimal"),
    (f"9,30000.05,0.010,1,1,{T0 + 8},true",
     "price '30000.05' is off the tick grid (tickSize 0.10)"),
    (f"9,30000.10,0.0105,1,1,{T0 + 8},true",
     "quantity '0.0105' is off the step grid (stepSize 0.001)"),
    (f"9,30000.10,0.010,1,1,{T0 + 8}", "wrong field count: 6 fields, expected 7"),
    (f"9,30000.10,0.010,1,1,{T0 + 8},true,", "wrong field count: 8 fields, expected 7"),
    (f"9,30000.10,0.010,1.0,1,{T0 + 8},true", "first_trade_id '1.0' is not a non-negative "
     "integer"),
    (f"9,30000.10,0.010,1,1,{T0 + 8},yes", "is_buyer_maker 'yes' is not true or false"),
    (f"9,30000.10,0.010,1,1,{T0 - 1},true",
     f"transact_time {T0 - 1} is before the previous row's {T0}"),
    (f"9,30000.10,0.010,1,99999999999999999999,{T0 + 8},true",
     "last_trade_id '99999999999999999999' is out of range"),
    (f"9,30000.10,0.010,1,1, {T0 + 8},true", f"transact_time ' {T0 + 8}' is not a "
     "non-negative integer"),
])
@pytest.mark.parametrize("header", [AGG_HEADER, None], ids=["header", "no-header"])
def test_a_malformed_agg_trade_row_stops_the_load_naming_file_line_and_reason(
    tmp_path, bad_row, reason, header,
):
    path = write(tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv", header, _agg_with(bad_row))

    expect_error(path, 4 if header else 3, reason)


def test_an_error_inside_a_zip_names_the_archive_and_its_member(tmp_path):
    path = write(tmp_path / "BTCUSDT-aggTrades-2024-01-01.zip", AGG_HEADER,
                 _agg_with(f"9,30000.05,0.010,1,1,{T0 + 8},true"), zipped=True)

    err = expect_error(path, 4, "price '30000.05' is off the tick grid (tickSize 0.10)")

    assert err.file == f"{path}/BTCUSDT-aggTrades-2024-01-01.csv"


def test_the_first_bad_line_is_reported_when_several_are_bad(tmp_path):
    rows = [AGG_ROWS[0], f"9,30000.10,0.010,1,1,{T0 - 5},true", "9,x,0.010,1,1,1,true"]
    path = write(tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv", None, rows)

    expect_error(path, 2, f"transact_time {T0 - 5} is before the previous row's {T0}")


@pytest.mark.parametrize(("content", "line"), [(b"", 1), (b"\n\n", 1),
                                               (AGG_HEADER.encode() + b"\n", 2)])
def test_an_empty_file_is_an_error(tmp_path, content, line):
    path = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    path.write_bytes(content)

    expect_error(path, line, "empty file: no data rows")


def test_a_header_with_the_wrong_field_count_is_an_error_on_line_1(tmp_path):
    path = write(tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv", "id,price,qty", AGG_ROWS)

    expect_error(path, 1, "header has 3 fields, expected 7")


@pytest.mark.parametrize(("row", "reason"), [
    (f"{T0 + 1},8,0.000374091", "last_funding_rate '0.000374091' has more than 8 decimals"),
    (f"{T0 + 1},8,--0.0001", "last_funding_rate '--0.0001' is not a decimal"),
    (f"{T0 + 1},8,1.5E-4", "last_funding_rate '1.5E-4' is not a decimal"),
])
def test_a_malformed_funding_rate_stops_the_load(tmp_path, row, reason):
    path = write(tmp_path / "BTCUSDT-fundingRate-2024-01.csv", FUNDING_HEADER,
                 [FUNDING_ROWS[0], row])

    expect_error(path, 3, reason)


def test_a_rate_with_trailing_zeros_beyond_8_decimals_is_still_exact(tmp_path):
    path = write(tmp_path / "BTCUSDT-fundingRate-2024-01.csv", None, [f"{T0},8,0.0001000000"])

    assert load_file(path, BTC).rate_e8.tolist() == [10000]


def test_an_off_grid_book_ticker_price_names_its_column(tmp_path):
    path = write(tmp_path / "ETHUSDT-bookTicker-2024-01-01.csv", BOOK_HEADER,
                 [BOOK_ROWS[0], f"1,2280.445,1.000,2280.46,7.200,{T0 + 4},{T0 + 6}"])

    expect_error(path, 3, "best_bid_price '2280.445' is off the tick grid (tickSize 0.01)")


# -- load: directories, series, order -----------------------------------------------
def test_load_concatenates_the_days_of_a_series_in_name_order(tmp_path):
    day2 = [r.replace(str(T0), str(T0 + 86400000)) for r in AGG_ROWS[:2]] + [
        AGG_ROWS[2].replace(str(T0 + 7), str(T0 + 86400007))]
    write(tmp_path / "btc" / "BTCUSDT-aggTrades-2024-01-02.zip", None, day2, zipped=True)
    write(tmp_path / "btc" / "BTCUSDT-aggTrades-2024-01-01.zip", AGG_HEADER, AGG_ROWS,
          zipped=True)
    (tmp_path / "btc" / "BTCUSDT-aggTrades-2024-01-01.zip.CHECKSUM").write_text("x\n")
    write(tmp_path / "eth" / "ETHUSDT-bookTicker-2024-01-01.csv", BOOK_HEADER, BOOK_ROWS)
    write(tmp_path / "BTCUSDT-fundingRate-2024-01.csv", FUNDING_HEADER, FUNDING_ROWS)

    streams = load(tmp_path, [BTC, ETH])

    assert [(s.symbol, s.kind) for s in streams] == [
        ("BTCUSDT", Kind.FUNDING), ("BTCUSDT", Kind.TRADE), ("ETHUSDT", Kind.QUOTE)]
    trades = streams[1]
    trades._check()
    assert trades.time.tolist() == [T0, T0, T0 + 7, T0 + 86400000, T0 + 86400000,
                                    T0 + 86400007]
    assert [f.rsplit("/", 1)[-1] for f in trades.files] == [
        "BTCUSDT-aggTrades-2024-01-01.csv", "BTCUSDT-aggTrades-2024-01-02.csv"]


def test_a_series_file_starting_before_the_previous_one_ends_is_an_error(tmp_path):
    a = write(tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv", AGG_HEADER, AGG_ROWS)
    b = write(tmp_path / "BTCUSDT-aggTrades-2024-01-02.csv", AGG_HEADER, AGG_ROWS[2:])
    c = write(tmp_path / "BTCUSDT-aggTrades-2024-01-03.csv", AGG_HEADER, AGG_ROWS[:1])

    with pytest.raises(DataError) as info:
        load([a, tmp_path], BTC)  # a listed twice is read once

    assert (info.value.file, info.value.line) == (str(c), 2)
    assert info.value.reason == f"time {T0} is before the end of {b} ({T0 + 7})"


# -- merge -------------------------------------------------------------------------------
def _stream(symbol, kind, times):
    n = len(times)
    cols = {c: (np.zeros(n, dtype=bool) if c == "buyer_maker" else np.arange(n, dtype=np.int64))
            for c in D.COLUMNS[kind]}
    return Stream(symbol, kind, np.array(times, dtype=np.int64), cols)


def test_merge_orders_equal_times_funding_mark_quote_trade_kline_then_list_position():
    streams = [
        _stream("ETHUSDT", Kind.TRADE, [10, 20]), _stream("BTCUSDT", Kind.KLINE, [10]),
        _stream("BTCUSDT", Kind.TRADE, [10, 10]), _stream("BTCUSDT", Kind.QUOTE, [10, 30]),
        _stream("ETHUSDT", Kind.MARK, [20]), _stream("BTCUSDT", Kind.FUNDING, [10]),
    ]

    timeline = merge(streams)

    timeline._check()
    assert list(timeline) == [
        (10, 5, 0),  # funding
        (10, 3, 0),  # quote
        (10, 0, 0), (10, 2, 0), (10, 2, 1),  # trades: ETH's stream is listed first
        (10, 1, 0),  # kline
        (20, 4, 0), (20, 0, 1),  # mark before trade
        (30, 3, 1),
    ]


def test_merge_of_no_events_is_an_empty_timeline():
    assert len(merge([])) == 0 and len(merge([_stream("BTCUSDT", Kind.MARK, [])])) == 0


@given(st.lists(st.tuples(st.sampled_from(list(Kind)),
                          st.lists(st.integers(-3, 6), max_size=8)), max_size=6),
       st.booleans())
@settings(max_examples=200, deadline=None)
def test_merge_agrees_with_sorting_event_tuples(specs, huge_times):
    # Small or negative times take the single-key sort; near-int64 times take lexsort.
    base = 2**62 if huge_times else 0
    streams = [_stream("BTCUSDT", kind, sorted(base + t for t in ts)) for kind, ts in specs]
    note(repr(streams))

    timeline = merge(streams)

    timeline._check()
    expected = sorted((int(t), D.PRIORITY[s.kind], k, r)
                      for k, s in enumerate(streams) for r, t in enumerate(s.time))
    assert list(timeline) == [(t, k, r) for t, _p, k, r in expected]


# -- the fast path against the reference parser ----------------------------------------
def _fmt(mantissa, decimals):
    """``mantissa × 10^-decimals`` written with exactly ``decimals`` decimals."""
    sign, m = ("-" if mantissa < 0 else ""), abs(mantissa)
    if decimals == 0:
        return f"{sign}{m}"
    return f"{sign}{m // 10**decimals}.{m % 10**decimals:0{decimals}d}"


def _field_values(col):
    """Mostly valid values of a column on BTCUSDT's grid, sometimes off it."""
    if col.conv == "bool":
        return st.sampled_from(["true", "false", "True", "FALSE"])
    if col.conv in ("int", "skip"):
        return st.integers(0, 10**15).map(str)
    exp, unit, _why = D._grid(col.conv, BTC)
    low = -(10**9) if col.conv == "rate" else 0
    on_grid = st.builds(lambda m, z: _fmt(m * unit * 10**z, exp + z),
                        st.integers(low, 10**9), st.integers(0, 3))
    anything = st.builds(_fmt, st.integers(low, 10**14), st.integers(0, 10))
    return st.one_of(*[on_grid] * 6, anything)


JUNK = st.text("0123456789.-,+eE x\rtrueFALS", max_size=6)


@given(st.sampled_from(sorted(D._LAYOUTS)), st.data(), st.booleans())
@settings(max_examples=400, deadline=None)
def test_fast_path_reads_exactly_what_the_reference_parser_reads(kind, data, round_mark):
    cols = D._LAYOUTS[kind][1]
    t = [i for i, c in enumerate(cols) if c.out == "time"][0]
    n = data.draw(st.integers(1, 6))
    rows = [[data.draw(_field_values(c)) for c in cols] for _ in range(n)]
    for i, row in enumerate(rows):
        row[t] = str(T0 + i)
    for _ in range(data.draw(st.integers(0, 2))):  # a few corruptions, anywhere
        row = data.draw(st.sampled_from(rows))
        j = data.draw(st.integers(0, len(cols) - 1))
        row[j] = data.draw(st.one_of(JUNK, st.just(str(T0 - 1)), st.just(row[j] + "0")))
    text = "".join(",".join(r) + "\n" for r in rows).encode()
    note(text.decode())

    def outcome():
        try:
            s, _line = D._parse(text, kind, BTC, "f.csv", None, round_mark)
            return {k: v.tolist() for k, v in (("time", s.time), *s.columns.items())}
        except DataError as e:
            return str(e)

    with mock.patch.object(D, "_BLOCK", data.draw(st.sampled_from([1, 2, 3, 1 << 17]))):
        fast = outcome()  # small blocks cross block boundaries within a few rows
    with mock.patch.object(D, "_parse_fast", lambda *args: None):
        reference = outcome()
    assert fast == reference


@pytest.mark.parametrize("block", [1 << 17, 4096, 7])
def test_fast_and_reference_parsers_agree_on_a_synthetic_day(block):
    s = random_walk_trades(20000, 420000, seed=11)
    body = agg_trades_csv(s, BTC, header=False)
    cols = D._LAYOUTS[FileKind.AGG_TRADES][1]

    with mock.patch.object(D, "_BLOCK", block):
        fast = D._parse_rows(body, cols, BTC, False, "f.csv", 1)
    with mock.patch.object(D, "_parse_fast", lambda *args: None):
        reference = D._parse_rows(body, cols, BTC, False, "f.csv", 1)

    assert {k: v.tolist() for k, v in fast.items()} == {
        k: v.tolist() for k, v in reference.items()}
    assert fast["price"].tolist() == s.price.tolist() and fast["qty"].tolist() == s.qty.tolist()


def test_a_bad_row_late_in_a_big_file_costs_one_slow_block(tmp_path):
    s = random_walk_trades(300000, 420000, seed=5)
    text = agg_trades_csv(s, BTC, header=False).split(b"\n")
    text[299990] = text[299990].replace(b",", b",x", 1)
    path = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    path.write_bytes(b"\n".join(text))
    calls = []
    slow = D._parse_slow

    def spy(data, *args):
        calls.append(data.count(b"\n"))
        return slow(data, *args)

    with mock.patch.object(D, "_parse_slow", spy):
        err = expect_error(path, 299991, f"price 'x{text[299990].split(b',')[1][1:].decode()}' "
                           "is not a non-negative decimal")

    assert err.line == 299991 and calls == [300000 - 2 * D._BLOCK]


def test_synthetic_trades_round_trip_through_an_agg_trades_zip(tmp_path):
    s = random_walk_trades(5000, 3, seed=3, symbol="ETHUSDT", max_step_ticks=5)
    path = tmp_path / "ETHUSDT-aggTrades-2024-01-01.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ETHUSDT-aggTrades-2024-01-01.csv", agg_trades_csv(s, ETH, header=False))

    back = load_file(path, ETH)

    s._check()
    back._check()
    for name in ("time", "price", "qty", "buyer_maker"):
        assert getattr(back, name).tolist() == getattr(s, name).tolist(), name
    assert int(s.price.min()) >= 1
