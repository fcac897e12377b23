"""Generative fusion decoding (GFD) internals: an LLM fused into Whisper's beam search
through bytes. The engine that uses them over whole recordings is asr.gfd_engine:

    from longspeech.asr import AsrOptions, load_engine
    from longspeech.fusion import FusionOptions
    engine = load_engine(AsrOptions(engine="gfd", fusion=FusionOptions(prompt="Terms: etcd.")))
"""

from .beam import DecodeResult, Hypothesis, fused_beam_search, plain_beam_search
from .bytes import ByteTrie, LlmVocab, whisper_token_bytes
from .options import FusionOptions
from .prefix import PrefixScore, PrefixScorer
from .whisper import WhisperAsr

__all__ = [
    "ByteTrie",
    "DecodeResult",
    "FusionOptions",
    "Hypothesis",
    "LlmVocab",
    "PrefixScore",
    "PrefixScorer",
    "WhisperAsr",
    "fused_beam_search",
    "plain_beam_search",
    "whisper_token_bytes",
]
