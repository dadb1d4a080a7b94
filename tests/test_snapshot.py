"""Snapshots (SPEC 8): the venue as bytes and back, exactly; damaged bytes are refused whole.

A restored venue has the same ``state_hash()`` and answers every later
command as the original does; a snapshot plus the journal's tail equals the
whole journal; a corrupted, truncated or foreign snapshot raises
``SnapshotError`` and yields no venue at all.  A keyed snapshot restores only
with its key.  What the format refuses when the bytes are hostile is in
``test_snapshot_hostile.py``; ``forged`` (below) seals any tree as a snapshot.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from typing import Any

import msgspec
import pytest
from durability_support import busy_session, random_session
from sortedcontainers import SortedKeyList

from engine import Exchange
from engine.core.instrument import Instrument, default_instruments
from engine.persist import graph, snapshot
from engine.persist.journal import JournalError
from engine.persist.snapshot import FORMAT_VERSION, MAGIC, SnapshotError, info


def busy_venue() -> Exchange:
    ex = Exchange()
    busy_session(ex)
    return ex


def test_a_restored_venue_has_the_same_state_hash_and_is_independent():
    ex = busy_venue()

    copy = Exchange.restore(ex.snapshot())

    assert copy is not ex and copy.state_hash() == ex.state_hash()
    copy.set_mark_price("BTCUSDT", "31000")
    assert copy.state_hash() != ex.state_hash()
    copy.check_invariants()
    ex.check_invariants()


def test_a_restored_venue_answers_every_later_command_as_the_original_does():
    original, copy = Exchange(), None
    random_session(original, seed=3, steps=150)
    copy = Exchange.restore(original.snapshot())

    later_original = random_session_more(original)
    later_copy = random_session_more(copy)

    assert later_original == later_copy
    assert original.state_hash() == copy.state_hash()


def random_session_more(ex: Exchange) -> list:
    """More commands on an existing three-account venue (fills, cascades, countdowns)."""
    from durability_support import answer

    out = []
    a, b, c = (ex.client(n) for n in ("alice", "bob", "carol"))
    for i in range(30):
        side = "BUY" if i % 2 else "SELL"
        out.append(answer(a.new_order, symbol="BTCUSDT", side=side, type="LIMIT",
                          timeInForce="GTC", quantity="0.005", price=f"{29950 + 5 * i}",
                          stopLossPrice=f"{29000 if side == 'BUY' else 31000}"))
        out.append(answer(b.new_order, symbol="BTCUSDT", side="BUY" if i % 3 else "SELL",
                          type="MARKET", quantity="0.003"))
        out.append(answer(c.cancel_order, symbol="BTCUSDT", orderId=ex._s.last_id - i))
    ex.set_mark_price("BTCUSDT", "29400")
    out.append(answer(a.countdown_cancel_order, symbol="BTCUSDT", countdownTime=10))
    ex.advance(20)
    out.append(a.get_orders())
    out.append([cl.account() for cl in (a, b, c)])
    return out


def test_a_snapshot_plus_the_journal_tail_equals_the_whole_journal(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    random_session(ex, seed=11, steps=120)
    snap = ex.snapshot()
    at = ex.journal.seq
    random_session_more(ex)

    from engine.persist.journal import replay

    tail = replay(path, snapshot=snap)
    whole = replay(path)

    assert tail.exchange.state_hash() == whole.exchange.state_hash() == ex.state_hash()
    assert tail.applied == whole.applied - at and tail.seq == whole.seq
    assert info(snap)["journal"]["seq"] == at


def test_a_keyed_snapshot_replays_its_journal_tail_with_its_key_only(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    random_session(ex, seed=12, steps=60)
    snap = ex.snapshot(key=b"k1")
    random_session_more(ex)

    assert Exchange.replay(path, snapshot=snap, key=b"k1").state_hash() == ex.state_hash()
    for wrong in (None, b"k2"):
        with pytest.raises(SnapshotError):
            Exchange.replay(path, snapshot=snap, key=wrong)


def test_a_snapshot_taken_before_the_first_command_replays_the_whole_journal(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    snap = ex.snapshot()
    busy_session(ex)

    assert Exchange.replay(path, snapshot=snap).state_hash() == ex.state_hash()


def test_a_snapshot_of_another_journal_or_of_an_unjournaled_venue_is_refused(tmp_path):
    one, two = Exchange(journal=tmp_path / "1.jsonl"), Exchange(journal=tmp_path / "2.jsonl")
    one.create_account("alice", balance="1")
    two.create_account("bob", balance="1")
    two.create_account("carol", balance="1")

    with pytest.raises(JournalError, match="another journal"):
        Exchange.replay(tmp_path / "2.jsonl", snapshot=one.snapshot())
    with pytest.raises(JournalError, match="not taken from a journaled venue"):
        Exchange.replay(tmp_path / "1.jsonl", snapshot=Exchange().snapshot())


def test_a_restored_venue_can_resume_its_journal_from_snapshot_and_tail(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    random_session(ex, seed=5, steps=60)
    snap = ex.snapshot()
    ex.set_mark_price("BTCUSDT", "30500")
    ex.close_journal()

    resumed = Exchange.replay(path, snapshot=snap, resume=True)
    resumed.set_mark_price("BTCUSDT", "29500")
    ex.set_mark_price("BTCUSDT", "29500")

    assert resumed.state_hash() == ex.state_hash()
    assert Exchange.replay(path).state_hash() == ex.state_hash()


# -- forging: any tree or body, sealed with a right digest ------------------------------------
HEAD = struct.Struct(">8sHBIQQ32s")
META = {"state_hash": "0" * 64, "now": 0, "journal": None}


def envelope(meta: Any, body: bytes, declared: int, *, version: int = FORMAT_VERSION,
             seal: int = 0, key: bytes | None = None) -> bytes:
    """A snapshot of format 3 around ``body`` (zlib bytes) declaring ``declared`` bytes
    once decompressed, its digest right (SHA-256, or HMAC-SHA256 under ``key``)."""
    import hmac

    meta_bytes = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    head = HEAD.pack(MAGIC, version, seal, len(meta_bytes), len(body), declared, bytes(32))
    signed, payload = head[:31], meta_bytes + body
    digest = (hashlib.sha256(signed + payload).digest() if key is None
              else hmac.new(key, signed + payload, hashlib.sha256).digest())
    return signed + digest + payload


def forged(tree: Any, meta: Any = None, **kw: Any) -> bytes:
    """A sealed snapshot holding ``tree`` (any msgpack-able value) with an honest length."""
    raw = msgspec.msgpack.encode(tree)
    return envelope(META if meta is None else meta, zlib.compress(raw), len(raw), **kw)


def tree_of(ex: Exchange) -> list:
    """The tree a snapshot of ``ex`` holds (decoded back from its bytes)."""
    data = ex.snapshot()
    _m, _v, _s, m, n, _d, _h = HEAD.unpack_from(data)
    return msgspec.msgpack.decode(zlib.decompress(data[HEAD.size + m:]))


# -- damage -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snap() -> bytes:
    return busy_venue().snapshot()


def test_every_truncation_of_a_snapshot_is_refused_as_truncated(snap):
    for size in [*range(0, 80), *range(80, len(snap), 97), len(snap) - 1]:
        with pytest.raises(SnapshotError, match="truncated|bad magic") as refused:
            Exchange.restore(snap[:size])
        if size >= len(MAGIC):
            assert "truncated" in str(refused.value), size


def test_a_flipped_bit_anywhere_in_a_snapshot_is_refused(snap):
    for pos in [*range(0, 80), *range(80, len(snap), 53), len(snap) - 1]:
        damaged = bytearray(snap)
        damaged[pos] ^= 0x10
        with pytest.raises(SnapshotError):
            Exchange.restore(bytes(damaged))


@pytest.mark.parametrize("damage, message", [
    (lambda s: b"NOTASNAP" + s[8:], "bad magic"),
    (lambda s: s[:8] + struct.pack(">H", 4) + s[10:], "format version 4 is not supported"),
    (lambda s: s + b"\0", "1 unexpected trailing bytes"),
    (lambda s: s[:-1] + bytes([s[-1] ^ 1]), "SHA-256 does not match"),
    (lambda s: "a string", "bytes, not str"),
], ids=["magic", "version", "trailing", "digest", "type"])
def test_a_damaged_snapshot_is_refused_with_a_clear_message(snap, damage, message):
    with pytest.raises(SnapshotError, match=message):
        Exchange.restore(damage(snap))


def test_a_snapshot_that_decodes_to_another_state_is_refused(snap):
    ex = Exchange.restore(snap)
    ex.set_mark_price("ETHUSDT", "1990")

    with pytest.raises(SnapshotError, match="state hash mismatch"):
        Exchange.restore(forged(tree_of(ex), info(snap)))


def test_a_restored_venue_journals_nothing_until_it_is_told_to(tmp_path):
    ex = Exchange(journal=tmp_path / "run.jsonl")
    ex.create_account("alice", balance="1")

    copy = Exchange.restore(ex.snapshot())

    assert copy.journal is None and ex.journal is not None


def test_a_subclass_of_the_venue_restores_and_replays_as_itself(tmp_path):
    class MyVenue(Exchange):
        pass

    ex = MyVenue(journal=tmp_path / "run.jsonl")
    ex.create_account("alice", balance="1")

    assert type(MyVenue.restore(ex.snapshot())) is MyVenue
    assert type(MyVenue.replay(tmp_path / "run.jsonl")) is MyVenue


@pytest.mark.parametrize(("meta", "message"), [
    (b"{{{", "unreadable metadata"),
    ({"now": 0, "journal": None}, "unreadable metadata"),
    ({"state_hash": "0", "now": "0", "journal": None}, "unreadable metadata"),
    ({"state_hash": "0", "now": 0, "journal": {"seq": "1", "sha256": ""}},
     "unreadable metadata"),
    (b" " * 4097, "4097 bytes of metadata"),
], ids=["not JSON", "no state hash", "clock not an int", "journal seq not an int",
        "too long"])
def test_a_snapshot_with_damaged_metadata_is_refused(snap, meta, message):
    with pytest.raises(SnapshotError, match=message):
        Exchange.restore(forged(tree_of(busy_venue()), meta))


def test_a_snapshot_of_a_broken_venue_is_refused_naming_the_broken_invariant():
    ex = busy_venue()
    acct = ex._ledger.accounts["alice"]
    acct.frozen_e8 += 1  # the snapshot seals this state, hash and all

    with pytest.raises(SnapshotError, match="decoded to a broken venue: alice: frozen"):
        Exchange.restore(ex.snapshot())


def test_a_snapshot_is_taken_between_commands_only():
    ex = busy_venue()
    ex._undo.append((print, "never run"))

    with pytest.raises(RuntimeError, match="between commands"):
        ex.snapshot()


# -- what a snapshot holds --------------------------------------------------------------------
def test_the_same_venue_gives_the_same_bytes_and_a_restored_one_too():
    ex = busy_venue()

    first = ex.snapshot()

    assert ex.snapshot() == first == busy_venue().snapshot()
    assert Exchange.restore(first).snapshot() == first


def test_a_restored_venue_shares_objects_exactly_as_the_original_did():
    copy = Exchange.restore(busy_venue().snapshot())
    s = copy._s

    resting = [o for m in s.markets.values() for levels in (m.book.bids, m.book.asks)
               for level in levels.values() for o in level.orders.values()]
    assert resting and all(s.index.by_id[o.order_id] is o for o in resting)
    assert all(o.owner is s.ledger.accounts[o.owner.name] and o.inst is s.instruments[
        o.inst.symbol] for o in s.index.by_id.values())
    rows = [r for o in s.index.by_id.values() for r in o.rows or ()]
    assert rows and all(s.index.by_id[r.order_id] is r and r in r.parent.rows for r in rows
                        if r.parent is not None)
    assert all(m.inst is s.instruments[sym] for sym, m in s.markets.items())
    # the machinery is the new venue's own: one empty undo log, the mark lookup bound to it
    owners = (s.ledger, s.index, s.registry, *s.markets.values(),
              *(m.book for m in s.markets.values()))
    assert all(o._undo is s.undo for o in owners) and len(s.undo) == 0
    assert s.ledger._mark_of.__self__ is s and s.ledger._mark_of.__func__.__name__ == "mark_of"


def test_memo_caches_are_not_carried_so_a_poisoned_one_cannot_change_an_answer():
    ex = busy_venue()
    ex.client("alice").get_orders(symbol="BTCUSDT")  # warm every memo
    btc = ex._instruments["BTCUSDT"]
    assert btc._price_cache and btc.wire_templates
    for ticks in list(btc._price_cache):
        btc._price_cache[ticks] = "666"  # a lie a pickle would have carried along

    copy = Exchange.restore(ex.snapshot())

    assert "666" not in copy._instruments["BTCUSDT"]._price_cache.values()
    answer = copy.client("alice").get_orders(symbol="BTCUSDT")
    assert answer == busy_venue().client("alice").get_orders(symbol="BTCUSDT")
    assert "666" not in {o["price"] for o in answer}


def test_the_memos_reset_on_restore_are_exactly_the_instruments_memos():
    fresh = default_instruments()[0]
    reset = graph.RESET[Instrument]

    assert set(reset) == Instrument.MEMOS
    assert all(make() == getattr(fresh, name) for name, make in reset.items())


class Stranger:
    __slots__ = ()


@pytest.mark.parametrize(("plant", "message"), [
    (lambda s: s.countdowns.__setitem__(("alice", "BTCUSDT"), Stranger()),
     "cannot hold .*Stranger .*engine.persist.graph.CLASSES"),
    (lambda s: setattr(s, "tape", SortedKeyList([1], key=abs)),
     "cannot hold sortedcontainers.sortedlist.SortedKeyList"),
    (lambda s: setattr(s.ledger, "_mark_of", s.next_order_id), "cannot hold the method"),
    (lambda s: s.countdowns.__setitem__(("x", "y"), s.symbols), "list held twice"),
    (lambda s: s.risk_names.add(Stranger()), "cannot hold .*Stranger"),
    (lambda s: setattr(s, "tape", 0.5), "cannot hold builtins.float"),
], ids=["an unknown class", "a keyed sorted list", "another method", "a shared list",
        "an unknown class in a set", "a float"])
def test_a_value_outside_the_allow_list_is_refused_when_the_snapshot_is_taken(plant, message):
    ex = busy_venue()
    plant(ex._s)

    with pytest.raises(TypeError, match=message):
        ex.snapshot()


def test_a_venue_that_compresses_beyond_the_limit_is_refused_when_written(monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_RATIO", 1)

    with pytest.raises(ValueError, match="compresses more than 1×"):
        busy_venue().snapshot()


def test_max_size_bounds_the_decompressed_size_a_restore_accepts():
    ex = busy_venue()
    data = ex.snapshot()
    declared = HEAD.unpack_from(data)[5]

    assert Exchange.restore(data, max_size=declared).state_hash() == ex.state_hash()
    with pytest.raises(SnapshotError, match=f"declares {declared} bytes .*max_size={declared - 1}"):
        Exchange.restore(data, max_size=declared - 1)


# -- keys -------------------------------------------------------------------------------------
KEY = b"operator's secret"


def test_a_keyed_snapshot_restores_with_its_key_only():
    ex = busy_venue()
    data = ex.snapshot(key=KEY)

    assert Exchange.restore(data, key=KEY).state_hash() == ex.state_hash()
    assert info(data, key=KEY)["state_hash"] == ex.state_hash()
    with pytest.raises(SnapshotError, match="sealed with a key .*pass key="):
        Exchange.restore(data)
    with pytest.raises(SnapshotError, match="HMAC-SHA256 does not match"):
        Exchange.restore(data, key=b"another key")
    with pytest.raises(SnapshotError, match="not sealed with a key .*refused"):
        Exchange.restore(ex.snapshot(), key=KEY)
    with pytest.raises(TypeError, match="non-empty bytes"):
        ex.snapshot(key="text")


def test_a_tampered_keyed_snapshot_is_refused_however_it_was_resealed():
    ex = busy_venue()
    richer = busy_venue()
    richer._ledger.accounts["alice"].wallet_e8 += 10**12  # what a forger would want
    richer._ledger.accounts["alice"].deposits_e8 += 10**12
    tree, meta = tree_of(richer), {**info(ex.snapshot()), "state_hash": richer.state_hash()}
    data = bytearray(ex.snapshot(key=KEY))
    data[-1] ^= 1

    for forgery in (bytes(data), forged(tree, meta), forged(tree, meta, seal=1),
                    forged(tree, meta, seal=1, key=b"guess")):
        with pytest.raises(SnapshotError, match="HMAC|not sealed with a key"):
            Exchange.restore(forgery, key=KEY)
    # without a key the plain seal is only a checksum: the forgery loads (SPEC 8 trust)
    assert Exchange.restore(forged(tree, meta)).state_hash() == richer.state_hash()
