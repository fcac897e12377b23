"""Where longspeech keeps what it derives from installed weights (conversions, features)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs


def cache_dir() -> Path:
    """$LONGSPEECH_CACHE, else the user's XDG cache dir (~/.cache/longspeech)."""
    env = os.environ.get("LONGSPEECH_CACHE")
    root = Path(env) if env else Path(platformdirs.user_cache_dir("longspeech"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def sha256_file(path: str | Path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()
