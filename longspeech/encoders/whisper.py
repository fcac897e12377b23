"""Whisper encoder states of 30 s clips: the transformers WhisperModel encoder, kept whole
except for its final LayerNorm, which is held apart so the states before it can be taken."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..audio import SAMPLE_RATE
from ..errors import InvalidOptionError, ModelNotAvailableError
from ..models.registry import EMBEDDED, check_hub_model, hub_error, transformers_dir
from .options import EncoderOptions

CLIP_SECONDS = 30
CLIP_SAMPLES = CLIP_SECONDS * SAMPLE_RATE
SAMPLES_PER_FRAME = 320  # 10 ms mel hop x conv stride 2: 50 encoder frames per second

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def valid_frames(num_samples: int, pool: bool = False) -> int:
    """Encoder frames that carry audio for a clip of `num_samples` (<= 30 s).

    ceil(samples / 320) at 50 Hz (the mel frames of the audio, halved by the stride-2 conv,
    rounding up as Qwen2-Audio's length formula does); with the 2x average pool, half of that
    rounded down.
    """
    frames = math.ceil(num_samples / SAMPLES_PER_FRAME)
    return frames // 2 if pool else frames


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _model_key(model_id: str, source: Path | str, config: Any) -> str:
    """What identifies the weights in cache keys: the pinned sha256 of an embedded model, the
    hub commit of a hub model, or path + file sizes and times of a local directory."""
    if model_id in EMBEDDED:
        return f"{model_id}@{EMBEDDED[model_id].sha256}"
    p = Path(source)
    if p.is_dir():
        stamp = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns)
                       for f in p.iterdir() if f.is_file())
        return f"{p.resolve()}@{stamp}"
    return f"{model_id}@{getattr(config, '_commit_hash', None)}"


class WhisperStateEncoder:
    """Loads the encoder once; turns clips of up to 30 s into (frames, d) float32 states."""

    def __init__(self, options: EncoderOptions | None = None):
        from transformers import WhisperFeatureExtractor, WhisperModel

        self.options = opts = options or EncoderOptions()
        self.device = torch.device(resolve_device(opts.device))
        dtype = _DTYPES[opts.dtype]
        if self.device.type == "cpu" and dtype == torch.float16:
            raise InvalidOptionError("float16 encoding needs a GPU; use float32 on CPU")
        check_hub_model(opts.model)
        src: Path | str = transformers_dir(opts.model) if opts.model in EMBEDDED else opts.model
        try:
            model = WhisperModel.from_pretrained(src, attn_implementation="sdpa")
            self.feature_extractor = WhisperFeatureExtractor.from_pretrained(src)
        except OSError as e:
            if opts.model in EMBEDDED or Path(opts.model).is_dir():
                raise ModelNotAvailableError(
                    f"cannot load the encoder of {opts.model!r} with transformers: {e}") from e
            raise hub_error(opts.model, e) from e
        self.model_key = _model_key(opts.model, src, model.config)
        encoder = model.encoder
        del model  # the decoder is not needed
        # The final LayerNorm is held apart: the encoder then returns the states before it.
        self.final_layer_norm: nn.LayerNorm = encoder.layer_norm.to(self.device, dtype).eval()
        encoder.layer_norm = nn.Identity()
        self.encoder = encoder.to(self.device, dtype).eval()
        self.dtype = dtype
        self.dim: int = int(encoder.config.d_model)

    @property
    def frame_rate(self) -> float:
        return self.options.frame_rate

    def with_options(self, **changes: Any) -> WhisperStateEncoder:
        """The same loaded encoder with other output options (pool, layer_norm, batch_size,
        cache, cache_dir); changing model, device or dtype needs a new encoder."""
        for name in ("model", "device", "dtype"):
            if name in changes and changes[name] != getattr(self.options, name):
                raise InvalidOptionError(f"changing {name} needs a new WhisperStateEncoder")
        other = copy.copy(self)
        other.options = replace(self.options, **changes)
        return other

    def encode_clips(self, clips: Sequence[np.ndarray]) -> list[np.ndarray]:
        """States (valid_frames(len(clip)), d) of each clip (float32 mono 16 kHz, <= 30 s),
        all clips in one encoder call."""
        if not clips:
            return []
        for c in clips:
            if len(c) > CLIP_SAMPLES:
                raise InvalidOptionError(f"a clip is {len(c) / SAMPLE_RATE:.2f} s; at most "
                                         f"{CLIP_SECONDS} s go through the encoder at once")
        feats = self.feature_extractor([np.asarray(c, np.float32) for c in clips],
                                       sampling_rate=SAMPLE_RATE, return_tensors="pt")
        x = feats.input_features.to(self.device, self.dtype)
        with torch.inference_mode():
            h = self.encoder(x).last_hidden_state  # (B, 1500, d), before the final LayerNorm
            if self.options.pool:
                h = F.avg_pool1d(h.transpose(1, 2), kernel_size=2, stride=2).transpose(1, 2)
            if self.options.layer_norm:
                h = self.final_layer_norm(h)
            h = h.float().cpu().numpy()
        return [h[i, :valid_frames(len(c), self.options.pool)] for i, c in enumerate(clips)]
