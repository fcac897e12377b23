"""The fast path: CTranslate2 Whisper through faster-whisper, batched chunks, int8 on CPU.

A batch is decoded at temperature 0 with faster-whisper's batched generator; any chunk that
trips a hallucination guard is decoded again alone with the temperature fallback.

CTranslate2 samples from one random generator per worker thread, seeded once when the thread
first samples, so a model that has sampled before samples differently. Every fallback decode
therefore starts on a freshly loaded model whose thread is seeded with the options' seed: a
chunk's text does not depend on what the process decoded before it (runner, batch, order).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelNotAvailableError
from ..models.registry import EMBEDDED, check_hub_model, ct2_dir, hub_error
from ..types import Segment, Word
from .base import ChunkAudio
from .guards import compression_ratio, is_silence, needs_fallback
from .options import AsrOptions
from .segments import build_segments


def _compute_type(opts: AsrOptions) -> str:
    if opts.compute_type == "auto":
        return "int8" if opts.device == "cpu" else "float16"
    return opts.compute_type


def cpu_threads(opts: AsrOptions) -> int:
    """CTranslate2's threads: the options' count, else OMP_NUM_THREADS (a Ray actor's share),
    else one per core this process may use, at most 4 (CTranslate2's own default is 4, which
    oversubscribes a 2-core machine: about 10% slower there). The count does not change the
    text."""
    if opts.cpu_threads > 0:
        return opts.cpu_threads
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, len(os.sched_getaffinity(0))))


def _load(opts: AsrOptions) -> Any:
    from faster_whisper import WhisperModel

    compute = _compute_type(opts)
    if opts.model in EMBEDDED:
        path = str(ct2_dir(opts.model))
    else:
        check_hub_model(opts.model)
        path = opts.model
    try:
        model = WhisperModel(path, device=opts.device, compute_type=compute,
                             cpu_threads=cpu_threads(opts))
    except (OSError, ValueError, RuntimeError) as e:
        if opts.model in EMBEDDED or Path(opts.model).is_dir():
            raise ModelNotAvailableError(f"cannot load {opts.model!r} with CTranslate2: {e}") from e
        raise hub_error(opts.model, e) from e
    except Exception as e:  # huggingface_hub raises its own offline/not-found errors
        raise hub_error(opts.model, e) from e
    return model


class Ct2Engine:
    sequential = False

    def __init__(self, opts: AsrOptions):
        from faster_whisper.transcribe import BatchedInferencePipeline

        opts.validate()
        self.opts = opts
        self.model = _load(opts)
        self.compute_type = _compute_type(opts)
        self.pipeline = BatchedInferencePipeline(self.model)
        self.multilingual = bool(self.model.model.is_multilingual)

    def provenance(self) -> dict[str, Any]:
        m = EMBEDDED.get(self.opts.model)
        return {"engine": "ct2", "model": self.opts.model,
                "sha256": m.sha256 if m else None, "compute_type": self.compute_type}

    def _features(self, samples: np.ndarray) -> np.ndarray:
        from faster_whisper.audio import pad_or_trim

        return pad_or_trim(self.model.feature_extractor(samples)[..., :-1])

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        if not self.multilingual:
            return "en", 1.0
        lang, prob, _ = self.model.detect_language(features=self._features(samples))
        return lang, float(prob)

    def _tokenizer(self, language: str) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        return Tokenizer(self.model.hf_tokenizer, self.multilingual, task=self.opts.task,
                         language=language)

    def _options(self, tokenizer: Any) -> Any:
        from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

        o = self.opts
        return TranscriptionOptions(
            beam_size=o.beam_size, best_of=5, patience=1.0, length_penalty=o.length_penalty,
            repetition_penalty=1.0, no_repeat_ngram_size=0, log_prob_threshold=o.log_prob_threshold,
            no_speech_threshold=o.no_speech_threshold,
            compression_ratio_threshold=o.compression_ratio_threshold,
            temperatures=[o.temperatures[0]], initial_prompt=o.initial_prompt, prefix=None,
            suppress_blank=True, suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            prepend_punctuations="\"'“¿([{-", append_punctuations="\"'.。,，!！?？:：”)]}、",
            max_new_tokens=None, hotwords=o.hotwords, word_timestamps=o.word_timestamps,
            hallucination_silence_threshold=None, condition_on_previous_text=False,
            clip_timestamps=[], prompt_reset_on_temperature=0.5, multilingual=False,
            without_timestamps=True, max_initial_timestamp=0.0)

    def transcribe_batch(self, chunks: Sequence[ChunkAudio], language: str,
                         context: Sequence[str] = ()) -> list[list[Segment]]:
        if not chunks:
            return []
        tokenizer = self._tokenizer(language)
        options = self._options(tokenizer)
        features = np.stack([self._features(c.samples) for c in chunks])
        meta = [{"offset": c.chunk.start, "duration": len(c.samples) / 16000.0,
                 "segments": []} for c in chunks]
        self.pipeline.last_speech_timestamp = chunks[0].chunk.start
        outputs = self.pipeline.forward(features, tokenizer, meta, options)
        results = []
        for c, subsegs in zip(chunks, outputs):
            text = "".join(s["text"] for s in subsegs)
            avg_lp = float(subsegs[0]["avg_logprob"]) if subsegs else 0.0
            nsp = float(subsegs[0]["no_speech_prob"]) if subsegs else 1.0
            cr = compression_ratio(text)
            if subsegs and needs_fallback(avg_lp, cr, nsp, self.opts) and len(self.opts.temperatures) > 1:
                results.append(self._fallback(c, language))
                continue
            if not subsegs or is_silence(avg_lp, nsp, self.opts):
                results.append([])
                continue
            words = [Word(w["word"], w["start"], w["end"], w["probability"])
                     for s in subsegs for w in (s.get("words") or [])]
            results.append(self._segments(c, words, text, avg_lp, nsp, cr,
                                          self.opts.temperatures[0]))
        return results

    def _segments(self, c: ChunkAudio, words: list[Word], text: str, avg_lp: float, nsp: float,
                  cr: float, temperature: float) -> list[Segment]:
        return build_segments(c.chunk, words, text, self.opts, avg_lp, nsp, cr, temperature,
                              c.samples)

    def _reseeded(self) -> None:
        """Swap in a fresh copy of the CTranslate2 model whose sampling thread starts from
        the options' seed (about 0.15 s for tiny.en on CPU)."""
        import ctranslate2

        old = self.model.model
        path = self.opts.model
        if self.opts.model in EMBEDDED:
            path = str(ct2_dir(self.opts.model))
        elif not Path(path).is_dir():
            from faster_whisper.utils import download_model

            path = download_model(path, local_files_only=True)   # loaded before: cached
        ctranslate2.set_random_seed(self.opts.seed)
        self.model.model = ctranslate2.models.Whisper(
            path, device=old.device, device_index=old.device_index,
            compute_type=old.compute_type, intra_threads=cpu_threads(self.opts),
            inter_threads=old.num_workers)

    def _fallback(self, c: ChunkAudio, language: str) -> list[Segment]:
        """Decode one chunk alone with faster-whisper's temperature fallback and guards."""
        o = self.opts
        self._reseeded()
        segs, _ = self.model.transcribe(
            c.samples, language=language if self.multilingual else None, task=o.task,
            beam_size=o.beam_size, temperature=list(o.temperatures[1:]),
            compression_ratio_threshold=o.compression_ratio_threshold,
            log_prob_threshold=o.log_prob_threshold, no_speech_threshold=o.no_speech_threshold,
            condition_on_previous_text=False, initial_prompt=o.initial_prompt,
            hotwords=o.hotwords, word_timestamps=o.word_timestamps, vad_filter=False,
            without_timestamps=True)
        out: list[Segment] = []
        for s in segs:
            words = [Word(w.word, w.start + c.chunk.start, w.end + c.chunk.start, w.probability)
                     for w in (s.words or [])]
            out.extend(self._segments(c, words, s.text, s.avg_logprob, s.no_speech_prob,
                                      s.compression_ratio, s.temperature))
        return out
