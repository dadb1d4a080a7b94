"""Snapshots: the whole venue as bytes, and back (SPEC 8).

``ex.snapshot()`` → ``bytes``; ``Exchange.restore(data)`` → a new, independent
venue with the same ``state_hash()`` that answers every later command as the
original would.

Format
------
::

    offset  size  field
    0       8     magic b"FAPISNAP"
    8       2     format version, big-endian (2)
    10      8     payload length in bytes, big-endian
    18      32    SHA-256 of the payload
    50      n     payload

    payload: meta length (4 bytes, big-endian) | meta (JSON) | zlib(pickle(state))

``meta`` holds the venue's ``state_hash``, its clock and, for a journaled
venue, ``{"seq", "sha256"}``: the journal line the snapshot follows and the
SHA-256 of the journal's bytes up to it, so ``Exchange.replay(path,
snapshot=data)`` applies only the tail (:mod:`engine.persist.journal`).  ``state``
is the venue's :class:`~engine.venue.state.VenueState` but its journal (a
restored venue journals nothing until replayed with ``resume``); the rule
objects are rebuilt around it on load; memo caches travel along (they are not
state, and equal in any venue that served the same requests).

Loading checks, in order, before decoding anything: length, magic, version,
payload length (a short one is *truncated*, a long one has trailing bytes),
digest; then it decodes into a fresh venue and checks that venue's
``state_hash()`` against ``meta`` and its invariants.  Any failure raises
:class:`SnapshotError` (a ``ValueError``) naming it, and nothing is returned:
a snapshot is never half-loaded.  Format 1 (the flat ``engine`` package's
class names) is refused with a message that says so: rebuild such a venue from
its journal, which replays by command name.

Trust
-----
The payload is a pickle.  The loader resolves only the engine's own classes,
``Decimal`` and sortedcontainers' containers, which narrows what a crafted
file could do but does not make unpickling safe: restore snapshots only from a
trusted source (the digest detects corruption, not tampering).

Cost: O(size of the venue) both ways; nothing else is touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import struct
import zlib
from types import MethodType
from typing import TYPE_CHECKING, Any

from engine.venue.state import VenueState

if TYPE_CHECKING:
    from engine.venue.exchange import Exchange

__all__ = ["FORMAT_VERSION", "MAGIC", "SnapshotError", "dump", "info", "load"]

MAGIC = b"FAPISNAP"
FORMAT_VERSION = 2
#: format 1 named the classes of the flat ``engine`` package (before the layers)
_FLAT_LAYOUT = 1
_HEAD = struct.Struct(">8sHQ32s")
_META_LEN = struct.Struct(">I")
#: modules outside the engine whose classes a snapshot may name
_FOREIGN = {
    "decimal": {"Decimal"},
    "sortedcontainers.sorteddict": {"SortedDict", "SortedKeysView", "SortedItemsView",
                                    "SortedValuesView"},
    "sortedcontainers.sortedlist": {"SortedList", "SortedKeyList"},
}
_VENUE = "venue"


class SnapshotError(ValueError):
    """Bytes that are not a whole, intact snapshot this build can read."""


class _Pickler(pickle.Pickler):
    """Pickles the venue state's fields; the state itself and its bound methods (the
    ledger's mark lookup) become references resolved to the new state on load."""

    def __init__(self, file: io.BytesIO, venue: VenueState) -> None:
        super().__init__(file, protocol=5)
        self.venue = venue

    def persistent_id(self, obj: Any) -> Any:
        if obj is self.venue:
            return _VENUE
        if type(obj) is MethodType and obj.__self__ is self.venue:
            return (_VENUE, obj.__func__.__name__)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, venue: VenueState) -> None:
        super().__init__(file)
        self.venue = venue

    def persistent_load(self, pid: Any) -> Any:
        if pid == _VENUE:
            return self.venue
        if type(pid) is tuple and len(pid) == 2 and pid[0] == _VENUE:
            name = pid[1]
            if type(name) is str and not name.startswith("__"):
                method = getattr(type(self.venue), name, None)
                if callable(method):
                    return getattr(self.venue, name)
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")

    def find_class(self, module: str, name: str) -> Any:
        if module == "engine" or module.startswith("engine."):
            obj = super().find_class(module, name)
            if isinstance(obj, type) and obj.__module__ == module:
                return obj
        elif name in _FOREIGN.get(module, ()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a snapshot may not name {module}.{name}")


def dump(ex: Exchange) -> bytes:
    """The snapshot of ``ex`` (between commands).  O(size of the venue)."""
    venue = ex._s
    if venue.undo:
        raise RuntimeError("a snapshot is taken between commands, not inside one")
    journal = venue.journal
    if journal is not None:
        journal.check_in_step()
    state = {k: getattr(venue, k) for k in VenueState.__slots__ if k != "journal"}
    buf = io.BytesIO()
    _Pickler(buf, venue).dump(state)
    meta = {
        "state_hash": ex.state_hash(),
        "now": ex.now,
        "journal": None if journal is None else {
            "seq": journal.seq, "sha256": journal.prefix_digest(),
        },
    }
    meta_bytes = json.dumps(meta, sort_keys=True).encode()
    payload = _META_LEN.pack(len(meta_bytes)) + meta_bytes + zlib.compress(buf.getvalue(), 6)
    head = _HEAD.pack(MAGIC, FORMAT_VERSION, len(payload), hashlib.sha256(payload).digest())
    return head + payload


def _verified_payload(data: Any) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SnapshotError(f"a snapshot is bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEAD.size:
        if not MAGIC.startswith(data[: len(MAGIC)]):
            raise SnapshotError("not a fapisim snapshot (bad magic)")
        raise SnapshotError(
            f"snapshot truncated: {len(data)} bytes, shorter than its {_HEAD.size}-byte header"
        )
    magic, version, length, digest = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise SnapshotError("not a fapisim snapshot (bad magic)")
    if version == _FLAT_LAYOUT:
        raise SnapshotError(
            "snapshot format version 1 was written by a fapisim build from before the engine "
            "was split into layers, and names classes this build no longer has; rebuild the "
            "venue from its journal instead (Exchange.replay)"
        )
    if version != FORMAT_VERSION:
        raise SnapshotError(
            f"snapshot format version {version} is not supported (this build reads "
            f"{FORMAT_VERSION})"
        )
    payload = data[_HEAD.size:]
    if len(payload) < length:
        raise SnapshotError(
            f"snapshot truncated: the header announces {length} payload bytes, "
            f"{len(payload)} are present"
        )
    if len(payload) > length:
        raise SnapshotError(f"snapshot has {len(payload) - length} unexpected trailing bytes")
    if hashlib.sha256(payload).digest() != digest:
        raise SnapshotError("snapshot corrupted: the payload's SHA-256 does not match")
    return payload


def info(data: bytes) -> dict[str, Any]:
    """The verified ``meta`` of a snapshot, without decoding the venue."""
    return _meta(_verified_payload(data))


def _meta(payload: bytes) -> dict[str, Any]:
    try:
        (n,) = _META_LEN.unpack_from(payload)
        meta = json.loads(payload[_META_LEN.size:_META_LEN.size + n])
    except (struct.error, ValueError):
        meta = None
    if not isinstance(meta, dict) or "state_hash" not in meta:
        raise SnapshotError("snapshot corrupted: unreadable metadata")
    return meta


def load(data: bytes, cls: type[Exchange] | None = None) -> tuple[Exchange, dict[str, Any]]:
    """A new venue (of ``cls``, default ``Exchange``) from a snapshot, and the snapshot's
    ``meta``; see the module docstring."""
    from engine.core.errors import InvariantError
    from engine.venue.exchange import Exchange

    cls = Exchange if cls is None else cls
    payload = _verified_payload(data)
    meta = _meta(payload)
    (n,) = _META_LEN.unpack_from(payload)
    ex = cls.__new__(cls)
    venue = VenueState.__new__(VenueState)
    try:
        raw = zlib.decompress(payload[_META_LEN.size + n:])
        state = _Unpickler(io.BytesIO(raw), venue).load()
        if not isinstance(state, dict):
            raise TypeError(f"state is a {type(state).__name__}")
        fields = set(VenueState.__slots__) - {"journal"}
        if set(state) != fields:
            raise ValueError(f"state fields {sorted(state)} are not {sorted(fields)}")
        for k, v in state.items():
            setattr(venue, k, v)
        venue.journal = None
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
    return ex, meta
