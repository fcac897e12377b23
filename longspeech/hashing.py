"""File hashing shared by weight checks, conversion records and recording ids."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def sha256_file(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """sha256 of a file, read in blocks so hour-long recordings need no memory."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(block):
            h.update(data)
    return h.hexdigest()


def verify_once(path: Path, expected: str, stamp: Path, mismatch: str) -> None:
    """Check a weight file's sha256 against `expected`, remembering a good result in `stamp`
    by (size, mtime) so that later loads skip the hash. `mismatch` ends the error message:
    what the user should do."""
    from .errors import ModelIntegrityError

    st = path.stat()
    key = {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": expected}
    try:
        if json.loads(stamp.read_text()) == key:
            return
    except (OSError, ValueError):
        pass
    digest = sha256_file(path)
    if digest != expected:
        raise ModelIntegrityError(f"{path} has sha256 {digest}, expected {expected}: {mismatch}")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(key))


def tree_sha256(directory: Path, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """sha256 of every file below `directory` (relative names; `skip` left out): what a
    converted model cache records when it is written, to check it against later."""
    return {str(f.relative_to(directory)): sha256_file(f) for f in sorted(directory.rglob("*"))
            if f.is_file() and f.name not in skip}


def tree_is_intact(directory: Path, files: dict[str, str], stamps: Path) -> bool:
    """Whether every recorded file is there with its sha256 (checked once per size and
    mtime, like verify_once); a converted cache that is not gets converted again."""
    from .errors import ModelIntegrityError

    if not files:
        return False
    for name, sha in files.items():
        path = directory / name
        stamp = stamps / (hashlib.sha1(str(path).encode()).hexdigest() + ".json")
        try:
            verify_once(path, sha, stamp, "the cache is converted again")
        except (OSError, ModelIntegrityError):
            return False
    return True
