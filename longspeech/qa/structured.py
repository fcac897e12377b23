"""Answers computed from the transcript's data, for questions about its structure.

How many speakers there are, who talked most or least, how long one of them talked, who
spoke first or last, who said a phrase, when something was said, what someone said about a
thing, what was said around a moment, what the recording is about: a transcript with times
and speakers holds these answers exactly, so they are computed, not generated, and each
comes with the segments or figures it rests on. What kind of question it is comes from
intent.py, whatever the wording; a question about the content returns None and goes to the
LLM.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..diarization.count_confidence import AMBIGUOUS_SIMILARITY, SAME_VOICE
from ..types import Segment, Transcript
from .cascade import clock
from .evidence import Evidence
from .intent import FACT, Parsed, parse_question
from .retrieval import best_segment, rank
from .topics import topics


@dataclass(frozen=True)
class Computed:
    text: str
    evidence: list[Evidence]


def _evidence(segs: list[Segment]) -> list[Evidence]:
    return [Evidence(s.start, s.end, s.speaker, " ".join(s.text.split())) for s in segs]


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s} s ({seconds:.0f} s)"


_NO_SPEAKERS = ("The transcript has no speaker labels; transcribe with --diarize to ask "
                "about speakers.")


def count_doubt(tr: Transcript) -> str:
    """Why the diarizer's speaker count may be off (its provenance says how sure it is), or
    "" when it is sure or did not say."""
    count = (tr.provenance.get("diarization") or {}).get("speaker_count") or {}
    if count.get("confidence") != "low":
        return ""
    merged, closest = count.get("merged_similarity"), count.get("closest_similarity")
    share = count.get("smallest_share")
    if merged is not None and merged < SAME_VOICE:
        why = (f"two voices as alike as {merged:.2f} (cosine) were counted as one speaker, "
               "so there may be one more")
    elif closest is not None and closest > AMBIGUOUS_SIMILARITY:
        why = f"two of the speakers sound nearly alike ({closest:.2f}), so they may be one"
    elif share is not None:
        why = f"one speaker holds only {share:.0%} of the speech, so it may be a stray"
    else:
        return ""
    return f" The speaker count is uncertain: {why}."


def _count(tr: Transcript, _: Parsed) -> Computed:
    names = tr.speaking_order
    if not names:
        return Computed(_NO_SPEAKERS, [])
    firsts = [next(s for s in tr.segments if s.speaker == n and s.text.strip()) for n in names]
    return Computed(f"{len(names)} ({', '.join(names)}).{count_doubt(tr)}", _evidence(firsts))


def _unresolved(p: Parsed) -> Computed | None:
    """The answer to a question about someone the transcript cannot name."""
    if not p.args.unresolved:
        return None
    who = p.args.unresolved[0]
    ref = "who you are" if who == "me" else f"who the {who} is"
    flag = "me" if who == "me" else who
    return Computed(f"The transcript does not say {ref}; name them with --role "
                    f"{flag}=SPEAKER (a speaker label or enrolled name).", [])


def _talk_times(tr: Transcript) -> dict[str, list[Segment]]:
    return {n: [s for s in tr.segments if s.speaker == n and s.text.strip()]
            for n in tr.speaking_order}


def _seconds(segs: list[Segment]) -> float:
    return sum(s.end - s.start for s in segs)


def _longest(segs: list[Segment]) -> list[Segment]:
    return sorted(sorted(segs, key=lambda s: s.start - s.end)[:2], key=lambda s: s.start)


def _figures(by: dict[str, list[Segment]]) -> str:
    total = sum(_seconds(v) for v in by.values()) or 1.0
    return "; ".join(f"{n} {_seconds(v):.0f} s ({_seconds(v) / total:.0%})"
                     for n, v in sorted(by.items(), key=lambda kv: -_seconds(kv[1])))


def _talk_time(tr: Transcript, p: Parsed) -> Computed | None:
    by = _talk_times(tr)
    if not by:
        return Computed(_NO_SPEAKERS, [])
    if not p.args.people:
        return _unresolved(p) or Computed(
            f"Talk time by speaker: {_figures(by)}.{count_doubt(tr)}",
            _evidence([s for v in by.values() for s in v[:1]]))
    who = p.args.people[0]
    segs = by.get(who, [])
    return Computed(f"{who} talked for {_duration(_seconds(segs))} in {len(segs)} segment(s)."
                    f"{count_doubt(tr)}", _evidence(_longest(segs)))


def _talk_rank(most: bool) -> Callable[[Transcript, Parsed], Computed]:
    def answer(tr: Transcript, _: Parsed) -> Computed:
        by = _talk_times(tr)
        if not by:
            return Computed(_NO_SPEAKERS, [])
        order = sorted(by, key=lambda n: (-_seconds(by[n]) if most else _seconds(by[n]), n))
        who = order[0]
        word = "the most" if most else "the least"
        return Computed(f"{who} talked {word}: {_duration(_seconds(by[who]))} in "
                        f"{len(by[who])} segment(s). Talk time by speaker: {_figures(by)}."
                        f"{count_doubt(tr)}", _evidence(_longest(by[who])))
    return answer


def _edge_speaker(first: bool) -> Callable[[Transcript, Parsed], Computed]:
    def answer(tr: Transcript, _: Parsed) -> Computed:
        segs = [s for s in tr.segments if s.text.strip() and s.speaker]
        if not segs:
            return Computed(_NO_SPEAKERS, [])
        seg = segs[0] if first else segs[-1]
        word = "first" if first else "last"
        return Computed(f"{seg.speaker} spoke {word}, at {clock(seg.start)}: "
                        f"\"{' '.join(seg.text.split())}\"", _evidence([seg]))
    return answer


def _said(tr: Transcript, phrase: str, person: str | None = None) -> Segment | None:
    segs = [s for s in tr.segments if s.text.strip() and (person is None or s.speaker == person)]
    i = best_segment(segs, phrase)
    return None if i is None else segs[i]


def _who_said(tr: Transcript, p: Parsed) -> Computed:
    seg = _said(tr, p.topic)
    if seg is None:
        return Computed("Nothing in the transcript matches that phrase.", [])
    if not seg.speaker:
        return Computed(_NO_SPEAKERS, _evidence([seg]))
    return Computed(f"{seg.speaker}, at {clock(seg.start)}.", _evidence([seg]))


def _when(tr: Transcript, p: Parsed) -> Computed:
    person = p.args.people[0] if p.args.people else None
    seg = _said(tr, p.topic, person)
    if seg is None:
        by = f" by {person}" if person else ""
        return Computed(f"Nothing said{by} in the transcript matches that.", [])
    who = f" ({seg.speaker})" if seg.speaker else ""
    return Computed(f"At {clock(seg.start)}{who}.", _evidence([seg]))


def _what_said(tr: Transcript, p: Parsed) -> Computed | None:
    person = p.args.people[0] if p.args.people else None
    if person is None and p.args.unresolved:
        return _unresolved(p)
    segs = [s for s in tr.segments if s.text.strip() and (person is None or s.speaker == person)]
    about = p.topic
    if about:
        picked = sorted((segs[i] for i, _ in rank([s.text for s in segs], about)[:2]),
                        key=lambda s: s.start)
    else:
        picked = _longest(segs) if person else []
    if not picked:
        if person is None:
            return None         # nothing to go on: the LLM reads the transcript
        what = f" about {about}" if about else ""
        return Computed(f"{person} said nothing{what} in the transcript.", [])
    said = " ".join(f"[{clock(s.start)}]{(' ' + s.speaker + ':') if s.speaker else ''} "
                    f"\"{' '.join(s.text.split())}\"" for s in picked)
    return Computed(said, _evidence(picked))


def _around(tr: Transcript, p: Parsed) -> Computed | None:
    t = p.args.seconds
    if t is None:
        return None
    segs = [s for s in tr.segments if s.text.strip() and s.end >= t - 15 and s.start <= t + 15]
    if not segs:
        return Computed(f"Nothing was said within 15 s of {clock(t)}.", [])
    text = " ".join(f"[{clock(s.start)}]{(' ' + s.speaker + ':') if s.speaker else ''} "
                    f"{' '.join(s.text.split())}" for s in segs)
    return Computed(text, _evidence(segs))


def _topics(tr: Transcript, _: Parsed) -> Computed:
    found = topics(tr.segments)
    if not found:
        return Computed("The transcript is empty: nothing was said.", [])
    parts = [f"{clock(t.start)}-{clock(t.end)} {', '.join(t.keywords)}: "
             f"\"{' '.join(t.quote.text.split())}\"" for t in found]
    return Computed("Topics in the transcript's own words (extracted, not a summary): "
                    + "; ".join(parts) + ".", _evidence([t.quote for t in found]))


_ANSWERS: dict[str, Callable[[Transcript, Parsed], Computed | None]] = {
    "count": _count, "talk_most": _talk_rank(True), "talk_least": _talk_rank(False),
    "talk_time": _talk_time, "first_speaker": _edge_speaker(True),
    "last_speaker": _edge_speaker(False), "who_said": _who_said, "when_said": _when,
    "what_said": _what_said, "around": _around, "topics": _topics,
}


def computed_answer(tr: Transcript, question: str,
                    roles: Mapping[str, str] | None = None) -> Computed | None:
    """The answer the transcript's data gives to a question about its structure, else None.
    `roles` names speakers by role ("host", "guest", "me")."""
    speakers = tr.speaking_order
    p = parse_question(question, speakers, roles)
    if p.kind == FACT:
        return None
    unknown = [f"{r}={who}" for r, who in (roles or {}).items() if who not in speakers]
    if unknown and speakers:
        return Computed(f"The role {unknown[0]} names no speaker of this transcript; its "
                        f"speakers are {', '.join(speakers)}.", [])
    return _ANSWERS[p.kind](tr, p)
