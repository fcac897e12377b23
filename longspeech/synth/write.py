"""Write a synthetic recording and its ground truth: audio, text, word times, RTTM, metadata.

The audio is streamed to disk block by block (hours never sit in memory). Every file is
written under a temporary name and renamed, so a crash never leaves a half file with the
final name. Times are seconds with 3 decimals, computed from sample positions, so the word
table, the RTTM and the metadata agree with each other and with the audio exactly.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from ..errors import InvalidOptionError
from .recording import RecordingSpec, SyntheticRecording, make_recording

AUDIO_FORMATS = {"wav": "WAV", "flac": "FLAC"}
METADATA_VERSION = 1


@dataclass(frozen=True)
class RecordingPaths:
    audio: Path
    text: Path
    words: Path
    rttm: Path
    metadata: Path

    def all(self) -> list[Path]:
        return [self.audio, self.text, self.words, self.rttm, self.metadata]


def write_recording(spec: RecordingSpec | SyntheticRecording, out_dir: str | Path,
                    stem: str = "synthetic", audio_format: str = "wav") -> RecordingPaths:
    """Generate (if given a spec) and write STEM.{wav|flac,txt,words.tsv,rttm,json}."""
    if audio_format not in AUDIO_FORMATS:
        raise InvalidOptionError(f"audio format must be one of {', '.join(AUDIO_FORMATS)}")
    if not stem or "/" in stem or stem.startswith("."):
        raise InvalidOptionError(f"stem {stem!r} must be a plain file name")
    rec = spec if isinstance(spec, SyntheticRecording) else make_recording(spec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = RecordingPaths(out / f"{stem}.{audio_format}", out / f"{stem}.txt",
                           out / f"{stem}.words.tsv", out / f"{stem}.rttm", out / f"{stem}.json")
    clipped = _write_audio(rec, paths.audio, AUDIO_FORMATS[audio_format])
    _write_text(paths.text, rec.text + "\n")
    _write_text(paths.words, words_tsv(rec))
    _write_text(paths.rttm, rttm(rec, stem))
    _write_text(paths.metadata, json.dumps(metadata(rec, paths, clipped), indent=1) + "\n")
    return paths


def _write_audio(rec: SyntheticRecording, path: Path, fmt: str) -> int:
    """Stream int16 blocks to disk; returns how many samples had to be clipped."""
    tmp = path.with_name(path.name + ".part")
    clipped = 0
    with sf.SoundFile(tmp, "w", samplerate=rec.sample_rate, channels=1, format=fmt,
                      subtype="PCM_16") as f:
        for block in rec.blocks():
            scaled = np.round(block.astype(np.float64) * 32767.0)
            clipped += int(np.count_nonzero(np.abs(scaled) > 32767))
            f.write(np.clip(scaled, -32768, 32767).astype(np.int16))
    os.replace(tmp, path)
    return clipped


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def words_tsv(rec: SyntheticRecording) -> str:
    """start, end, word, speaker; one word a line, by start time."""
    lines = ["start\tend\tword\tspeaker"]
    lines += [f"{w.start:.3f}\t{w.end:.3f}\t{w.word}\t{w.speaker}" for w in rec.words()]
    return "\n".join(lines) + "\n"


def rttm(rec: SyntheticRecording, file_id: str) -> str:
    """Standard RTTM speaker turns: SPEAKER file 1 onset duration <NA> <NA> who <NA> <NA>.

    Written here rather than with pyannote.core so that onset + duration reproduce the word
    table's millisecond times exactly (durations from integer milliseconds, no float drift).
    """
    lines = []
    for t in rec.turns():
        onset, end = round(t.start * 1000), round(t.end * 1000)
        lines.append(f"SPEAKER {file_id} 1 {onset / 1000:.3f} {(end - onset) / 1000:.3f} "
                     f"<NA> <NA> {t.speaker} <NA> <NA>")
    return "\n".join(lines) + "\n"


def metadata(rec: SyntheticRecording, paths: RecordingPaths, clipped: int = 0) -> dict[str, Any]:
    """Everything needed to interpret (and regenerate) the recording."""
    spec = asdict(rec.spec)
    spec["voices"] = [asdict(v) | {"params": dict(v.params)} for v in rec.spec.voices]
    engines = sorted({s.render.engine_version for s in rec.sentences})
    return {
        "generator": "longspeech.synth",
        "metadata_version": METADATA_VERSION,
        "files": {k: p.name for k, p in asdict(paths).items()},
        "sample_rate": rec.sample_rate,
        "num_samples": rec.num_samples,
        "duration": round(rec.duration, 3),
        "spec": spec,
        "speakers": {spk: {"engine": v.engine, "name": v.name, "params": dict(v.params),
                           "label": v.label} for spk, v in rec.voices.items()},
        "engines": engines,
        "speech_rms": round(rec.speech_rms, 6),
        "noise_rms": round(rec.noise_gain, 6),
        "clipped_samples": clipped,
        "num_words": sum(len(s.render.words) for s in rec.sentences),
        "turns": [asdict(t) for t in rec.turns()],
        "sentences": [
            {"index": s.index, "turn": s.turn, "speaker": s.speaker, "voice": s.render.voice.label,
             "start": s.start, "end": s.end, "text": s.text,
             "offset_samples": s.offset, "render_samples": s.render.num_samples,
             "trim_head_samples": s.render.trim_head, "trim_tail_samples": s.render.trim_tail}
            for s in sorted(rec.sentences, key=lambda s: (s.start_sample, s.index))
        ],
    }
