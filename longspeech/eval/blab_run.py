"""`longspeech eval blab`: answer BLAB questions with a system, score them the official way,
and write results JSON and an HTML report.

The `pipeline` system is one ask job: each recording is transcribed and diarized once and
its items are answered from the transcript by answering actors; on a Ray cluster whose GPU
nodes advertise the answering resource (pipelines.ray_runner.ANSWERING_RESOURCE) answering
runs there and decoding anywhere. It resumes like any job. Predictions are written in the
official {audio, prediction, prompt} format, so the official scorer can check ours.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BlabDataError, InvalidOptionError
from ..files import atomic_write_text
from ..progress import ProgressCallback, no_progress
from .blab import (MINI_SECONDS, SCORABLE_TASKS, TASKS, headline, join, prediction_prompt,
                   read_predictions, resolve_audio, score, score_all_items, write_predictions)

SYSTEMS = ("pipeline", "lslm", "predictions:DIR", "predictions:TASK=FILE,...",
           "predictions:FILE")
# What the two numbers per task mean, written beside them in results.json.
SCORING = {
    "official": "compute_task_metrics.py exactly: its inner join drops every item that has "
                "no prediction, so unanswered items do not count",
    "all_items": "every item counted, an unanswered one as a wrong answer; comparable with "
                 "the paper, where every item is asked",
}


@dataclass
class BlabRunOptions:
    tasks: Sequence[str] = TASKS
    system: str = "pipeline"
    offset: int = 2                      # duration tasks: tolerance of the +-N s accuracy
    runner: Any = None                   # a pipelines runner for the transcription job
    diarize: bool = True
    device: str = "auto"                 # where decoding and answering run: auto, cpu, cuda
    model: str = "tiny.en"               # the pipeline system's Whisper model
    on_file: Callable[[Any], None] | None = None

    def validate(self) -> None:
        bad = sorted(set(self.tasks) - set(SCORABLE_TASKS))
        if bad:
            raise InvalidOptionError(f"unknown BLAB task(s) {', '.join(bad)}; choose from "
                                     f"{', '.join(SCORABLE_TASKS)}")
        if not (self.system in ("pipeline", "lslm") or self.system.startswith("predictions:")):
            raise InvalidOptionError(f"unknown system {self.system!r}; choose from "
                                     f"{', '.join(SYSTEMS)}")


@dataclass
class BlabResults:
    system: str
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_item: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)    # audio basename -> error
    notes: list[str] = field(default_factory=list)          # e.g. a GPU torch cannot see

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "scoring": SCORING, "scores": self.scores,
                "per_item": self.per_item, "failed": self.failed, "notes": self.notes}


def pipeline_predictions(items: dict[str, list[dict[str, Any]]], audio: dict[str, Path],
                         out: Path, opts: BlabRunOptions, progress: ProgressCallback = no_progress
                         ) -> tuple[dict[str, list[dict[str, str]]], dict[str, str], list[str]]:
    """Answers of the pipeline system in the official format, the error of each recording
    that could not be transcribed, and the job's notes. One ask job (mode "blab")
    transcribes and diarizes each recording once (decoding actors on any node) and answers
    its items from the transcript (answering actors, on a cluster's answering nodes where it
    has some); it resumes like any job."""
    from ..diarization import DiarizationOptions
    from ..pipelines.answer_stages import AskConfig
    from ..pipelines.ask import run_ask_job
    from ..pipelines.transcribe import TranscribeOptions
    from ..qa.answer import AskOptions
    from ..qa.blab_answers import blab_request

    asked = [{"path": str(audio[Path(it["audio"]).name]), "task": task, "audio": it["audio"],
              "question": blab_request(task, it.get("question", ""), it.get("answer_type", "")),
              "prompt": prediction_prompt(task, it.get("question", ""))}
             for task, task_items in items.items() for it in task_items
             if Path(it["audio"]).name in audio]
    topts = TranscribeOptions()
    topts.asr.device = opts.device
    topts.asr.model = opts.model
    ask = AskConfig("blab", options=AskOptions(device=opts.device))
    summary, rows = run_ask_job(asked, out / "transcripts", ask, topts, progress, opts.on_file,
                                runner=opts.runner,
                                diarization=DiarizationOptions() if opts.diarize else None)
    preds: dict[str, list[dict[str, str]]] = {task: [] for task in items}
    failed: dict[str, str] = {}
    for row in rows:
        if row["answer"] is not None:
            preds[row["task"]].append({"audio": row["audio"], "prompt": row["prompt"],
                                       "prediction": row["answer"]})
        else:
            failed[Path(row["audio"]).name] = row.get("error") or "not answered"
    return preds, failed, summary.notes


def given_predictions(spec: str, tasks: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Official-format predictions per task from `predictions:...`: a folder with one
    <task>.json per task, TASK=FILE pairs, or one file when one task is scored."""
    arg = spec.split(":", 1)[1]
    if "=" in arg:
        files: dict[str, Path] = {}
        for pair in arg.split(","):
            task, _, name = pair.partition("=")
            if task.strip() not in SCORABLE_TASKS or not name.strip():
                raise InvalidOptionError(f"bad predictions pair {pair!r}; write TASK=FILE with "
                                         f"a task of {', '.join(SCORABLE_TASKS)}")
            files[task.strip()] = Path(name.strip())
    elif Path(arg).is_dir():
        files = {t: Path(arg) / f"{t}.json" for t in tasks if (Path(arg) / f"{t}.json").exists()}
    elif len(tasks) == 1:
        files = {tasks[0]: Path(arg)}
    else:
        raise InvalidOptionError(
            f"one predictions file cannot answer {len(tasks)} tasks: give a folder with one "
            "<task>.json per task (predictions:DIR), TASK=FILE pairs "
            "(predictions:word_localization=w.json,...), or choose one task with --tasks")
    lacking = [t for t in tasks if t not in files]
    if lacking:
        raise InvalidOptionError(
            f"no predictions for {', '.join(lacking)} in {arg}; add <task>.json files or "
            "leave those tasks out with --tasks")
    return {t: read_predictions(files[t]) for t in tasks}


def lslm_predictions(items: dict[str, list[dict[str, Any]]], audio: dict[str, Path], out: Path,
                     opts: BlabRunOptions, window: int = 750,
                     progress: ProgressCallback = no_progress
                     ) -> tuple[dict[str, list[dict[str, str]]], list[str]]:
    """The speech-language model hears each recording compressed to `window` vectors and
    answers the question itself, as the audio LMs of the benchmark do. The questions run as
    an ask job (encoding once per recording, one answer stage item per question) on the
    runner, and resume like any job. Returns the answers and the job's notes."""
    from ..pipelines.answer_stages import AskConfig
    from ..pipelines.ask import run_ask_job
    from ..qa.answer import AskOptions

    asked = [{"path": str(audio[Path(it["audio"]).name]),
              "question": prediction_prompt(task, it["question"]), "task": task,
              "audio": it["audio"]}
             for task, task_items in items.items() for it in task_items]
    ask = AskConfig("lslm", window, AskOptions(device=opts.device))
    summary, rows = run_ask_job(asked, out / "lslm", ask, None, progress, opts.on_file,
                                runner=opts.runner)
    preds: dict[str, list[dict[str, str]]] = {task: [] for task in items}
    for row in rows:
        if row["answer"] is not None:
            preds[row["task"]].append({"audio": row["audio"], "prompt": row["question"],
                                       "prediction": row["answer"]})
    return preds, summary.notes


def blab_inputs(tasks: Sequence[str], out_dir: str | Path, *, data: str | Path | None = None,
                audio_dir: str | Path | None = None, synthetic: int = 0, minutes: float = 10.0,
                seed: int = 0, skip_missing: bool = False, mini: bool = False
                ) -> tuple[dict[str, list[dict[str, Any]]], Path]:
    """The items to answer (task -> official annotation items) and their audio folder: the
    official annotation files in `data` (audio in `audio_dir`, default DATA/audio), or
    `synthetic` BLAB-style recordings of `minutes` made into OUT/data.

    skip_missing: items whose audio is absent are kept, go unanswered and are counted as
    wrong in the all-items score (without it, absent audio is an error). mini: only the
    items on recordings shorter than 30 s (BLAB-MINI)."""
    from .blab import load_blab
    from .blab_synthetic import make_synthetic_blab

    if synthetic:
        files = make_synthetic_blab(Path(out_dir) / "data", synthetic, minutes, seed, tasks)
        ann_dir, audio = files[tasks[0]].parent, Path(out_dir) / "data" / "audio"
    elif data is not None:
        ann_dir, audio = Path(data), Path(audio_dir) if audio_dir else Path(data) / "audio"
    else:
        raise InvalidOptionError("give --data DIR (official annotations) or --synthetic N")
    if skip_missing and not audio.is_dir():
        raise BlabDataError(f"audio directory {audio} does not exist; give the folder holding "
                            "the downloaded recordings (--audio-dir)")
    items = load_blab(ann_dir, tasks, None if skip_missing else audio)
    return (mini_items(items, audio) if mini else items), audio


def _durations(audio: dict[str, Path]) -> dict[str, float | None]:
    from ..audio import probe
    from ..errors import LongspeechError

    out: dict[str, float | None] = {}
    for base, path in audio.items():
        try:
            out[base] = probe(path, checksum=False).duration
        except LongspeechError:
            out[base] = None
    return out


def mini_items(items: dict[str, list[dict[str, Any]]], audio_dir: str | Path,
               max_seconds: float = MINI_SECONDS) -> dict[str, list[dict[str, Any]]]:
    """The BLAB-MINI selection: only items whose recording is shorter than max_seconds."""
    audio, _ = resolve_audio([it for its in items.values() for it in its], audio_dir)
    durations = _durations(audio)
    short = {b for b, d in durations.items() if d is not None and d < max_seconds}
    kept = {t: [it for it in its if Path(it["audio"]).name in short] for t, its in items.items()}
    if not any(kept.values()):
        raise BlabDataError(f"no recording in {audio_dir} is shorter than {max_seconds:g} s; "
                            "BLAB-MINI needs the short clips")
    return kept


def run_blab(items: dict[str, list[dict[str, Any]]], audio_dir: str | Path,
             out_dir: str | Path, opts: BlabRunOptions | None = None,
             progress: ProgressCallback = no_progress) -> BlabResults:
    """Answer and score `items` (task -> official annotation items) into out_dir. Each
    task gets two scores (see SCORING): the official script's and one with every item
    counted; per-item rows are keyed by (audio, question)."""
    opts = opts or BlabRunOptions()
    opts.validate()
    out = Path(out_dir)
    everything = [it for its in items.values() for it in its]
    # One resolver for loading, answering and reporting: an item's audio is found by
    # basename, or by stem with another audio extension.
    audio, missing = resolve_audio(everything, audio_dir)
    results = BlabResults(opts.system)
    results.failed.update({m: "no audio file (download it from the item's video_url)"
                           for m in missing})
    if opts.system.startswith("predictions:"):
        preds = given_predictions(opts.system, list(items))
    elif opts.system == "lslm":
        asked = {t: [it for it in its if Path(it["audio"]).name in audio]
                 for t, its in items.items()}
        preds, results.notes = lslm_predictions(asked, audio, out, opts, progress=progress)
    else:
        preds, failed, results.notes = pipeline_predictions(items, audio, out, opts, progress)
        results.failed.update(failed)
    durations = _durations(audio)
    for task, task_items in items.items():
        write_predictions(out / "predictions" / f"{task}.json", preds[task])
        rows = [{"audio": it["audio"], "question": it.get("question", ""),
                 "duration": durations.get(Path(it["audio"]).name),
                 "answered": bool(join(task, [it], preds[task])),
                 "score": headline(task, score_all_items(task, [it], preds[task],
                                                         offset=opts.offset))}
                for it in task_items]
        results.per_item[task] = rows
        results.scores[task] = {
            "official": score(task, task_items, preds[task], offset=opts.offset),
            "all_items": score_all_items(task, task_items, preds[task], offset=opts.offset),
            "items": len(task_items), "answered": sum(r["answered"] for r in rows)}
    atomic_write_text(out / "results.json", json.dumps(results.to_dict(), indent=1) + "\n")
    from .blab_report import write_blab_report

    write_blab_report(results, out / "report.html")
    return results
