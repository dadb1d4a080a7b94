"""End to end: freqtrade 2026.9, unchanged but for its exchange URLs, trades against a real
``fapisim serve`` process, and what it recorded is checked against the venue.

The test installs freqtrade in its own virtual environment (cached across runs, see
``tests/freqtrade/freqtrade_harness.py``), starts ``fapisim serve --port 0`` with its
synthetic market (and, the second case, ``--replay`` of a day of sample data), runs
``freqtrade trade`` with ``tests/freqtrade/quick_flip.py`` (a long entry, an exit four
seconds later, a stop-loss on the exchange meanwhile) until freqtrade's database shows
enough closed round trips, stops both, and checks:

* every entry and exit freqtrade recorded as filled is the venue's order of that id, with the
  same side, ``executedQty`` and ``avgPrice`` (as Decimals);
* every stop-loss freqtrade placed is an algo order on the venue (``GET /fapi/v1/algoOrder``):
  a reduce-only STOP_MARKET SELL with freqtrade's trigger price and amount;
* the venue the server left in its ``--state`` directory holds every invariant;
* freqtrade's log has no ERROR or CRITICAL record about the exchange.  Exchange WARNING
  records do not fail the test; they are reported as a pytest warning.  Today there are
  some: when a trade closes, the venue expires its reduce-only stop (SPEC 5: a trigger row
  with nothing left to reduce expires) and answers freqtrade's cancel with -2092, which
  ccxt does not know, so freqtrade retries and keeps the stop "open" in its database.
  Binance keeps a GTC reduce-only stop until it is cancelled; that difference is the
  wire-fidelity issue's to settle (it touches the cancel codes of SPEC 4.7).

Two profiles: by default (CI) one round trip on the synthetic market, the whole test,
install included, within 3 minutes; with ``FAPISIM_E2E=1`` three round trips on each
market within 10 minutes each.  Never skipped: a failed
install fails the test.  Select it with ``-m e2e``.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from engine.backtest.sample import write_sample
from engine.server.state import StateDir

sys.path.insert(0, str(Path(__file__).resolve().parent / "freqtrade"))
import freqtrade_harness as ft  # noqa: E402

FULL = os.environ.get("FAPISIM_E2E") == "1"
ROUND_TRIPS = 3 if FULL else 1
BUDGET_S = 600 if FULL else 180  # the whole test, install included
TRADING_S = 70  # kept for trading and checks out of the budget when freqtrade is installed
HISTORY_MINUTES = 1000  # candles before start: more than freqtrade asks for at start-up


def _dec(value: float | None) -> Decimal | None:
    """A float from freqtrade's database as the decimal it was parsed from."""
    return None if value is None else Decimal(repr(value))


@pytest.mark.e2e
@pytest.mark.parametrize("market", ["synthetic", pytest.param("replay", marks=pytest.mark.skipif(
    not FULL, reason="the replay case runs in the full profile: FAPISIM_E2E=1"))])
def test_freqtrade_round_trips_are_the_venues_orders(tmp_path, market):
    started = time.monotonic()
    deadline = started + BUDGET_S
    install = ft.ensure_freqtrade(deadline - TRADING_S)
    print(f"freqtrade {ft.FREQTRADE_VERSION} in {install.python.parent.parent}: "
          + ("reused" if install.reused else f"installed in {install.seconds:.1f}s"))

    options: tuple[str, ...] = ()
    if market == "replay":  # a day of sample data: 12 hours of history, then live
        write_sample(tmp_path / "data", ["BTCUSDT"], 1, 3, trades_per_day=200_000)
        options = ("--replay", str(tmp_path / "data"))
    state = tmp_path / "venue"  # the venue keeps its journal: checked once it stops
    with ft.Venue(tmp_path, HISTORY_MINUTES, "--state", str(state), *options) as venue:
        bot = None
        try:
            key, secret = venue.accounts["alice"]
            config = tmp_path / "config.json"
            ft.write_config(config, venue.url, key, secret)
            bot = ft.Bot(install.python, config, tmp_path)
            try:
                took = bot.wait_for_round_trips(ROUND_TRIPS, deadline - 20)
            finally:
                bot.stop()
            _check(venue, bot)
        except BaseException:
            print(venue.logs())
            if bot is not None:
                print(bot.logs())
            raise
    # the venue the server left (journal and last snapshot) holds every invariant
    resumed, _market = StateDir(state).resume()
    resumed.check_invariants()
    assert resumed.client("alice").get_all_orders(symbol=ft.SYMBOL), \
        "freqtrade's orders are in the venue's journal"
    print(f"{ROUND_TRIPS} round trip(s) in {took:.1f}s after freqtrade started; "
          f"test {time.monotonic() - started:.1f}s")


def _check(venue: ft.Venue, bot: ft.Bot) -> None:
    trades = bot.rows("SELECT * FROM trades ORDER BY id")
    orders = bot.rows("SELECT * FROM orders ORDER BY id")
    closed = [t for t in trades if not t["is_open"]]
    assert len(closed) >= ROUND_TRIPS, trades

    # entries and exits: the venue's orders, filled as freqtrade says
    fills = [o for o in orders if o["ft_order_side"] in ("buy", "sell") and (o["filled"] or 0)]
    problems = []
    for o in fills:
        status, v = venue.get("/fapi/v1/order", "alice", symbol=ft.SYMBOL, orderId=o["order_id"])
        seen = (status, v.get("side"), Decimal(v.get("executedQty", "NaN")),
                Decimal(v.get("avgPrice", "NaN")))
        wanted = (200, o["ft_order_side"].upper(), _dec(o["filled"]), _dec(o["average"]))
        if seen != wanted:
            problems.append(f"order {o['order_id']}: freqtrade {wanted}, venue {seen} {v}")
    assert problems == []
    for t in closed:
        sides = {o["ft_order_side"] for o in fills if o["ft_trade_id"] == t["id"]}
        assert sides == {"buy", "sell"}, (t, [o for o in orders if o["ft_trade_id"] == t["id"]])

    # stop-losses: algo orders on the venue
    stops = [o for o in orders if o["ft_order_side"] == "stoploss"]
    assert {t["id"] for t in closed} <= {s["ft_trade_id"] for s in stops}, stops
    statuses = []
    for s in stops:
        status, a = venue.get("/fapi/v1/algoOrder", "alice", algoId=s["order_id"])
        assert status == 200, (s, a)
        seen = (str(a["algoId"]), a["algoType"], a["orderType"], a["side"], a["reduceOnly"],
                Decimal(a["triggerPrice"]), Decimal(a["quantity"]))
        wanted = (s["order_id"], "CONDITIONAL", "STOP_MARKET", "SELL", True,
                  _dec(s["stop_price"]), _dec(s["amount"]))
        assert seen == wanted, (s, a)
        statuses.append(f"{s['order_id']}: freqtrade {s['status']}, venue {a['algoStatus']}")

    # the log: no exchange errors; exchange warnings reported, not failed
    errors = ft.exchange_records(bot.log, ("ERROR", "CRITICAL"))
    assert errors == [], "\n".join(errors)
    warned = ft.exchange_records(bot.log, ("WARNING",))
    if warned:
        warnings.warn(f"freqtrade logged {len(warned)} exchange warning(s); stop-losses "
                      f"{'; '.join(statuses)}; the first warning: {warned[0]}", stacklevel=1)
