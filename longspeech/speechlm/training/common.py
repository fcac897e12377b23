"""Shared training plumbing: progress events, seeded batches, the learning-rate schedule."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class TrainProgress:
    """One training event: stage ("data", "ctc", "lslm", "eval"), step of steps, the running
    loss (nan outside training steps) and a short message."""

    stage: str
    step: int
    steps: int
    loss: float = float("nan")
    message: str = ""


TrainCallback = Callable[[TrainProgress], None]


def silent(_: TrainProgress) -> None:
    """Default callback: training reports nothing."""


@contextmanager
def seeded(seed: int, threads: int) -> Iterator[None]:
    """Seed python, numpy and torch and cap torch's threads for the duration."""
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def cosine_lr(step: int, steps: int, warmup: int) -> float:
    """Multiplier of the base rate: linear warm-up, then cosine decay to 10%."""
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
