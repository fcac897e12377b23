"""The paper's non-learned baselines: average pooling to L and random frame selection.

(MostSim, merging without density, is iterative fusion with plain averaging: see compress.)
Both take (B, W, d) states with valid lengths and return (B, max(min(n, L)), d) and the new
lengths; rows already at or below L pass through unchanged; padding comes out zeroed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .fusion import valid_mask


def avg_pool(x: Tensor, lengths: Tensor, window: int) -> tuple[Tensor, Tensor]:
    """Adaptive average pooling of each row's real frames to exactly L (overlapping windows
    where n/L is not whole, as torch's adaptive_avg_pool1d defines them)."""
    out_lengths = lengths.clamp(max=window)
    width = int(out_lengths.max()) if len(lengths) else 0
    y = x.new_zeros(x.shape[0], width, x.shape[2])
    for b, n in enumerate(lengths.tolist()):
        row = x[b, :n]
        if n > window:
            row = F.adaptive_avg_pool1d(row.T[None], window)[0].T
        y[b, :len(row)] = row
    return y, out_lengths


def random_select(x: Tensor, lengths: Tensor, window: int,
                  generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Keep min(n, L) frames of each row chosen uniformly at random, in their time order."""
    batch, frames, dim = x.shape
    out_lengths = lengths.clamp(max=window)
    width = int(out_lengths.max()) if batch else 0
    valid = valid_mask(lengths, frames)
    keys = torch.rand(batch, frames, generator=generator, device=x.device)
    keys = keys.masked_fill(~valid, 2.0)  # padding sorts last, never picked
    picked = torch.sort(keys, dim=1).indices[:, :width]
    slot_ok = valid_mask(out_lengths, width)
    picked = torch.sort(picked.masked_fill(~slot_ok, frames), dim=1).values
    gathered = torch.gather(x, 1, picked.clamp(max=frames - 1)[..., None].expand(-1, -1, dim))
    return gathered.masked_fill(~slot_ok[..., None], 0.0), out_lengths
