"""Training speech with exact text: synthetic sentences, encoded, one state sequence each.

Sentences (the synth corpus, and facts with questions) are rendered by the offline TTS voices
and packed into 30 s clips with short pauses, so one encoder call serves several sentences;
each sentence's pre-LN encoder states are then cut out with a small margin. With
`packed=False` every sentence is encoded alone (how a short clip arrives at inference), which
is what held-out evaluation uses. Results are cached on disk by their options.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ...encoders import EncoderOptions, WhisperStateEncoder
from ...errors import InvalidOptionError
from ...models.cache import cache_dir
from ...synth import DEFAULT_VOICES, RenderCache, parse_voice, sentences
from ...synth.render import SAMPLE_RATE, RenderedSentence
from .common import TrainCallback, TrainProgress, silent
from .facts import QA, facts

DATA_VERSION = 1


@dataclass(frozen=True)
class Utterance:
    """One spoken sentence (or a run of them): its text, voice (the first sentence's), pre-LN
    encoder states (frames, d) and, for facts, the questions they answer."""

    text: str
    voice: str
    states: np.ndarray
    qas: tuple[QA, ...] = ()

    @property
    def frames(self) -> int:
        return int(self.states.shape[0])


@dataclass(frozen=True)
class SpeechDataOptions:
    """sentences: corpus sentences (transcription); facts: fact sentences (transcription and
    QA); seed: picks texts and voices (a different seed gives disjoint-looking held-out data);
    voices: voice labels ("flite:slt"), default all built-in voices; packed: several sentences
    per 30 s clip (fast) or one per clip; gap: pause between packed sentences (s); margin:
    audio kept around the speech (s); pool: 25 frames/s states (False: 50). spans: how many
    consecutive sentences of a clip one utterance holds; each size in the tuple gives its own
    set of utterances (e.g. (1, 4): every sentence alone, and runs of four, where a question
    must find its fact among other speech)."""

    sentences: int = 4000
    facts: int = 1200
    seed: int = 0
    voices: tuple[str, ...] = ()
    encoder: str = "tiny.en"
    pool: bool = True
    packed: bool = True
    gap: tuple[float, float] = (0.3, 0.8)
    margin: float = 0.1
    clip_seconds: float = 29.0
    spans: tuple[int, ...] = (1,)
    cache: bool = True

    def __post_init__(self) -> None:
        if self.sentences < 0 or self.facts < 0 or self.sentences + self.facts == 0:
            raise InvalidOptionError("ask for at least one sentence or fact")
        if not self.spans or min(self.spans) < 1:
            raise InvalidOptionError("spans must hold sentence counts >= 1")
        if not 0 < self.clip_seconds <= 30:
            raise InvalidOptionError("clip_seconds must be in (0, 30]")

    def voice_labels(self) -> tuple[str, ...]:
        return self.voices or tuple(v.label for v in DEFAULT_VOICES)


@dataclass
class _Item:
    text: str
    voice: str
    qas: tuple[QA, ...]
    render: RenderedSentence | None = None
    clip: int = 0
    span: tuple[int, int] = (0, 0)           # speech samples in its clip
    states: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))


def _texts(opts: SpeechDataOptions) -> list[tuple[str, tuple[QA, ...]]]:
    out: list[tuple[str, tuple[QA, ...]]] = [(s, ()) for s in sentences(opts.seed, opts.sentences)]
    out += [(f.sentence, f.qas) for f in facts(opts.seed, opts.facts)]
    rng = random.Random(f"longspeech.lslm.order:{opts.seed}")
    rng.shuffle(out)
    return out


def _pack(items: list[_Item], opts: SpeechDataOptions, rng: random.Random) -> list[np.ndarray]:
    """Lay the renders out in clips; record each one's clip and speech span."""
    limit = round(opts.clip_seconds * SAMPLE_RATE)
    clips: list[list[tuple[int, np.ndarray]]] = [[]]
    cursor = 0
    for it in items:
        assert it.render is not None
        audio = it.render.audio
        if len(audio) > limit:
            raise InvalidOptionError(f"sentence {it.text!r} is longer than a clip")
        start = cursor + (round(rng.uniform(*opts.gap) * SAMPLE_RATE) if cursor else
                          round(opts.margin * SAMPLE_RATE) + SAMPLE_RATE // 10)
        if not opts.packed and clips[-1] or start + len(audio) > limit:
            clips.append([])
            start = round(opts.margin * SAMPLE_RATE) + SAMPLE_RATE // 10
        clips[-1].append((start, audio))
        it.clip = len(clips) - 1
        it.span = (start + it.render.speech_start, start + it.render.speech_end)
        cursor = start + len(audio)
    out = []
    for parts in clips:
        end = max(s + len(a) for s, a in parts) + round(opts.margin * SAMPLE_RATE) + 1600
        buf = np.zeros(min(end, round(30 * SAMPLE_RATE)), np.float32)
        for s, a in parts:
            buf[s:s + len(a)] += a
        out.append(buf)
    return out


def build_utterances(opts: SpeechDataOptions, encoder: WhisperStateEncoder | None = None,
                     progress: Callable[[str, int, int], None] | None = None) -> list[Utterance]:
    """Render, pack, encode and cut (no cache). progress(stage, done, total) if given."""
    enc = encoder or WhisperStateEncoder(EncoderOptions(model=opts.encoder, pool=opts.pool,
                                                        cache=False))
    if enc.options.pool != opts.pool or enc.options.layer_norm:
        enc = enc.with_options(pool=opts.pool, layer_norm=False)
    rng = random.Random(f"longspeech.lslm.voices:{opts.seed}")
    labels = opts.voice_labels()
    items = [_Item(t, rng.choice(labels), q) for t, q in _texts(opts)]
    cache = RenderCache(max_items=len(items) + 1)
    done = 0

    def render(it: _Item) -> None:
        nonlocal done
        it.render = cache.get(parse_voice(it.voice), it.text)
        done += 1
        if progress is not None and done % 50 == 0:
            progress("render", done, len(items))

    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as ex:
        list(ex.map(render, items))
    clips = _pack(items, opts, rng)
    states: list[np.ndarray] = []
    bs = enc.options.batch_size
    for i in range(0, len(clips), bs):
        states += enc.encode_clips(clips[i:i + bs])
        if progress is not None:
            progress("encode", min(i + bs, len(clips)), len(clips))
    fr = enc.frame_rate
    out = []
    for size in opts.spans:
        for run in _runs(items, size):
            h = states[run[0].clip]
            a = max(0, math.floor((run[0].span[0] / SAMPLE_RATE - opts.margin) * fr))
            b = min(len(h), math.ceil((run[-1].span[1] / SAMPLE_RATE + opts.margin) * fr))
            out.append(Utterance(" ".join(it.text for it in run), run[0].voice,
                                 np.ascontiguousarray(h[a:b], np.float32),
                                 tuple(q for it in run for q in it.qas)))
    return out


def _runs(items: list[_Item], size: int) -> list[list[_Item]]:
    """Consecutive items of one clip, `size` at a time (a clip's last run may be shorter;
    items are laid out in order, so a clip's items are contiguous)."""
    runs: list[list[_Item]] = []
    for it in items:
        if runs and runs[-1][0].clip == it.clip and len(runs[-1]) < size:
            runs[-1].append(it)
        else:
            runs.append([it])
    return runs


def _key(opts: SpeechDataOptions, model_key: str) -> str:
    fields = asdict(opts) | {"cache": None}
    if opts.spans == (1,):
        del fields["spans"]      # the default: the same key as sets made before spans existed
    blob = json.dumps({"v": DATA_VERSION, "opts": fields,
                       "model": model_key}, sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def load_utterances(opts: SpeechDataOptions, encoder: WhisperStateEncoder | None = None,
                    progress: Callable[[str, int, int], None] | None = None) -> list[Utterance]:
    """build_utterances, through a disk cache (cache_dir()/lslm-data) unless opts.cache is
    False. States are kept as float16 on disk."""
    enc = encoder or WhisperStateEncoder(EncoderOptions(model=opts.encoder, pool=opts.pool,
                                                        cache=False))
    root = cache_dir() / "lslm-data"
    path = root / f"{_key(opts, enc.model_key)}.npz"
    if opts.cache and path.is_file():
        return _read(path)
    utts = build_utterances(opts, enc, progress)
    if opts.cache:
        _write(path, utts)
    return utts


def training_sets(data: SpeechDataOptions, held_out: SpeechDataOptions | None,
                  progress: TrainCallback = silent
                  ) -> tuple[WhisperStateEncoder, list[Utterance], list[Utterance]]:
    """The encoder both training stages read states with, the training utterances and the
    held-out ones (empty without `held_out`), reporting data progress as TrainProgress."""
    encoder = WhisperStateEncoder(EncoderOptions(model=data.encoder, pool=data.pool,
                                                 cache=False))

    def data_progress(stage: str, done: int, total: int) -> None:
        progress(TrainProgress("data", done, total, message=stage))

    utts = load_utterances(data, encoder, data_progress)
    held = load_utterances(held_out, encoder, data_progress) if held_out is not None else []
    return encoder, utts, held


def _write(path: Path, utts: Sequence[Utterance]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = [{"text": u.text, "voice": u.voice, "frames": u.frames,
             "qas": [asdict(q) for q in u.qas]} for u in utts]
    tmp = path.with_name(path.name + ".part.npz")
    np.savez(tmp, states=np.concatenate([u.states for u in utts]).astype(np.float16),
             meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    os.replace(tmp, path)


def _read(path: Path) -> list[Utterance]:
    with np.load(path) as z:
        states = z["states"].astype(np.float32)
        meta = json.loads(z["meta"].tobytes().decode())
    out, i = [], 0
    for m in meta:
        out.append(Utterance(m["text"], m["voice"], states[i:i + m["frames"]],
                             tuple(QA(**q) for q in m["qas"])))
        i += m["frames"]
    return out
