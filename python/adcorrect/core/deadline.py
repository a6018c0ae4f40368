"""Time budgets of exact work: past the deadline a decision is ``undecided`` with the reason,
never a guess."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import Undecided

#: Default seconds of exact work per audit (``--time-limit``).
DEFAULT_TIME_LIMIT = 60.0


class Deadline:
    """``seconds`` from creation (None: no limit); :meth:`check` raises Undecided after it."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds

    def check(self, doing: str) -> None:
        """Undecided naming what was being done once the time is up."""
        if self.end is not None and time.monotonic() > self.end:
            raise Undecided(f"time limit of {self.seconds:g} s reached ({doing}; raise it "
                            "with --time-limit)")

    @property
    def left(self) -> float | None:
        """Seconds left (None: no limit)."""
        return None if self.end is None else max(self.end - time.monotonic(), 0.0)


NO_DEADLINE = Deadline(None)


_ACTIVE: ContextVar[Deadline | None] = ContextVar("deadline", default=None)


@contextmanager
def active(deadline: Deadline) -> Iterator[None]:
    """Makes ``deadline`` the one :func:`tick` checks while the block runs (long steps
    that do not take a deadline of their own: an import, a plan's compilation)."""
    token = _ACTIVE.set(deadline)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def tick(doing: str) -> None:
    """The active deadline's :meth:`Deadline.check` (nothing without one)."""
    d = _ACTIVE.get()
    if d is not None:
        d.check(doing)
