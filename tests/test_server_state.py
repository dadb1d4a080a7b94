"""``fapisim serve --state DIR``: the served market's progress in the journal as deferred
lines, resuming from journal and snapshot, the lock, and a real process killed with
SIGKILL mid-load that resumes with everything its clients were told."""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_support import RawClient

from engine import Exchange
from engine.core.errors import ClientError
from engine.persist.journal import JournalError, replay
from engine.server.feed import SyntheticFeed
from engine.server.state import StateDir, StateError

T0 = 1_767_225_600_000  # 2026-01-01, a funding time
TOKEN = "operator-token-0123456789"


def new_venue(state: StateDir, seed: int = 5) -> tuple[Exchange, SyntheticFeed]:
    ex = state.create(lambda path: Exchange(journal=path))
    ex.create_account("a", "100000")
    feed = SyntheticFeed(ex, seed=seed, now_ms=T0, history_minutes=30)
    return ex, feed


def lines(state: StateDir) -> list[str]:
    import json

    return [json.loads(x)["cmd"] for x in state.journal.read_text().splitlines()[1:]]


def bot_step(ex: Exchange, rng: random.Random) -> None:
    """A bot command near the market: a MARKET order, a LIMIT inside the ladder, a
    cancel; refusals are part of the session (they write nothing)."""
    c = ex.client("a")
    symbol = rng.choice(["BTCUSDT", "ETHUSDT"])
    try:
        kind = rng.randrange(3)
        if kind == 0:
            c.new_order(symbol=symbol, side=rng.choice(["BUY", "SELL"]), type="MARKET",
                        quantity="0.01")
        elif kind == 1:
            book = c.depth(symbol=symbol, limit=5)
            side, levels = rng.choice([("BUY", book["bids"]), ("SELL", book["asks"])])
            c.new_order(symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                        quantity="0.01", price=levels[rng.randrange(len(levels))][0])
        else:
            for o in c.get_orders(symbol=symbol)[:1]:
                c.cancel_order(symbol=symbol, orderId=o["orderId"])
    except ClientError:
        pass


# -- the journal records the market's position, not its prints ---------------------------
def test_the_market_is_one_line_before_each_command_and_replays_exactly(tmp_path):
    state = StateDir(tmp_path / "s")
    ex, feed = new_venue(state)
    assert lines(state) == ["create_account", "market_open"]
    for k in range(1, 40):
        feed.advance(T0 + k * 3_000)  # two minutes of prints, ~100 of them
    assert feed.applied > 50
    assert lines(state) == ["create_account", "market_open"]  # deferred, not yet written
    ex.client("a").new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert lines(state) == ["create_account", "market_open", "market", "new_order"]
    ex.client("a").new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.01")
    assert lines(state)[-1] == "new_order" and len(lines(state)) == 5  # no progress between
    feed.advance(T0 + 200_000)
    want, position = ex.state_hash(), feed.position()
    ex.journal.flush()
    state.close()

    again = StateDir(tmp_path / "s")
    got, market = again.resume()
    assert got.state_hash() == want and market is not None and market.position() == position
    assert got.journal is not None and got.journal.seq == 6


def test_a_served_journal_without_its_market_names_what_replays_it(tmp_path):
    state = StateDir(tmp_path / "s")
    ex, feed = new_venue(state)
    feed.advance(T0 + 10_000)
    ex.client("a").new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    with pytest.raises(JournalError, match="line 3: unknown command 'market_open' .written by "
                                           "a served market: resume it with fapisim serve"):
        replay(state.journal)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20_000), st.sampled_from([None, 1, 3, 40]),
                          st.booleans()), min_size=1, max_size=25), st.integers(0, 2**16))
def test_however_the_market_is_advanced_a_resume_gives_the_same_venue(tmp_path_factory, steps,
                                                                      seed):
    """Any run of advances (with and without a print budget, as the server's turns are)
    and bot commands: the journaled venue equals one that journals nothing, and
    resuming its state directory gives the same venue and market position."""
    root = tmp_path_factory.mktemp("split")
    state = StateDir(root / "s")
    ex, feed = new_venue(state, seed % 7)
    plain = Exchange()
    plain.create_account("a", "100000")
    plain_feed = SyntheticFeed(plain, seed=seed % 7, now_ms=T0, history_minutes=30)
    rng_a, rng_b = random.Random(seed), random.Random(seed)
    t = T0
    for gap, budget, command in steps:
        t += gap
        for venue, market, rng in ((ex, feed, rng_a), (plain, plain_feed, rng_b)):
            reached = market.advance(t, budget)
            if not venue.pass_time(reached):
                venue.set_time(reached)
            if command:
                bot_step(venue, rng)
    assert ex.state_hash() == plain.state_hash() and feed.position() == plain_feed.position()
    assert feed.state() == plain_feed.state()  # the stores too: the bots' trades included
    want = ex.state_hash()
    ex.journal.flush()
    state.close()
    got, market = StateDir(root / "s").resume()
    assert got.state_hash() == want  # the clock too: the market line carries it
    assert market is not None and market.position() == feed.position()
    for m in (market, feed):  # the same from here on
        m.advance(t + 90_000)
    assert got.state_hash() == ex.state_hash() and market.state() == feed.state()


# -- snapshots ---------------------------------------------------------------------------
def test_a_resume_starts_from_the_snapshot_and_replays_only_the_tail(tmp_path):
    state = StateDir(tmp_path / "s")
    ex, feed = new_venue(state)
    rng = random.Random(1)
    for k in range(1, 30):
        feed.advance(T0 + k * 2_000)
        bot_step(ex, rng)
    data = state.capture(ex, feed)
    assert data is not None and state.capture(ex, feed) is None  # nothing new since
    state.write(data)
    at = ex.journal.seq
    for k in range(30, 50):
        feed.advance(T0 + k * 2_000)
        bot_step(ex, rng)
    ex.journal.flush()
    want, market_state = ex.state_hash(), feed.state()
    state.close()

    again = StateDir(tmp_path / "s")
    got, market = again.resume()
    assert again.snapshot_seq == at > 10
    assert got.state_hash() == want and market is not None and market.state() == market_state


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other journal"])
def test_a_bad_snapshot_is_set_aside_and_the_journal_replayed_whole(tmp_path, damage, caplog):
    state = StateDir(tmp_path / "s")
    ex, feed = new_venue(state)
    feed.advance(T0 + 30_000)
    bot_step(ex, random.Random(2))
    data = state.capture(ex, feed)
    assert data is not None
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = os.urandom(4096)
    else:  # a snapshot of another state directory's venue
        other = StateDir(tmp_path / "other")
        oex, ofeed = new_venue(other, seed=6)
        ofeed.advance(T0 + 5_000)
        data = other.capture(oex, ofeed)
        other.close()
    state.write(data)
    feed.advance(T0 + 60_000)
    ex.journal.flush()
    want = ex.state_hash()
    state.close()
    with caplog.at_level(logging.WARNING, "fapisim.server"):
        got, _market = StateDir(tmp_path / "s").resume()
    assert got.state_hash() == want
    assert "replaying the journal from its first line" in caplog.text


def test_a_second_server_on_the_directory_is_refused_naming_the_first(tmp_path):
    first = StateDir(tmp_path / "s")
    with pytest.raises(StateError, match=f"in use by another fapisim serve .pid {os.getpid()}"):
        StateDir(tmp_path / "s")
    first.close()
    StateDir(tmp_path / "s").close()  # released: usable again


def test_a_state_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(StateError, match="--state .*f"):
        StateDir(tmp_path / "f")


# -- a real process, killed ----------------------------------------------------------------
def start(state_dir, *extra: str) -> tuple[subprocess.Popen, str, dict[str, tuple[str, str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "--port", "0", "--state", str(state_dir),
         "--history", "60", "--speed", "0", "--no-limits", *extra],  # the load is the point
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "FAPISIM_ADMIN_TOKEN": TOKEN})
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    assert banner.startswith("fapisim serve: http://127.0.0.1:"), banner + proc.stderr.read()
    keys = {}
    for _ in range(2):
        words = proc.stdout.readline().split()
        keys[words[1]] = (words[3], words[5])
    return proc, banner.split()[2].removesuffix("/fapi"), keys


def admin(url: str, method: str, op: str, **params) -> dict:
    import requests

    r = requests.request(method, f"{url}/fapisim/v1/{op}", params=params,
                         headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


class Load:
    """Clients placing, filling and cancelling orders until stopped; they remember every
    answer they were given."""

    def __init__(self, url: str, keys: dict[str, tuple[str, str]]) -> None:
        import requests

        self.url, self.keys = url, keys
        last = requests.get(f"{url}/fapi/v1/ticker/price", params={"symbol": "BTCUSDT"})
        self.base = int(Decimal(last.json()["price"]))  # whole USDT: on the tick grid
        self.orders: dict[int, dict] = {}  # the last answer about each order
        self.cancelled: set[int] = set()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(name, k), daemon=True)
                        for k, name in enumerate(sorted(keys) * 2)]

    def run(self, name: str, k: int) -> None:
        rng = random.Random(k)
        c = RawClient(self.url, *self.keys[name])
        while not self.stop.is_set():
            try:
                kind = rng.randrange(4)
                if kind == 0:
                    r = c.signed("POST", "/fapi/v1/order", {
                        "symbol": "BTCUSDT", "side": rng.choice(["BUY", "SELL"]),
                        "type": "MARKET", "quantity": "0.003", "newOrderRespType": "RESULT"})
                elif kind == 3 and self.orders:
                    oid = rng.choice(sorted(self.orders))
                    r = c.signed("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT",
                                                                "orderId": oid})
                    if r.status_code == 200:
                        self.cancelled.add(oid)
                else:  # a bid or an ask up to 0.3 % away: prints fill some
                    side = rng.choice(["BUY", "SELL"])
                    away = self.base * rng.randrange(1, 30) // 10_000
                    price = self.base - away if side == "BUY" else self.base + away
                    r = c.signed("POST", "/fapi/v1/order", {
                        "symbol": "BTCUSDT", "side": side, "type": "LIMIT",
                        "timeInForce": "GTC", "quantity": "0.003", "price": str(price)})
            except OSError:
                return  # the server is gone
            if r.status_code == 200 and "orderId" in r.json():
                body = r.json()
                self.orders[body["orderId"]] = body

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def test_a_server_killed_mid_load_resumes_with_everything_its_clients_were_told(tmp_path):
    state_dir = tmp_path / "venue"
    proc, url, keys = start(state_dir)
    try:
        admin(url, "POST", "deposit", account="alice", amount="5000")
        with Load(url, keys) as load:
            for _ in range(6):
                time.sleep(0.3)
                admin(url, "POST", "advance", ms=20_000)  # prints fill some resting bids
            told = len(load.orders)
            proc.send_signal(signal.SIGKILL)  # mid-load: clients are still sending
            proc.wait(10)
        assert told > 20 and proc.returncode == -signal.SIGKILL
        assert any(o["status"] == "FILLED" for o in load.orders.values())
    finally:
        proc.kill()

    proc, url, keys2 = start(state_dir)
    try:
        assert keys2 == keys
        status = admin(url, "GET", "status")
        assert status["journal"]["seq"] > told
        clients = {n: RawClient(url, *k) for n, k in keys.items()}
        by_owner = {}
        for c in clients.values():
            from_id = 0
            while True:
                page = c.signed("GET", "/fapi/v1/allOrders", {
                    "symbol": "BTCUSDT", "orderId": from_id, "limit": 1000}).json()
                by_owner.update((o["orderId"], o) for o in page)
                if len(page) < 1000:
                    break
                from_id = page[-1]["orderId"] + 1
        for oid, answer in load.orders.items():
            now = by_owner.get(oid)
            assert now is not None, f"order {oid} was acknowledged and is gone"
            for key in ("symbol", "side", "type", "origQty", "price", "clientOrderId"):
                assert now[key] == answer[key], (oid, key)
            if answer["status"] in ("FILLED", "CANCELED", "EXPIRED"):
                assert now["status"] == answer["status"]
                assert now["executedQty"] == answer["executedQty"]
            assert Decimal(now["executedQty"]) >= Decimal(answer["executedQty"])
        for oid in load.cancelled:
            assert by_owner[oid]["status"] == "CANCELED"
        # a quiet point: what the clients read now survives a second kill exactly
        seen = {n: (c.signed("GET", "/fapi/v2/balance").json(),
                    c.signed("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"}).json(),
                    c.signed("GET", "/fapi/v2/positionRisk").json())
                for n, c in clients.items()}
        hash_before = admin(url, "GET", "stateHash")["stateHash"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()

    proc, url, _keys = start(state_dir)
    try:
        clients = {n: RawClient(url, *k) for n, k in keys.items()}
        assert admin(url, "GET", "stateHash")["stateHash"] == hash_before
        for n, c in clients.items():
            assert seen[n] == (c.signed("GET", "/fapi/v2/balance").json(),
                               c.signed("GET", "/fapi/v1/userTrades",
                                        {"symbol": "BTCUSDT"}).json(),
                               c.signed("GET", "/fapi/v2/positionRisk").json())
        assert Decimal(seen["alice"][0][0]["balance"]) != Decimal("100000")
        second = subprocess.run(
            [sys.executable, "-m", "engine", "serve", "--port", "0", "--state", str(state_dir)],
            capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"in use by another fapisim serve (pid {proc.pid})" in second.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert (state_dir / "snapshot.bin").exists()  # written at the clean stop


@pytest.mark.parametrize("damage", ["next past the day", "funding row", "prints out of order",
                                    "another symbol", "applied not an int"])
def test_a_market_state_that_is_not_one_is_refused_and_takes_nothing_up(tmp_path, damage):
    ex = Exchange()
    ex.create_account("a", "100000")
    feed = SyntheticFeed(ex, seed=5, now_ms=T0, history_minutes=30)
    feed.advance(T0 + 120_000)
    good = feed.state()
    bad = feed.state()
    btc = bad["symbols"]["BTCUSDT"]
    if damage == "next past the day":
        btc["next"] = 10**9
    elif damage == "funding row":
        btc["funding"] = [[1, 2]]
    elif damage == "prints out of order":
        t = np.frombuffer(btc["prints"]["T"], "<i8").copy()
        t[0], t[-1] = t[-1], t[0]
        btc["prints"]["T"] = t.tobytes()
    elif damage == "another symbol":
        bad["symbols"]["SOLUSDT"] = bad["symbols"].pop("ETHUSDT")
    else:
        bad["applied"] = "7"
    fresh = SyntheticFeed(ex, **{k: v for k, v in feed.params.items()}, open_venue=False)
    before = fresh.state()
    with pytest.raises(ValueError):
        fresh.restore_state(bad)
    assert fresh.state() == before
    fresh.restore_state(good)
    assert fresh.state() == good


@pytest.mark.parametrize("journal", ["missing", "empty"])
def test_a_snapshot_without_its_journal_is_refused_not_started_over(tmp_path, journal):
    state = StateDir(tmp_path / "s")
    ex, feed = new_venue(state)
    feed.advance(T0 + 30_000)
    bot_step(ex, random.Random(4))
    state.write(state.capture(ex, feed), ex.journal)
    ex.close_journal()
    state.close()
    if journal == "missing":
        state.journal.unlink()
    else:
        state.journal.write_bytes(b"")
    before = state.snapshot_path.read_bytes()
    with pytest.raises(StateError, match="holds a snapshot but no journal"):
        StateDir(tmp_path / "s").create(lambda p: Exchange(journal=p))
    from engine.cli import main

    assert main(["serve", "--port", "0", "--state", str(tmp_path / "s")]) == 2
    assert state.snapshot_path.read_bytes() == before  # the old venue is not overwritten


def test_a_torn_last_line_is_cut_with_a_warning_naming_it(tmp_path, caplog):
    state = StateDir(tmp_path / "s")
    ex, feed = new_venue(state)
    feed.advance(T0 + 30_000)
    bot_step(ex, random.Random(4))
    bot_step(ex, random.Random(5))
    ex.journal.flush()
    lines = state.journal.read_bytes().splitlines(keepends=True)
    ex.close_journal()
    state.close()
    state.journal.write_bytes(b"".join(lines[:-1]) + lines[-1][:-20])  # a crash mid-write
    with caplog.at_level(logging.WARNING, "fapisim.server"):
        got, _market = StateDir(tmp_path / "s").resume()
    assert f"line {len(lines)}: a torn last line" in caplog.text
    assert got.journal.seq == len(lines) - 2  # the header and the torn line are not lines


def test_a_snapshot_is_written_only_once_the_journal_it_follows_is_on_disk(tmp_path):
    """A snapshot is fsynced; so is the journal before it, so after a power loss the
    snapshot is never ahead of the journal."""
    state = StateDir(tmp_path / "s")
    ex, feed = new_venue(state)
    feed.advance(T0 + 30_000)
    bot_step(ex, random.Random(4))
    order: list[str] = []

    class Spy:
        def sync(self) -> None:
            order.append("journal")
            ex.journal.sync()

    real = os.replace

    def replaced(*args, **kwargs):
        order.append("snapshot")
        return real(*args, **kwargs)

    data = state.capture(ex, feed)
    os.replace = replaced
    try:
        state.write(data, Spy())
    finally:
        os.replace = real
    assert order == ["journal", "snapshot"]
