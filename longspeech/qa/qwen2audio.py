"""FastLongSpeech on Qwen2-Audio: long audio through its encoder in 30 s clips, iterative
fusion of the pooled states before the encoder's final LayerNorm, then that LayerNorm, the
multimodal projector, and the LLM with exactly L audio tokens in the prompt.

Loaded by hub id (Qwen/Qwen2-Audio-7B-Instruct) with transformers' own classes; a CTC density
head trained for that encoder (d_enc 1280) enables "fusion", otherwise use a baseline method.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..audio import SAMPLE_RATE
from ..compression import CompressionOptions, CTCDensityHead, compress
from ..errors import InvalidOptionError
from ..models.registry import check_hub_model, hub_error

CLIP_SAMPLES = 30 * SAMPLE_RATE
QWEN_SYSTEM = "You are a helpful assistant."


@contextmanager
def _without_final_norm(tower: nn.Module):
    """Run the audio tower with its final LayerNorm removed (states before it come out)."""
    norm = tower.layer_norm
    tower.layer_norm = nn.Identity()
    try:
        yield norm
    finally:
        tower.layer_norm = norm


class Qwen2AudioLSLM:
    """Answers questions about long audio with a Qwen2-Audio model and iterative fusion."""

    def __init__(self, model: Any, tokenizer: Any, feature_extractor: Any,
                 head: CTCDensityHead | None = None, system: str = QWEN_SYSTEM):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.feature_extractor = feature_extractor
        self.head = head
        self.system = system
        inner = model.model
        self.tower, self.projector = inner.audio_tower, inner.multi_modal_projector
        self.audio_token_id = int(model.config.audio_token_id)
        if head is not None and head.config.d_enc != self.tower.config.d_model:
            raise InvalidOptionError(f"the density head reads {head.config.d_enc}-d states; "
                                     f"this encoder gives {self.tower.config.d_model}-d")

    @classmethod
    def from_pretrained(cls, model_id: str, head_dir: str | Path | None = None,
                        device: str = "cpu", dtype: str = "float32") -> Qwen2AudioLSLM:
        """Load a Qwen2-Audio checkpoint (hub id or local directory) and, optionally, a CTC
        density head saved for its encoder."""
        from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

        if not Path(model_id).is_dir():
            check_hub_model(model_id)
        try:
            processor = AutoProcessor.from_pretrained(model_id)
            model = Qwen2AudioForConditionalGeneration.from_pretrained(
                model_id, dtype=getattr(torch, dtype)).to(device)
        except OSError as e:
            raise hub_error(model_id, e) from e
        head = CTCDensityHead.load(head_dir, device=device) if head_dir else None
        return cls(model, processor.tokenizer, processor.feature_extractor, head)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def encode(self, samples: np.ndarray) -> Tensor:
        """Pooled encoder states before the final LayerNorm (frames, d_enc) of a recording of
        any length: 30 s clips encoded separately, each cut to its valid frames (the model's
        own length formula), concatenated."""
        parts = []
        for i in range(0, max(len(samples), 1), CLIP_SAMPLES):
            clip = np.asarray(samples[i:i + CLIP_SAMPLES], np.float32)
            feats = self.feature_extractor(clip, sampling_rate=SAMPLE_RATE, padding="max_length",
                                           return_attention_mask=True, return_tensors="pt")
            mel = feats.input_features.to(self.device, self.tower.conv1.weight.dtype)
            conv_len, valid = self.tower._get_feat_extract_output_lengths(
                feats.attention_mask.sum(-1).to(self.device))
            with _without_final_norm(self.tower):
                h = self.tower(mel, attention_mask=self._attention_mask(mel, conv_len))
            parts.append(h.last_hidden_state[0, :int(valid[0])].float())
        return torch.cat(parts)

    def _attention_mask(self, mel: Tensor, conv_lengths: Tensor) -> Tensor:
        """The encoder's attention mask over its (pre-pool) frames, built as
        Qwen2AudioModel.forward builds it, so the clip's padding is masked the same way."""
        from transformers.masking_utils import create_bidirectional_mask

        frames = (mel.shape[-1] - 2) // 2 + 1
        valid = (torch.arange(frames, device=mel.device)[None] < conv_lengths[:, None]).long()
        # the mask builder reads only the batch size, length, dtype and device of the embeddings
        shape_of = torch.empty(mel.shape[0], frames, 1, dtype=self.tower.conv1.weight.dtype,
                               device=mel.device)
        return create_bidirectional_mask(config=self.tower.config, inputs_embeds=shape_of,
                                         attention_mask=valid)

    def prompt_ids(self, question: str, audio_tokens: int) -> tuple[list[int], list[int]]:
        """Qwen2-Audio's chat prompt split around the audio: (ids up to and including
        <|audio_bos|>, ids from <|audio_eos|> on); `audio_tokens` placeholders go between."""
        before = (f"<|im_start|>system\n{self.system}<|im_end|>\n<|im_start|>user\n"
                  f"Audio 1: <|audio_bos|>")
        after = f"<|audio_eos|>\n{question}<|im_end|>\n<|im_start|>assistant\n"
        tok = self.tokenizer
        return (list(tok(before, add_special_tokens=False).input_ids),
                list(tok(after, add_special_tokens=False).input_ids))

    @torch.inference_mode()
    def inputs(self, states: Tensor, question: str, window: int,
               options: CompressionOptions | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """(input_ids with L audio tokens, inputs_embeds, attention_mask) for one question."""
        opts = options or CompressionOptions()
        density = self.head.density if self.head is not None else None
        if opts.method == "fusion" and density is None:
            raise InvalidOptionError("fusion needs a CTC density head trained for this "
                                     "encoder; pass head_dir, or use method='avgpool'")
        fused = compress(states, density, window, opts)
        audio = self.projector(self.tower.layer_norm(fused.to(self.tower.layer_norm.weight.dtype)))
        pre, post = self.prompt_ids(question, len(audio))
        ids = torch.tensor([pre + [self.audio_token_id] * len(audio) + post],
                           device=self.device)
        embeds = self.model.get_input_embeddings()(ids)
        mask = (ids == self.audio_token_id)[..., None]
        embeds = embeds.masked_scatter(mask, audio.to(embeds.dtype))
        return ids, embeds, torch.ones_like(ids)

    @torch.inference_mode()
    def answer(self, samples: np.ndarray, question: str, window: int = 750,
               options: CompressionOptions | None = None,
               max_new_tokens: int = 64) -> tuple[str, int, int]:
        """(greedy answer, encoder frames, audio tokens given to the LLM)."""
        states = self.encode(samples)
        ids, embeds, mask = self.inputs(states, question, window, options)
        n_audio = int((ids == self.audio_token_id).sum())
        out = self.model.generate(inputs_embeds=embeds, attention_mask=mask,
                                  max_new_tokens=max_new_tokens, do_sample=False,
                                  pad_token_id=self.tokenizer.pad_token_id
                                  or self.tokenizer.eos_token_id)
        text = self.tokenizer.decode(out[0], skip_special_tokens=True).strip()
        return text, len(states), n_audio
