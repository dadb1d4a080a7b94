"""The stream fan-out under load: events per second from commit to socket, and how long
after a REST cancel's answer its ORDER_TRADE_UPDATE arrives.

Both run against the real server (uvicorn on a free loopback port, in a thread of this
process, as ``tests/rest_support.live`` starts it) read by the ``websockets`` client
from this process's main thread.

**Throughput** (``test_user_stream_throughput``, 1, 10 and 100 subscribers).  ``N``
connections read alice's listen key (``/private/ws/<key>``).  A round: a thread commits
``K`` commands in process — alice places a LIMIT bid (29000, the mark at 30000) and
cancels it, ``K / 2`` times, each command under ``app.state.lock`` and followed by
``app.state.hub.poke()`` as the server does after a request — while every subscriber
reads its ``K`` ORDER_TRADE_UPDATEs (x NEW, x CANCELED).  The round's time runs from
the first commit to the last message in the last subscriber's hands, so events/s =
``K`` / the median round and messages/s = ``N·K`` / the median round (each subscriber
gets every event).  ``K`` = 50,000 messages / ``N``, kept within 50 … 2,000 (2,000,
2,000 and 500 events a round for 1, 10 and 100).  Two references, each run in the
untimed set-up before every round (so both medians come from the same minutes, as with
``floor.PairedFloor``):

* *no subscriber*: bob runs the same ``K`` commands on the same server (his events are
  read by the fan-out and go nowhere): the rate the venue commits at, so
  ``hub ÷ no-sub`` is the share of it the subscribers leave;
* *bare broadcast*: a websocket app with nothing but the fan-out's shape — a queue and
  a sending task per connection — served by the same uvicorn configuration
  (``engine.server.app.running``) to ``N`` connections of the same client; another
  thread has ``K`` copies of a real ORDER_TRADE_UPDATE's bytes queued on every
  connection in one turn of the server's loop (the most batching the hub could get).
  That is what the transport and the client deliver with no venue, so ``hub ÷ bare``
  is the share the hub (the commands, the event log, formatting, the lock, a wake-up
  per command) leaves of it.  Everything shares one process and its GIL, the clients
  too, so with many subscribers both are bound by the same sending and reading.

**Latency** (``test_cancel_to_event_latency``).  One subscriber on alice's key; each
round places a LIMIT order over REST (``requests``, hand-signed like
``tests/rest_support.RawClient``) and waits for its x NEW event (untimed), then cancels
it with ``DELETE /fapi/v1/order`` and reads the socket until its x CANCELED arrives.
Latency = the event in hand − the HTTP response in hand (the client is one thread:
while it waits for the answer the frame waits in the socket buffer, so an event that
came first counts as the time to read it; a ``select`` on the socket as the answer
comes says how often it was already there).  The in-run reference is the REST round
trip of the same cancel (send → response).

What the event log costs plain placement and cancel with no subscriber at all is not
measured here: ``benchmarks/count_instructions.py`` (instructions per operation under
callgrind) and ``benchmarks/compare_revisions.py`` (alternating timed runs against an
earlier revision) give it.

Run with::

    python -m pytest benchmarks/test_streams_speed.py -q -s

(the quick profile, well under a minute; ``-s`` shows the table).  Larger runs:
``FAPISIM_BENCH_SUBSCRIBERS`` (default ``1,10,100``), ``FAPISIM_BENCH_STREAM_MESSAGES``
(messages delivered per round, spread over the subscribers; default 50,000, at least
50 events and at most 2,000 a round — a connection is closed past 8,192 queued),
``FAPISIM_BENCH_STREAM_ROUNDS`` (default 9), ``FAPISIM_BENCH_CANCELS`` (default 200),
e.g. ``FAPISIM_BENCH_SUBSCRIBERS=1,10,100,500 FAPISIM_BENCH_STREAM_ROUNDS=15
FAPISIM_BENCH_CANCELS=2000``.  The figures join the harness's summary (the lines after
the table; ``.benchmarks/summary.json``).  The assertions are sanity guards only: every
event reaches every subscriber, nobody is closed as a slow consumer, and the p99
latency stays under a generous bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import statistics
import sys
import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from benchmarks.conftest import EXTRA
from engine.server import running

SUBSCRIBERS = [int(n) for n in
               os.environ.get("FAPISIM_BENCH_SUBSCRIBERS", "1,10,100").split(",")]
MESSAGES = int(os.environ.get("FAPISIM_BENCH_STREAM_MESSAGES", "50000"))
ROUNDS = int(os.environ.get("FAPISIM_BENCH_STREAM_ROUNDS", "9"))
CANCELS = int(os.environ.get("FAPISIM_BENCH_CANCELS", "200"))
SYMBOL = "BTCUSDT"
#: a round's wait for its messages before it counts them lost (s)
PATIENCE = 60
#: the latency guard (ms): loose, for a loaded 2-core machine
P99_LIMIT_MS = 250

#: table rows: subscribers -> figures, printed at the end of the module
ROWS: dict[int, dict[str, float]] = {}


def _support():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import rest_support

    return rest_support


def _events_per_round(subscribers: int) -> int:
    """Commands (= events per subscriber) in one round: an even number, 50 … 2,000."""
    k = max(50, min(2000, MESSAGES // max(subscribers, 1)))
    return k - k % 2


# -- the bare broadcast: the fan-out's shape without a venue ------------------------------
class Broadcast:
    """A websocket app that queues what it is given on every connection, each queue
    drained by its own task (as ``engine.server.hub.Conn``'s are)."""

    def __init__(self) -> None:
        self.conns: list[tuple[WebSocket, deque[str], asyncio.Event]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.app = Starlette(routes=[WebSocketRoute("/{path:path}", self.serve)])
        # what engine.server.app.running reads of a fapisim app: no market, no state dir
        self.app.state.facade = SimpleNamespace(market=None, state=None)

    async def serve(self, ws: WebSocket) -> None:
        self.loop = asyncio.get_running_loop()
        await ws.accept()
        conn = (ws, deque(), asyncio.Event())
        self.conns.append(conn)
        sender = asyncio.ensure_future(self._drain(conn))
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self.conns.remove(conn)
            sender.cancel()

    async def _drain(self, conn: tuple[WebSocket, deque[str], asyncio.Event]) -> None:
        ws, queue, ready = conn
        while True:
            await ready.wait()
            ready.clear()
            while queue:
                await ws.send_text(queue.popleft())

    def push(self, message: str, times: int) -> None:
        for _ws, queue, ready in self.conns:
            queue.extend([message] * times)
            ready.set()

    def wake(self, message: str, times: int) -> None:
        """From another thread: ``times`` copies of a message queued on every connection,
        in one turn of the server's loop."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.push, message, times)


# -- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served():
    rs = _support()
    ex = rs.make_venue()
    with rs.live(ex) as (url, app):
        r = requests.post(url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": rs.ALICE_KEY},
                          timeout=10)
        assert r.status_code == 200, r.text
        yield SimpleNamespace(ex=ex, url=url, app=app, key=r.json()["listenKey"], rs=rs)


@pytest.fixture(scope="module")
def bare():
    b = Broadcast()
    with running(b.app) as url:
        yield b, url


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    if ROWS:
        print("\n\nuser-data stream fan-out (medians of the rounds; references in the same "
              "rounds)")
        print(f"{'subs':>5}{'events':>8}{'ev/s each':>11}{'msg/s all':>11}"
              f"{'bare msg/s':>12}{'hub/bare':>10}{'no-sub cmd/s':>14}{'hub/no-sub':>12}")
        for n, r in sorted(ROWS.items()):
            print(f"{n:>5}{r['events']:>8}{r['events_s']:>11,.0f}{r['messages_s']:>11,.0f}"
                  f"{r['bare_s']:>12,.0f}{r['vs_bare']:>10.1%}"
                  f"{r['nosub_s']:>14,.0f}{r['vs_nosub']:>12.1%}")
        print("events: per round and subscriber; ev/s each: events/s reaching every "
              "subscriber; msg/s all: × subscribers;\nbare: the same messages through a "
              "bare websocket broadcast; no-sub: the same commands with no subscriber")


# -- throughput -----------------------------------------------------------------------------
def _drive(app, client, k: int, price: str) -> list[int]:
    """``k`` commands from this thread: place and cancel, each under the lock, then poke."""
    lock, poke = app.state.lock, app.state.hub.poke
    ids = []
    for _ in range(k // 2):
        with lock:
            order = client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT",
                                     timeInForce="GTC", quantity="0.010", price=price)
        poke()
        with lock:
            client.cancel_order(symbol=SYMBOL, orderId=order["orderId"])
        poke()
        ids.append(order["orderId"])
    return ids


async def _connect(url: str, n: int) -> list:
    return list(await asyncio.gather(*[websockets.connect(url) for _ in range(n)]))


async def _close(conns: list) -> None:
    await asyncio.gather(*[ws.close() for ws in conns])


async def _extra(conns: list) -> int:
    """How many of ``conns`` receive anything more within 0.3 s."""

    async def silent(ws) -> bool:
        try:
            await asyncio.wait_for(ws.recv(), 0.3)
        except TimeoutError:
            return True
        return False

    return list(await asyncio.gather(*[silent(ws) for ws in conns])).count(False)


async def _read(ws, k: int) -> str:
    """Read ``k`` messages; the last one."""
    last = ""
    for _ in range(k):
        last = await ws.recv()
    return last


@pytest.mark.parametrize("subscribers", SUBSCRIBERS)
def test_user_stream_throughput(benchmark, served, bare, subscribers):
    broadcast, bare_url = bare
    k = _events_per_round(subscribers)
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    alice, bob = served.ex.client("alice"), served.ex.client("bob")
    hub = served.app.state.hub
    slow_before = hub.slow_closed
    ws_url = served.url.replace("http://", "ws://")
    subs = run(_connect(f"{ws_url}/private/ws/{served.key}", subscribers))
    bare_subs = run(_connect(bare_url.replace("http://", "ws://") + "/bare", subscribers))
    lasts: list[list[str]] = []
    ids: list[list[int]] = []
    bare_times: list[float] = []
    nosub_times: list[float] = []

    async def hub_round() -> None:
        drive = asyncio.to_thread(_drive, served.app, alice, k, "29000")
        out = await asyncio.wait_for(asyncio.gather(drive, *[_read(ws, k) for ws in subs]),
                                     PATIENCE)
        ids.append(out[0])
        lasts.append(out[1:])

    async def bare_round(message: str) -> None:
        drive = asyncio.to_thread(broadcast.wake, message, k)
        await asyncio.wait_for(asyncio.gather(drive, *[_read(ws, k) for ws in bare_subs]),
                               PATIENCE)

    try:
        deadline = time.monotonic() + 10
        while len(broadcast.conns) < subscribers and time.monotonic() < deadline:
            time.sleep(0.01)  # the bare app registers a connection after its handshake
        run(hub_round())  # warms up, and gives the bare broadcast a real message's bytes
        message = lasts[0][0]

        def references() -> None:
            t = time.perf_counter()
            run(bare_round(message))
            bare_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            _drive(served.app, bob, k, "29000")
            nosub_times.append(time.perf_counter() - t)

        benchmark.pedantic(lambda: run(hub_round()), setup=references, rounds=ROUNDS,
                           warmup_rounds=0)
        extra = run(_extra(subs))
    finally:
        run(_close(subs + bare_subs))
        loop.close()

    # sanity: every subscriber's last message is the last order's x CANCELED, none closed
    for order_ids, last in zip(ids, lasts, strict=True):
        for raw in last:
            msg = json.loads(raw)
            assert (msg["e"], msg["o"]["x"], msg["o"]["i"]) == (
                "ORDER_TRADE_UPDATE", "CANCELED", order_ids[-1]), msg
    assert extra == 0, f"{extra} subscriber(s) got more than the {k} events of a round"
    assert hub.slow_closed == slow_before
    assert alice.get_orders(symbol=SYMBOL) == [] and bob.get_orders(symbol=SYMBOL) == []

    median = benchmark.stats.stats.median
    events_s = k / median
    bare_s = k * subscribers / statistics.median(bare_times)
    nosub_s = k / statistics.median(nosub_times)
    row = ROWS[subscribers] = {
        "events": k, "events_s": events_s, "messages_s": events_s * subscribers,
        "bare_s": bare_s, "vs_bare": events_s * subscribers / bare_s,
        "nosub_s": nosub_s, "vs_nosub": events_s / nosub_s,
    }
    benchmark.extra_info.update({key: round(v, 4) for key, v in row.items()})
    EXTRA[f"user-data stream, {subscribers} subscriber(s)"] = (
        f"{events_s:,.0f} events/s to each ({row['messages_s']:,.0f} messages/s), "
        f"{row['vs_bare']:.0%} of a bare websocket broadcast, {row['vs_nosub']:.0%} of the "
        f"commands' rate with no subscriber")
    print(f"\n{subscribers} subscriber(s), {k} events a round: {events_s:,.0f} events/s each, "
          f"{row['messages_s']:,.0f} messages/s in all; bare broadcast {bare_s:,.0f} "
          f"messages/s ({row['vs_bare']:.1%}); no subscriber {nosub_s:,.0f} commands/s "
          f"({row['vs_nosub']:.1%})")


# -- latency ----------------------------------------------------------------------------------
def test_cancel_to_event_latency(benchmark, served):
    rs = served.rs
    client = rs.RawClient(served.url, rs.ALICE_KEY, rs.ALICE_SECRET)
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    ws = run(websockets.connect(
        f"{served.url.replace('http://', 'ws://')}/private/ws/{served.key}"))
    sock = ws.transport.get_extra_info("socket")
    sent: list[float] = []
    answered: list[float] = []
    arrived: list[float] = []
    waiting: list[bool] = []  # was the socket readable when the answer came?

    async def until(order_id: int, x: str) -> None:
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), PATIENCE))
            if msg.get("e") == "ORDER_TRADE_UPDATE" and msg["o"]["i"] == order_id and \
                    msg["o"]["x"] == x:
                return

    def place() -> tuple[tuple, dict]:
        order = client.ok("POST", "/fapi/v1/order", dict(
            symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
            price="29000"))
        run(until(order["orderId"], "NEW"))
        return (order["orderId"],), {}

    def cancel(order_id: int) -> None:
        t0 = time.perf_counter()
        r = client.signed("DELETE", "/fapi/v1/order", dict(symbol=SYMBOL, orderId=order_id))
        t1 = time.perf_counter()
        waiting.append(bool(select.select([sock], [], [], 0)[0]))
        assert r.status_code == 200 and r.json()["status"] == "CANCELED", r.text
        run(until(order_id, "CANCELED"))
        t2 = time.perf_counter()
        sent.append(t0)
        answered.append(t1)
        arrived.append(t2)

    try:
        benchmark.pedantic(cancel, setup=place, rounds=CANCELS, warmup_rounds=10)
    finally:
        run(ws.close())
        loop.close()

    n = len(arrived) - CANCELS  # the warm-up rounds come first
    lat = sorted((b - a) * 1000 for a, b in zip(answered[n:], arrived[n:], strict=True))
    rtt = sorted((b - a) * 1000 for a, b in zip(sent[n:], answered[n:], strict=True))
    total = sorted((b - a) * 1000 for a, b in zip(sent[n:], arrived[n:], strict=True))
    first = sum(waiting[n:]) / CANCELS

    def pct(xs: list[float], p: float) -> float:
        return xs[min(len(xs) - 1, int(p * len(xs)))]

    figures = {"event_p50_ms": pct(lat, 0.5), "event_p99_ms": pct(lat, 0.99),
               "event_max_ms": lat[-1], "rest_p50_ms": pct(rtt, 0.5),
               "rest_p99_ms": pct(rtt, 0.99), "sent_event_p50_ms": pct(total, 0.5),
               "sent_event_p99_ms": pct(total, 0.99), "event_first_share": first}
    benchmark.extra_info.update({key: round(v, 3) for key, v in figures.items()})
    EXTRA[f"REST cancel answer -> its ORDER_TRADE_UPDATE ({CANCELS} cancels)"] = (
        f"p50 {figures['event_p50_ms']:.2f} ms, p99 {figures['event_p99_ms']:.2f} ms "
        f"(the cancel's round trip: p50 {figures['rest_p50_ms']:.2f} ms, p99 "
        f"{figures['rest_p99_ms']:.2f} ms; the event already waiting at the answer "
        f"{first:.0%} of the time)")
    print(f"\n\ncancel answer -> x CANCELED on the socket, {CANCELS} cancels (ms)")
    print(f"{'':<28}{'p50':>8}{'p99':>8}{'max':>8}")
    print(f"{'answer -> event':<28}{figures['event_p50_ms']:>8.2f}"
          f"{figures['event_p99_ms']:>8.2f}{lat[-1]:>8.2f}")
    print(f"{'REST round trip (reference)':<28}{figures['rest_p50_ms']:>8.2f}"
          f"{figures['rest_p99_ms']:>8.2f}{rtt[-1]:>8.2f}")
    print(f"{'request sent -> event':<28}{pct(total, 0.5):>8.2f}{pct(total, 0.99):>8.2f}"
          f"{total[-1]:>8.2f}")
    print(f"the event was already in the socket buffer when the answer came: {first:.0%} of "
          f"the cancels")
    print(f"event p50 / round-trip p50: {figures['event_p50_ms'] / figures['rest_p50_ms']:.2f}")
    assert figures["event_p99_ms"] < P99_LIMIT_MS
