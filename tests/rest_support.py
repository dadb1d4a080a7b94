"""Shared set-up for the REST facade tests: a venue, a live server, a raw signed client.

The venue has two accounts with fixed credentials and BTCUSDT's mark at 30000;
the server is the real one (uvicorn on a free loopback port, in a thread).
``RawClient`` signs requests exactly as SPEC 2.3 describes, so tests can also
send what no library would (a tampered parameter, a misplaced signature).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import requests

from engine import Exchange
from engine.server import create_app, running

SYMBOL = "BTCUSDT"
ALICE_KEY, ALICE_SECRET = "alice-key-0001", "alice-secret-0001"
BOB_KEY, BOB_SECRET = "bob-key-0002", "bob-secret-0002"


def make_venue() -> Exchange:
    """alice and bob, 10000 USDT each; BTCUSDT mark 30000."""
    ex = Exchange()
    ex.create_account("alice", "10000", api_key=ALICE_KEY, api_secret=ALICE_SECRET)
    ex.create_account("bob", "10000", api_key=BOB_KEY, api_secret=BOB_SECRET)
    ex.set_mark_price(SYMBOL, "30000")
    return ex


@contextmanager
def live(ex: Exchange, **kwargs) -> Iterator[tuple[str, object]]:
    """Serve ``ex`` on a free loopback port; yields ``(base_url, app)``."""
    app = create_app(ex, **kwargs)
    with running(app) as url:
        yield url, app


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def hmac_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class RawClient:
    """Hand-signed requests over one keep-alive session."""

    def __init__(self, url: str, key: str | None, secret: str) -> None:
        self.url, self.key, self.secret = url, key, secret
        self.session = requests.Session()

    def headers(self) -> dict[str, str]:
        return {} if self.key is None else {"X-MBX-APIKEY": self.key}

    def signed(self, method: str, path: str, params: dict | None = None, *,
               body: bool = False, timestamp: int | None = None) -> requests.Response:
        """Sign ``params`` (+ timestamp) and send them in the query, or the form body."""
        p = dict(params or {})
        p["timestamp"] = now_ms() if timestamp is None else timestamp
        text = urlencode(p)
        text += "&signature=" + hmac_hex(self.secret, text)
        return self.send(method, path, text, body=body)

    def send(self, method: str, path: str, text: str, *, body: bool = False) -> (
        requests.Response
    ):
        """Send an already-built parameter string as it is."""
        if body:
            return self.session.request(
                method, self.url + path, data=text, headers={
                    **self.headers(), "Content-Type": "application/x-www-form-urlencoded"},
                timeout=10)
        return self.session.request(method, f"{self.url}{path}?{text}", headers=self.headers(),
                                    timeout=10)

    def ok(self, method: str, path: str, params: dict | None = None, **kw) -> object:
        r = self.signed(method, path, params, **kw)
        assert r.status_code == 200, r.text
        return r.json()


def send_raw(url: str, verb: str, path: str, query: str = "", body: bytes = b"",
             headers: dict[str, bytes] | None = None,
             length: int | None = None) -> tuple[int, object, bytes]:
    """One HTTP/1.1 request written byte for byte on a fresh socket (no client library
    re-encodes anything); ``(status, JSON body, lower-cased response head)``.  A server
    that answers before reading the whole body may close while it is still being sent:
    the answer is read all the same.  ``length``: the Content-Length to announce (default
    the body's)."""
    import json
    import socket

    host, port = url.removeprefix("http://").rsplit(":", 1)
    target = f"{path}?{query}" if query else path
    head = f"{verb} {target} HTTP/1.1\r\nHost: {host}\r\n".encode()
    for name, value in (headers or {}).items():
        head += name.encode() + b": " + value + b"\r\n"
    head += b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                top, sep, rest = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in top.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if sep and length is not None and len(rest) >= length:
                    break
        except ConnectionResetError:
            pass
    top, _, rest = data.partition(b"\r\n\r\n")
    return int(top.split()[1]), json.loads(rest), top.lower()


def ccxt_usdm(url: str, key: str, secret: str):
    """ccxt's ``binanceusdm`` with every /fapi URL pointed at ``url`` and nothing else
    changed (its currency download, a /sapi call, switched off)."""
    import ccxt

    bot = ccxt.binanceusdm({"apiKey": key, "secret": secret,
                            "options": {"fetchCurrencies": False}})
    for name in ("fapiPublic", "fapiPrivate"):
        bot.urls["api"][name] = url + "/fapi/v1"
    for v in ("V2", "V3"):
        bot.urls["api"]["fapiPublic" + v] = bot.urls["api"]["fapiPrivate" + v] = (
            f"{url}/fapi/{v.lower()}")
    return bot
