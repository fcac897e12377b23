"""The offline default: Silero VAD -> Resemblyzer window embeddings -> clustering ->
frame-level turns. Streams the audio, so memory stays flat for hours of input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyannote.core import Annotation

from ..progress import Progress, ProgressCallback, no_progress
from .base import PathLike, limited_threads, relabel_by_first_appearance
from .clustering import cluster
from .encoder import WEIGHTS_SHA256, SpeakerEncoder
from .options import DiarizationOptions
from .resegment import to_annotation
from .count_confidence import count_confidence
from .edges import follow_speech
from .windows import DIARIZATION_VAD, WindowEmbeddings, embed_windows


class EmbeddedBackend:
    """Diarization with the models shipped in PyPI packages (no hub, no token)."""

    name = "embedded"

    def __init__(self, device: str = "cpu"):
        self.encoder = SpeakerEncoder(device)
        self.last_estimated_speakers: int | None = None
        # the last recording's speaker count and how sure it is (count_confidence.py)
        self.last_count: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name,
                "embedding": {"id": "resemblyzer==0.1.4 GE2E", "sha256": WEIGHTS_SHA256},
                "vad": "silero-vad 6.2.3 (onnx)"}

    def embed(self, path: PathLike, options: DiarizationOptions,
              progress: ProgressCallback = no_progress) -> WindowEmbeddings:
        rid = Path(path).stem

        def report(done: float, total: float) -> None:
            progress(Progress(rid, min(done, total), total, stage="diarization"))

        with limited_threads(options.thread_limit(1)):
            return embed_windows(str(path), self.encoder, window=options.window,
                                 hop=options.hop, min_window=options.min_window,
                                 block_seconds=options.block_seconds, vad=DIARIZATION_VAD,
                                 on_progress=report)

    def diarize(self, path: PathLike, options: DiarizationOptions,
                progress: ProgressCallback = no_progress) -> Annotation:
        windows = self.embed(path, options, progress)
        return self.label(windows, options)

    def label(self, windows: WindowEmbeddings, options: DiarizationOptions) -> Annotation:
        """Cluster embedded windows and turn them into speaker turns."""
        with limited_threads(options.thread_limit(1)):
            return self._label(windows, options)

    def _label(self, windows: WindowEmbeddings, options: DiarizationOptions) -> Annotation:
        uri = windows.recording.id
        if len(windows) == 0:
            self.last_estimated_speakers = 0
            self.last_count = {"speakers": 0, "confidence": "high", "closest_similarity": None,
                               "smallest_share": None}
            return Annotation(uri=uri)
        found = cluster(windows.vectors, bounds=options.speaker_bounds(),
                        method=options.clustering, threshold=options.threshold,
                        min_fraction=options.min_cluster_fraction,
                        merge_similarity=options.merge_similarity,
                        max_windows=options.max_cluster_windows)
        self.last_estimated_speakers = found.estimated
        ann = to_annotation(windows, found.centroids, frame=options.frame,
                            smoothing=options.smoothing, min_turn=options.min_turn, uri=uri)
        if options.edge_margin_db is not None:
            ann = follow_speech(ann, windows.levels, windows.level_seconds,
                                options.edge_margin_db)
        self.last_count = count_confidence(found.centroids, ann, found.merged_similarity)
        return relabel_by_first_appearance(ann)
