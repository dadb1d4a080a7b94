"""Parameters and HMAC authentication of the REST facade (SPEC 2.3), as pure functions.

Nothing here reads a clock or the venue: the server passes the time in.

Parameters
----------
A request's parameters come from the query string and, when the body is
``application/x-www-form-urlencoded`` (or has no content type), the form body;
a name in both takes the query's value.  A name sent twice in one part is
-1101.  Other bodies (UMFutures sends ``application/json`` with an empty
body) are neither read nor signed.  Values stay strings; the engine parses them.

Signature (signed endpoints)
----------------------------
``signature`` is the hex HMAC-SHA256, keyed by the account's secret, of the
raw query string and the raw body concatenated with nothing between them,
each without its ``signature=`` pair.  It must be sent exactly once (-1102
when missing, -1022 when twice) and be the request's last parameter — the
body's last pair when the body has parameters, else the query's (-1022).  It
is compared case-insensitively in constant time.  python-binance signs its
values *before* percent-encoding them, so a request is also accepted when the
signature matches the percent-decoded payload (CLIENTS.md §0.2).

Timing
------
``timestamp`` is mandatory (-1102; not an integer -1100).  ``recvWindow`` is
optional, default 5000, at most 60000 (-1130).  As Binance: the request is
processed when ``timestamp < server_time + 1000`` and
``server_time − timestamp ≤ recvWindow``; else -1021 (with the "ahead"
message when it is early).

>>> q = b"symbol=BTCUSDT&orderId=7&timestamp=1700000000000"
>>> sig = sign(q, "s3cret")
>>> req = parse(q + b"&signature=" + sig.upper().encode(), b"", None)
>>> req.params["orderId"], verify_signature(req, "s3cret") is None
('7', True)
>>> check_timestamp(req.params, server_ms=1700000004000) is None
True
>>> check_timestamp(req.params, server_ms=1700000006000).error_code
-1021
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import unquote_plus

from engine.core.decimals import parse_int, present
from engine.core.errors import ClientError, reject

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000
AHEAD_TOLERANCE_MS = 1000
#: wire-protocol parameters the facade consumes; the engine never sees them
TRANSPORT_PARAMS = frozenset({"signature", "timestamp", "recvWindow"})
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A parsed request: merged parameters and what the signature must cover."""

    params: dict[str, str]
    signature: str | None
    #: the signed payload (query + body, each without the signature pair), raw bytes
    payload: bytes
    #: the signature was sent more than once, or not as the last parameter
    misplaced: bool


def _pairs(raw: bytes) -> list[tuple[str, bytes]]:
    """``(decoded name, raw pair)`` for each non-empty ``&``-separated pair."""
    out = []
    for pair in raw.split(b"&"):
        if pair:
            name = pair.split(b"=", 1)[0]
            out.append((_decode(name), pair))
    return out


def _decode(raw: bytes) -> str:
    try:
        return unquote_plus(raw.decode("ascii"), errors="strict")
    except UnicodeError:
        raise reject("ILLEGAL_CHARS", "request", "printable ASCII") from None


def _value(pair: bytes) -> str:
    _name, _eq, value = pair.partition(b"=")
    return _decode(value)


def body_is_form(content_type: str | None) -> bool:
    """True when a body of that content type carries form parameters."""
    return content_type is None or content_type.split(";", 1)[0].strip().lower() == _FORM


def parse(query: bytes, body: bytes, content_type: str | None) -> ParsedRequest:
    """Merge query and form body into one parameter dict (query wins); locate the signature.

    Raises -1101 for a name sent twice in one part, -1100 for bytes that are not
    ASCII or percent-escapes that are not UTF-8.  Runtime complexity: O(len).
    """
    parts = [_pairs(query)]
    if body and body_is_form(content_type):
        parts.append(_pairs(body))
    else:
        parts.append([])
    params: dict[str, str] = {}
    signed: list[bytes] = []
    sigs: list[str] = []
    misplaced = False
    last_part = 1 if parts[1] else 0
    for i in (1, 0):  # body first, then the query overrides
        seen: set[str] = set()
        kept = []
        for j, (name, pair) in enumerate(parts[i]):
            if name in seen:
                raise reject("DUPLICATE_PARAM")
            seen.add(name)
            if name == "signature":
                sigs.append(_value(pair))
                if i != last_part or j != len(parts[i]) - 1:
                    misplaced = True
                continue
            params[name] = _value(pair)
            kept.append(pair)
        signed.insert(0, b"&".join(kept))
    return ParsedRequest(
        params, sigs[0] if sigs else None, b"".join(signed), misplaced or len(sigs) > 1
    )


def sign(payload: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` keyed by ``secret``."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify_signature(req: ParsedRequest, secret: str) -> ClientError | None:
    """None when the request is signed by ``secret``; else the error to answer."""
    if not present(req.signature):
        return reject("MANDATORY_PARAM", "signature")
    if not present(req.params.get("timestamp")):
        return reject("MANDATORY_PARAM", "timestamp")
    assert req.signature is not None
    if req.misplaced:
        return reject("INVALID_SIGNATURE")
    got = req.signature.lower()
    if hmac.compare_digest(sign(req.payload, secret), got):
        return None
    try:
        decoded = unquote_plus(req.payload.decode("ascii"), errors="strict").encode()
    except UnicodeError:
        return reject("INVALID_SIGNATURE")
    if decoded != req.payload and hmac.compare_digest(sign(decoded, secret), got):
        return None
    return reject("INVALID_SIGNATURE")


def check_timestamp(params: dict[str, str], server_ms: int) -> ClientError | None:
    """None when ``timestamp`` is inside ``recvWindow`` of ``server_ms``; else the error."""
    ts_v = params.get("timestamp")
    if not present(ts_v):
        return reject("MANDATORY_PARAM", "timestamp")
    try:
        ts = parse_int(ts_v, "timestamp")
        rw_v = params.get("recvWindow")
        window = parse_int(rw_v, "recvWindow") if present(rw_v) else DEFAULT_RECV_WINDOW_MS
    except ClientError as e:
        return e
    if window > MAX_RECV_WINDOW_MS:
        return reject("INVALID_PARAMETER", "recvWindow")
    if ts >= server_ms + AHEAD_TOLERANCE_MS:
        return reject("TIMESTAMP_AHEAD")
    if server_ms - ts > window:
        return reject("INVALID_TIMESTAMP")
    return None
