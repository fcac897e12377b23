"""A batch job: every input transcribed into OUT_DIR by a runner, resumable, each failure
confined to its own recording.

The scheduler (scheduler.py) orders the work; this module sets up the stages, the state and
the runner, runs it and writes job_summary.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..asr import Engine
from ..files import atomic_write_text
from ..progress import ProgressCallback, no_progress
from ..types import Segment
from .answer_stages import AnswerStage, AskConfig, EncodeStage, answer_settings
from .results import FileResult, JobSummary
from .runners import LocalRunner, Runner, StageSpec
from .scheduler import Scheduler
from .stages import AsrStage, CorrectStage, DiarizeStage, PlanStage
from .state import JobState
from .transcribe import TranscribeOptions, library_versions, settings

SUMMARY_STEM = "job_summary"



def job_settings(opts: TranscribeOptions) -> dict[str, Any]:
    """What chunk results depend on; a resumed job must have been run with the same."""
    return {**settings(opts), "versions": library_versions()}


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
               library: bool = False) -> tuple[JobSummary, Scheduler]:
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
    sched = Scheduler(paths, out, opts, formats, runner, state, progress, on_file, report,
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
        state.notes += [n for n in runner.notices if n not in state.notes]
        summary = JobSummary(sched.results(stopped), runner.name,
                             round(time.perf_counter() - t0, 3), list(state.notes))
        state.log("job_finished", ok=len(summary.files) - len(summary.failed),
                  failed=len(summary.failed), stopped=type(stopped).__name__ if stopped else None,
                  queue_peak=sched.peak_backlog, models_loaded=sorted(runner.started),
                  placement=runner.placement)
        state.close()
        atomic_write_text(out / f"{SUMMARY_STEM}.json",
                          json.dumps(summary.to_dict(), indent=2) + "\n")
    return summary, sched
