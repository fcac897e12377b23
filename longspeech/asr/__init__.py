"""Whisper decoding engines with one options dataclass and identical outputs."""

from __future__ import annotations

from .base import Engine
from .options import ENGINES, AsrOptions


def load_engine(opts: AsrOptions) -> Engine:
    """Load the engine `opts.engine` names; models load once, here."""
    opts.validate()
    if opts.engine == "ct2":
        from .ct2_engine import Ct2Engine

        return Ct2Engine(opts)
    from .hf_engine import TransformersEngine

    return TransformersEngine(opts)


__all__ = ["ENGINES", "AsrOptions", "Engine", "load_engine"]
