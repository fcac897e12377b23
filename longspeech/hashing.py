"""File hashing shared by weight checks, conversion records and recording ids."""

from __future__ import annotations

import hashlib
import os


def sha256_file(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """sha256 of a file, read in blocks so hour-long recordings need no memory."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(block):
            h.update(data)
    return h.hexdigest()
