"""Render a Transcript as json/txt/srt/vtt/tsv/rttm and write files atomically (temp + rename).

Atomic writes mean a crash or a failed recording never leaves a partial output behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import InvalidOptionError
from ..files import atomic_write_text
from ..types import Segment, Transcript
from .subtitles import SubtitleOptions, cues


def _clock(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _label(seg: Segment) -> str:
    return f"[{seg.speaker}] " if seg.speaker else ""


def _cue_text(text: str) -> str:
    # A blank line would end a cue early; "-->" would read as a timing line.
    return " ".join(text.split()).replace("-->", "->")


def render_json(tr: Transcript) -> str:
    return tr.to_json(indent=2) + "\n"


def render_txt(tr: Transcript) -> str:
    lines = [_label(s) + s.text.strip() for s in tr.segments if s.text.strip()]
    return "\n".join(lines) + ("\n" if lines else "")


def _vtt_text(text: str) -> str:
    return _cue_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_srt(tr: Transcript, subtitles: SubtitleOptions = SubtitleOptions()) -> str:
    out = []
    for i, c in enumerate(cues(tr, subtitles, clean=_cue_text), start=1):
        label = f"[{c.speaker}] " if c.speaker else ""
        out.append(f"{i}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n"
                   f"{label}{chr(10).join(c.lines)}\n")
    return "\n".join(out)


def render_vtt(tr: Transcript, subtitles: SubtitleOptions = SubtitleOptions()) -> str:
    out = ["WEBVTT\n"]
    for c in cues(tr, subtitles, clean=_vtt_text):
        voice = f"<v {c.speaker}>" if c.speaker else ""
        out.append(f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n"
                   f"{voice}{chr(10).join(c.lines)}\n")
    return "\n".join(out)


def render_tsv(tr: Transcript) -> str:
    """One row per segment; start/end in integer milliseconds as Whisper's tsv writer does."""
    rows = ["start\tend\tspeaker\ttext"]
    for s in tr.segments:
        if s.text.strip():
            text = " ".join(s.text.split())
            rows.append(f"{round(s.start * 1000)}\t{round(s.end * 1000)}\t{s.speaker or ''}\t{text}")
    return "\n".join(rows) + "\n"


def render_rttm(tr: Transcript) -> str:
    """Speaker turns as RTTM (empty when the transcript was not diarized)."""
    from ..diarization.rttm import transcript_to_rttm

    return transcript_to_rttm(tr)


FORMATS: dict[str, Callable[..., str]] = {
    "json": render_json,
    "txt": render_txt,
    "srt": render_srt,
    "vtt": render_vtt,
    "tsv": render_tsv,
    "rttm": render_rttm,
}


SUBTITLE_FORMATS = ("srt", "vtt")


def render(tr: Transcript, fmt: str, subtitles: SubtitleOptions = SubtitleOptions()) -> str:
    """The transcript in format `fmt` (srt and vtt cut into cues by `subtitles`)."""
    if fmt in SUBTITLE_FORMATS:
        return FORMATS[fmt](tr, subtitles)
    try:
        return FORMATS[fmt](tr)
    except KeyError:
        raise InvalidOptionError(
            f"unknown output format {fmt!r}; choose from {', '.join(FORMATS)}"
        ) from None


def write_outputs(tr: Transcript, out_dir: str | Path, stem: str,
                  formats: Iterable[str] = ("json",),
                  subtitles: SubtitleOptions = SubtitleOptions()) -> list[Path]:
    """Write every requested format as OUT_DIR/<stem>.<fmt>; all rendered before any is written."""
    out = Path(out_dir)
    rendered = [(fmt, render(tr, fmt, subtitles)) for fmt in formats]
    paths = []
    for fmt, text in rendered:
        p = out / f"{stem}.{fmt}"
        atomic_write_text(p, text)
        paths.append(p)
    return paths
