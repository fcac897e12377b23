"""Iterative fusion (FastLongSpeech): merge the most similar neighbours, weighted by density.

One round takes x (T frames) to T_next frames: the r = T - T_next neighbour pairs with the
highest cosine similarity are chosen, frame j+1 of each chosen pair joins its left neighbour's
group (so chains of chosen pairs form one group), and each group becomes the density-weighted
average of its frames, sum(d_j x_j) / (sum(d_j) + eps). Density is recomputed every round on the
current frames. Everything is batched: (B, W, d) states with per-row valid lengths.

Padding rules (batched form): padded frames are zeroed, get density 0 and a similarity above
any cosine, so they are merged first (into the row's last real frame, where weight 0 leaves its
value alone); a row whose length is already at or below this round's target passes through
unchanged. Each row therefore comes out exactly as it would compressed on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

DensityFn = Callable[[Tensor], Tensor]
"""Maps states (B, T, d) to per-frame content density (B, T), e.g. CTCDensityHead.density."""

PAD_SIMILARITY = 2.0  # above every cosine (<= 1): pairs ending in a padded frame merge first


def valid_mask(lengths: Tensor, width: int) -> Tensor:
    """(B, width) bool: position < length."""
    return torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]


def neighbour_similarity(x: Tensor) -> Tensor:
    """cos(x_j, x_{j+1}) over the time axis: (..., T, d) -> (..., T-1).

    A pair with a zero vector gets similarity 0 (the plain formula would divide 0 by 0).
    """
    norms = torch.linalg.vector_norm(x, dim=-1)
    dot = (x[..., :-1, :] * x[..., 1:, :]).sum(-1)
    return dot / (norms[..., :-1] * norms[..., 1:]).clamp_min(torch.finfo(x.dtype).tiny)


def merge_groups(similarity: Tensor, lengths: Tensor, targets: Tensor) -> Tensor:
    """Group id of every frame (B, W) for one round that takes each row to `targets` frames.

    The top (length - target) real pairs of each row are chosen (ties: the earlier pair), plus
    every pair that ends in a padded frame; chosen pair (j, j+1) puts frame j+1 in j's group:
    group = cumsum(1 - mark) - 1. Row b then has exactly targets[b] groups, real frames first.
    """
    batch, pairs = similarity.shape
    width = pairs + 1
    valid = valid_mask(lengths, width)
    sim = similarity.masked_fill(~valid[:, 1:], PAD_SIMILARITY)
    merges = width - targets  # this row's real merges plus its padding
    order = torch.sort(sim, dim=1, descending=True, stable=True).indices
    rank_ok = torch.arange(pairs, device=sim.device)[None, :] < merges[:, None]
    chosen = torch.zeros_like(rank_ok).scatter_(1, order, rank_ok)
    mark = F.pad(chosen, (1, 0), value=False)
    return torch.cumsum((~mark).to(torch.long), dim=1) - 1


def fuse_groups(x: Tensor, groups: Tensor, weights: Tensor, width: int, eps: float) -> Tensor:
    """Weighted group means: y[b, g] = sum_{j in g} w_j x_j / (sum_{j in g} w_j + eps).

    x (B, W, d), groups (B, W) in [0, width), weights (B, W) -> (B, width, d). Differentiable in
    x (and in the weights); groups with no frame come out as zeros.
    """
    batch, frames, dim = x.shape
    offsets = torch.arange(batch, device=x.device)[:, None] * width
    flat = (groups + offsets).reshape(-1)
    weighted = (x * weights[..., None]).reshape(-1, dim)
    num = x.new_zeros(batch * width, dim).index_add(0, flat, weighted)
    den = weights.new_zeros(batch * width).index_add(0, flat, weights.reshape(-1))
    return (num / (den + eps)[:, None]).view(batch, width, dim)


def fuse_round(x: Tensor, lengths: Tensor, targets: Tensor, weights: Tensor,
               eps: float = 1e-7) -> Tensor:
    """One fusion round. x (B, W, d) with padded frames zeroed, weights (B, W) zero on padding.

    Returns (B, max(targets), d); rows with targets == lengths are returned unchanged.
    """
    width = int(targets.max()) if len(targets) else 0
    groups = merge_groups(neighbour_similarity(x), lengths, targets)
    y = fuse_groups(x, groups, weights, width, eps)
    keep = targets >= lengths
    if bool(keep.any()):
        y = torch.where(keep[:, None, None], x[:, :width], y)
    return y


def chunked_density(density: DensityFn, x: Tensor, chunk_frames: int) -> Tensor:
    """Run `density` on at most `chunk_frames` frames at a time (the result is the same)."""
    if x.shape[1] <= chunk_frames:
        return density(x)
    return torch.cat([density(x[:, i:i + chunk_frames])
                      for i in range(0, x.shape[1], chunk_frames)], dim=1)


def frame_weights(x: Tensor, valid: Tensor, density: DensityFn | None, *,
                  detach: bool = True, chunk_frames: int = 2000) -> Tensor:
    """Per-frame weights of a round: the density (or 1 for plain averaging), 0 on padding."""
    if density is None:
        return valid.to(x.dtype)
    if detach:
        with torch.no_grad():
            d = chunked_density(density, x, chunk_frames)
    else:
        d = chunked_density(density, x, chunk_frames)
    if d.shape != valid.shape:
        raise ValueError(f"density returned shape {tuple(d.shape)}, expected {tuple(valid.shape)}")
    return torch.where(valid, d.to(x.dtype), torch.zeros((), dtype=x.dtype, device=x.device))


def iterative_fusion(x: Tensor, lengths: Tensor, schedules: list[list[int]],
                     density: DensityFn | None, *, eps: float = 1e-7, detach_density: bool = True,
                     chunk_frames: int = 2000) -> tuple[Tensor, Tensor]:
    """Run every row through its own list of target lengths, all rows together.

    x (B, W, d) float, lengths (B,), schedules[b] the decreasing targets of row b. Round k
    uses schedules[b][k] (a row whose schedule is done passes through). Returns the states
    (B, max final length, d) with padding zeroed, and the final lengths.
    """
    cur = lengths.clone()
    x = x[:, :int(cur.max()) if len(cur) else 0]
    x = x.masked_fill(~valid_mask(cur, x.shape[1])[..., None], 0.0)
    for k in range(max((len(s) for s in schedules), default=0)):
        targets = torch.tensor([s[k] if k < len(s) else int(c)
                                for s, c in zip(schedules, cur.tolist())],
                               dtype=cur.dtype, device=cur.device)
        valid = valid_mask(cur, x.shape[1])
        w = frame_weights(x, valid, density, detach=detach_density, chunk_frames=chunk_frames)
        x = fuse_round(x, cur, targets, w, eps)
        cur = targets
    return x, cur
