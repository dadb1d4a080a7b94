"""The venue's commands on behalf of an account, by the names journals and routes know them.

Each function takes the venue, the caller's ledger state
(:meth:`~engine.venue.exchange.Exchange.account_state`; none for market data)
and the parameters as Binance names them on the wire — a mapping, or the
positional values the journal records — and returns Binance's answer, or
raises :class:`~engine.core.errors.ClientError` having changed nothing.

These are the venue's doors for code outside this package: the REST routes
(:mod:`engine.server.routes`) call them, and the journal
(:mod:`engine.persist.journal`) replays by their names — the mutating ones are
the keys of :data:`ACCOUNT_COMMANDS`, which is the table from a journal line's
``cmd`` to its implementation (the names the journals of every earlier
release wrote).  Research code uses :class:`~engine.venue.client.Client`
instead: the same commands under ``UMFutures``' names and signatures.  The
operator's commands (accounts, marks, the clock, the tape, funding) are
:class:`~engine.venue.exchange.Exchange`'s own methods.

>>> from engine import Exchange
>>> ex = Exchange(); _ = ex.create_account("ann", balance="1000")
>>> ann = ex.account_state("ann")
>>> o = new_order(ex, ann, {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
...                         "timeInForce": "GTC", "quantity": "0.01", "price": "20000"})
>>> cancel_order(ex, ann, "BTCUSDT", o["orderId"])["status"]
'CANCELED'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from engine.wire.events import owner_of, user_messages

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.venue.exchange import Exchange

__all__ = [
    "ACCOUNT_COMMANDS", "account_config", "account_info", "adl_quantile", "change_multi_assets",
    "force_orders", "all_algo_orders", "balance_info",
    "book_ticker",
    "cancel_algo_open_orders", "cancel_algo_order", "cancel_batch", "cancel_open_orders",
    "cancel_order", "change_leverage", "change_margin_type", "change_position_mode",
    "commission_rate", "countdown_cancel", "depth", "exchange_info", "get_account_trades",
    "get_all_orders", "get_income_history", "get_open_order", "get_orders",
    "get_position_mode", "get_position_risk", "leverage_brackets", "mark_price_info",
    "modify_batch_orders", "modify_order", "new_batch_orders", "order_amendments", "test_order",
    "new_algo_order", "new_order", "open_algo_orders", "query_algo_order", "query_order",
    "symbol_config", "modify_position_margin", "position_margin_history",
    "event_owner", "user_events",
]

Params = Mapping[str, Any]


# -- trading (journaled) --------------------------------------------------------------------
def new_order(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``POST /fapi/v1/order``: place an order (and its TP/SL) — SPEC 4, 5."""
    return ex._entry.new_order(acct, params)  # type: ignore[no-any-return]


def modify_order(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``PUT /fapi/v1/order``: amend an open LIMIT order's price and quantity."""
    return ex._amends.modify_order(acct, params)


def new_batch_orders(ex: Exchange, acct: AccountState, batch: Any) -> list[dict]:
    """``POST /fapi/v1/batchOrders``: up to 5 placements, each its own command."""
    return ex._batches.new_batch(acct, batch)


def modify_batch_orders(ex: Exchange, acct: AccountState, batch: Any) -> list[dict]:
    """``PUT /fapi/v1/batchOrders``: up to 5 modifies, each its own command."""
    return ex._batches.modify_batch(acct, batch)


def test_order(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``POST /fapi/v1/order/test``: judge an order as a placement would; change nothing."""
    return ex._batches.test_order(acct, params)


def order_amendments(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/orderAmendment``: an order's amendments, oldest first."""
    return ex._views.order_amendments(acct, params)


def cancel_order(
    ex: Exchange, acct: AccountState, symbol: Any, order_id: Any = None, cid: Any = None
) -> dict:
    """``DELETE /fapi/v1/order``: cancel one order and, for a parent, its untriggered TP/SL."""
    return ex._cancels.cancel_order(acct, symbol, order_id, cid)  # type: ignore[no-any-return]


def cancel_batch(
    ex: Exchange, acct: AccountState, symbol: Any, order_ids: Any, cids: Any
) -> list[dict]:
    """``DELETE /fapi/v1/batchOrders``: up to 10 cancels, each its own transaction."""
    return ex._cancels.cancel_batch(acct, symbol, order_ids, cids)


def cancel_open_orders(ex: Exchange, acct: AccountState, symbol: Any) -> dict:
    """``DELETE /fapi/v1/allOpenOrders``: every open order and untriggered row on a symbol."""
    return ex._cancels.cancel_open_orders(acct, symbol)


def countdown_cancel(ex: Exchange, acct: AccountState, symbol: Any, countdown: Any) -> dict:
    """``POST /fapi/v1/countdownCancelAll``: arm (or with 0 disarm) the auto-cancel."""
    return ex._cancels.countdown_cancel(acct, symbol, countdown)


def change_leverage(ex: Exchange, acct: AccountState, symbol: Any, leverage: Any) -> dict:
    """``POST /fapi/v1/leverage``."""
    return ex._settings.change_leverage(acct, symbol, leverage)


def change_position_mode(ex: Exchange, acct: AccountState, dual: Any) -> dict:
    """``POST /fapi/v1/positionSide/dual``: one-way or hedge mode."""
    return ex._settings.change_position_mode(acct, dual)


def new_algo_order(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``POST /fapi/v1/algoOrder``: a conditional order, as an algo object."""
    return ex._algo.new_algo_order(acct, params)


def cancel_algo_order(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``DELETE /fapi/v1/algoOrder``: cancel one untriggered trigger row."""
    return ex._algo.cancel_algo_order(acct, params)


def cancel_algo_open_orders(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``DELETE /fapi/v1/algoOpenOrders``: every untriggered row on a symbol."""
    return ex._algo.cancel_algo_open_orders(acct, params)


# -- settings that change nothing, and views ------------------------------------------------
def change_margin_type(ex: Exchange, acct: AccountState, symbol: Any, margin_type: Any) -> dict:
    """``POST /fapi/v1/marginType``: ISOLATED or CROSSED for one symbol."""
    return ex._settings.change_margin_type(acct, symbol, margin_type)


def modify_position_margin(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``POST /fapi/v1/positionMargin``: add to or take from an isolated position's wallet."""
    return ex._settings.modify_position_margin(acct, params)


def position_margin_history(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/positionMargin/history``."""
    return ex._settings.margin_history(acct, params)


def get_position_mode(ex: Exchange, acct: AccountState) -> dict:
    """``GET /fapi/v1/positionSide/dual``."""
    return ex._settings.get_position_mode(acct)


def query_order(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``GET /fapi/v1/order``: one of the caller's orders, any status."""
    return ex._views.query_order(acct, params)


def get_open_order(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``GET /fapi/v1/openOrder``: one open order (-2013 once it is not open)."""
    return ex._views.get_open_order(acct, params)


def get_orders(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/openOrders``: open orders and untriggered trigger rows."""
    return ex._views.get_orders(acct, params)


def get_all_orders(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/allOrders``."""
    return ex._views.get_all_orders(acct, params)


def get_account_trades(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/userTrades``."""
    return ex._views.get_account_trades(acct, params)


def get_income_history(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/income``."""
    return ex._views.get_income_history(acct, params)


def account_info(ex: Exchange, acct: AccountState, version: int = 3) -> dict:
    """``GET /fapi/v2/account`` or ``/fapi/v3/account`` (:mod:`engine.venue.accounts`)."""
    return ex._accounts.account_info(acct, version)


def balance_info(ex: Exchange, acct: AccountState) -> list[dict]:
    """``GET /fapi/v2/balance`` and ``/fapi/v3/balance``."""
    return ex._accounts.balance_info(acct)


def get_position_risk(ex: Exchange, acct: AccountState, params: Params,
                      version: int = 3) -> list[dict]:
    """``GET /fapi/v2/positionRisk`` or ``/fapi/v3/positionRisk``."""
    return ex._accounts.position_risk(acct, params, version)


def symbol_config(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/symbolConfig``."""
    return ex._accounts.symbol_config(acct, params)


def account_config(ex: Exchange, acct: AccountState) -> dict:
    """``GET /fapi/v1/accountConfig``."""
    return ex._accounts.account_config(acct)


def adl_quantile(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/adlQuantile``."""
    return ex._accounts.adl_quantile(acct, params)


def force_orders(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/forceOrders``."""
    return ex._accounts.force_orders(acct, params)


def change_multi_assets(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``POST /fapi/v1/multiAssetsMargin``: always refused (multi-assets is not offered)."""
    return ex._accounts.change_multi_assets(acct, params)


def query_algo_order(ex: Exchange, acct: AccountState, params: Params) -> dict:
    """``GET /fapi/v1/algoOrder``."""
    return ex._algo.query_algo_order(acct, params)


def open_algo_orders(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/openAlgoOrders``."""
    return ex._algo.open_algo_orders(acct, params)


def all_algo_orders(ex: Exchange, acct: AccountState, params: Params) -> list[dict]:
    """``GET /fapi/v1/allAlgoOrders``."""
    return ex._algo.all_algo_orders(acct, params)


# -- market data (no account) ---------------------------------------------------------------
def exchange_info(ex: Exchange) -> dict:
    """``GET /fapi/v1/exchangeInfo``."""
    return ex._views.exchange_info()


def depth(ex: Exchange, params: Params) -> dict:
    """``GET /fapi/v1/depth``."""
    return ex._views.depth(params)


def mark_price_info(ex: Exchange, params: Params) -> dict | list[dict]:
    """``GET /fapi/v1/premiumIndex``."""
    return ex._views.mark_price_info(params)


def book_ticker(ex: Exchange, params: Params) -> dict | list[dict]:
    """``GET /fapi/v1/ticker/bookTicker``."""
    return ex._views.book_ticker(params)


def commission_rate(ex: Exchange, params: Params) -> dict:
    """``GET /fapi/v1/commissionRate``."""
    return ex._views.commission_rate(params)


def leverage_brackets(ex: Exchange, params: Params) -> list[dict] | dict:
    """``GET /fapi/v1/leverageBracket``."""
    return ex._views.leverage_brackets(params)


#: The mutating commands an account sends, by the name a journal line records as ``cmd``.
ACCOUNT_COMMANDS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (
        new_order, cancel_order, cancel_batch, cancel_open_orders, countdown_cancel,
        change_leverage, change_position_mode, new_algo_order, cancel_algo_order,
        cancel_algo_open_orders, modify_order, new_batch_orders, modify_batch_orders,
        change_margin_type, modify_position_margin,
    )
}


# -- the event log, for readers outside the venue (the stream hub) ---------------------------
def user_events(ex: Exchange, time: int, delta: tuple, seq: int = 0) -> list[dict]:
    """The user-data messages of one of ``ex``'s event-log deltas, event number ``seq``,
    published at ``time`` (:func:`engine.wire.events.user_messages`)."""
    return user_messages(time, delta, ex._s, seq)


def event_owner(delta: tuple) -> str | None:
    """The account an event-log delta belongs to (None: a market print)."""
    return owner_of(delta)

