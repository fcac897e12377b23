"""The scheduler: the one place that orders a job's work. Plan a recording (decode, VAD,
chunks), identify its language, queue its chunk groups (a bounded number at a time), decode
them, then finish it (finishing.py). Finished chunks are saved as they arrive, so a job that
is killed and run again decodes only what was missing and writes byte-identical outputs."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidOptionError, LongspeechError
from ..progress import Progress, ProgressCallback
from ..qa.answer import Answer
from ..types import Chunk, Segment, Transcript
from .answer_stages import Answered, AskConfig, Encoded, EncodeRequest
from .finishing import Finishing
from .library_step import LibraryStep
from .names import output_stems
from .results import FileResult, error_text
from .runners import Runner
from .stages import (ChunkGroup, Corrected, DiarizeRequest, Diarization, GroupResult,
                     LanguageRequest, LanguageResult, PlanRequest, RecordingPlan)
from .state import JobState, Manifest, fingerprint
from .transcribe import TranscribeOptions, chunk_text

# Chunk groups queued or being decoded at once, over every recording: what the job holds
# ahead of the decoder stays the same however long the recordings are. A recording is
# planned only while fewer than PLAN_AHEAD groups wait to be queued.
AHEAD_GROUPS = 4
PLAN_AHEAD = 2 * AHEAD_GROUPS


def _absolute(path: str | Path) -> str:
    """How a manifest names its input: absolute, so that x.wav and ./x.wav are one input."""
    return os.path.abspath(path)


@dataclass
class _Recording:
    """The scheduler's view of one input."""

    index: int
    path: Path
    stem: str
    t0: float = 0.0
    manifest: Manifest | None = None
    provenance: dict[str, Any] | None = None
    pending: int = 0                # items in flight or queued
    chunks_done: int = 0
    resumed: int = 0
    diarization: Diarization | None = None
    correction_key: str = ""
    todo: deque[list[Chunk]] = field(default_factory=deque)   # groups not yet queued
    decoding: int = 0               # of its groups, queued or being decoded
    questions: list[str] = field(default_factory=list)   # asked about this recording
    answers: dict[str, Answer | None] = field(default_factory=dict)  # by key; None: queued
    answer_keys: list[str] = field(default_factory=list)  # per question
    outputs: list[Path] = field(default_factory=list)
    duration: float | None = None
    speakers: int | None = None     # estimated by diarization, when it ran
    result: FileResult | None = None

class Scheduler(Finishing):
    def __init__(self, paths: Sequence[Path], out: Path, opts: TranscribeOptions,
                 formats: Sequence[str], runner: Runner, state: JobState,
                 progress: ProgressCallback, on_file: Callable[[FileResult], None] | None,
                 report: bool = False, diarization: Any = None,
                 correction: Any = None, ask: AskConfig | None = None,
                 questions: Sequence[Sequence[str]] = (),
                 on_segments: Callable[[str, list[Segment]], None] | None = None,
                 library: bool = False):
        self.out, self.opts, self.formats = out, opts, tuple(formats)
        # The library is built from the JSON transcripts: only a job that writes them adds.
        self.library = LibraryStep(out, state) if library and "json" in formats else None
        self.on_segments = on_segments
        self.ask = ask
        # The speech LM reads encoder states: its recordings start at encoding, not planning.
        self.first_stage = "encode" if ask is not None and not ask.needs_transcript else "plan"
        self.report = report
        self.diarization = diarization
        self.correction = correction
        # GFD decodes a recording's chunk groups in order (each sees the text before it).
        self.sequential = opts.asr.engine == "gfd"
        self.diarization_key = fingerprint(asdict(diarization)) if diarization else ""
        self.runner, self.state = runner, state
        self.progress, self.on_file = progress, on_file
        self.recs = [_Recording(i, p, stem)
                     for i, (p, stem) in enumerate(zip(paths, output_stems(paths)))]
        for rec, qs in zip(self.recs, questions):
            rec.questions = list(qs)
        self.to_plan: deque[_Recording] = deque(self.recs)
        self.ready: deque[tuple[str, _Recording, Any]] = deque()   # (stage, rec, item)
        self.peak_backlog = 0           # most chunk groups queued or decoding at once
        self.inflight: dict[int, tuple[_Recording, Any]] = {}

    # -- main loop ------------------------------------------------------------------------
    def run(self) -> None:
        while self.to_plan or self.ready or self.inflight:
            self._release()
            self._submit_ready()
            # Plan ahead only while little decode work waits: bounded state in memory.
            while (self.to_plan and sum(len(r.todo) for r in self.recs) < PLAN_AHEAD
                   and self.runner.free(self.first_stage)):
                rec = self.to_plan.popleft()
                rec.t0 = time.perf_counter()
                if self.first_stage == "encode":
                    rec.pending += 1        # the speech LM reads encoder states, not text
                    self.inflight[self.runner.submit("encode", EncodeRequest(str(rec.path)))] \
                        = (rec, None)
                elif not self._resume(rec):
                    self.inflight[self.runner.submit("plan", PlanRequest(str(rec.path)))] = \
                        (rec, None)
            if not self.inflight:
                continue
            ticket, result, error = self.runner.next_done()
            rec, item = self.inflight.pop(ticket)
            if rec.result is not None:
                continue
            if error is not None:
                self._fail(rec, error)
            elif isinstance(result, RecordingPlan):
                try:
                    self._planned(rec, result)
                except LongspeechError as e:
                    self._fail(rec, e)
            elif isinstance(result, LanguageResult):
                self._language(rec, result)
            elif isinstance(result, GroupResult):
                self._decoded(rec, result)
            elif isinstance(result, Diarization):
                self._diarized(rec, result)
            elif isinstance(result, Corrected):
                self._corrected(rec, Transcript.from_json(result.transcript))
            elif isinstance(result, Encoded):
                rec.pending -= 1
                rec.duration = result.duration
                self.state.log("encoded", recording=rec.stem, frames=result.frames)
                self._ask(rec, result.sha256, None)
            elif isinstance(result, Answered):
                self._answered(rec, item.key, result.answer)

    def _submit_ready(self) -> None:
        """Submit queued items, in order, to every stage that has room (an item for a busy
        stage does not hold up the items behind it for other stages)."""
        waiting: deque[tuple[str, _Recording, Any]] = deque()
        while self.ready:
            stage, rec, item = self.ready.popleft()
            if rec.result is not None:          # its recording failed meanwhile
                continue
            if self.runner.free(stage):
                self.inflight[self.runner.submit(stage, item)] = (rec, item)
            else:
                waiting.append((stage, rec, item))
        self.ready = waiting

    # -- steps ----------------------------------------------------------------------------
    def _resume(self, rec: _Recording) -> bool:
        """Use a saved plan whose input file is unchanged (same size and mtime)."""
        m = self.state.load_manifest(rec.stem)
        try:
            st = os.stat(rec.path)
        except OSError:
            return False
        if (m is None or _absolute(m.input) != _absolute(rec.path) or m.size != st.st_size
                or m.mtime_ns != st.st_mtime_ns):
            return False
        rec.manifest = m
        self.state.log("plan_reused", recording=rec.stem)
        self._after_plan(rec)
        return True

    def _planned(self, rec: _Recording, plan: RecordingPlan) -> None:
        old = self.state.load_manifest(rec.stem)
        if old is not None and _absolute(old.input) != _absolute(rec.path):
            raise InvalidOptionError(
                f"{self.out / rec.stem}.* already hold the results of another input, "
                f"{old.input}: rename one of them, choose another output directory, or pass "
                "--no-resume to replace what is there")
        st = os.stat(rec.path)
        m = Manifest(_absolute(rec.path), rec.stem, plan.recording, plan.chunks, None,
                     st.st_size, st.st_mtime_ns)
        if old is not None and (old.recording.sha256 != m.recording.sha256
                                or old.chunks != m.chunks):
            self.state.forget(rec.stem)     # the input changed: its old chunks are void
            old = None
        if old is not None:
            m.language, m.engine = old.language, old.engine
        self.state.save_manifest(m)
        self.state.log("planned", recording=rec.stem, chunks=len(m.chunks),
                       duration=m.recording.duration)
        rec.manifest = m
        self._after_plan(rec)

    def _after_plan(self, rec: _Recording) -> None:
        m = rec.manifest
        assert m is not None
        rec.pending += 1            # the language step, answered below when it is saved
        if self.diarization is not None:
            saved = self.state.load_diarization(rec.stem, self.diarization_key)
            if saved is not None:
                rec.diarization = Diarization(*saved)
                self.state.log("diarization_reused", recording=rec.stem)
            else:
                rec.pending += 1
                self.ready.append(("diarize", rec, DiarizeRequest(str(rec.path))))
        self.progress(Progress(rec.stem, 0.0, m.recording.duration))
        decoded = self.state.done_chunks(rec.stem) >= set(range(len(m.chunks)))
        if decoded and m.language is not None and m.engine is not None:
            # Every chunk is decoded: the engine that decoded them need not be loaded.
            self._language(rec, LanguageResult(m.language, 1.0, m.engine))
        else:
            first = m.chunks[0] if m.chunks else None
            self.ready.appendleft(("asr", rec, LanguageRequest(str(rec.path), first)))

    def _language(self, rec: _Recording, res: LanguageResult) -> None:
        m = rec.manifest
        assert m is not None
        rec.pending -= 1
        rec.provenance = res.provenance
        if m.language is None or m.engine != res.provenance:
            m.language = m.language or res.language
            m.engine = res.provenance
            self.state.save_manifest(m)
        done = self.state.valid_chunks(rec.stem, self.state.done_chunks(rec.stem)
                                       & set(range(len(m.chunks))))
        rec.resumed = rec.chunks_done = len(done)
        if rec.resumed:
            self.state.log("chunks_resumed", recording=rec.stem,
                           chunks=sorted(done)[:1000], count=rec.resumed)
        size = self.opts.asr.batch_size
        groups = [m.chunks[g:g + size] for g in range(0, len(m.chunks), size)]
        rec.todo = deque(g for g in groups if not all(c.index in done for c in g))
        self._release()
        self._report(rec)
        if rec.pending == 0 and not rec.todo:
            self._finish(rec)

    def _release(self) -> None:
        """Queue chunk groups, recordings in input order, while fewer than AHEAD_GROUPS are
        queued or being decoded. A sequential engine's recording has one group at a time."""
        backlog = sum(r.decoding for r in self.recs)
        for rec in self.recs:
            while (rec.todo and backlog < AHEAD_GROUPS and rec.result is None
                   and not (self.sequential and rec.decoding)):
                self._queue_group(rec)
                backlog += 1
        self.peak_backlog = max(self.peak_backlog, backlog)

    def _queue_group(self, rec: _Recording) -> None:
        """Queue the recording's next group; a sequential engine's goes with the saved text
        of every chunk before it (a resumed job reads it back, so it decodes as an
        uninterrupted one would)."""
        m = rec.manifest
        assert m is not None
        chunks = rec.todo.popleft()
        context = (tuple(chunk_text(self.state.load_chunk(rec.stem, c.index))
                         for c in m.chunks[:chunks[0].index]) if self.sequential else ())
        rec.pending += 1
        rec.decoding += 1
        self.ready.append(("asr", rec, ChunkGroup(str(rec.path), chunks, m.language or "en",
                                                  context)))

    def _decoded(self, rec: _Recording, res: GroupResult) -> None:
        for chunk, segs in zip(res.chunks, res.segments):
            self.state.save_chunk(rec.stem, chunk.index, segs)
        self.state.log("chunks_decoded", recording=rec.stem,
                       chunks=[c.index for c in res.chunks])
        if self.on_segments is not None:
            self.on_segments(rec.stem, [s for segs in res.segments for s in segs])
        rec.pending -= 1
        rec.decoding -= 1
        rec.chunks_done += len(res.chunks)
        self._release()
        self._report(rec)
        if rec.pending == 0 and not rec.todo:
            self._finish(rec)

    def _diarized(self, rec: _Recording, res: Diarization) -> None:
        self.state.save_diarization(rec.stem, self.diarization_key, res.turns, res.provenance)
        self.state.log("diarized", recording=rec.stem, turns=len(res.turns))
        rec.diarization = res
        rec.pending -= 1
        if rec.pending == 0 and not rec.todo:     # groups still held back count as work
            self._finish(rec)

    def _report(self, rec: _Recording) -> None:
        m = rec.manifest
        assert m is not None
        frac = rec.chunks_done / len(m.chunks) if m.chunks else 1.0
        self.progress(Progress(rec.stem, m.recording.duration * frac, m.recording.duration))

    def results(self, stopped: BaseException | None = None) -> list[FileResult]:
        """Each input's result, in input order; inputs the job did not finish because it
        `stopped` are "interrupted" (Ctrl-C) or "failed" with its reason."""
        out = []
        for rec in self.recs:
            if rec.result is None and stopped is not None:
                interrupted = isinstance(stopped, KeyboardInterrupt)
                rec.result = FileResult(
                    str(rec.path), "interrupted" if interrupted else "failed", rec.stem,
                    error=("interrupted: run the same command again to resume"
                           if interrupted else error_text(stopped)))
            if rec.result is not None:
                out.append(rec.result)
        return out

    def _fail(self, rec: _Recording, e: BaseException) -> None:
        rec.result = FileResult(str(rec.path), "failed", rec.stem, error=error_text(e),
                                elapsed=round(time.perf_counter() - rec.t0, 3))
        self.ready = deque(r for r in self.ready if r[1] is not rec)
        rec.todo.clear()
        rec.decoding = 0
        self.state.log("recording_failed", recording=rec.stem, error=rec.result.error)
        if self.on_file:
            self.on_file(rec.result)
