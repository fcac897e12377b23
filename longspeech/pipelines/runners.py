"""Runners execute stage items: LocalRunner in this process, RayRunner on Ray actors.

Both offer the same small interface to the job's scheduler: `free(stage)` (room for another
item), `submit(stage, item) -> ticket`, `next_done() -> (ticket, result, error)`. The
scheduler is written once, so both runners produce the same outputs.
"""

from __future__ import annotations

import os

from ..errors import InvalidOptionError
from .local_runner import LocalRunner
from .ray_runner import RayRunner
from .stage_spec import StageSpec

Runner = LocalRunner | RayRunner
RUNNERS = ("auto", "local", "ray")


def choose_runner(runner: str, address: str | None,
                  call_timeout: float | None = 3600.0) -> Runner:
    """The runner a command asked for. "auto" joins a Ray cluster when one is named (an
    address, or RAY_ADDRESS as `ray job submit` sets it) and otherwise runs in this process:
    on one machine Ray only adds start-up and copies. call_timeout: the Ray runner's limit on
    one worker call (seconds; None: none)."""
    if runner not in RUNNERS:
        raise InvalidOptionError(f"unknown runner {runner!r}; choose auto, local or ray")
    if runner == "local" and address:
        raise InvalidOptionError("--address joins a Ray cluster; it needs --runner ray or auto")
    address = address or os.environ.get("RAY_ADDRESS") or None
    if runner == "ray" or (runner == "auto" and address is not None):
        return RayRunner(address, call_timeout=call_timeout)
    return LocalRunner()


__all__ = ["RUNNERS", "LocalRunner", "RayRunner", "Runner", "StageSpec", "choose_runner"]
