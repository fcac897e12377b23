"""`longspeech eval blab`: answer BLAB questions with a system, score them the official way,
and write results JSON and an HTML report.

The heavy part of the `pipeline` system (transcription and diarization of every recording)
is a transcription job: it runs on the Ray runner when asked (decoding actors take a GPU each
where the cluster has GPUs) and resumes like any job. Answering from transcripts takes
milliseconds per question and runs in the driver. Predictions are written in the official
{audio, prediction, prompt} format, so the official scorer can check ours.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidOptionError
from ..files import atomic_write_text
from ..progress import ProgressCallback, no_progress
from ..types import Transcript, load_transcript
from .blab import TASKS, headline, prediction_prompt, read_predictions, score, write_predictions

SYSTEMS = ("pipeline", "lslm", "predictions:FILE")
@dataclass
class BlabRunOptions:
    tasks: Sequence[str] = TASKS
    system: str = "pipeline"
    offset: int = 2                      # duration tasks: tolerance of the +-N s accuracy
    runner: Any = None                   # a pipelines runner for the transcription job
    diarize: bool = True
    on_file: Callable[[Any], None] | None = None

    def validate(self) -> None:
        bad = sorted(set(self.tasks) - set(TASKS))
        if bad:
            raise InvalidOptionError(f"unknown BLAB task(s) {', '.join(bad)}; choose from "
                                     f"{', '.join(TASKS)}")
        if not (self.system in ("pipeline", "lslm") or self.system.startswith("predictions:")):
            raise InvalidOptionError(f"unknown system {self.system!r}; choose from "
                                     f"{', '.join(SYSTEMS)}")


@dataclass
class BlabResults:
    system: str
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_item: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)    # audio -> error

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "scores": self.scores, "per_item": self.per_item,
                "failed": self.failed}


def _transcribe_all(audio: list[Path], out: Path, opts: BlabRunOptions,
                    progress: ProgressCallback) -> tuple[dict[str, Transcript], dict[str, str]]:
    from ..diarization import DiarizationOptions
    from ..pipelines.job import run_job
    from ..pipelines.transcribe import TranscribeOptions

    topts = TranscribeOptions()
    topts.asr.device = "auto"
    summary = run_job(audio, out, topts, ("json",), progress, opts.on_file,
                      runner=opts.runner,
                      diarization=DiarizationOptions() if opts.diarize else None)
    transcripts, failed = {}, {}
    for r in summary.files:
        name = Path(r.input).name
        if r.status == "ok":
            json_out = next(p for p in r.outputs if p.endswith(".json"))
            transcripts[name] = load_transcript(json_out)
        else:
            failed[name] = r.error or "failed"
    return transcripts, failed


def pipeline_predictions(items: dict[str, list[dict[str, Any]]],
                         transcripts: dict[str, Transcript]) -> dict[str, list[dict[str, str]]]:
    """Answers of the pipeline system in the official format; recordings without a
    transcript get no prediction (the scorer counts them as misses)."""
    from .blab_answers import answer

    out: dict[str, list[dict[str, str]]] = {}
    for task, task_items in items.items():
        preds = []
        for it in task_items:
            tr = transcripts.get(Path(it["audio"]).name)
            if tr is not None:
                preds.append({"audio": it["audio"],
                              "prompt": prediction_prompt(task, it["question"]),
                              "prediction": answer(task, it["question"], tr)})
        out[task] = preds
    return out


def lslm_predictions(items: dict[str, list[dict[str, Any]]], audio_dir: Path, out: Path,
                     opts: BlabRunOptions, window: int = 750,
                     progress: ProgressCallback = no_progress) -> dict[str, list[dict[str, str]]]:
    """The speech-language model hears each recording compressed to `window` vectors and
    answers the question itself, as the audio LMs of the benchmark do. The questions run as
    an ask job (encoding once per recording, one answer stage item per question) on the
    runner, and resume like any job."""
    from ..pipelines.answer_stages import AskConfig
    from ..pipelines.ask import run_ask_job

    asked = [{"path": str(audio_dir / Path(it["audio"]).name),
              "question": prediction_prompt(task, it["question"]), "task": task,
              "audio": it["audio"]}
             for task, task_items in items.items() for it in task_items]
    _, rows = run_ask_job(asked, out / "lslm", AskConfig("lslm", window), None, progress,
                          opts.on_file, runner=opts.runner)
    preds: dict[str, list[dict[str, str]]] = {task: [] for task in items}
    for row in rows:
        if row["answer"] is not None:
            preds[row["task"]].append({"audio": row["audio"], "prompt": row["question"],
                                       "prediction": row["answer"]})
    return preds


def blab_inputs(tasks: Sequence[str], out_dir: str | Path, *, data: str | Path | None = None,
                audio_dir: str | Path | None = None, synthetic: int = 0, minutes: float = 10.0,
                seed: int = 0, skip_missing: bool = False
                ) -> tuple[dict[str, list[dict[str, Any]]], Path]:
    """The items to answer (task -> official annotation items) and their audio folder: the
    official annotation files in `data` (audio in `audio_dir`, default DATA/audio), or
    `synthetic` BLAB-style recordings of `minutes` made into OUT/data."""
    from .blab import load_blab
    from .blab_synthetic import make_synthetic_blab

    if synthetic:
        files = make_synthetic_blab(Path(out_dir) / "data", synthetic, minutes, seed, tasks)
        ann_dir, audio = files[tasks[0]].parent, Path(out_dir) / "data" / "audio"
    elif data is not None:
        ann_dir, audio = Path(data), Path(audio_dir) if audio_dir else Path(data) / "audio"
    else:
        raise InvalidOptionError("give --data DIR (official annotations) or --synthetic N")
    return load_blab(ann_dir, tasks, audio, skip_missing=skip_missing), audio


def run_blab(items: dict[str, list[dict[str, Any]]], audio_dir: str | Path,
             out_dir: str | Path, opts: BlabRunOptions | None = None,
             progress: ProgressCallback = no_progress) -> BlabResults:
    """Answer and score `items` (task -> official annotation items) into out_dir."""
    opts = opts or BlabRunOptions()
    opts.validate()
    out = Path(out_dir)
    audio_dir = Path(audio_dir)
    results = BlabResults(opts.system)
    if opts.system.startswith("predictions:"):
        given = read_predictions(opts.system.split(":", 1)[1])
        preds = {t: given for t in items}
    elif opts.system == "lslm":
        preds = lslm_predictions(items, audio_dir, out, opts, progress=progress)
    else:
        names = sorted({Path(it["audio"]).name for its in items.values() for it in its})
        paths = [audio_dir / n for n in names]
        transcripts, results.failed = _transcribe_all(paths, out / "transcripts", opts,
                                                      progress)
        preds = pipeline_predictions(items, transcripts)
    for task, task_items in items.items():
        write_predictions(out / "predictions" / f"{task}.json", preds[task])
        results.scores[task] = score(task, task_items, preds[task], offset=opts.offset)
        by_audio = {Path(p["audio"]).name: p for p in preds[task]}
        results.per_item[task] = []
        for it in task_items:
            p = by_audio.get(Path(it["audio"]).name)
            one = score(task, [it], [p] if p else [], offset=opts.offset)
            tr_duration = _duration(audio_dir / Path(it["audio"]).name)
            results.per_item[task].append({"audio": it["audio"], "duration": tr_duration,
                                           "score": headline(task, one)})
    atomic_write_text(out / "results.json", json.dumps(results.to_dict(), indent=1) + "\n")
    from .blab_report import write_blab_report

    write_blab_report(results, out / "report.html")
    return results


def _duration(path: Path) -> float | None:
    from ..audio import probe
    from ..errors import LongspeechError

    try:
        return probe(path, checksum=False).duration
    except LongspeechError:
        return None
