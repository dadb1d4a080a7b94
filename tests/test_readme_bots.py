"""The README's "Point your bot at it" snippets run, unchanged, against the real server.

The venue is the one ``fapisim serve`` starts (the demo accounts, keys derived
from their names, the synthetic market of seed 7); only the base URL is swapped
for the test server's.  Once
the README carries the section, its code blocks must equal these snippets.
"""

from __future__ import annotations

import contextlib
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from rest_support import SYMBOL, live

from engine import Exchange
from engine.cli import DEMO_ACCOUNTS
from engine.server import SyntheticFeed, market_feed

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Point your bot at it"
DEMO_URL = "http://127.0.0.1:8080"

PREAMBLE = '''\
API_KEY = "226c40c7a035dd7f7cb2211ab3ca2308bc8215ec89db2efa8ec3fc70891a5151"     # alice's, as
API_SECRET = "3e0d98f95b62825c48a3b6a6f736701bbb287a6a5a64be5ff514cabd82d3c579"  # printed
BASE = "http://127.0.0.1:8080"
'''

SNIPPETS = {
    "python-binance": '''\
from binance.client import Client

client = Client(API_KEY, API_SECRET, ping=False)
client.FUTURES_URL = BASE + "/fapi"
mark = float(client.futures_mark_price(symbol="BTCUSDT")["markPrice"])
order = client.futures_create_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                    timeInForce="GTC", quantity="0.010",
                                    price=f"{mark * 0.98:.1f}")
client.futures_create_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET",  # -> algoOrder
                            stopPrice=f"{mark * 0.95:.1f}", parentOrderId=order["orderId"])
print(client.futures_cancel_order(symbol="BTCUSDT", orderId=order["orderId"]))  # + its SL
''',
    "binance-futures-connector": '''\
from binance.um_futures import UMFutures

client = UMFutures(key=API_KEY, secret=API_SECRET, base_url=BASE)
mark = float(client.mark_price(symbol="BTCUSDT")["markPrice"])
order = client.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity="0.010", price=f"{mark * 0.98:.1f}",
                         takeProfitPrice=f"{mark * 1.03:.1f}",
                         stopLossPrice=f"{mark * 0.95:.1f}")
print(client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"]))  # + its TP and SL
''',
    "binance-sdk-derivatives-trading-usds-futures": '''\
from binance_common.configuration import ConfigurationRestAPI
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)

config = ConfigurationRestAPI(api_key=API_KEY, api_secret=API_SECRET, base_path=BASE)
rest = DerivativesTradingUsdsFutures(config_rest_api=config).rest_api
mark = float(rest.mark_price(symbol="BTCUSDT").data().actual_instance.mark_price)
order = rest.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC",
                       quantity=0.01, price=round(mark * 0.98, 1)).data()
stop = rest.new_algo_order(algo_type="CONDITIONAL", symbol="BTCUSDT", side="BUY",
                           type="STOP_MARKET", quantity=0.01,
                           trigger_price=round(mark * 1.05, 1)).data()
print(rest.cancel_order(symbol="BTCUSDT", order_id=order.order_id).data())
print(rest.cancel_algo_order(algo_id=stop.algo_id).data())
''',
    "ccxt": '''\
import ccxt

bot = ccxt.binanceusdm({"apiKey": API_KEY, "secret": API_SECRET,
                        "options": {"fetchCurrencies": False}})
for api in ("fapiPublic", "fapiPrivate"):
    bot.urls["api"][api] = BASE + "/fapi/v1"
for v in ("V2", "V3"):
    bot.urls["api"]["fapiPublic" + v] = bot.urls["api"]["fapiPrivate" + v] = (
        BASE + "/fapi/" + v.lower())
last = bot.fetch_ticker("BTC/USDT:USDT")["last"]
order = bot.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, round(last * 0.98, 1))
bot.create_order("BTC/USDT:USDT", "STOP_MARKET", "sell", 0.01, None,  # -> algoOrder
                 {"stopPrice": round(last * 0.95, 1), "reduceOnly": True,
                  "parentOrderId": order["id"]})
print(bot.cancel_order(order["id"], "BTC/USDT:USDT"))  # + its SL
''',
}

#: a bot loop: candles in, orders out, against the moving market
LOOP = '''\
import time

from binance.client import Client

client = Client(API_KEY, API_SECRET, ping=False)
client.FUTURES_URL = BASE + "/fapi"
for _ in range(3):  # a bot loops for ever
    bars = client.futures_klines(symbol="BTCUSDT", interval="1m", limit=20)
    closes = [float(bar[4]) for bar in bars]
    side = "BUY" if sum(closes[-5:]) / 5 > sum(closes) / 20 else "SELL"
    fill = client.futures_create_order(symbol="BTCUSDT", side=side, type="MARKET",
                                       quantity="0.010", newOrderRespType="RESULT")
    print(side, fill["status"], "at", fill["avgPrice"])
    time.sleep(0.5)
position = client.futures_position_information(symbol="BTCUSDT")[0]
print("position", position["positionAmt"], "unrealized", position["unRealizedProfit"])
'''


def demo_venue() -> Exchange:
    """The accounts ``fapisim serve`` starts with no ``--accounts``."""
    ex = Exchange()
    for name, balance in DEMO_ACCOUNTS:
        ex.create_account(name, balance)
    return ex


def demo_market(ex: Exchange) -> SyntheticFeed:
    """The market ``fapisim serve`` runs with no options (seed 7, 500 hours of history)."""
    return market_feed(ex, seed=7, history_minutes=500 * 60, trades_per_day=86_400)


def test_preamble_holds_the_keys_fapisim_serve_prints_for_alice():
    alice = demo_venue().account("alice")
    assert f'"{alice.api_key}"' in PREAMBLE and f'"{alice.api_secret}"' in PREAMBLE
    assert f'BASE = "{DEMO_URL}"' in PREAMBLE


@pytest.mark.parametrize("library", list(SNIPPETS))
def test_snippet_trades_against_the_server(library):
    ex = demo_venue()
    with live(ex, market=demo_market(ex)) as (url, _app):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(PREAMBLE.replace(DEMO_URL, url) + SNIPPETS[library], {})  # noqa: S102
    assert "CANCELED" in out.getvalue() or "'canceled'" in out.getvalue()
    alice = ex.client("alice")
    assert alice.get_orders(symbol=SYMBOL) == []
    cancelled = [o for o in alice.get_all_orders(symbol=SYMBOL) if o["status"] == "CANCELED"]
    assert len(cancelled) >= 2  # the parent and what it (or the snippet) cancelled with it
    ex.check_invariants()


def test_the_bot_loop_reads_candles_and_trades_the_moving_market():
    ex = demo_venue()
    with live(ex, market=demo_market(ex)) as (url, app):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(PREAMBLE.replace(DEMO_URL, url) + LOOP, {})  # noqa: S102
        lines = out.getvalue().splitlines()
        assert len(lines) == 4 and all(" FILLED at " in line for line in lines[:3])
        sides = [line.split()[0] for line in lines[:3]]
        held = sum(Decimal("0.01") if s == "BUY" else Decimal("-0.01") for s in sides)
        assert Decimal(lines[3].split()[1]) == held
        with app.state.lock:
            ex.check_invariants()


def test_readme_section_matches_the_tested_snippets():
    text = README.read_text()
    if SECTION not in text:
        pytest.skip("the README does not carry the section yet")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks == [PREAMBLE, *SNIPPETS.values(), LOOP]


def test_the_readme_freqtrade_config_is_the_one_the_end_to_end_test_runs():
    """The config under "Run freqtrade against it" is ``tests/freqtrade/config.template.json``
    with alice's demo keys and the default port."""
    text = README.read_text().split("## Run freqtrade against it", 1)[1].split("\n## ", 1)[0]
    shown = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    alice = demo_venue().account("alice")
    template = (README.parent / "tests" / "freqtrade" / "config.template.json").read_text()
    want = (template.replace("${API_KEY}", alice.api_key)
            .replace("${API_SECRET}", alice.api_secret).replace("${BASE}", DEMO_URL))
    assert shown == [want]
