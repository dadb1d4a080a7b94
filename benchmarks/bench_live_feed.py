"""The served market under load: prints the feed applies per second, alone and while 8 REST
clients poll and trade; and the requests those clients get answered.

A venue serves its synthetic market (``engine.server.feed.SyntheticFeed``, both symbols,
a print every 10 ms of market time) behind the real server on a loopback port.  The
server's clock runs the market 600 times faster than wall time, far more than the feed
can apply, so the prints applied per second is the feed's throughput (its ladder moves
and the venue settles on every print); it catches up at most 2,000 prints a turn under
the lock, so requests are answered in between.  First the feed runs alone (the in-run
reference); then 8 client threads run against the same server: 4 poll ``klines`` (1m,
500) and ``depth`` (limit 20), 4 place a LIMIT bid away from the market and cancel it.
Both phases last :data:`SECONDS`.  Run with::

    python -m pytest benchmarks/bench_live_feed.py -s
"""

from __future__ import annotations

import threading
import time

from benchmarks.conftest import EXTRA
from engine import Exchange
from engine.server import SyntheticFeed, create_app, running

SECONDS = 5
SPEED = 600
T0 = 1_765_000_020_000
KEY, SECRET = "bench-key", "bench-secret"


def _prints(feed: SyntheticFeed) -> int:
    return feed.applied


def test_feed_throughput_alone_and_under_eight_clients():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from rest_support import RawClient

    ex = Exchange(start_time=T0 - 1)
    ex.create_account("bench", "1000000", api_key=KEY, api_secret=SECRET)
    feed = SyntheticFeed(ex, seed=1, now_ms=T0, history_minutes=600,
                         trades_per_day=8_640_000)
    feed.advance(T0)  # the first day of prints is generated before the clock runs
    start = time.monotonic()

    def clock() -> int:
        return T0 + int((time.monotonic() - start) * 1000 * SPEED)

    app = create_app(ex, market=feed, clock=clock)
    with running(app) as url:
        base = _prints(feed)
        time.sleep(SECONDS)
        alone = (_prints(feed) - base) / SECONDS

        stop = threading.Event()
        answered = [0] * 8

        def poll(i: int) -> None:
            c = RawClient(url, None, "")
            while not stop.is_set():
                c.session.get(url + "/fapi/v1/klines",
                              params={"symbol": "BTCUSDT", "interval": "1m"}, timeout=30)
                c.session.get(url + "/fapi/v1/depth", params={"symbol": "BTCUSDT",
                                                               "limit": "20"}, timeout=30)
                answered[i] += 2

        def trade(i: int) -> None:
            c = RawClient(url, KEY, SECRET)
            while not stop.is_set():
                now = clock()
                r = c.signed("POST", "/fapi/v1/order", {
                    "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                    "quantity": "0.010", "price": "30000"}, body=True, timestamp=now)
                if r.status_code == 200:
                    c.signed("DELETE", "/fapi/v1/order", {
                        "symbol": "BTCUSDT", "orderId": r.json()["orderId"]},
                        timestamp=clock())
                answered[i] += 2

        threads = [threading.Thread(target=poll if i < 4 else trade, args=(i,))
                   for i in range(8)]
        base = _prints(feed)
        t = time.monotonic()
        for th in threads:
            th.start()
        time.sleep(SECONDS)
        stop.set()
        for th in threads:
            th.join(60)
        elapsed = time.monotonic() - t
        loaded = (_prints(feed) - base) / elapsed
        requests = sum(answered) / elapsed
    with app.state.lock:
        ex.check_invariants()
    EXTRA["served market under load"] = {
        "prints_per_s_alone": round(alone), "prints_per_s_with_8_clients": round(loaded),
        "requests_per_s_answered": round(requests),
        "ratio_loaded_to_alone": round(loaded / alone, 2),
    }
    print(EXTRA["served market under load"])
    assert loaded > 0 and requests > 0
