"""Four real client libraries trade against the real REST server, unchanged but for the URL,
on a still venue and on a moving synthetic market.

Every library runs the same story: read exchange info, place a limit parent,
attach TP and SL (as the library can), see parent and rows in open orders,
cancel the parent, see the cascade (no open orders, the rows CANCELED), see the
margin back in the balance, and catch the library's own exception for -2011
(an unknown order) and for -2091 (the cascade-cancelled TP cancelled again).

How each attaches TP/SL (CLIENTS.md):
* python-binance: ``futures_create_order(type=STOP_MARKET, parentOrderId=…)``,
  which it reroutes to ``POST /fapi/v1/algoOrder``;
* binance-futures-connector: ``takeProfitPrice`` / ``stopLossPrice`` extra
  parameters on the parent's ``new_order``;
* the official SDK: its typed methods cannot carry ``parentOrderId`` and its
  generic ``send_signed_request`` is broken in 18.0.x, so it uses the library's
  own signed-request function (``binance_common.utils.send_request``) on
  ``/fapi/v1/algoOrder``;
* ccxt: ``create_order(…, 'STOP_MARKET', …, {'stopPrice', 'parentOrderId'})``,
  which it routes to ``/fapi/v1/algoOrder``.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from rest_support import ALICE_KEY, ALICE_SECRET, SYMBOL, ccxt_usdm, live, make_venue, now_ms

from engine.server.feed import SyntheticFeed


@pytest.fixture(params=["still", "moving"])
def venue(request):
    """The venue still (marks only), or with the served synthetic market moving around
    the same mark: prints every second or so, the tape's ladder of real orders, the
    clock on the wall clock."""
    ex = make_venue()
    market = None
    if request.param == "moving":
        market = SyntheticFeed(ex, seed=11, now_ms=max(now_ms(), ex.now), history_minutes=60,
                               trades_per_day=4_000_000)  # about 45 prints a second
    with live(ex, market=market) as (url, app):
        yield ex, url
        time.sleep(0.2)
        with app.state.lock:
            facade = app.state.facade
            facade.catch_up(facade.venue_clock.target())
            ex.check_invariants()
            assert market is None or market.applied > 0


def _cascaded(ex, parent_id: int) -> list[str]:
    """Statuses of the parent's rows, read from the venue itself."""
    rows = ex.client("alice").query_order(symbol=SYMBOL, orderId=parent_id)
    assert rows["status"] == "CANCELED"
    return [o["status"] for o in ex.client("alice").get_all_orders(symbol=SYMBOL)
            if o.get("parentOrderId") == parent_id]


def test_python_binance_story(venue):
    from binance.client import Client
    from binance.exceptions import BinanceAPIException

    ex, url = venue
    client = Client(ALICE_KEY, ALICE_SECRET, ping=False)
    client.FUTURES_URL = url + "/fapi"

    info = client.futures_exchange_info()
    assert SYMBOL in [s["symbol"] for s in info["symbols"]]
    free_before = client.futures_account_balance()[0]["availableBalance"]

    parent = client.futures_create_order(symbol=SYMBOL, side="BUY", type="LIMIT",
                                         timeInForce="GTC", quantity="0.010", price="29000")
    tp = client.futures_create_order(symbol=SYMBOL, side="SELL", type="TAKE_PROFIT_MARKET",
                                     stopPrice="31000", parentOrderId=parent["orderId"])
    sl = client.futures_create_order(symbol=SYMBOL, side="SELL", type="STOP_MARKET",
                                     stopPrice="28000", parentOrderId=parent["orderId"])
    assert (tp["orderType"], tp["algoStatus"], sl["parentOrderId"]) == (
        "TAKE_PROFIT_MARKET", "NEW", parent["orderId"])
    assert len(client.futures_get_open_orders(symbol=SYMBOL)) == 3
    assert [a["algoId"] for a in client.futures_get_open_orders(
        symbol=SYMBOL, conditional=True)] == [tp["algoId"], sl["algoId"]]
    assert client.futures_account_balance()[0]["availableBalance"] != free_before

    cancelled = client.futures_cancel_order(symbol=SYMBOL, orderId=parent["orderId"])
    assert cancelled["status"] == "CANCELED"
    assert [r["status"] for r in cancelled["triggerOrders"]] == ["CANCELED", "CANCELED"]
    assert client.futures_get_open_orders(symbol=SYMBOL) == []
    assert client.futures_get_open_orders(symbol=SYMBOL, conditional=True) == []
    assert client.futures_account_balance()[0]["availableBalance"] == free_before

    with pytest.raises(BinanceAPIException) as unknown:
        client.futures_cancel_order(symbol=SYMBOL, orderId=999999)
    assert (unknown.value.code, unknown.value.status_code) == (-2011, 400)
    with pytest.raises(BinanceAPIException) as again:
        client.futures_cancel_order(symbol=SYMBOL, algoId=tp["algoId"])
    assert again.value.code == -2091
    assert _cascaded(ex, parent["orderId"]) == ["CANCELED", "CANCELED"]


def test_binance_futures_connector_story(venue):
    from binance.error import ClientError
    from binance.um_futures import UMFutures

    ex, url = venue
    client = UMFutures(key=ALICE_KEY, secret=ALICE_SECRET, base_url=url)

    assert SYMBOL in [s["symbol"] for s in client.exchange_info()["symbols"]]
    free_before = client.balance()[0]["availableBalance"]

    parent = client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                              quantity="0.010", price="29000",
                              takeProfitPrice="31000", stopLossPrice="28000")
    tp, sl = parent["triggerOrders"]
    assert (tp["type"], sl["type"]) == ("TAKE_PROFIT_MARKET", "STOP_MARKET")
    assert [o["orderId"] for o in client.get_orders(symbol=SYMBOL)] == [
        parent["orderId"], tp["orderId"], sl["orderId"]]
    algo = client.sign_request("GET", "/fapi/v1/openAlgoOrders", {"symbol": SYMBOL})
    assert [a["algoId"] for a in algo] == [tp["orderId"], sl["orderId"]]

    cancelled = client.cancel_order(symbol=SYMBOL, orderId=parent["orderId"])
    assert [r["status"] for r in cancelled["triggerOrders"]] == ["CANCELED", "CANCELED"]
    assert client.get_orders(symbol=SYMBOL) == []
    assert client.balance()[0]["availableBalance"] == free_before

    with pytest.raises(ClientError) as unknown:
        client.cancel_order(symbol=SYMBOL, orderId=999999)
    assert (unknown.value.error_code, unknown.value.status_code) == (-2011, 400)
    with pytest.raises(ClientError) as again:
        client.cancel_order(symbol=SYMBOL, orderId=tp["orderId"])
    assert again.value.error_code == -2091
    assert again.value.error_message == f"Trigger order {tp['orderId']} is already canceled."
    assert _cascaded(ex, parent["orderId"]) == ["CANCELED", "CANCELED"]


def test_official_sdk_story(venue):
    import requests
    from binance_common.configuration import ConfigurationRestAPI
    from binance_common.errors import BadRequestError
    from binance_common.utils import send_request
    from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
        DerivativesTradingUsdsFutures,
    )

    ex, url = venue
    config = ConfigurationRestAPI(api_key=ALICE_KEY, api_secret=ALICE_SECRET, base_path=url)
    rest = DerivativesTradingUsdsFutures(config_rest_api=config).rest_api

    info = rest.exchange_information().data()
    assert SYMBOL in [s.symbol for s in info.symbols]
    free_before = rest.futures_account_balance_v3().data()[0].available_balance

    parent = rest.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", time_in_force="GTC",
                            quantity=0.01, price=29000.0).data()
    rows = [
        send_request(requests.Session(), config, "POST", "/fapi/v1/algoOrder", payload={
            "algo_type": "CONDITIONAL", "symbol": SYMBOL, "side": "SELL", "type": kind,
            "trigger_price": price, "parent_order_id": parent.order_id,
        }, is_signed=True).data()
        for kind, price in (("TAKE_PROFIT_MARKET", 31000.0), ("STOP_MARKET", 28000.0))
    ]
    tp_id = rows[0]["algoId"]
    assert [o.order_id for o in rest.current_all_open_orders(symbol=SYMBOL).data()] == [
        parent.order_id, tp_id, rows[1]["algoId"]]
    assert [a.algo_id for a in rest.current_all_algo_open_orders(symbol=SYMBOL).data()] == [
        tp_id, rows[1]["algoId"]]

    cancelled = rest.cancel_order(symbol=SYMBOL, order_id=parent.order_id).data()
    assert cancelled.status == "CANCELED"
    assert rest.current_all_open_orders(symbol=SYMBOL).data() == []
    assert rest.futures_account_balance_v3().data()[0].available_balance == free_before

    with pytest.raises(BadRequestError) as unknown:
        rest.cancel_order(symbol=SYMBOL, order_id=999999)
    assert unknown.value.status_code == -2011  # the SDK puts Binance's code there
    with pytest.raises(BadRequestError) as again:
        rest.cancel_algo_order(algo_id=tp_id)
    assert again.value.status_code == -2091
    assert _cascaded(ex, parent.order_id) == ["CANCELED", "CANCELED"]


def test_ccxt_story(venue):
    import ccxt

    ex, url = venue
    bot = ccxt_usdm(url, ALICE_KEY, ALICE_SECRET)
    market = "BTC/USDT:USDT"

    bot.load_markets()
    assert bot.market(market)["precision"]["price"] == 0.1
    free_before = bot.fetch_balance()["USDT"]["free"]

    parent = bot.create_order(market, "limit", "buy", 0.01, 29000)
    tp = bot.create_order(market, "TAKE_PROFIT_MARKET", "sell", 0.01, None,
                          {"stopPrice": 31000, "reduceOnly": True, "parentOrderId": parent["id"]})
    sl = bot.create_order(market, "STOP_MARKET", "sell", 0.01, None,
                          {"stopPrice": 28000, "reduceOnly": True, "parentOrderId": parent["id"]})
    assert (tp["status"], tp["triggerPrice"], sl["triggerPrice"]) == ("open", 31000, 28000)
    assert [o["id"] for o in bot.fetch_open_orders(market)] == [parent["id"], tp["id"], sl["id"]]
    assert bot.fetch_balance()["USDT"]["free"] < free_before

    cancelled = bot.cancel_order(parent["id"], market)
    assert cancelled["status"] == "canceled"
    assert bot.fetch_open_orders(market) == []
    assert bot.fetch_open_orders(market, params={"trigger": True}) == []
    assert bot.fetch_balance()["USDT"]["free"] == free_before

    with pytest.raises(ccxt.OrderNotFound):
        bot.cancel_order("999999", market)
    with pytest.raises(ccxt.ExchangeError) as again:
        bot.cancel_order(tp["id"], market, {"trigger": True})
    assert '"code":-2091' in str(again.value)  # ccxt keeps the code only in the message
    assert _cascaded(ex, int(parent["id"])) == ["CANCELED", "CANCELED"]
    assert Decimal(str(free_before)) == Decimal("10000")


def test_batch_cancel_in_each_librarys_list_spelling(venue):
    """UMFutures and the SDK send ``orderIdList``; python-binance and ccxt ``orderidlist``."""
    from binance.client import Client
    from binance.um_futures import UMFutures
    from binance_common.configuration import ConfigurationRestAPI
    from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
        DerivativesTradingUsdsFutures,
    )

    ex, url = venue
    alice = ex.client("alice")

    def rest(n: int, cid: str | None = None) -> int:
        extra = {} if cid is None else {"newClientOrderId": cid}
        return alice.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                               quantity="0.010", price=str(29000 + n * 10), **extra)["orderId"]

    pb = Client(ALICE_KEY, ALICE_SECRET, ping=False)
    pb.FUTURES_URL = url + "/fapi"
    ids = [rest(1), rest(2)]
    assert [o["status"] for o in pb.futures_cancel_orders(symbol=SYMBOL, orderidlist=ids)] == [
        "CANCELED", "CANCELED"]
    rest(3, "pb:cid/1")
    assert pb.futures_cancel_orders(symbol=SYMBOL, origclientorderidlist=["pb:cid/1"])[0][
        "status"] == "CANCELED"

    um = UMFutures(key=ALICE_KEY, secret=ALICE_SECRET, base_url=url)
    out = um.cancel_batch_order(SYMBOL, [rest(4), 999999], None)
    assert [o.get("status") or o["code"] for o in out] == ["CANCELED", -2011]

    config = ConfigurationRestAPI(api_key=ALICE_KEY, api_secret=ALICE_SECRET, base_path=url)
    sdk = DerivativesTradingUsdsFutures(config_rest_api=config).rest_api
    out = sdk.cancel_multiple_orders(symbol=SYMBOL, order_id_list=[rest(5)]).data()
    assert [o.status for o in out] == ["CANCELED"]

    bot = ccxt_usdm(url, ALICE_KEY, ALICE_SECRET)
    out = bot.cancel_orders([str(rest(6)), str(rest(7))], "BTC/USDT:USDT")
    assert [o["status"] for o in out] == ["canceled", "canceled"]
    assert alice.get_orders(symbol=SYMBOL) == []
