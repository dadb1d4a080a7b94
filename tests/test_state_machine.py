"""Property test: the venue state machine of ``engine.testing`` (SPEC 4–6, 8).

The machine, its cascade model and its checks live in ``engine.testing``;
this module runs them.

Profiles:

* default (CI): 200 examples × 50 steps of :class:`~engine.testing.VenueMachine`,
  25 × 50 of the same machine journaling every example (each journal is
  replayed at teardown, also from a mid-run snapshot), and 25 × 50 of it journaling
  on a venue that allows each account only 3 conditional orders
  (``max_num_algo_orders=3``), so that -4045 refusals land among every other
  step — the default cap, 200, is out of reach of a run: a step creates at most 2
  rows, and a run has at most 100 steps;
* ``FAPISIM_FUZZ=long``: at least 1,000,000 steps of the journaling machine
  (``FAPISIM_FUZZ_STEPS`` overrides), in batches of up to 500 examples × 100 steps,
  on one worker process per core (``FAPISIM_FUZZ_WORKERS``).  It prints the
  steps run and the wall time::

      FAPISIM_FUZZ=long python -m pytest -q tests/test_state_machine.py
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import tempfile
import time
import traceback

import pytest

from engine import Exchange
from engine.testing import VenueMachine, ci_settings, run

LONG_RUN = os.environ.get("FAPISIM_FUZZ") == "long"


class JournaledVenueMachine(VenueMachine):
    """The same machine on a journaled venue; every example's journal replays exactly."""

    directory = tempfile.mkdtemp(prefix="fapisim-fuzz-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)

    def journal_path(self) -> str:
        return os.path.join(self.directory, f"example-{os.getpid()}.jsonl")


class CappedVenueMachine(JournaledVenueMachine):
    """The journaling machine on a venue whose cap on conditional orders is 3 per account:
    placements past it are refused (and change nothing, as every refusal), rows that
    finish free their slots, and ``check_invariants()`` recounts the open rows after
    every step.  The cascade model needs no cap: it predicts cancels and status
    changes, and a refused placement creates nothing to predict."""

    CAP = 3

    def make_exchange(self) -> Exchange:
        path = self.journal_path()
        if os.path.exists(path):
            os.remove(path)
        return Exchange(journal=path, max_num_algo_orders=self.CAP)


TestVenueStateMachine = VenueMachine.TestCase
TestVenueStateMachine.settings = ci_settings()

TestJournaledVenueStateMachine = JournaledVenueMachine.TestCase
TestJournaledVenueStateMachine.settings = ci_settings(max_examples=25)

TestCappedVenueStateMachine = CappedVenueMachine.TestCase
TestCappedVenueStateMachine.settings = ci_settings(max_examples=25)


def _worker(steps: int) -> tuple[int, str | None]:
    """Run the journaling machine for ``steps`` steps; (steps run, failure or None)."""
    before = VenueMachine.steps
    try:
        batch = ci_settings(max_examples=max(1, min(500, steps // 90)), stateful_step_count=100)
        run(JournaledVenueMachine, steps, batch)
    except BaseException as e:  # report, with hypothesis's falsifying example and seed
        return VenueMachine.steps - before, "".join(traceback.format_exception(e))
    return VenueMachine.steps - before, None


@pytest.mark.slow
@pytest.mark.skipif(not LONG_RUN, reason="the long fuzzing run needs FAPISIM_FUZZ=long")
def test_a_long_fuzzing_run_finds_nothing(capsys):
    target = int(os.environ.get("FAPISIM_FUZZ_STEPS", "1000000"))
    workers = int(os.environ.get("FAPISIM_FUZZ_WORKERS", str(os.cpu_count() or 1)))
    share = -(-target // workers)
    start = time.perf_counter()

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_worker, [share] * workers)

    elapsed = time.perf_counter() - start
    steps = sum(n for n, _failure in results)
    failures = [f for _n, f in results if f is not None]
    with capsys.disabled():
        print(f"\nlong fuzz: {steps:,} steps on {workers} workers in {elapsed:,.0f} s "
              f"({steps / elapsed:,.0f} steps/s)")
    assert not failures, "\n\n".join(failures)
    assert steps >= target
