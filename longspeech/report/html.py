"""One self-contained HTML file per transcript: summary, speaker timeline, searchable transcript.

Everything a transcript supplies (text, speaker names, ids, file names, correction notes) goes
through html.escape, and the one JSON block the script reads has "<", ">", "&" and the JS line
separators written as \\u escapes, so no transcript can close a tag or inject markup. The audio
is referenced, never embedded (an hour of audio would make a 100 MB page): relative to the
report when it is written to a file, else by absolute file URI.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import InvalidOptionError
from ..files import atomic_write_text
from ..types import Transcript
from ._assets import CSS, JS
from .corrections import Correction, corrections_of, load_report_input, transcript_from_dict
from .layout import SPEECH_LANE, Lane, Line, TurnGroup, group_turns, lanes, lines
from .stats import ReportSummary, summarize

TranscriptInput = Transcript | Mapping[str, Any] | str | Path
_UNKNOWN_COLOR = "#8c959f"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def script_json(obj: Any) -> str:
    """JSON that is safe inside <script>: no "</script>", "<!--" or raw U+2028/2029."""
    text = json.dumps(obj, ensure_ascii=False)
    for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def clock(t: float, hours: bool = False) -> str:
    """m:ss, or h:mm:ss when the recording runs an hour or more."""
    s = int(max(t, 0.0))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if hours or h else f"{m}:{sec:02d}"


def human_duration(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min"
    if m:
        return f"{m} min {sec:02d} s"
    return f"{seconds:.1f} s"


def _pct(x: float) -> str:
    return f"{max(0.0, min(100.0, x)):.4f}%"


def _audio_src(audio: Path, base_dir: Path | None) -> str:
    if base_dir is not None:
        try:
            rel = os.path.relpath(audio.resolve(), base_dir.resolve())
            return quote(Path(rel).as_posix())
        except ValueError:  # another drive on Windows
            pass
    return audio.resolve().as_uri()


def _tick_step(duration: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if duration / step <= 10:
            return step
    return 3600 * max(1, int(duration // 36000) + 1)


def _timeline(tr_lanes: list[Lane], duration: float, hours: bool) -> str:
    span = duration if duration > 0 else 1.0
    step = _tick_step(span)
    ticks = "".join(f'<span class="tick" style="left:{_pct(100 * k * step / span)}">'
                    f"{clock(k * step, hours)}</span>"
                    for k in range(int(span // step) + 1))
    longest = max((len(lane.speaker) for lane in tr_lanes), default=6)
    label_w = min(180, max(60, 8 * longest + 12))
    rows = []
    for lane in tr_lanes:
        blocks = "".join(
            f'<span class="block" style="left:{_pct(100 * a / span)};'
            f'width:{_pct(100 * (b - a) / span)}" data-start="{a:.3f}" data-end="{b:.3f}" '
            f'title="{_e(lane.speaker)} {clock(a, hours)}\u2013{clock(b, hours)}"></span>'
            for a, b in lane.blocks)
        rows.append(
            f'<div class="lane" data-speaker="{_e(lane.speaker)}" style="--c:{lane.color}">'
            f'<span class="lane-label" title="{_e(lane.speaker)}">{_e(lane.speaker)}</span>'
            f'<div class="track">{blocks}<span class="cursor"></span></div></div>')
    return (f'<section id="timeline" class="timeline" style="--label-w:{label_w}px">'
            f'<h2>Speaker timeline</h2><div class="axis">{ticks}</div>{"".join(rows)}</section>')


def _summary(sm: ReportSummary) -> str:
    def fig(name: str, value: str) -> str:
        return f'<div class="figure"><dt>{_e(name)}</dt><dd>{_e(value)}</dd></div>'

    wpm = "\u2013" if sm.wpm is None else f"{sm.wpm:.0f}"
    figures = (fig("Duration", human_duration(sm.duration))
               + fig("Speakers", str(sm.num_speakers) if sm.num_speakers else "not labelled")
               + fig("Words", f"{sm.words:,}")
               + fig("Words per minute", wpm)
               + fig("Speech", human_duration(sm.speech_time)))
    rows = []
    for st in sm.speakers:
        rate = "\u2013" if st.wpm is None else f"{st.wpm:.0f}"
        rows.append(
            f'<tr class="speaker-row" data-speaker="{_e(st.speaker)}">'
            f'<td><span class="swatch" style="--c:{st.color}"></span>{_e(st.speaker)}</td>'
            f'<td class="num">{_e(human_duration(st.talk_time))}</td>'
            f'<td class="num">{100 * st.share:.1f}%</td>'
            f'<td class="bar-cell"><div class="bar" style="width:{_pct(100 * st.share)};'
            f'background:{st.color}"></div></td>'
            f'<td class="num">{st.words:,}</td><td class="num">{rate}</td></tr>')
    table = ('<table class="talk"><thead><tr><th>Speaker</th><th class="num">Talk time</th>'
             '<th class="num">Share</th><th></th><th class="num">Words</th>'
             '<th class="num">Words/min</th></tr></thead><tbody>'
             + "".join(rows) + "</tbody></table>")
    overall = "\u2013" if sm.wpm_recording is None else f"{sm.wpm_recording:.0f}"
    note = (f"Words per minute count speech time ({human_duration(sm.speech_time)}); "
            f"over the whole recording it is {overall}.")
    return (f'<section id="summary"><dl class="figures">{figures}</dl>'
            f'<p class="meta">{_e(note)}</p><h2>Talk time</h2>{table}</section>')


def _title_attr(c: Correction) -> str:
    parts = [f"was: {c.original}" if c.original else "inserted"]
    if c.type:
        parts.append(f"type: {c.type}")
    if c.reason:
        parts.append(c.reason)
    return _e(" \u00b7 ".join(parts))


def _line_text(text: str, fixes: list[Correction]) -> str:
    """Escaped line text with each accepted correction's span marked (first free occurrence);
    a correction whose text is not found is noted after the line instead."""
    spans: list[tuple[int, int, Correction]] = []
    notes: list[Correction] = []
    for c in fixes:
        at, placed = 0, False
        while c.corrected and (at := text.find(c.corrected, at)) >= 0:
            end = at + len(c.corrected)
            if all(end <= s or at >= e for s, e, _ in spans):
                spans.append((at, end, c))
                placed = True
                break
            at += 1
        if not placed:
            notes.append(c)
    out, pos = [], 0
    for s, e, c in sorted(spans, key=lambda x: x[0]):
        out.append(_e(text[pos:s]))
        out.append(f'<mark class="fix" title="{_title_attr(c)}">{_e(text[s:e])}</mark>')
        pos = e
    out.append(_e(text[pos:]))
    for c in notes:
        what = (f"{c.original} \u2192 {c.corrected}" if c.corrected else f"deleted: {c.original}")
        out.append(f' <span class="fix-note" title="{_title_attr(c)}">[{_e(what)}]</span>')
    return "".join(out)


def _transcript(groups: list[TurnGroup], colors: dict[str, str], fixes: dict[int, list[Correction]],
                hours: bool, total: int, no_speakers: bool, player: str) -> str:
    parts = []
    for g in groups:
        name = g.speaker or (SPEECH_LANE if no_speakers else "unknown speaker")
        color = colors.get(g.speaker or SPEECH_LANE, _UNKNOWN_COLOR)
        body = "".join(
            f'<p class="line" id="seg-{ln.index}" data-seg="{ln.index}" '
            f'data-start="{ln.start:.3f}" data-end="{ln.end:.3f}">'
            f'<span class="ts">{clock(ln.start, hours)}</span>'
            f'<span class="text">{_line_text(ln.text, fixes.get(ln.index, []))}</span></p>'
            for ln in g.lines)
        parts.append(
            f'<div class="turn" data-speaker="{_e(name)}" style="--c:{color}">'
            f'<div class="turn-head"><span class="speaker">{_e(name)}</span> '
            f'<span class="when">{clock(g.start, hours)}\u2013{clock(g.end, hours)}</span></div>'
            f"{body}</div>")
    empty = "" if parts else '<p class="empty">No speech was transcribed.</p>'
    return ('<section id="transcript"><h2>Transcript</h2><div class="controls">'
            f'{player}<div class="search"><input id="q" type="search" '
            'placeholder="Search the transcript  ( / )" '
            'aria-label="Search the transcript" autocomplete="off">'
            f'<span id="count" aria-live="polite">{total} lines</span></div></div>'
            f'{"".join(parts)}{empty}<p id="no-match" class="empty" hidden>No line matches.</p>'
            "</section>")


def _corrections(cs: list[Correction], tr_lines: dict[int, Line], hours: bool) -> str:
    if not cs:
        return ""
    rows = []
    for c in cs:
        line = tr_lines.get(c.segment) if c.segment is not None else None
        where = clock(line.start, hours) if line else "\u2013"
        status = "accepted" if c.accepted else "rejected"
        rows.append(f'<tr class="{status}"><td class="num">{where}</td><td>{_e(c.original)}</td>'
                    f'<td class="corr">{_e(c.corrected)}</td><td>{_e(c.type)}</td>'
                    f"<td>{status}</td><td>{_e(c.reason)}</td></tr>")
    n_acc = sum(c.accepted for c in cs)
    return (f'<section id="corrections"><h2>LLM corrections</h2><p class="meta">{n_acc} accepted, '
            f"{len(cs) - n_acc} rejected; accepted ones are marked in the transcript.</p>"
            '<table><thead><tr><th class="num">At</th><th>Recognised</th><th>Corrected</th>'
            "<th>Type</th><th>Status</th><th>Reason</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></section>")


def _resolve(transcript: TranscriptInput) -> tuple[Transcript, list[Correction]]:
    if isinstance(transcript, Transcript):
        return transcript, corrections_of(transcript)
    if isinstance(transcript, Mapping):
        return transcript_from_dict(transcript)
    return load_report_input(transcript)


def _check_audio(audio: str | Path | None) -> Path | None:
    if audio is None:
        return None
    p = Path(audio)
    if not p.is_file():
        raise InvalidOptionError(
            f"audio file {p} not found; pass the recording the transcript was made from, "
            "or leave the audio out for a report without a player")
    return p


def render_report(transcript: TranscriptInput, audio: str | Path | None = None, *,
                  corrections: Iterable[Correction] = (), base_dir: str | Path | None = None,
                  title: str | None = None) -> str:
    """The report as one HTML document.

    transcript: a Transcript, parsed transcript JSON, or a path to a transcript JSON file
    (the JSON forms may carry ``corrections``; see longspeech.report.corrections).
    audio: the recording, for a player and click-to-seek; referenced relative to base_dir
    when given (where the report will live), else by absolute file URI.
    """
    tr, found = _resolve(transcript)
    found = corrections_of(tr, [*corrections, *found])
    audio_path = _check_audio(audio)
    tr_lines = lines(tr)
    tr_lanes = lanes(tr, tr_lines)
    sm = summarize(tr, tr_lanes)
    hours = sm.duration >= 3600
    colors = {lane.speaker: lane.color for lane in tr_lanes}
    fixes: dict[int, list[Correction]] = {}
    for c in found:
        if c.accepted and c.segment is not None:
            fixes.setdefault(c.segment, []).append(c)
    name = Path(tr.recording.path).name if tr.recording.path else ""
    heading = title or tr.recording.id or name or "Transcript"
    src = _audio_src(audio_path, Path(base_dir) if base_dir else None) if audio_path else None
    player = (f'<audio id="player" controls preload="metadata" src="{_e(src)}"></audio>'
              if src else "")
    facts = (name, f"language: {tr.language}" if tr.language else "",
             f"audio: {audio_path.name}" if audio_path else "")
    meta = " \u00b7 ".join(_e(x) for x in facts if x)
    data = {"duration": sm.duration, "recording": tr.recording.id, "audio": src,
            "speakers": [lane.speaker for lane in tr_lanes], "lines": len(tr_lines)}
    provenance = _e(json.dumps(tr.provenance, ensure_ascii=False, indent=2, sort_keys=True))
    transcript_html = _transcript(group_turns(tr_lines), colors, fixes, hours, len(tr_lines),
                                  not sm.num_speakers, player)
    body = (f"<main><header><h1>{_e(heading)}</h1><p class=\"meta\">{meta}</p></header>"
            f"{_summary(sm)}{_timeline(tr_lanes, sm.duration, hours)}{transcript_html}"
            f"{_corrections(found, {ln.index: ln for ln in tr_lines}, hours)}"
            f"<footer><details><summary>Provenance</summary><pre>{provenance}</pre></details>"
            "<p>Made with longspeech.</p></footer></main>")
    return ("<!DOCTYPE html>\n<html lang=\"" + _e(tr.language or "und") + "\"><head>"
            '<meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="longspeech"><title>{_e(heading)}</title>'
            f"<style>{CSS}</style></head><body>{body}"
            f'<script type="application/json" id="report-data">{script_json(data)}</script>'
            f"<script>{JS}</script></body></html>\n")


def write_report(transcript: TranscriptInput, out_path: str | Path, audio: str | Path | None = None,
                 *, corrections: Iterable[Correction] = (), title: str | None = None) -> Path:
    """Write the report atomically; the audio is linked relative to the report's folder."""
    out = Path(out_path)
    text = render_report(transcript, audio, corrections=corrections, base_dir=out.parent,
                         title=title)
    atomic_write_text(out, text)
    return out
