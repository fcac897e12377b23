"""Question answering over recordings: the speech-language model (FastLongSpeech compression
into an LLM) and the cascade (transcript -> LLM). Transcribing and batching questions is the
pipeline's: longspeech.api.ask / ask_batch.
"""

from __future__ import annotations

from .answer import EMBEDDED_LSLM, Answer, AskOptions, answer_cascade, answer_lslm
from .cascade import answer_from_transcript, cascade_messages, format_transcript

__all__ = [
    "EMBEDDED_LSLM", "Answer", "AskOptions", "answer_cascade", "answer_from_transcript",
    "answer_lslm", "cascade_messages", "format_transcript",
]
