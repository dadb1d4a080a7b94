"""The README's "Point your bot at it" snippets run, unchanged, against the real server.

The venue is the one ``fapisim serve`` starts (the demo accounts, keys derived
from their names); only the base URL is swapped for the test server's.  Once
the README carries the section, its code blocks must equal these snippets.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from rest_support import SYMBOL, live

from engine import Exchange
from engine.cli import DEMO_ACCOUNTS

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
order = client.futures_create_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                    timeInForce="GTC", quantity="0.010", price="30000")
client.futures_create_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET",  # -> algoOrder
                            stopPrice="29000", parentOrderId=order["orderId"])
print(client.futures_cancel_order(symbol="BTCUSDT", orderId=order["orderId"]))  # + its SL
''',
    "binance-futures-connector": '''\
from binance.um_futures import UMFutures

client = UMFutures(key=API_KEY, secret=API_SECRET, base_url=BASE)
order = client.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity="0.010", price="30000",
                         takeProfitPrice="33000", stopLossPrice="29000")
print(client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"]))  # + its TP and SL
''',
    "binance-sdk-derivatives-trading-usds-futures": '''\
from binance_common.configuration import ConfigurationRestAPI
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)

config = ConfigurationRestAPI(api_key=API_KEY, api_secret=API_SECRET, base_path=BASE)
rest = DerivativesTradingUsdsFutures(config_rest_api=config).rest_api
order = rest.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC",
                       quantity=0.01, price=30000.0).data()
stop = rest.new_algo_order(algo_type="CONDITIONAL", symbol="BTCUSDT", side="BUY",
                           type="STOP_MARKET", quantity=0.01, trigger_price=31000.0).data()
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
order = bot.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 30000)
bot.create_order("BTC/USDT:USDT", "STOP_MARKET", "sell", 0.01, None,  # -> algoOrder
                 {"stopPrice": 29000, "reduceOnly": True, "parentOrderId": order["id"]})
print(bot.cancel_order(order["id"], "BTC/USDT:USDT"))  # + its SL
''',
}


def demo_venue() -> Exchange:
    """The venue ``fapisim serve`` starts with no ``--accounts`` and no ``--mark``."""
    ex = Exchange()
    for name, balance in DEMO_ACCOUNTS:
        ex.create_account(name, balance)
    return ex


def test_preamble_holds_the_keys_fapisim_serve_prints_for_alice():
    alice = demo_venue().account("alice")
    assert f'"{alice.api_key}"' in PREAMBLE and f'"{alice.api_secret}"' in PREAMBLE
    assert f'BASE = "{DEMO_URL}"' in PREAMBLE


@pytest.mark.parametrize("library", list(SNIPPETS))
def test_snippet_trades_against_the_server(library):
    ex = demo_venue()
    with live(ex) as (url, _app):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(PREAMBLE.replace(DEMO_URL, url) + SNIPPETS[library], {})  # noqa: S102
    assert "CANCELED" in out.getvalue() or "'canceled'" in out.getvalue()
    alice = ex.client("alice")
    assert alice.get_orders(symbol=SYMBOL) == []
    cancelled = [o for o in alice.get_all_orders(symbol=SYMBOL) if o["status"] == "CANCELED"]
    assert len(cancelled) >= 2  # the parent and what it (or the snippet) cancelled with it
    ex.check_invariants()


def test_readme_section_matches_the_tested_snippets():
    text = README.read_text()
    if SECTION not in text:
        pytest.skip("the README does not carry the section yet")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks == [PREAMBLE, *SNIPPETS.values()]
