"""Which diarization backend an options object names, loaded once: the one module that
knows every backend, so that the backends and their shared helpers (base.py) import only
downward."""

from __future__ import annotations

from .base import Backend
from .options import DiarizationOptions


def load_backend(options: DiarizationOptions | None = None) -> Backend:
    """The backend `options.backend` names, with its models loaded once."""
    opts = options or DiarizationOptions()
    if opts.backend == "pyannote":
        from .pyannote_backend import PyannoteBackend

        return PyannoteBackend(opts.pyannote_model, device=opts.device)
    from .embedded import EmbeddedBackend

    return EmbeddedBackend(device=opts.device)
