"""compress(): shorten encoder states to a window of L frames by the method the options name.

The states are pre-LayerNorm encoder states (the spec applies the encoder's final LayerNorm
and the projector after compression). The result is differentiable in the states, so a
training loop can put it between a frozen encoder and the model it trains.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..errors import InvalidOptionError
from .baselines import avg_pool, random_select
from .fusion import DensityFn, iterative_fusion
from .options import CompressionOptions
from .schedule import schedule


def compress_batch(states: Tensor, lengths: Tensor | None, density: DensityFn | None,
                   window: int, options: CompressionOptions | None = None
                   ) -> tuple[Tensor, Tensor]:
    """(B, W, d) states with valid lengths (None: all W) -> ((B, W', d), lengths').

    Every row with more than L real frames comes out with exactly L; shorter rows keep theirs;
    W' is the longest output row, padding is zeros. `density` maps (B, T, d) -> (B, T) (e.g.
    CTCDensityHead.density); it is required by "fusion" and ignored by the other methods.
    """
    opts = options or CompressionOptions()
    if states.dim() != 3:
        raise InvalidOptionError(f"states must be (batch, frames, dim), got {tuple(states.shape)}")
    if window < 1:
        raise InvalidOptionError(f"the window L must be at least 1 frame, got {window}")
    batch, frames, _ = states.shape
    if lengths is None:
        lengths = torch.full((batch,), frames, dtype=torch.long, device=states.device)
    lengths = lengths.to(device=states.device, dtype=torch.long)
    if lengths.shape != (batch,) or bool((lengths < 0).any()) or bool((lengths > frames).any()):
        raise InvalidOptionError(f"lengths must be {batch} values in [0, {frames}]")
    x = states.float()  # merges and averages in float32 whatever the encoder's dtype
    if opts.method == "avgpool":
        y, out = avg_pool(x, lengths, window)
    elif opts.method == "random":
        gen = torch.Generator(device=x.device).manual_seed(opts.seed)
        y, out = random_select(x, lengths, window, gen)
    else:
        if opts.method == "fusion" and density is None:
            raise InvalidOptionError("method 'fusion' needs a density function (a CTC density "
                                     "head); use method='mostsim' to merge with plain averages")
        plans = [schedule(opts.schedule, n, window, opts.pool) for n in lengths.tolist()]
        y, out = iterative_fusion(x, lengths, plans, density if opts.method == "fusion" else None,
                                  eps=opts.eps, detach_density=opts.detach_density,
                                  chunk_frames=opts.chunk_frames)
    return y.to(states.dtype), out


def compress(states: Tensor, density: DensityFn | None, window: int,
             options: CompressionOptions | None = None) -> Tensor:
    """(T, d) pre-LN states -> (min(T, L), d). See compress_batch."""
    if states.dim() != 2:
        raise InvalidOptionError(f"states must be (frames, dim), got {tuple(states.shape)}")
    y, _ = compress_batch(states[None], None, density, window, options)
    return y[0]
