"""Who spoke when: diarization backends, word-speaker attribution and RTTM output.

    from longspeech.diarization import DiarizationOptions, load_backend, attribute_speakers
    backend = load_backend(DiarizationOptions())            # offline embedded backend
    annotation = backend.diarize("meeting.wav", DiarizationOptions(max_speakers=6))
    transcript = attribute_speakers(transcript, annotation, diarizer=backend.describe())
"""

from __future__ import annotations

from pyannote.core import Annotation

from ..progress import ProgressCallback, no_progress
from ..types import Transcript
from .attribution import annotation_to_turns, attribute_speakers, speakers_in_order
from .backends import load_backend
from .base import Backend, PathLike, relabel_by_first_appearance, speaker_id
from .options import BACKENDS, DEFAULT_PYANNOTE_MODEL, DiarizationOptions
from .rttm import annotation_to_rttm, transcript_to_rttm, turns_to_annotation

__all__ = [
    "BACKENDS", "DEFAULT_PYANNOTE_MODEL", "Backend", "DiarizationOptions", "annotation_to_rttm",
    "annotation_to_turns", "attribute_speakers", "diarize", "diarize_transcript", "load_backend",
    "relabel_by_first_appearance", "speaker_id", "speakers_in_order", "transcript_to_rttm",
    "turns_to_annotation",
]


def diarize_transcript(transcript: Transcript, backend: Backend,
                       options: DiarizationOptions | None = None,
                       progress: ProgressCallback = no_progress) -> Transcript:
    """Diarize a transcript's recording and attribute its words; provenance records the
    backend, its models and the speaker-count options."""
    opts = options or DiarizationOptions()
    ann = backend.diarize(transcript.recording.path, opts, progress)
    lo, hi = opts.speaker_bounds()
    diarizer = {**backend.describe(), "min_speakers": lo, "max_speakers": hi}
    if getattr(backend, "last_count", None) is not None:
        diarizer["speaker_count"] = backend.last_count
    return attribute_speakers(transcript, ann, diarizer=diarizer)


def diarize(path: PathLike, options: DiarizationOptions | None = None,
            progress: ProgressCallback = no_progress) -> Annotation:
    """One-off diarization of a file (loads the backend each call; reuse load_backend for many)."""
    opts = options or DiarizationOptions()
    return load_backend(opts).diarize(path, opts, progress)
