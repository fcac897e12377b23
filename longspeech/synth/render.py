"""Render one sentence with one voice: 16 kHz mono float32 with exact per-word sample spans.

Each sentence is synthesised once, as a whole (natural prosody); word spans come from the
engine's own timing (see _espeak.py, _flite.py). The render is resampled, brought to a common
loudness, and its leading/trailing silence trimmed; the trim is recorded and the word spans are
shifted by it, so they stay exact with respect to the samples kept.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from ..errors import SynthesisError
from .voices import Voice

SAMPLE_RATE = 16000
TARGET_RMS = 0.05  # about -26 dBFS over active speech: room for noise without clipping
PEAK_LIMIT = 0.9
_FRAME = 80  # 5 ms at 16 kHz: trim resolution
_TRIM_DB = -35.0  # frames this far below the loudest count as silence (above TTS noise floors)
_MARGIN = 80  # keep 5 ms of the TTS's own fade around the speech

_TOKEN = re.compile(r"\S+")
_EDGE_PUNCT = "\"'.,;:!?()[]"


@dataclass(frozen=True)
class RenderedWord:
    word: str
    start: int  # samples from the start of the trimmed render
    end: int


@dataclass(frozen=True)
class RenderedSentence:
    """A sentence as spoken by a voice; audio starts and ends near the speech."""

    voice: Voice
    text: str
    audio: np.ndarray  # float32, SAMPLE_RATE, mono
    words: tuple[RenderedWord, ...]
    trim_head: int  # samples removed from the engine's output (after resampling)
    trim_tail: int
    gain: float  # applied to the engine's output (int16 scale / 32768)
    engine_version: str = ""

    @property
    def num_samples(self) -> int:
        return len(self.audio)

    @property
    def speech_start(self) -> int:
        return self.words[0].start

    @property
    def speech_end(self) -> int:
        return self.words[-1].end


def tokenize(text: str) -> list[tuple[int, str]]:
    """(character offset, word without edge punctuation) for each whitespace token."""
    out = []
    for m in _TOKEN.finditer(text):
        word = m.group().strip(_EDGE_PUNCT)
        if not any(c.isalpha() for c in word):
            raise SynthesisError(f"token {m.group()!r} in {text!r} has no letters; "
                                 "spell numbers and symbols out as words")
        out.append((m.start(), word))
    if not out:
        raise SynthesisError("cannot render an empty sentence")
    return out


@dataclass
class EngineRender:
    """What the engine returned: int16 samples at its own rate and per-word sample spans."""

    samples: np.ndarray
    sample_rate: int
    spans: list[tuple[int, int]]
    version: str


_WORKER = Path(__file__).with_name("_tts_worker.py")


def _engine_render(voice: Voice, text: str, tokens: list[tuple[int, str]]) -> EngineRender:
    """Run the engine in a fresh process (see _tts_worker.py for why)."""
    request = json.dumps({"engine": voice.engine, "name": voice.name,
                          "params": dict(voice.params), "text": text, "tokens": tokens})
    # -E -s -S: no environment, user or site packages; the worker needs the stdlib only.
    proc = subprocess.run([sys.executable, "-E", "-s", "-S", str(_WORKER)],
                          input=request.encode("utf-8"), capture_output=True, check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SynthesisError(f"{voice.label} could not render {text!r}: "
                             f"{msg[-1] if msg else f'exit status {proc.returncode}'}")
    head, _, body = proc.stdout.partition(b"\n")
    meta = json.loads(head)
    return EngineRender(np.frombuffer(body, dtype="<i2").copy(), int(meta["sample_rate"]),
                        [(int(s), int(e)) for s, e in meta["spans"]], str(meta["version"]))


def render_sentence(voice: Voice, text: str) -> RenderedSentence:
    """Synthesise text with voice (uncached; see RenderCache)."""
    tokens = tokenize(text)
    raw = _engine_render(voice, text, tokens)
    x = raw.samples.astype(np.float64) / 32768.0
    ratio = SAMPLE_RATE / raw.sample_rate
    if raw.sample_rate != SAMPLE_RATE:
        x = soxr.resample(x, raw.sample_rate, SAMPLE_RATE, quality="HQ")
    spans = [(min(round(s * ratio), len(x)), min(round(e * ratio), len(x)))
             for s, e in raw.spans]
    if any(e <= s for s, e in spans) or any(
            b[0] < a[1] for a, b in zip(spans, spans[1:])):
        raise SynthesisError(f"{voice.label} gave unusable word times for {text!r}: {spans}")
    head, tail = _trim_points(x, spans[0][0], spans[-1][1])
    full = len(x)
    x = x[head:tail]
    gain = _gain(x)
    audio = (x * gain).astype(np.float32)
    words = tuple(RenderedWord(w, s - head, e - head) for (_, w), (s, e) in zip(tokens, spans))
    return RenderedSentence(voice, text, audio, words, head, full - tail, gain, raw.version)


def _frame_db(x: np.ndarray) -> np.ndarray:
    n = len(x) // _FRAME
    if n == 0:
        return np.full(1, -120.0)
    power = np.mean(x[: n * _FRAME].reshape(n, _FRAME) ** 2, axis=1)
    return 10 * np.log10(power + 1e-12)


def _trim_points(x: np.ndarray, first_word: int, last_word: int) -> tuple[int, int]:
    """Cut silence outside the speech, but never into a word the engine placed there."""
    db = _frame_db(x)
    active = np.flatnonzero(db > db.max() + _TRIM_DB)
    if len(active) == 0:
        raise SynthesisError("the TTS engine returned silence")
    head = max(0, int(active[0]) * _FRAME - _MARGIN)
    tail = min(len(x), (int(active[-1]) + 1) * _FRAME + _MARGIN)
    return min(head, first_word), max(tail, last_word)


def _gain(x: np.ndarray) -> float:
    """Gain that brings active speech to TARGET_RMS, limited so the peak stays below 0.9."""
    db = _frame_db(x)
    n = len(db) * _FRAME
    frames = x[:n].reshape(len(db), _FRAME) if n else x.reshape(1, -1)
    active = frames[db > db.max() + _TRIM_DB]
    rms = float(np.sqrt(np.mean(active ** 2))) if active.size else 0.0
    if rms <= 0:
        raise SynthesisError("the TTS engine returned silence")
    peak = float(np.max(np.abs(x)))
    return min(TARGET_RMS / rms, PEAK_LIMIT / peak)


class RenderCache:
    """Renders keyed by (voice, text), so a sentence is synthesised once per process.

    Bounded (least recently used goes first) so that a long-running process does not grow.
    """

    def __init__(self, max_items: int = 4096) -> None:
        self.max_items = max_items
        self._items: OrderedDict[tuple[Voice, str], RenderedSentence] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, voice: Voice, text: str) -> RenderedSentence:
        key = (voice, text)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        r = render_sentence(voice, text)
        with self._lock:
            self._items[key] = r
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return r

    def __len__(self) -> int:
        return len(self._items)


DEFAULT_CACHE = RenderCache()
