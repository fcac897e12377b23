"""The CTC content-density head: how much speech content each encoder frame carries.

LN (the encoder's final LayerNorm) -> projector Linear(d_enc, d_model) -> [optional GELU MLP]
-> Linear(d_model, V + 1, no bias), blank the last index. Trained with CTC on transcripts;
density_j = 1 - p_j(blank). Weights are saved as safetensors with a JSON config.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from ..errors import InvalidOptionError, ModelNotAvailableError
from ..files import atomic_write

CONFIG_FILE = "density_head.json"
WEIGHTS_FILE = "density_head.safetensors"


@dataclass(frozen=True)
class DensityHeadConfig:
    """d_enc: encoder width; d_model: projector width (the LLM's, when initialised from its
    multimodal projector); vocab_size: CTC vocabulary V without the blank; hidden_layers: extra
    GELU + Linear(d_model, d_model) blocks (0 is the paper's head: no activation);
    layer_norm: apply a LayerNorm first (a copy of the encoder's final one)."""

    d_enc: int
    d_model: int
    vocab_size: int
    hidden_layers: int = 0
    layer_norm: bool = True
    layer_norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        if min(self.d_enc, self.d_model, self.vocab_size) < 1 or self.hidden_layers < 0:
            raise InvalidOptionError(f"bad density head config: {self}")


class CTCDensityHead(nn.Module):
    """CTC head over (pre-LN) encoder states whose blank probability gives frame density."""

    def __init__(self, config: DensityHeadConfig):
        super().__init__()
        self.config = config
        c = config
        self.norm: nn.Module = (nn.LayerNorm(c.d_enc, eps=c.layer_norm_eps) if c.layer_norm
                                else nn.Identity())
        self.projector = nn.Linear(c.d_enc, c.d_model)
        blocks: list[nn.Module] = []
        for _ in range(c.hidden_layers):
            blocks += [nn.GELU(), nn.Linear(c.d_model, c.d_model)]
        self.mlp = nn.Sequential(*blocks)
        self.linear = nn.Linear(c.d_model, c.vocab_size + 1, bias=False)

    @property
    def blank(self) -> int:
        """Index of the CTC blank: the last one."""
        return self.config.vocab_size

    def forward(self, states: Tensor) -> Tensor:
        """Logits (..., V + 1) of pre-LN states (..., d_enc)."""
        return self.linear(self.mlp(self.projector(self.norm(states))))

    def log_probs(self, states: Tensor) -> Tensor:
        """float32 log-softmax over the vocabulary and blank."""
        return torch.log_softmax(self(states).float(), dim=-1)

    def density(self, states: Tensor, chunk_frames: int | None = None) -> Tensor:
        """1 - p(blank) per frame: (..., T, d_enc) -> (..., T), float32, in [0, 1].

        Computed as -expm1(log p(blank)), the same number, accurate when p(blank) is near 1.
        `chunk_frames` bounds memory on long inputs (the result does not change).
        """
        if chunk_frames is not None and states.dim() >= 2 and states.shape[-2] > chunk_frames:
            return torch.cat([self.density(states[..., i:i + chunk_frames, :])
                              for i in range(0, states.shape[-2], chunk_frames)], dim=-1)
        return -torch.expm1(self.log_probs(states)[..., self.blank])

    def ctc_loss(self, states: Tensor, lengths: Tensor, targets: Tensor,
                 target_lengths: Tensor, reduction: str = "mean") -> Tensor:
        """CTC loss of states (B, T, d_enc) with valid `lengths` against token ids (B, S)."""
        logp = self.log_probs(states).transpose(0, 1)  # (T, B, V + 1)
        return F.ctc_loss(logp, targets, lengths, target_lengths, blank=self.blank,
                          reduction=reduction, zero_infinity=True)

    @torch.no_grad()
    def init_from(self, layer_norm: nn.LayerNorm | None = None,
                  projector: nn.Linear | None = None, embeddings: Tensor | None = None) -> None:
        """Start from the encoder's final LayerNorm, the multimodal projector and the LLM's
        token embeddings (rows 0..V-1 of the output layer; the blank row stays random), as
        the paper initialises its head."""
        if layer_norm is not None:
            if not isinstance(self.norm, nn.LayerNorm):
                raise InvalidOptionError("this head was built with layer_norm=False")
            self.norm.load_state_dict(layer_norm.state_dict())
        if projector is not None:
            self.projector.load_state_dict(projector.state_dict())
        if embeddings is not None:
            if tuple(embeddings.shape) != (self.config.vocab_size, self.config.d_model):
                raise InvalidOptionError(
                    f"embeddings must be ({self.config.vocab_size}, {self.config.d_model}), "
                    f"got {tuple(embeddings.shape)}")
            self.linear.weight[:-1].copy_(embeddings)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the config and weights into `directory` (each file replaced atomically)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        atomic_write(out / WEIGHTS_FILE, lambda p: save_file(state, str(p)))
        atomic_write(out / CONFIG_FILE,
                     lambda p: p.write_text(json.dumps(asdict(self.config), indent=1) + "\n"))
        return out

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> CTCDensityHead:
        """A head saved by `save` (safetensors: no code runs while loading)."""
        d = Path(directory)
        try:
            config = DensityHeadConfig(**json.loads((d / CONFIG_FILE).read_text()))
            state = load_file(str(d / WEIGHTS_FILE), device=device)
        except FileNotFoundError as e:
            raise ModelNotAvailableError(
                f"no density head in {d} ({Path(e.filename or '').name} missing): train one, "
                "or pass the directory a head was saved to") from None
        head = cls(config)
        head.load_state_dict(state)
        return head.to(device).eval()
