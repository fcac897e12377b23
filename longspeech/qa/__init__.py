"""Question answering over recordings: the speech-language model (FastLongSpeech compression
into an LLM) and the cascade (transcript -> LLM).

    from longspeech.qa import ask
    ask("talk.wav", "Who bought the bicycle?").text
"""

from __future__ import annotations

from .ask import (EMBEDDED_LSLM, Answer, AskOptions, answers_json, ask, ask_batch,
                  read_items)
from .cascade import answer_from_transcript, cascade_messages, format_transcript
from .loading import LoadedSpeechLM, default_model_dir, load_speechlm
from .speechlm import SYSTEM, TRANSCRIBE, SpeechLM

__all__ = [
    "EMBEDDED_LSLM", "SYSTEM", "TRANSCRIBE", "Answer", "AskOptions", "LoadedSpeechLM",
    "SpeechLM", "answer_from_transcript", "answers_json", "ask", "ask_batch",
    "cascade_messages", "default_model_dir", "format_transcript", "load_speechlm",
    "read_items",
]
