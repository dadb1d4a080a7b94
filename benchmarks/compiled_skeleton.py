"""The skeleton cancel compiled by mypyc, beside the interpreted one and the floor.

Usage::

    python benchmarks/compiled_skeleton.py                     # 1,000 and 100,000 orders
    python benchmarks/compiled_skeleton.py --depth 1000000 --rounds 30

Asks what a compiled hot path would buy before anyone writes one.
``benchmarks/skeleton.py`` (a cancel that keeps only what the performance target
names: order objects, margin release, one undo record and the response dict) is
copied into a temporary folder and compiled there with mypyc (from the ``dev``
extra's mypy; it needs a C compiler and the Python headers).  Five books of the
same depth then take turns, round by round: the floor, and the skeleton
interpreted and compiled, each with and without the response dict.  Each
round is a ``floor.PairedFloor`` cancel round: ``K`` orders staged (untimed),
then their cancels timed.  Printed: the
median nanoseconds per cancel and the rate as a share of the floor's.

Nothing here is used by the venue; the compiled module lives only for the run.
"""

from __future__ import annotations

import argparse
import importlib
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.floor import FloorBook, PairedFloor, filled  # noqa: E402
from benchmarks.skeleton import SkeletonBook  # noqa: E402
from benchmarks.workload import K, resting_prices  # noqa: E402

NATIVE = "fapisim_skeleton_native"


def compile_skeleton(folder: Path) -> type:
    """``SkeletonBook`` from a mypyc build of ``skeleton.py`` in ``folder``."""
    shutil.copy(HERE / "skeleton.py", folder / f"{NATIVE}.py")
    done = subprocess.run(
        [sys.executable, "-m", "mypyc", "--ignore-missing-imports", f"{NATIVE}.py"],
        cwd=folder, capture_output=True, text=True,
    )
    if done.returncode != 0:
        sys.exit(f"mypyc failed:\n{done.stdout}\n{done.stderr}")
    (folder / f"{NATIVE}.py").unlink()  # import the extension, never the source
    sys.path.insert(0, str(folder))
    module = importlib.import_module(NATIVE)
    if not str(module.__file__).endswith(".so"):
        sys.exit(f"{NATIVE} did not load as an extension: {module.__file__}")
    return module.SkeletonBook  # type: ignore[no-any-return]


def measure(native: type, depth: int, rounds: int, warmup: int = 3) -> dict[str, float]:
    """Median ns per cancel of each book over ``rounds`` interleaved rounds (after
    ``warmup``); every book draws the same prices, as the floor's paired rounds do."""
    books = {
        "floor": FloorBook(),
        "skeleton": SkeletonBook(),
        "skeleton, no dict": SkeletonBook(respond=False),
        "skeleton compiled": native(),
        "skeleton compiled, no dict": native(False),
    }
    runs = {
        name: PairedFloor(filled(book, resting_prices(depth, random.Random(7))), "cancel", K,
                          resting_prices, seed=3)
        for name, book in books.items()
    }
    for _ in range(warmup + rounds):
        for run in runs.values():
            run.round()
    return {name: 1e9 / run.rate(rounds) for name, run in runs.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--depth", type=int, action="append",
                    help="resting orders (repeatable; default 1000 and 100000)")
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        native = compile_skeleton(Path(tmp))
        print("| book | resting orders | ns per cancel | share of the floor's rate |")
        print("|---|---:|---:|---:|")
        for depth in args.depth or [1_000, 100_000]:
            result = measure(native, depth, args.rounds)
            floor = result["floor"]
            for name, value in result.items():
                print(f"| {name} | {depth:,} | {value:,.0f} | {floor / value:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
