"""Run a blocking exchange (an HTTP request, a download) in a worker thread, and give up on it at a deadline.

A server can hold a socket open for ever (never answer, send a byte now and then); a timeout on each
read does not bound the whole. :func:`run_by` bounds it: the caller waits for the worker until the
deadline and then goes on, whatever the worker is doing (it is a daemon thread, and the work is
expected to check the deadline itself and stop soon after).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Late(Exception):
    """The work was not done by its deadline."""


def run_by(work: Callable[[], T], deadline: float, *, name: str, grace: float = 0.0,
           on_late: Callable[[], None] | None = None) -> T:
    """``work()``'s result, or its exception, if it ends by ``deadline`` (``time.monotonic()``) plus ``grace`` seconds.

    Parameters
    ----------
    work : callable
        Runs in a daemon thread named ``name``.
    on_late : callable, optional
        Called when the deadline passes first (to tell the work to stop).

    Raises
    ------
    Late
        When the deadline passes first.
    """
    outcome: list = []
    done = threading.Event()

    def worker() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=worker, name=name, daemon=True).start()
    if not done.wait(max(0.0, deadline - time.monotonic()) + grace):
        if on_late is not None:
            on_late()
        raise Late(name)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
