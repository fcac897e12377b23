"""WER as the Whisper papers report it: Whisper's text normaliser, then jiwer."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import jiwer


@lru_cache(maxsize=2)
def _normalizer(english: bool):
    from transformers.models.whisper.english_normalizer import (BasicTextNormalizer,
                                                                EnglishTextNormalizer)

    # The British->American spelling map ships with hub checkpoints only; without it the
    # normaliser still unifies numbers, contractions, punctuation and case.
    return EnglishTextNormalizer({}) if english else BasicTextNormalizer()


def normalize(text: str, english: bool = True) -> str:
    return " ".join(_normalizer(english)(text).split())


def word_error_rate(references: Sequence[str] | str, hypotheses: Sequence[str] | str,
                    english: bool = True) -> float:
    """Corpus WER over normalised texts (0.0 = perfect)."""
    refs = [references] if isinstance(references, str) else list(references)
    hyps = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
    refs = [normalize(r, english) for r in refs]
    hyps = [normalize(h, english) for h in hyps]
    scored = [(r, h) for r, h in zip(refs, hyps, strict=True) if r]
    # Words hypothesised over an empty reference are insertions jiwer cannot score alone.
    errors = sum(len(h.split()) for r, h in zip(refs, hyps) if not r)
    total = sum(len(r.split()) for r, _ in scored)
    if scored:
        m = jiwer.process_words([r for r, _ in scored], [h for _, h in scored])
        errors += m.substitutions + m.deletions + m.insertions
    if total == 0:
        return float(errors)
    return errors / total
