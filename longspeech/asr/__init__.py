"""Whisper decoding engines with one options dataclass and identical outputs."""

from __future__ import annotations

from dataclasses import replace

from .base import Engine
from .options import ENGINES, AsrOptions, fallback_temperatures


def best_device(engine: str) -> str:
    """"cuda" where this process sees a GPU the engine can use, else "cpu"."""
    try:
        if engine == "ct2":
            import ctranslate2

            return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:  # a broken GPU stack must not stop a CPU run
        return "cpu"


def load_engine(opts: AsrOptions) -> Engine:
    """Load the engine `opts.engine` names; models load once, here. Device "auto" takes a
    GPU when this process has one (a Ray actor sees only the GPUs it was given)."""
    opts.validate()
    if opts.device == "auto":
        opts = replace(opts, device=best_device(opts.engine))
    if opts.engine == "ct2":
        from .ct2_engine import Ct2Engine

        return Ct2Engine(opts)
    if opts.engine == "gfd":
        from .gfd_engine import GfdEngine

        return GfdEngine(opts)
    from .hf_engine import TransformersEngine

    return TransformersEngine(opts)


__all__ = ["ENGINES", "AsrOptions", "Engine", "best_device", "fallback_temperatures",
           "load_engine"]
