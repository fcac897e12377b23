"""Load a trained speech-language model directory: CTC density head + projector (+ LoRA),
checked against the sha256s its manifest records, assembled with its encoder and LLM.

The embedded model ships as package data (longspeech/speechlm/weights); $LONGSPEECH_LSLM_DIR
or a directory the caller names overrides it.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from safetensors.torch import load_file
from torch import nn

from ..compression.head import CTCDensityHead
from ..encoders import EncoderOptions, WhisperStateEncoder
from ..errors import ModelIntegrityError, ModelNotAvailableError
from ..hashing import sha256_file
from ..llm import load_llm
from .manifest import LORA_FILE, MANIFEST, PROJECTOR_FILE, read_manifest
from .model import SYSTEM, SpeechLM
from .shipped import SHIPPED_MANIFEST_SHA256, default_model_dir, shipped_model_dir


@dataclass
class LoadedSpeechLM:
    """A ready speech-language model and the encoder whose states it reads."""

    model: SpeechLM
    encoder: WhisperStateEncoder
    directory: Path
    manifest: dict


def verify_files(directory: Path, manifest: dict) -> None:
    """Every file the manifest lists must be there with the recorded sha256."""
    files = manifest.get("files", {})
    if not files:
        raise ModelNotAvailableError(f"{directory} has no lslm.json manifest: train a model "
                                     "(longspeech train ctc, then longspeech train lslm)")
    for name, sha in files.items():
        path = directory / name
        if not path.is_file():
            raise ModelNotAvailableError(f"{path} is missing: restore the trained model "
                                         "directory or train it again")
        digest = sha256_file(path)
        if digest != sha:
            raise ModelIntegrityError(f"{path} has sha256 {digest}, but lslm.json records "
                                      f"{sha}: the file is corrupt or was replaced")


def load_speechlm(directory: str | os.PathLike | None = None, device: str = "cpu",
                  encoder: WhisperStateEncoder | None = None) -> LoadedSpeechLM:
    """The trained model in `directory` (default: default_model_dir()). device "auto": CUDA
    where torch sees a GPU, else the CPU."""
    from ..encoders.whisper import resolve_device

    device = resolve_device(device)
    d = Path(directory) if directory is not None else default_model_dir()
    if d.resolve() == shipped_model_dir().resolve():
        digest = sha256_file(d / MANIFEST)
        if digest != SHIPPED_MANIFEST_SHA256:
            raise ModelIntegrityError(f"{d / MANIFEST} has sha256 {digest}, expected "
                                      f"{SHIPPED_MANIFEST_SHA256}: the installed package is "
                                      "corrupt or altered; reinstall longspeech")
    manifest = read_manifest(d)
    verify_files(d, manifest)
    info = manifest.get("lslm")
    if not info:
        raise ModelNotAvailableError(f"{d} holds no trained projector: run longspeech train "
                                     "lslm")
    head = CTCDensityHead.load(d, device=device)
    enc = encoder or WhisperStateEncoder(EncoderOptions(model=info["encoder_model"],
                                                        pool=bool(info["pool"]), device=device))
    if enc.options.pool != bool(info["pool"]) or enc.options.layer_norm:
        enc = enc.with_options(pool=bool(info["pool"]), layer_norm=False)
    llm = load_llm(info["llm"], device=device)
    projector = nn.Linear(int(info["d_enc"]), int(info["d_llm"]))
    projector.load_state_dict(load_file(str(d / PROJECTOR_FILE), device=device))
    lm = None
    if info.get("lora"):
        lm = _merged_lora(llm.model, info["lora"], d / LORA_FILE)
    layer_norm = copy.deepcopy(enc.final_layer_norm).float()
    model = SpeechLM(llm, layer_norm, projector.to(device), head,
                     system=info.get("system", SYSTEM), lm=lm).eval()
    return LoadedSpeechLM(model, enc, d, manifest)


def _merged_lora(model: nn.Module, lora: dict, path: Path) -> nn.Module:
    """A copy of the LLM with the trained LoRA weights merged in (the shared copy stays)."""
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict

    cfg = LoraConfig(r=int(lora["r"]), lora_alpha=int(lora["alpha"]), lora_dropout=0.0,
                     target_modules=list(lora["targets"]), bias="none")
    peft = get_peft_model(copy.deepcopy(model), cfg)
    set_peft_model_state_dict(peft, load_file(str(path)))
    return peft.merge_and_unload().eval()


@lru_cache(maxsize=2)
def cached_speechlm(directory: str, device: str = "cpu") -> LoadedSpeechLM:
    """load_speechlm, kept for reuse across calls (ask() answers many questions)."""
    return load_speechlm(directory, device)
