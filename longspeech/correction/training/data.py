"""The corrector's training data, made by the project itself: text -> speech -> ASR -> pairs.

Sentences of the synthetic corpus are spoken (1-3 to an utterance) by the synthesiser's voices
at several speaking rates, with no noise or white noise at 20 or 10 dB, and recognised by the
embedded Whisper models (tiny.en and base: the errors users get). Each recognised text is
aligned with what was spoken and its differences labelled (error_pairs.py). Utterances are
appended to OUT/utterances.jsonl as they finish, so a killed run resumes where it stopped;
OUT/items.jsonl then holds the training items in the paper's formats: segment and full-text
context, corrected text and JSON pairs as targets.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ...errors import InvalidOptionError
from ...files import atomic_write_text
from ...synth import DEFAULT_VOICES, RenderCache, Voice, sentences
from ...synth.render import SAMPLE_RATE
from ...types import Chunk
from ...wer import normalize
from ..error_pairs import error_pairs
from .items import training_items

UTTERANCES = "utterances.jsonl"
ITEMS = "items.jsonl"
OPTIONS = "data_options.json"


@dataclass(frozen=True)
class CorrectionDataOptions:
    """sentences: corpus sentences spoken (seeded by `seed`); voices: synthesiser voices
    (engine:name labels; default the eight built-in ones); rates: speaking-rate factors;
    snrs: white-noise levels in dB (None: clean); models: Whisper models that recognise
    each utterance; full_text: consecutive utterances that make one full-text item."""

    out_dir: str
    sentences: int = 600
    seed: int = 0
    voices: tuple[str, ...] = ()
    rates: tuple[float, ...] = (0.85, 1.0, 1.2)
    snrs: tuple[float | None, ...] = (None, 20.0, 10.0)
    models: tuple[str, ...] = ("tiny.en", "base")
    per_utterance: tuple[int, int] = (1, 3)
    full_text: int = 6
    texts: tuple[str, ...] = field(default=(), repr=False)   # instead of the corpus

    def __post_init__(self) -> None:
        if self.sentences < 1 or not self.models or not self.rates or not self.snrs:
            raise InvalidOptionError("sentences, models, rates and snrs must not be empty")
        lo, hi = self.per_utterance
        if not 1 <= lo <= hi:
            raise InvalidOptionError("per_utterance must be (lo, hi) with 1 <= lo <= hi")


@dataclass(frozen=True)
class _Clip:
    chunk: Chunk
    samples: np.ndarray


def _voice(label: str) -> Voice:
    for v in DEFAULT_VOICES:
        if v.label == label:
            return v
    engine, _, name = label.partition(":")
    return Voice(engine, name)


def _with_rate(v: Voice, rate: float) -> Voice:
    """The voice speaking `rate` times as fast (espeak words a minute, flite stretch)."""
    params = dict(v.params)
    if v.engine == "espeak":
        params["rate"] = round(params.get("rate", 160.0) * rate, 1)
    else:
        params["duration_stretch"] = round(params.get("duration_stretch", 1.0) / rate, 3)
    return replace(v, params=tuple(sorted(params.items())))


def plan(opts: CorrectionDataOptions) -> list[dict]:
    """Every utterance to make: its id, sentences, voice, rate and noise (seeded)."""
    rng = random.Random(opts.seed)
    texts = list(opts.texts) or sentences(opts.seed, opts.sentences)
    voices = list(opts.voices) or [v.label for v in DEFAULT_VOICES]
    out, i = [], 0
    while i < len(texts):
        n = rng.randint(*opts.per_utterance)
        out.append({"id": f"u{len(out):05d}", "sentences": texts[i:i + n],
                    "voice": voices[len(out) % len(voices)], "rate": rng.choice(opts.rates),
                    "snr": rng.choice(opts.snrs), "noise_seed": rng.randrange(2**31)})
        i += n
    return out


def speak(u: dict, cache: RenderCache) -> np.ndarray:
    """The utterance's audio: its sentences 0.3 s apart, with its noise."""
    voice = _with_rate(_voice(u["voice"]), u["rate"])
    gap = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    parts = [gap]
    for text in u["sentences"]:
        parts += [cache.get(voice, text).audio, gap]
    x = np.concatenate(parts).astype(np.float32)
    if u["snr"] is not None:
        power = float(np.mean(x[np.abs(x) > 1e-4] ** 2)) if np.any(np.abs(x) > 1e-4) else 0.0
        noise = np.random.default_rng(u["noise_seed"]).standard_normal(len(x))
        x = x + np.sqrt(power / 10 ** (u["snr"] / 10)) * noise.astype(np.float32)
    return np.clip(x, -1.0, 1.0)


def _read_done(path: Path) -> dict[tuple[str, str], dict]:
    """Utterances already recognised; a line cut short by a kill is dropped."""
    done: dict[tuple[str, str], dict] = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            done[(row["id"], row["model"])] = row
        except (ValueError, KeyError, TypeError):
            continue
    return done


def _rewrite(path: Path, rows: Sequence[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def build(opts: CorrectionDataOptions, progress=None) -> Path:
    """Make (or finish) the dataset in opts.out_dir; returns the items file."""
    from ...asr import AsrOptions, load_engine

    out = Path(opts.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    want = {k: v for k, v in asdict(opts).items() if k != "out_dir"}
    saved = out / OPTIONS
    if saved.exists() and json.loads(saved.read_text()) != json.loads(json.dumps(want)):
        raise InvalidOptionError(f"{out} holds a dataset made with other options; give "
                                 "another --out or the same options")
    atomic_write_text(saved, json.dumps(want, indent=1))
    utts = plan(opts)
    path = out / UTTERANCES
    done = _read_done(path)
    _rewrite(path, list(done.values()))      # drop a torn last line before appending
    cache = RenderCache(max_items=64)
    total = len(utts) * len(opts.models)
    with path.open("a", encoding="utf-8") as f:
        for model in opts.models:
            todo = [u for u in utts if (u["id"], model) not in done]
            if not todo:
                continue
            engine = load_engine(AsrOptions(model=model, language="en"))
            for u in todo:
                x = speak(u, cache)
                clip = _Clip(Chunk(u["id"], 0, 0.0, len(x) / SAMPLE_RATE), x)
                segs = engine.transcribe_batch([clip], "en")[0]
                hyp = " ".join(" ".join(s.text.split()) for s in segs)
                ref = " ".join(u["sentences"])
                row = {**u, "model": model, "hypothesis": hyp, "reference": ref,
                       "errors": [asdict(p) for p in error_pairs(hyp, ref)],
                       "word_errors": normalize(hyp) != normalize(ref)}
                f.write(json.dumps(row) + "\n")
                f.flush()
                os.fsync(f.fileno())
                done[(u["id"], model)] = row
                if progress is not None:
                    progress(len(done), total)
    rows = [done[(u["id"], m)] for m in opts.models for u in utts]
    for r in rows:          # the labels as this version makes them
        r["errors"] = [asdict(p) for p in error_pairs(r["hypothesis"], r["reference"])]
    _rewrite(path, rows)
    items = out / ITEMS
    _rewrite(items, list(training_items(rows, opts.full_text)))
    return items


def read_items(path: str | Path) -> Iterator[dict]:
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)
