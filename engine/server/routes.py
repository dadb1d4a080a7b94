"""The REST facade's route table: Binance path and verb → the engine call behind it.

Each :class:`Endpoint` names the venue command that answers it
(:mod:`engine.venue.commands`, what the in-process
:class:`~engine.venue.client.Client` calls too), whether it is signed,
its request weight (Binance's) and whether it places an order (counted in
``X-MBX-ORDER-COUNT-1M``).  Handlers only move parameters: every rule lives in
the engine.  A handler gets the venue, the caller's account state (None on
public endpoints) and the request's parameters as strings, without the
transport ones (``signature``, ``timestamp``, ``recvWindow``).

Start-up answers: ``GET /fapi/v1/multiAssetsMargin`` is always false (multi-assets
mode is not offered), ``apiTradingStatus`` reports no indicator, ``rateLimit/order``
Binance's order limits; the other market types a client library loads at start
(``/api/v3/exchangeInfo``, ``/dapi/v1/exchangeInfo``, ``/sapi/v1/margin/allPairs``,
signed ``/sapi/v1/margin/isolated/allPairs`` and ``/sapi/v1/capital/config/getall``)
answer with no symbols or assets.

``POST /fapi/v1/order`` answers ``newOrderRespType=ACK`` unless RESULT is sent, as
Binance does (:func:`ack_default`; in process the default is RESULT).

Choices: ``/fapi/v2/...`` and ``/fapi/v3/...`` account, balance and
positionRisk answer the same objects; conditional types are accepted on
``POST /fapi/v1/order`` as well as on ``/fapi/v1/algoOrder`` (SPEC 2.3);
``GET /api/v3/ping`` answers ``{}`` and ``GET /api/v3/time`` the venue clock, for
python-binance's ``AsyncClient.create()`` (its ``ThreadedWebsocketManager`` builds one).
List parameters of ``batchOrders`` are read in both spellings
(``orderIdList`` / ``orderidlist``, ``origClientOrderIdList`` /
``origclientorderidlist``), the camelCase one first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.venue import commands as c

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.venue.exchange import Exchange

__all__ = ["ROUTES", "Endpoint", "Params", "by_symbol", "public", "signed"]

Params = Mapping[str, str]
Handler = Callable[["Exchange", "AccountState | None", Params], Any]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One verb of one path.

    ``signed``: Binance's TRADE / USER_DATA — ``X-MBX-APIKEY``, ``signature`` and
    ``timestamp``; the handler gets the caller's account.  ``keyed``: Binance's
    MARKET_DATA (``GET /fapi/v1/historicalTrades``) — the ``X-MBX-APIKEY`` of a known
    account is required (missing or malformed → 401 -2014, unknown → 401 -2015) but
    nothing is signed, and the weight is the account's; the handler needs no account.
    Neither: public."""

    handler: Handler
    signed: bool
    weight: int | Callable[[Params], int]
    order: bool = False
    keyed: bool = False

    def weight_of(self, params: Params) -> int:
        w = self.weight
        return w if isinstance(w, int) else w(params)


def _depth_weight(params: Params) -> int:
    """Binance: limit 5–50 → 2, 100 → 5, 500 (default) → 10, 1000 → 20."""
    limit = params.get("limit") or "500"
    n = int(limit) if limit.isascii() and limit.isdigit() and len(limit) <= 6 else 500
    return 2 if n <= 50 else 5 if n <= 100 else 10 if n <= 500 else 20


def by_symbol(with_symbol: int, without: int) -> Callable[[Params], int]:
    """A weight that depends on whether ``symbol`` is sent (Binance's rule for lists)."""

    def weight(params: Params) -> int:
        return with_symbol if params.get("symbol") else without

    return weight


def _either(params: Params, *names: str) -> str | None:
    for name in names:
        value = params.get(name)
        if value is not None:
            return value
    return None


def ack_default(params: Params) -> Params:
    """The parameters with Binance's REST default ``newOrderRespType=ACK`` when none was
    sent (in process the default is RESULT: SPEC 3).  The journal records what runs,
    so a replay answers as the request was answered."""
    if "newOrderRespType" in params:
        return params
    return {**params, "newOrderRespType": "ACK"}


def _acct(a: AccountState | None) -> AccountState:
    assert a is not None, "signed endpoint without an account"
    return a


def public(handler: Callable[[Exchange, Params], Any], weight: Any = 1) -> Endpoint:
    return Endpoint(lambda ex, _a, p: handler(ex, p), False, weight)


def signed(
    handler: Callable[[Exchange, AccountState, Params], Any], weight: Any = 1,
    order: bool = False,
) -> Endpoint:
    return Endpoint(lambda ex, a, p: handler(ex, _acct(a), p), True, weight, order)


_ACCOUNT = {"GET": signed(lambda ex, a, p: c.account_info(ex, a), 5)}
_BALANCE = {"GET": signed(lambda ex, a, p: c.balance_info(ex, a), 5)}
_POSITION_RISK = {"GET": signed(lambda ex, a, p: c.get_position_risk(ex, a, p), 5)}
_PING = {"GET": public(lambda ex, p: {})}


def _other_market(ex: Exchange, p: Params) -> dict[str, Any]:
    """Another market type's exchange info, with no symbols: what a client library that
    loads every market type at start-up needs to carry on (SPEC 10)."""
    return {"timezone": "UTC", "serverTime": ex.now, "rateLimits": [], "exchangeFilters": [],
            "symbols": []}


#: Binance's order-count limits of an account (``GET /fapi/v1/rateLimit/order``)
ORDER_RATE_LIMITS = [
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
]

#: path -> verb -> endpoint
ROUTES: dict[str, dict[str, Endpoint]] = {
    # -- market data (public) ------------------------------------------------------------
    "/fapi/v1/ping": _PING,
    "/api/v3/ping": _PING,
    "/api/v3/time": {"GET": public(lambda ex, p: {"serverTime": ex.now})},
    "/fapi/v1/time": {"GET": public(lambda ex, p: {"serverTime": ex.now})},
    "/fapi/v1/exchangeInfo": {"GET": public(lambda ex, p: c.exchange_info(ex))},
    "/fapi/v1/depth": {"GET": public(lambda ex, p: c.depth(ex, p), _depth_weight)},
    "/fapi/v1/premiumIndex": {
        "GET": public(lambda ex, p: c.mark_price_info(ex, p), by_symbol(1, 10)),
    },
    "/fapi/v1/ticker/bookTicker": {
        "GET": public(lambda ex, p: c.book_ticker(ex, p), by_symbol(2, 5)),
    },
    # -- orders --------------------------------------------------------------------------
    "/fapi/v1/order": {
        "POST": signed(lambda ex, a, p: c.new_order(ex, a, ack_default(p)), 0, order=True),
        "GET": signed(lambda ex, a, p: c.query_order(ex, a, p)),
        "DELETE": signed(lambda ex, a, p: c.cancel_order(
            ex, a, p.get("symbol"), p.get("orderId"), p.get("origClientOrderId"))),
        "PUT": signed(lambda ex, a, p: c.modify_order(ex, a, p), 0, order=True),
    },
    "/fapi/v1/batchOrders": {
        "DELETE": signed(lambda ex, a, p: c.cancel_batch(
            ex, a, p.get("symbol"), _either(p, "orderIdList", "orderidlist"),
            _either(p, "origClientOrderIdList", "origclientorderidlist"))),
    },
    "/fapi/v1/allOpenOrders": {
        "DELETE": signed(lambda ex, a, p: c.cancel_open_orders(ex, a, p.get("symbol"))),
    },
    "/fapi/v1/countdownCancelAll": {
        "POST": signed(lambda ex, a, p: c.countdown_cancel(
            ex, a, p.get("symbol"), p.get("countdownTime")), 10),
    },
    "/fapi/v1/openOrder": {"GET": signed(lambda ex, a, p: c.get_open_order(ex, a, p))},
    "/fapi/v1/orderAmendment": {"GET": signed(lambda ex, a, p: c.order_amendments(ex, a, p))},
    "/fapi/v1/openOrders": {
        "GET": signed(lambda ex, a, p: c.get_orders(ex, a, p), by_symbol(1, 40)),
    },
    "/fapi/v1/allOrders": {"GET": signed(lambda ex, a, p: c.get_all_orders(ex, a, p), 5)},
    "/fapi/v1/userTrades": {
        "GET": signed(lambda ex, a, p: c.get_account_trades(ex, a, p), 5),
    },
    "/fapi/v1/income": {"GET": signed(lambda ex, a, p: c.get_income_history(ex, a, p), 30)},
    # -- algo orders: views of the trigger registry -------------------------------------
    "/fapi/v1/algoOrder": {
        "POST": signed(lambda ex, a, p: c.new_algo_order(ex, a, p), 0, order=True),
        "GET": signed(lambda ex, a, p: c.query_algo_order(ex, a, p)),
        "DELETE": signed(lambda ex, a, p: c.cancel_algo_order(ex, a, p)),
    },
    "/fapi/v1/algoOpenOrders": {
        "DELETE": signed(lambda ex, a, p: c.cancel_algo_open_orders(ex, a, p)),
    },
    "/fapi/v1/openAlgoOrders": {
        "GET": signed(lambda ex, a, p: c.open_algo_orders(ex, a, p), by_symbol(1, 40)),
    },
    "/fapi/v1/allAlgoOrders": {"GET": signed(lambda ex, a, p: c.all_algo_orders(ex, a, p), 5)},
    # -- account settings ---------------------------------------------------------------
    "/fapi/v1/leverage": {
        "POST": signed(lambda ex, a, p: c.change_leverage(
            ex, a, p.get("symbol"), p.get("leverage"))),
    },
    "/fapi/v1/marginType": {
        "POST": signed(lambda ex, a, p: c.change_margin_type(
            ex, a, p.get("symbol"), p.get("marginType"))),
    },
    "/fapi/v1/positionSide/dual": {
        "POST": signed(lambda ex, a, p: c.change_position_mode(
            ex, a, p.get("dualSidePosition"))),
        "GET": signed(lambda ex, a, p: c.get_position_mode(ex, a), 30),
    },
    "/fapi/v1/commissionRate": {"GET": signed(lambda ex, a, p: c.commission_rate(ex, p), 20)},
    "/fapi/v1/leverageBracket": {"GET": signed(lambda ex, a, p: c.leverage_brackets(ex, p))},
    "/fapi/v1/multiAssetsMargin": {
        "GET": signed(lambda ex, a, p: {"multiAssetsMargin": False}, 30),
    },
    "/fapi/v1/apiTradingStatus": {
        "GET": signed(lambda ex, a, p: {"indicators": {}, "updateTime": ex.now}),
    },
    "/fapi/v1/rateLimit/order": {"GET": signed(lambda ex, a, p: ORDER_RATE_LIMITS)},
    # -- other market types: empty, for client libraries that load them all at start ----
    "/api/v3/exchangeInfo": {"GET": public(_other_market, 20)},
    "/dapi/v1/exchangeInfo": {"GET": public(_other_market)},
    "/sapi/v1/margin/allPairs": {"GET": public(lambda ex, p: [])},
    "/sapi/v1/margin/isolated/allPairs": {"GET": signed(lambda ex, a, p: [], 10)},
    "/sapi/v1/capital/config/getall": {"GET": signed(lambda ex, a, p: [], 10)},
    # -- account views ------------------------------------------------------------------
    "/fapi/v2/account": _ACCOUNT,
    "/fapi/v3/account": _ACCOUNT,
    "/fapi/v2/balance": _BALANCE,
    "/fapi/v3/balance": _BALANCE,
    "/fapi/v2/positionRisk": _POSITION_RISK,
    "/fapi/v3/positionRisk": _POSITION_RISK,
}
