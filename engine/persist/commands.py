"""The journaled commands: each one's name, implementation and wire parameters.

:data:`COMMANDS` maps the name a journal line records as ``cmd`` to how that
command is run and how its arguments are written (:func:`record_params`) and read
back (:func:`replay_args`); :func:`invoke` runs one.  The names are those journals
have always written, so a journal from before the engine's layers replays
unchanged (:mod:`engine.persist.journal` has the format).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.persist.values import decode, encode, instrument_from, instrument_params
from engine.venue import commands as account_commands
from engine.venue.exchange import Exchange

if TYPE_CHECKING:
    from engine.core.ledger import AccountState

__all__ = ["COMMANDS", "Command", "invoke", "record_params", "replay_args"]


class Command(NamedTuple):
    """How one journaled command is recorded and replayed."""

    run: Callable[..., Any]  # the implementation: run(venue, [account,] *arguments)
    params: tuple[str, ...]  # wire names of the positional arguments after the account
    account: bool  # the command's first argument is the caller's AccountState
    mapping: bool = False  # one argument: the wire parameter mapping itself
    always: bool = False  # written whenever it succeeds (it moves no update counter)
    keywords: bool = False  # the command takes its parameters by keyword only


def _acct(run: Callable[..., Any], params: tuple[str, ...] = ()) -> Command:
    return Command(run, params, True, mapping=not params)


def _venue(run: Callable[..., Any], params: tuple[str, ...], **flags: bool) -> Command:
    return Command(run, params, False, **flags)


def _create_account(ex: Exchange, name: str, balance: Any, key: Any, secret: Any) -> Any:
    """``create_account`` with its keys by position, as the journal records them."""
    return ex.create_account(name, balance, api_key=key, api_secret=secret)


_a = account_commands
#: Every journaled command, by the name a journal line records as ``cmd``: what an
#: account sends (engine.venue.commands) and the operator's (Exchange's methods).
COMMANDS: dict[str, Command] = {
    "create_account": _venue(_create_account, ("name", "balance", "api_key", "api_secret")),
    "add_instrument": _venue(Exchange.add_instrument, ("instrument",), always=True),
    "set_mark_price": _venue(Exchange.set_mark_price, ("symbol", "price")),
    "deposit": _venue(Exchange.deposit, ("name", "amount")),
    "advance": _venue(Exchange.advance, ("ms",)),
    "set_time": _venue(Exchange.set_time, ("ms",)),
    "new_order": _acct(_a.new_order),
    "cancel_order": _acct(_a.cancel_order, ("symbol", "orderId", "origClientOrderId")),
    "cancel_batch": _acct(_a.cancel_batch, ("symbol", "orderIdList", "origClientOrderIdList")),
    "cancel_open_orders": _acct(_a.cancel_open_orders, ("symbol",)),
    "countdown_cancel": _acct(_a.countdown_cancel, ("symbol", "countdownTime")),
    "change_leverage": _acct(_a.change_leverage, ("symbol", "leverage")),
    "change_position_mode": _acct(_a.change_position_mode, ("dualSidePosition",)),
    "new_algo_order": _acct(_a.new_algo_order),
    "cancel_algo_order": _acct(_a.cancel_algo_order),
    "cancel_algo_open_orders": _acct(_a.cancel_algo_open_orders),
    "modify_order": _acct(_a.modify_order),
    "new_batch_orders": _acct(_a.new_batch_orders, ("batchOrders",)),
    "modify_batch_orders": _acct(_a.modify_batch_orders, ("batchOrders",)),
    "change_margin_type": _acct(_a.change_margin_type, ("symbol", "marginType")),
    "modify_position_margin": _acct(_a.modify_position_margin),
    # replay mode (backtests) and funding
    "enable_tape": _venue(Exchange.enable_tape, ("fill", "queue", "slippage_ticks"),
                          keywords=True),
    "tape_trade": _venue(Exchange.tape_trade, ("symbol", "price", "qty", "buyer_maker",
                                               "time")),
    "tape_touch": _venue(Exchange.tape_touch, ("symbol", "price", "time")),
    "tape_ladder": _venue(Exchange.tape_ladder, ("symbol", "bids", "asks", "time")),
    "tape_quote": _venue(Exchange.tape_quote, ("symbol", "bid", "bid_qty", "ask", "ask_qty",
                                               "time")),
    "tape_mark": _venue(Exchange.tape_mark, ("symbol", "price", "time")),
    "settle_funding": _venue(Exchange.settle_funding, ("symbol", "rate")),
}


def invoke(ex: Exchange, cmd: str, acct: AccountState | None, args: tuple) -> Any:
    """Run the command itself (the caller has detached the journal)."""
    spec = COMMANDS[cmd]
    if spec.keywords:
        return spec.run(ex, **dict(zip(spec.params, args, strict=True)))
    if spec.account:
        return spec.run(ex, acct, *args)
    return spec.run(ex, *args)


def record_params(cmd: str, spec: Command, args: tuple) -> Any:
    if spec.mapping:
        return encode(args[0])
    if cmd == "add_instrument":
        return {"instrument": instrument_params(args[0])}
    return {name: encode(v) for name, v in zip(spec.params, args, strict=True)}


def replay_args(cmd: str, spec: Command, params: Any) -> tuple:
    if spec.mapping:
        return (decode(params),)
    if cmd == "add_instrument":
        return (instrument_from(params["instrument"]),)
    return tuple(decode(params[name]) for name in spec.params)
