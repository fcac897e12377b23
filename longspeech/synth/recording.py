"""Synthetic multi-speaker recordings with exact ground truth.

A recording is a plan: pool renders placed at sample offsets. Audio is mixed block by block on
demand, so hours are cheap (a small pool of rendered sentences is reused) and never held in
memory whole. Every time in the ground truth comes from integer sample positions.
"""

from __future__ import annotations

import bisect
import math
import os
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidOptionError
from ..types import Recording, Segment, SpeakerTurn, Transcript, Word
from .corpus import sentences
from .noise import NOISE_KINDS, NoiseStream
from .render import DEFAULT_CACHE, SAMPLE_RATE, RenderCache, RenderedSentence
from .voices import Voice, default_voices

BLOCK = 30 * SAMPLE_RATE  # samples mixed at a time


@dataclass(frozen=True)
class RecordingSpec:
    """What to generate. The same spec always gives the same audio, sample for sample.

    duration: target length in seconds; the file is exactly this long (silence after the last
        sentence that fits). speakers: how many; voices: one per speaker (default: the first
        `speakers` of DEFAULT_VOICES). texts: sentences to speak instead of the built-in corpus.
    pool_size: most distinct sentences rendered per speaker; long recordings reuse them.
    gap: silence between turns (s); pause: between sentences of one turn (s).
    long_silence_prob: chance that a turn gap is a long silence drawn from long_silence.
    overlap: let some turns start before the previous one ends (overlap_prob, overlap_range s).
    snr_db: add noise (white or pink) at this SNR; speech power is measured over the speech.
    script: a dialogue spoken in order instead, one (speaker index, sentence) per turn, a
        `gap` apart; the recording is `duration` long and must hold it (texts, turn sizes,
        silences and overlap are not used). For questions whose answer is the next line.
    """

    seed: int = 0
    duration: float = 60.0
    speakers: int = 2
    voices: tuple[Voice, ...] = ()
    texts: tuple[str, ...] = ()
    pool_size: int = 60
    sentences_per_turn: tuple[int, int] = (1, 3)
    gap: tuple[float, float] = (0.3, 1.5)
    pause: tuple[float, float] = (0.15, 0.4)
    long_silence_prob: float = 0.0
    long_silence: tuple[float, float] = (5.0, 20.0)
    overlap: bool = False
    overlap_prob: float = 0.2
    overlap_range: tuple[float, float] = (0.2, 1.0)
    snr_db: float | None = None
    noise: str = "white"
    lead: float = 0.5  # silence before the first and after the last sentence (s)
    script: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        def bad(msg: str) -> InvalidOptionError:
            return InvalidOptionError(f"RecordingSpec: {msg}")

        if self.duration < 5.0:
            raise bad(f"duration {self.duration} s is too short (at least 5 s)")
        if self.speakers < 1:
            raise bad("speakers must be at least 1")
        if self.voices and len(self.voices) != self.speakers:
            raise bad(f"{len(self.voices)} voices given for {self.speakers} speakers")
        if self.voices and len(set(self.voices)) != len(self.voices):
            raise bad("each speaker needs a different voice")
        if self.pool_size < 1:
            raise bad("pool_size must be at least 1")
        for name in ("sentences_per_turn", "gap", "pause", "long_silence", "overlap_range"):
            lo, hi = getattr(self, name)
            if lo < 0 or hi < lo:
                raise bad(f"{name} must be a range (low, high) with 0 <= low <= high")
        if self.sentences_per_turn[0] < 1:
            raise bad("a turn has at least one sentence")
        if not 0 <= self.long_silence_prob <= 1 or not 0 <= self.overlap_prob <= 1:
            raise bad("probabilities must lie in [0, 1]")
        if self.noise not in NOISE_KINDS:
            raise bad(f"noise must be one of {', '.join(NOISE_KINDS)}")
        if self.lead < 0:
            raise bad("lead must be >= 0")
        for k, line in self.script:
            if not 0 <= k < self.speakers or not line.strip():
                raise bad(f"script line ({k}, {line!r}) needs a speaker index below "
                          f"{self.speakers} and a sentence")

    def resolved_voices(self) -> tuple[Voice, ...]:
        return self.voices or default_voices(self.speakers)


@dataclass(frozen=True)
class PlacedSentence:
    """A pool render placed in the recording: render sample 0 is recording sample `offset`."""

    index: int
    turn: int
    speaker: str
    offset: int
    render: RenderedSentence

    @property
    def start_sample(self) -> int:
        return self.offset + self.render.speech_start

    @property
    def end_sample(self) -> int:
        return self.offset + self.render.speech_end

    @property
    def start(self) -> float:
        return seconds(self.start_sample)

    @property
    def end(self) -> float:
        return seconds(self.end_sample)

    @property
    def text(self) -> str:
        return self.render.text

    def words(self) -> list[Word]:
        return [Word(w.word, seconds(self.offset + w.start), seconds(self.offset + w.end), 1.0,
                     self.speaker) for w in self.render.words]


def seconds(samples: int) -> float:
    """Sample position to seconds, rounded to the millisecond the outputs keep."""
    return round(samples / SAMPLE_RATE, 3)


@dataclass
class SyntheticRecording:
    """A planned recording; audio comes from blocks() or audio()."""

    spec: RecordingSpec
    voices: dict[str, Voice]
    sentences: list[PlacedSentence]
    num_samples: int
    sample_rate: int = SAMPLE_RATE
    speech_rms: float = 0.0  # over the speech spans of the clean mix
    noise_gain: float = 0.0  # applied to unit-variance noise; 0 when no noise is added
    _starts: list[int] = field(default_factory=list, init=False, repr=False)
    _longest: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.sentences.sort(key=lambda s: (s.offset, s.index))
        self._starts = [s.offset for s in self.sentences]
        self._longest = max((s.render.num_samples for s in self.sentences), default=0)

    @property
    def duration(self) -> float:
        return self.num_samples / self.sample_rate

    @property
    def text(self) -> str:
        """The reference text: one sentence per line, in order of start time."""
        return "\n".join(s.text for s in sorted(self.sentences, key=lambda s: s.start_sample))

    def words(self) -> list[Word]:
        words = [w for s in self.sentences for w in s.words()]
        return sorted(words, key=lambda w: (w.start, w.end))

    def turns(self) -> list[SpeakerTurn]:
        spans: dict[int, tuple[int, int, str]] = {}
        for s in self.sentences:
            a, b, spk = spans.get(s.turn, (s.start_sample, s.end_sample, s.speaker))
            spans[s.turn] = (min(a, s.start_sample), max(b, s.end_sample), spk)
        return [SpeakerTurn(seconds(a), seconds(b), spk)
                for a, b, spk in sorted(spans.values())]

    def blocks(self, block: int = BLOCK, noise: bool = True) -> Iterator[np.ndarray]:
        """The audio, float32 in [-1, 1] (noise included unless noise=False), block by block."""
        stream = (NoiseStream(self.spec.noise, self.spec.seed)
                  if noise and self.noise_gain > 0 else None)
        for b0 in range(0, self.num_samples, block):
            out = self._mix(b0, min(b0 + block, self.num_samples))
            if stream is not None:
                out += self.noise_gain * stream.next(len(out))
            yield out.astype(np.float32)

    def audio(self, noise: bool = True) -> np.ndarray:
        """The whole recording in memory: for short recordings (tests); long ones use blocks()."""
        return np.concatenate(list(self.blocks(noise=noise)))

    def _mix(self, b0: int, b1: int) -> np.ndarray:
        out = np.zeros(b1 - b0, dtype=np.float64)
        lo = bisect.bisect_left(self._starts, b0 - self._longest)
        hi = bisect.bisect_left(self._starts, b1)
        for s in self.sentences[lo:hi]:
            a = s.render.audio
            s0, s1 = max(b0, s.offset), min(b1, s.offset + len(a))
            if s1 > s0:
                out[s0 - b0:s1 - b0] += a[s0 - s.offset:s1 - s.offset]
        return out

    def to_transcript(self, path: str = "", recording_id: str = "synthetic") -> Transcript:
        """The ground truth in the project's data model (one segment per sentence)."""
        ordered = sorted(self.sentences, key=lambda s: (s.start_sample, s.index))
        segments = [Segment(s.start, s.end, s.text, s.words(), s.speaker) for s in ordered]
        rec = Recording(recording_id, path, self.duration, self.sample_rate, 1)
        return Transcript(rec, "en", segments, sorted(self.voices),
                          {"generator": "longspeech.synth", "seed": self.spec.seed},
                          self.turns())


def make_recording(spec: RecordingSpec, cache: RenderCache | None = None) -> SyntheticRecording:
    """Render the sentence pools (once per voice and text) and lay out the timeline."""
    cache = cache if cache is not None else DEFAULT_CACHE
    voices = spec.resolved_voices()
    labels = [f"spk{k}" for k in range(spec.speakers)]
    rng = random.Random(f"longspeech.synth.plan:{spec.seed}")
    total = round(spec.duration * SAMPLE_RATE)
    limit = total - round(spec.lead * SAMPLE_RATE)
    placed = (_place_script(spec, voices, labels, cache, rng, limit) if spec.script
              else _place_drawn(spec, labels, _render_pools(spec, voices, cache), rng, limit))
    if not placed:
        raise InvalidOptionError(f"no sentence fits in {spec.duration} s; use a longer duration")
    rec = SyntheticRecording(spec, dict(zip(labels, voices)), placed, total)
    if spec.snr_db is not None:
        rec.speech_rms, rec.noise_gain = _noise_level(rec, spec)
    else:
        rec.speech_rms = _speech_rms(rec)
    return rec


def _place_script(spec: RecordingSpec, voices: tuple[Voice, ...], labels: list[str],
                  cache: RenderCache, rng: random.Random, limit: int) -> list[PlacedSentence]:
    """The script's lines in order, one turn each, `gap` apart."""
    renders = _render_all([(voices[k], line) for k, line in spec.script], cache)
    placed: list[PlacedSentence] = []
    cursor = round(spec.lead * SAMPLE_RATE)
    for i, ((k, _), r) in enumerate(zip(spec.script, renders)):
        offset = max(0, cursor - r.speech_start)
        if offset + r.num_samples > limit:
            raise InvalidOptionError(
                f"the script does not fit in {spec.duration} s (line {i + 1} of "
                f"{len(spec.script)} ends past it); use a longer duration")
        placed.append(PlacedSentence(i, i, labels[k], offset, r))
        cursor = placed[-1].end_sample + _samples(rng, spec.gap)
    return placed


def _place_drawn(spec: RecordingSpec, labels: list[str], pools: list[list[RenderedSentence]],
                 rng: random.Random, limit: int) -> list[PlacedSentence]:
    """Turns of sentences drawn from each speaker's pool until the recording is full."""
    order: dict[int, list[int]] = {k: [] for k in range(spec.speakers)}
    last_end = {k: -SAMPLE_RATE for k in range(spec.speakers)}
    placed: list[PlacedSentence] = []
    speaker = rng.randrange(spec.speakers)
    cursor = round(spec.lead * SAMPLE_RATE)  # where the next turn's speech starts
    turn, full = 0, False
    while not full:
        for j in range(rng.randint(*spec.sentences_per_turn)):
            r = pools[speaker][_next_index(order[speaker], len(pools[speaker]), rng)]
            start = cursor if j == 0 else placed[-1].end_sample + _samples(rng, spec.pause)
            if start - r.speech_start + r.num_samples > limit:
                # near the end: the longest sentence of this speaker that still fits
                room = [p for p in pools[speaker]
                        if start - p.speech_start + p.num_samples <= limit
                        and not (placed and p is placed[-1].render)]
                if not room:
                    full = True
                    break
                r = max(room, key=lambda p: (p.num_samples, p.text))
            offset = max(0, start - r.speech_start)
            placed.append(PlacedSentence(len(placed), turn, labels[speaker], offset, r))
            last_end[speaker] = placed[-1].end_sample
        if not full:
            turn += 1
            speaker, cursor = _next_turn(spec, rng, speaker, placed, last_end)
    return placed


def _samples(rng: random.Random, span: tuple[float, float]) -> int:
    return round(rng.uniform(*span) * SAMPLE_RATE)


def _next_index(order: list[int], n: int, rng: random.Random) -> int:
    """Walk the pool in shuffled rounds, so every sentence is used before any repeats."""
    if not order:
        order.extend(rng.sample(range(n), n))
    return order.pop()


def _next_turn(spec: RecordingSpec, rng: random.Random, speaker: int,
               placed: list[PlacedSentence], last_end: dict[int, int]) -> tuple[int, int]:
    """Who speaks next and where their speech starts."""
    nxt = speaker if spec.speakers == 1 else rng.choice(
        [k for k in range(spec.speakers) if k != speaker])
    prev = placed[-1]
    if rng.random() < spec.long_silence_prob:
        start = prev.end_sample + _samples(rng, spec.long_silence)
    else:
        start = prev.end_sample + _samples(rng, spec.gap)
    if spec.overlap and spec.speakers > 1 and rng.random() < spec.overlap_prob:
        half = prev.start_sample + (prev.end_sample - prev.start_sample) // 2
        start = max(prev.end_sample - _samples(rng, spec.overlap_range), half)
    # never overlap the next speaker's own previous speech
    start = max(start, last_end[nxt] + round(spec.gap[0] * SAMPLE_RATE))
    return nxt, start


def _render_pools(spec: RecordingSpec, voices: tuple[Voice, ...],
                  cache: RenderCache) -> list[list[RenderedSentence]]:
    """Each speaker's distinct sentences, rendered in parallel (one process per render)."""
    s = spec.speakers
    per_speaker = min(spec.pool_size, math.ceil(spec.duration / (2.5 * s)) + 2)
    if spec.texts:
        texts = list(spec.texts)
        pools_text = [texts[k::s] if len(texts) >= 2 * s else texts for k in range(s)]
        pools_text = [p[:per_speaker] for p in pools_text]
    else:
        texts = sentences(spec.seed, per_speaker * s)
        pools_text = [texts[k::s] for k in range(s)]
    renders = _render_all([(voices[k], t) for k in range(s) for t in pools_text[k]], cache)
    pools, i = [], 0
    for k in range(s):
        pools.append(renders[i:i + len(pools_text[k])])
        i += len(pools_text[k])
    return pools


def _speech_mask(rec: SyntheticRecording, b0: int, b1: int) -> np.ndarray:
    mask = np.zeros(b1 - b0, dtype=bool)
    lo = bisect.bisect_left(rec._starts, b0 - rec._longest)
    hi = bisect.bisect_left(rec._starts, b1)
    for s in rec.sentences[lo:hi]:
        a, b = max(b0, s.start_sample), min(b1, s.end_sample)
        if b > a:
            mask[a - b0:b - b0] = True
    return mask


def _speech_rms(rec: SyntheticRecording) -> float:
    energy, count = 0.0, 0
    for b0 in range(0, rec.num_samples, BLOCK):
        b1 = min(b0 + BLOCK, rec.num_samples)
        clean = rec._mix(b0, b1)[_speech_mask(rec, b0, b1)]
        energy += float(np.dot(clean, clean))
        count += clean.size
    return math.sqrt(energy / max(count, 1))


def _noise_level(rec: SyntheticRecording, spec: RecordingSpec) -> tuple[float, float]:
    """Speech RMS, and the noise gain that makes the realised SNR exactly spec.snr_db."""
    speech_rms = _speech_rms(rec)
    stream = NoiseStream(spec.noise, spec.seed)
    noise_energy = 0.0
    for b0 in range(0, rec.num_samples, BLOCK):
        n = stream.next(min(BLOCK, rec.num_samples - b0))
        noise_energy += float(np.dot(n, n))
    noise_rms = math.sqrt(noise_energy / rec.num_samples)
    assert spec.snr_db is not None
    return speech_rms, speech_rms / (noise_rms * 10 ** (spec.snr_db / 20))


def _render_all(jobs: list[tuple[Voice, str]], cache: RenderCache) -> list[RenderedSentence]:
    """Each (voice, text) rendered, in parallel (one process per render)."""
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as ex:
        return list(ex.map(lambda vt: cache.get(*vt), jobs))
