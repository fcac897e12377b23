"""A batch job: every input transcribed into OUT_DIR, each failure confined to its file."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..asr import Engine
from ..errors import LongspeechError
from ..outputs import write_outputs
from ..outputs.writers import atomic_write_text
from .progress import ProgressCallback, no_progress
from .transcribe import TranscribeOptions, transcribe_file

SUMMARY_STEM = "job_summary"


@dataclass
class FileResult:
    input: str
    status: str                     # "ok" or "failed"
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    duration: float | None = None   # audio seconds
    elapsed: float = 0.0            # wall seconds
    realtime_factor: float | None = None  # audio seconds per wall second


@dataclass
class JobSummary:
    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status != "ok"]

    def to_dict(self) -> dict:
        return {"files": [asdict(f) for f in self.files],
                "ok": len(self.files) - len(self.failed), "failed": len(self.failed)}


def output_stem(path: Path, taken: set[str]) -> str:
    """The file's stem, made unique within the job (a.wav and a.mp3 -> a, a.mp3)."""
    stem = path.stem or "audio"
    if stem in taken:
        stem = path.name
    base, n = stem, 1
    while stem in taken:
        n += 1
        stem = f"{base}-{n}"
    taken.add(stem)
    return stem


def run_job(paths: Sequence[Path], out_dir: str | Path, engine: Engine,
            opts: TranscribeOptions, formats: Sequence[str] = ("json",),
            progress: ProgressCallback = no_progress,
            on_file: Callable[[FileResult], None] | None = None) -> JobSummary:
    """Transcribe each path; a bad file records its error and the job goes on."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = JobSummary()
    taken: set[str] = {SUMMARY_STEM}
    for path in paths:
        stem = output_stem(path, taken)
        t0 = time.perf_counter()
        try:
            tr = transcribe_file(path, engine, opts, progress)
            written = write_outputs(tr, out, stem, formats)
            elapsed = time.perf_counter() - t0
            res = FileResult(str(path), "ok", [str(p) for p in written], None,
                             tr.duration, round(elapsed, 3),
                             round(tr.duration / elapsed, 2) if elapsed > 0 else None)
        except LongspeechError as e:
            res = FileResult(str(path), "failed", error=str(e),
                             elapsed=round(time.perf_counter() - t0, 3))
        except Exception as e:  # an unexpected failure still must not sink the batch
            res = FileResult(str(path), "failed",
                             error=f"internal error ({type(e).__name__}: {e}); please report "
                                   f"it with this trace: {traceback.format_exc(limit=3)}",
                             elapsed=round(time.perf_counter() - t0, 3))
        summary.files.append(res)
        if on_file:
            on_file(res)
    atomic_write_text(out / f"{SUMMARY_STEM}.json", json.dumps(summary.to_dict(), indent=2) + "\n")
    return summary
