"""Option objects built from command-line flags, shared by the commands that take them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import InvalidOptionError, LongspeechError


def _correction_options(llm: str, fmt: str, model: str, adapter: Path | None = None):
    from ..correction import CorrectionOptions
    from ..llm.adapters import read_manifest

    if adapter is not None:             # a damaged or foreign adapter fails before any model
        read_manifest(adapter)
    opts = CorrectionOptions(llm=llm, format=fmt, verifier=model,
                             adapter=str(adapter) if adapter is not None else None)
    opts.validate()
    return opts


def _fusion_options(fusion: str | None, llm: str, weight: float, prompt: str | None,
                    prompt_file: Path | None):
    if fusion is None:
        if prompt or prompt_file:
            raise InvalidOptionError("--prompt/--prompt-file prime the LLM of --fusion gfd; "
                                  "for Whisper's own prompt use --initial-prompt")
        return None
    if fusion != "gfd":
        raise InvalidOptionError(f"unknown fusion {fusion!r}; the one method is gfd")
    if prompt and prompt_file:
        raise InvalidOptionError("give --prompt or --prompt-file, not both")
    if prompt_file:
        try:
            prompt = prompt_file.read_text(encoding="utf-8")
        except OSError as e:
            raise LongspeechError(f"cannot read --prompt-file {prompt_file}: {e.strerror}")
    from ..fusion import FusionOptions

    opts = FusionOptions(weight=weight, llm=llm, prompt=prompt or "")
    opts.validate()
    return opts


def _exit_now(code: int) -> None:
    """Exit at once after Ctrl-C: the job state and summary are written, and a stage thread
    still inside a model call (native code) must not be waited for or torn down under it."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _diarization_options(diarizer: str, num: int | None, lo: int, hi: int | None,
                         device: str, known: tuple = ()):
    from ..diarization import DiarizationOptions

    backend, _, model = diarizer.partition(":")
    return DiarizationOptions(backend=backend, model=model or None, num_speakers=num,
                              min_speakers=lo, max_speakers=hi, known=known,
                              device="cpu" if device == "auto" else device)
