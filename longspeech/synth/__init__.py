"""Synthetic multi-speaker recordings with exact ground truth, rendered offline.

Used by tests and benchmarks: voices from espeak-ng and Flite, sentences from a seeded corpus,
word times from the synthesisers' own timing, streamed to disk for recordings of hours.

    from longspeech.synth import RecordingSpec, make_recording, write_recording
    paths = write_recording(RecordingSpec(seed=1, duration=600, speakers=3), "out", "meeting")
"""

from __future__ import annotations

from .corpus import sentences
from .recording import PlacedSentence, RecordingSpec, SyntheticRecording, make_recording
from .render import (
    DEFAULT_CACHE,
    SAMPLE_RATE,
    RenderCache,
    RenderedSentence,
    RenderedWord,
    render_sentence,
)
from .voices import DEFAULT_VOICES, Voice, default_voices, parse_voice
from .write import RecordingPaths, metadata, rttm, words_tsv, write_recording

__all__ = [
    "DEFAULT_CACHE", "DEFAULT_VOICES", "SAMPLE_RATE", "PlacedSentence", "RecordingPaths",
    "RecordingSpec", "RenderCache", "RenderedSentence", "RenderedWord", "SyntheticRecording",
    "Voice", "default_voices", "make_recording", "metadata", "parse_voice", "render_sentence",
    "rttm", "sentences", "words_tsv", "write_recording",
]
