"""Signed cancel round trips over loopback against ``fapisim serve`` (its own process).

Each round cancels one resting LIMIT order with ``DELETE /fapi/v1/order``: the
client signs the request (HMAC-SHA256), sends it over a keep-alive HTTP/1.1
connection (the standard library's ``http.client``, so the figure is the
server's rather than a heavy client's: ``requests`` alone adds about half a
millisecond per call), the server authenticates, cancels in the engine and
answers JSON, which the client parses.  The order is placed in the round's
untimed set-up, so the book stays small.  Run with::

    python -m pytest benchmarks/test_rest_cancel.py --benchmark-only

The figure is requests per second = 1 / the median round trip; it joins the
harness's summary table as ``rest_signed_cancel`` (the book holds one order).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest

from benchmarks.conftest import record

KEY, SECRET = "bench-key", "bench-secret"
ACCOUNTS = f'[[account]]\nname = "bench"\nbalance = "1000000000"\napi_key = "{KEY}"\n' \
           f'api_secret = "{SECRET}"\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    accounts = tmp_path_factory.mktemp("bench") / "accounts.toml"
    accounts.write_text(ACCOUNTS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "--port", "0", "--accounts", str(accounts),
         "--mark", "BTCUSDT=30000", "--no-market", "--no-limits"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("fapisim serve: http://"), line
    url = line.split()[2].removesuffix("/fapi")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _signed(conn: http.client.HTTPConnection, method: str, path: str, params: dict) -> dict:
    text = urlencode({**params, "timestamp": time.time_ns() // 1_000_000})
    text += "&signature=" + hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    conn.request(method, f"{path}?{text}", headers={"X-MBX-APIKEY": KEY})
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, body
    return json.loads(body)


def test_signed_cancel_round_trip(benchmark, server):
    host, port = server.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port))
    prices = itertools.cycle(range(29000, 29900, 10))

    def place() -> tuple[tuple, dict]:
        order = _signed(conn, "POST", "/fapi/v1/order", {
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "price": str(next(prices))})
        return (order["orderId"],), {}

    def cancel(order_id: int) -> None:
        out = _signed(conn, "DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": order_id})
        assert out["status"] == "CANCELED"

    benchmark.pedantic(cancel, setup=place, rounds=3000, warmup_rounds=100)
    rps = record(benchmark, "rest_signed_cancel", 1, 1)
    print(f"\nsigned cancel round trips: {rps:.0f} requests/s")
