"""The operator's door ``/fapisim/v1/...``: closed without a token, bearer-checked from
the headers alone, each operation's answer, refusals that change nothing, and lockstep
(``--speed 0``): the market moves only when told, the same way every run."""

from __future__ import annotations

import socket

import pytest
import requests
from rest_support import ALICE_KEY, ALICE_SECRET, RawClient, make_venue, now_ms

from engine import Exchange
from engine.server import create_app, running
from engine.server.clock import VenueClock
from engine.server.feed import SyntheticFeed

TOKEN = "operator-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = 1_767_225_600_000


def lockstep_venue(seed: int = 3) -> tuple[Exchange, SyntheticFeed, VenueClock]:
    ex = Exchange(start_time=T0)
    ex.create_account("alice", "10000", api_key=ALICE_KEY, api_secret=ALICE_SECRET)
    feed = SyntheticFeed(ex, seed=seed, now_ms=T0, history_minutes=60)
    return ex, feed, VenueClock(0, start=T0)


@pytest.fixture
def lockstep():
    ex, feed, clock = lockstep_venue()
    app = create_app(ex, market=feed, venue_clock=clock, admin_token=TOKEN)
    with running(app) as url:
        yield ex, feed, url


def op(url: str, method: str, name: str, headers: dict | None = None, **params):
    return requests.request(method, f"{url}/fapisim/v1/{name}", params=params,
                            headers=AUTH if headers is None else headers, timeout=30)


def test_without_a_token_the_door_is_an_unknown_path():
    with running(create_app(make_venue())) as url:
        r = requests.get(f"{url}/fapisim/v1/status", headers=AUTH)
    assert (r.status_code, r.json()["code"]) == (404, -1099)


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}",
                                    f"Bearer {TOKEN}x", f"bearer {TOKEN}"])
def test_a_wrong_or_missing_token_is_401_and_changes_nothing(lockstep, header):
    ex, _feed, url = lockstep
    before = ex.state_hash()
    r = op(url, "POST", "deposit", headers={} if header is None else {"Authorization": header},
           account="alice", amount="100")
    assert r.status_code == 401 and r.json()["code"] == -2015
    assert ex.state_hash() == before


def test_a_refused_operator_request_is_answered_before_its_body_is_read(lockstep):
    """A client announcing a 10 MB body with a wrong token is answered at once and the
    connection closed: nothing unauthenticated costs more than a header read."""
    _ex, _feed, url = lockstep
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"POST /fapisim/v1/deposit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer no\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 10000000\r\n\r\n")
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 401") and b"connection: close" in head.lower()


def test_status_tells_the_clock_the_market_the_journal_and_the_accounts(lockstep):
    ex, feed, url = lockstep
    body = op(url, "GET", "status").json()
    assert body["time"] == ex.now == T0 and body["lockstep"] is True and body["speed"] == "0"
    assert body["market"]["seed"] == 3 and body["market"]["printsApplied"] == 0
    assert body["market"]["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert body["journal"] is None
    assert body["accounts"] == [{"name": "alice", "walletBalance": "10000"}]


def test_deposit_credits_the_wallet_and_a_bad_one_changes_nothing(lockstep):
    ex, _feed, url = lockstep
    r = op(url, "POST", "deposit", account="alice", amount="250.125")
    assert r.status_code == 200 and r.json()["walletBalance"] == "10250.125"
    balance = RawClient(url, ALICE_KEY, ALICE_SECRET).signed("GET", "/fapi/v2/balance").json()
    assert balance[0]["balance"].startswith("10250.125")
    income = RawClient(url, ALICE_KEY, ALICE_SECRET).signed(
        "GET", "/fapi/v1/income", {"incomeType": "TRANSFER"}).json()
    assert [i["income"] for i in income][-1].startswith("250.125")
    before = ex.state_hash()
    for params in ({"account": "alice", "amount": "0"}, {"account": "alice", "amount": "-5"},
                   {"account": "alice", "amount": "1.000000001"}, {"account": "zed",
                                                                    "amount": "1"},
                   {"account": "alice"}, {"amount": "1"}, {"account": "@tape", "amount": "1"},
                   {"account": "alice", "amount": "١٢"}, {"account": "alice", "amount": " 5"},
                   {"account": "alice", "amount": "1_000"},
                   {"account": "alice", "amount": "1e3"}):
        r = op(url, "POST", "deposit", **params)
        assert r.status_code == 400 and isinstance(r.json()["msg"], str), params
    assert ex.state_hash() == before


def test_advance_and_step_move_the_market_only_when_told(lockstep):
    ex, feed, url = lockstep
    requests.get(f"{url}/fapi/v1/time")
    assert feed.applied == 0 and ex.now == T0  # requests do not move a lockstep clock
    r = op(url, "POST", "step", prints=3).json()
    assert r["printsApplied"] >= 3 and r["time"] == ex.now > T0
    stepped = r["printsApplied"]
    r = op(url, "POST", "advance", ms=60_000).json()
    assert r["time"] == ex.now == r["reached"] and r["printsApplied"] > stepped
    assert requests.get(f"{url}/fapi/v1/time").json()["serverTime"] == ex.now
    # SPEC 9: answers carry venue time, though the request was signed with wall time
    c = RawClient(url, ALICE_KEY, ALICE_SECRET)
    fill = c.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY",
                                                "type": "MARKET", "quantity": "0.003",
                                                "newOrderRespType": "RESULT"}).json()
    trades = c.signed("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"}).json()
    assert fill["updateTime"] == trades[-1]["time"] == ex.now < now_ms() - 86_400_000
    for bad in ({"ms": "-1"}, {"ms": "x"}, {"ms": str(86_400_001)}, {}):
        before = ex.state_hash()
        assert op(url, "POST", "advance", **bad).status_code == 400
        assert ex.state_hash() == before


def test_two_lockstep_venues_told_the_same_are_the_same():
    hashes = []
    for _ in range(2):
        ex, feed, clock = lockstep_venue(seed=9)
        with running(create_app(ex, market=feed, venue_clock=clock, admin_token=TOKEN)) as url:
            c = RawClient(url, ALICE_KEY, ALICE_SECRET)
            for k in range(5):
                op(url, "POST", "advance", ms=30_000)
                c.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "type": "MARKET",
                                                   "side": "BUY" if k % 2 else "SELL",
                                                   "quantity": "0.003"})
            hashes.append(op(url, "GET", "stateHash").json()["stateHash"])
    assert hashes[0] == hashes[1]


def test_advance_needs_lockstep_and_mark_price_needs_no_market():
    ex, feed, _clock = lockstep_venue()
    with running(create_app(ex, market=feed, admin_token=TOKEN)) as url:
        r = op(url, "POST", "advance", ms=1000)
        assert r.status_code == 409 and "--speed 0" in r.json()["msg"]
        r = op(url, "POST", "markPrice", symbol="BTCUSDT", price="30000")
        assert r.status_code == 409 and "--no-market" in r.json()["msg"]
    ex = make_venue()
    with running(create_app(ex, admin_token=TOKEN, clock=lambda: ex.now)) as url:
        r = op(url, "POST", "markPrice", symbol="BTCUSDT", price="31000")
        assert r.status_code == 200
        assert requests.get(f"{url}/fapi/v1/premiumIndex",
                            params={"symbol": "BTCUSDT"}).json()["markPrice"].startswith("31000")
        before = ex.state_hash()
        r = op(url, "POST", "markPrice", symbol="BTCUSDT", price="abc")
        assert r.status_code == 400 and ex.state_hash() == before
        r = op(url, "POST", "step")
        assert r.status_code == 409


def test_a_snapshot_is_served_to_the_operator_and_restores(lockstep):
    ex, _feed, url = lockstep
    op(url, "POST", "advance", ms=20_000)
    r = op(url, "GET", "snapshot")
    assert r.headers["content-type"] == "application/octet-stream"
    assert Exchange.restore(r.content).state_hash() == ex.state_hash()
    r = op(url, "POST", "snapshot")  # no --state DIR to write it to
    assert r.status_code == 409 and "--state" in r.json()["msg"]


def test_an_unknown_operation_and_a_wrong_verb_are_refused(lockstep):
    _ex, _feed, url = lockstep
    r = op(url, "GET", "nope")
    assert r.status_code == 404 and "status" in r.json()["msg"]
    for verb, name in (("GET", "deposit"), ("PUT", "status"), ("DELETE", "snapshot")):
        r = op(url, verb, name)
        assert r.status_code == 405 and name in r.json()["msg"], (verb, name)


def test_an_operator_body_announced_too_large_is_refused_unread(lockstep):
    _ex, _feed, url = lockstep
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"POST /fapisim/v1/deposit HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 99999999999\r\n\r\n")
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower()
