"""A fuzz toolkit for this venue: strategies, a state machine, a model, invariant checks.

Needs hypothesis: ``pip install 'fapisim[dev]'``.  (``import engine`` never
imports it; ``import engine.testing`` does.)

* :mod:`engine.testing.strategies` — hypothesis strategies drawing :class:`Call`\\ s:
  valid orders (:func:`valid_orders`, :func:`limit_orders`, :func:`market_orders`,
  :func:`conditional_orders`) and commands that must be refused, with their
  codes (:func:`invalid_commands`, :func:`invalid_orders`,
  :func:`invalid_cancels`, :func:`invalid_settings`);
* :mod:`engine.testing.machine` — :class:`VenueMachine`, the hypothesis
  ``RuleBasedStateMachine`` that drives a venue against the cascade model;
  subclass it to add rules and invariants; :func:`ci_settings` and :func:`run`;
* :mod:`engine.testing.model` — :class:`CascadeModel`, the plain reference model;
* :mod:`engine.testing.checks` — :func:`check_venue`, :func:`refused_changes_nothing`,
  :func:`check_replays`, :func:`value_e8`.

May import: :mod:`engine.venue`, :mod:`engine.scenarios` and :mod:`engine.core`.
Must not import: persistence (it reaches journals and snapshots through
:class:`~engine.venue.exchange.Exchange`), the wire edge, the backtester, the
server or the command line.  Nothing in the engine imports it.

A minimal use::

    from engine.testing import VenueMachine, ci_settings
    TestVenue = VenueMachine.TestCase
    TestVenue.settings = ci_settings()
"""

try:
    import hypothesis  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "engine.testing needs hypothesis: pip install 'fapisim[dev]'"
    ) from e

from engine.testing.checks import check_replays, check_venue, refused_changes_nothing, value_e8
from engine.testing.machine import VenueMachine
from engine.testing.model import OPEN, TERMINAL, CascadeModel, Rec
from engine.testing.strategies import (
    ACCOUNTS,
    MARKETS,
    SYMBOLS,
    Call,
    ci_settings,
    conditional_orders,
    invalid_cancels,
    invalid_commands,
    invalid_orders,
    invalid_settings,
    limit_orders,
    market_orders,
    run,
    valid_orders,
)

__all__ = [
    "ACCOUNTS", "MARKETS", "OPEN", "SYMBOLS", "TERMINAL", "Call", "CascadeModel", "Rec",
    "VenueMachine", "check_replays", "check_venue", "ci_settings", "conditional_orders",
    "invalid_cancels", "invalid_commands", "invalid_orders", "invalid_settings",
    "limit_orders", "market_orders", "refused_changes_nothing", "run", "valid_orders",
    "value_e8",
]
