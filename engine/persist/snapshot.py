"""Snapshots: the whole venue as bytes, and back (SPEC 8).

``ex.snapshot()`` → ``bytes``; ``Exchange.restore(data)`` → a new, independent
venue with the same ``state_hash()`` that answers every later command as the
original would.  ``ex.snapshot(key=k)`` seals the bytes with HMAC-SHA256 under
``k``; such a snapshot restores only with ``Exchange.restore(data, key=k)``.

Format (version 3)
------------------
::

    offset  size  field (integers big-endian)
    0       8     magic b"FAPISNAP"
    8       2     format version (3)
    10      1     seal: 0 = SHA-256, 1 = HMAC-SHA256 (keyed)
    11      4     meta length m (at most 4096)
    15      8     body length n (compressed bytes)
    23      8     declared length of the body decompressed
    31      32    digest of bytes 0..30 and 63.. (SHA-256, or HMAC-SHA256 under the key)
    63      m     meta: JSON {"state_hash", "now", "events", "journal": null | {"seq", "sha256"}}
    63+m    n     body: zlib(msgpack(tree))

``meta`` holds the venue's ``state_hash``, its clock, the number of its newest
event (:mod:`engine.core.events`: the restored venue numbers on from it, its ring
starting empty; absent in older snapshots, read as 0) and, for a journaled
venue, the journal line the snapshot follows and the SHA-256 of the journal's
bytes up to it, so ``Exchange.replay(path, snapshot=data)`` applies only the
tail (:mod:`engine.persist.journal`).  The tree is the venue's object graph as
plain values over an allow-list of the engine's classes, written and checked
by :mod:`engine.persist.graph`; every engine object is in it once, so sharing
and cycles come back exactly.  Not in it: the journal (a restored venue
journals nothing until replayed with ``resume``), the undo log (empty between
commands; rebuilt empty) and the memo caches (they restore empty and refill on
demand, so no memo a file carries can change an answer).  The same venue
gives the same bytes.

Loading checks, in order, before it allocates: length, magic, version,
lengths (a short file is *truncated*, a long one has trailing bytes), seal and
digest, the declared length against the limits, the metadata; then it
inflates no more than the declared length, decodes the msgpack, checks the
tree against the allow-list while it builds a fresh venue (an unknown class,
enum, method or tag, a field set that is not exactly the class's, a value of
another type: each refused by name), and checks the venue's ``state_hash()``
against ``meta`` and its invariants.  Any failure raises :class:`SnapshotError`
(a ``ValueError``) naming it, and nothing is returned: a snapshot is never
half-loaded.  Format 2 (a pickle) and format 1 (the flat ``engine`` package's
class names) are refused with a message that says so: rebuild such a venue
from its journal (``Exchange.replay``), which replays by command name.

Limits
------
The declared decompressed length must be at most ``max_size`` (default
:data:`DEFAULT_MAX_SIZE`, 1 GiB) and at most :data:`MAX_RATIO` (32) times the
compressed length.  Measured bodies expand 1.7× (an empty venue) to 7× (the
benchmark's venue; 100,000 resting orders: 6.7×); the most repetitive venue
tried, 50,000 identical orders at one price, 12×.  32 leaves that more than
twice over while a 1 MB file can ask for no more than 32 MB (a venue beyond it
is refused when written, not when read).  The body is inflated a megabyte at
a time into a buffer of the declared size, and refused at the first byte past
it.  msgspec refuses an array, map, str or bin header announcing more than the
input holds before allocating it (2**32-1 elements in a short body cost
nothing), and values nest at most 32 deep.  So peak memory is a fixed
multiple of the declared size, itself at most 32 × the file: about 18× for the
benchmark's venue (its tree and the venue being built), 65× at worst (a body
of msgpack's one-byte empty arrays; ``tests/test_snapshot_hostile.py``).

Trust
-----
Loading runs no code a file chooses: classes, enums and the one method are
looked up by name in the allow-list, objects are made with ``object.__new__``
and their fields set directly, containers are rebuilt from their items, and
nothing is imported, called or unpickled on the file's say.  Untrusted bytes
are refused or yield a venue of the engine's own classes (checked by its
state hash and invariants); their memory is bounded as above.  The SHA-256
seal detects damage, not tampering (anyone can recompute it); a key detects
tampering: a keyed snapshot is refused without its key or with another, and an
unkeyed one is refused when a key is given.

Why msgpack
-----------
``benchmarks/bench_snapshot.py`` writes one tree (2,000 resting orders, 1,000
trigger rows: 3,420 order records) through each serializer; medians of 15
interleaved rounds, dump = tree + serialize + zlib, load = inflate + parse +
rebuild (the hash and invariant checks, common to all, left out)::

    serializer        raw bytes  zlib bytes  dump   load   serialize  parse
    msgspec msgpack     554,297      79,567  33 ms  37 ms     1.0 ms  2.8 ms
    stdlib json         957,755      97,873  46 ms  41 ms    14 ms    6.7 ms
    pickle (format 2) 1,018,479     110,770  38 ms  (never loaded)

msgpack is 42 % smaller raw and 19 % smaller compressed, serializes 14× and
parses 2.4× faster; whole dumps are 29 % and loads 10 % faster (the Python
walk over the graph dominates both).  It also carries bytes and 64-bit ints
natively, and msgspec refuses oversized length headers unallocated.  JSON's
only advantage, a readable body, is kept where it matters: ``meta`` is JSON.

Cost: O(size of the venue) both ways; nothing else is touched.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import struct
import zlib
from typing import TYPE_CHECKING, Any

import msgspec

from engine.persist.graph import Refused, from_tree, gc_paused, to_tree

if TYPE_CHECKING:
    from engine.venue.exchange import Exchange

__all__ = [
    "DEFAULT_MAX_SIZE", "FORMAT_VERSION", "MAGIC", "MAX_RATIO", "SnapshotError", "dump", "info",
    "load",
]

MAGIC = b"FAPISNAP"
FORMAT_VERSION = 3
#: format 2 was zlib(pickle(state)): refused, unpickling can run code
_PICKLE_FORMAT = 2
#: format 1 named the classes of the flat ``engine`` package (before the layers)
_FLAT_LAYOUT = 1
_VERSION = struct.Struct(">8sH")
_HEAD = struct.Struct(">8sHBIQQ32s")
_SIGNED = 31  # the header's bytes before the digest, which the digest covers
_SHA256, _HMAC = 0, 1
_MAX_META = 4096
#: a body may declare at most this many times its compressed length once decompressed
MAX_RATIO = 32
#: the default ``max_size``: the most decompressed bytes a snapshot may declare
DEFAULT_MAX_SIZE = 1 << 30
_CHUNK = 1 << 20  # decompression step


class SnapshotError(ValueError):
    """Bytes that are not a whole, intact snapshot this build can read."""


# -- the envelope -----------------------------------------------------------------------------
def dump(ex: Exchange, key: bytes | None = None) -> bytes:
    """The snapshot of ``ex`` (between commands), sealed with HMAC-SHA256 under ``key``
    if given.  O(size of the venue)."""
    _check_key(key)
    venue = ex._s
    if venue.undo:
        raise RuntimeError("a snapshot is taken between commands, not inside one")
    journal = venue.journal
    if journal is not None:
        journal.check_in_step()
    with gc_paused():
        raw = msgspec.msgpack.encode(to_tree(venue))
    body = zlib.compress(raw, 6)
    if len(raw) > MAX_RATIO * len(body):  # a restore would refuse it: say so now
        raise ValueError(f"this venue compresses more than {MAX_RATIO}×, which a snapshot "
                         "may not declare")
    meta = json.dumps({
        "state_hash": ex.state_hash(),
        "now": ex.now,
        "events": venue.events.last(),
        "journal": None if journal is None else {
            "seq": journal.seq, "sha256": journal.prefix_digest(),
        },
    }, sort_keys=True).encode()
    seal = _SHA256 if key is None else _HMAC
    head = _HEAD.pack(MAGIC, FORMAT_VERSION, seal, len(meta), len(body), len(raw), bytes(32))
    signed = head[:_SIGNED]
    return b"".join((signed, _digest(key, signed, meta, body), meta, body))


def _check_key(key: Any) -> None:
    if key is not None and (not isinstance(key, bytes) or not key):
        raise TypeError(f"a snapshot key is non-empty bytes, not {type(key).__name__}")


def _digest(key: bytes | None, *parts: bytes | memoryview) -> bytes:
    """SHA-256, or HMAC-SHA256 under ``key``, of the concatenated ``parts`` (uncopied)."""
    h = hashlib.sha256() if key is None else hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        h.update(part)
    return h.digest()


def _opened(
    data: Any, key: bytes | None, max_size: int
) -> tuple[dict[str, Any], memoryview, int]:
    """The verified meta, the compressed body (a view of ``data``) and its declared
    decompressed length.  Copies nothing but the metadata."""
    _check_key(key)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SnapshotError(f"a snapshot is bytes, not {type(data).__name__}")
    data = memoryview(data).cast("B")
    if bytes(data[: len(MAGIC)]) != MAGIC[: len(data)]:
        raise SnapshotError("not a fapisim snapshot (bad magic)")
    if len(data) < _VERSION.size:
        raise SnapshotError(f"snapshot truncated: {len(data)} bytes, shorter than its header")
    _magic, version = _VERSION.unpack_from(data)
    _check_version(version)
    if len(data) < _HEAD.size:
        raise SnapshotError(
            f"snapshot truncated: {len(data)} bytes, shorter than its {_HEAD.size}-byte header"
        )
    _magic, _version, seal, m, n, declared, digest = _HEAD.unpack_from(data)
    if m > _MAX_META:
        raise SnapshotError(f"snapshot corrupted: {m} bytes of metadata (at most {_MAX_META})")
    payload = data[_HEAD.size:]
    if len(payload) < m + n:
        raise SnapshotError(
            f"snapshot truncated: the header announces {m + n} payload bytes, "
            f"{len(payload)} are present"
        )
    if len(payload) > m + n:
        raise SnapshotError(f"snapshot has {len(payload) - m - n} unexpected trailing bytes")
    _check_seal(seal, key, digest, _digest(key, data[:_SIGNED], payload))
    if declared > max_size:
        raise SnapshotError(f"snapshot declares {declared} bytes decompressed, more than "
                            f"max_size={max_size}")
    if declared > MAX_RATIO * n:
        raise SnapshotError(
            f"snapshot declares {declared} bytes from {n} compressed (more than {MAX_RATIO}×: "
            "refused unread, as a decompression bomb would be)"
        )
    return _meta(bytes(payload[:m])), payload[m:], declared


def _check_version(version: int) -> None:
    if version == _FLAT_LAYOUT:
        raise SnapshotError(
            "snapshot format version 1 was written by a fapisim build from before the engine "
            "was split into layers, and names classes this build no longer has; rebuild the "
            "venue from its journal instead (Exchange.replay)"
        )
    if version == _PICKLE_FORMAT:
        raise SnapshotError(
            "snapshot format version 2 is a pickle, written by an older fapisim build; this "
            "build does not load it, because unpickling can run code: rebuild the venue from "
            "its journal instead (Exchange.replay(path)) and take a new snapshot"
        )
    if version != FORMAT_VERSION:
        raise SnapshotError(
            f"snapshot format version {version} is not supported (this build reads "
            f"{FORMAT_VERSION})"
        )


def _check_seal(seal: int, key: bytes | None, digest: bytes, computed: bytes) -> None:
    if seal == _HMAC and key is None:
        raise SnapshotError("snapshot is sealed with a key (HMAC-SHA256): pass key= to load it")
    if seal == _SHA256 and key is not None:
        raise SnapshotError(
            "snapshot is not sealed with a key (plain SHA-256) but a key was given: anyone "
            "could have written it, so it is refused"
        )
    if seal not in (_SHA256, _HMAC):
        raise SnapshotError(f"snapshot corrupted: unknown seal {seal}")
    if not hmac.compare_digest(digest, computed):
        if seal == _HMAC:
            raise SnapshotError(
                "snapshot refused: its HMAC-SHA256 does not match (another key, or tampered)"
            )
        raise SnapshotError("snapshot corrupted: the payload's SHA-256 does not match")


def _meta(raw: bytes) -> dict[str, Any]:
    try:
        meta = json.loads(raw)
    except ValueError:
        meta = None
    journal = meta.get("journal", ()) if isinstance(meta, dict) else ()
    if not (
        isinstance(meta, dict) and type(meta.get("state_hash")) is str
        and type(meta.get("now")) is int and type(meta.get("events", 0)) is int
        and meta.get("events", 0) >= 0
        and (journal is None or (
            isinstance(journal, dict) and type(journal.get("seq")) is int
            and type(journal.get("sha256")) is str))
    ):
        raise SnapshotError("snapshot corrupted: unreadable metadata")
    return meta


def info(data: bytes, key: bytes | None = None) -> dict[str, Any]:
    """The verified ``meta`` of a snapshot, without decoding the venue."""
    return _opened(data, key, DEFAULT_MAX_SIZE)[0]


def _inflate(body: bytes | memoryview, declared: int) -> bytearray:
    """``body`` decompressed, if it is one whole zlib stream of exactly ``declared`` bytes.
    Inflates a chunk at a time into a buffer of ``declared`` bytes and stops at the first
    byte past it: peak memory is ``declared`` plus a chunk, whatever the stream holds."""
    z = zlib.decompressobj()
    out = bytearray(declared)
    pos, tail = 0, body
    try:
        while not z.eof:
            chunk = z.decompress(tail, min(_CHUNK, declared - pos + 1))
            if not chunk:
                break  # the input ended before the stream did
            if pos + len(chunk) > declared:
                raise SnapshotError(
                    f"snapshot body inflates past its declared {declared} bytes: refused"
                )
            out[pos:pos + len(chunk)] = chunk
            pos += len(chunk)
            tail = z.unconsumed_tail
    except zlib.error as e:
        raise SnapshotError(f"snapshot undecodable: {e}") from None
    if not z.eof or z.unused_data:
        raise SnapshotError("snapshot body is not one whole zlib stream")
    if pos != declared:
        raise SnapshotError(f"snapshot body inflates to {pos} bytes, not {declared}")
    return out


def load(
    data: bytes, cls: type[Exchange] | None = None, *, key: bytes | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> tuple[Exchange, dict[str, Any]]:
    """A new venue (of ``cls``, default ``Exchange``) from a snapshot, and the snapshot's
    ``meta``; ``key``: the snapshot's HMAC key.  See the module docstring."""
    from engine.core.errors import InvariantError
    from engine.venue.exchange import Exchange

    cls = Exchange if cls is None else cls
    meta, body, declared = _opened(data, key, max_size)
    raw = _inflate(body, declared)
    with gc_paused():
        try:
            tree = msgspec.msgpack.decode(raw)
        except (msgspec.DecodeError, RecursionError) as e:
            raise SnapshotError(f"snapshot undecodable: {e}") from None
        try:
            venue = from_tree(tree)
        except Refused as e:
            raise SnapshotError(f"snapshot refused: {e}") from None
        del tree, raw
    ex = cls.__new__(cls)
    try:
        from engine.core.events import EventLog

        venue.events = EventLog(venue.undo, venue, last=meta.get("events", 0))
        ex._assemble(venue)
        restored = ex.state_hash()
    except Exception as e:
        raise SnapshotError(f"snapshot undecodable: {e!r}") from e
    if restored != meta["state_hash"]:
        raise SnapshotError("snapshot decoded to a different state (state hash mismatch)")
    try:
        ex.check_invariants()
    except InvariantError as e:
        raise SnapshotError(f"snapshot decoded to a broken venue: {e}") from e
    except Exception as e:
        raise SnapshotError(f"snapshot decoded to a broken venue: {e!r}") from e
    return ex, meta
