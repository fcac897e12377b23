"""Offline TTS voices that sound clearly different from each other.

A voice is a value (engine, name, params) so that renders can be cached by (voice, text) and a
recording's metadata says exactly which voice spoke each sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidOptionError

ENGINES = ("espeak", "flite")


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker.

    engine: "espeak" (espeak-ng, formant synthesis) or "flite" (CMU Flite, unit selection).
    name:   espeak-ng voice name with optional variant ("en-us+f3"), or a flite voice
            ("slt", "rms", "awb", "kal16").
    params: fixed per voice, so a speaker keeps one speaking rate. espeak: rate (words per
            minute), pitch (0-99), range (0-99), wordgap (10 ms units). flite:
            duration_stretch (1.0 = natural rate, larger = slower).
    """

    engine: str
    name: str
    params: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InvalidOptionError(
                f"unknown TTS engine {self.engine!r}; choose one of {', '.join(ENGINES)}"
            )

    @property
    def label(self) -> str:
        """Short stable name, e.g. 'flite:slt' or 'espeak:en-us+f3'."""
        return f"{self.engine}:{self.name}"

    def param(self, key: str, default: float) -> float:
        return dict(self.params).get(key, default)


# Ordered so that every prefix is a set of clearly distinct speakers: female/male alternate and
# engines mix. Speaker-embedding (resemblyzer GE2E) cosine similarity between any two of the
# first five is at most 0.73 (0.68 for the first two); the same voice scores about 0.95.
DEFAULT_VOICES: tuple[Voice, ...] = (
    Voice("flite", "slt", (("duration_stretch", 1.0),)),
    Voice("flite", "rms", (("duration_stretch", 1.0),)),
    Voice("espeak", "en-us+f3", (("rate", 160.0), ("pitch", 60.0))),
    Voice("flite", "kal16", (("duration_stretch", 1.0),)),
    Voice("espeak", "en+m3", (("rate", 150.0), ("pitch", 35.0))),
    Voice("flite", "awb", (("duration_stretch", 1.0),)),
    Voice("espeak", "en-gb-x-rp+f2", (("rate", 150.0), ("pitch", 55.0))),
    Voice("espeak", "en-us+klatt4", (("rate", 165.0),)),
)


def default_voices(n: int) -> tuple[Voice, ...]:
    """The first n default voices (n speakers need n different voices)."""
    if not 1 <= n <= len(DEFAULT_VOICES):
        raise InvalidOptionError(
            f"{n} speakers requested; the built-in voice list has {len(DEFAULT_VOICES)} "
            "voices (pass voices=... for more)"
        )
    return DEFAULT_VOICES[:n]


def parse_voice(label: str) -> Voice:
    """Parse 'engine:name' (as written by Voice.label) with default params."""
    engine, sep, name = label.partition(":")
    if not sep or not name:
        raise InvalidOptionError(f"voice {label!r} is not 'engine:name' (e.g. 'flite:slt')")
    for v in DEFAULT_VOICES:
        if v.engine == engine and v.name == name:
            return v
    return Voice(engine, name)
