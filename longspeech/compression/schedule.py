"""Target-length schedules of iterative fusion: the lengths a sequence passes through."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidOptionError
from .options import PAPER_POOL


def _check(length: int, window: int) -> None:
    if length < 0:
        raise InvalidOptionError(f"sequence length must be >= 0, got {length}")
    if window < 1:
        raise InvalidOptionError(f"the window L must be at least 1 frame, got {window}")


def halving_schedule(length: int, window: int) -> list[int]:
    """Paper Eq. 5: halve (floor) while half is still above L, then go to L.

    45,000 frames to L=750: [22500, 11250, 5625, 2812, 1406, 750]. Empty when length <= L.
    """
    _check(length, window)
    out, t = [], length
    while t > window:
        t = t // 2 if t / 2 > window else window
        out.append(t)
    return out


def pool_schedule(length: int, window: int, pool: Sequence[int] = PAPER_POOL) -> list[int]:
    """The short-input / training path: from the first pool value below `length` down to L.

    With L in the pool this is exactly the paper's loop (pool values p with L <= p < length).
    An L that is not a pool value ends the schedule itself, so the output is always L frames
    long (the paper's loop would stop at the smallest pool value above L).
    """
    _check(length, window)
    if length <= window:
        return []
    out = [p for p in pool if window < p < length]
    return out + [window]


def single_schedule(length: int, window: int) -> list[int]:
    """One round straight to L (the paper's single-step ablation)."""
    _check(length, window)
    return [window] if length > window else []


def schedule(name: str, length: int, window: int, pool: Sequence[int] = PAPER_POOL) -> list[int]:
    """The target lengths of each round for a sequence of `length` frames."""
    if name == "halving":
        return halving_schedule(length, window)
    if name == "pool":
        return pool_schedule(length, window, pool)
    if name == "single":
        return single_schedule(length, window)
    raise InvalidOptionError(f"unknown schedule {name!r}; choose halving, pool or single")
