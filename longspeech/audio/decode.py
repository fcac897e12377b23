"""Streaming audio decode to float32 mono 16 kHz, with memory independent of duration.

libsndfile (through soundfile) reads wav/flac/mp3/ogg/opus in-process; everything else (m4a,
mp4, webm, ...) goes through an ffmpeg subprocess pipe. Resampling is streaming (soxr), so
block edges are seamless: the concatenated blocks equal a one-shot resample bit for bit.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ..errors import AudioDecodeError, InvalidOptionError
from ..hashing import sha256_file as sha256_of
from ..types import Recording, round_time

SAMPLE_RATE = 16000

# Containers libsndfile cannot read: skip straight to ffmpeg instead of failing first.
FFMPEG_ONLY = frozenset({
    ".aac", ".m4a", ".m4b", ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".mka", ".wma", ".wmv",
    ".avi", ".3gp", ".amr", ".ac3", ".ts", ".flv", ".ape", ".wv",
})
_INSTALL_FFMPEG = (
    "install ffmpeg (Debian/Ubuntu: `apt-get install ffmpeg`; macOS: `brew install ffmpeg`)"
)

PathLike = str | os.PathLike


@dataclass(frozen=True)
class _Info:
    sample_rate: int
    channels: int
    duration: float


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


def _not_audio(p: Path, detail: str) -> AudioDecodeError:
    return AudioDecodeError(
        f"cannot decode {p}: not a recognised audio file, or it is corrupt or truncated "
        f"({detail})"
    )


def _no_samples(p: Path) -> AudioDecodeError:
    return AudioDecodeError(f"{p} contains no audio samples (zero-length audio)")


# -- ffmpeg --------------------------------------------------------------------------------

def _ffmpeg_tool(name: str, p: Path) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise AudioDecodeError(f"decoding {p.name} needs {name}, which is not on PATH: "
                               f"{_INSTALL_FFMPEG}")
    return exe


@functools.lru_cache(maxsize=4)
def _ffmpeg_has_soxr(exe: str) -> bool:
    try:
        out = subprocess.run([exe, "-hide_banner", "-buildconf"], capture_output=True,
                             timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return b"libsoxr" in out


def _ffmpeg_url(p: Path) -> str:
    # "file:" keeps a name with a colon (or a leading dash) from being read as a protocol/flag.
    return "file:" + os.fspath(p)


def _ffmpeg_filter(exe: str, sample_rate: int) -> str:
    # rematrix_maxval=1 normalises the down-mix to unity gain: stereo becomes (L + R) / 2,
    # the plain average the soundfile path uses (`-ac 1` alone gives 0.707 L + 0.707 R).
    engine = ":resampler=soxr" if _ffmpeg_has_soxr(exe) else ""
    return (f"aresample={sample_rate}{engine}:rematrix_maxval=1.0,"
            "aformat=sample_fmts=flt:channel_layouts=mono")


def _stderr_text(f, limit: int = 4000) -> str:
    f.seek(0, os.SEEK_END)
    f.seek(max(0, f.tell() - limit))
    return f.read().decode("utf-8", "replace")


def _ffmpeg_error(p: Path, stderr: str, sndfile_reason: str) -> AudioDecodeError:
    if "matches no streams" in stderr or "does not contain any stream" in stderr:
        return AudioDecodeError(f"{p} has no audio stream")
    # The last line is the verdict; ffmpeg's "To ignore this, ..." hints are not.
    lines = [ln.strip() for ln in stderr.splitlines()
             if ln.strip() and not ln.strip().startswith("To ignore")]
    message = lines[-1].removeprefix(_ffmpeg_url(p) + ": ") if lines else "no message"
    also = f"; libsndfile: {sndfile_reason}" if sndfile_reason else ""
    return _not_audio(p, f"ffmpeg: {message}{also}")


FFMPEG_TIMEOUT_ENV = "LONGSPEECH_FFMPEG_TIMEOUT"


def ffmpeg_timeout() -> float:
    """Seconds an ffmpeg pipe may go without output before its input counts as failed."""
    try:
        return max(1.0, float(os.environ.get(FFMPEG_TIMEOUT_ENV, "300")))
    except ValueError:
        return 300.0


def _ffmpeg_blocks(p: Path, sample_rate: int, block: int, sndfile_reason: str = "",
                   span: tuple[float, float] | None = None) -> Iterator[np.ndarray]:
    """float32 mono blocks from an ffmpeg pipe; the child is killed however iteration ends.

    `span` (start, seconds) seeks in the input and decodes only that stretch.
    """
    exe = _ffmpeg_tool("ffmpeg", p)
    seek = ["-ss", f"{span[0]:.6f}", "-t", f"{span[1]:.6f}"] if span else []
    cmd = [exe, "-nostdin", "-hide_banner", "-loglevel", "error", *seek, "-i", _ffmpeg_url(p),
           "-map", "0:a:0", "-vn", "-sn", "-dn", "-af", _ffmpeg_filter(exe, sample_rate),
           "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]
    # stderr goes to a file, not a pipe: a chatty decoder can then never fill a pipe and
    # deadlock against our reads of stdout.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err)
        try:
            assert proc.stdout is not None
            fd, limit, size = proc.stdout.fileno(), ffmpeg_timeout(), block * 4
            buf = bytearray()
            while True:
                # A decoder that stalls (a damaged file, a hung drive) must not hang the job.
                if not select.select([fd], [], [], limit)[0]:
                    raise _not_audio(p, f"ffmpeg gave no audio for {limit:g} s (set "
                                        f"{FFMPEG_TIMEOUT_ENV} to wait longer)")
                data = os.read(fd, size)
                if not data:
                    break
                buf += data
                while len(buf) >= size:
                    yield np.frombuffer(bytes(buf[:size]), dtype="<f4").astype(np.float32)
                    del buf[:size]
            usable = len(buf) - len(buf) % 4
            if usable:
                yield np.frombuffer(bytes(buf[:usable]), dtype="<f4").astype(np.float32)
            if proc.wait() != 0:
                raise _ffmpeg_error(p, _stderr_text(err), sndfile_reason)
        finally:
            if proc.poll() is None:
                proc.kill()
            if proc.stdout is not None:
                proc.stdout.close()
            proc.wait()


def _probe_ffmpeg(p: Path, sndfile_reason: str = "") -> _Info:
    exe = _ffmpeg_tool("ffprobe", p)
    cmd = [exe, "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels,duration:format=duration", "-of", "json",
           _ffmpeg_url(p)]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise _not_audio(p, "ffprobe did not finish within 120 s") from None
    if res.returncode != 0:
        raise _ffmpeg_error(p, res.stderr.decode("utf-8", "replace")
                            or f"ffprobe exit status {res.returncode}", sndfile_reason)
    try:
        meta = json.loads(res.stdout)
    except json.JSONDecodeError:
        raise _not_audio(p, "ffprobe gave unreadable output") from None
    streams = meta.get("streams") or []
    if not streams:
        raise AudioDecodeError(f"{p} has no audio stream")
    st = streams[0]
    try:
        sr, ch = int(st["sample_rate"]), int(st["channels"])
    except (KeyError, ValueError):
        raise _not_audio(p, "no sample rate or channel count") from None
    duration = _float_or_none(st.get("duration")) or _float_or_none(
        (meta.get("format") or {}).get("duration"))
    if duration is None:
        # Some containers (streamed webm) carry no duration: count the decoded samples.
        n = sum(len(b) for b in _ffmpeg_blocks(p, SAMPLE_RATE, SAMPLE_RATE * 60))
        duration = n / SAMPLE_RATE
    if sr <= 0 or ch <= 0:
        raise _not_audio(p, f"sample rate {sr}, {ch} channels")
    return _Info(sr, ch, duration)


def _float_or_none(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


# -- libsndfile ----------------------------------------------------------------------------

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
            info = _Info(f.samplerate, f.channels, f.frames / f.samplerate if f.frames else 0.0)
    else:
        info = _probe_ffmpeg(p, reason)
    if info.duration <= 0:
        raise _no_samples(p)
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
        source = _ffmpeg_blocks(p, sample_rate, block, reason)
    total = 0
    try:
        for b in _rebuffered(source, block):
            total += len(b)
            yield b
    finally:
        close_iterator(source)
    if total == 0:
        raise _no_samples(p)


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
        blocks = list(_ffmpeg_blocks(p, sample_rate, sample_rate * 60, reason,
                                     span=(a, end + pad - a)))
        x = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    lo = round((start - a) * sample_rate)
    return x[lo:lo + round((end - start) * sample_rate)]


__all__ = ["FFMPEG_ONLY", "SAMPLE_RATE", "load", "probe", "read_span", "sha256_of", "stream"]
