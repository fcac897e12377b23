"""Expand what a user typed (files, directories, globs, @list.txt) into audio paths."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputFileError

AUDIO_EXTENSIONS = frozenset({
    ".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".mp4", ".webm", ".aac", ".wma",
    ".aiff", ".aif", ".mkv", ".mov", ".oga", ".caf", ".au",
})


def expand_inputs(items: Iterable[str], empty: list[str] | None = None) -> list[Path]:
    """Paths in the order given; directories recurse by audio extension; duplicates dropped.

    Names that match nothing are kept as given, so that they fail with a clear error in the
    job summary instead of vanishing. A directory or glob that holds no audio is added to
    `empty`, so that the caller can say so.
    """
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve() if p.exists() else p
        if key not in seen:
            seen.add(key)
            out.append(p)

    for item in items:
        if item.startswith("@") and len(item) > 1:
            try:
                lines = Path(item[1:]).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise InputFileError(f"cannot read the input list {item[1:]}: "
                                         f"{getattr(e, 'strerror', None) or e}") from None
            for p in expand_inputs((x.strip() for x in lines
                                    if x.strip() and not x.lstrip().startswith("#")), empty):
                add(p)
            continue
        p = Path(item)
        if p.is_dir():
            found = [f for f in sorted(p.rglob("*"))
                     if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS]
        elif not p.exists() and glob.has_magic(item):
            found = [Path(m) for m in sorted(glob.glob(item, recursive=True))]
        else:
            found = [p]
        if not found and empty is not None:
            empty.append(item)
        for f in found:
            add(f)
    return out


def audio_seconds(paths: Iterable[Path]) -> dict[str, float]:
    """Each readable input's duration by file name, from its header (no decoding, no hashing):
    what a progress bar's total needs. An input that cannot be read is left out; the job
    reports it with its own message."""
    from ..audio import probe
    from ..errors import LongspeechError

    out: dict[str, float] = {}
    for p in paths:
        try:
            out[p.name] = probe(p, checksum=False).duration
        except LongspeechError:
            continue
    return out
