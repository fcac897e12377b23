"""ffmpeg as a subprocess: probing and streaming decode of what libsndfile cannot read,
with a timeout on a stalled pipe and one clear error for every way it can fail."""

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

from ..errors import AudioDecodeError

SAMPLE_RATE = 16000
_INSTALL_FFMPEG = (
    "install ffmpeg (Debian/Ubuntu: `apt-get install ffmpeg`; macOS: `brew install ffmpeg`)"
)


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    duration: float


def not_audio(p: Path, detail: str) -> AudioDecodeError:
    return AudioDecodeError(
        f"cannot decode {p}: not a recognised audio file, or it is corrupt or truncated "
        f"({detail})"
    )


def no_samples(p: Path) -> AudioDecodeError:
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
    return not_audio(p, f"ffmpeg: {message}{also}")


FFMPEG_TIMEOUT_ENV = "LONGSPEECH_FFMPEG_TIMEOUT"


def ffmpeg_timeout() -> float:
    """Seconds an ffmpeg pipe may go without output before its input counts as failed."""
    try:
        return max(1.0, float(os.environ.get(FFMPEG_TIMEOUT_ENV, "300")))
    except ValueError:
        return 300.0


def ffmpeg_blocks(p: Path, sample_rate: int, block: int, sndfile_reason: str = "",
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
                    raise not_audio(p, f"ffmpeg gave no audio for {limit:g} s (set "
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


def probe_ffmpeg(p: Path, sndfile_reason: str = "") -> AudioInfo:
    exe = _ffmpeg_tool("ffprobe", p)
    cmd = [exe, "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels,duration:format=duration", "-of", "json",
           _ffmpeg_url(p)]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise not_audio(p, "ffprobe did not finish within 120 s") from None
    if res.returncode != 0:
        raise _ffmpeg_error(p, res.stderr.decode("utf-8", "replace")
                            or f"ffprobe exit status {res.returncode}", sndfile_reason)
    try:
        meta = json.loads(res.stdout)
    except json.JSONDecodeError:
        raise not_audio(p, "ffprobe gave unreadable output") from None
    streams = meta.get("streams") or []
    if not streams:
        raise AudioDecodeError(f"{p} has no audio stream")
    st = streams[0]
    try:
        sr, ch = int(st["sample_rate"]), int(st["channels"])
    except (KeyError, ValueError):
        raise not_audio(p, "no sample rate or channel count") from None
    duration = _float_or_none(st.get("duration")) or _float_or_none(
        (meta.get("format") or {}).get("duration"))
    if duration is None:
        # Some containers (streamed webm) carry no duration: count the decoded samples.
        n = sum(len(b) for b in ffmpeg_blocks(p, SAMPLE_RATE, SAMPLE_RATE * 60))
        duration = n / SAMPLE_RATE
    if sr <= 0 or ch <= 0:
        raise not_audio(p, f"sample rate {sr}, {ch} channels")
    return AudioInfo(sr, ch, duration)


def _float_or_none(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


# -- libsndfile ----------------------------------------------------------------------------


__all__ = ["FFMPEG_TIMEOUT_ENV", "AudioInfo", "ffmpeg_blocks", "ffmpeg_timeout", "no_samples",
           "not_audio", "probe_ffmpeg"]
