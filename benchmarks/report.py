"""Turn the last benchmark run (.benchmarks/summary.json) into the README's results table.

Usage::

    python -m pytest benchmarks/ -q      # measures, writes .benchmarks/summary.json
    python benchmarks/report.py          # rewrites the table between the README markers

The table lists every venue operation at every depth with its rate, the
floor's rate on the same workload in the same run, and the ratio; the
targets of the performance issue are shown beside the rows they apply to.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / ".benchmarks" / "summary.json"
README = ROOT / "README.md"
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
TARGETS = {"cancel": "≥ 40%", "cancel_cascade": "≥ 25%", "place_limit": "≥ 7%",
           "cancel_quiet": "(no response dict)", "place_limit_quiet": "(no response dict)",
           "skeleton_cancel": "(reference, not a venue)",
           "skeleton_cancel_quiet": "(reference, no response dict)"}


def table(summary: dict) -> str:
    m = summary["machine"]
    lines = [
        f"Measured with `python -m pytest benchmarks/ -q` on {m['cpus']} cores, "
        f"Python {m['python']}, {m['platform']}.",
        "",
        "Each ratio is the venue's median rate over the floor's median rate in rounds "
        "interleaved with the venue's (same operations, depth and price draw).",
        "",
        "| operation | resting orders (events) | venue ops/s | floor ops/s | ratio | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in summary["rows"]:
        floor = ""
        if r["floor_ops_per_second"]:
            floor = f"{r['floor_ops_per_second']:,} ({r['floor']})"
        ratio = f"{r['ratio']:.1%}" if r["ratio"] is not None else ""
        lines.append(
            f"| {r['operation']} | {r['depth']:,} | {r['ops_per_second']:,} | "
            f"{floor} | {ratio} | {TARGETS.get(r['operation'], '')} |"
        )
    extra = summary.get("extra", {})
    scaling = extra.get("depth scaling", {})
    if scaling:
        lines += ["", "Cost per operation at the deepest book relative to the shallowest, "
                  "measured in interleaved rounds (target ≤ 1.5×): "
                  + ", ".join(f"{op} {v:.2f}×" for op, v in scaling.items()) + "."]
    table_scaling = extra.get("depth scaling from the table", {})
    if table_scaling:
        lines += ["", "The same ratio from the table's rates (tests run minutes apart, so it "
                  "drifts with the machine): "
                  + ", ".join(f"{op} {v:.2f}×" for op, v in table_scaling.items()) + "."]
    for key, value in extra.items():
        if not key.startswith("depth scaling"):
            lines += ["", f"{key}: {value}."]
    return "\n".join(lines)


def main() -> int:
    if not SUMMARY.exists():
        print(f"no {SUMMARY.relative_to(ROOT)}: run `python -m pytest benchmarks/ -q` first")
        return 1
    text = README.read_text()
    if START not in text or END not in text:
        print(f"README.md lacks the markers {START} … {END}")
        return 1
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{table(json.loads(SUMMARY.read_text()))}\n{END}{tail}")
    print("README.md table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
