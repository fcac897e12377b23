"""Evidence for an answer: the transcript segments that hold it, with their times and speaker,
so a user can jump to the moment. An answer no segment supports gets no evidence."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..types import Segment, Transcript
from .answer_kind import question_kind, words_of_kind
from .retrieval import answer_lines, terms


@dataclass(frozen=True)
class Evidence:
    start: float
    end: float
    speaker: str | None
    text: str


def _evidence(seg: Segment) -> Evidence:
    return Evidence(seg.start, seg.end, seg.speaker, " ".join(seg.text.split()))


def find_evidence(transcript: Transcript, question: str, answer: str,
                  limit: int = 2) -> list[Evidence]:
    """Up to `limit` segments (in time order) that share the answer's words, rarer words
    weighing more, the question's words breaking ties. None when the answer's words occur
    nowhere: such an answer is not backed by the transcript."""
    segs = [s for s in transcript.segments if s.text.strip()]
    seg_terms = [set(terms(s.text)) for s in segs]
    df = Counter(t for ts in seg_terms for t in ts)
    a, q = set(terms(answer)), set(terms(question))
    scored = []
    for i, ts in enumerate(seg_terms):
        hit = sum(1.0 / df[t] for t in ts & a)
        if hit > 0:
            scored.append((hit + 0.1 * sum(1.0 / df[t] for t in ts & q), i))
    best = sorted(i for _, i in sorted(scored, key=lambda x: (-x[0], x[1]))[:limit])
    return [_evidence(segs[i]) for i in best]


def backed(question: str, answer: str, evidence: list[Evidence]) -> bool:
    """True when the answer adds words to the question and its evidence holds every one: an
    answer with words of its own ("a facility that specializes in...") was made up, and one
    that only repeats the question answers nothing."""
    added = set(terms(answer)) - set(terms(question))
    held = {t for e in evidence for t in terms(e.text)}
    return bool(evidence) and bool(added) and added <= held


def kind_answer(question: str, answer: str, evidence: list[Evidence]
                ) -> tuple[str, list[Evidence]] | None:
    """For an answer the evidence does not back as a whole: the words of the kind the
    question asks for (a name for who / where, a number for how many...) that the answer
    says and the evidence holds, with the evidence lines that hold them. "Maria, I'm sorry
    for any confusion. The quarterly review is..." answers "Who will present the quarterly
    review?" with "Maria" where a line says "Maria offered to do it"."""
    held = [set(terms(e.text)) for e in evidence]
    found = []
    for w in words_of_kind(answer, question_kind(question), question):
        t = set(terms(w))
        if t and w not in found and any(t <= h for h in held):
            found.append(w)
    if not found:
        return None
    keep = {t for w in found for t in terms(w)}
    return ", ".join(found), [e for e, h in zip(evidence, held) if keep & h]


def nearest_passage(transcript: Transcript, question: str) -> list[Evidence]:
    """The segment that best answers the question by the rule that chose the LLM's line
    (retrieval.answer_lines, over the segments' words without times and speakers), and its
    reply if it asks a question: for an answer the transcript does not back."""
    segs = [s for s in transcript.segments if s.text.strip()]
    return [_evidence(segs[i]) for i in answer_lines([s.text for s in segs], question)]
