"""The gfd engine: Whisper (transformers) with an LLM fused into its beam search through bytes.

It is an Engine like the others: the job gives it the same chunk plan, detected language,
initial prompt and guards. One difference: each chunk is decoded with the text before it as
context (Whisper is prompted with the previous chunk's text; the LLM reads the user's prompt
followed by the last `context_chars` characters of the running transcript), so it is
`sequential`: the job decodes a recording's chunk groups in order, each with the text of the
groups before it.

Guards: a fused chunk whose text is too repetitive or too unlikely under Whisper alone (the
temperature-fallback rule), or whose search ran past the text its duration can hold (a loop;
fusion/whisper.py), is decoded again by the transformers engine with its fallback, and
the no-speech rule drops silence; word times come from the same teacher-forced alignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..audio.decode import SAMPLE_RATE
from ..fusion import DecodeResult, FusionOptions, PrefixScorer, WhisperAsr
from ..fusion.beam import fused_search, plain_search, run_searches
from ..fusion.terms import Term, glossary_terms, propose_terms
from ..fusion.whisper import WhisperSteps
from ..llm.registry import LoadedLLM, load_llm
from ..errors import InvalidOptionError
from ..models.registry import EMBEDDED
from ..types import Segment, Word
from .alignment import align_words, teacher_forced
from .base import ChunkAudio
from .guards import compression_ratio, is_silence, needs_fallback
from .hf_engine import TransformersEngine
from .options import AsrOptions
from .respell import respell, respell_terms
from .segments import build_segments

SAMPLES_PER_FRAME = 160   # 10 ms mel frames at 16 kHz


def llm_prompt(prompt: str, transcript: str, context_chars: int) -> str:
    """The user's prompt, then at most the last `context_chars` characters of the transcript.

    The cut moves in steps of a quarter of `context_chars` (then forward to a word start), so
    consecutive chunks usually share their whole prompt prefix and the LLM's cache of it is
    reused instead of recomputed (it is ~1000 tokens at 4000 characters).
    """
    tail = ""
    if context_chars > 0:
        step = max(1, context_chars // 4)
        cut = max(0, len(transcript) - context_chars)
        cut = -(-cut // step) * step            # round up to a multiple of step
        tail = transcript[cut:]
        if cut > 0 and " " in tail:
            tail = tail[tail.index(" ") + 1:]
    return " ".join(p for p in (prompt.strip(), tail.strip()) if p)


class GfdEngine:
    """Whisper + LLM loaded once. `transcribe_batch` decodes a recording's chunks in order;
    `decode` one clip (for tests and benchmarks)."""

    sequential = True     # each chunk is decoded with the text before it

    def __init__(self, opts: AsrOptions, *, asr: WhisperAsr | None = None,
                 llm: LoadedLLM | None = None):
        opts.validate()
        self.opts = opts
        self.fusion: FusionOptions = opts.fusion or FusionOptions()
        self.fusion.validate()
        f = self.fusion
        self.plain = TransformersEngine(replace(opts, engine="transformers", fusion=None),
                                        model=(asr.model, asr.processor, asr.model_id)
                                        if asr is not None else None)
        self.multilingual = self.plain.multilingual
        self._asr: dict[str, WhisperAsr] = {}
        if asr is not None:
            self._asr[opts.language or "en"] = asr
        self.scorer: PrefixScorer | None = None
        self.llm_dtype: str | None = None
        self._terms: dict[tuple[int, str], tuple[Term, ...]] = {}
        self._respell_terms: dict[tuple[int, str], tuple[str, ...]] = {}
        if f.weight > 0:
            dtype = f.llm_dtype
            if dtype == "auto":
                dtype = "int8" if opts.device == "cpu" else "float32"
            int8 = dtype == "int8"
            if int8 and opts.device != "cpu":
                raise InvalidOptionError("the LLM's int8 steps run on the CPU; on a GPU use "
                                         "llm_dtype float16 or bfloat16")
            self.llm_dtype = dtype
            self.scorer = PrefixScorer(llm or load_llm(f.llm, opts.device,
                                                       "float32" if int8 else dtype),
                                       int8_steps=int8,
                                       temperature=f.llm_temperature,
                                       repetition_penalty=f.repetition_penalty,
                                       penalty_window=f.penalty_window,
                                       penalize_prompt=f.penalize_prompt)
        gc = self.plain.model.generation_config
        heads = [tuple(h) for h in getattr(gc, "alignment_heads", None) or []]
        self._heads = heads if opts.word_timestamps and heads else None

    def asr(self, language: str = "en") -> WhisperAsr:
        """The step-by-step decoder for `language` (one per language, sharing the model)."""
        key = language if self.multilingual else "en"
        if key not in self._asr:
            p = self.plain
            self._asr[key] = WhisperAsr.from_model(p.model, p.processor, self.opts.model, key,
                                                   self.opts.task)
        return self._asr[key]

    def provenance(self) -> dict[str, Any]:
        m = EMBEDDED.get(self.opts.model)
        llm = self.scorer.llm if self.scorer else None
        return {"engine": "gfd", "model": self.opts.model, "sha256": m.sha256 if m else None,
                "llm": llm.id if llm else None, "llm_sha256": llm.sha256 if llm else None,
                "fusion_weight": self.fusion.weight, "llm_dtype": self.llm_dtype,
                "beams": self.opts.beam_size}

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        return self.plain.detect_language(samples)

    def terms(self, asr: WhisperAsr, glossary: str) -> tuple[Term, ...]:
        """The glossary's rare words in this decoder's spelling."""
        key = (id(asr), glossary)
        if key not in self._terms:
            self._terms[key] = glossary_terms(asr, glossary)
        return self._terms[key]

    def _search(self, asr: WhisperAsr, steps: WhisperSteps, prompt: str,
                glossary: str) -> DecodeResult:
        """The fused search (the LLM reads `prompt`; `glossary`'s terms are offered); with a
        guard, the plain one beside it (one decoder call a step for both), kept instead when
        Whisper alone finds the fused text far less likely."""
        f = self.fusion
        plain = plain_search(asr, steps, beams=self.opts.beam_size, candidates_k=f.candidates,
                             max_len_diff=f.max_len_diff, floor=f.score_floor)
        if self.scorer is None:
            return run_searches(steps, [plain])[0]
        self.scorer.reset(prompt)
        fused = fused_search(asr, steps, self.scorer, f, self.opts.beam_size,
                             self.terms(asr, glossary), propose_terms)
        if f.guard is None:
            return run_searches(steps, [fused])[0]
        fused_res, base = run_searches(steps, [fused, plain])
        if fused_res.asr_score < base.asr_score - f.guard:
            base.guarded = True
            return base
        return fused_res

    def _respell(self, steps: WhisperSteps, res: DecodeResult, glossary: str) -> DecodeResult:
        """`res` with words that sound like a glossary term respelled where Whisper and the
        LLM agree (asr/respell.py); after the search and its guards, which judge what the
        search found."""
        f = self.fusion
        if self.scorer is None or f.respell_margin is None or not res.tokens:
            return res
        key = (id(steps.asr), glossary)
        if key not in self._respell_terms:
            self._respell_terms[key] = respell_terms(steps.asr, glossary)
        terms = self._respell_terms[key]
        if not terms:
            return res
        tokens, res.respelled = respell(steps, res.tokens, terms, self.scorer,
                                        f.respell_margin, f.respell_similarity)
        if res.respelled:
            res.tokens, res.text = tokens, steps.asr.text(tokens)
        return res

    def decode(self, samples: np.ndarray, asr_prompt: str | None = None,
               prompt: str | None = None, language: str = "en") -> DecodeResult:
        """Best hypothesis for one clip of <= 30 s (prompt: the LLM's, default the options')."""
        asr = self.asr(language)
        enc = asr.encode([samples])
        prefix = asr.prefix(asr_prompt if self.fusion.asr_prompt else None)
        prompt = self.fusion.prompt if prompt is None else prompt
        steps = WhisperSteps(asr, enc, prefix)
        return self._respell(steps, self._search(asr, steps, prompt, prompt),
                             prompt)

    def _fallback(self, chunk: ChunkAudio, language: str) -> list[Segment]:
        """The chunk decoded again by the transformers engine with its temperature fallback."""
        return [replace(s, decoder="fallback")
                for s in self.plain.transcribe_batch([chunk], language)[0]]

    def _segments(self, chunk: ChunkAudio, language: str, asr_prompt: str | None,
                  prompt: str) -> list[Segment]:
        asr = self.asr(language)
        enc = asr.encode([chunk.samples])
        prefix = asr.prefix(self.opts.prompt_text(asr_prompt if self.fusion.asr_prompt
                                                  else None))
        steps = WhisperSteps(asr, enc, prefix, seconds=len(chunk.samples) / SAMPLE_RATE)
        res = self._search(asr, steps, prompt, self.fusion.prompt)
        if steps.ran_away(res.beams[0].tokens):
            return self._fallback(chunk, language)
        # A search stopped by the decoder's length limit leaves no position for the EOT that
        # scoring appends: such a text (a loop) is cut, then caught by the guards below.
        room = asr.max_len - len(prefix) - 1
        if len(res.tokens) > room:
            res.tokens = res.tokens[:room]
            res.text = asr.text(res.tokens)
        if not res.tokens:
            return []
        tok = asr.tokenizer
        frames = min(3000, int(np.ceil(len(chunk.samples) / SAMPLES_PER_FRAME)))
        scored = teacher_forced(asr.model, enc, prefix, res.tokens, tok.eot, tok.sot,
                                tok.no_speech, self._heads, frames)
        cr = compression_ratio(res.text)
        if needs_fallback(scored.avg_logprob, cr, scored.no_speech_prob, self.opts):
            return self._fallback(chunk, language)
        if is_silence(scored.avg_logprob, scored.no_speech_prob, self.opts):
            return []
        if self._respell(steps, res, self.fusion.prompt).respelled:
            scored = teacher_forced(asr.model, enc, prefix, res.tokens, tok.eot, tok.sot,
                                    tok.no_speech, self._heads, frames)
            cr = compression_ratio(res.text)
        c = chunk.chunk
        words = [Word(w["word"], c.start + w["start"], c.start + w["end"], w["probability"])
                 for w in align_words(scored, tok)]
        made = "plain" if res.guarded or self.scorer is None else "gfd"
        return [replace(s, decoder=made)
                for s in build_segments(c, words, res.text, self.opts, scored.avg_logprob,
                                        scored.no_speech_prob, cr, 0.0, chunk.samples)]

    def transcribe_batch(self, chunks: Sequence[ChunkAudio], language: str,
                         context: Sequence[str] = ()) -> list[list[Segment]]:
        """Segments of each chunk in turn, each decoded with the text before it (`context`:
        the texts of the recording's earlier chunks). Whisper is prompted with the previous
        chunk's text (at first, the options' initial prompt); the LLM reads its prompt and
        the running transcript."""
        said = [t for t in context if t]
        transcript = " ".join(said)
        previous = said[-1] if said else self.opts.initial_prompt
        out = []
        for chunk in chunks:
            prompt = llm_prompt(self.fusion.prompt, transcript, self.fusion.context_chars)
            segments = self._segments(chunk, language, previous, prompt)
            text = " ".join(s.text.strip() for s in segments if s.text.strip())
            if text:
                transcript = f"{transcript} {text}".strip()
                previous = text
            out.append(segments)
        return out
