"""Benchmark fixtures: deep venues and floors per depth, and the summary table with ratios.

Run with ``python -m pytest benchmarks/ -q`` (they are not part of the default
test run).  ``FAPISIM_BENCH_DEPTHS`` picks the book depths (default
``1000,100000,1000000``).  At the end of the run a table of operations/second
and ratios to the floor is printed and written to ``.benchmarks/summary.json``;
``python benchmarks/report.py`` turns that file into the README table.
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
from pathlib import Path
from typing import Protocol

import pytest

from benchmarks.floor import FloorBook, filled
from benchmarks.report import target_lines
from benchmarks.workload import new_venue, resting_prices

DEPTHS = [int(d) for d in os.environ.get("FAPISIM_BENCH_DEPTHS", "1000,100000,1000000").split(",")]
#: the two depths of the depth-scaling rows (``FAPISIM_BENCH_SCALING_DEPTHS``, default the
#: shallowest and deepest of ``DEPTHS``): 1k → 1M while the other rows run at 1k and 100k
SCALING_DEPTHS = [int(d) for d in os.environ.get(
    "FAPISIM_BENCH_SCALING_DEPTHS", f"{min(DEPTHS)},{max(DEPTHS)}").split(",")]
SUMMARY = Path(__file__).resolve().parent.parent / ".benchmarks" / "summary.json"

#: (operation, depth) -> operations per second, filled by ``record``
RESULTS: dict[tuple[str, int], float] = {}
#: (operation, depth) -> the floor's operations per second in the rounds interleaved with it
FLOOR_RATES: dict[tuple[str, int], float] = {}
#: operation -> cost per operation at the deepest depth / at the shallowest, interleaved rounds
SCALING: dict[str, float] = {}
EXTRA: dict[str, object] = {}
#: which floor operation each venue operation is compared with: placement and trigger
#: firing (which add orders) with the floor's add; cancels and fills with its cancel; the
#: target rows with their own references (benchmarks/test_targets.py, references.py)
FLOOR_OF = {
    "place_limit": "add",
    "place_limit_quiet": "add",
    "cancel_quiet": "cancel",
    "skeleton_cancel": "cancel",
    "skeleton_cancel_quiet": "cancel",
    "cancel": "cancel",
    "cancel_cascade": "cancel",
    "cancel_by_client_id": "cancel",
    "cancel_batch_10": "cancel",
    "fill_across_3_levels": "cancel",
    "mark_move_fires_0": "add",
    "mark_move_fires_1": "add",
    "mark_move_fires_100": "add",
    # the performance targets (benchmarks/test_targets.py): each row's in-run reference
    "fill_ioc_3_levels": "sweep",
    "skeleton_fill_ioc": "sweep",
    "trigger_fire_1": "direct MARKET",
    "trigger_fire_10": "direct MARKET",
    "trigger_fire_100": "direct MARKET",
    "noop_on_trade": "bare loop",
    "market_maker_cycle": "2 cancels + 2 adds",
    "trailing_stop": "without trailing",
    "cancel_vs_template": "template_cancel",
    "cancel_cascade_vs_template": "3 template_cancel",
}


class Paired(Protocol):
    """A reference run between a benchmark's rounds (:class:`PairedFloor`,
    ``benchmarks.references.PairedRounds``, ...): its rate over the last ``rounds`` rounds."""

    def rate(self, rounds: int) -> float: ...


def record(benchmark, operation: str, depth: int, ops_per_round: int,
           floor: Paired | None = None) -> float:
    """Store ops/second of the benchmark just run (median round time), and the rate of
    the floor rounds interleaved with its rounds (see :class:`PairedFloor`)."""
    rate = ops_per_round / benchmark.stats.stats.median
    RESULTS[(operation, depth)] = rate
    benchmark.extra_info["ops_per_second"] = rate
    if floor is not None:
        rounds = benchmark.stats.stats.rounds
        FLOOR_RATES[(operation, depth)] = floor_rate = floor.rate(rounds)
        benchmark.extra_info["floor_ops_per_second"] = floor_rate
    return rate


def record_scaling(operation: str, ratio: float) -> None:
    """Store the depth-scaling ratio measured by ``test_depth_scaling``."""
    SCALING[operation] = ratio


class _Venues:
    def __init__(self) -> None:
        self._cache: dict[int, tuple] = {}

    def __call__(self, depth: int):
        if depth not in self._cache:
            self._cache.clear()  # keep one deep venue in memory at a time
            self._cache[depth] = new_venue(depth)
        return self._cache[depth]


class _Floors:
    def __init__(self) -> None:
        self._cache: dict[int, list] = {}

    def __call__(self, depth: int) -> list:
        """``[book, next_id]`` with ``depth`` resting orders (same prices as the venue)."""
        if depth not in self._cache:
            self._cache[depth] = filled(FloorBook(), resting_prices(depth, random.Random(7)))
        return self._cache[depth]


@pytest.fixture(scope="session")
def venues() -> _Venues:
    return _Venues()


@pytest.fixture(scope="session")
def floors() -> _Floors:
    return _Floors()


def _table() -> list[dict]:
    rows = []
    for (op, depth), rate in sorted(RESULTS.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        floor = FLOOR_RATES.get((op, depth))
        rows.append({
            "operation": op, "depth": depth, "ops_per_second": round(rate),
            "floor": FLOOR_OF.get(op) if floor else None,
            "floor_ops_per_second": round(floor) if floor else None,
            "ratio": round(rate / floor, 4) if floor else None,
        })
    return rows


def _scaling_from_table(rows: list[dict]) -> dict[str, float]:
    """Per operation: cost at the deepest depth / at the shallowest, from the table's rows
    (tests run minutes apart, so this drifts with the machine; see ``SCALING``)."""
    by_op: dict[str, dict[int, int]] = {}
    for r in rows:
        by_op.setdefault(r["operation"], {})[r["depth"]] = r["ops_per_second"]
    out = {}
    for op, rates in sorted(by_op.items()):
        if len(rates) > 1:
            out[op] = rates[min(rates)] / rates[max(rates)]
    return out


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS:
        return
    rows = _table()
    tr = terminalreporter
    tr.section("venue vs floor (floor rounds interleaved with the venue's, same workload)")
    tr.write_line(f"{'operation':<28}{'depth':>9}{'venue ops/s':>14}{'floor':>20}"
                  f"{'floor ops/s':>14}{'ratio':>9}")
    for r in rows:
        floor = f"{r['floor_ops_per_second']:>14,}" if r["floor_ops_per_second"] else " " * 14
        ratio = f"{r['ratio']:>9.1%}" if r["ratio"] is not None else ""
        tr.write_line(f"{r['operation']:<28}{r['depth']:>9,}{r['ops_per_second']:>14,}"
                      f"{r['floor'] or '':>20}{floor}{ratio}")
    if SCALING:
        tr.write_line("")
        tr.write_line("cost per operation at the deepest book vs the shallowest, interleaved "
                      "rounds (limit 1.5×):")
        for op, ratio in sorted(SCALING.items()):
            tr.write_line(f"  {op:<28}{ratio:>6.2f}×")
        EXTRA["depth scaling"] = {op: round(r, 3) for op, r in sorted(SCALING.items())}
    table_scaling = _scaling_from_table(rows)
    if table_scaling:
        EXTRA["depth scaling from the table"] = {
            op: round(r, 3) for op, r in table_scaling.items()}
    for key, value in EXTRA.items():
        tr.write_line(f"{key}: {value}")
    summary = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "processor": platform.machine(), "cpus": os.cpu_count()},
        "rows": rows, "extra": EXTRA,
    }
    goals = target_lines(summary)
    if goals:
        tr.write_line("")
        tr.write_line("targets:")
        for line in goals:
            tr.write_line(f"  {line.removeprefix('- ')}")
    SUMMARY.parent.mkdir(exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=1))
