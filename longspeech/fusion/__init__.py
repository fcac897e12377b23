"""Generative fusion decoding (GFD): an LLM fused into Whisper's beam search through bytes.

    from longspeech.fusion import FusionOptions, transcribe_file
    segments = transcribe_file("talk.flac", FusionOptions(prompt="Terms: Kubernetes, etcd."))
"""

from .beam import DecodeResult, Hypothesis, fused_beam_search, plain_beam_search
from .bytes import ByteTrie, LlmVocab, whisper_token_bytes
from .longform import FusionTranscriber, llm_prompt, transcribe_file
from .options import FusionOptions
from .prefix import PrefixScore, PrefixScorer
from .whisper import WhisperAsr

__all__ = [
    "ByteTrie",
    "DecodeResult",
    "FusionOptions",
    "FusionTranscriber",
    "Hypothesis",
    "LlmVocab",
    "PrefixScore",
    "PrefixScorer",
    "WhisperAsr",
    "fused_beam_search",
    "llm_prompt",
    "plain_beam_search",
    "transcribe_file",
    "whisper_token_bytes",
]
