"""Turn the last benchmark run (.benchmarks/summary.json) into the README's results table.

Usage::

    python -m pytest benchmarks/ -q      # measures, writes .benchmarks/summary.json
    python benchmarks/report.py          # rewrites the table between the README markers

The table lists every venue operation at every depth with its rate, the
floor's rate on the same workload in the same run, and the ratio; the
targets of the performance issue are shown beside the rows they apply to,
and summed up under the table (``GOALS``: each target, the measured figure at
each depth, met or not).  The target rows compare with references of their own
(``benchmarks/test_targets.py``): the "floor" column names the reference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / ".benchmarks" / "summary.json"
README = ROOT / "README.md"
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
#: the performance issue's targets, by row (benchmarks/test_targets.py, test_hot_paths.py):
#: ``("ratio", b)``: the row's rate is at least ``b`` × its reference's (the table's ratio);
#: ``("cost", b)``: its cost per operation is at most ``b`` × its reference's (1 / ratio)
GOALS: dict[str, tuple[str, float]] = {
    "place_limit": ("ratio", 0.07),
    "fill_ioc_3_levels": ("ratio", 0.25),
    "trigger_fire_1": ("cost", 1.5),
    "trigger_fire_10": ("cost", 1.5),
    "trigger_fire_100": ("cost", 1.5),
    "noop_on_trade": ("ratio", 0.15),
    "trailing_stop": ("cost", 2.0),
    "cancel_vs_template": ("ratio", 0.45),
    "cancel_cascade_vs_template": ("ratio", 0.40),
    "cancel_quiet": ("ratio", 0.45),
}
#: cost per operation at the deepest book over the shallowest (``depth scaling``), at most
SCALING_GOAL = 1.5
#: rows also given in µs per operation (1e6 / rate) in the targets summary: what an operation is
PER_OP = {"trigger_fire_1": "fired row", "trigger_fire_10": "fired row",
          "trigger_fire_100": "fired row", "market_maker_cycle": "re-quote cycle"}


def _goal_text(kind: str, bound: float) -> str:
    return f"≥ {bound:.0%}" if kind == "ratio" else f"cost ≤ {bound:g}× (ratio ≥ {1 / bound:.1%})"


TARGETS = {op: _goal_text(*goal) for op, goal in GOALS.items()} | {
    "cancel": "(restated: cancel_vs_template)",
    "cancel_cascade": "(restated: cancel_cascade_vs_template)",
    "cancel_quiet": "≥ 45% (no response dict)",
    "place_limit_quiet": "(no response dict)",
    "market_maker_cycle": "(µs per cycle; no target)",
    "skeleton_cancel": "(reference, not a venue)",
    "skeleton_cancel_quiet": "(reference, no response dict)",
    "skeleton_fill_ioc": "(reference, not a venue: the fill target's named work only)"}


def target_lines(summary: dict) -> list[str]:
    """One markdown line per target: its bound, the measured figure at each depth (events
    for backtests) and whether it is met at every one; then the rows reported in µs per
    operation, and the depth scaling."""
    by_op: dict[str, list[dict]] = {}
    for r in summary["rows"]:
        if r["floor_ops_per_second"] and r["ops_per_second"] and (
                r["operation"] in GOALS or r["operation"] in PER_OP):
            by_op.setdefault(r["operation"], []).append(r)
    lines = []
    for op in [*GOALS, *(o for o in PER_OP if o not in GOALS)]:
        rows = by_op.get(op)
        if not rows:
            continue
        kind, bound = GOALS.get(op, ("", 0.0))
        figures, met = [], []
        for r in rows:
            # from the rates: the table's ratio is rounded to 4 decimals (0 for a huge cost)
            ratio = r["ops_per_second"] / r["floor_ops_per_second"]
            if kind == "cost":
                text, ok = f"{1 / ratio:.2f}×", 1 / ratio <= bound
            else:
                text, ok = f"{ratio:.1%}", ratio >= bound
            if op in PER_OP:
                text += f", {1e6 / r['ops_per_second']:,.1f} µs per {PER_OP[op]}"
            mark = (" ✓" if ok else " ✗") if kind else ""
            figures.append(f"{text} at {r['depth']:,}{mark}")
            met.append(ok)
        reference = rows[0]["floor"]
        if kind == "cost":
            head = f"{op}: cost ≤ {bound:g}× that of {reference}"
        elif kind:
            head = f"{op}: ≥ {bound:.0%} of {reference}"
        else:
            head = f"{op} (no target; ratio to {reference})"
        verdict = "" if not kind else (" — **met**" if all(met) else
                                        f" — **not met** ({met.count(True)} of {len(met)})"
                                        if any(met) else " — **not met**")
        lines.append(f"- {head}: {'; '.join(figures)}{verdict}")
    scaling = summary.get("extra", {}).get("depth scaling", {})
    if scaling:
        ok = all(v <= SCALING_GOAL for v in scaling.values())
        lines.append(f"- depth scaling (cost at the deepest book / the shallowest) ≤ "
                     f"{SCALING_GOAL:g}×: " + ", ".join(f"{op} {v:.2f}×"
                                                       for op, v in scaling.items())
                     + (" — **met**" if ok else " — **not met**"))
    return lines


def table(summary: dict) -> str:
    m = summary["machine"]
    lines = [
        f"Measured with `python -m pytest benchmarks/ -q` on {m['cpus']} cores, "
        f"Python {m['python']}, {m['platform']}.",
        "",
        "Each ratio is the venue's median rate over the floor's median rate in rounds "
        "interleaved with the venue's (same operations, depth and price draw); for the "
        "target rows of `benchmarks/test_targets.py` the reference named in the floor "
        "column takes the floor's place (the sweep, the same MARKET orders placed directly, "
        "a bare per-event loop, `template_cancel`, the same backtest without the trailing "
        "row, ...).",
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
    goals = target_lines(summary)
    if goals:
        lines += ["", "Targets (each row's ratio to its in-run reference, at each depth or "
                  "event count; a cost target compares cost per operation, 1 / ratio):", "",
                  *goals]
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
