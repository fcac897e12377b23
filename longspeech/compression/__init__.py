"""FastLongSpeech compression: the CTC density head, iterative fusion, schedules, baselines.

    head = CTCDensityHead(DensityHeadConfig(d_enc=384, d_model=576, vocab_size=V))
    short = compress(states, head.density, 750)                  # (T, d) -> (750, d)
    y, n = compress_batch(batch, lengths, head.density, 100,
                          CompressionOptions(schedule="pool"))  # the training path
"""

from __future__ import annotations

from .baselines import avg_pool, random_select
from .compress import compress, compress_batch
from .fusion import (
    PAD_SIMILARITY,
    DensityFn,
    fuse_groups,
    fuse_round,
    iterative_fusion,
    merge_groups,
    neighbour_similarity,
)
from .head import CTCDensityHead, DensityHeadConfig
from .options import METHODS, PAPER_POOL, PAPER_WINDOWS, SCHEDULES, CompressionOptions
from .schedule import halving_schedule, pool_schedule, schedule, single_schedule

__all__ = [
    "METHODS",
    "PAD_SIMILARITY",
    "PAPER_POOL",
    "PAPER_WINDOWS",
    "SCHEDULES",
    "CTCDensityHead",
    "CompressionOptions",
    "DensityFn",
    "DensityHeadConfig",
    "avg_pool",
    "compress",
    "compress_batch",
    "fuse_groups",
    "fuse_round",
    "halving_schedule",
    "iterative_fusion",
    "merge_groups",
    "neighbour_similarity",
    "pool_schedule",
    "random_select",
    "schedule",
    "single_schedule",
]
