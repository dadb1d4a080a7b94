"""The equity-curve PNG (needs the ``plot`` extra: matplotlib).  Display only.

The curve is drawn from the report's exact samples: x in minutes or hours since the first
sample, y in USDT; the axis labels are formatted from the integers, so nothing
here computes money in floating point (matplotlib scales the axes itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.decimals import fmt_ratio
from engine.core.instrument import E8

if TYPE_CHECKING:
    from engine.backtest.report import Report

_HOUR_MS = 3_600_000
#: x-axis tick spacings (ms): whole minutes or hours, at most 8 ticks
_STEPS_MS = [60_000 * m for m in (1, 2, 5, 10, 15, 30)] + [
    _HOUR_MS * h for h in (1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 4320, 8760)]


def equity_png(report: Report, path: str | Path) -> Path | None:
    """Draw ``report``'s equity curve into ``path``; None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
        from matplotlib.ticker import FuncFormatter, MultipleLocator
    except ImportError:
        return None
    samples = report.equity
    if not samples:
        return None
    t0 = samples[0][0]
    xs = [t - t0 for t, _e in samples]
    ys = [e for _t, e in samples]
    fig, ax = pyplot.subplots(figsize=(10, 4))
    try:
        ax.step(xs, ys, where="post", linewidth=1)
        step = next((ms for ms in _STEPS_MS if xs[-1] // ms <= 8), _STEPS_MS[-1])
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.xaxis.set_major_formatter(FuncFormatter(_minutes if step < _HOUR_MS else _hours))
        ax.yaxis.set_major_formatter(FuncFormatter(_usdt))
        s = report.summary
        ax.set_title(f"{s['account']} on {', '.join(s['symbols'])}: equity at mark "
                     f"(max drawdown {s['max_drawdown']} USDT)")
        ax.set_xlabel("time since start")
        ax.set_ylabel("USDT")
        ax.grid(True, linewidth=0.3)
        fig.tight_layout()
        out = Path(path)
        # A fixed metadata set keeps the file free of version and date stamps.
        fig.savefig(out, format="png", metadata={"Software": None})
    finally:
        pyplot.close(fig)
    return out


def _hours(x: Any, _pos: Any) -> str:
    return f"{int(x) // _HOUR_MS}h"


def _minutes(x: Any, _pos: Any) -> str:
    return f"{int(x) // 60_000}m"


def _usdt(y: Any, _pos: Any) -> str:
    """An axis position in 10⁻⁸ USDT as a label in USDT, two decimals (half-even)."""
    return fmt_ratio(int(y), E8, 2)
