"""Profile one hot path with cProfile, on the benchmarks' own workload, before changing code.

Usage::

    python benchmarks/profile_hot_path.py cancel                  # 1,000-order book
    python benchmarks/profile_hot_path.py cancel_cascade --depth 100000 --rounds 50

Runs ``--rounds`` rounds of the operation mix ``benchmarks/workload.py``'s
``WORKS[op]`` times in the benchmarks (``K`` operations each, setup and teardown
outside the profiler), then prints the functions with the most own time.
cProfile's per-call overhead inflates small functions, so read it for where
the time goes, and the benchmarks for how much.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.workload import WORKS, new_venue  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("op", choices=sorted(WORKS))
    ap.add_argument("--depth", type=int, default=1000, help="resting orders (default 1000)")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--top", type=int, default=15, help="functions to list (default 15)")
    args = ap.parse_args(argv)
    ex, _ids = new_venue(args.depth)
    work = WORKS[args.op](ex.client("maker"), random.Random(1))
    profiler = cProfile.Profile()
    for _ in range(args.rounds):
        work.timed_round(profiler)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
