"""A batch job: every input transcribed into OUT_DIR by a runner, resumable, each failure
confined to its own recording.

The scheduler below is the one place that orders work: plan a recording (decode, VAD,
chunks), identify its language, decode its chunk groups, then assemble and write its
outputs. Finished chunks are saved as they arrive, so a job that is killed and run again
decodes only what was missing and writes byte-identical outputs.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..asr import Engine
from ..errors import InvalidOptionError, LongspeechError
from ..outputs import write_outputs
from ..files import atomic_write_text
from ..types import Chunk, Segment, Transcript
from ..progress import Progress, ProgressCallback, no_progress
from .library_step import LibraryStep
from .names import output_stems
from .runners import LocalRunner, Runner, StageSpec
from ..qa.answer import Answer
from .answer_stages import (AnswerRequest, AnswerStage, Answered, AskConfig, Encoded,
                            EncodeRequest, EncodeStage, answer_settings)
from .stages import (AsrStage, ChunkGroup, Corrected, CorrectRequest, CorrectStage,
                     DiarizeRequest, DiarizeStage, Diarization, GroupResult,
                     LanguageRequest, LanguageResult, PlanRequest, PlanStage, RecordingPlan)
from .state import JobState, Manifest, fingerprint
from .transcribe import (TranscribeOptions, chunk_text, library_versions, provenance,
                         settings)

SUMMARY_STEM = "job_summary"


@dataclass
class FileResult:
    input: str
    status: str                     # "ok" or "failed"
    stem: str = ""                  # its outputs are OUT/<stem>.<format>
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    duration: float | None = None   # audio seconds
    elapsed: float = 0.0            # wall seconds
    realtime_factor: float | None = None  # audio seconds per wall second
    chunks: int = 0                 # chunks in the recording
    resumed_chunks: int = 0         # of which were finished by an earlier run
    speakers: int | None = None     # estimated by diarization, when it ran


@dataclass
class JobSummary:
    files: list[FileResult] = field(default_factory=list)
    runner: str = "local"
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)   # e.g. state that could not be reused

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status != "ok"]

    def to_dict(self) -> dict:
        return {"files": [asdict(f) for f in self.files], "runner": self.runner,
                "elapsed": self.elapsed, "notes": self.notes,
                "ok": len(self.files) - len(self.failed), "failed": len(self.failed)}


def job_settings(opts: TranscribeOptions) -> dict[str, Any]:
    """What chunk results depend on; a resumed job must have been run with the same."""
    return {**settings(opts), "versions": library_versions()}


def _absolute(path: str | Path) -> str:
    """How a manifest names its input: absolute, so that x.wav and ./x.wav are one input."""
    return os.path.abspath(path)


def _error_text(e: BaseException) -> str:
    if isinstance(e, LongspeechError):
        return str(e)
    return (f"internal error ({type(e).__name__}: {e}); please report it with this trace: "
            f"{''.join(traceback.format_exception(e, limit=3))}")


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
    todo: deque[list[Chunk]] = field(default_factory=deque)   # sequential engine's groups
    questions: list[str] = field(default_factory=list)   # asked about this recording
    answers: dict[str, Answer | None] = field(default_factory=dict)  # by key; None: queued
    answer_keys: list[str] = field(default_factory=list)  # per question
    outputs: list[Path] = field(default_factory=list)
    duration: float | None = None
    speakers: int | None = None     # estimated by diarization, when it ran
    result: FileResult | None = None


class _Scheduler:
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
        self.inflight: dict[int, tuple[_Recording, Any]] = {}

    # -- main loop ------------------------------------------------------------------------
    def run(self) -> None:
        group = self.opts.asr.batch_size
        while self.to_plan or self.ready or self.inflight:
            self._submit_ready()
            # Plan ahead only while little decode work is queued: bounded state in memory.
            while (self.to_plan and len(self.ready) < 4 * group
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
            m.language = old.language
        self.state.save_manifest(m)
        self.state.log("planned", recording=rec.stem, chunks=len(m.chunks),
                       duration=m.recording.duration)
        rec.manifest = m
        self._after_plan(rec)

    def _after_plan(self, rec: _Recording) -> None:
        m = rec.manifest
        assert m is not None
        first = m.chunks[0] if m.chunks else None
        rec.pending += 1
        self.ready.appendleft(("asr", rec, LanguageRequest(str(rec.path), first)))
        if self.diarization is not None:
            saved = self.state.load_diarization(rec.stem, self.diarization_key)
            if saved is not None:
                rec.diarization = Diarization(*saved)
                self.state.log("diarization_reused", recording=rec.stem)
            else:
                rec.pending += 1
                self.ready.append(("diarize", rec, DiarizeRequest(str(rec.path))))
        self.progress(Progress(rec.stem, 0.0, m.recording.duration))

    def _language(self, rec: _Recording, res: LanguageResult) -> None:
        m = rec.manifest
        assert m is not None
        rec.pending -= 1
        rec.provenance = res.provenance
        if m.language is None:
            m.language = res.language
            self.state.save_manifest(m)
        done = self.state.valid_chunks(rec.stem, self.state.done_chunks(rec.stem)
                                       & set(range(len(m.chunks))))
        rec.resumed = rec.chunks_done = len(done)
        if rec.resumed:
            self.state.log("chunks_resumed", recording=rec.stem,
                           chunks=sorted(done)[:1000], count=rec.resumed)
        size = self.opts.asr.batch_size
        groups = [m.chunks[g:g + size] for g in range(0, len(m.chunks), size)]
        todo = [g for g in groups if not all(c.index in done for c in g)]
        if self.sequential:
            rec.todo = deque(todo)      # in order, each with the text before it
            if rec.todo:
                self._next_group(rec)
        else:
            for chunks in todo:
                rec.pending += 1
                self.ready.append(("asr", rec, ChunkGroup(str(rec.path), chunks, m.language)))
        self._report(rec)
        if rec.pending == 0:
            self._finish(rec)

    def _next_group(self, rec: _Recording) -> None:
        """Queue a sequential engine's next group, with the saved text of every chunk before
        it (a resumed job reads it back, so it decodes as an uninterrupted one would)."""
        m = rec.manifest
        assert m is not None
        chunks = rec.todo.popleft()
        context = tuple(chunk_text(self.state.load_chunk(rec.stem, c.index))
                        for c in m.chunks[:chunks[0].index])
        rec.pending += 1
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
        rec.chunks_done += len(res.chunks)
        if rec.todo:
            self._next_group(rec)
        self._report(rec)
        if rec.pending == 0:
            self._finish(rec)

    def _diarized(self, rec: _Recording, res: Diarization) -> None:
        self.state.save_diarization(rec.stem, self.diarization_key, res.turns, res.provenance)
        self.state.log("diarized", recording=rec.stem, turns=len(res.turns))
        rec.diarization = res
        rec.pending -= 1
        if rec.pending == 0:
            self._finish(rec)

    def _report(self, rec: _Recording) -> None:
        m = rec.manifest
        assert m is not None
        frac = rec.chunks_done / len(m.chunks) if m.chunks else 1.0
        self.progress(Progress(rec.stem, m.recording.duration * frac, m.recording.duration))

    def _finish(self, rec: _Recording) -> None:
        """All chunks (and the diarization) are in: assemble, then correct or write."""
        try:
            tr = self._assemble(rec)
        except Exception as e:
            self._fail(rec, e)
            return
        if self.correction is None:
            self._write(rec, tr)
            return
        text = tr.to_json(indent=None)
        key = fingerprint({"options": asdict(self.correction), "input": text})
        saved = self.state.load_correction(rec.stem, key)
        if saved is not None:
            self.state.log("correction_reused", recording=rec.stem)
            self._write(rec, saved)
            return
        rec.correction_key = key
        rec.pending += 1
        self.ready.append(("correct", rec, CorrectRequest(str(rec.path), text)))

    def _assemble(self, rec: _Recording) -> Transcript:
        m = rec.manifest
        assert m is not None
        segments = [s for c in m.chunks for s in self.state.load_chunk(rec.stem, c.index)]
        tr = Transcript(recording=m.recording, language=m.language or "und",
                        segments=segments,
                        provenance=provenance(rec.provenance, self.opts, segments))
        if rec.diarization is not None:
            from ..diarization import attribute_speakers, turns_to_annotation

            tr = attribute_speakers(tr, turns_to_annotation(rec.diarization.turns),
                                    diarizer=rec.diarization.provenance)
        return tr

    def _corrected(self, rec: _Recording, tr: Transcript) -> None:
        rec.pending -= 1
        self.state.save_correction(rec.stem, rec.correction_key, tr)
        self.state.log("corrected", recording=rec.stem,
                       edits=len(tr.provenance.get("corrections", [])))
        self._write(rec, tr)

    def _write(self, rec: _Recording, tr: Transcript) -> None:
        try:
            rec.outputs = write_outputs(tr, self.out, rec.stem, self.formats,
                                        self.opts.subtitles)
            if self.report:
                rec.outputs += self._write_report(tr, rec)
        except Exception as e:
            self._fail(rec, e)
            return
        rec.duration = tr.duration
        rec.speakers = len(tr.speakers) if rec.diarization is not None else None
        if self.library is not None:
            self.library.add(rec.stem)
        if self.ask is not None:
            text = tr.to_json(indent=None)
            self._ask(rec, text, text)
        else:
            self._done(rec)

    # -- questions --------------------------------------------------------------------------
    def _ask(self, rec: _Recording, source: str, transcript: str | None) -> None:
        """Queue every question about the recording whose answer is not saved yet. source:
        what the answers read (the transcript, or the audio's sha256), part of their key;
        transcript: the transcript JSON the cascade reads (None for the speech LM)."""
        assert self.ask is not None
        settings = answer_settings(self.ask)
        for question in rec.questions:
            key = fingerprint({"question": question, "settings": settings, "source": source})
            rec.answer_keys.append(key)
            if key in rec.answers:
                continue
            saved = self.state.load_answer(rec.stem, key)
            if saved is not None:
                rec.answers[key] = saved
                self.state.log("answer_reused", recording=rec.stem, key=key)
                continue
            rec.answers[key] = None       # queued once, however often it is asked
            rec.pending += 1
            self.ready.append(("answer", rec, AnswerRequest(str(rec.path), question,
                                                            transcript, key)))
        if rec.pending == 0:
            self._done(rec)

    def _answered(self, rec: _Recording, key: str, answer: Answer) -> None:
        rec.pending -= 1
        rec.answers[key] = answer
        self.state.save_answer(rec.stem, key, answer)
        self.state.log("answered", recording=rec.stem, key=key, seconds=round(answer.seconds, 3))
        if rec.pending == 0:
            self._done(rec)

    def _done(self, rec: _Recording) -> None:
        m = rec.manifest
        chunks = len(m.chunks) if m is not None else 0
        elapsed = time.perf_counter() - rec.t0
        duration = rec.duration
        # Speed over the audio this run decoded: chunks an earlier run finished do not count.
        work = (duration or 0.0) * ((chunks - rec.resumed) / chunks if chunks else 1.0)
        rec.result = FileResult(str(rec.path), "ok", rec.stem, [str(p) for p in rec.outputs],
                                None, duration, round(elapsed, 3),
                                round(work / elapsed, 2) if work > 0 and elapsed > 0 else None,
                                chunks, rec.resumed, rec.speakers)
        self.state.log("recording_done", recording=rec.stem, chunks=chunks,
                       resumed=rec.resumed)
        if self.on_file:
            self.on_file(rec.result)

    def _write_report(self, tr: Transcript, rec: _Recording) -> list[Path]:
        from ..report import talk_time_chart, write_report

        return [write_report(tr, self.out / f"{rec.stem}.html", rec.path),
                talk_time_chart(tr, self.out / f"{rec.stem}.talk_time.png")]

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
                           if interrupted else _error_text(stopped)))
            if rec.result is not None:
                out.append(rec.result)
        return out

    def _fail(self, rec: _Recording, e: BaseException) -> None:
        rec.result = FileResult(str(rec.path), "failed", rec.stem, error=_error_text(e),
                                elapsed=round(time.perf_counter() - rec.t0, 3))
        self.ready = deque(r for r in self.ready if r[1] is not rec)
        self.state.log("recording_failed", recording=rec.stem, error=rec.result.error)
        if self.on_file:
            self.on_file(rec.result)


def run_job(paths: Sequence[Path], out_dir: str | Path, opts: TranscribeOptions,
            formats: Sequence[str] = ("json",), progress: ProgressCallback = no_progress,
            on_file: Callable[[FileResult], None] | None = None, *,
            runner: Runner | None = None, engine: Engine | None = None,
            resume: bool = True, report: bool = False,
            diarization: Any = None, correction: Any = None,
            on_segments: Callable[[str, list[Segment]], None] | None = None) -> JobSummary:
    """Transcribe each path into out_dir; a bad file records its error and the job goes on.

    runner: LocalRunner (default) or RayRunner. engine: an already loaded engine for the
    LocalRunner. resume: reuse the finished chunks a previous run of the same job left in
    out_dir (otherwise its state is cleared). report: also write <stem>.html and a
    talk-time chart per recording. diarization: DiarizationOptions to label speakers.
    correction: CorrectionOptions for LLM error correction, each edit checked on the audio.
    on_segments: called with a recording's stem and its segments as each group is decoded.
    """
    return run_stages(paths, out_dir, opts, formats, progress, on_file, runner=runner,
                      engine=engine, resume=resume, report=report, diarization=diarization,
                      correction=correction, on_segments=on_segments, library=True)[0]


def _stage_specs(opts: TranscribeOptions, engine: Engine | None, diarization: Any,
                 correction: Any, ask: AskConfig | None) -> dict[str, StageSpec]:
    """The stages a job needs: the speech LM reads encoder states and needs no transcript."""
    specs: dict[str, StageSpec] = {}
    if ask is None or ask.needs_transcript:
        specs["plan"] = StageSpec(PlanStage, opts)
        specs["asr"] = StageSpec(AsrStage, opts, instance=(
            AsrStage(opts, engine) if engine is not None else None))
        if diarization is not None:
            specs["diarize"] = StageSpec(DiarizeStage, diarization)
        if correction is not None:
            specs["correct"] = StageSpec(CorrectStage, correction)
    if ask is not None:
        if not ask.needs_transcript:
            specs["encode"] = StageSpec(EncodeStage, ask)
        specs["answer"] = StageSpec(AnswerStage, ask)
    return specs


def run_stages(paths: Sequence[Path], out_dir: str | Path, opts: TranscribeOptions,
               formats: Sequence[str], progress: ProgressCallback,
               on_file: Callable[[FileResult], None] | None, *, runner: Runner | None,
               engine: Engine | None = None, resume: bool = True, report: bool = False,
               diarization: Any = None, correction: Any = None,
               ask: AskConfig | None = None, questions: Sequence[Sequence[str]] = (),
               on_segments: Callable[[str, list[Segment]], None] | None = None,
               library: bool = False) -> tuple[JobSummary, _Scheduler]:
    """Run the stages every input needs through the one scheduler: transcription (with
    diarization and correction when given), and with `ask`, the answers to `questions`
    (per input) as well; library: add each transcript to OUT/library.sqlite. Returns the
    summary and the scheduler's view of each recording."""
    out = Path(out_dir)
    paths = list(dict.fromkeys(paths))     # an input named twice is one recording
    t0 = time.perf_counter()
    settings = job_settings(opts)
    if ask is not None:
        settings["ask"] = answer_settings(ask)
    state = JobState(out, settings, resume=resume)
    runner = runner or LocalRunner()
    sched = _Scheduler(paths, out, opts, formats, runner, state, progress, on_file, report,
                       diarization, correction, ask, questions, on_segments, library)
    state.log("job_started", runner=runner.name, inputs=len(paths))
    stopped: BaseException | None = None
    try:
        runner.start(_stage_specs(opts, engine, diarization, correction, ask), progress)
        sched.run()
    except BaseException as e:        # Ctrl-C or a stage that cannot start: still summarise
        stopped = e
        raise
    finally:
        runner.close()
        if sched.library is not None:
            sched.library.finish()
        summary = JobSummary(sched.results(stopped), runner.name,
                             round(time.perf_counter() - t0, 3), list(state.notes))
        state.log("job_finished", ok=len(summary.files) - len(summary.failed),
                  failed=len(summary.failed), stopped=type(stopped).__name__ if stopped else None)
        state.close()
        atomic_write_text(out / f"{SUMMARY_STEM}.json",
                          json.dumps(summary.to_dict(), indent=2) + "\n")
    return summary, sched
