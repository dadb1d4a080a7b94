"""The REST facade's route table: Binance path and verb → the engine call behind it.

Each :class:`Endpoint` names the venue command that answers it
(:mod:`engine.venue.commands`, what the in-process
:class:`~engine.venue.client.Client` calls too), whether it is signed,
its request weight (Binance's, charged to the client's IP address) and how many
orders a request places (counted against the account, ``X-MBX-ORDER-COUNT-10S``
and ``-1M``: :mod:`~engine.server.weights`).  Handlers only move parameters: every
rule lives in the engine.  A handler gets the venue, the caller's account state (None on
public endpoints) and the request's parameters as strings, without the
transport ones (``signature``, ``timestamp``, ``recvWindow``).

Start-up answers: ``GET /fapi/v1/multiAssetsMargin`` is always false (multi-assets
mode is not offered), ``apiTradingStatus`` reports no indicator, ``rateLimit/order``
Binance's order limits; the other market types a client library loads at start
(``/api/v3/exchangeInfo``, ``/dapi/v1/exchangeInfo``, ``/sapi/v1/margin/allPairs``,
signed ``/sapi/v1/margin/isolated/allPairs`` and ``/sapi/v1/capital/config/getall``)
answer with no symbols or assets.

``POST /fapi/v1/order`` and ``batchOrders`` take Binance's wire defaults where they
differ from the in-process ones (:func:`wire_defaults`): the answer is ACK unless
RESULT is sent, and self-trade prevention is EXPIRE_MAKER unless another mode is.

``/fapi/v2/...`` and ``/fapi/v3/...`` account and positionRisk answer each
version's own shape and rows (:mod:`engine.venue.accounts`).

Choices: conditional types are accepted on
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

from engine.core.errors import reject
from engine.server.weights import RateLimits
from engine.venue import commands as c
from engine.venue.batch import parse_batch

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.venue.exchange import Exchange

__all__ = ["CONDITIONAL_TYPES", "ROUTES", "WIRE_DEFAULTS", "Endpoint", "Params", "wire_defaults",
           "algo_only_routes", "by_symbol", "public", "signed"]

Params = Mapping[str, str]
Handler = Callable[["Exchange", "AccountState | None", Params], Any]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One verb of one path.

    ``signed``: Binance's TRADE / USER_DATA — ``X-MBX-APIKEY``, ``signature`` and
    ``timestamp``; the handler gets the caller's account.  ``keyed``: Binance's
    MARKET_DATA (``GET /fapi/v1/historicalTrades``) — the ``X-MBX-APIKEY`` of a known
    account is required (missing or malformed → 401 -2014, unknown → 401 -2015) but
    nothing is signed; the handler needs no account.  Neither: public.

    ``weight``: charged to the client's IP address, whoever sends it.  ``orders``: what
    one request counts against its account's order limits, ``(10-second counter,
    minute counter)``; ``(0, 0)``: not an order endpoint.  Binance's pages: one order
    on each for ``POST``/``PUT /fapi/v1/order``; 5 and 1 for ``batchOrders``, whatever
    its size."""

    handler: Handler
    signed: bool
    weight: int | Callable[[Params], int]
    orders: tuple[int, int] = (0, 0)
    keyed: bool = False

    def weight_of(self, params: Params) -> int:
        w = self.weight
        return w if isinstance(w, int) else w(params)

    @property
    def order(self) -> bool:
        """True when the endpoint places orders."""
        return self.orders != (0, 0)


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


#: what ``POST /fapi/v1/order`` (and each ``batchOrders`` item) takes when it is not sent,
#: where Binance's wire default differs from the venue's in-process one (SPEC 3)
WIRE_DEFAULTS = {"newOrderRespType": "ACK", "selfTradePreventionMode": "EXPIRE_MAKER"}


def wire_defaults(params: Params) -> Params:
    """The parameters with Binance's REST defaults for what was not sent
    (:data:`WIRE_DEFAULTS`): ``newOrderRespType=ACK`` (in process: RESULT) and
    ``selfTradePreventionMode=EXPIRE_MAKER`` (in process: NONE) — the default the New
    Order page states and live orders sent without it report.  The journal records
    what runs, so a replay answers as the request was answered."""
    missing = {k: v for k, v in WIRE_DEFAULTS.items() if k not in params}
    return {**params, **missing} if missing else params


def _ack_items(batch: Any) -> list[dict[str, Any]]:
    """``batchOrders``' items, each with Binance's wire defaults (:func:`wire_defaults`)."""
    return [dict(wire_defaults(item)) for item in parse_batch(batch)]


#: the conditional types Binance moved to the Algo Order endpoints on 2025-12-09
CONDITIONAL_TYPES = frozenset(
    {"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"})


def _algo_only_order(ex: Exchange, a: AccountState, p: Params) -> Any:
    if p.get("type") in CONDITIONAL_TYPES:
        raise reject("STOP_ORDER_SWITCH_ALGO")
    return c.new_order(ex, a, wire_defaults(p))


def _algo_only_batch(ex: Exchange, a: AccountState, p: Params) -> Any:
    """The batch with its conditional items refused -4120 in place and the rest placed
    (each item is judged on its own, so the answers are the ones a batch without
    those items gives, merged back in order)."""
    items = _ack_items(p.get("batchOrders"))
    keep = [i for i in items if i.get("type") not in CONDITIONAL_TYPES]
    placed = iter(c.new_batch_orders(ex, a, keep) if keep else [])
    refused = reject("STOP_ORDER_SWITCH_ALGO").to_wire()
    return [dict(refused) if i.get("type") in CONDITIONAL_TYPES else next(placed)
            for i in items]


def algo_only_routes() -> dict[str, dict[str, Endpoint]]:
    """``--algo-only`` (Binance since 2025-12-09): ``POST /fapi/v1/order`` and ``POST
    /fapi/v1/batchOrders`` refuse the conditional types with -4120, so a bot can check
    that it sends them to ``/fapi/v1/algoOrder``.  The routes that change."""
    return {
        "/fapi/v1/order": {**ROUTES["/fapi/v1/order"],
                           "POST": signed(_algo_only_order, 0, order=True)},
        "/fapi/v1/batchOrders": {**ROUTES["/fapi/v1/batchOrders"],
                                 "POST": signed(_algo_only_batch, 5, orders=(5, 1))},
    }


def _acct(a: AccountState | None) -> AccountState:
    assert a is not None, "signed endpoint without an account"
    return a


def public(handler: Callable[[Exchange, Params], Any], weight: Any = 1) -> Endpoint:
    return Endpoint(lambda ex, _a, p: handler(ex, p), False, weight)


def signed(
    handler: Callable[[Exchange, AccountState, Params], Any], weight: Any = 1,
    order: bool = False, orders: tuple[int, int] | None = None,
) -> Endpoint:
    """A signed endpoint; ``orders``: its order counts (``order=True``: one on each)."""
    count = ((1, 1) if order else (0, 0)) if orders is None else orders
    return Endpoint(lambda ex, a, p: handler(ex, _acct(a), p), True, weight, count)


_BALANCE = {"GET": signed(lambda ex, a, p: c.balance_info(ex, a), 5)}
_PING = {"GET": public(lambda ex, p: {})}


def _other_market(ex: Exchange, p: Params) -> dict[str, Any]:
    """Another market type's exchange info, with no symbols: what a client library that
    loads every market type at start-up needs to carry on (SPEC 10)."""
    return {"timezone": "UTC", "serverTime": ex.now, "rateLimits": [], "exchangeFilters": [],
            "symbols": []}


#: Binance's order-count limits of an account (``GET /fapi/v1/rateLimit/order``): what
#: Binance reports, whichever limits this server enforces (:class:`RateLimits`)
ORDER_RATE_LIMITS = [row for row in reversed(RateLimits.binance().rate_limits())
                     if row["rateLimitType"] == "ORDERS"]

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
        "POST": signed(lambda ex, a, p: c.new_order(ex, a, wire_defaults(p)), 0, order=True),
        "GET": signed(lambda ex, a, p: c.query_order(ex, a, p)),
        "DELETE": signed(lambda ex, a, p: c.cancel_order(
            ex, a, p.get("symbol"), p.get("orderId"), p.get("origClientOrderId"))),
        "PUT": signed(lambda ex, a, p: c.modify_order(ex, a, p), 0, order=True),
    },
    "/fapi/v1/order/test": {
        "POST": signed(lambda ex, a, p: c.test_order(ex, a, wire_defaults(p))),
    },
    "/fapi/v1/batchOrders": {
        "POST": signed(lambda ex, a, p: c.new_batch_orders(
            ex, a, _ack_items(p.get("batchOrders"))), 5, orders=(5, 1)),
        "PUT": signed(lambda ex, a, p: c.modify_batch_orders(ex, a, p.get("batchOrders")), 5,
                      orders=(5, 1)),
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
    "/fapi/v1/symbolConfig": {"GET": signed(lambda ex, a, p: c.symbol_config(ex, a, p), 5)},
    "/fapi/v1/accountConfig": {"GET": signed(lambda ex, a, p: c.account_config(ex, a), 5)},
    "/fapi/v1/commissionRate": {"GET": signed(lambda ex, a, p: c.commission_rate(ex, p), 20)},
    "/fapi/v1/leverageBracket": {"GET": signed(lambda ex, a, p: c.leverage_brackets(ex, p))},
    "/fapi/v1/multiAssetsMargin": {
        "GET": signed(lambda ex, a, p: {"multiAssetsMargin": False}, 30),
        "POST": signed(lambda ex, a, p: c.change_multi_assets(ex, a, p)),
    },
    "/fapi/v1/positionMargin": {
        "POST": signed(lambda ex, a, p: c.modify_position_margin(ex, a, p)),
    },
    "/fapi/v1/positionMargin/history": {
        "GET": signed(lambda ex, a, p: c.position_margin_history(ex, a, p)),
    },
    "/fapi/v1/adlQuantile": {"GET": signed(lambda ex, a, p: c.adl_quantile(ex, a, p), 5)},
    "/fapi/v1/forceOrders": {
        "GET": signed(lambda ex, a, p: c.force_orders(ex, a, p), by_symbol(20, 50)),
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
    "/fapi/v2/account": {"GET": signed(lambda ex, a, p: c.account_info(ex, a, 2), 5)},
    "/fapi/v3/account": {"GET": signed(lambda ex, a, p: c.account_info(ex, a, 3), 5)},
    "/fapi/v2/balance": _BALANCE,
    "/fapi/v3/balance": _BALANCE,
    "/fapi/v2/positionRisk": {
        "GET": signed(lambda ex, a, p: c.get_position_risk(ex, a, p, 2), 5),
    },
    "/fapi/v3/positionRisk": {
        "GET": signed(lambda ex, a, p: c.get_position_risk(ex, a, p, 3), 5),
    },
}
