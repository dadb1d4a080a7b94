"""Scenarios: stories of the venue in TOML, replayed and checked (``fapisim run``).

Owns:

* :mod:`~engine.scenarios.format` — reading a file into a checked
  :class:`Scenario` (every mistake a :class:`ScenarioError`);
* :mod:`~engine.scenarios.runner` — replaying it on a fresh venue into a
  :class:`Report`; its docstring documents the format.

May import: :mod:`engine.venue` and :mod:`engine.core`.
Must not import: persistence, the server, the backtester, the fuzz toolkit,
or the command line.
"""

from engine.scenarios.format import Scenario, ScenarioError, load, loads, scenario_files
from engine.scenarios.runner import Report, run, run_file

__all__ = [
    "Report", "Scenario", "ScenarioError", "load", "loads", "run", "run_file", "scenario_files",
]
