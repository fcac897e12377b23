"""The transformers path: WhisperForConditionalGeneration, the engine GFD and encoders build on.

Decoding uses transformers' generate (beam search at temperature 0, sampling on fallback);
one teacher-forced pass then scores the result and aligns its words (see alignment.py), so the
guards and word times follow the same rules as the CTranslate2 engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from transformers.modeling_outputs import BaseModelOutput

from ..models.registry import EMBEDDED
from ..models.whisper_hf import load_whisper
from ..types import Segment, Word
from .alignment import ScoredDecode, align_words, teacher_forced
from .base import ChunkAudio
from .guards import compression_ratio, is_silence, needs_fallback
from .options import AsrOptions
from .segments import build_segments

N_FRAMES = 3000  # 30 s of 10 ms mel frames: Whisper's fixed input


class TransformersEngine:
    sequential = False

    def __init__(self, opts: AsrOptions, model: tuple[Any, Any, Any] | None = None):
        """model: an already loaded (model, processor, source) to use instead of loading."""
        from faster_whisper.tokenizer import Tokenizer

        opts.validate()
        self.opts = opts
        self.device = torch.device(opts.device)
        self.model, self.processor, self.source = model or load_whisper(opts.model, opts.device)
        self.multilingual = bool(self.model.generation_config.is_multilingual)
        self._Tokenizer = Tokenizer
        self._hf_tok = self.processor.tokenizer.backend_tokenizer
        gc = self.model.generation_config
        self.heads = [tuple(h) for h in getattr(gc, "alignment_heads", None) or []] or None

    def provenance(self) -> dict[str, Any]:
        m = EMBEDDED.get(self.opts.model)
        return {"engine": "transformers", "model": self.opts.model,
                "sha256": m.sha256 if m else None, "dtype": str(self.model.dtype)}

    def tokenizer(self, language: str) -> Any:
        return self._Tokenizer(self._hf_tok, self.multilingual, task=self.opts.task,
                               language=language if self.multilingual else "en")

    def features(self, chunks: Sequence[np.ndarray]) -> torch.Tensor:
        fe = self.processor.feature_extractor
        feats = fe(list(chunks), sampling_rate=16000, return_tensors="pt").input_features
        return feats.to(self.device, self.model.dtype)

    def encode(self, feats: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.model.model.encoder(feats).last_hidden_state

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        if not self.multilingual:
            return "en", 1.0
        gc = self.model.generation_config
        enc = self.encode(self.features([samples]))
        ids = torch.tensor([[gc.decoder_start_token_id]], device=self.device)
        with torch.inference_mode():
            logits = self.model(encoder_outputs=BaseModelOutput(last_hidden_state=enc),
                                decoder_input_ids=ids).logits[0, -1]
        lang_ids = torch.tensor(list(gc.lang_to_id.values()))
        probs = torch.softmax(logits[lang_ids].float(), dim=-1)
        best = int(probs.argmax())
        return list(gc.lang_to_id)[best][2:-2], float(probs[best])

    def _prompt(self, tok: Any) -> list[int]:
        prompt = list(tok.sot_sequence) + [tok.no_timestamps]
        text = self.opts.prompt_text()
        if text:
            prev = tok.encode(" " + text)[-223:]
            prompt = [tok.sot_prev] + prev + prompt
        return prompt

    def _generate(self, enc: torch.Tensor, tok: Any, language: str,
                  temperature: float) -> list[list[int]]:
        o = self.opts
        kw: dict[str, Any] = dict(return_timestamps=False, max_new_tokens=220)
        if self.multilingual:
            kw.update(language=language, task=o.task)
        prompt = self._prompt(tok)  # encodes the initial prompt: once per call, not per row
        if o.prompt_text():
            kw["prompt_ids"] = torch.tensor(prompt[:prompt.index(tok.sot)])
        if temperature == 0.0:
            kw.update(num_beams=o.beam_size, do_sample=False, length_penalty=o.length_penalty)
        else:
            kw.update(do_sample=True, temperature=temperature, num_beams=1)
        # Sampling starts from the options' seed on every call, without touching the
        # process's own random state: a chunk decodes the same way wherever it is decoded.
        gpus = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.inference_mode(), torch.random.fork_rng(devices=gpus):
            torch.manual_seed(o.seed)
            seqs = self.model.generate(encoder_outputs=BaseModelOutput(last_hidden_state=enc), **kw)
        if not torch.is_tensor(seqs):
            seqs = seqs["sequences"]
        start = len(prompt)
        out = []
        for row in seqs.tolist():
            # generate() may or may not echo the prompt; text tokens are those below EOT.
            body = row[start:] if row[:start] == prompt else row
            out.append([t for t in body if t < tok.eot])
        return out

    def _score(self, enc: torch.Tensor, tok: Any, tokens: list[int], n_samples: int) -> ScoredDecode:
        frames = min(N_FRAMES, int(np.ceil(n_samples / 160)))
        return teacher_forced(self.model, enc, self._prompt(tok), tokens, tok.eot, tok.sot,
                              tok.no_speech, self.heads if self.opts.word_timestamps else None,
                              frames)

    def transcribe_batch(self, chunks: Sequence[ChunkAudio], language: str,
                         context: Sequence[str] = ()) -> list[list[Segment]]:
        if not chunks:
            return []
        tok = self.tokenizer(language)
        enc = self.encode(self.features([c.samples for c in chunks]))
        first = self._generate(enc, tok, language, self.opts.temperatures[0])
        results = []
        for i, c in enumerate(chunks):
            e = enc[i:i + 1]
            temperature = self.opts.temperatures[0]
            dec = self._score(e, tok, first[i], len(c.samples))
            text = tok.decode(dec.tokens)
            cr = compression_ratio(text)
            for t in self.opts.temperatures[1:]:
                if not needs_fallback(dec.avg_logprob, cr, dec.no_speech_prob, self.opts):
                    break
                temperature = t
                dec = self._score(e, tok, self._generate(e, tok, language, t)[0], len(c.samples))
                text = tok.decode(dec.tokens)
                cr = compression_ratio(text)
            if not dec.tokens or is_silence(dec.avg_logprob, dec.no_speech_prob, self.opts):
                results.append([])
                continue
            words = [Word(w["word"], c.chunk.start + w["start"], c.chunk.start + w["end"],
                          w["probability"]) for w in align_words(dec, tok)]
            results.append(build_segments(c.chunk, words, text, self.opts, dec.avg_logprob,
                                          dec.no_speech_prob, cr, temperature, c.samples))
        return results
