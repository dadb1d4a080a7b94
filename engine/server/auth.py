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
is compared case-insensitively in constant time; anything but 64 hex digits
is -1022 at once.

What is signed is what runs: the signature is checked over the bytes received
and the parameters are parsed from those same bytes.  python-binance signs its
values *before* percent-encoding them (CLIENTS.md §0.2), so a request is also
accepted when the signature matches the percent-decoded payload — but only when
that decoded text splits into exactly the parameters parsed from the raw bytes
(decoding made no new ``&`` and no ``=`` inside a name).  Otherwise a signed
``timeInForce=GTC&reduceOnly=true`` could be re-sent as
``timeInForce=GTC%26reduceOnly%3Dtrue``: one parameter, the same decoded text,
and a close that opens.  When a request carries parameters in both the query
and the body (Binance allows it; none of the four client libraries does it),
the HMAC covers their concatenation with nothing between, so the bytes alone do
not say where the signer's query ended: moving the join a few characters
(``…&quantity=0.0105`` | ``reduceOnly=true…`` resent as ``…&quantity=0.010`` |
``5reduceOnly=true…``) would keep the signature and run a smaller quantity
without reduce-only.  Such a request is accepted only when the two pairs that
meet at the join are whole ``name=value`` pairs and every parameter name is one
of Binance's (:data:`KNOWN_PARAMS`, case-sensitive; no such name is a suffix of
another that starts in lower case), so a moved join always yields a name that
is refused; else -1022.

Caps (checked before anything is decoded): at most :data:`MAX_PARAMS`
parameters per request (-1101, "Too many parameters").

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
#: the most parameters one request may carry (Binance's largest request, a batch of
#: orders, has far fewer); more is -1101 before anything is decoded
MAX_PARAMS = 100
_HEX = frozenset("0123456789abcdefABCDEF")
#: the parameter names of Binance's USDⓈ-M REST API (what a request that splits its
#: parameters between query and body may carry)
KNOWN_PARAMS = frozenset({
    "activatePrice", "activationPrice", "algoId", "algoType", "amount", "batchOrders",
    "callbackRate", "clientAlgoId", "closePosition", "contractType", "countdownTime",
    "dualSidePosition", "endTime", "fromId", "goodTillDate", "incomeType", "interval",
    "leverage", "limit", "listenKey", "marginType", "multiAssetsMargin", "newClientOrderId",
    "newOrderRespType", "orderId", "orderIdList", "orderidlist", "origClientOrderId",
    "origClientOrderIdList", "origclientorderidlist", "origType", "page", "pair",
    "parentOrderId", "positionSide", "price", "priceMatch", "priceProtect", "quantity",
    "recvWindow", "reduceOnly", "selfTradePreventionMode", "side", "signature",
    "startTime", "stopLossPrice", "stopPrice", "symbol", "takeProfitPrice", "timeInForce",
    "timestamp", "triggerPrice", "type", "workingType",
})
#: wire-protocol parameters the facade consumes; the engine never sees them
TRANSPORT_PARAMS = frozenset({"signature", "timestamp", "recvWindow"})
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A parsed request: merged parameters and what the signature must cover."""

    params: dict[str, str]
    signature: str | None
    #: the signed payload: query and body as sent, each without its trailing signature
    #: pair (and the ``&`` before it), concatenated
    payload: bytes
    #: the signature was sent more than once, or not as the last parameter
    misplaced: bool
    #: the signed parameters, decoded, in the order sent: query's, then body's
    pairs: tuple[tuple[str, str], ...] = ()
    #: the query and the body both carry parameters, and where one ends is not certain
    cut_at_join: bool = False


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
    form = bool(body) and body_is_form(content_type)
    count = query.count(b"&") + 1 + (body.count(b"&") + 1 if form else 0)
    if count > MAX_PARAMS:
        # an upper bound (empty pairs count), cheap before any decoding
        real = sum(1 for p in query.split(b"&") if p)
        real += sum(1 for p in body.split(b"&") if p) if form else 0
        if real > MAX_PARAMS:
            raise reject("TOO_MANY_PARAMETERS", MAX_PARAMS, real)
    raws = (query, body if form else b"")
    parts = [_pairs(raws[0]), _pairs(raws[1])]
    params: dict[str, str] = {}
    signed: list[bytes] = []
    decoded: list[list[tuple[str, str]]] = [[], []]
    sigs: list[str] = []
    misplaced = False
    last_part = 1 if parts[1] else 0
    for i in (1, 0):  # body first, then the query overrides
        seen: set[str] = set()
        raw = raws[i]
        for j, (name, pair) in enumerate(parts[i]):
            if name in seen:
                raise reject("DUPLICATE_PARAM")
            seen.add(name)
            value = _value(pair)
            if name == "signature":
                sigs.append(value)
                if i != last_part or j != len(parts[i]) - 1:
                    misplaced = True
                else:  # the part as sent, up to its signature pair and the & before it
                    raw = raw[: raw.rindex(pair)].removesuffix(b"&")
                continue
            params[name] = value
            decoded[i].append((name, value))
        signed.insert(0, raw)
    cut = bool(parts[0] and parts[1]) and not (
        _whole(parts[0][-1][1]) and _whole(parts[1][0][1])
        and all(name in KNOWN_PARAMS for part in parts for name, _pair in part)
    )
    return ParsedRequest(
        params, sigs[0] if sigs else None, b"".join(signed), misplaced or len(sigs) > 1,
        tuple(decoded[0] + decoded[1]), cut,
    )


def _whole(pair: bytes) -> bool:
    """A ``name=value`` pair with a name (the signature's own pair counts as whole)."""
    return not pair.startswith(b"=") and b"=" in pair


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
    got = req.signature
    if req.misplaced or req.cut_at_join or len(got) != 64 or not _HEX.issuperset(got):
        return reject("INVALID_SIGNATURE")
    got = got.lower()
    if hmac.compare_digest(sign(req.payload, secret), got):
        return None
    decoded = _decoded_payload(req)
    if decoded is not None and hmac.compare_digest(sign(decoded, secret), got):
        return None
    return reject("INVALID_SIGNATURE")


def _decoded_payload(req: ParsedRequest) -> bytes | None:
    """The percent-decoded payload python-binance signs, or None when it is the raw one
    or would split into other parameters than those parsed (a decoded ``&`` anywhere,
    or ``=`` in a name: the signer's text is not what runs)."""
    for name, value in req.pairs:
        if "&" in name or "=" in name or "&" in value:
            return None
    try:
        decoded = unquote_plus(req.payload.decode("ascii"), errors="strict").encode()
    except UnicodeError:
        return None
    return None if decoded == req.payload else decoded


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
