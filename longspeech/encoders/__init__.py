"""Speech encoder features for long audio: Whisper encoder states of 30 s clips, concatenated
and cut to the audio's length (50 frames/s, 25 with pooling), before the final LayerNorm unless
asked, cached on disk by audio sha256 + model + options.

    enc = WhisperStateEncoder(EncoderOptions(model="tiny.en", pool=True))
    audio = encode_file(enc, "talk.mp3")        # audio.states: (frames, 384) float32
"""

from __future__ import annotations

from .cache import FeatureCache, cache_key
from .long_audio import EncodedAudio, encode_file, encode_samples, iter_clip_states
from .options import EncoderOptions
from .whisper import CLIP_SAMPLES, CLIP_SECONDS, WhisperStateEncoder, valid_frames

__all__ = [
    "CLIP_SAMPLES",
    "CLIP_SECONDS",
    "EncodedAudio",
    "EncoderOptions",
    "FeatureCache",
    "WhisperStateEncoder",
    "cache_key",
    "encode_file",
    "encode_samples",
    "iter_clip_states",
    "valid_frames",
]
