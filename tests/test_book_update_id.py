"""Each book's ``update_id`` — ``lastUpdateId`` of ``depth`` and ``ticker/bookTicker`` —
moves only when that book changes, never goes back, and is part of the venue's state.

``state_hash()`` does not read it (``engine/core/book.py`` says why), so these tests
hold it to what the hash would: refused and rolled-back commands leave it as it was,
the inline hot paths count as the general ones do, and journal replay and snapshot
restore give it back exactly.
"""

from __future__ import annotations

import pytest
from catalogue import CASES, build_venue
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fast_paths import _apply, _venue, cancel, mark, market, place_any_reply

from engine import ClientError, Exchange
from engine.core.instrument import default_instruments
from engine.core.txn import InjectedFault, inject_fault

BTC, ETH = "BTCUSDT", "ETHUSDT"


def ids(ex: Exchange) -> dict[str, int]:
    """Each book's update id (what ``depth`` answers: checked below)."""
    return {s: ex._s.markets[s].book.update_id for s in ex._s.symbols}


def books(ex: Exchange) -> dict[str, tuple]:
    return {s: ex._s.markets[s].book._state() for s in ex._s.symbols}


def venue() -> Exchange:
    ex = Exchange()
    for name in ("alice", "bob"):
        ex.create_account(name, balance="50000")
    ex.set_mark_price(BTC, "30000")
    ex.set_mark_price(ETH, "2000")
    return ex


def limit(ex: Exchange, who: str, symbol: str, side: str, qty: str, price: str, **kw) -> dict:
    return ex.client(who).new_order(symbol=symbol, side=side, type="LIMIT",
                                    timeInForce="GTC", quantity=qty, price=price, **kw)


def test_a_change_on_one_book_moves_its_id_only_and_a_read_moves_nothing():
    ex = venue()
    alice = ex.client("alice")
    start = ids(ex)

    o = limit(ex, "alice", BTC, "BUY", "0.010", "29900")
    after_btc = ids(ex)
    assert after_btc[BTC] > start[BTC] and after_btc[ETH] == start[ETH]

    for _ in range(3):  # reads, of either book, change nothing
        assert alice.depth(BTC)["lastUpdateId"] == after_btc[BTC]
        assert alice.depth(ETH, limit=5)["lastUpdateId"] == after_btc[ETH]
        tickers = {t["symbol"]: t["lastUpdateId"] for t in alice.book_ticker()}
        assert tickers == after_btc
        assert alice.book_ticker(BTC)["lastUpdateId"] == after_btc[BTC]
    assert ids(ex) == after_btc

    limit(ex, "bob", ETH, "SELL", "0.100", "2010")
    after_eth = ids(ex)
    assert after_eth[ETH] > after_btc[ETH] and after_eth[BTC] == after_btc[BTC]

    ex.set_mark_price(BTC, "30050")  # the venue changes, the books do not
    ex.advance(ms=1000)
    alice.change_leverage(symbol=BTC, leverage=10)
    assert ids(ex) == after_eth

    alice.cancel_order(symbol=BTC, orderId=o["orderId"])
    assert ids(ex)[BTC] > after_eth[BTC] and ids(ex)[ETH] == after_eth[ETH]


def test_a_fill_moves_the_book_it_takes_from():
    ex = venue()
    limit(ex, "bob", BTC, "SELL", "0.010", "30010")
    limit(ex, "bob", BTC, "SELL", "0.010", "30020")
    before = ids(ex)
    ex.client("alice").new_order(symbol=BTC, side="BUY", type="MARKET", quantity="0.015")
    after = ids(ex)
    assert after[BTC] > before[BTC] and after[ETH] == before[ETH]
    assert ex.client("alice").depth(BTC)["asks"] == [["30020", "0.005"]]


def test_a_refused_request_leaves_every_book_id_as_it_was():
    ex = build_venue()
    before, state = ids(ex), ex.state_hash()
    for case in CASES:  # each refused, each leaving the venue as it was
        try:
            case.call(ex.client(case.caller))
        except ClientError:
            pass
        assert ids(ex) == before, case.id
    assert ex.state_hash() == state


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("command", ["rest", "cross", "cancel", "cancel_parent",
                                     "cancel_all"])
def test_a_fault_at_any_mutation_point_leaves_every_book_id_as_it_was(fast, command):
    def build() -> Exchange:
        ex = venue()
        ex._s.fast_paths = fast
        limit(ex, "bob", BTC, "SELL", "0.010", "30010")
        limit(ex, "bob", BTC, "SELL", "0.010", "30020")
        limit(ex, "alice", BTC, "BUY", "0.010", "29900", stopLossPrice="29000")
        limit(ex, "alice", BTC, "BUY", "0.010", "29890")  # memoises the resting strings
        return ex

    def run(ex: Exchange) -> object:
        alice = ex.client("alice")
        if command == "rest":
            return limit(ex, "alice", BTC, "BUY", "0.010", "29890")
        if command == "cross":
            return limit(ex, "alice", BTC, "BUY", "0.015", "30020")
        if command == "cancel":
            return alice.cancel_order(symbol=BTC, orderId=5)
        if command == "cancel_parent":  # and its stop-loss row, 4
            return alice.cancel_order(symbol=BTC, orderId=3)
        return alice.cancel_open_orders(symbol=BTC)

    probe = build()
    with inject_fault(probe._undo, 0) as count:
        run(probe)
    assert count[0] > 0
    for k in range(1, count[0] + 1):
        ex = build()
        before = ids(ex)
        with inject_fault(ex._undo, k), pytest.raises(InjectedFault):
            run(ex)
        assert ids(ex) == before, f"a fault at mutation {k} of {count[0]} moved an id"
        run(ex)
        assert ids(ex) == ids(probe)


@pytest.mark.parametrize("fast", [True, False])
def test_a_block_of_commands_undone_as_one_restores_every_book_id(fast):
    # a journal's failed write undoes its command this way, after the command committed
    ex = venue()
    ex._s.fast_paths = fast
    limit(ex, "bob", BTC, "SELL", "0.010", "30010")
    limit(ex, "alice", BTC, "BUY", "0.010", "29900", stopLossPrice="29000")
    limit(ex, "alice", ETH, "BUY", "0.100", "1990")
    limit(ex, "alice", BTC, "BUY", "0.010", "29890")  # memoises the resting strings
    alice = ex.client("alice")
    before, state = ids(ex), ex.state_hash()

    with pytest.raises(RuntimeError), ex._runner.atomic():
        limit(ex, "alice", BTC, "BUY", "0.010", "29890")  # rests (inline when fast)
        alice.cancel_order(symbol=BTC, orderId=5)  # plain (inline when fast)
        alice.cancel_order(symbol=BTC, orderId=2)  # a parent and its row
        alice.new_order(symbol=BTC, side="BUY", type="MARKET", quantity="0.005")
        alice.cancel_open_orders(symbol=ETH)
        assert all(ids(ex)[s] > before[s] for s in before)
        raise RuntimeError("undo the block")

    assert ids(ex) == before and ex.state_hash() == state
    ex.check_invariants()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(place_any_reply, place_any_reply, cancel, market, mark),
                min_size=1, max_size=40))
def test_ids_rise_exactly_when_a_book_changes_and_both_paths_count_alike(commands):
    instruments = default_instruments(max_num_orders=4)
    warm = _venue(True, instruments=instruments)  # memoises every string: the inline
    for cmd in commands:                          # paths apply wherever they can
        _apply(warm, cmd)
    fast, general = _venue(True, instruments=instruments), _venue(False, instruments=instruments)
    for cmd in commands:
        was, state = ids(fast), books(fast)
        answer = _apply(fast, cmd)
        _apply(general, cmd)
        now = ids(fast)
        for s in now:
            assert now[s] >= was[s], (cmd, s)
            if books(fast)[s] != state[s]:
                assert now[s] > was[s], (cmd, s)
            if now[s] == was[s]:
                assert books(fast)[s] == state[s], (cmd, s)
        if isinstance(answer, tuple) and answer[0] == "error":
            assert now == was, cmd
        assert ids(general) == now, cmd


def busy(ex: Exchange) -> None:
    """Orders resting, filling, cancelled on both books."""
    limit(ex, "bob", BTC, "SELL", "0.010", "30010")
    limit(ex, "bob", ETH, "SELL", "0.100", "2010")
    limit(ex, "alice", BTC, "BUY", "0.010", "29900", takeProfitPrice="31000",
          stopLossPrice="29000")
    ex.client("alice").new_order(symbol=BTC, side="BUY", type="MARKET", quantity="0.004")
    bid = limit(ex, "alice", ETH, "BUY", "0.100", "1990")
    ex.client("alice").cancel_order(symbol=ETH, orderId=bid["orderId"])
    limit(ex, "bob", BTC, "SELL", "0.004", "29900")  # takes part of alice's bid


def test_journal_replay_and_snapshot_restore_give_the_same_ids(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    for name in ("alice", "bob"):
        ex.create_account(name, balance="50000")
    ex.set_mark_price(BTC, "30000")
    ex.set_mark_price(ETH, "2000")
    busy(ex)
    want = ids(ex)
    assert want[BTC] > 0 and want[ETH] > 0

    replayed = Exchange.replay(path)
    restored = Exchange.restore(ex.snapshot())

    for other in (replayed, restored):
        assert ids(other) == want
        assert other.client("bob").depth(BTC) == ex.client("bob").depth(BTC)
        assert other.client("bob").book_ticker() == ex.client("bob").book_ticker()
    # and they go on counting from there, alike
    for other in (ex, restored):
        limit(other, "alice", BTC, "BUY", "0.004", "29800")
    assert ids(restored) == ids(ex) and ids(ex)[BTC] > want[BTC]
