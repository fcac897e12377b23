"""Options of speech-sequence compression: which method, which length schedule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidOptionError

METHODS = ("fusion", "mostsim", "avgpool", "random")
SCHEDULES = ("halving", "pool", "single")
PAPER_POOL = (400, 200, 100, 50, 25, 12)
PAPER_WINDOWS = (750, 400, 200, 100, 50, 25, 12)  # the L values of dynamic compression training

Method = Literal["fusion", "mostsim", "avgpool", "random"]
Schedule = Literal["halving", "pool", "single"]


@dataclass(frozen=True)
class CompressionOptions:
    """How a sequence of encoder states is shortened to a window of L frames.

    method: "fusion" (FastLongSpeech: merge similar neighbours, density-weighted),
        "mostsim" (the same merges, plain average: the no-density baseline),
        "avgpool" (adaptive average pooling to L), "random" (keep L random frames, in order).
    schedule (fusion and mostsim): "halving" (long input, paper Eq. 5), "pool" (the short-input
        and training path through `pool`), "single" (one round straight to L: the ablation).
    eps: added to each group's density sum, as in the paper (1e-7).
    detach_density: treat densities as constants in backward (the paper's training does; the
        head is frozen then). False lets gradients reach the density head.
    chunk_frames: the density head runs on this many frames at a time (memory only).
    seed: for "random".
    """

    method: Method = "fusion"
    schedule: Schedule = "halving"
    pool: tuple[int, ...] = PAPER_POOL
    eps: float = 1e-7
    detach_density: bool = True
    chunk_frames: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidOptionError(
                f"unknown compression method {self.method!r}; choose from {', '.join(METHODS)}")
        if self.schedule not in SCHEDULES:
            raise InvalidOptionError(
                f"unknown schedule {self.schedule!r}; choose from {', '.join(SCHEDULES)}")
        if not self.pool or any(p < 1 for p in self.pool) or list(self.pool) != sorted(
                set(self.pool), reverse=True):
            raise InvalidOptionError(
                f"pool must be distinct positive lengths in decreasing order, got {self.pool}")
        if not self.eps >= 0:
            raise InvalidOptionError(f"eps must be >= 0, got {self.eps}")
        if self.chunk_frames < 1:
            raise InvalidOptionError(f"chunk_frames must be >= 1, got {self.chunk_frames}")
