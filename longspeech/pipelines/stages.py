"""The pipeline's stages. A stage loads its models once in __init__ and maps items in
__call__; it keeps no global state, so one class runs in-process (LocalRunner) or as a Ray
actor (RayRunner).

Items are small (paths and times): a stage reads the audio it needs itself, by seeking, so
no runner ever moves or holds a recording's samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ..asr import Engine, load_engine
from ..audio import SAMPLE_RATE, AudioChunk, iter_chunks, probe, read_span
from ..progress import ProgressCallback, no_progress
from ..types import Chunk, Recording, Segment, SpeakerTurn, Transcript
from .transcribe import TranscribeOptions, decode_batch, language_of

# Chunks closer than this are read from the file in one piece.
_JOIN_GAP = 10.0


class Stage(Protocol):
    num_cpus: ClassVar[float]
    num_gpus: ClassVar[float]
    # An answering stage runs on a cluster's answering nodes where it names some
    # (ray_runner.ANSWERING_RESOURCE); the others then take no GPU.
    answering: ClassVar[bool]

    def __init__(self, config: Any) -> None: ...

    def __call__(self, item: Any) -> Any: ...


# -- items -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanRequest:
    path: str


@dataclass(frozen=True)
class RecordingPlan:
    recording: Recording
    chunks: list[Chunk]


@dataclass(frozen=True)
class LanguageRequest:
    path: str
    chunk: Chunk | None     # the first chunk; None for a recording without speech


@dataclass(frozen=True)
class LanguageResult:
    language: str
    probability: float
    provenance: dict[str, Any]   # the engine's, for the transcript


@dataclass(frozen=True)
class ChunkGroup:
    """Consecutive chunks of one recording decoded as one batch. Groups are fixed by the
    plan, so a resumed job decodes exactly the batches an uninterrupted one would.
    context: a sequential engine's text of the recording's chunks before the group."""

    path: str
    chunks: list[Chunk]
    language: str
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupResult:
    chunks: list[Chunk]
    segments: list[list[Segment]]   # per chunk


@dataclass(frozen=True)
class DiarizeRequest:
    path: str


@dataclass(frozen=True)
class Diarization:
    turns: list[SpeakerTurn]
    provenance: dict[str, Any]   # the backend's models and settings


@dataclass(frozen=True)
class CorrectRequest:
    """An assembled (and speaker-attributed) transcript, as JSON, and its recording."""

    path: str
    transcript: str


@dataclass(frozen=True)
class Corrected:
    transcript: str              # the corrected transcript, as JSON


# -- stages ----------------------------------------------------------------------------------

class PlanStage:
    """Decode + VAD + chunk planning: one streaming pass over a recording."""

    num_cpus: ClassVar[float] = 0.5
    num_gpus: ClassVar[float] = 0
    answering: ClassVar[bool] = False

    def __init__(self, config: TranscribeOptions):
        self.opts = config

    def __call__(self, item: PlanRequest) -> RecordingPlan:
        rec = probe(item.path)
        chunks = [c.chunk for c in iter_chunks(item.path, vad_options=self.opts.vad,
                                               max_chunk=self.opts.max_chunk,
                                               max_gap=self.opts.max_gap)]
        return RecordingPlan(rec, chunks)


def _runs(chunks: list[Chunk]) -> list[list[Chunk]]:
    """Chunks grouped into runs with short gaps, each run read with one seek."""
    runs: list[list[Chunk]] = []
    for c in chunks:
        if runs and c.start - runs[-1][-1].end < _JOIN_GAP:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def read_chunks(path: str, chunks: list[Chunk]) -> list[AudioChunk]:
    """The samples of each chunk, read from the file by seeking."""
    out = []
    for run in _runs(chunks):
        start = run[0].start
        x = read_span(path, start, run[-1].end)
        for c in run:
            a = round((c.start - start) * SAMPLE_RATE)
            out.append(AudioChunk(c, x[a:a + round(c.duration * SAMPLE_RATE)]))
    return out


class AsrStage:
    """Whisper on groups of chunks (and language identification on a first chunk)."""

    num_cpus: ClassVar[float] = 1
    num_gpus: ClassVar[float] = 1   # taken only where the cluster has GPUs
    answering: ClassVar[bool] = False

    def __init__(self, config: TranscribeOptions, engine: Engine | None = None):
        self.opts = config
        self.engine = engine if engine is not None else load_engine(config.asr)

    def __call__(self, item: ChunkGroup | LanguageRequest) -> GroupResult | LanguageResult:
        if isinstance(item, LanguageRequest):
            return self._language(item)
        batch = read_chunks(item.path, item.chunks)
        segments = decode_batch(self.engine, batch, item.language, self.opts.min_gap,
                                item.context)
        return GroupResult(item.chunks, segments)

    def _language(self, item: LanguageRequest) -> LanguageResult:
        first = None
        if item.chunk is not None and not self.opts.asr.language and self.engine.multilingual:
            first = read_chunks(item.path, [item.chunk])[0].samples
        language, p = language_of(self.engine, self.opts.asr.language, first)
        return LanguageResult(language, p, self.engine.provenance())


class DiarizeStage:
    """Who spoke when, for a whole recording (a per-recording step: speaker ids must agree
    over the full file, so it is not split into chunks); speakers whose voice matches an
    enrolled one are called by its name."""

    num_cpus: ClassVar[float] = 0.5
    num_gpus: ClassVar[float] = 0
    answering: ClassVar[bool] = False

    def __init__(self, config: Any):
        from ..diarization import load_backend

        self.opts = config
        self.backend = load_backend(config)
        self.namer = None
        if config.known:
            from ..diarization.enrolment import SpeakerNamer

            self.namer = SpeakerNamer(config, getattr(self.backend, "encoder", None))

    def __call__(self, item: DiarizeRequest) -> Diarization:
        from ..diarization import annotation_to_turns

        turns = annotation_to_turns(self.backend.diarize(item.path, self.opts))
        provenance = self.backend.describe()
        if getattr(self.backend, "last_count", None) is not None:
            provenance["speaker_count"] = self.backend.last_count
        if self.namer is not None:
            turns, provenance["enrolment"] = self.namer(item.path, turns)
        return Diarization(turns, provenance)


class CorrectStage:
    """LLM full-text correction of one recording's transcript, each edit checked against the
    audio (a per-recording step: the LLM reads the whole transcript)."""

    num_cpus: ClassVar[float] = 1
    num_gpus: ClassVar[float] = 1
    answering: ClassVar[bool] = False

    def __init__(self, config: Any):
        from ..correction import Corrector

        self.corrector = Corrector(config)
        # How far the LLM has read; the local runner passes it on to the job's progress.
        self.report: ProgressCallback = no_progress

    def __call__(self, item: CorrectRequest) -> Corrected:
        fixed = self.corrector(Transcript.from_json(item.transcript), item.path, self.report)
        return Corrected(fixed.to_json(indent=None))


__all__ = ["AsrStage", "ChunkGroup", "CorrectRequest", "CorrectStage", "Corrected",
           "DiarizeRequest", "DiarizeStage", "Diarization",
           "GroupResult", "LanguageRequest", "LanguageResult",
           "PlanRequest", "PlanStage", "RecordingPlan", "Stage", "read_chunks"]
