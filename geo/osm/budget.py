"""The network time budget: one wall-clock deadline for all live requests of a build.

:func:`network_budget` opens a budget for a block of code (``geo.pipeline.build_layers``
opens one per build: ``settings.network_budget_s``, CLI ``--network-budget``);
:func:`request_deadline` is when one request must be over (``settings.http_deadline_s``
from now, never past the budget's end); :func:`remaining` is what is left. Outside
a budget only the per-request deadline applies. Times are ``time.monotonic()``.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

from .. import settings
from ..errors import InputError


@dataclass(frozen=True)
class Budget:
    """``seconds`` of network time, ending at ``ends`` (``time.monotonic()``)."""

    seconds: float
    ends: float

    def remaining(self) -> float:
        """Seconds left (0 when spent)."""
        return max(0.0, self.ends - time.monotonic())

    @property
    def spent(self) -> bool:
        return time.monotonic() >= self.ends


_current: ContextVar[Budget | None] = ContextVar("corridormap_network_budget", default=None)


def budget_seconds(value: float | str) -> float:
    """A network budget in seconds: a number above 0 (``inf``: no budget).

    Raises
    ------
    InputError
        When ``value`` is not such a number, naming where budgets are set.
    """
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not seconds > 0:  # NaN too
        raise InputError(f"network budget {str(value)[:40]!r} is not a number of seconds above 0: fix "
                         "--network-budget or CORRIDORMAP_NETWORK_BUDGET_S")
    return seconds


@contextmanager
def network_budget(seconds: float | str | None = None) -> Iterator[Budget]:
    """Within the block, live requests end ``seconds`` from now (default ``settings.network_budget_s``)."""
    spend = budget_seconds(settings.network_budget_s if seconds is None else seconds)
    budget = Budget(spend, time.monotonic() + spend)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def current() -> Budget | None:
    """The open budget, or None."""
    return _current.get()


def remaining() -> float:
    """Seconds left in the open budget (``inf`` when none is open)."""
    budget = _current.get()
    return math.inf if budget is None else budget.remaining()


def request_deadline() -> float:
    """When a request starting now must be over: ``settings.http_deadline_s`` on, at most the budget's end."""
    return time.monotonic() + min(float(settings.http_deadline_s), remaining())
