"""Load: eight client threads place, cancel and query for a bounded time; nothing is lost.

Eight threads (two per account, so one account is driven concurrently) send a
seeded random stream over keep-alive connections for ``DURATION_S``: limit
orders on both sides around 30000 (so some cross and fill, arm TP/SL rows and
fire them), cancels of their own orders, batch cancels and open-order queries.
Afterwards the server must have answered every request, and every order the
venue acknowledged must be accounted for — present once, with the parameters
sent, CANCELED when a cancel was acknowledged — and every order the venue holds
must be one that was acknowledged, a TP/SL row of one, or the child of a fired
row.  ``check_invariants()`` must hold at the end and every time an auditor
thread takes the venue lock between requests, and no open-order listing may
show a closed order.
"""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal

import requests
from rest_support import SYMBOL, RawClient, live

from engine import Exchange

DURATION_S = 3.0
THREADS = 8
ACCOUNTS = 4
MAX_OPEN_PER_THREAD = 30
CANCEL_FAILURES = {-2011, -2090, -2091, -2092}  # filled, fired or expired meanwhile


class Worker(threading.Thread):
    def __init__(self, n: int, url: str, key: str, secret: str, deadline: float) -> None:
        super().__init__(name=f"load-{n}")
        self.n, self.deadline = n, deadline
        self.account = f"acct{n % ACCOUNTS}"
        self.raw = RawClient(url, key, secret)
        self.rng = random.Random(n)
        self.sent = self.answered = 0
        self.errors: list[str] = []
        #: orderId -> (clientOrderId, side, price, qty) of every acknowledged order
        self.acked: dict[int, tuple[str, str, str, str]] = {}
        self.rows: dict[int, int] = {}  # acknowledged TP/SL row -> its parent
        self.cancelled: set[int] = set()
        self.open: list[int] = []

    def call(self, method: str, path: str, params: dict) -> requests.Response | None:
        self.sent += 1
        try:
            r = self.raw.signed(method, path, params)
            r.json()
        except Exception as e:  # noqa: BLE001 - every failure to answer is recorded
            self.errors.append(f"{method} {path}: {e!r}")
            return None
        self.answered += 1
        return r

    def place(self, i: int) -> None:
        side = self.rng.choice(("BUY", "SELL"))
        price = str(self.rng.randrange(29700, 30300, 10))
        qty = self.rng.choice(("0.004", "0.005", "0.010"))
        cid = f"t{self.n}-{i}"
        params = {"symbol": SYMBOL, "side": side, "type": "LIMIT", "timeInForce": "GTC",
                  "quantity": qty, "price": price, "newClientOrderId": cid}
        if self.rng.random() < 0.3:
            up, down = int(price) + 300, int(price) - 300
            params.update({"takeProfitPrice": str(up if side == "BUY" else down),
                           "stopLossPrice": str(down if side == "BUY" else up)})
        r = self.call("POST", "/fapi/v1/order", params)
        if r is None or r.status_code != 200:
            if r is not None and r.json()["code"] not in (-2019, -2021):
                self.errors.append(f"place refused: {r.text}")
            return
        o = r.json()
        if o["orderId"] in self.acked:
            self.errors.append(f"orderId {o['orderId']} acknowledged twice")
        self.acked[o["orderId"]] = (cid, side, price, qty)
        for row in o.get("triggerOrders", []):
            self.rows[row["orderId"]] = o["orderId"]
        if o["status"] in ("NEW", "PARTIALLY_FILLED"):
            self.open.append(o["orderId"])

    def cancel(self, ids: list[int]) -> None:
        if len(ids) == 1:
            r = self.call("DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": ids[0]})
            results = None if r is None else [r.json()]
        else:
            r = self.call("DELETE", "/fapi/v1/batchOrders",
                          {"symbol": SYMBOL, "orderIdList": str(ids).replace(" ", "")})
            results = None if r is None else r.json()
        for oid, res in zip(ids, results or [], strict=False):
            if res.get("status") == "CANCELED" and res.get("orderId") == oid:
                self.cancelled.add(oid)
            elif res.get("code") not in CANCEL_FAILURES:
                self.errors.append(f"cancel {oid}: {res}")

    def run(self) -> None:
        i = 0
        while time.monotonic() < self.deadline:
            i += 1
            roll = self.rng.random()
            if roll < 0.5 or not self.open:
                self.place(i)
            elif roll < 0.85 or len(self.open) > MAX_OPEN_PER_THREAD:
                self.cancel([self.open.pop(self.rng.randrange(len(self.open)))])
            elif roll < 0.95:
                k = min(len(self.open), self.rng.randint(2, 4))
                self.cancel([self.open.pop() for _ in range(k)])
            else:
                r = self.call("GET", "/fapi/v1/openOrders", {"symbol": SYMBOL})
                if r is not None and any(o["status"] not in ("NEW", "PARTIALLY_FILLED")
                                         for o in r.json()):
                    self.errors.append(f"openOrders lists a closed order: {r.text}")


def all_orders(ex: Exchange, name: str) -> list[dict]:
    client, out, start = ex.client(name), [], 0
    while True:
        page = client.get_all_orders(symbol=SYMBOL, orderId=start, limit=1000)
        out += page
        if len(page) < 1000:
            return out
        start = page[-1]["orderId"] + 1


def test_concurrent_clients_lose_and_duplicate_nothing():
    ex = Exchange()
    creds = {}
    for a in range(ACCOUNTS):
        acct = ex.create_account(f"acct{a}", "100000")
        creds[acct.name] = (acct.api_key, acct.api_secret)
    ex.set_mark_price(SYMBOL, "30000")
    checks: list[str] = []

    def audit(lock: threading.Lock, deadline: float) -> None:
        """Between requests (holding the venue lock) the venue is always whole."""
        while time.monotonic() < deadline:
            with lock:
                try:
                    ex.check_invariants()
                    checks.append("ok")
                except Exception as e:  # noqa: BLE001 - reported below
                    checks.append(repr(e))
            time.sleep(0.1)

    with live(ex) as (url, app):
        deadline = time.monotonic() + DURATION_S
        workers = [Worker(n, url, *creds[f"acct{n % ACCOUNTS}"], deadline)
                   for n in range(THREADS)]
        auditor = threading.Thread(target=audit, args=(app.state.lock, deadline))
        for t in [*workers, auditor]:
            t.start()
        for t in [*workers, auditor]:
            t.join(DURATION_S + 30)
        assert not any(t.is_alive() for t in [*workers, auditor])
    assert len(checks) >= 5 and set(checks) == {"ok"}

    assert [e for w in workers for e in w.errors] == []
    sent = sum(w.sent for w in workers)
    assert sent == sum(w.answered for w in workers) and sent > 200
    ex.check_invariants()

    acked_ids = [oid for w in workers for oid in w.acked]
    assert len(acked_ids) == len(set(acked_ids))  # none duplicated
    venue = {name: {o["orderId"]: o for o in all_orders(ex, name)} for name in creds}
    fired = {o["triggeredOrderId"] for orders in venue.values() for o in orders.values()
             if "triggeredOrderId" in o}
    for w in workers:
        mine = venue[w.account]
        for oid, (cid, side, price, qty) in w.acked.items():  # none lost
            o = mine[oid]
            assert (o["clientOrderId"], o["side"], o["price"], Decimal(o["origQty"])) == (
                cid, side, price, Decimal(qty)), oid
        for oid in w.cancelled:
            assert mine[oid]["status"] == "CANCELED"
        for row, parent in w.rows.items():
            assert mine[row]["parentOrderId"] == parent
    known = set(acked_ids) | {r for w in workers for r in w.rows} | fired
    held = {oid for orders in venue.values() for oid in orders}
    assert held == known
