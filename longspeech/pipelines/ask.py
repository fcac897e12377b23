"""ask(): answer a question about a recording, by the speech-language model or the cascade.

    ask("talk.wav", "Who bought the bicycle?")                      # transcript -> LLM
    ask("talk.wav", "Who bought the bicycle?", mode="lslm")         # speech LM, L = 750
    ask_batch([{"path": "a.wav", "question": "..."}], "out")         # a job: OUT/answers.json
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import SAMPLE_RATE, probe
from ..errors import InputFileError, InvalidOptionError, LongspeechError
from ..progress import ProgressCallback, no_progress
from ..files import atomic_write_text
from ..qa.answer import Answer, AskOptions, AudioInput, Mode, answer_cascade, answer_lslm
from ..types import Transcript, load_transcript
from .answer_stages import MODES, AskConfig
from .job import run_stages
from .results import FileResult, JobSummary
from .runners import Runner
from .transcribe import TranscribeOptions, make_options, transcribe


def _transcript_of(audio: AudioInput, opts: AskOptions) -> Transcript:
    if not isinstance(audio, np.ndarray):
        return transcribe(audio, **opts.asr)
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="longspeech-ask-") as d:
        path = Path(d) / "audio.wav"
        sf.write(path, np.asarray(audio, np.float32), SAMPLE_RATE)
        return transcribe(path, **opts.asr)




def ask(audio: AudioInput | None, question: str, mode: Mode = "cascade", window: int = 750, *,
        transcript: Transcript | str | os.PathLike | None = None,
        options: AskOptions | None = None) -> Answer:
    """Answer `question` about a recording (a path, or float32 16 kHz mono samples).

    mode "lslm": the speech-language model reads the recording compressed to `window` speech
    vectors. mode "cascade": the LLM reads a transcript: `transcript` (a Transcript, a
    transcript JSON path, or plain text) or, without one, a transcription of the audio.
    """
    opts = options or AskOptions()
    if not question.strip():
        raise InvalidOptionError("the question is empty")
    if mode not in MODES:
        raise InvalidOptionError(f"unknown mode {mode!r}; choose lslm or cascade")
    # Inputs are checked before any model loads: a bad file costs no model loading.
    if isinstance(transcript, os.PathLike) or (isinstance(transcript, str)
                                               and Path(transcript).suffix == ".json"):
        transcript = load_transcript(transcript)
    if audio is not None and not isinstance(audio, np.ndarray) and (
            mode == "lslm" or transcript is None):
        probe(audio, checksum=False)
    if mode == "lslm":
        if audio is None:
            raise InvalidOptionError("lslm mode needs the audio")
        if window < 1:
            raise InvalidOptionError(f"window must be at least 1 speech vector, got {window}")
        answer = answer_lslm(audio, question, window, opts)
    else:
        if transcript is None:
            if audio is None:
                raise InvalidOptionError("cascade needs audio or a transcript")
            transcript = _transcript_of(audio, opts)
        answer = answer_cascade(transcript, question, opts)
    if audio is not None and not isinstance(audio, np.ndarray):
        answer = replace(answer, path=str(audio))
    return answer


ANSWERS_FILE = "answers.json"


def run_ask_job(items: Sequence[dict[str, Any]], out_dir: str | Path, ask: AskConfig,
                opts: TranscribeOptions | None = None, progress: ProgressCallback = no_progress,
                on_file: Callable[[FileResult], None] | None = None, *,
                runner: Runner | None = None, resume: bool = True,
                diarization: Any = None) -> tuple[JobSummary, list[dict[str, Any]]]:
    """Answer every {"path", "question", ...} item; write OUT/answers.json in input order.

    Each recording is transcribed (cascade) or encoded (speech LM) once for all of its
    questions; answers are saved as they come, so a resumed job answers only what is left.
    An item whose recording failed gets "answer": null and the recording's "error". Returns
    the summary and one row per item, in input order.
    """
    paths: list[Path] = []
    index: dict[str, int] = {}
    for it in items:
        if it["path"] not in index:
            index[it["path"]] = len(paths)
            paths.append(Path(it["path"]))
    questions: list[list[str]] = [[] for _ in paths]
    for it in items:
        questions[index[it["path"]]].append(it["question"])
    summary, sched = run_stages(paths, out_dir, opts or TranscribeOptions(), ("json",), progress,
                          on_file, runner=runner, resume=resume, diarization=diarization,
                          ask=ask, questions=questions)
    rows = []
    seen: dict[int, int] = {}
    for it in items:
        rec = sched.recs[index[it["path"]]]
        n = seen.get(rec.index, 0)
        seen[rec.index] = n + 1
        answer = rec.answers.get(rec.answer_keys[n]) if n < len(rec.answer_keys) else None
        row = {**it, "answer": answer.text if answer else None, "mode": ask.mode,
               "evidence": [asdict(e) for e in answer.evidence] if answer else [],
               "supported": answer.supported if answer else None,
               "model": answer.model if answer else None}
        if ask.mode == "lslm":
            row.update(window=ask.window, speech_tokens=answer.speech_tokens if answer else None)
        if answer is None:
            row["error"] = (rec.result.error if rec.result is not None and rec.result.error
                            else "not answered")
        rows.append(row)
    return summary, rows


def library_rows(items: Sequence[dict[str, Any]], options: AskOptions) -> list[dict[str, Any]]:
    """Answers to items whose "path" is a job's output directory, across its recordings
    (the library); an unreadable library is that item's "error"."""
    from ..library import Library

    libraries: dict[str, Library | LongspeechError] = {}
    rows = []
    for it in items:
        if it["path"] not in libraries:
            try:
                libraries[it["path"]] = Library(it["path"], options)
            except LongspeechError as e:
                libraries[it["path"]] = e
        lib = libraries[it["path"]]
        try:
            if isinstance(lib, LongspeechError):
                raise lib
            a = lib.ask(it["question"])
            rows.append({**it, "answer": a.text, "mode": "library",
                         "evidence": [h.to_dict() for h in a.evidence],
                         "recordings": a.recordings, "count": a.count,
                         "supported": a.supported, "model": a.model})
        except LongspeechError as e:
            rows.append({**it, "answer": None, "mode": "library", "evidence": [],
                         "error": str(e)})
    for lib in libraries.values():
        if not isinstance(lib, LongspeechError):
            lib.close()
    return rows


def read_items(items: Sequence[dict[str, str]] | str | os.PathLike) -> list[dict[str, str]]:
    """LongSpeech-Eval input: a JSON list of {"path", "question"} (or that list itself).
    Relative paths are taken from the JSON file's folder."""
    if isinstance(items, (str, os.PathLike)):
        src = Path(items)
        try:
            data = json.loads(src.read_text(encoding="utf-8"))
        except OSError as e:
            raise InputFileError(f"cannot read {src}: {e.strerror or e}") from None
        except ValueError as e:
            raise InputFileError(f"{src} is not valid JSON ({e}): give a JSON list of "
                                     '{"path": ..., "question": ...} objects') from None
        base = src.parent
    else:
        data, base = list(items), None
    if not isinstance(data, list):
        raise InputFileError("LongSpeech-Eval input must be a JSON list of "
                                 '{"path": ..., "question": ...} objects')
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "path" not in item or "question" not in item:
            raise InputFileError(f"item {i} needs a 'path' and a 'question'")
        if not isinstance(item["path"], str) or not isinstance(item["question"], str) \
                or not item["question"].strip():
            raise InputFileError(f"item {i}: 'path' and 'question' must be non-empty text")
        path = Path(item["path"])
        if base is not None and not path.is_absolute():
            path = base / path
        out.append({**item, "path": str(path)})
    return out


def ask_batch(items: Sequence[dict[str, Any]] | str | os.PathLike, out_dir: str | os.PathLike,
              mode: Mode = "cascade", window: int = 750, *, options: AskOptions | None = None,
              runner: Runner | None = None, resume: bool = True,
              progress: ProgressCallback = no_progress,
              on_file: Callable[[FileResult], None] | None = None
              ) -> tuple[JobSummary, list[dict[str, Any]]]:
    """Answer every {"path", "question", ...} item (LongSpeech-Eval format) as a job into
    out_dir: OUT/answers.json lists them in input order with "answer", "mode" and "evidence"
    (other fields carried through), beside job_summary.json and resumable job state. An item
    whose "path" is a job's output directory is answered across its recordings (mode
    "library")."""
    if mode not in MODES:
        raise InvalidOptionError(f"unknown mode {mode!r}; choose {' or '.join(MODES)}")
    if window < 1:
        raise InvalidOptionError(f"window must be at least 1 speech vector, got {window}")
    opts = options or AskOptions()
    items = read_items(items)
    on_disk = [i for i, it in enumerate(items) if Path(it["path"]).is_dir()]
    recordings = [it for i, it in enumerate(items) if i not in set(on_disk)]
    summary, rows = JobSummary(), []
    if recordings or not on_disk:
        transcribe_opts = make_options(**opts.asr) if mode == "cascade" else None
        summary, rows = run_ask_job(recordings, out_dir, AskConfig(mode, window, opts),
                                    transcribe_opts, progress, on_file, runner=runner,
                                    resume=resume)
    if on_disk:        # items about a whole job's output: answered from its library
        answered = iter(library_rows([items[i] for i in on_disk], opts))
        job_rows = iter(rows)
        rows = [next(answered) if i in set(on_disk) else next(job_rows)
                for i in range(len(items))]
    atomic_write_text(Path(out_dir) / ANSWERS_FILE,
                      json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    return summary, rows
