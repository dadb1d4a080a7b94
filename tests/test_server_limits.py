"""Binance's rate limits on the REST facade (engine.server.weights): request weight per IP
address, orders per account, 429 past them, 418 IP bans after repeated 429s.

The servers are real (uvicorn on loopback); their wall clock is the test's
(``create_app(clock=...)``), so every window is where the test puts it.  A second
client address is another loopback address (127.0.0.2), which the server sees as
another IP.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests
from requests.adapters import HTTPAdapter
from rest_support import (
    ALICE_KEY,
    ALICE_SECRET,
    BOB_KEY,
    BOB_SECRET,
    SYMBOL,
    RawClient,
    make_venue,
    send_raw,
)

from engine import Exchange
from engine.cli import main
from engine.server import RateLimits, create_app, running
from engine.server import weights as w
from engine.server.routes import ORDER_RATE_LIMITS, Endpoint, signed
from engine.server.weights import Meter

T0 = 1_765_000_020_000  # a minute's start (and a ten seconds')
OTHER_IP = "127.0.0.2"
WEIGHT_MSG = ("Too many requests; current limit is %d requests per minute. Please use the "
              "websocket for live updates to avoid polling the API.")
BAN_MSG = ("Way too many requests; IP banned until %d. Please use the websocket for live "
           "updates to avoid bans.")
BINANCE_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
]


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class From(HTTPAdapter):
    """Connections from another loopback source address."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class Served:
    ex: Exchange
    app: object
    clock: Clock
    url: str

    def client(self, key: str | None = ALICE_KEY, secret: str = ALICE_SECRET,
               source: str | None = None) -> RawClient:
        c = RawClient(self.url, key, secret)
        if source is not None:
            c.session.mount("http://", From(source))
        return c

    def sign(self, c: RawClient, method: str, path: str, params: dict | None = None
             ) -> requests.Response:
        return c.signed(method, path, params, timestamp=self.clock.now)

    def get(self, c: RawClient, path: str, **params) -> requests.Response:
        return c.session.get(self.url + path, params=params, timeout=10)

    def state_hash(self) -> str:
        with self.app.state.lock:
            return self.ex.state_hash()

    def meter(self) -> Meter:
        return self.app.state.facade.meter

    def open_orders(self, account: str) -> list[dict]:
        with self.app.state.lock:
            return self.ex.client(account).get_orders(symbol=SYMBOL)


@contextmanager
def served(limits: RateLimits | None = None, **kw) -> Iterator[Served]:
    ex = make_venue()
    clock = Clock(T0)
    app = create_app(ex, clock=clock, rate_limits=limits, **kw)
    with running(app) as url:
        yield Served(ex, app, clock, url)
        app.state.facade.meter._check()
    ex.check_invariants()


def used(r: requests.Response) -> int:
    return int(r.headers["X-MBX-USED-WEIGHT-1M"])


def order_counts(r: requests.Response) -> tuple[int, int]:
    return int(r.headers["X-MBX-ORDER-COUNT-10S"]), int(r.headers["X-MBX-ORDER-COUNT-1M"])


def bid(price: str = "29000") -> dict:
    return {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "price": price}


# -- request weight: one counter per IP address ---------------------------------------------
def test_weight_goes_to_the_ip_whoever_sends_it():
    with served() as s:
        alice, bob = s.client(), s.client(BOB_KEY, BOB_SECRET)
        keyless = s.client(None, "")
        assert used(s.sign(alice, "GET", "/fapi/v2/account")) == 5
        assert used(s.sign(bob, "GET", "/fapi/v2/balance")) == 10  # another account, same IP
        assert used(s.get(keyless, "/fapi/v1/time")) == 11  # unauthenticated
        assert used(s.sign(keyless, "GET", "/fapi/v2/balance")) == 12  # refused 401: 1
        assert used(s.get(keyless, "/fapi/v1/depth", symbol=SYMBOL, limit=1000)) == 32
        other = s.client(source=OTHER_IP)  # alice's key, another address: its own counter
        assert used(s.sign(other, "GET", "/fapi/v2/account")) == 5
        assert used(s.get(keyless, "/fapi/v1/time")) == 33
        s.clock.now = T0 + 60_000  # the next minute
        assert used(s.sign(alice, "GET", "/fapi/v2/account")) == 5


def test_past_the_weight_limit_429_1003_with_retry_after_and_nothing_runs():
    with served(RateLimits(weight=12)) as s:
        alice, bob = s.client(), s.client(BOB_KEY, BOB_SECRET)
        placed = s.sign(bob, "POST", "/fapi/v1/order", bid())
        assert placed.status_code == 200 and used(placed) == 0  # orders weigh 0 on the IP
        oid = placed.json()["orderId"]
        s.clock.now = T0 + 15_500
        assert used(s.sign(alice, "GET", "/fapi/v2/account")) == 5
        assert used(s.sign(bob, "GET", "/fapi/v2/account")) == 10
        assert used(s.get(alice, "/fapi/v1/time")) == 11
        assert used(s.sign(alice, "GET", "/fapi/v1/openOrders", {"symbol": SYMBOL})) == 12
        before = s.state_hash()
        for r in (s.sign(bob, "DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": oid}),
                  s.get(alice, "/fapi/v1/time")):
            assert (r.status_code, r.json()) == (429, {"code": -1003, "msg": WEIGHT_MSG % 12})
            assert used(r) == 12 and r.headers["Retry-After"] == "45"  # 44.5 s to 00:01:00
        assert s.state_hash() == before  # the cancel never ran
        assert [o["orderId"] for o in s.open_orders("bob")] == [oid]
        assert s.get(s.client(source=OTHER_IP), "/fapi/v1/time").status_code == 200
        s.clock.now = T0 + 60_000
        r = s.sign(bob, "DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": oid})
        assert r.status_code == 200 and used(r) == 1


# -- orders: two counters per account ---------------------------------------------------------
def test_order_counts_per_account_and_the_10s_and_1m_limits():
    with served(RateLimits(orders_10s=3, orders_1m=5)) as s:
        alice, bob = s.client(), s.client(BOB_KEY, BOB_SECRET)
        counts = [order_counts(s.sign(alice, "POST", "/fapi/v1/order", bid()))
                  for _ in range(3)]
        assert counts == [(1, 1), (2, 2), (3, 3)]
        assert order_counts(s.sign(bob, "POST", "/fapi/v1/order", bid())) == (1, 1)
        held = s.open_orders("alice")
        before = s.state_hash()
        oid = held[0]["orderId"]
        algo = {"algoType": "CONDITIONAL", "symbol": SYMBOL, "side": "SELL",
                "type": "STOP_MARKET", "quantity": "0.010", "triggerPrice": "29000"}
        modify = {"symbol": SYMBOL, "orderId": oid, "side": "BUY", "quantity": "0.010",
                  "price": "29100"}
        ten_s = "Too many new orders; current limit is 3 orders per 10 SECOND."
        for path, method, params in (("/fapi/v1/order", "POST", bid()),
                                     ("/fapi/v1/order", "PUT", modify),
                                     ("/fapi/v1/algoOrder", "POST", algo)):
            r = s.sign(alice, method, path, params)
            assert (r.status_code, r.json()) == (429, {"code": -1015, "msg": ten_s}), path
            assert order_counts(r) == (3, 3) and "Retry-After" not in r.headers
            assert used(r) == 0
        assert s.state_hash() == before  # nothing placed, modified or armed
        assert s.open_orders("alice") == held
        cancel = s.sign(alice, "DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": oid})
        assert cancel.status_code == 200 and "X-MBX-ORDER-COUNT-1M" not in cancel.headers

        s.clock.now = T0 + 10_000  # the next ten seconds, the same minute
        assert [order_counts(s.sign(alice, "POST", "/fapi/v1/order", bid()))
                for _ in range(2)] == [(1, 4), (2, 5)]
        before = s.state_hash()
        r = s.sign(alice, "POST", "/fapi/v1/order", bid())
        assert (r.status_code, r.json()["code"]) == (429, -1015)
        assert r.json()["msg"] == "Too many new orders; current limit is 5 orders per 1 MINUTE."
        assert order_counts(r) == (2, 5) and s.state_hash() == before
        s.clock.now = T0 + 60_000
        assert order_counts(s.sign(alice, "POST", "/fapi/v1/order", bid())) == (1, 1)


def test_binance_s_300_orders_per_10_seconds():
    with served(RateLimits.binance()) as s:
        alice = s.client()
        off_grid = bid("29000.05")  # refused by the engine (-4014), counted all the same
        for n in range(1, 301):
            r = s.sign(alice, "POST", "/fapi/v1/order", off_grid)
            assert r.status_code == 400 and order_counts(r) == (n, n)
        before = s.state_hash()
        r = s.sign(alice, "POST", "/fapi/v1/order", bid())
        assert (r.status_code, r.json()) == (429, {
            "code": -1015, "msg": "Too many new orders; current limit is 300 orders per 10 "
            "SECOND."})
        assert s.state_hash() == before


def test_a_batch_counts_five_on_the_ten_second_counter_and_one_on_the_minute():
    """Binance's batchOrders page: 5 on X-MBX-ORDER-COUNT-10S, 1 on -1M, 5 weight —
    whatever the batch holds."""
    with served(RateLimits(orders_10s=12)) as s:
        alice = s.client()
        items = json.dumps([bid()] * 2, separators=(",", ":"))
        r = s.sign(alice, "POST", "/fapi/v1/batchOrders", {"batchOrders": items})
        assert r.status_code == 200 and order_counts(r) == (5, 1) and used(r) == 5
        r = s.sign(alice, "PUT", "/fapi/v1/batchOrders", {"batchOrders": "[]"})  # -4082
        assert r.status_code == 400 and order_counts(r) == (10, 2)
        before = s.state_hash()
        r = s.sign(alice, "POST", "/fapi/v1/batchOrders", {"batchOrders": items})
        assert (r.status_code, r.json()["code"]) == (429, -1015) and order_counts(r) == (10, 2)
        assert s.state_hash() == before


def test_order_counts_of_endpoints():
    assert signed(lambda ex, a, p: None, 0, order=True).orders == (1, 1)
    assert not signed(lambda ex, a, p: None).order
    assert Endpoint(lambda ex, a, p: None, True, 5, (5, 1)).order


def test_binance_s_1200_orders_a_minute_are_named_when_the_minute_is_full():
    m = Meter(RateLimits.binance())
    for ten in range(4):
        for _ in range(300):
            assert m.charge("127.0.0.1", "alice", 0, (1, 1), T0 + ten * 10_000).refusal is None
    refused = m.charge("127.0.0.1", "alice", 0, (1, 1), T0 + 40_000).refusal
    assert refused is not None and refused.error_message == (
        "Too many new orders; current limit is 1200 orders per 1 MINUTE.")
    m._check()


# -- bans ------------------------------------------------------------------------------------
def strike_out(s: Served, c: RawClient) -> list[requests.Response]:
    """Use up the weight limit (2), then keep asking: five 429s, then the ban."""
    return [s.get(c, "/fapi/v1/time") for _ in range(2 + w.BAN_AFTER_429S + 1)]


def test_repeated_429s_ban_the_ip_418_for_longer_each_time():
    with served(RateLimits(weight=2)) as s:
        c, alice = s.client(None, ""), s.client()
        answers = strike_out(s, c)
        assert [r.status_code for r in answers] == [200, 200] + [429] * 5 + [418]
        ban = answers[-1]
        assert ban.json() == {"code": -1003, "msg": BAN_MSG % (T0 + 120_000)}
        assert ban.headers["Retry-After"] == "120" and ban.headers["Connection"] == "close"
        assert used(ban) == 2

        before = s.state_hash()
        s.clock.now = T0 + 61_500  # a new minute, still banned: nothing is counted
        for r in (s.sign(alice, "POST", "/fapi/v1/order", bid()), s.get(c, "/fapi/v1/time"),
                  s.get(c, "/no/such/path")):
            assert (r.status_code, r.json()["code"]) == (418, -1003)
            assert r.headers["Retry-After"] == "59" and used(r) == 0
        assert s.state_hash() == before  # the order was never placed
        assert s.get(s.client(source=OTHER_IP), "/fapi/v1/time").status_code == 200

        # answered from the headers alone: a 9 MB body announced, hardly any of it sent
        status, body, top = send_raw(
            s.url, "POST", "/fapi/v1/order", body=b"a=1&" * 1024, length=9 * 1024 * 1024,
            headers={"X-MBX-APIKEY": ALICE_KEY.encode(),
                     "Content-Type": b"application/x-www-form-urlencoded"})
        assert (status, body["code"]) == (418, -1003) and b"connection: close" in top

        retry_after = []
        for start in (T0 + 120_000, T0 + 360_000):  # each time the ban has just lifted
            s.clock.now = start
            answers = strike_out(s, c)
            assert [r.status_code for r in answers] == [200, 200] + [429] * 5 + [418]
            retry_after.append(int(answers[-1].headers["Retry-After"]))
        assert retry_after == [240, 480]  # 2 minutes, then 4, then 8
        assert s.meter().tracked()[2] == 1


def test_bans_scale_to_three_days_and_are_forgotten_a_day_after():
    m = Meter(RateLimits(weight=1))
    now, lengths = T0, []
    for _ in range(15):
        for _ in range(1 + w.BAN_AFTER_429S):
            m.charge("10.0.0.1", None, 1, (0, 0), now)
        ban = m.admit("10.0.0.1", now)
        assert ban is not None and ban.status_code == 418
        lengths.append(int(ban.header["Retry-After"]))
        now += lengths[-1] * 1000
        assert m.admit("10.0.0.1", now) is None
        m._check()
    assert lengths[:3] == [120, 240, 480]
    assert lengths[-3:] == [3 * 86_400] * 3 and max(lengths) == w.MAX_BAN_MS // 1000
    m.admit("10.0.0.1", now + w.BAN_MEMORY_MS)  # a day after the last ban: forgotten
    assert m.tracked() == (0, 0, 0)
    for _ in range(1 + w.BAN_AFTER_429S):
        m.charge("10.0.0.1", None, 1, (0, 0), now + w.BAN_MEMORY_MS)
    assert m.admit("10.0.0.1", now + w.BAN_MEMORY_MS).header["Retry-After"] == "120"


# -- memory ----------------------------------------------------------------------------------
def test_the_meter_forgets_windows_that_are_over_and_bans_beyond_its_cap(monkeypatch):
    monkeypatch.setattr(w, "MAX_BAN_RECORDS", 50)
    m = Meter(RateLimits.binance(weight=1))
    for minute in range(3):  # an address cycling client: 2000 new addresses a minute
        now = T0 + minute * 60_000
        for n in range(2000):
            ip = f"10.{minute}.{n // 256}.{n % 256}"
            assert m.admit(ip, now) is None
            m.charge(ip, f"acct{n % 7}", 1, (1, 1), now)
        assert m.tracked() == (2000, 7, 0)
        m._check()
    m.admit("10.9.9.9", T0 + 3 * 60_000)
    assert m.tracked() == (0, 0, 0)
    for n in range(200):  # 200 addresses banned: the oldest 150 bans are dropped
        ip = f"10.8.0.{n}"
        for _ in range(2 + w.BAN_AFTER_429S):
            m.charge(ip, None, 1, (0, 0), T0 + 4 * 60_000)
        assert m.admit(ip, T0 + 4 * 60_000) is not None
    assert m.tracked()[2] == 50 and m.admit("10.8.0.199", T0 + 4 * 60_000) is not None
    m._check()


# -- configuration ---------------------------------------------------------------------------
def test_create_app_has_no_limits_by_default_but_counts_and_reports():
    with served(None) as s:
        c = s.client()
        answers = [s.get(c, "/fapi/v1/depth", symbol=SYMBOL, limit=1000) for _ in range(125)]
        assert {r.status_code for r in answers} == {200} and used(answers[-1]) == 2500
        assert order_counts(s.sign(c, "POST", "/fapi/v1/order", bid())) == (1, 1)
        assert s.meter().limits == RateLimits()


def test_weight_limit_keyword_still_limits_the_weight_only():
    ex = make_venue()
    assert create_app(ex, weight_limit=7).state.facade.meter.limits == RateLimits(weight=7)
    with pytest.raises(ValueError, match="not both"):
        create_app(ex, weight_limit=7, rate_limits=RateLimits.binance())
    with pytest.raises(ValueError, match="positive"):
        RateLimits(weight=0)
    assert RateLimits.binance() == RateLimits(2400, 300, 1200)
    assert RateLimits.binance().rate_limits() == BINANCE_RATE_LIMITS


def test_exchange_info_and_rate_limit_order_report_binance_s_limits():
    with served() as s:
        c = s.client()
        info = s.get(c, "/fapi/v1/exchangeInfo").json()
        assert info["rateLimits"] == BINANCE_RATE_LIMITS
        assert s.sign(c, "GET", "/fapi/v1/rateLimit/order").json() == ORDER_RATE_LIMITS == [
            BINANCE_RATE_LIMITS[2], BINANCE_RATE_LIMITS[1]]


@pytest.mark.parametrize(("args", "expected"), [
    ([], RateLimits.binance()),
    (["--weight-limit", "7"], RateLimits(7, 300, 1200)),
    (["--no-limits"], None),
])
def test_serve_passes_binance_s_limits_unless_told_otherwise(monkeypatch, args, expected):
    from engine import server

    seen = {}
    monkeypatch.setattr(server, "serve", lambda *a, **kw: seen.update(kw))
    assert main(["serve", "--port", "0", "--no-market", *args]) == 0
    assert seen["rate_limits"] == expected


def test_serve_refuses_weight_limit_with_no_limits(capsys):
    with pytest.raises(SystemExit) as e:
        main(["serve", "--no-market", "--weight-limit", "5", "--no-limits"])
    assert e.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def _serve(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", "0",
                             "--no-market", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    assert banner.startswith("fapisim serve: http://127.0.0.1:"), banner
    return proc, banner.split()[2].removesuffix("/fapi")


@pytest.mark.parametrize("args", [(), ("--no-limits",)], ids=["default", "no-limits"])
def test_fapisim_serve_limits_the_weight_per_ip_unless_no_limits(args):
    """Depth at limit=1000 weighs 20: the 121st in a minute passes 2400 — or, if the
    minute turns meanwhile, a later one."""
    proc, url = _serve(*args)
    try:
        session = requests.Session()
        answers = []
        for _ in range(240):
            r = session.get(url + "/fapi/v1/depth", params={"symbol": SYMBOL, "limit": 1000},
                            timeout=10)
            answers.append(r)
            if r.status_code != 200:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    if args:
        assert {r.status_code for r in answers} == {200} and len(answers) == 240
    else:
        last = answers[-1]
        assert (last.status_code, last.json()) == (429, {"code": -1003,
                                                         "msg": WEIGHT_MSG % 2400})
        assert used(last) > 2380 and 1 <= int(last.headers["Retry-After"]) <= 60
