"""Transcribe one recording: stream chunks from the audio, decode them in batches, assemble.

Memory stays bounded by one batch of chunks, whatever the recording's duration.
"""

from __future__ import annotations

import dataclasses
import platform
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..asr import AsrOptions, Engine, load_engine
from ..audio import SAMPLE_RATE, AudioChunk, iter_chunks, probe
from ..audio.vad import VadOptions
from ..errors import InvalidOptionError
from ..outputs.subtitles import SubtitleOptions
from ..progress import Progress, ProgressCallback, no_progress
from ..types import Recording, Segment, Transcript


@dataclass
class TranscribeOptions:
    asr: AsrOptions = field(default_factory=AsrOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    max_chunk: float = 30.0
    # Speech separated by a longer silence starts a new chunk: Whisper's word alignment
    # smears words across long silences inside a chunk.
    max_gap: float | None = 2.0
    # Whisper without timestamps sometimes skips a chunk's start or ends it early (often at
    # a change of voice): a stretch of the chunk before its first or after its last decoded
    # word longer than this is decoded again. The VAD bounds chunks, so such a stretch holds
    # speech.
    min_gap: float | None = 1.5
    # How srt/vtt outputs are cut into cues (line width and count, words per line).
    subtitles: SubtitleOptions = field(default_factory=SubtitleOptions)


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("longspeech", "torch", "transformers", "faster-whisper", "ctranslate2",
                "silero-vad"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def settings(opts: TranscribeOptions) -> dict[str, Any]:
    """The options a transcript depends on, as recorded in its provenance."""
    asr = asdict(opts.asr)
    asr.pop("extra", None)
    out = {"asr": asr, "vad": asdict(opts.vad), "max_chunk": opts.max_chunk,
           "max_gap": opts.max_gap, "min_gap": opts.min_gap}
    if opts.subtitles != SubtitleOptions():
        out["subtitles"] = asdict(opts.subtitles)
    return out


def provenance(engine_provenance: dict[str, Any], opts: TranscribeOptions,
               segments: Sequence[Segment] = ()) -> dict[str, Any]:
    """A transcript's provenance: the engine's models, the options, the library versions,
    and, where the engine says which decoder made each segment, how many each made."""
    asr = dict(engine_provenance)
    decoders = Counter(s.decoder for s in segments if s.decoder)
    if decoders:
        asr["segments_by_decoder"] = dict(sorted(decoders.items()))
    return {"asr": asr, "options": settings(opts), "versions": library_versions()}


def language_of(engine: Engine, fixed: str | None,
                first: np.ndarray | None) -> tuple[str, float]:
    """The recording's language: the one asked for, English for an English-only model, else
    detected on the first chunk's samples; "und" (ISO 639-2 undetermined) with no speech."""
    if fixed:
        return fixed, 1.0
    if not engine.multilingual:
        return "en", 1.0
    if first is None:
        return "und", 0.0
    language, p = engine.detect_language(first)
    return language, float(p)


class _LanguageState:
    def __init__(self, engine: Engine, fixed: str | None):
        self.engine, self.fixed = engine, fixed
        self.language: str | None = None

    def resolve(self, samples: np.ndarray | None) -> str:
        if self.language is None:
            self.language = language_of(self.engine, self.fixed, samples)[0]
        return self.language


def _holes(c: AudioChunk, segs: list[Segment], min_gap: float) -> list[AudioChunk]:
    """Stretches of a chunk before its first or after its last decoded word, if long enough."""
    if not segs:
        return []
    ch, out = c.chunk, []
    spans = [(ch.start, segs[0].start), (segs[-1].end, ch.end)]
    for a, b in spans:
        if b - a > min_gap:
            lo = max(0, int(round((a - ch.start) * SAMPLE_RATE)))
            hi = int(round((b - ch.start) * SAMPLE_RATE))
            out.append(AudioChunk(replace(ch, start=a, end=b), c.samples[lo:hi]))
    return out


def chunk_text(segments: list[Segment]) -> str:
    """A decoded chunk's text, as a sequential engine reads it back as context."""
    return " ".join(s.text.strip() for s in segments if s.text.strip())


def decode_batch(engine: Engine, batch: list[AudioChunk], language: str,
                 min_gap: float | None, context: Sequence[str] = (),
                 max_rounds: int = 3) -> list[list[Segment]]:
    """Decode chunks, then decode again any speech left before the first or after the last
    word of a chunk (Whisper sometimes skips the start or stops early at a change of voice).
    context: the texts of the recording's chunks before the batch (sequential engines)."""
    results = engine.transcribe_batch(batch, language, context)
    if min_gap is None:
        return results
    pending = list(range(len(batch)))
    for _ in range(max_rounds):
        holes = [(i, h) for i in pending for h in _holes(batch[i], results[i], min_gap)]
        if not holes:
            break
        decoded = engine.transcribe_batch([h for _, h in holes], language)
        pending = []
        for (i, h), segs in zip(holes, decoded):
            segs = [s for s in segs if s.start >= h.chunk.start - 0.01
                    and s.end <= h.chunk.end + 0.01]
            if segs:
                results[i] = sorted(results[i] + segs, key=lambda s: s.start)
                pending.append(i)
        pending = sorted(set(pending))
    return results


def iter_segments(path: str | Path, engine: Engine, opts: TranscribeOptions | None = None,
                  progress: ProgressCallback = no_progress,
                  recording: Recording | None = None,
                  language_state: _LanguageState | None = None) -> Iterator[Segment]:
    """Lazily decode a recording, yielding segments in time order as batches finish."""
    opts = opts or TranscribeOptions()
    rec = recording or probe(path)
    lang = language_state or _LanguageState(engine, opts.asr.language)
    batch = []
    said: list[str] = []     # each decoded chunk's text: a sequential engine's context

    def run() -> list[Segment]:
        language = lang.resolve(batch[0].samples)
        decoded = decode_batch(engine, batch, language, opts.min_gap,
                               said if engine.sequential else ())
        said.extend(chunk_text(segs) for segs in decoded)
        out = [s for segs in decoded for s in segs]
        progress(Progress(rec.id, min(batch[-1].chunk.end, rec.duration), rec.duration))
        batch.clear()
        return out

    progress(Progress(rec.id, 0.0, rec.duration))
    for chunk in iter_chunks(path, vad_options=opts.vad, max_chunk=opts.max_chunk,
                             max_gap=opts.max_gap):
        batch.append(chunk)
        if len(batch) >= opts.asr.batch_size:
            yield from run()
    if batch:
        yield from run()
    progress(Progress(rec.id, rec.duration, rec.duration))


def transcribe_file(path: str | Path, engine: Engine, opts: TranscribeOptions | None = None,
                    progress: ProgressCallback = no_progress) -> Transcript:
    """Decode a whole recording into a Transcript (times absolute, provenance recorded)."""
    opts = opts or TranscribeOptions()
    rec = probe(path)
    lang = _LanguageState(engine, opts.asr.language)
    segments = list(iter_segments(path, engine, opts, progress, rec, lang))
    return Transcript(recording=rec, language=lang.resolve(None), segments=segments,
                      provenance=provenance(engine.provenance(), opts, segments))


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
              "language", "task", "batch_size", "max_segment_seconds", "word_time_correction",
              "fusion", "hotwords", "seed")
    return _engine(tuple((f, getattr(asr, f)) for f in fields))


def transcribe(path: str | Path, *, vad: VadOptions | None = None,
               progress: ProgressCallback = no_progress, **options: Any) -> Transcript:
    """Transcribe one recording. Options are AsrOptions' fields (model, engine, language...)."""
    opts = make_options(vad, **options)
    return transcribe_file(path, get_engine(opts.asr), opts, progress)
