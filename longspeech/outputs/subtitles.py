"""Subtitle cues for srt/vtt: segments cut into readable cues by the line controls Whisper
and WhisperX users know (max_line_width, max_line_count, max_words_per_line), and word-level
highlighting (highlight_words) where word times exist.

A cue never crosses a segment (nor a speaker change); within a segment, words fill a line
until the next one would pass max_line_width characters or max_words_per_line words, and
lines fill a cue until max_line_count. Without word times a segment's text is wrapped by
characters and keeps the segment's times.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidOptionError
from ..types import Segment, Transcript, Word


@dataclass(frozen=True)
class SubtitleOptions:
    """None: no limit (one cue per segment, as Whisper writes them by default)."""

    max_line_width: int | None = None
    max_line_count: int | None = None
    max_words_per_line: int | None = None
    highlight_words: bool = False

    def validate(self) -> None:
        for name in ("max_line_width", "max_line_count", "max_words_per_line"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidOptionError(f"{name.replace('_', '-')} must be at least 1, "
                                         f"got {value}")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None
    words: tuple[Word, ...] = ()


def _lines(words: list[Word], opts: SubtitleOptions) -> list[list[Word]]:
    lines: list[list[Word]] = []
    cur: list[Word] = []
    for w in words:
        text = " ".join(x.word.strip() for x in [*cur, w])
        too_wide = opts.max_line_width is not None and len(text) > opts.max_line_width
        too_many = opts.max_words_per_line is not None and len(cur) >= opts.max_words_per_line
        if cur and (too_wide or too_many):
            lines.append(cur)
            cur = []
        cur.append(w)
    if cur:
        lines.append(cur)
    return lines


def _segment_cues(seg: Segment, opts: SubtitleOptions) -> list[Cue]:
    text = " ".join(seg.text.split())
    words = [w for w in seg.words if w.word.strip()]
    if not words or " ".join(w.word.strip() for w in words) != text:
        # No usable word times: wrap the text by characters, one cue for the segment.
        width = opts.max_line_width
        lines = textwrap.wrap(text, width) if width else [text]
        return [Cue(seg.start, seg.end, tuple(lines), seg.speaker)]
    per_cue = opts.max_line_count or len(words)
    lines = _lines(words, opts)
    cues = []
    for i in range(0, len(lines), per_cue):
        group = lines[i:i + per_cue]
        ws = tuple(w for line in group for w in line)
        cues.append(Cue(ws[0].start, ws[-1].end,
                        tuple(" ".join(w.word.strip() for w in line) for line in group),
                        seg.speaker, ws))
    # Keep the segment's outer edges: the first cue starts with it, the last ends with it.
    cues[0] = Cue(seg.start, cues[0].end, cues[0].lines, cues[0].speaker, cues[0].words)
    cues[-1] = Cue(cues[-1].start, seg.end, cues[-1].lines, cues[-1].speaker, cues[-1].words)
    return cues


def _highlighted(cue: Cue, mark: tuple[str, str], clean: Callable[[str], str]) -> list[Cue]:
    """One cue per word of `cue`, that word marked, as Whisper's --highlight_words does."""
    if not cue.words:
        return [cue]
    out = []
    flat = list(cue.words)
    widths = [len(line.split()) for line in cue.lines]
    for k, w in enumerate(flat):
        start = cue.start if k == 0 else w.start
        end = flat[k + 1].start if k + 1 < len(flat) else cue.end
        tokens = [mark[0] + clean(x.word.strip()) + mark[1] if j == k else
                  clean(x.word.strip()) for j, x in enumerate(flat)]
        lines, pos = [], 0
        for n in widths:
            lines.append(" ".join(tokens[pos:pos + n]))
            pos += n
        if end > start:
            out.append(Cue(start, end, tuple(lines), cue.speaker))
    return out or [cue]


def _cleaned(cue: Cue, clean: Callable[[str], str]) -> Cue:
    return Cue(cue.start, cue.end, tuple(clean(line) for line in cue.lines), cue.speaker,
               cue.words)


def cues(tr: Transcript, opts: SubtitleOptions, mark: tuple[str, str] = ("<u>", "</u>"),
         clean: Callable[[str], str] = lambda text: text) -> list[Cue]:
    """The cues of a transcript under these options; `clean` makes a text safe for the
    format (applied before the highlight marks are added)."""
    out: list[Cue] = []
    limited = (opts.max_line_width or opts.max_line_count or opts.max_words_per_line
               or opts.highlight_words)
    for seg in tr.segments:
        if not seg.text.strip():
            continue
        if not limited:
            out.append(Cue(seg.start, seg.end, (clean(" ".join(seg.text.split())),),
                           seg.speaker))
            continue
        for cue in _segment_cues(seg, opts):
            out.extend(_highlighted(cue, mark, clean) if opts.highlight_words
                       else [_cleaned(cue, clean)])
    return out
