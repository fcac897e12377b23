"""Streaming audio decode to float32 mono 16 kHz, with memory independent of duration.

libsndfile (through soundfile) reads wav/flac/mp3/ogg/opus in-process; everything else (m4a,
mp4, webm, ...) goes through an ffmpeg subprocess pipe. Resampling is streaming (soxr), so
block edges are seamless: the concatenated blocks equal a one-shot resample bit for bit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ..errors import AudioDecodeError, InvalidOptionError
from ..hashing import sha256_file as sha256_of
from ..types import Recording, round_time
from .ffmpeg import SAMPLE_RATE, AudioInfo, ffmpeg_blocks, no_samples, probe_ffmpeg

# Containers libsndfile cannot read: skip straight to ffmpeg instead of failing first.
FFMPEG_ONLY = frozenset({
    ".aac", ".m4a", ".m4b", ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".mka", ".wma", ".wmv",
    ".avi", ".3gp", ".amr", ".ac3", ".ts", ".flv", ".ape", ".wv",
})

PathLike = str | os.PathLike


# -- input checks --------------------------------------------------------------------------

def _check_file(path: PathLike) -> Path:
    """Fail early, with a message a user can act on, for inputs no decoder can help with."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise AudioDecodeError(f"{p}: no such file") from None
    except OSError as e:
        raise AudioDecodeError(f"{p}: cannot access ({e.strerror})") from None
    if p.is_dir():
        raise AudioDecodeError(f"{p} is a directory, not an audio file")
    if st.st_size == 0:
        raise AudioDecodeError(f"{p} is empty (0 bytes): not an audio file")
    if not os.access(p, os.R_OK):
        raise AudioDecodeError(f"{p}: permission denied")
    return p



def _open_sndfile(p: Path) -> tuple[sf.SoundFile | None, str]:
    """An open SoundFile, or None and libsndfile's reason when ffmpeg must take over."""
    if p.suffix.lower() in FFMPEG_ONLY:
        return None, "container not supported by libsndfile"
    try:
        return sf.SoundFile(p), ""
    except (sf.SoundFileError, RuntimeError, ValueError) as e:
        reason = str(e).split(": ", 1)[-1]
        # libsndfile says this of a file it could not parse as mp3; the file does exist.
        if "does not exist" in reason:
            reason = "unrecognised or damaged data"
        return None, reason


def _sndfile_blocks(f: sf.SoundFile, p: Path, frames: int) -> Iterator[np.ndarray]:
    """Native-rate blocks, channels averaged. Reads until the data ends, not until the
    header's frame count, so a truncated file yields what it holds."""
    with f:
        done = 0
        while True:
            try:
                b = f.read(frames, dtype="float32", always_2d=True)
            except (sf.SoundFileError, RuntimeError) as e:
                raise AudioDecodeError(
                    f"{p}: decoding failed after {done / f.samplerate:.2f} s, the file is "
                    f"corrupt or truncated ({e})") from None
            if len(b) == 0:
                return
            done += len(b)
            yield b[:, 0].copy() if b.shape[1] == 1 else b.mean(axis=1, dtype=np.float32)


def _resampled(blocks: Iterator[np.ndarray], rate_in: int, rate_out: int) -> Iterator[np.ndarray]:
    if rate_in == rate_out:
        yield from blocks
        return
    rs = soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32")
    try:
        for b in blocks:
            out = rs.resample_chunk(b, last=False)
            if len(out):
                yield out
    finally:
        close_iterator(blocks)
    out = rs.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
    if len(out):
        yield out


def close_iterator(it: Iterator[np.ndarray]) -> None:
    """Close a generator now (not when garbage collected): frees files and child processes."""
    close = getattr(it, "close", None)
    if close is not None:
        close()


def _rebuffered(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Re-cut into blocks of exactly `size` samples (the last one may be shorter)."""
    pending: list[np.ndarray] = []
    have = 0
    for b in blocks:
        pending.append(b)
        have += len(b)
        if have < size:
            continue
        buf = np.concatenate(pending)
        stop = len(buf) - len(buf) % size
        for i in range(0, stop, size):
            yield buf[i:i + size]
        pending, have = ([buf[stop:]], len(buf) - stop) if stop < len(buf) else ([], 0)
    if have:
        yield np.concatenate(pending)


# -- public API ----------------------------------------------------------------------------

def probe(path: PathLike, *, checksum: bool = True) -> Recording:
    """Describe a recording (native rate, channels, duration, sha256) without decoding it.

    For compressed files the duration comes from the header; a truncated file may decode
    to less.
    """
    p = _check_file(path)
    f, reason = _open_sndfile(p)
    if f is not None:
        with f:
            info = AudioInfo(f.samplerate, f.channels, f.frames / f.samplerate if f.frames else 0.0)
    else:
        info = probe_ffmpeg(p, reason)
    if info.duration <= 0:
        raise no_samples(p)
    return Recording(id=p.stem, path=os.fspath(path), duration=round_time(info.duration),
                     sample_rate=int(info.sample_rate), channels=int(info.channels),
                     sha256=sha256_of(p) if checksum else None)


def stream(path: PathLike, *, block_seconds: float = 30.0,
           sample_rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """Yield float32 mono blocks of `block_seconds` (the last one shorter) at `sample_rate`.

    Path problems raise at once; decode problems raise AudioDecodeError from the iterator.
    Closing the iterator early releases the file (and kills an ffmpeg child).
    """
    if not block_seconds > 0:
        raise InvalidOptionError(f"block_seconds must be > 0, got {block_seconds}")
    if int(sample_rate) <= 0:
        raise InvalidOptionError(f"sample_rate must be > 0, got {sample_rate}")
    p = _check_file(path)
    return _stream(p, max(1, round(block_seconds * sample_rate)), int(sample_rate))


def _stream(p: Path, block: int, sample_rate: int) -> Iterator[np.ndarray]:
    f, reason = _open_sndfile(p)
    if f is not None:
        native = f.samplerate
        frames = max(1, round(block * native / sample_rate))
        source = _resampled(_sndfile_blocks(f, p, frames), native, sample_rate)
    else:
        source = ffmpeg_blocks(p, sample_rate, block, reason)
    total = 0
    try:
        for b in _rebuffered(source, block):
            total += len(b)
            yield b
    finally:
        close_iterator(source)
    if total == 0:
        raise no_samples(p)


def load(path: PathLike, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole recording as one float32 mono array (for short clips; long files: stream)."""
    blocks = list(stream(path, block_seconds=60.0, sample_rate=sample_rate))
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def read_span(path: PathLike, start: float, end: float, *, sample_rate: int = SAMPLE_RATE,
              pad: float = 0.5) -> np.ndarray:
    """The samples from `start` to `end` seconds (float32 mono), found by seeking.

    A worker that decodes one group of chunks reads just their audio, never the file from
    its beginning. `pad` seconds of context on each side keep the resampler's edges out of
    the span. Past the end of the data the result is shorter.
    """
    if not end >= start >= 0:
        raise InvalidOptionError(f"bad span {start}-{end} s")
    p = _check_file(path)
    a = max(0.0, start - pad)
    f, reason = _open_sndfile(p)
    if f is not None:
        with f:
            native = f.samplerate
            first = int(a * native)
            a = first / native
            try:
                f.seek(first)
                x = f.read(int(np.ceil((end + pad - a) * native)), dtype="float32",
                           always_2d=True)
            except (sf.SoundFileError, RuntimeError) as e:
                raise AudioDecodeError(f"{p}: cannot read {start:.2f}-{end:.2f} s, the file is "
                                       f"corrupt or truncated ({e})") from None
        x = x[:, 0].copy() if x.shape[1] == 1 else x.mean(axis=1, dtype=np.float32)
        if native != sample_rate and len(x):
            x = soxr.resample(x, native, sample_rate).astype(np.float32, copy=False)
    else:
        blocks = list(ffmpeg_blocks(p, sample_rate, sample_rate * 60, reason,
                                     span=(a, end + pad - a)))
        x = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    lo = round((start - a) * sample_rate)
    return x[lo:lo + round((end - start) * sample_rate)]


__all__ = ["FFMPEG_ONLY", "SAMPLE_RATE", "load", "probe", "read_span", "sha256_of", "stream"]
