"""Progress on stderr while a command runs: numbered steps, and a bar (tqdm) for long loops.

Silent unless :func:`enable` was called (the command line does; the Python API and tests stay quiet).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_state = {"on": False, "start": 0.0}


def enable(on: bool = True) -> None:
    """Turn progress output on (or off)."""
    _state["on"] = on
    _state["start"] = time.perf_counter()


def enabled() -> bool:
    """Whether progress is shown."""
    return bool(_state["on"])


def step(text: str) -> None:
    """Say what the command starts doing now (``corridormap: [12.3 s] text``)."""
    if _state["on"]:
        print(f"corridormap: [{time.perf_counter() - _state['start']:5.1f} s] {text}", file=sys.stderr, flush=True)


def bar(items: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    """``items``, with a progress bar on stderr while progress is on (a bar only on a terminal)."""
    if not _state["on"]:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit="", leave=False, file=sys.stderr, mininterval=0.5,
                    disable=None)
