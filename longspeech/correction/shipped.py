"""The corrector's adapter that ships with the package (longspeech/correction/weights):
SmolLM2 fine-tuned on the project's own TTS -> ASR error pairs by `longspeech train
correction`; its training options, data and losses are in its manifest."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..errors import ModelIntegrityError, ModelNotAvailableError
from ..hashing import sha256_file
from ..llm.adapters import MANIFEST

EMBEDDED_ADAPTER = "embedded"
# The shipped manifest's own sha256: it holds the sha256 of every adapter file, so pinning it
# here pins them all (a manifest cannot vouch for itself).
SHIPPED_MANIFEST_SHA256 = ""


def shipped_adapter_dir() -> Path:
    """The adapter installed with the package, its manifest checked against the pin."""
    path = files(__package__) / "weights"
    if not isinstance(path, Path) or not (path / MANIFEST).is_file():
        raise ModelNotAvailableError(
            f"the shipped correction adapter is not on the file system ({path}): install "
            "longspeech from a wheel or a checkout, or give --correction-model DIR")
    if sha256_file(path / MANIFEST) != SHIPPED_MANIFEST_SHA256:
        raise ModelIntegrityError(
            f"the shipped correction adapter's manifest ({path / MANIFEST}) is altered; "
            "reinstall longspeech")
    return path


def adapter_dir(adapter: str) -> str:
    """The directory an adapter option names: "embedded" is the shipped one."""
    return str(shipped_adapter_dir()) if adapter == EMBEDDED_ADAPTER else adapter
