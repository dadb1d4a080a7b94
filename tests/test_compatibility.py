"""What the engine wrote and computed before its layout changed still holds after it.

``tests/fixtures/pre_layout/`` was written by the engine at revision 8a58ea4, the
last one with the flat ``engine/`` package: two journals that use every journaled
command (an ordinary venue — accounts, leverage, hedge mode, TP/SL, fills, batch
and bulk cancels, algo orders, the countdown, funding, a liquidation, a listed
instrument — and a replay venue with the tape's commands), and ``hashes.json``
with the ``state_hash()`` each journal, each bundled scenario and two seeded
backtests ended in, and the SHA-256 of those backtests' ``report.json``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from engine import Exchange, scenarios
from engine.backtest import run
from engine.backtest.synthetic import random_walk_trades

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "tests" / "fixtures" / "pre_layout"
RECORDED = json.loads((PINS / "hashes.json").read_text())


@pytest.mark.parametrize("name", sorted(RECORDED["scenarios"]))
def test_bundled_scenario_ends_in_the_state_hash_recorded_before_the_layout_move(name):
    report = scenarios.run_file(ROOT / "scenarios" / name)

    assert report.ok, report.transcript
    assert report.state_hash == RECORDED["scenarios"][name]


def test_every_bundled_scenario_has_a_recorded_hash():
    assert sorted(p.name for p in (ROOT / "scenarios").glob("*.toml")) == sorted(
        RECORDED["scenarios"]
    )


@pytest.mark.parametrize("name", sorted(RECORDED["journals"]))
def test_journal_written_before_the_layout_move_replays_to_its_recorded_state(name):
    # replay checks every command's response digest against the one journaled
    ex = Exchange.replay(PINS / name)

    ex.check_invariants()
    assert ex.state_hash() == RECORDED["journals"][name]


#: journaled commands added after the pins were made (tests/test_journal.py's busy
#: session journals and replays each of them)
ADDED_SINCE = {"tape_ladder", "deposit", "modify_order", "new_batch_orders",
               "modify_batch_orders", "change_margin_type", "modify_position_margin"}


def test_the_journals_use_every_journaled_command():
    from engine.persist.journal import COMMANDS

    used = set()
    for name in RECORDED["journals"]:
        for line in (PINS / name).read_text().splitlines()[1:]:
            used.add(json.loads(line)["cmd"])
    assert used == set(COMMANDS) - ADDED_SINCE


@pytest.mark.parametrize("name", sorted(RECORDED["backtests"]["runs"]))
def test_seeded_backtest_gives_the_report_recorded_before_the_layout_move(name):
    spec = {
        "bracket": ("engine.backtest.examples.bracket:BracketScalper",
                    {"params": {"tp": "40"}, "leverage": 10}),
        "sma_cross": ("engine.backtest.examples.sma_cross:SmaCross", {}),
    }[name]
    data = random_walk_trades(400_000, 300_000, 11, max_step_ticks=4)

    report = run(data, spec[0], balance="1000", progress=False, **spec[1])

    want = RECORDED["backtests"]["runs"][name]
    assert report.state_hash == want["state_hash"]
    assert len(report.trades) == want["trades"]
    assert hashlib.sha256(report.to_json().encode()).hexdigest() == want["report_sha256"]


def test_snapshot_written_before_the_layout_move_is_refused_with_a_reason():
    from engine.persist.snapshot import SnapshotError

    data = (PINS / "snapshot_venue.bin").read_bytes()

    with pytest.raises(SnapshotError, match="before the engine was split into layers"):
        Exchange.restore(data)

