"""Training the embedded speech-language model's small parts on synthetic speech.

    train_ctc(CtcTrainOptions(out_dir="my_lslm"))     # stage 1: CTC density head + vocab
    train_lslm(LslmTrainOptions(out_dir="my_lslm"))   # stage 2: projector (+ LoRA)

Both are deterministic for a seed and write safetensors plus a manifest (lslm.json) holding
the sha256 of every file, the options and the measured losses/metrics.
"""

from __future__ import annotations

from ..manifest import MANIFEST, read_manifest
from .common import TrainCallback, TrainProgress
from .ctc import CtcTrainOptions, TrainResult, train_ctc
from .data import SpeechDataOptions, Utterance, build_utterances, load_utterances
from .facts import QA, Fact, facts, key_in_reply
from .lslm import LoraOptions, LslmTrainOptions, train_lslm

__all__ = [
    "MANIFEST", "QA", "CtcTrainOptions", "Fact", "LoraOptions", "LslmTrainOptions",
    "SpeechDataOptions", "TrainCallback", "TrainProgress", "TrainResult", "Utterance",
    "build_utterances", "facts", "key_in_reply", "load_utterances", "read_manifest",
    "train_ctc", "train_lslm",
]
