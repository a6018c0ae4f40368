"""A progress bar on stderr with rate and ETA, for long enumerations."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Call update(done) as work proceeds; close() ends the line.  Silent when disabled
    or when the stream is not a terminal (unless forced)."""

    def __init__(self, total: int, label: str = "", enabled: bool = True,
                 stream: TextIO | None = None, force: bool = False, unit: str = "pts") -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled and (force or self.stream.isatty())
        self.unit = unit
        self.start = time.perf_counter()
        self._last = 0.0

    def update(self, done: int) -> None:
        """Redraw the bar (at most 10 times a second, and at the end)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.1 and done < self.total:
            return
        self._last = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        frac = done / self.total
        bar = "#" * int(30 * frac)
        self.stream.write(
            f"\r{self.label} [{bar:<30}] {100 * frac:5.1f}% {done}/{self.total} "
            f"{rate:,.0f} {self.unit}/s ETA {eta:,.1f}s "
        )
        self.stream.flush()

    def close(self) -> None:
        """Finish the line."""
        if self.enabled:
            self.update(self.total)
            self.stream.write("\n")
            self.stream.flush()
