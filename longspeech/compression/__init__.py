"""FastLongSpeech compression: the CTC density head, iterative fusion, schedules, baselines.

    head = CTCDensityHead(DensityHeadConfig(d_enc=384, d_model=576, vocab_size=V))
    short = compress(states, head.density, 750)                  # (T, d) -> (750, d)
    y, n = compress_batch(batch, lengths, head.density, 100,
                          CompressionOptions(schedule="pool"))  # the training path
"""

from __future__ import annotations

from ..lazy import lazy_attributes
from .options import METHODS, PAPER_POOL, PAPER_WINDOWS, SCHEDULES, CompressionOptions
from .schedule import halving_schedule, pool_schedule, schedule, single_schedule

# The parts that compute import torch, which takes seconds: they load on first use, so that
# the options (read by every question and job) cost nothing.
_LAZY = {"avg_pool": "baselines", "random_select": "baselines", "compress": "shorten",
         "compress_batch": "shorten", "PAD_SIMILARITY": "fusion", "DensityFn": "fusion",
         "fuse_groups": "fusion", "fuse_round": "fusion", "iterative_fusion": "fusion",
         "merge_groups": "fusion", "neighbour_similarity": "fusion",
         "CTCDensityHead": "head", "DensityHeadConfig": "head"}

__getattr__ = lazy_attributes(__name__, _LAZY)

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
