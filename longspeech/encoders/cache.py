"""Disk cache of encoder features: one directory per key, written whole or not at all.

States go to an .npy file as they are computed (rows appended, the header's row count
rewritten at the end, which numpy's header padding allows), so caching an hour never needs
the hour's features in memory; a hit is memory-mapped. An entry is built in a temporary
directory and renamed into place, so readers never see a partial one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
STATES = "states.npy"
META = "meta.json"


def cache_key(audio_sha256: str, model_key: str, options: dict[str, Any]) -> str:
    """sha256 of what determines the features: the audio bytes, the model, the options."""
    blob = json.dumps({"format": FORMAT_VERSION, "audio": audio_sha256, "model": model_key,
                       "options": options}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class FeatureCache:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load(self, key: str) -> tuple[np.ndarray, dict[str, Any]] | None:
        """(memory-mapped float32 states, metadata) of a complete entry, else None."""
        d = self.path(key)
        try:
            meta = json.loads((d / META).read_text())
            states = np.load(d / STATES, mmap_mode="r")
        except (OSError, ValueError):
            return None
        if meta.get("format") != FORMAT_VERSION or states.shape[0] != meta.get("frames"):
            return None
        return states, meta

    def writer(self, key: str, dim: int) -> FeatureWriter:
        return FeatureWriter(self.path(key), dim)


class FeatureWriter:
    """Append (n, dim) float32 rows, then commit(meta) or abort(); use as a context manager
    (an exception aborts)."""

    def __init__(self, target: Path, dim: int):
        self.target = target
        self.dim = dim
        self.rows = 0
        target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{target.name[:16]}.", dir=target.parent))
        self._f = open(self._tmp / STATES, "wb")
        self._header_len = self._header(0)

    def _header(self, rows: int) -> int:
        self._f.seek(0)
        np.lib.format.write_array_header_1_0(
            self._f, {"descr": "<f4", "fortran_order": False, "shape": (rows, self.dim)})
        return self._f.tell()

    def append(self, rows: np.ndarray) -> None:
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) rows, got {rows.shape}")
        self._f.write(np.ascontiguousarray(rows, dtype="<f4").tobytes())
        self.rows += len(rows)

    def commit(self, meta: dict[str, Any]) -> Path:
        """Finish the file and move the entry into place; returns its directory."""
        self._f.seek(0, os.SEEK_END)
        end = self._f.tell()
        if self._header(self.rows) != self._header_len:
            raise AssertionError("npy header length changed on rewrite")
        self._f.close()
        if end != self._header_len + self.rows * self.dim * 4:
            raise AssertionError("feature file size does not match its rows")
        full = {**meta, "format": FORMAT_VERSION, "frames": self.rows, "dim": self.dim}
        (self._tmp / META).write_text(json.dumps(full, indent=1, sort_keys=True) + "\n")
        try:
            os.replace(self._tmp, self.target)
        except OSError:
            # Another process committed the same key first: its entry is just as good.
            if not (self.target / META).is_file():
                raise
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
        return self.target

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> FeatureWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or self._tmp.exists():
            self.abort()
