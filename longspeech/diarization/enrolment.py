"""Known speakers: voices enrolled from short clips recorded elsewhere, matched to the
diarized speakers of a recording so that a transcript says "Ann" instead of SPEAKER_01.

A voiceprint is the mean GE2E embedding (the embedded backend's speaker encoder) of a clip's
windows, or of a diarized speaker's turns. Speakers and names are paired one to one by the
highest total similarity (Hungarian assignment); a pair is kept only where the similarity
clears `threshold` and beats both the speaker's next best name and the name's next best
speaker by `margin`. Every other speaker keeps its SPEAKER_N label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import read_span
from ..errors import InputFileError, InvalidOptionError, LongspeechError
from ..hashing import sha256_file
from ..types import SpeakerTurn
from .encoder import SpeakerEncoder
from .options import DiarizationOptions, KnownSpeaker
from .windows import window_frames

# One word (RTTM and subtitle fields are space-separated), not a diarizer label.
_NAME = re.compile(r"^[^\W\d][\w.'-]{0,63}$")
_LABEL = re.compile(r"^SPEAKER_\d+$")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".webm", ".aac")
# Window of the voiceprints (s), as the embedded backend's windows.
_WINDOW, _HOP = 1.5, 0.75
# At most this much of a diarized speaker's speech is embedded for its voiceprint (s).
_MAX_SPEECH = 90.0


def known_speaker(name: str, clip: str | Path) -> KnownSpeaker:
    name = name.strip()
    if not _NAME.match(name) or _LABEL.match(name):
        raise InvalidOptionError(
            f"speaker name {name!r}: use one word of letters, digits, '.', '-' or '_' (e.g. "
            "Ann_Smith), not a SPEAKER_N label")
    path = Path(clip)
    if not path.is_file():
        raise InputFileError(f"{path}: no such enrolment clip for speaker {name}; give a "
                             "recording of that voice alone (5-30 s)")
    return KnownSpeaker(name, str(path.resolve()), sha256_file(path))


def parse_known_speakers(pairs: Iterable[str] = (), directory: str | Path | None = None
                         ) -> tuple[KnownSpeaker, ...]:
    """`NAME=CLIP` pairs and/or a folder with one clip per name (the file stem is the
    name), sorted by name; a name given twice is an error."""
    found: list[KnownSpeaker] = []
    for pair in pairs:
        name, sep, clip = pair.partition("=")
        if not sep or not clip.strip():
            raise InvalidOptionError(f"--speaker {pair!r}: write NAME=CLIP, e.g. Ann=ann.wav")
        found.append(known_speaker(name, clip.strip()))
    if directory is not None:
        d = Path(directory)
        if not d.is_dir():
            raise InputFileError(f"{d}: not a folder; --speakers takes a folder with one clip "
                                 "per speaker, named after them (Ann.wav, Bob.flac)")
        clips = sorted(p for p in d.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        if not clips:
            raise InputFileError(f"{d}: no audio clips ({', '.join(AUDIO_SUFFIXES)})")
        found.extend(known_speaker(p.stem, p) for p in clips)
    names = [k.name for k in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidOptionError(f"speaker name(s) given twice: {', '.join(twice)}")
    return tuple(sorted(found, key=lambda k: k.name))


def _voiceprint(encoder: SpeakerEncoder, pieces: Iterable[np.ndarray]) -> np.ndarray | None:
    """Mean unit embedding of the windows of some speech (None when there is too little)."""
    w, h = round(_WINDOW * 100), round(_HOP * 100)
    mels = []
    for samples in pieces:
        mel = encoder.mel(samples)
        mels += [mel[a:b] for a, b in window_frames(len(mel), w, h, w)]
    if not mels:
        return None
    v = encoder.embed(np.stack(mels)).mean(axis=0)
    return v / (np.linalg.norm(v) or 1.0)


def clip_voiceprint(encoder: SpeakerEncoder, known: KnownSpeaker) -> np.ndarray:
    """The voiceprint of an enrolment clip (read whole: clips are short)."""
    from ..audio import probe

    try:
        duration = probe(known.clip, checksum=False).duration
        samples = read_span(known.clip, 0.0, duration, pad=0.0)
    except LongspeechError as e:
        raise InputFileError(f"{known.clip}: cannot read the enrolment clip for "
                             f"{known.name}: {e}") from None
    v = _voiceprint(encoder, [samples])
    if v is None:
        raise InputFileError(f"{known.clip}: under {_WINDOW:g} s of audio; enrol "
                             f"{known.name} with a clip of 5-30 s of their voice")
    return v


def speaker_voiceprints(encoder: SpeakerEncoder, path: str, turns: Sequence[SpeakerTurn]
                        ) -> dict[str, np.ndarray]:
    """Each diarized speaker's voiceprint from its longest turns (up to _MAX_SPEECH s)."""
    by_speaker: dict[str, list[SpeakerTurn]] = {}
    for t in turns:
        by_speaker.setdefault(t.speaker, []).append(t)
    out = {}
    for label, ts in sorted(by_speaker.items()):
        pieces, total = [], 0.0
        for t in sorted(ts, key=lambda t: (t.start - t.end, t.start)):
            if total >= _MAX_SPEECH:
                break
            end = min(t.end, t.start + _MAX_SPEECH - total)
            pieces.append(read_span(path, t.start, end))
            total += end - t.start
        v = _voiceprint(encoder, pieces)
        if v is not None:
            out[label] = v
    return out


def match_names(speakers: Mapping[str, np.ndarray], known: Mapping[str, np.ndarray],
                threshold: float, margin: float) -> dict[str, tuple[str, float]]:
    """label -> (name, cosine similarity) for the confident pairs of a one-to-one
    assignment of diarized speakers to enrolled names."""
    from scipy.optimize import linear_sum_assignment

    labels, names = sorted(speakers), sorted(known)
    if not labels or not names:
        return {}
    sim = np.array([[float(speakers[a] @ known[n]) for n in names] for a in labels])
    rows, cols = linear_sum_assignment(-sim)
    out = {}
    for r, c in zip(rows, cols):
        # The pair must stand out in its row (no other name nearly as close) and in its
        # column (no other speaker of the recording nearly as close to this name).
        rivals = [*np.delete(sim[r], c), *np.delete(sim[:, c], r)]
        runner_up = float(max(rivals)) if rivals else -1.0
        if sim[r, c] >= threshold and sim[r, c] - runner_up >= margin:
            out[labels[r]] = (names[c], round(float(sim[r, c]), 4))
    return out


class SpeakerNamer:
    """Names the diarized speakers of recordings after the options' enrolled voices; the
    clips are embedded once, when the namer is made."""

    def __init__(self, options: DiarizationOptions, encoder: SpeakerEncoder | None = None):
        self.options = options
        self.encoder = encoder or SpeakerEncoder(options.device)
        self.voices = {k.name: clip_voiceprint(self.encoder, k) for k in options.known}

    def __call__(self, path: str, turns: Sequence[SpeakerTurn]
                 ) -> tuple[list[SpeakerTurn], dict[str, Any]]:
        """The turns with confident speakers renamed, and what was matched (for the
        provenance: each label's name and similarity, the clips by name and sha256)."""
        found = speaker_voiceprints(self.encoder, path, turns)
        named = match_names(found, self.voices, self.options.name_threshold,
                            self.options.name_margin)
        renamed = [SpeakerTurn(t.start, t.end, named[t.speaker][0])
                   if t.speaker in named else t for t in turns]
        report = {"enrolled": {k.name: {"clip": Path(k.clip).name, "sha256": k.sha256}
                               for k in self.options.known},
                  "threshold": self.options.name_threshold, "margin": self.options.name_margin,
                  "named": {label: {"name": n, "similarity": s}
                            for label, (n, s) in sorted(named.items())}}
        return renamed, report
