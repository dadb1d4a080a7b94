"""Instructions per operation, counted by callgrind: this tree against other revisions.

Usage::

    python benchmarks/count_instructions.py 8a58ea4 f0c96d4                  # four paths
    python benchmarks/count_instructions.py HEAD~1 --ops cancel --depth 100000

Wall-clock pairs (``compare_revisions.py``) drift by several percent on a shared
machine; an instruction count does not move with the machine's load: one
checkout gives the same count run after run (to about 0.1 %).  Two checkouts
of the *same* revision in different folders differed by up to 1.7 % (the
folder changes the memory layout, and with it dict probing), so read
differences under 2 % between revisions as noise.  It is not a time — cache
misses and branch mispredictions are not counted — but for a Python code path
it tracks time closely.

For each path, each tree runs two child processes under ``valgrind
--tool=callgrind`` (``PYTHONHASHSEED=0``): one builds the venue of ``--depth``
resting orders and stages the workload (``benchmarks/workload.py``'s
``COMPARED``, as ``compare_revisions.py`` does), then runs one round of it;
the other stops after staging.  The difference, divided by the round's
operations, is the count per operation.  The cyclic garbage collector is
collected and switched off before the round in both, so a collection that
happens to fall inside one round is not counted as the path's work.  Needs
valgrind (Debian's ``valgrind`` package); under it a run is about 50 times
slower than native.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OPS = "place_limit,cancel,cancel_cascade,backtest_every_trade"

_CHILD = """
import gc, importlib.util, random, sys
tree, workload, op, depth, run = sys.argv[1:6]
sys.path.insert(0, tree)
spec = importlib.util.spec_from_file_location("_counted_workload", workload)
w = importlib.util.module_from_spec(spec)
spec.loader.exec_module(w)
client = None
if op in w.WORKS or op in getattr(w, "VENUE_WORKS", ()):
    ex, _ids = w.new_venue(int(depth))
    client = ex.client(w.MAKER)
work = w.COMPARED[op](client, random.Random(1))
args = work.setup()
gc.collect()
gc.disable()
if run == "1":
    work.run(*args)
print(work.ops)
"""


def _count(tree: Path, op: str, depth: int, run: bool, tmp: Path) -> tuple[int, int]:
    """(instructions of the whole child, operations in a round)."""
    out = tmp / f"callgrind.{op}.{int(run)}"
    child = tmp / "child.py"
    child.write_text(_CHILD)
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         str(child), str(tree), str(HERE / "workload.py"), op, str(depth), "1" if run else "0"],
        check=True, capture_output=True, text=True, env=env,
    )
    total = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
    assert total is not None, "callgrind wrote no total"
    return int(total.group(1)), int(done.stdout.split()[-1])


def per_op(tree: Path, op: str, depth: int) -> float:
    """Instructions per operation of ``op`` on the engine in ``tree``."""
    with tempfile.TemporaryDirectory() as tmp:
        with_round, ops = _count(tree, op, depth, True, Path(tmp))
        staged, _ = _count(tree, op, depth, False, Path(tmp))
    return (with_round - staged) / ops


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("revs", nargs="*", help="git revisions to count beside this tree")
    ap.add_argument("--depth", type=int, default=10_000)
    ap.add_argument("--ops", default=DEFAULT_OPS, help=f"default {DEFAULT_OPS}")
    args = ap.parse_args(argv)
    ops = args.ops.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        trees: list[tuple[str, Path]] = []
        for rev in args.revs:
            path = Path(tmp) / rev.replace("/", "_")
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(path), rev], check=True)
            trees.append((rev, path))
        trees.append(("this tree", ROOT))
        try:
            counts = {op: [per_op(path, op, args.depth) for _rev, path in trees] for op in ops}
        finally:
            for _rev, path in trees[:-1]:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(path)], check=True)
    print(f"{args.depth:,} resting orders, instructions per operation (callgrind)")
    print(f"{'operation':<22}" + "".join(f"{rev:>14}" for rev, _ in trees)
          + "  this tree / each")
    for op in ops:
        row = counts[op]
        ratios = "  ".join(f"{row[-1] / c:.3f}" for c in row[:-1])
        print(f"{op:<22}" + "".join(f"{c:>14,.0f}" for c in row) + f"  {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
