"""The Python API: transcribe a file in one call, or iterate its segments lazily."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from .asr import AsrOptions, Engine, load_engine
from .audio.vad import VadOptions
from .errors import InvalidOptionError
from .pipelines.progress import ProgressCallback, no_progress
from .pipelines.transcribe import TranscribeOptions, iter_segments, transcribe_file
from .types import Segment, Transcript

_ASR_FIELDS = {f.name for f in dataclasses.fields(AsrOptions)}


def make_options(vad: VadOptions | None = None, max_chunk: float = 30.0,
                 **options) -> TranscribeOptions:
    """TranscribeOptions from keyword options named as AsrOptions' fields."""
    unknown = sorted(set(options) - _ASR_FIELDS)
    if unknown:
        raise InvalidOptionError(
            f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(_ASR_FIELDS))}")
    if "temperatures" in options and isinstance(options["temperatures"], (int, float)):
        options["temperatures"] = (float(options["temperatures"]),)
    asr = AsrOptions(**options)
    asr.validate()
    return TranscribeOptions(asr=asr, vad=vad or VadOptions(), max_chunk=max_chunk)


@lru_cache(maxsize=2)
def _engine(key: tuple) -> Engine:
    return load_engine(AsrOptions(**dict(key)))


def get_engine(asr: AsrOptions) -> Engine:
    """A loaded engine for these options; the last two loaded are kept for reuse."""
    fields = ("model", "engine", "device", "compute_type", "cpu_threads", "beam_size",
              "temperatures", "compression_ratio_threshold", "log_prob_threshold",
              "no_speech_threshold", "length_penalty", "word_timestamps", "initial_prompt",
              "language", "task", "batch_size", "max_segment_seconds", "word_time_correction")
    return _engine(tuple((f, getattr(asr, f)) for f in fields))


def transcribe(path: str | Path, *, vad: VadOptions | None = None,
               progress: ProgressCallback = no_progress, **options) -> Transcript:
    """Transcribe one recording. Options are AsrOptions' fields (model, engine, language...)."""
    opts = make_options(vad, **options)
    return transcribe_file(path, get_engine(opts.asr), opts, progress)


def transcribe_iter(path: str | Path, *, vad: VadOptions | None = None,
                    progress: ProgressCallback = no_progress, **options) -> Iterator[Segment]:
    """Segments of one recording, yielded as soon as their batch of chunks is decoded."""
    opts = make_options(vad, **options)
    return iter_segments(path, get_engine(opts.asr), opts, progress)
