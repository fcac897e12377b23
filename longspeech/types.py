"""The data model every stage takes and returns, with an exact JSON round-trip.

Times are seconds, absolute in the recording (like lhotse's time-relative manifests), rounded
to milliseconds so that JSON text and objects map one to one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from .errors import TranscriptFormatError

SCHEMA_VERSION = 1


def _t(x: float) -> float:
    """Round a time to the millisecond (the precision the outputs keep)."""
    return round(float(x), 3)


@dataclass(frozen=True)
class Recording:
    id: str
    path: str
    duration: float
    sample_rate: int
    channels: int
    sha256: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A span of a recording that is decoded as one unit (at most 30 s)."""

    recording_id: str
    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Word:
    word: str
    start: float
    end: float
    probability: float
    speaker: str | None = None


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None
    chunk_index: int = 0
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    temperature: float | None = None
    decoder: str | None = None    # gfd engine: "gfd", "plain" (kept by its guard), "fallback"


@dataclass(frozen=True)
class SpeakerTurn:
    start: float
    end: float
    speaker: str


@dataclass
class Transcript:
    recording: Recording
    language: str
    segments: list[Segment] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    turns: list[SpeakerTurn] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.recording.duration

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def speaking_order(self) -> list[str]:
        """The speakers who say something, in order of their first words."""
        seen: dict[str, None] = {}
        for s in self.segments:
            if s.speaker and s.text.strip():
                seen.setdefault(s.speaker)
        return list(seen)

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "duration": self.recording.duration,
            "language": self.language,
            "segments": [asdict(s) for s in self.segments],
            "speakers": list(self.speakers),
            "turns": [asdict(t) for t in self.turns],
            "recording": asdict(self.recording),
            "provenance": self.provenance,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        try:
            version = d.get("schema_version", SCHEMA_VERSION)
            if version > SCHEMA_VERSION:
                raise TranscriptFormatError(
                    f"transcript schema version {version} is newer than this longspeech "
                    f"understands ({SCHEMA_VERSION}); upgrade longspeech"
                )
            rec = _typed(Recording, d["recording"], "recording")
            segments = [
                _typed(Segment, {**s, "words": [_typed(Word, w, f"segments[{i}].words[{j}]")
                                                for j, w in enumerate(s.get("words", []))]},
                       f"segments[{i}]")
                for i, s in enumerate(d["segments"])
            ]
            _check(d["language"], str, "language")
            _check(d.get("speakers", []), list[str], "speakers")
            _check(d.get("provenance", {}), dict, "provenance")
            return cls(
                recording=rec,
                language=d["language"],
                segments=segments,
                speakers=list(d.get("speakers", [])),
                provenance=dict(d.get("provenance", {})),
                turns=[_typed(SpeakerTurn, t, f"turns[{i}]")
                       for i, t in enumerate(d.get("turns", []))],
            )
        except TranscriptFormatError:
            raise
        except (KeyError, TypeError, AttributeError) as e:
            raise TranscriptFormatError(
                f"not a longspeech transcript ({type(e).__name__}: {e}); "
                "pass a JSON file written by `longspeech transcribe -f json`"
            ) from e

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TranscriptFormatError(f"invalid JSON: {e}") from e
        if not isinstance(data, dict):
            raise TranscriptFormatError("a transcript JSON file holds an object at top level")
        return cls.from_dict(data)


def read_transcript_json(path: str | Path) -> dict[str, Any]:
    """The JSON object of a transcript file, or a TranscriptFormatError naming the file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise TranscriptFormatError(f"cannot read {p}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise TranscriptFormatError(f"{p} is not a text file: pass a transcript JSON written "
                                    "by `longspeech transcribe -f json`") from None
    except json.JSONDecodeError as e:
        raise TranscriptFormatError(f"{p} is not valid JSON ({e}): pass a transcript JSON "
                                    "written by `longspeech transcribe -f json`") from None
    if not isinstance(data, dict):
        raise TranscriptFormatError(f"{p}: a transcript JSON file holds an object at top level")
    return data


def load_transcript(path: str | Path) -> Transcript:
    """Read a transcript written by `longspeech transcribe -f json`."""
    data = read_transcript_json(path)
    try:
        return Transcript.from_dict(data)
    except TranscriptFormatError as e:
        raise TranscriptFormatError(f"{path}: {e}") from None


def _check(value: Any, tp: Any, where: str) -> None:
    """Raise TranscriptFormatError unless `value` is of type `tp` (an annotation)."""
    if tp is Any:
        return
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, UnionType):
        for alt in args:
            try:
                _check(value, alt, where)
                return
            except TranscriptFormatError:
                continue
        raise TranscriptFormatError(f"{where} is {type(value).__name__}, expected {tp}")
    if origin is list:
        if not isinstance(value, list):
            raise TranscriptFormatError(f"{where} is {type(value).__name__}, expected a list")
        for i, v in enumerate(value):
            _check(v, args[0] if args else Any, f"{where}[{i}]")
        return
    base = origin or tp
    ok = (value is None if tp is type(None) else
          isinstance(value, (int, float)) and not isinstance(value, bool) if base is float else
          isinstance(value, int) and not isinstance(value, bool) if base is int else
          isinstance(value, base))
    if not ok:
        raise TranscriptFormatError(f"{where} is {type(value).__name__}, expected "
                                    f"{getattr(base, '__name__', base)}")


def _typed(cls: type, value: Any, where: str) -> Any:
    """cls(**value) once every field of `value` has the type cls declares."""
    if not isinstance(value, dict):
        raise TranscriptFormatError(f"{where} is {type(value).__name__}, expected an object")
    hints = get_type_hints(cls)
    for name, v in value.items():
        if name not in hints:
            raise TranscriptFormatError(f"{where} has an unknown field {name!r}")
        if name != "words":                   # already built
            _check(v, hints[name], f"{where}.{name}")
    return cls(**value)


def round_time(x: float) -> float:
    return _t(x)


__all__ = [
    "SCHEMA_VERSION",
    "Chunk",
    "Recording",
    "Segment",
    "SpeakerTurn",
    "Transcript",
    "Word",
    "load_transcript",
    "read_transcript_json",
    "round_time",
]
