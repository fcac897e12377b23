"""Shared training plumbing: progress events, seeded batches, the learning-rate schedule, the
manifest that records what a training run wrote (file sha256s, options, metrics)."""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...hashing import sha256_file
from ...outputs.writers import atomic_write_text

MANIFEST = "lslm.json"


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


def update_manifest(out_dir: str | os.PathLike, section: str, info: dict[str, Any],
                    files: list[str], removed: tuple[str, ...] = ()) -> Path:
    """Record `info` under `section` of out_dir/lslm.json and the sha256 of `files`; forget
    the files in `removed`."""
    d = Path(out_dir)
    path = d / MANIFEST
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data.setdefault("files", {})
    for name in files:
        data["files"][name] = sha256_file(d / name)
    for name in removed:
        data["files"].pop(name, None)
    data[section] = info
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a trained model directory ({} when there is none yet)."""
    from ...errors import ModelIntegrityError

    path = Path(directory) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise ModelIntegrityError(f"{path} is not valid JSON: restore it or train the model "
                                  "again") from None
