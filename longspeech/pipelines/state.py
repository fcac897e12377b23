"""Job state in the output directory, so that a crashed or killed job resumes where it stopped.

    OUT/.longspeech/job.json                         what the job's results depend on
    OUT/.longspeech/job.log                          one JSON line per event
    OUT/.longspeech/recordings/<stem>/manifest.json  the recording, its chunk plan, language
    OUT/.longspeech/recordings/<stem>/chunks/NNNNNN.json   one decoded chunk
    OUT/.longspeech/recordings/<stem>/diarization.json     speaker turns
    OUT/.longspeech/recordings/<stem>/correction.json      the LLM-corrected transcript
    OUT/.longspeech/recordings/<stem>/answers/<key>.json   one answered question

Every file is written atomically (temp file + rename): after a crash each one is either
whole or absent, so a restarted job trusts what it finds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidOptionError
from ..files import atomic_write_text
from .names import safe_stem
from ..qa.answer import Answer
from ..qa.evidence import Evidence
from ..types import Chunk, Recording, Segment, SpeakerTurn, Transcript, Word

STATE_DIR = ".longspeech"
# Beside the state directory, so that --no-resume, which deletes it, keeps the lock.
LOCK_FILE = ".longspeech.lock"
OWNER_FILE = ".longspeech.owner.json"
STATE_VERSION = 1


def _lock(out: Path) -> Any:
    """OUT's exclusive lock, or an error naming the job that holds it."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(out / LOCK_FILE))
    owner = out / OWNER_FILE
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            who = json.loads(owner.read_text(encoding="utf-8"))
            what = f" (pid {who['pid']}, started {who['started']})"
        except (OSError, ValueError, KeyError, TypeError):
            what = ""
        raise InvalidOptionError(f"{out} is in use by another running job{what}: wait for it "
                                 "to finish, or choose another output directory") from None
    atomic_write_text(owner, json.dumps({"pid": os.getpid(), "started": time.strftime(
        "%Y-%m-%d %H:%M:%S")}) + "\n")
    return lock


def fingerprint(settings: dict[str, Any]) -> str:
    """A short hash of everything the chunk results depend on (options, model, versions)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Manifest:
    input: str
    stem: str
    recording: Recording
    chunks: list[Chunk]
    language: str | None = None
    # The input's size and mtime when planned: an unchanged file is not hashed again.
    size: int = 0
    mtime_ns: int = 0
    # The engine's provenance, for the transcript: a resumed job need not load the engine.
    engine: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "stem": self.stem, "recording": asdict(self.recording),
                "chunks": [[c.start, c.end] for c in self.chunks], "language": self.language,
                "size": self.size, "mtime_ns": self.mtime_ns, "engine": self.engine}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        rec = Recording(**d["recording"])
        chunks = [Chunk(rec.id, i, s, e) for i, (s, e) in enumerate(d["chunks"])]
        return cls(d["input"], d["stem"], rec, chunks, d.get("language"),
                   d.get("size", 0), d.get("mtime_ns", 0), d.get("engine"))


def segments_to_json(segments: list[Segment]) -> str:
    return json.dumps([asdict(s) for s in segments], ensure_ascii=False)


def segments_from_json(text: str) -> list[Segment]:
    return [Segment(**{**s, "words": [Word(**w) for w in s["words"]]}) for s in json.loads(text)]


class JobState:
    """Reads and writes one job's state directory, holding OUT's lock while the job runs:
    two jobs never write one output directory at once."""

    def __init__(self, out_dir: Path, settings: dict[str, Any], resume: bool = True):
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InvalidOptionError(f"cannot create the output directory {out}: "
                                     f"{e.strerror or e}; choose another with -o") from None
        self.root = out / STATE_DIR
        self.notes: list[str] = []      # what the user should know about reused state
        self._lock = _lock(out)
        self._owner = out / OWNER_FILE
        try:
            self._open(out, settings, resume)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        self._owner.unlink(missing_ok=True)
        self._lock.release()

    def _open(self, out: Path, settings: dict[str, Any], resume: bool) -> None:
        self.fingerprint = fingerprint(settings)
        job_file = self.root / "job.json"
        if resume and self.root.exists():
            try:
                old = json.loads(job_file.read_text(encoding="utf-8"))
                if not isinstance(old, dict) or not isinstance(old.get("fingerprint"), str):
                    raise ValueError("no fingerprint")
            except (OSError, ValueError) as e:
                reason = "is missing" if isinstance(e, FileNotFoundError) else "is unreadable"
                self.notes.append(f"{job_file} {reason}: the finished work in {out} cannot be "
                                  "checked against this job's options, so none of it is reused")
                resume = False
            else:
                if old["fingerprint"] != self.fingerprint:
                    raise InvalidOptionError(
                        f"{out} holds a job run with other options or models. Choose: the "
                        "same command as before resumes it; --no-resume starts over in "
                        f"{out} (its finished work is dropped); or -o another directory "
                        "keeps both")
        if not resume and self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(job_file, json.dumps(
            {"version": STATE_VERSION, "fingerprint": self.fingerprint,
             "settings": settings}, indent=2, sort_keys=True, default=str) + "\n")
        self._log = open(self.root / "job.log", "a", encoding="utf-8")

    # -- log ------------------------------------------------------------------------------
    def log(self, event: str, **fields: Any) -> None:
        rec = {"time": round(time.time(), 3), "pid": os.getpid(), "event": event, **fields}
        self._log.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self._log.flush()

    def close(self) -> None:
        self._log.close()
        self._release()

    # -- per recording --------------------------------------------------------------------
    def _dir(self, stem: str) -> Path:
        if stem != safe_stem(stem):         # stems are plain names: state stays inside OUT
            raise InvalidOptionError(f"{stem!r} is not a plain file name")
        return self.root / "recordings" / stem

    def load_manifest(self, stem: str) -> Manifest | None:
        """The saved plan of `stem`, or None when there is none or it does not hold up (not
        JSON, wrong fields, or a plan saved for another stem)."""
        path = self._dir(stem) / "manifest.json"
        try:
            m = Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.log("state_unreadable", recording=stem, file=str(path))
            return None
        if m.stem != stem:
            self.log("state_unreadable", recording=stem, file=str(path))
            return None
        return m

    def save_manifest(self, m: Manifest) -> None:
        atomic_write_text(self._dir(m.stem) / "manifest.json",
                          json.dumps(m.to_dict(), ensure_ascii=False, indent=1) + "\n")

    def forget(self, stem: str) -> None:
        """Drop a recording's state (its input changed since it was planned)."""
        shutil.rmtree(self._dir(stem), ignore_errors=True)

    def _chunk_path(self, stem: str, index: int) -> Path:
        return self._dir(stem) / "chunks" / f"{index:06d}.json"

    def done_chunks(self, stem: str) -> set[int]:
        d = self._dir(stem) / "chunks"
        if not d.is_dir():
            return set()
        return {int(p.stem) for p in d.glob("*.json") if p.stem.isdigit()}

    def save_chunk(self, stem: str, index: int, segments: list[Segment]) -> None:
        atomic_write_text(self._chunk_path(stem, index), segments_to_json(segments) + "\n")

    def load_chunk(self, stem: str, index: int) -> list[Segment]:
        return segments_from_json(self._chunk_path(stem, index).read_text(encoding="utf-8"))

    def valid_chunks(self, stem: str, indices: set[int]) -> set[int]:
        """Of the saved chunks in `indices`, those that read back whole; a corrupt one is
        deleted (and logged), so it is decoded again."""
        good = set()
        for i in sorted(indices):
            try:
                self.load_chunk(stem, i)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                self._chunk_path(stem, i).unlink(missing_ok=True)
                self.log("chunk_corrupt", recording=stem, chunk=i)
                continue
            good.add(i)
        return good

    # -- diarization (kept apart from the chunks: other diarization options reuse the ASR) --
    def save_diarization(self, stem: str, settings: str, turns: list[SpeakerTurn],
                         provenance: dict[str, Any]) -> None:
        atomic_write_text(self._dir(stem) / "diarization.json", json.dumps(
            {"settings": settings, "turns": [asdict(t) for t in turns],
             "provenance": provenance}, ensure_ascii=False) + "\n")

    def load_diarization(self, stem: str, settings: str
                         ) -> tuple[list[SpeakerTurn], dict[str, Any]] | None:
        try:
            d = json.loads((self._dir(stem) / "diarization.json").read_text(encoding="utf-8"))
            if d["settings"] != settings:
                return None
            return [SpeakerTurn(**t) for t in d["turns"]], d["provenance"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            return None

    # -- correction: keyed by its options and by the transcript it corrected ---------------
    def save_correction(self, stem: str, key: str, transcript: Transcript) -> None:
        atomic_write_text(self._dir(stem) / "correction.json", json.dumps(
            {"key": key, "transcript": transcript.to_dict()}, ensure_ascii=False) + "\n")

    def load_correction(self, stem: str, key: str) -> Transcript | None:
        try:
            d = json.loads((self._dir(stem) / "correction.json").read_text(encoding="utf-8"))
            if d["key"] != key:
                return None
            return Transcript.from_dict(d["transcript"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # -- answers: one file per question, keyed by what the answer depends on ---------------
    def _answer_path(self, stem: str, key: str) -> Path:
        return self._dir(stem) / "answers" / f"{key}.json"

    def save_answer(self, stem: str, key: str, answer: Answer) -> None:
        atomic_write_text(self._answer_path(stem, key),
                          json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")

    def load_answer(self, stem: str, key: str) -> Answer | None:
        try:
            d = json.loads(self._answer_path(stem, key).read_text(encoding="utf-8"))
            d["evidence"] = [Evidence(**e) for e in d.get("evidence", [])]
            return Answer(**d)
        except (OSError, ValueError, KeyError, TypeError):
            return None


__all__ = ["STATE_DIR", "JobState", "Manifest", "fingerprint"]
