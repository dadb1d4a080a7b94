"""The replay's progress bar: tqdm, on a terminal only.  Display only.

This is the one place the backtest touches anything clock-like: tqdm reads
the wall clock to show a rate.  Nothing it shows reaches the venue or the
report.  On a non-terminal (a pipe, a file, CI) the bar stays silent.
"""

from __future__ import annotations

import sys
from typing import Any

#: replays shorter than this show no bar (they end before a bar would be useful)
LONG_REPLAY = 200_000


def progress_bar(total: int, enabled: bool | None = None) -> Any:
    """A bar with ``update(n)`` and ``close()``, or None when it would not be shown.

    ``enabled``: True forces it, False suppresses it, None shows it for a long
    replay when stderr is a terminal.  None also when tqdm is not installed.
    """
    if enabled is None:
        enabled = total >= LONG_REPLAY and sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="ev", unit_scale=True, file=sys.stderr, leave=False,
                mininterval=0.5, desc="replay")
