"""Determinism across processes (SPEC 8): the hash seed changes nothing anyone can see.

The same scenarios, and the same journal written and replayed, in separate
processes with different ``PYTHONHASHSEED`` values give byte-identical output,
byte-identical journals and snapshots, and the same ``state_hash()``.  (A
snapshot of the journaled original and one of its replay differ: the first
records the journal it follows.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ("0", "1", "12345")

SCRIPT = textwrap.dedent("""
    import hashlib, sys
    sys.path.insert(0, {tests!r})
    from durability_support import busy_session, random_session
    from engine import Exchange

    mode, path = sys.argv[1], sys.argv[2]
    if mode == "write":
        ex = Exchange(journal=path)
        answers = busy_session(ex)
        more = Exchange()
        answers += random_session(more, seed=99, steps=300)
        print("answers", hashlib.sha256(repr(answers).encode()).hexdigest())
        print("random", more.state_hash())
    else:
        ex = Exchange.replay(path)
    print("state", ex.state_hash())
    print("snapshot", hashlib.sha256(ex.snapshot()).hexdigest())
""")


def run(args: list[str], seed: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, timeout=300, **kwargs)


def test_the_bundled_scenarios_print_byte_identical_transcripts_under_any_hash_seed():
    outputs = [run([sys.executable, "-m", "engine", "run", "scenarios/"], seed)
               for seed in SEEDS]

    assert [p.returncode for p in outputs] == [0] * len(SEEDS), outputs[0].stderr
    assert len({p.stdout for p in outputs}) == 1
    assert b"passed" in outputs[0].stdout


def test_a_journal_written_and_replayed_under_different_hash_seeds_agrees_byte_for_byte(
    tmp_path,
):
    script = SCRIPT.format(tests=str(ROOT / "tests"))
    journals, writes = [], []
    for seed in SEEDS:
        path = tmp_path / f"run-{seed}.jsonl"
        proc = run([sys.executable, "-c", script, "write", str(path)], seed, text=True)
        assert proc.returncode == 0, proc.stderr
        writes.append(proc.stdout)
        journals.append(path.read_bytes())
    replays = []
    for seed in SEEDS:
        proc = run([sys.executable, "-c", script, "replay", str(tmp_path / "run-0.jsonl")],
                   seed, text=True)
        assert proc.returncode == 0, proc.stderr
        replays.append(proc.stdout)

    assert len(set(writes)) == 1, writes
    assert len(set(journals)) == 1
    assert len(set(replays)) == 1, replays
    written = dict(line.split() for line in writes[0].splitlines())
    replayed = dict(line.split() for line in replays[0].splitlines())
    assert replayed["state"] == written["state"]
