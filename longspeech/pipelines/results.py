"""What a job tells its user: each input's result and the job's summary (job_summary.json)."""

from __future__ import annotations

import traceback
from dataclasses import asdict, dataclass, field

from ..errors import LongspeechError


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


def error_text(e: BaseException) -> str:
    """One line for a failure the user can act on; an internal error keeps its short trace."""
    if isinstance(e, LongspeechError):
        return str(e)
    return (f"internal error ({type(e).__name__}: {e}); please report it with this trace: "
            f"{''.join(traceback.format_exception(e, limit=3))}")
