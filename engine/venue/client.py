"""The in-process client: binance-futures-connector's ``UMFutures`` surface, bound to one account.

Method names, positional/keyword parameters (camelCase, as on the wire) and
return shapes are those of ``binance.um_futures.UMFutures``, so research code
written against ``UMFutures`` runs against the simulator by swapping the client
object.  Failures raise :class:`engine.ClientError` with ``status_code``,
``error_code``, ``error_message`` and ``header`` like the connector's.
``recvWindow`` and ``timestamp`` are accepted and ignored (the REST facade
checks them).

>>> from engine import Exchange
>>> ex = Exchange(); _ = ex.create_account("bob", balance="1000")
>>> c = ex.client("bob")
>>> c.cancel_order(symbol="BTCUSDT", orderId=42)
Traceback (most recent call last):
...
engine.core.errors.ClientError: ClientError(400, -2011, 'Unknown order sent.')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.venue.exchange import Exchange

__all__ = ["Client"]


class Client:
    """A UMFutures-shaped client for one account of one :class:`~engine.venue.exchange.Exchange`.

    It calls the venue's rule objects directly (this package's own), which is
    what :mod:`engine.venue.commands` does for the REST routes and the journal.
    """

    __slots__ = ("_ex", "_acct", "_entry", "_cancels", "_settings", "_views", "_amends",
                 "_batches", "_accounts")

    def __init__(self, exchange: Exchange, acct: AccountState) -> None:
        self._ex = exchange
        self._acct = acct
        self._entry = exchange._entry
        self._cancels = exchange._cancels
        self._settings = exchange._settings
        self._views = exchange._views
        self._amends = exchange._amends
        self._batches = exchange._batches
        self._accounts = exchange._accounts

    def __repr__(self) -> str:
        return f"Client({self._acct.name!r})"

    # -- market data (public) -------------------------------------------------------------
    def ping(self) -> dict:
        return {}

    def time(self) -> dict:
        return {"serverTime": self._ex.now}

    def exchange_info(self) -> dict:
        return self._views.exchange_info()

    def depth(self, symbol: str, **kwargs: Any) -> dict:
        return self._views.depth({"symbol": symbol, **kwargs})

    def mark_price(self, symbol: str | None = None) -> dict | list[dict]:
        return self._views.mark_price_info({"symbol": symbol})

    def book_ticker(self, symbol: str | None = None) -> dict | list[dict]:
        return self._views.book_ticker({"symbol": symbol})

    # -- trading -------------------------------------------------------------------------
    def new_order(self, symbol: str, side: str, type: str, **kwargs: Any) -> dict:
        """``POST /fapi/v1/order``.  TP/SL: ``takeProfitPrice``/``stopLossPrice``…"""
        params = {"symbol": symbol, "side": side, "type": type}
        params.update(kwargs)
        return self._entry.new_order(self._acct, params)  # type: ignore[no-any-return]

    def cancel_order(
        self, symbol: str, orderId: int | None = None, origClientOrderId: str | None = None,
        **kwargs: Any,
    ) -> dict:
        """``DELETE /fapi/v1/order``: cancel one order and its untriggered TP/SL."""
        return self._cancels.cancel_order(  # type: ignore[no-any-return]
            self._acct, symbol, orderId, origClientOrderId
        )

    # -- the quiet variants, for research code that does not read the responses ------------
    def new_order_quiet(self, symbol: str, side: str, type: str, **kwargs: Any) -> int:
        """:meth:`new_order` without the response dict: same rules, same refusals
        (``ClientError``), same state; returns the new ``orderId``."""
        params = {"symbol": symbol, "side": side, "type": type}
        params.update(kwargs)
        return self._entry.new_order(self._acct, params, False)  # type: ignore[no-any-return]

    def cancel_order_quiet(
        self, symbol: str, orderId: int | None = None, origClientOrderId: str | None = None,
        **kwargs: Any,
    ) -> None:
        """:meth:`cancel_order` without the response dict: same rules, same refusals
        (``ClientError``), same cascade, same state; returns None."""
        self._cancels.cancel_order(self._acct, symbol, orderId, origClientOrderId, False)

    def modify_order(
        self, symbol: str, side: str, quantity: Any, price: Any, orderId: int | None = None,
        origClientOrderId: str | None = None, **kwargs: Any,
    ) -> dict:
        """``PUT /fapi/v1/order``: a new price and quantity for an open LIMIT order
        (:mod:`engine.venue.amend`); the order object."""
        params: dict[str, Any] = {"symbol": symbol, "side": side, "quantity": quantity,
                                  "price": price, **kwargs}
        if orderId is not None:
            params["orderId"] = orderId
        if origClientOrderId is not None:
            params["origClientOrderId"] = origClientOrderId
        return self._amends.modify_order(self._acct, params)

    def get_order_modify_history(
        self, symbol: str, orderId: int | None = None, origClientOrderId: str | None = None,
        **kwargs: Any,
    ) -> list[dict]:
        """``GET /fapi/v1/orderAmendment``: the order's amendments, oldest first."""
        return self._views.order_amendments(
            self._acct, {"symbol": symbol, "orderId": orderId,
                         "origClientOrderId": origClientOrderId, **kwargs})

    def new_batch_order(self, batchOrders: Any, **kwargs: Any) -> list[dict]:
        """``POST /fapi/v1/batchOrders``: up to 5 orders (a list of ``new_order``
        parameter mappings, or the JSON text of one), each its own command; each item's
        order object or ``{"code", "msg"}``, in order (:mod:`engine.venue.batch`)."""
        return self._batches.new_batch(self._acct, batchOrders)

    def modify_batch_order(self, batchOrders: Any, **kwargs: Any) -> list[dict]:
        """``PUT /fapi/v1/batchOrders``: up to 5 ``modify_order`` parameter mappings."""
        return self._batches.modify_batch(self._acct, batchOrders)

    def new_order_test(self, symbol: str, side: str, type: str, **kwargs: Any) -> dict:
        """``POST /fapi/v1/order/test``: ``{}`` when ``new_order`` would accept the order,
        its refusal when not; changes nothing."""
        return self._batches.test_order(
            self._acct, {"symbol": symbol, "side": side, "type": type, **kwargs})

    def cancel_batch_order(
        self, symbol: str, orderIdList: list | None, origClientOrderIdList: list | None,
        **kwargs: Any,
    ) -> list[dict]:
        """``DELETE /fapi/v1/batchOrders``: up to 10 ids, each its own transaction."""
        return self._cancels.cancel_batch(self._acct, symbol, orderIdList, origClientOrderIdList)

    def cancel_open_orders(self, symbol: str, **kwargs: Any) -> dict:
        """``DELETE /fapi/v1/allOpenOrders``."""
        return self._cancels.cancel_open_orders(self._acct, symbol)

    def countdown_cancel_order(self, symbol: str, countdownTime: int, **kwargs: Any) -> dict:
        """``POST /fapi/v1/countdownCancelAll`` on the simulated clock."""
        return self._cancels.countdown_cancel(self._acct, symbol, countdownTime)

    def query_order(
        self, symbol: str, orderId: int | None = None, origClientOrderId: str | None = None,
        **kwargs: Any,
    ) -> dict:
        return self._views.query_order(
            self._acct, {"symbol": symbol, "orderId": orderId,
                         "origClientOrderId": origClientOrderId},
        )

    def get_open_orders(
        self, symbol: str, orderId: int | None = None, origClientOrderId: str | None = None,
        **kwargs: Any,
    ) -> dict:
        """``GET /fapi/v1/openOrder`` (singular): one order, -2013 once it is not open."""
        return self._views.get_open_order(
            self._acct, {"symbol": symbol, "orderId": orderId,
                         "origClientOrderId": origClientOrderId},
        )

    def get_orders(self, **kwargs: Any) -> list[dict]:
        """``GET /fapi/v1/openOrders``: open orders and untriggered trigger rows."""
        return self._views.get_orders(self._acct, kwargs)

    def get_all_orders(self, symbol: str, **kwargs: Any) -> list[dict]:
        return self._views.get_all_orders(self._acct, {"symbol": symbol, **kwargs})

    # -- account -----------------------------------------------------------------------------
    def account(self, **kwargs: Any) -> dict:
        return self._accounts.account_info(self._acct)

    def balance(self, **kwargs: Any) -> list[dict]:
        return self._accounts.balance_info(self._acct)

    def get_position_risk(self, **kwargs: Any) -> list[dict]:
        return self._accounts.position_risk(self._acct, kwargs)

    def get_account_trades(self, symbol: str, **kwargs: Any) -> list[dict]:
        return self._views.get_account_trades(self._acct, {"symbol": symbol, **kwargs})

    def get_income_history(self, **kwargs: Any) -> list[dict]:
        return self._views.get_income_history(self._acct, kwargs)

    def symbol_configuration(self, **kwargs: Any) -> list[dict]:
        """``GET /fapi/v1/symbolConfig``: leverage and margin type per symbol."""
        return self._accounts.symbol_config(self._acct, kwargs)

    def futures_account_configuration(self, **kwargs: Any) -> dict:
        """``GET /fapi/v1/accountConfig``: the account's configuration."""
        return self._accounts.account_config(self._acct)

    def adl_quantile(self, **kwargs: Any) -> list[dict]:
        """``GET /fapi/v1/adlQuantile``: each position's place in the deleveraging queue."""
        return self._accounts.adl_quantile(self._acct, kwargs)

    def force_orders(self, **kwargs: Any) -> list[dict]:
        """``GET /fapi/v1/forceOrders``: the account's liquidations."""
        return self._accounts.force_orders(self._acct, kwargs)

    def change_multi_asset_mode(self, multiAssetsMargin: str, **kwargs: Any) -> dict:
        """``POST /fapi/v1/multiAssetsMargin``: refused (not offered; SPEC 10)."""
        return self._accounts.change_multi_assets(
            self._acct, {"multiAssetsMargin": multiAssetsMargin})

    def get_multi_asset_mode(self, **kwargs: Any) -> dict:
        """``GET /fapi/v1/multiAssetsMargin``: always false."""
        return {"multiAssetsMargin": False}

    def change_leverage(self, symbol: str, leverage: int, **kwargs: Any) -> dict:
        return self._settings.change_leverage(self._acct, symbol, leverage)

    def change_margin_type(self, symbol: str, marginType: str, **kwargs: Any) -> dict:
        return self._settings.change_margin_type(self._acct, symbol, marginType)

    def modify_isolated_position_margin(self, symbol: str, amount: Any, type: Any,
                                        **kwargs: Any) -> dict:
        """``POST /fapi/v1/positionMargin``: ``type`` 1 adds ``amount`` to an isolated
        position's margin, 2 takes it back (``positionSide`` in hedge mode)."""
        return self._settings.modify_position_margin(
            self._acct, {"symbol": symbol, "amount": amount, "type": type, **kwargs})

    def get_position_margin_history(self, symbol: str, **kwargs: Any) -> list[dict]:
        """``GET /fapi/v1/positionMargin/history``."""
        return self._settings.margin_history(self._acct, {"symbol": symbol, **kwargs})

    def change_position_mode(self, dualSidePosition: str | bool, **kwargs: Any) -> dict:
        return self._settings.change_position_mode(self._acct, dualSidePosition)

    def get_position_mode(self, **kwargs: Any) -> dict:
        return self._settings.get_position_mode(self._acct)

    def commission_rate(self, symbol: str, **kwargs: Any) -> dict:
        return self._views.commission_rate({"symbol": symbol})

    def leverage_brackets(self, symbol: str | None = None, **kwargs: Any) -> list[dict] | dict:
        return self._views.leverage_brackets({"symbol": symbol})
