"""Snapshots (SPEC 8): the venue as bytes and back, exactly; damaged bytes are refused whole.

A restored venue has the same ``state_hash()`` and answers every later
command as the original does; a snapshot plus the journal's tail equals the
whole journal; a corrupted, truncated or foreign snapshot raises
``SnapshotError`` and yields no venue at all.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import zlib

import pytest
from durability_support import busy_session, random_session

from engine import Exchange
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


# -- damage ------------------------------------------------------------------------------------
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
    for pos in [*range(0, 60), *range(60, len(snap), 53), len(snap) - 1]:
        damaged = bytearray(snap)
        damaged[pos] ^= 0x10
        with pytest.raises(SnapshotError):
            Exchange.restore(bytes(damaged))


@pytest.mark.parametrize("damage, message", [
    (lambda s: b"NOTASNAP" + s[8:], "bad magic"),
    (lambda s: s[:8] + struct.pack(">H", 3) + s[10:], "format version 3 is not supported"),
    (lambda s: s + b"\0", "1 unexpected trailing bytes"),
    (lambda s: s[:-1] + bytes([s[-1] ^ 1]), "SHA-256 does not match"),
    (lambda s: "a string", "bytes, not str"),
], ids=["magic", "version", "trailing", "digest", "type"])
def test_a_damaged_snapshot_is_refused_with_a_clear_message(snap, damage, message):
    with pytest.raises(SnapshotError, match=message):
        Exchange.restore(damage(snap))


def resealed(meta: dict, body: bytes) -> bytes:
    """A snapshot whose digest is right but whose content is not the engine's."""
    import json

    meta_bytes = json.dumps(meta).encode()
    payload = struct.pack(">I", len(meta_bytes)) + meta_bytes + zlib.compress(body)
    return struct.pack(">8sHQ32s", MAGIC, FORMAT_VERSION, len(payload),
                       hashlib.sha256(payload).digest()) + payload


def test_a_snapshot_that_names_anything_but_engine_classes_is_refused_unrun():
    class Boom:
        def __reduce__(self):
            return (print, ("this must never run",))

    crafted = resealed({"state_hash": "0" * 64, "journal": None}, pickle.dumps({"x": Boom()}))

    with pytest.raises(SnapshotError, match="may not name builtins.print"):
        Exchange.restore(crafted)


def test_a_snapshot_that_decodes_to_another_state_is_refused(snap):
    meta = info(snap)
    ex = Exchange.restore(snap)
    ex.set_mark_price("ETHUSDT", "1990")
    other = ex.snapshot()
    buf = io.BytesIO(other)
    _head = buf.read(50)
    (n,) = struct.unpack(">I", buf.read(4))
    buf.read(n)
    body = zlib.decompress(buf.read())

    with pytest.raises(SnapshotError, match="state hash mismatch"):
        Exchange.restore(resealed(meta, body))


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


# -- crafted payloads, sealed with a correct digest: each inner refusal --------------------
class _Refs(pickle.Pickler):
    """Pickles ``obj`` with the given persistent ids standing for marked objects."""

    def __init__(self, file: io.BytesIO, ids: dict[int, object]) -> None:
        super().__init__(file, protocol=5)
        self.ids = ids

    def persistent_id(self, obj: object) -> object:
        return self.ids.get(id(obj))


def _with_reference(pid: object) -> bytes:
    marker = object()
    buf = io.BytesIO()
    _Refs(buf, {id(marker): pid}).dump({"x": marker})
    return buf.getvalue()


def _state_without(field: str) -> bytes:
    """The engine's own pickle of a venue's state, one field left out."""
    from engine.persist.snapshot import _Pickler
    from engine.venue.state import VenueState

    ex = busy_venue()
    state = {k: getattr(ex._s, k) for k in VenueState.__slots__ if k not in ("journal", field)}
    buf = io.BytesIO()
    _Pickler(buf, ex._s).dump(state)
    return buf.getvalue()


META = {"state_hash": "0" * 64, "journal": None}
CRAFTED = [
    ("an unknown reference", lambda: resealed(META, _with_reference("other")),
     "unknown reference 'other'"),
    ("a reference to a dunder of the venue", lambda: resealed(
        META, _with_reference(("venue", "__class__"))), "unknown reference"),
    ("a reference to a field of the venue", lambda: resealed(
        META, _with_reference(("venue", "now"))), "unknown reference"),
    ("an engine name that is not its class's home", lambda: resealed(
        META, b"cengine\nExchange\n."), "may not name engine.Exchange"),
    ("an engine function", lambda: resealed(META, pickle.dumps(
        __import__("engine.venue.state", fromlist=["derive_key"]).derive_key)),
     "may not name engine.venue.state.derive_key"),
    ("a foreign class not on the list", lambda: resealed(META, pickle.dumps(
        __import__("collections").OrderedDict())), "may not name collections.OrderedDict"),
    ("a state that is not a dict", lambda: resealed(META, pickle.dumps([1, 2])),
     "state is a list"),
    ("a state with a field missing", lambda: resealed(META, _state_without("countdowns")),
     "state fields .* are not"),
    ("metadata that is not JSON", lambda: _sealed_raw(b"\0\0\0\x03{{{" + zlib.compress(b"")),
     "unreadable metadata"),
    ("metadata without the state hash", lambda: resealed({"now": 0}, pickle.dumps({})),
     "unreadable metadata"),
]


def _sealed_raw(payload: bytes) -> bytes:
    return struct.pack(">8sHQ32s", MAGIC, FORMAT_VERSION, len(payload),
                       hashlib.sha256(payload).digest()) + payload


@pytest.mark.parametrize(("craft", "message"), [c[1:] for c in CRAFTED],
                         ids=[c[0] for c in CRAFTED])
def test_a_sealed_but_crafted_snapshot_is_refused_for_what_it_holds(craft, message):
    with pytest.raises(SnapshotError, match=message):
        Exchange.restore(craft())


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
