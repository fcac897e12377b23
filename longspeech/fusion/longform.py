"""GFD over a whole recording: chunk by chunk, each chunk conditioned on what came before.

Whisper is prompted with the previous chunk's text; the LLM reads the user's prompt followed
by the last `context_chars` characters of the running transcript. Word times come from the
same teacher-forced cross-attention alignment the transformers engine uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..asr.alignment import align_words, teacher_forced
from ..asr.guards import compression_ratio, is_silence
from ..asr.options import AsrOptions
from ..asr.segments import build_segments
from ..audio import AudioChunk, VadOptions, iter_chunks, probe
from ..llm.registry import LoadedLLM, load_llm
from ..progress import Progress, ProgressCallback, no_progress
from ..types import Segment, Word
from .beam import DecodeResult, fused_beam_search, plain_beam_search
from .options import FusionOptions
from .prefix import PrefixScorer
from .whisper import WhisperAsr

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


class FusionTranscriber:
    """Whisper + LLM loaded once; `decode` one clip, `transcribe_chunks` a recording."""

    def __init__(self, opts: FusionOptions | None = None, *, asr: WhisperAsr | None = None,
                 llm: LoadedLLM | None = None):
        self.opts = opts or FusionOptions()
        self.opts.validate()
        o = self.opts
        self.asr = asr or WhisperAsr.load(o.asr_model, o.device, o.language)
        self.scorer: PrefixScorer | None = None
        if o.weight > 0:
            self.scorer = PrefixScorer(llm or load_llm(o.llm, o.device, o.llm_dtype),
                                       temperature=o.llm_temperature,
                                       repetition_penalty=o.repetition_penalty,
                                       penalty_window=o.penalty_window,
                                       penalize_prompt=o.penalize_prompt)
        self._asr_opts = AsrOptions(engine="transformers", model=o.asr_model,
                                    max_segment_seconds=o.max_segment_seconds,
                                    word_timestamps=o.word_timestamps)
        gc = self.asr.model.generation_config
        heads = [tuple(h) for h in getattr(gc, "alignment_heads", None) or []]
        self._heads = heads if o.word_timestamps and heads else None

    def provenance(self) -> dict[str, Any]:
        from ..models.registry import EMBEDDED

        o = self.opts
        m = EMBEDDED.get(o.asr_model)
        llm = self.scorer.llm if self.scorer else None
        return {"engine": "gfd", "model": o.asr_model, "sha256": m.sha256 if m else None,
                "llm": llm.id if llm else None, "llm_sha256": llm.sha256 if llm else None,
                "fusion_weight": o.weight, "beams": o.beams}

    def _search(self, enc: Any, prefix: list[int], prompt: str) -> DecodeResult:
        o = self.opts
        if self.scorer is None:
            return plain_beam_search(self.asr, enc, prefix, beams=o.beams,
                                     candidates_k=o.candidates, max_len_diff=o.max_len_diff,
                                     floor=o.score_floor)
        self.scorer.reset(prompt)
        return fused_beam_search(self.asr, enc, prefix, self.scorer, o)

    def decode(self, samples: np.ndarray, asr_prompt: str | None = None,
               prompt: str | None = None) -> DecodeResult:
        """Best hypothesis for one clip of <= 30 s (prompt: the LLM's, default opts.prompt)."""
        enc = self.asr.encode([samples])
        prefix = self.asr.prefix(asr_prompt if self.opts.asr_prompt else None)
        return self._search(enc, prefix, self.opts.prompt if prompt is None else prompt)

    def _segments(self, chunk: AudioChunk, asr_prompt: str | None, prompt: str) -> list[Segment]:
        enc = self.asr.encode([chunk.samples])
        prefix = self.asr.prefix(asr_prompt if self.opts.asr_prompt else None)
        res = self._search(enc, prefix, prompt)
        if not res.tokens:
            return []
        tok = self.asr.tokenizer
        frames = min(3000, int(np.ceil(len(chunk.samples) / SAMPLES_PER_FRAME)))
        scored = teacher_forced(self.asr.model, enc, prefix, res.tokens, tok.eot, tok.sot,
                                tok.no_speech, self._heads, frames)
        if is_silence(scored.avg_logprob, scored.no_speech_prob, self._asr_opts):
            return []
        c = chunk.chunk
        words = [Word(w["word"], c.start + w["start"], c.start + w["end"], w["probability"])
                 for w in align_words(scored, tok)]
        return build_segments(c, words, res.text, self._asr_opts, scored.avg_logprob,
                              scored.no_speech_prob, compression_ratio(res.text), 0.0,
                              chunk.samples)

    def transcribe_chunks(self, chunks: Iterable[AudioChunk],
                          on_chunk: Callable[[AudioChunk], None] | None = None
                          ) -> Iterator[list[Segment]]:
        """Segments of each chunk in turn, each decoded with the context before it."""
        transcript = ""
        previous: str | None = None
        for chunk in chunks:
            prompt = llm_prompt(self.opts.prompt, transcript, self.opts.context_chars)
            segments = self._segments(chunk, previous, prompt)
            text = " ".join(s.text.strip() for s in segments if s.text.strip())
            if text:
                transcript = f"{transcript} {text}".strip()
                previous = text
            if on_chunk is not None:
                on_chunk(chunk)
            yield segments


def transcribe_file(path: str | Path, opts: FusionOptions | None = None, *,
                    transcriber: FusionTranscriber | None = None,
                    vad_options: VadOptions | None = None,
                    progress: ProgressCallback = no_progress) -> list[Segment]:
    """GFD transcript of an audio file: VAD chunks of <= 30 s, decoded in order."""
    t = transcriber or FusionTranscriber(opts)
    rec = probe(path)

    def report(chunk: AudioChunk) -> None:
        progress(Progress(rec.id, chunk.chunk.end, rec.duration, stage="fusion"))

    out: list[Segment] = []
    for segments in t.transcribe_chunks(iter_chunks(path, vad_options), report):
        out.extend(segments)
    return out
