"""What a served venue keeps: the journal's bytes per simulated day with ``--state``, and
the memory a replayed market holds per million trades.

**Journal.** A venue with the default synthetic market (BTCUSDT and ETHUSDT, 86,400
prints a day each) and a bot that places or cancels an order every simulated minute
(1,440 commands a day) runs one simulated day in lockstep, the market advanced a
second at a time as the server's ticks would.  Its journal is what ``--state DIR``
writes: a ``market`` line (the market's position) before each bot command.  The
in-run reference is the same day journaled the old way — every ladder move, print and
mark as its own line — measured on the first simulated hour and scaled to the day.

**Replay memory.** ``ReplayFeed`` over a day of sample aggTrades (1,000,000 trades a
symbol a day): the bytes its streams, timeline and stores hold, per million trades,
from the arrays themselves (numpy reports its buffers exactly).

Run with::

    python -m pytest benchmarks/bench_served_state.py -s
"""

from __future__ import annotations

import random

import numpy as np

from benchmarks.conftest import EXTRA
from engine import Exchange
from engine.backtest.sample import write_sample
from engine.core.errors import ClientError
from engine.core.listing import listed
from engine.server.feed import SyntheticFeed
from engine.server.replayfeed import ReplayFeed, data_files
from engine.server.state import StateDir

T0 = 1_767_225_600_000
DAY_S = 86_400


def _bot(ex: Exchange, rng: random.Random) -> None:
    c = ex.client("bot")
    try:
        open_ = c.get_orders(symbol="BTCUSDT")
        if open_ and rng.random() < 0.5:
            c.cancel_order(symbol="BTCUSDT", orderId=open_[0]["orderId"])
        else:
            bid = c.depth(symbol="BTCUSDT", limit=20)["bids"][-1][0]
            c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                        quantity="0.01", price=bid)
    except ClientError:
        pass


def test_journal_bytes_per_simulated_day(tmp_path):
    state = StateDir(tmp_path / "deferred")
    ex = state.create(lambda p: Exchange(journal=p))
    ex.create_account("bot", "1000000")
    feed = SyntheticFeed(ex, seed=1, now_ms=T0, history_minutes=60)
    rng = random.Random(1)
    for s in range(1, DAY_S + 1):
        feed.advance(T0 + s * 1000)
        if s % 60 == 0:
            _bot(ex, rng)
    ex.journal.flush()
    deferred = state.journal.stat().st_size
    prints = feed.applied

    # the reference: each command of the market journaled as its own line, one hour
    path = tmp_path / "per-print.jsonl"
    ex2 = Exchange(journal=path)
    ex2.create_account("bot", "1000000")
    feed2 = SyntheticFeed(ex2, seed=1, now_ms=T0, history_minutes=60)
    rng = random.Random(1)
    for s in range(1, 3601):
        feed2._advance(T0 + s * 1000, None)  # not deferred: every tape command is a line
        if s % 60 == 0:
            _bot(ex2, rng)
    per_print_day = path.stat().st_size * 24

    EXTRA["journal MB per simulated day (--state, 1,440 bot commands)"] = round(
        deferred / 1e6, 2)
    EXTRA["journal MB per simulated day, a line per market command (reference)"] = round(
        per_print_day / 1e6, 1)
    EXTRA["prints in the day"] = prints
    print(f"\njournal per simulated day: {deferred / 1e6:.2f} MB with deferred market lines "
          f"({prints} prints, 1,440 bot commands); {per_print_day / 1e6:.1f} MB with a line "
          f"per market command (scaled from one hour): {per_print_day / deferred:.0f}×")
    assert per_print_day > 20 * deferred


def test_replay_memory_per_million_trades(tmp_path):
    write_sample(tmp_path, ["BTCUSDT"], 1, 3, trades_per_day=1_000_000)
    ex = Exchange(listed(["BTCUSDT"]))
    feed = ReplayFeed(ex, files=data_files([tmp_path]), now_ms=T0)
    tl = feed._timeline
    streams = sum(s.time.nbytes + sum(c.nbytes for c in s.columns.values())
                  for s in tl.streams)
    timeline = tl.time.nbytes + tl.stream_index.nbytes + tl.row_index.nbytes
    feed.advance(T0 + 3_600_000)  # an hour live: the stores grow by their prints
    stores = sum(f.prints.nbytes + f.candles.nbytes for f in feed.symbols.values())
    trades = sum(len(s) for s in tl.streams if s.kind.value == "trade")
    per_million = (streams + timeline + stores) * 1_000_000 / trades
    EXTRA["replay bytes per trade (streams + timeline + stores)"] = round(
        per_million / 1e6, 1)
    print(f"\nreplay: {trades} trades: streams {streams / 1e6:.1f} MB, timeline "
          f"{timeline / 1e6:.1f} MB, stores {stores / 1e6:.1f} MB: "
          f"{per_million / 1e6:.1f} MB per million trades")
    assert int(np.int64(per_million)) < 400_000_000  # a list of dicts costs ~1 KB a trade
