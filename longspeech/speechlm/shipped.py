"""Where the shipped speech-language model lives: package data, so a wheel carries it."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from ..errors import ModelNotAvailableError

ENV_DIR = "LONGSPEECH_LSLM_DIR"
# The shipped manifest's own sha256: it holds the sha256 of every weight file, so pinning it
# here pins them all (a manifest cannot vouch for itself).
SHIPPED_MANIFEST_SHA256 = "a98ef735a9d8d2e1c4ac5e8cb119547ea427fc5f24364d282e5a2deefef04f68"


def shipped_model_dir() -> Path:
    """The weights installed with the package (longspeech/speechlm/weights)."""
    path = files(__package__) / "weights"
    if not isinstance(path, Path) or not path.is_dir():
        raise ModelNotAvailableError(
            f"the shipped speech-language model is not on the file system ({path}): install "
            "longspeech from a wheel or a checkout, or name a trained model directory")
    return path


def default_model_dir() -> Path:
    """$LONGSPEECH_LSLM_DIR, else the shipped weights."""
    env = os.environ.get(ENV_DIR)
    return Path(env) if env else shipped_model_dir()
