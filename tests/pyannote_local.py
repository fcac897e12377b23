"""A pyannote.audio speaker-diarization pipeline directory built locally with random weights.

Same layout and shapes as pyannote/speaker-diarization-community-1 (config.yaml naming a
PyanNet powerset segmentation model, a WeSpeaker ResNet34 embedding model and a VBx PLDA),
so Pipeline.from_pretrained(dir) runs pyannote's real loading and inference code without a
download. The weights are random: the speakers it finds mean nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _save_checkpoint(model, path: Path) -> None:  # type: ignore[no-untyped-def]
    """A Lightning checkpoint as pyannote writes one (hyper-parameters, weights, specs)."""
    import lightning
    import torch

    ckpt = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
            "pytorch-lightning_version": lightning.__version__}
    model.on_save_checkpoint(ckpt)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)


def build_random_pipeline(out: Path, seed: int = 0) -> Path:
    """Write config.yaml, segmentation/, embedding/ and plda/ under `out`; returns `out`."""
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    import torch
    import yaml
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(seed)
    seg = PyanNet(sincnet={"stride": 10})
    seg.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION, resolution=Resolution.FRAME,
        duration=10.0, warm_up=(0.0, 0.0), classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2, permutation_invariant=True)
    seg.setup()   # adds the task-dependent classifier layer, as training would
    _save_checkpoint(seg, out / "segmentation" / "pytorch_model.bin")

    emb = WeSpeakerResNet34()
    emb.specifications = Specifications(problem=Problem.REPRESENTATION,
                                        resolution=Resolution.CHUNK, duration=3.0)
    _save_checkpoint(emb, out / "embedding" / "pytorch_model.bin")

    rng = np.random.default_rng(seed)
    dim, lda = 256, 128
    (out / "plda").mkdir(parents=True, exist_ok=True)
    np.savez(out / "plda" / "xvec_transform.npz", mean1=rng.normal(size=dim) * 0.01,
             mean2=rng.normal(size=lda) * 0.01,
             lda=np.linalg.qr(rng.normal(size=(dim, dim)))[0][:, :lda])
    np.savez(out / "plda" / "plda.npz", mu=np.zeros(lda),
             tr=np.linalg.qr(rng.normal(size=(lda, lda)))[0],
             psi=np.sort(rng.uniform(0.5, 5.0, lda))[::-1])

    config = {
        "dependencies": {"pyannote.audio": "4.0.0"},
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {"segmentation": "$model/segmentation", "embedding": "$model/embedding",
                       "plda": "$model/plda", "clustering": "VBxClustering",
                       "segmentation_step": 0.5, "embedding_exclude_overlap": True,
                       "segmentation_batch_size": 8, "embedding_batch_size": 8},
        },
        "params": {"segmentation": {"min_duration_off": 0.0},
                   "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8}},
    }
    (out / "config.yaml").write_text(yaml.safe_dump(config))
    return out
