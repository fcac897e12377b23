"""Answers about a whole collection. Questions about its structure (which recordings mention
a thing, how many, when a person first or last said it, who talks most about it) are
computed from the index, with every segment they rest on as evidence. A question about the
content goes to the recording whose segments rank best for it (bm25 over the whole library)
and is answered there by the one-recording answerers (qa.answer_cascade).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..qa.answer import AskOptions, answer_cascade
from ..qa.cascade import clock
from ..types import Transcript
from .questions import FIRST, HOW_MANY, LAST, WHICH, WHO_MOST, CollectionQuestion
from .search import Hit
from .store import RecordingInfo

_ANONYMOUS = re.compile(r"^(?:SPEAKER|spk)_?\d+$", re.I)
# Segments a structure answer lists as evidence at most (the count covers them all).
EVIDENCE_LIMIT = 20


@dataclass(frozen=True)
class LibraryAnswer:
    """An answer over a collection. recordings: those the answer names; evidence: the
    segments it rests on (recording, time, speaker, quote, link); count: for "how many";
    model: "library data" when computed from the index, else the LLM's name."""

    question: str
    text: str
    kind: str
    recordings: list[str] = field(default_factory=list)
    evidence: list[Hit] = field(default_factory=list)
    count: int | None = None
    model: str = "library data"
    seconds: float = 0.0
    supported: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Sources:
    """What the answers read: the index's hits, each recording's facts and transcript."""

    def __init__(self, mentions: Callable[[str, str | None], list[Hit]],
                 ranked: Callable[[str], list[Hit]],
                 infos: Sequence[RecordingInfo], transcript: Callable[[str], Transcript],
                 link: Callable[[Hit], Hit]):
        self.mentions, self.ranked, self.transcript, self.link = (mentions, ranked, transcript,
                                                                  link)
        self.infos = list(infos)
        # Recordings in time order: by date where the file names give one, then by name.
        self.order = {r.stem: i for i, r in enumerate(infos)}

    def in_time_order(self, hits: list[Hit]) -> list[Hit]:
        return sorted(hits, key=lambda h: (self.order.get(h.recording, len(self.order)),
                                           h.start))


def _names(stems: Sequence[str]) -> str:
    return ", ".join(stems)


def _quote(h: Hit) -> str:
    who = f"{h.speaker}: " if h.speaker else ""
    return f'{h.recording} at {clock(h.start)}, {who}"{h.text}"'


def _by_recording(hits: list[Hit]) -> dict[str, list[Hit]]:
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(h.recording, []).append(h)
    return groups


def _what(q: CollectionQuestion) -> str:
    said = f'"{q.topic}"'
    return f"{said} by {q.person}" if q.person else said


def _recordings_answer(q: CollectionQuestion, hits: list[Hit], total: int) -> LibraryAnswer:
    groups = _by_recording(hits)
    stems = list(groups)
    if not stems:
        text = f"No recording mentions {_what(q)} (of {total})."
    else:
        each = _names([f"{s} ({len(g)}x)" if len(g) > 1 else s for s, g in groups.items()])
        head = (f"{len(stems)} of {total} recordings" if q.kind == HOW_MANY
                else f"{len(stems)} recording{'s' if len(stems) > 1 else ''}")
        verb = "mentions" if len(stems) == 1 else "mention"
        text = f"{head} {verb} {_what(q)}: {each}."
    evidence = [g[0] for g in groups.values()][:EVIDENCE_LIMIT]
    return LibraryAnswer("", text, q.kind, stems, evidence,
                         count=len(stems) if q.kind == HOW_MANY else None,
                         supported=True if stems else None)


def _moment_answer(q: CollectionQuestion, hits: list[Hit]) -> LibraryAnswer:
    if not hits:
        return LibraryAnswer("", f"No recording mentions {_what(q)}.", q.kind)
    h = hits[0] if q.kind == FIRST else hits[-1]
    when = "first" if q.kind == FIRST else "last"
    who = q.person or h.speaker
    lead = f"{who} {when} mentioned" if who else f"{when.capitalize()} mentioned"
    text = (f'{lead} "{q.topic}" in {h.recording} at {clock(h.start)}: "{h.text}" '
            f"({len(hits)} mention{'s' if len(hits) > 1 else ''} in "
            f"{len(_by_recording(hits))} recording(s)).")
    return LibraryAnswer("", text, q.kind, [h.recording], [h], supported=True)


def speaker_key(h: Hit) -> str:
    """Who said a line across recordings: an enrolled name is the same person in every
    recording; an anonymous label (SPEAKER_00) is only someone within its own."""
    if not h.speaker:
        return f"(unlabelled, {h.recording})"
    return f"{h.speaker} ({h.recording})" if _ANONYMOUS.match(h.speaker) else h.speaker


def _who_most_answer(q: CollectionQuestion, hits: list[Hit]) -> LibraryAnswer:
    talk: dict[str, float] = defaultdict(float)
    lines: dict[str, list[Hit]] = defaultdict(list)
    for h in hits:
        if h.speaker:
            talk[speaker_key(h)] += h.end - h.start
            lines[speaker_key(h)].append(h)
    if not talk:
        what = f' about "{q.topic}"' if q.topic else ""
        return LibraryAnswer("", f"No labelled speaker talks{what} in these recordings; "
                                 "transcribe with --diarize to ask about speakers.", q.kind)
    ranked = sorted(talk, key=lambda k: (-talk[k], k))
    best = ranked[0]
    about = f' about "{q.topic}"' if q.topic else ""
    figures = "; ".join(f"{k}: {talk[k]:.0f} s in {len(lines[k])} line(s)" for k in ranked[:5])
    stems = list(dict.fromkeys(h.recording for h in lines[best]))
    return LibraryAnswer("", f"{best} talks most{about} ({figures}).", q.kind, stems,
                         lines[best][:EVIDENCE_LIMIT], supported=True)


def structure_answer(q: CollectionQuestion, src: Sources) -> LibraryAnswer | None:
    """The computed answer to a question about the collection's structure, or None for a
    question about the content."""
    if q.kind not in (WHICH, HOW_MANY, FIRST, LAST, WHO_MOST):
        return None
    if not q.topic and q.kind != WHO_MOST:
        return LibraryAnswer("", "Say what to look for, e.g. \"Which episodes mention the "
                                 "harbour strike?\"", q.kind)
    hits = src.in_time_order(src.mentions(q.topic, q.person))
    if q.kind in (WHICH, HOW_MANY):
        ans = _recordings_answer(q, hits, len(src.infos))
    elif q.kind in (FIRST, LAST):
        ans = _moment_answer(q, hits)
    else:
        ans = _who_most_answer(q, hits)
    return replace(ans, evidence=[src.link(h) for h in ans.evidence])


def content_answer(question: str, topic: str, src: Sources, opts: AskOptions) -> LibraryAnswer:
    """The recording whose segments rank best for the question's topic (its words without
    the frame), and the one-recording answer there, named by its recording."""
    ranked = src.ranked(topic or question)
    if not ranked:
        return LibraryAnswer(question, "No recording holds any of the question's words.",
                             "fact")
    stem = ranked[0].recording
    a = answer_cascade(src.transcript(stem), question, opts)
    evidence = [src.link(Hit(stem, e.start, e.end, e.speaker, e.text, 0.0))
                for e in a.evidence]
    others = list(dict.fromkeys(h.recording for h in ranked if h.recording != stem))[:3]
    also = f" (also relevant: {_names(others)})" if others else ""
    return LibraryAnswer(question, f"In {stem}: {a.text}{also}", "fact", [stem], evidence,
                         model=a.model, supported=a.supported)


__all__ = ["EVIDENCE_LIMIT", "LibraryAnswer", "Sources", "content_answer", "speaker_key",
           "structure_answer"]
