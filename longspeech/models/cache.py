"""Where longspeech keeps what it derives from installed weights (conversions, features)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ..hashing import sha256_file

__all__ = ["cache_dir", "sha256_file"]


def cache_dir() -> Path:
    """$LONGSPEECH_CACHE, else the user's XDG cache dir (~/.cache/longspeech)."""
    env = os.environ.get("LONGSPEECH_CACHE")
    root = Path(env) if env else Path(platformdirs.user_cache_dir("longspeech"))
    root.mkdir(parents=True, exist_ok=True)
    return root
