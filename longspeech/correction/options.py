"""Options of LLM transcript correction with acoustic verification."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidOptionError

FORMATS = ("pairs", "text")
CONTEXTS = ("full", "segment")


@dataclass
class CorrectionOptions:
    """How the LLM is prompted and how strictly its edits are checked.

    format: "text" asks for the corrected segment (diffed into pairs here), "pairs" for JSON
        correction pairs; both go through the same checks. "text" is the default because the
        embedded 135M model rarely writes useful pairs (benchmarks/correction.py).
    threshold: nats of Whisper log-likelihood (summed over the segment's tokens) a word-changing
        edit may cost and still be accepted. The verifier is often the model that made the error,
        so a right word can score a little below the recognised one; a wrong word usually costs
        far more, though a near-sounding one ("nineteen" -> "ninety") may cost only ~2.
    budget: most words of a segment that word-changing edits may change, as a fraction of its
        words (at least one word when > 0). Punctuation and ITN edits do not count.
    context: "full" (Chain of Correction: the whole transcript, or a window of it, then the
        segments one turn at a time with the verified turns before them) or "segment" (each
        segment alone, as the paper's segment setting).
    segment_sentences: transcript segments (sentences) the LLM corrects per chat turn (1-5);
        a small model imitates the one-sentence worked example, so 1 suits it best.
    turn_batch: chat turns the LLM answers together (1-32); each turn sees the verified
        answers of the turns before its batch, not of those in it, so this changes what the
        LLM reads (and may change its replies) but never depends on the machine.
    context_tokens: prompt budget; when the whole transcript does not fit in about half of it,
        the first turn carries a window of text around the current turn's segments instead.
    adapter: a LoRA adapter directory for `llm`, written by `longspeech train correction`
        (fine-tuned on TTS -> ASR error pairs); it was trained without the worked example, so
        none is shown to it.
    verify: False accepts word-changing edits unchecked (for comparison only).
    verifier: Whisper model scoring edits against the audio (an embedded id, dir or hub id).
    """

    llm: str = "smollm2"
    adapter: str | None = None
    format: str = "text"
    context: str = "full"
    threshold: float = 1.0
    budget: float = 0.25
    segment_sentences: int = 1
    max_turn_words: int = 80
    turn_batch: int = 8
    context_tokens: int = 2048
    max_new_tokens: int = 256
    temperature: float = 0.0
    examples: bool = True          # one worked exchange before the transcript (small LLMs need it)
    verify: bool = True
    verifier: str = "tiny.en"
    audio_margin: float = 0.2      # seconds of audio kept around a segment when scoring it
    device: str = "cpu"
    keep_replies: bool = False     # store the LLM's raw replies in provenance (for auditing)

    @property
    def uses_examples(self) -> bool:
        """Whether the worked example goes before the transcript (never for an adapter)."""
        return self.examples and not self.adapter

    def validate(self) -> None:
        if self.format not in FORMATS:
            raise InvalidOptionError(
                f"correction format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.context not in CONTEXTS:
            raise InvalidOptionError(
                f"correction context must be one of {', '.join(CONTEXTS)}, got {self.context!r}")
        if self.threshold < 0:
            raise InvalidOptionError(
                f"correction threshold must be >= 0 nats, got {self.threshold}")
        if not 0.0 <= self.budget <= 1.0:
            raise InvalidOptionError(f"correction budget must be in [0, 1], got {self.budget}")
        if not 1 <= self.segment_sentences <= 5:
            raise InvalidOptionError(
                f"segment_sentences must be 1-5 (sentences per turn), got {self.segment_sentences}")
        if not 1 <= self.turn_batch <= 32:
            raise InvalidOptionError(f"turn_batch must be 1-32 turns, got {self.turn_batch}")
        if self.max_turn_words < 1 or self.max_new_tokens < 1:
            raise InvalidOptionError("max_turn_words and max_new_tokens must be >= 1")
        if self.context_tokens < 256:
            raise InvalidOptionError(
                f"context_tokens {self.context_tokens} is too small to hold a prompt (>= 256)")
        if self.temperature < 0 or self.audio_margin < 0:
            raise InvalidOptionError("temperature and audio_margin must be >= 0")
