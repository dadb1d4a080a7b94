"""Compare the hot paths of this working tree with another git revision, in alternating runs.

Usage::

    python benchmarks/compare_revisions.py f1d91a9                  # 100,000-order book
    python benchmarks/compare_revisions.py HEAD~3 --depth 1000 --pairs 7
    python benchmarks/compare_revisions.py 8a58ea4 --ops cancel,backtest_every_trade

The other revision is checked out in a temporary ``git worktree``.  Each pair
runs one measuring process on that revision's engine, then one on this tree's,
so slow and fast spells of the machine fall on both alike; each process builds
the deep venue and times ``--rounds`` rounds of each workload
(``benchmarks/workload.py``'s ``COMPARED``, through public names only, so older
engines run them too; the quiet methods need an engine that has them): ``K``
operations of a venue mix, or one every-trade backtest of
``BACKTEST_EVENTS`` events (an operation is then an event).
Printed: the median nanoseconds per operation over the pairs, the speed-up as
the median of the pairs' own ratios with their range, and a verdict: a path is
*slower* only when its whole range is more than 3 % slower (every pair's ratio
below 0.97), *faster* when every pair's ratio is above 1.03.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OPS = "place_limit,cancel,cancel_cascade,backtest_every_trade"


def measure(tree: str, depth: int, ops: list[str], rounds: int) -> dict[str, float]:
    """Nanoseconds per operation (median round) of each op on ``tree``'s engine."""
    sys.path.insert(0, tree)  # ``engine`` resolves to that tree's package
    spec = importlib.util.spec_from_file_location("_compared_workload", HERE / "workload.py")
    assert spec is not None and spec.loader is not None
    workload = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(workload)
    client = None
    if set(ops) & (set(workload.WORKS) | set(getattr(workload, "VENUE_WORKS", ()))):
        ex, _ids = workload.new_venue(depth)
        client = ex.client(workload.MAKER)
    out = {}
    for op in ops:
        work = workload.COMPARED[op](client, random.Random(1))
        seconds = [work.timed_round() for _ in range(rounds)]
        out[op] = statistics.median(seconds) / work.ops * 1e9
    return out


def _run(tree: Path, args: argparse.Namespace, ops: list[str]) -> dict[str, float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", str(tree),
           "--depth", str(args.depth), "--rounds", str(args.rounds), "--ops", ",".join(ops)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rev", nargs="?", help="the git revision to compare with")
    ap.add_argument("--depth", type=int, default=100_000)
    ap.add_argument("--pairs", type=int, default=9)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--ops", default=DEFAULT_OPS, help=f"default {DEFAULT_OPS}")
    ap.add_argument("--measure", metavar="TREE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    ops = args.ops.split(",")
    if args.measure:
        print(json.dumps(measure(args.measure, args.depth, ops, args.rounds)))
        return 0
    if not args.rev:
        ap.error("name a revision to compare with")
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(other),
                        args.rev], check=True)
        try:
            theirs: dict[str, list[float]] = {op: [] for op in ops}
            ours: dict[str, list[float]] = {op: [] for op in ops}
            for i in range(args.pairs):
                for tree, into in ((other, theirs), (ROOT, ours)):
                    for op, ns in _run(tree, args, ops).items():
                        into[op].append(ns)
                print(f"pair {i + 1}/{args.pairs} done", file=sys.stderr)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)],
                           check=True)
    print(f"{args.depth:,} resting orders, median ns/operation over {args.pairs} alternating pairs")
    print(f"{'operation':<22}{args.rev:>14}{'this tree':>14}{'speed-up':>10}  (pairs' range)")
    for op in ops:
        ratios = sorted(a / b for a, b in zip(theirs[op], ours[op], strict=True))
        verdict = "slower" if ratios[-1] < 0.97 else "faster" if ratios[0] > 1.03 else "same"
        print(f"{op:<22}{statistics.median(theirs[op]):>14,.0f}{statistics.median(ours[op]):>14,.0f}"
              f"{statistics.median(ratios):>9.2f}×  ({ratios[0]:.2f}–{ratios[-1]:.2f}×)  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
