"""Where the shipped speech-language model lives: package data, so a wheel carries it."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from ..errors import ModelNotAvailableError

ENV_DIR = "LONGSPEECH_LSLM_DIR"


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
