"""Write small, realistic Binance USDⓈ-M market-data files from a seeded random walk.

    python scripts/make_sample_data.py OUTDIR --symbol BTCUSDT --days 1 --seed 7

Files land in data.binance.vision's layout under OUTDIR, in Binance's exact csv formats
(see ``engine.backtest.data``), one zip holding one csv each:

* ``futures/um/daily/aggTrades/SYM/SYM-aggTrades-DAY.zip`` — with a header row on the
  first, third, … day and without on the others, as older files have none
  (``--header all|none`` to choose);
* ``futures/um/daily/bookTicker/SYM/SYM-bookTicker-DAY.zip`` — the touch just before
  every trade, the trade at the bid (a sell) or the ask (a buy);
* ``futures/um/daily/klines/SYM/1m/SYM-1m-DAY.zip`` — 1-minute bars of those trades;
* ``futures/um/daily/markPriceKlines/SYM/1m/SYM-markPriceKlines-1m-DAY.zip`` — the mark
  a tick or two around the last price, on the tick grid;
* ``futures/um/monthly/fundingRate/SYM/SYM-fundingRate-MONTH.zip`` — a rate every 8 h.

Everything comes from ``random.Random(seed)`` and integer arithmetic: the same arguments
give byte-identical files.  The files are read back at the end as a check.
"""

from __future__ import annotations

import argparse
import random
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from engine.backtest.data import load
from engine.backtest.synthetic import fixed_str
from engine.core.instrument import Instrument, default_instruments

DAY_MS = 86_400_000
MINUTE_MS = 60_000
FUNDING_MS = 8 * 3_600_000
AGG_HEADER = ("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
              "is_buyer_maker")
BOOK_HEADER = ("update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,"
               "transaction_time,event_time")
KLINE_HEADER = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
                "taker_buy_volume,taker_buy_quote_volume,ignore")
FUNDING_HEADER = "calc_time,funding_interval_hours,last_funding_rate"


class Trade(NamedTuple):
    """One aggregated trade: ids, time (ms), price (ticks), quantity (lots), side."""

    agg_id: int
    first_id: int
    last_id: int
    time: int
    price: int
    lots: int
    buyer_maker: bool


class Writer:
    """Formats one instrument's integers the way Binance's files do."""

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self.p_dec = max(inst.price_precision, inst.price_exp)
        self.q_dec = max(inst.quantity_precision, inst.qty_exp)

    def price(self, ticks: int) -> str:
        return fixed_str(ticks * self.inst.tick_m, self.inst.price_exp, self.p_dec)

    def qty(self, lots: int) -> str:
        return fixed_str(lots * self.inst.step_m, self.inst.qty_exp, self.q_dec)

    def quote(self, ticks_x_lots: int) -> str:
        """A notional, Σ price × qty, from ticks × lots (exact, 5+ decimals)."""
        exp = self.inst.price_exp + self.inst.qty_exp
        units = ticks_x_lots * self.inst.tick_m * self.inst.step_m
        return fixed_str(units, exp, max(5, exp))


def write_zip(path: Path, header: str | None, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{line}\n" for line in ([header] if header else []) + rows)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        # A fixed member date keeps the archive bytes the same from run to run.
        info = zipfile.ZipInfo(path.with_suffix(".csv").name, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, text)
    return path


def day_of_trades(rng: random.Random, start_ms: int, price: int, count: int,
                  last: Trade | None) -> list[Trade]:
    """``count`` trades at random times of one day, the price walking a tick or two."""
    times = sorted(start_ms + rng.randrange(DAY_MS) for _ in range(count))
    agg_id, trade_id = (last.agg_id, last.last_id) if last else (0, 0)
    out = []
    for t in times:
        step = rng.choice((-2, -1, -1, 0, 0, 0, 1, 1, 2))
        price = max(1, price + step)
        lots = rng.randint(1, 12) * rng.randint(1, 12) // rng.randint(1, 6) + 1
        maker = step < 0 or (step == 0 and rng.randrange(2) == 1)  # a down-tick is a sell
        agg_id, first, trade_id = agg_id + 1, trade_id + 1, trade_id + rng.randint(1, 3)
        out.append(Trade(agg_id, first, trade_id, t, price, lots, maker))
    return out


def book_rows(rng: random.Random, trades: list[Trade], book_id: int, w: Writer) -> list[str]:
    """The touch just before each trade: the trade is at the bid (a sell) or ask (a buy)."""
    rows, at = [], 0
    for tr in trades:
        spread = rng.randint(1, 2)
        bid, ask = ((tr.price, tr.price + spread) if tr.buyer_maker
                    else (tr.price - spread, tr.price))
        at = max(at, tr.time - rng.randrange(4))
        book_id += rng.randint(1, 9)
        rows.append(f"{book_id},{w.price(bid)},{w.qty(tr.lots + rng.randint(0, 900))},"
                    f"{w.price(ask)},{w.qty(rng.randint(1, 900))},{at},{at + rng.randint(1, 4)}")
    return rows


def kline_rows(trades: list[Trade], start_ms: int, close: int, w: Writer) -> list[str]:
    """1-minute klines of the day's trades (a minute without trades repeats the close)."""
    rows, i = [], 0
    for minute in range(DAY_MS // MINUTE_MS):
        t0 = start_ms + minute * MINUTE_MS
        bar = []
        while i < len(trades) and trades[i].time < t0 + MINUTE_MS:
            bar.append(trades[i])
            i += 1
        prices = [tr.price for tr in bar] or [close]
        close = prices[-1]
        buys = [tr for tr in bar if not tr.buyer_maker]
        rows.append(
            f"{t0},{w.price(prices[0])},{w.price(max(prices))},{w.price(min(prices))},"
            f"{w.price(close)},{w.qty(sum(tr.lots for tr in bar))},{t0 + MINUTE_MS - 1},"
            f"{w.quote(sum(tr.price * tr.lots for tr in bar))},"
            f"{sum(tr.last_id - tr.first_id + 1 for tr in bar)},"
            f"{w.qty(sum(tr.lots for tr in buys))},"
            f"{w.quote(sum(tr.price * tr.lots for tr in buys))},0")
    return rows


def mark_rows(rng: random.Random, klines: list[str], w: Writer) -> list[str]:
    """Mark-price bars: each close a tick or two from the kline's close, on the grid."""
    rows, prev = [], None
    for kline in klines:
        fields = kline.split(",")
        t0, last = int(fields[0]), int(Decimal(fields[4]) / w.inst.tick_size)
        close = max(1, last + rng.randint(-2, 2))
        prev = close if prev is None else prev
        high = max(prev, close) + rng.randint(0, 2)
        low = max(1, min(prev, close) - rng.randint(0, 2))
        rows.append(f"{t0},{w.price(prev)},{w.price(high)},{w.price(low)},{w.price(close)},0,"
                    f"{t0 + MINUTE_MS - 1},0,60,0,0,0")
        prev = close
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--symbol", default="BTCUSDT", choices=["BTCUSDT", "ETHUSDT"])
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--price", type=Decimal, help="start price (default 42000 / 2300)")
    parser.add_argument("--trades-per-day", type=int, default=20_000)
    parser.add_argument("--header", choices=["alternate", "all", "none"], default="alternate",
                        help="header rows on aggTrades files (default: every other day)")
    args = parser.parse_args(argv)

    inst = {i.symbol: i for i in default_instruments()}[args.symbol]
    w = Writer(inst)
    start_price = args.price or Decimal(42000 if args.symbol == "BTCUSDT" else 2300)
    price = int(start_price / inst.tick_size)
    rng = random.Random(args.seed)
    sym, daily = args.symbol, args.outdir / "futures" / "um" / "daily"
    last: Trade | None = None
    written: list[Path] = []
    funding: dict[str, list[str]] = {}
    for d in range(args.days):
        day = args.start + timedelta(days=d)
        start_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
        trades = day_of_trades(rng, start_ms, price, args.trades_per_day, last)
        header = {"all": True, "none": False, "alternate": d % 2 == 0}[args.header]
        agg = [f"{tr.agg_id},{w.price(tr.price)},{w.qty(tr.lots)},{tr.first_id},{tr.last_id},"
               f"{tr.time},{'true' if tr.buyer_maker else 'false'}" for tr in trades]
        written.append(write_zip(daily / "aggTrades" / sym / f"{sym}-aggTrades-{day}.zip",
                                 AGG_HEADER if header else None, agg))
        book_id = 3_000_000_000 + 10_000_000 * d
        written.append(write_zip(daily / "bookTicker" / sym / f"{sym}-bookTicker-{day}.zip",
                                 BOOK_HEADER, book_rows(rng, trades, book_id, w)))
        klines = kline_rows(trades, start_ms, price, w)
        written.append(write_zip(daily / "klines" / sym / "1m" / f"{sym}-1m-{day}.zip",
                                 KLINE_HEADER, klines))
        written.append(write_zip(
            daily / "markPriceKlines" / sym / "1m" / f"{sym}-markPriceKlines-1m-{day}.zip",
            KLINE_HEADER, mark_rows(rng, klines, w)))
        for k in range(DAY_MS // FUNDING_MS):
            rate = rng.randint(-5_000, 15_000)  # in 1e-8: -0.005% … 0.015%
            funding.setdefault(f"{day:%Y-%m}", []).append(
                f"{start_ms + k * FUNDING_MS},8,{fixed_str(rate, 8, 8)}")
        if trades:
            price, last = trades[-1].price, trades[-1]
    monthly = args.outdir / "futures" / "um" / "monthly" / "fundingRate" / sym
    for month, rows in funding.items():
        written.append(write_zip(monthly / f"{sym}-fundingRate-{month}.zip", FUNDING_HEADER, rows))

    for path in written:
        print(path)
    for stream in load(args.outdir, [inst]):
        print(f"read back: {stream.symbol} {stream.kind.value:<7} {len(stream):>8} events")


if __name__ == "__main__":
    main()
