"""The diarization backend protocol, and what every backend's output is normalised to."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

from pyannote.core import Annotation

from ..progress import ProgressCallback, no_progress
from .options import DiarizationOptions

PathLike = str | os.PathLike


@runtime_checkable
class Backend(Protocol):
    """Finds who spoke when in one recording.

    diarize returns turns labelled "SPEAKER_00", "SPEAKER_01", ... numbered in order of first
    appearance, so ids read the same way over the whole recording; a recording without
    speech gives an empty Annotation.
    """

    name: str

    def diarize(self, path: PathLike, options: DiarizationOptions,
                progress: ProgressCallback = no_progress) -> Annotation: ...

    def describe(self) -> dict[str, Any]:
        """Provenance: which models (id, sha256) and settings produced the turns."""
        ...


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Run with at most `threads` torch and BLAS/OpenMP threads, restoring them after
    (threads <= 0: change nothing)."""
    if threads <= 0:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


def speaker_id(index: int) -> str:
    return f"SPEAKER_{index:02d}"


def relabel_by_first_appearance(annotation: Annotation) -> Annotation:
    """Rename labels SPEAKER_00.. in order of first speech (ties: label order), tracks kept."""
    first: dict[object, float] = {}
    for seg, _, label in annotation.itertracks(yield_label=True):
        if label not in first or seg.start < first[label]:
            first[label] = seg.start
    order = sorted(first, key=lambda lab: (first[lab], str(lab)))
    mapping = {lab: speaker_id(i) for i, lab in enumerate(order)}
    out = Annotation(uri=annotation.uri, modality=annotation.modality)
    for seg, track, label in annotation.itertracks(yield_label=True):
        out[seg, track] = mapping[label]
    return out
