"""Acoustic verification: does Whisper find a corrected segment as likely as the original?

The segment's audio is encoded once; each candidate text is scored by one teacher-forced
decoder pass (the same scoring the transformers ASR engine uses for its guards), summing the
log-probabilities of its tokens and the end of text. An LLM that rewrites what was not said
makes that sum fall sharply; a real correction keeps it about level or raises it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..asr.alignment import teacher_forced
from ..models.whisper_hf import load_whisper
from ..audio import SAMPLE_RATE, read_span
from ..models.registry import EMBEDDED

MAX_SECONDS = 30.0  # Whisper's input window


class AcousticVerifier:
    """A Whisper model that scores texts against audio spans of one recording."""

    def __init__(self, model_id: str = "tiny.en", device: str = "cpu", language: str = "en"):
        from faster_whisper.tokenizer import Tokenizer

        self.model_id = model_id
        self.model, self.processor, self.source = load_whisper(model_id, device)
        multilingual = bool(getattr(self.model.generation_config, "is_multilingual", False))
        self.tokenizer = Tokenizer(self.processor.tokenizer.backend_tokenizer, multilingual,
                                   task="transcribe", language=language if multilingual else "en")
        self.prompt = list(self.tokenizer.sot_sequence) + [self.tokenizer.no_timestamps]

    def provenance(self) -> dict[str, Any]:
        m = EMBEDDED.get(self.model_id)
        return {"model": self.model_id, "sha256": m.sha256 if m else None}

    def encode(self, samples: np.ndarray) -> torch.Tensor:
        """Encoder output for up to 30 s of 16 kHz audio (longer input is cut)."""
        samples = samples[:int(MAX_SECONDS * SAMPLE_RATE)]
        fe = self.processor.feature_extractor
        feats = fe([samples], sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        with torch.inference_mode():
            return self.model.model.encoder(
                feats.to(self.model.device, self.model.dtype)).last_hidden_state

    def score(self, encoded: torch.Tensor, text: str) -> float:
        """Total log-likelihood (nats) of `text` then end-of-text given the encoded audio."""
        tok = self.tokenizer
        tokens = tok.encode(" " + text.strip()) if text.strip() else []
        tokens = tokens[:self.model.config.max_target_positions - len(self.prompt) - 1]
        dec = teacher_forced(self.model, encoded, self.prompt, tokens, tok.eot, tok.sot, None,
                             None, 0)
        return float(np.sum(dec.token_logprobs))


class SegmentAudio:
    """One segment's audio, encoded on first use, with the scores of texts already asked."""

    def __init__(self, verifier: AcousticVerifier, path: str | Path, start: float, end: float,
                 margin: float):
        self.verifier = verifier
        self.path, self.start, self.end, self.margin = path, start, end, margin
        self._encoded: torch.Tensor | None = None
        self._scores: dict[str, float] = {}

    @property
    def too_long(self) -> bool:
        return self.end - self.start > MAX_SECONDS

    def score(self, text: str) -> float:
        if text not in self._scores:
            if self._encoded is None:
                m = max(0.0, min(self.margin, (MAX_SECONDS - (self.end - self.start)) / 2))
                a = max(0.0, self.start - m)
                self._encoded = self.verifier.encode(read_span(self.path, a, self.end + m))
            self._scores[text] = self.verifier.score(self._encoded, text)
        return self._scores[text]
