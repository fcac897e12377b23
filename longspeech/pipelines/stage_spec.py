"""What a runner needs to run a stage: its class, its options, how many actors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class StageSpec:
    cls: type
    config: Any
    # Ray: how many actors; None lets the runner size the pool from the cluster.
    actors: int | None = None
    # LocalRunner: an already built instance to use instead of building one.
    instance: Any = None


__all__ = ["StageSpec"]
