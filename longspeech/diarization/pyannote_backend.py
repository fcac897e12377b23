"""pyannote.audio pipelines (e.g. pyannote/speaker-diarization-community-1) as a backend.

Loading goes through pyannote's own Pipeline.from_pretrained, from a local directory (a
config.yaml with its models) or a Hugging Face id pinned to a revision (owner/name@revision)
with the token in $HF_TOKEN. pyannote checkpoints are pickles, which can run code when they
load: an unpinned hub id is refused (what it names can change under the user), and every
load warns that the pipeline must be one the user trusts. Where the hub
cannot be reached, a hub id fails at once with a clear error instead of after a minute of
retries. pyannote.audio's usage telemetry is switched off unless the user has set
PYANNOTE_METRICS_ENABLED themselves: a transcription tool should not phone home by default.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from pyannote.core import Annotation, Segment

from ..errors import ModelNotAvailableError
from ..models.registry import hub_reachable
from ..progress import Progress, ProgressCallback, no_progress
from .base import PathLike, limited_threads, relabel_by_first_appearance
from .options import DiarizationOptions

# share of the run each pyannote step takes (for progress only)
_STEP_WEIGHTS = {"segmentation": (0.0, 0.3), "embeddings": (0.3, 0.95)}


def _is_local(model: str) -> bool:
    p = Path(model)
    return p.is_dir() or (p.is_file() and p.suffix in (".yaml", ".yml"))


def _unavailable(model: str, why: str) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"cannot load the pyannote pipeline {model!r}: {why}. Use the offline default "
        "(diarization backend 'embedded'), pass a local pipeline directory (config.yaml with "
        "its models), or run where huggingface.co is reachable with HF_TOKEN set to a token "
        "that has accepted the model's conditions.")


TRUST_WARNING = ("pyannote checkpoints are pickled and can run code when they load: "
                 "use only pipelines you trust")


def split_revision(model: str) -> tuple[str, str | None]:
    """"owner/name@revision" -> ("owner/name", "revision"); a local path has none."""
    if _is_local(model) or "@" not in model:
        return model, None
    repo, _, revision = model.rpartition("@")
    return repo, revision or None


def check_pipeline_source(model: str) -> None:
    """Raise at once when `model` is neither a local pipeline nor a hub id pinned to a
    revision that is cached or reachable."""
    if _is_local(model):
        return
    repo, revision = split_revision(model)
    if repo.count("/") != 1 or repo.startswith(("/", ".", "~")):
        raise _unavailable(model, "no such local directory, and not a hub id (owner/name)")
    if revision is None:
        raise ModelNotAvailableError(
            f"pin the pyannote pipeline to a revision: pyannote:{repo}@<commit>, or pass a "
            f"local pipeline directory ({TRUST_WARNING})")
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(repo, "config.yaml", revision=revision)
    if isinstance(cached, str) or hub_reachable():
        return
    raise _unavailable(model, "the Hugging Face hub is not reachable from here and the "
                              "pipeline is not in the local cache")


class PyannoteBackend:
    """A pyannote.audio speaker-diarization pipeline, loaded once."""

    name = "pyannote"

    def __init__(self, model: str, device: str = "cpu"):
        os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
        check_pipeline_source(model)
        import torch
        from pyannote.audio import Pipeline

        self.model = model
        warnings.warn(f"{model}: {TRUST_WARNING}", UserWarning, stacklevel=2)
        repo, revision = split_revision(model)
        try:
            pipeline = Pipeline.from_pretrained(repo, revision=revision,
                                                token=os.environ.get("HF_TOKEN"))
        except (OSError, ValueError, KeyError) as e:
            if _is_local(model):
                raise ModelNotAvailableError(
                    f"{model} is not a loadable pyannote pipeline ({type(e).__name__}: {e}); "
                    "it needs a config.yaml naming its models") from e
            raise _unavailable(model, f"{type(e).__name__}: {e}") from e
        if pipeline is None:   # pyannote returns None when the hub refuses the download
            raise _unavailable(model, "the hub refused the download (gated or private)")
        self.pipeline = pipeline.to(torch.device(device))

    def describe(self) -> dict[str, Any]:
        from pyannote.audio import __version__

        return {"backend": self.name, "model": self.model,
                "source": "local" if _is_local(self.model) else "hub",
                "pyannote.audio": __version__}

    def _input(self, path: PathLike) -> Any:
        """The file itself when pyannote's decoder reads it, else samples decoded here."""
        from pyannote.audio.core.io import Audio

        p = os.fspath(path)
        try:
            Audio().get_duration(p)
            return {"audio": p, "uri": Path(p).stem}
        except Exception:   # noqa: BLE001 - any decoder failure: fall back to ours
            import torch

            from ..audio import SAMPLE_RATE, load

            return {"waveform": torch.from_numpy(load(p))[None], "sample_rate": SAMPLE_RATE,
                    "uri": Path(p).stem}

    def diarize(self, path: PathLike, options: DiarizationOptions,
                progress: ProgressCallback = no_progress) -> Annotation:
        from ..audio import probe

        rec = probe(path, checksum=False)

        def hook(step: str, _artefact: Any, file: Any = None, completed: int | None = None,
                 total: int | None = None, **_: Any) -> None:
            if step in _STEP_WEIGHTS and completed is not None and total:
                a, b = _STEP_WEIGHTS[step]
                frac = a + (b - a) * min(1.0, completed / total)
                progress(Progress(rec.id, frac * rec.duration, rec.duration, "diarization"))

        lo, hi = options.speaker_bounds()
        with limited_threads(options.thread_limit(0)):
            out = self.pipeline(self._input(path), num_speakers=options.num_speakers,
                                min_speakers=lo, max_speakers=hi, hook=hook)
        ann = out if isinstance(out, Annotation) else out.speaker_diarization
        progress(Progress(rec.id, rec.duration, rec.duration, "diarization"))
        # the last sliding window is zero-padded past the end; keep turns inside the file
        ann = ann.crop(Segment(0.0, rec.duration), mode="intersection")
        ann = relabel_by_first_appearance(ann)
        ann.uri = rec.id
        return ann
