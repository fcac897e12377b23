"""A trained speech-language model directory's manifest (lslm.json): the sha256 of every
file, the options and the measured metrics. Training writes it; loading checks against it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ModelIntegrityError
from ..files import atomic_write_text
from ..hashing import sha256_file

MANIFEST = "lslm.json"
PROJECTOR_FILE = "projector.safetensors"
LORA_FILE = "lora.safetensors"


def update_manifest(out_dir: str | os.PathLike, section: str, info: dict[str, Any],
                    files: list[str], removed: tuple[str, ...] = ()) -> Path:
    """Record `info` under `section` of out_dir/lslm.json and the sha256 of `files`; forget
    the files in `removed`."""
    d = Path(out_dir)
    path = d / MANIFEST
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data.setdefault("files", {})
    for name in files:
        data["files"][name] = sha256_file(d / name)
    for name in removed:
        data["files"].pop(name, None)
    data[section] = info
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a trained model directory ({} when there is none yet)."""
    path = Path(directory) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise ModelIntegrityError(f"{path} is not valid JSON: restore it or train the model "
                                  "again") from None
