"""The websocket protocol's edges: which route a path is, and the answer to a client frame.

Routes: see :mod:`engine.server.hub`.  :func:`route` reads a handshake's path and
query — ``/[<category>/]ws[/<n>|/<stream>[/…]]``, ``/[<category>/]stream?streams=…``,
``listenKey=…`` — into ``(category, combined, names)``.

Frames (Binance's live subscription protocol): ``{"method", "params", "id"}`` with
``id`` an unsigned integer (a string is accepted too: the official SDK sends UUIDs).
Answers are ``{"result", "id"}``; errors are Binance's frames — code 0 "Unknown
property", 1 "Invalid value type: expected Boolean", 2 "Invalid request: …",
3 "Invalid JSON: …" — with the request's ``id`` when it had a usable one (Binance's
spot servers include it; its futures documentation shows none).  Nothing a frame
holds is evaluated, and a bad frame changes no subscription.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from engine.server.encoding import dumps

if TYPE_CHECKING:
    from engine.server.hub import Conn, Hub

__all__ = ["CATEGORIES", "MAX_FRAME", "answer", "route"]

#: the largest frame a client may send (bytes)
MAX_FRAME = 64 * 1024
CATEGORIES = ("public", "market", "private")


def answer(hub: Hub, conn: Conn, text: str | None, data: bytes | None) -> str:
    """The answer to one client frame: its result, or Binance's error frame (see the
    module docstring); a bad frame changes nothing."""
    if text is None:
        text = data.decode("utf-8", "replace") if data else ""
    if len(text) > MAX_FRAME:
        return _error(2, "Invalid request: frame too large", None)
    try:
        req = json.loads(text)
    except json.JSONDecodeError as e:
        return _error(3, f"Invalid JSON: {e.msg.lower()} at line {e.lineno} "
                         f"column {e.colno}", None)
    if not isinstance(req, dict):
        return _error(2, "Invalid request: expected an object", None)
    rid = req.get("id")
    if not (isinstance(rid, int) and not isinstance(rid, bool) and rid >= 0) and \
            not isinstance(rid, str):
        return _error(2, "Invalid request: request ID must be an unsigned integer", None)
    method = req.get("method")
    if method is None:
        return _error(2, "Invalid request: missing field `method`", rid)
    params = req.get("params", [])
    if not isinstance(params, list):
        return _error(2, "Invalid request: params must be a list", rid)
    if method == "SUBSCRIBE":
        error = hub.subscribe(conn, params)
        return _error(2, error, rid) if error else _result(None, rid)
    if method == "UNSUBSCRIBE":
        if not all(isinstance(p, str) for p in params):
            return _error(2, "Invalid request: stream names must be strings", rid)
        hub.unsubscribe(conn, params)
        return _result(None, rid)
    if method == "LIST_SUBSCRIPTIONS":
        return _result(conn.subscriptions(), rid)
    if method in ("SET_PROPERTY", "GET_PROPERTY"):
        want = 2 if method == "SET_PROPERTY" else 1
        if len(params) > want:
            return _error(2, "Invalid request: too many parameters", rid)
        if not params or not isinstance(params[0], str):
            return _error(2, "Invalid request: property name must be a string", rid)
        if params[0] != "combined":
            return _error(0, "Unknown property", rid)
        if method == "GET_PROPERTY":
            return _result(conn.combined, rid)
        if len(params) < 2 or not isinstance(params[1], bool):
            return _error(1, "Invalid value type: expected Boolean", rid)
        conn.combined = params[1]
        return _result(None, rid)
    return _error(2, f"Invalid request: unknown variant `{str(method)[:40]}`, expected one "
                     "of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, "
                     "`SET_PROPERTY`, `GET_PROPERTY`", rid)


def _result(result: Any, rid: Any) -> str:
    return dumps({"result": result, "id": rid}).decode()


def _error(code: int, msg: str, rid: Any) -> str:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if rid is not None:
        body["id"] = rid
    return dumps(body).decode()


def route(path: str, streams: list[str], listen_keys: list[str], max_streams: int
          ) -> tuple[str | None, bool, list[str]] | None:
    """``(category, combined, names)`` of a websocket path, or None for no such route."""
    parts = path.strip("/").split("/")
    category = parts[0] if parts and parts[0] in CATEGORIES else None
    if category is not None:
        parts = parts[1:]
    if not parts or parts[0] not in ("ws", "stream"):
        return None
    combined = parts[0] == "stream"
    tail = parts[1:]
    names: list[str] = []
    if combined:
        if tail:
            return None
        for value in streams:
            names += [n for n in value.split("/") if n]
    elif len(tail) == 1 and tail[0].isdigit():
        pass  # a connection suffix (ccxt's /ws/<n>): subscribe by frames
    else:
        names = [n for n in tail if n]
    names += [k for k in listen_keys if k]
    if len(names) > max_streams:
        return None
    return category, combined, names
