"""The network time budget: how long all live requests of a build may take together.

:func:`network_budget` opens a budget for a block of code (``geo.corridors.build.build_layers``
opens one per build: ``settings.network_budget_s``, CLI ``--network-budget``). Its clock
runs only while a request is under way (:func:`spending`, around each Overpass request with
its retries and waits), so reading files and routing cost none of it.
:func:`request_deadline` is when one request must be over (``settings.http_deadline_s``
from now, never past what is left of the budget); :func:`remaining` is what is left.
Outside a budget only the per-request deadline applies. Times are ``time.monotonic()``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .. import settings
from ..errors import InputError


@dataclass
class Budget:
    """``seconds`` of network time, ``used`` of them before the request under way (started at ``since``)."""

    seconds: float
    used: float = 0.0
    since: float | None = None

    def remaining(self) -> float:
        """Seconds left (0 when spent)."""
        running = 0.0 if self.since is None else time.monotonic() - self.since
        return max(0.0, self.seconds - self.used - running)


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
    """Within the block, live requests take ``seconds`` in all (default ``settings.network_budget_s``).

    A block inside another shares the outer budget (``seconds`` is then ignored).
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    budget = Budget(budget_seconds(settings.network_budget_s if seconds is None else seconds))
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


@contextmanager
def spending() -> Iterator[None]:
    """Run the open budget's clock during the block (nothing happens outside a budget)."""
    budget = _current.get()
    if budget is None or budget.since is not None:  # no budget, or its clock runs already
        yield
        return
    budget.since = time.monotonic()
    try:
        yield
    finally:
        budget.used += time.monotonic() - budget.since
        budget.since = None


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
