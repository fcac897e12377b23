"""LLM corrections a report can show, read leniently from wherever a transcript carries them.

Shape read (every key optional except one of ``original``/``corrected``)::

    {"original": "twenty five percent",   # the recognised span
     "corrected": "25%",                  # what the LLM replaced it with ("" = deleted)
     "type": "itn",                       # free text: spelling, punctuation, itn, ...
     "accepted": true,                    # kept after verification; missing means true
     "reason": "number written as words", # free text shown on hover
     "segment": 12}                       # index into transcript.segments ("segment_index" too)

Places looked at, all optional: a top-level ``"corrections"`` list in the transcript JSON; a
``"corrections"`` list inside a segment object (its segment index is implied); in a loaded
Transcript, ``provenance["corrections"]`` or ``provenance["correction"]["corrections"]``.
Entries that are not objects, or have neither text, are skipped: a report never fails because
a correction record is odd.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TranscriptFormatError
from ..types import Transcript, read_transcript_json

_TRUE = {"true", "yes", "1", "accepted", "accept"}


@dataclass(frozen=True)
class Correction:
    original: str
    corrected: str
    type: str = ""
    accepted: bool = True
    reason: str = ""
    segment: int | None = None  # index into transcript.segments; None = not tied to a line


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _index(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return None


def parse_corrections(items: Any, segment: int | None = None) -> list[Correction]:
    """Corrections from a JSON-like list; ``segment`` is the index when the list sits in one."""
    if not isinstance(items, Iterable) or isinstance(items, (str, bytes, Mapping)):
        return []
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        original, corrected = _text(item.get("original")), _text(item.get("corrected"))
        if not original and not corrected:
            continue
        acc = item.get("accepted", True)
        accepted = acc if isinstance(acc, bool) else _text(acc).strip().lower() in _TRUE
        idx = segment
        if idx is None:
            idx = _index(item.get("segment", item.get("segment_index")))
        out.append(Correction(original, corrected, _text(item.get("type")), accepted,
                              _text(item.get("reason")), idx))
    return out


def _dedupe(items: Iterable[Correction]) -> list[Correction]:
    return list(dict.fromkeys(items))


def corrections_of(tr: Transcript, extra: Iterable[Correction] = ()) -> list[Correction]:
    """Corrections given explicitly plus those a Transcript itself carries, without repeats;
    indices outside the transcript are dropped to None (listed, not placed on a line)."""
    found = list(extra)
    prov = tr.provenance or {}
    found += parse_corrections(prov.get("corrections"))
    block = prov.get("correction")
    if isinstance(block, Mapping):
        found += parse_corrections(block.get("corrections"))
    for i, seg in enumerate(tr.segments):
        found += parse_corrections(getattr(seg, "corrections", None), segment=i)
    n = len(tr.segments)
    return _dedupe(c if c.segment is None or 0 <= c.segment < n
                   else Correction(c.original, c.corrected, c.type, c.accepted, c.reason, None)
                   for c in found)


def transcript_from_dict(data: Mapping[str, Any]) -> tuple[Transcript, list[Correction]]:
    """A Transcript from transcript JSON that may also hold ``corrections`` lists (top level or
    per segment), which the plain Transcript reader does not accept."""
    d = dict(data)
    found = parse_corrections(d.pop("corrections", None))
    segs = d.get("segments")
    if isinstance(segs, list):
        clean = []
        for i, s in enumerate(segs):
            if isinstance(s, Mapping) and "corrections" in s:
                s = dict(s)
                found += parse_corrections(s.pop("corrections"), segment=i)
            clean.append(s)
        d["segments"] = clean
    tr = Transcript.from_dict(d)
    return tr, corrections_of(tr, found)


def load_report_input(path: str | Path) -> tuple[Transcript, list[Correction]]:
    """Read a transcript JSON file (with or without corrections) for a report."""
    data = read_transcript_json(path)
    try:
        return transcript_from_dict(data)
    except TranscriptFormatError as e:
        raise TranscriptFormatError(f"{path}: {e}") from None
