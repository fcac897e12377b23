"""Generative fusion decoding (GFD) internals: an LLM fused into Whisper's beam search
through bytes. The engine that uses them over whole recordings is asr.gfd_engine:

    from longspeech.asr import AsrOptions, load_engine
    from longspeech.fusion import FusionOptions
    engine = load_engine(AsrOptions(engine="gfd", fusion=FusionOptions(prompt="Terms: etcd.")))
"""

from ..lazy import lazy_attributes
from .options import FusionOptions

# The decoding parts import torch (seconds): they load on first use, so that the options,
# which every job reads, cost nothing.
_LAZY = {"DecodeResult": "beam", "Hypothesis": "beam", "fused_beam_search": "beam",
         "plain_beam_search": "beam", "ByteTrie": "bytes", "LlmVocab": "bytes",
         "whisper_token_bytes": "bytes", "PrefixScore": "prefix", "PrefixScorer": "prefix",
         "WhisperAsr": "whisper"}

__getattr__ = lazy_attributes(__name__, _LAZY)

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
