"""Checking proposed edits and applying the ones that pass, segment by segment.

An edit applies only where its original words occur in one segment. Punctuation/case edits
are accepted when they are fair (a capital only at a sentence start or for a name the
transcript uses; a sentence end only before a capital), and so are edits that leave the
normalised words unchanged (numbers as digits that read the same aloud). An edit that changes
words must not rewrite a written number, must fit the segment's edit budget and, when
verification is on, must not lower Whisper's log-likelihood of the segment on its own audio
by more than the threshold; one that drops spoken words must raise it (the audio has to say
the words are not there). Every proposal ends up as one record saying what happened and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from ..types import Segment
from .edits import (EditableSegment, carry_edge_punctuation, changed_words, find_span, keys,
                    digits_to_words, kind, number_rewrite, punctuation_problem)
from .options import CorrectionOptions
from .proposals import Proposal
from .verify import SegmentAudio


@dataclass(frozen=True)
class CorrectionRecord:
    """One proposed edit and its fate; `segment` indexes transcript.segments."""

    segment: int | None
    original: str
    corrected: str
    type: str
    accepted: bool
    reason: str
    score_delta: float | None = None   # Whisper log-likelihood after - before (nats)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Located:
    local: int          # which segment of the turn
    i: int              # token span in that segment's original tokens
    j: int
    proposal: Proposal
    new: tuple[str, ...]


def allowed_words(n_words: int, budget: float) -> int:
    """Words that word-changing edits may change in a segment of n_words words."""
    return 0 if budget <= 0 else max(1, math.floor(budget * n_words + 1e-9))


def _locate(segs: Sequence[EditableSegment], proposals: Sequence[Proposal], first_index: int
            ) -> tuple[list[_Located], list[CorrectionRecord]]:
    offsets = [0]
    for s in segs:
        offsets.append(offsets[-1] + len(s.tokens))
    taken: list[list[tuple[int, int]]] = [[] for _ in segs]
    located, failed = [], []
    for p in proposals:
        where: tuple[int, int, int] | None = None
        reason = "its original words do not occur in the segment"
        if p.span is not None:
            a, b = p.span
            k = next((k for k in range(len(segs)) if offsets[k] <= a < offsets[k + 1]),
                     len(segs) - 1)
            if b > offsets[k + 1]:
                reason = "its words cross a segment boundary"
            elif any(a - offsets[k] < y and x < b - offsets[k] for x, y in taken[k]):
                reason = "it overlaps another edit"
            else:
                where = (k, a - offsets[k], b - offsets[k])
        elif keys(p.original.split()):
            for k, s in enumerate(segs):
                span = find_span(s.tokens, p.original.split(), taken[k])
                if span is not None:
                    where = (k, *span)
                    break
        else:
            reason = "it names no original words to replace"
        if where is None:
            failed.append(CorrectionRecord(None if len(segs) != 1 else first_index, p.original,
                                           p.corrected, p.type or "other", False, reason))
            continue
        k, i, j = where
        taken[k].append((i, j))
        new = p.corrected.split()
        if p.span is None:
            new = carry_edge_punctuation(segs[k].tokens[i:j], p.original.split(), new)
        located.append(_Located(k, i, j, p, tuple(new)))
    return located, failed


def apply_proposals(segments: Sequence[Segment], first_index: int,
                    proposals: Sequence[Proposal], options: CorrectionOptions,
                    audio: Callable[[int], SegmentAudio | None],
                    names: frozenset[str] = frozenset()
                    ) -> tuple[list[Segment], list[CorrectionRecord]]:
    """Check and apply one turn's proposals to its consecutive segments.

    `first_index` is the transcript index of segments[0]; `audio(index)` gives the scorer of
    a segment (None when there is no audio to verify against); `names` are the capitalised
    words the transcript uses mid-sentence (edits.transcript_names).
    """
    segs = [EditableSegment.of(s) for s in segments]
    located, failed = _locate(segs, proposals, first_index)
    records: list[CorrectionRecord] = []
    out = list(segments)
    for k, seg in enumerate(segs):
        index = first_index + k
        mine = sorted((loc for loc in located if loc.local == k), key=lambda e: (e.i, e.j))
        if not mine:
            continue
        limit = allowed_words(len(keys(seg.tokens)), options.budget)
        cur, shift, used = seg, 0, 0
        for loc in mine:
            i, j = loc.i + shift, loc.j + shift
            old = cur.tokens[i:j]
            after = cur.replaced(i, j, loc.new)
            if after.tokens == cur.tokens:
                continue  # nothing left to change once the text's punctuation is kept
            typ, check = kind(cur, after, old, loc.new, loc.proposal.type)
            accepted, reason, delta, cost = _decide(check, cur, after, old, loc.new, used, limit,
                                                    options, lambda: audio(index), names)
            records.append(CorrectionRecord(index, " ".join(old), " ".join(loc.new), typ,
                                            accepted, reason, delta))
            if accepted:
                cur, shift, used = after, shift + len(loc.new) - (j - i), used + cost
        out[k] = cur.to_segment(segments[k])
    return out, records + failed


def _decide(check: str, before: EditableSegment, after: EditableSegment, old: Sequence[str],
            new: Sequence[str], used: int, limit: int, options: CorrectionOptions,
            audio: Callable[[], SegmentAudio | None], names: frozenset[str] = frozenset()
            ) -> tuple[bool, str, float | None, int]:
    """(accepted, reason, score delta, words it costs the budget)."""
    if check in ("punctuation", "normalised"):
        problem = punctuation_problem(before.tokens, after.tokens, names)
        if problem is not None:
            return False, problem, None, 0
    if check == "punctuation":
        return True, "punctuation or capitals only: the words are unchanged", None, 0
    if check == "normalised":
        if digits_to_words(old, new):
            return (False, "writes in words a number written in digits (inverse text "
                    "normalisation goes the other way)", None, 0)
        return True, "the same words once normalised (written form only)", None, 0
    cost = changed_words(old, new)
    if used + cost > limit:
        return (False, f"over the edit budget: {used + cost} words changed, at most {limit} "
                f"of this segment's {len(keys(before.tokens))}", None, cost)
    if not options.verify:
        return True, "word change accepted unverified (verification off)", None, cost
    if number_rewrite(old, new):
        return (False, "a number rewritten to words that do not read the same aloud (only "
                "inverse text normalisation may change a number)", None, cost)
    scorer = audio()
    if scorer is None:
        return False, "no audio to verify a word change against", None, cost
    if scorer.too_long:
        return False, "segment is longer than Whisper's 30 s window: cannot verify", None, cost
    delta = round(scorer.score(after.text) - scorer.score(before.text), 3)
    if len(keys(new)) < len(keys(old)):
        if delta > 0:
            return True, (f"Whisper log-likelihood {delta:+.2f} nats: the audio prefers the "
                          "text without the dropped words"), delta, cost
        return False, (f"Whisper log-likelihood {delta:+.2f} nats: a deletion of spoken words "
                       "is accepted only when the audio prefers the shorter text"), delta, cost
    if delta >= -options.threshold:
        return True, (f"Whisper log-likelihood {delta:+.2f} nats, within the "
                      f"-{options.threshold:g} threshold"), delta, cost
    return False, (f"Whisper log-likelihood {delta:+.2f} nats, worse than the "
                   f"-{options.threshold:g} threshold: not what was said"), delta, cost
