"""Atomic file writes: every output, state and model file goes through here, so a reader
never sees half a file and a crash leaves nothing behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], object], suffix: str = ".tmp") -> Path:
    """Run `write(temp_path)` on a temp file beside `path`, then rename it into place: a
    reader never sees half a file, and the file gets ordinary permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path via a temp file in the same directory and os.replace."""
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))
