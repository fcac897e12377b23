"""The transcript segments that bear on a question, ranked by BM25 (rank_bm25).

A small LLM reading an hour of text answers from the passage that matters or not at all, so
the cascade gives it the best-ranked segments (with their neighbours, in time order), and
the structural answers find the segment a quoted phrase or a topic points to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ..types import Segment
from .answer_kind import holds_kind, question_kind

_WORD = re.compile(r"[a-z0-9']+")
# lines scoring at least this share of the best BM25 score count as about as relevant
RELEVANT = 0.5
# words too common to say which segment a question is about
STOP = frozenset("""a an the and or but of to in on at for by with from as is are was were be
been being do does did what who whom whose which when where why how this that these those it
its he she they we you i his her their our your my me him them us there here has have had not
no yes so if then than about into over after before during s""".split())


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def terms(text: str) -> list[str]:
    """The words of `text` that can tell passages apart: lower case, no stop words, each
    reduced to its Snowball stem, so "approve" finds "approved" and "listener" "listeners"."""
    return [stem for _, stem in word_stems(text)]


def word_stems(text: str) -> list[tuple[str, str]]:
    """(word, stem) of each word of `text` that is not a stop word, lower case."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOP]
    return list(zip(words, _stemmer().stemWords(words)))


def rank(texts: Sequence[str], query: str) -> list[tuple[int, float]]:
    """(index, BM25 score) of the texts that share a word with the query, best first
    (earlier first among equals)."""
    from rank_bm25 import BM25Okapi

    docs = [terms(t) for t in texts]
    q = terms(query)
    if not q or not any(docs):
        return []
    scores = BM25Okapi(docs).get_scores(q)
    qs = set(q)
    hits = [(i, float(scores[i])) for i, d in enumerate(docs) if qs & set(d)]
    return sorted(hits, key=lambda x: (-x[1], x[0]))


def best_segment(segments: Sequence[Segment], query: str) -> int | None:
    """Index of the segment that best matches `query`, None when none shares a word."""
    hits = rank([s.text for s in segments], query)
    return hits[0][0] if hits else None


def answer_lines(lines: Sequence[str], question: str, k: int = 1) -> list[int]:
    """Numbers of the `k` lines most likely to answer, in time order: BM25's best, where
    among the lines at least RELEVANT times as relevant as the best, those holding a word of
    the kind the question asks for (a name, a number; answer_kind.py) go first. A line that
    asks a question comes with its reply, and holds what the reply holds."""
    hits = rank(lines, question)
    if not hits:
        return []
    kind = question_kind(question)
    top = hits[0][1]        # BM25 scores go below zero when a word is in most lines
    near = [i for i, score in hits if score >= top - (1 - RELEVANT) * abs(top)]

    def holds(i: int) -> bool:
        return any(holds_kind(lines[j], kind, question) for j in with_replies(lines, [i]))

    near.sort(key=lambda i: not holds(i))     # stable: BM25's order within each group
    return with_replies(lines, near[:k])


def with_replies(lines: Sequence[str], picked: list[int]) -> list[int]:
    """The picked line numbers in time order, each line that asks a question followed by the
    next line: in a conversation the answer to a question is what is said after it."""
    keep = set(picked)
    keep.update(i + 1 for i in picked if lines[i].rstrip().endswith("?") and i + 1 < len(lines))
    return sorted(keep)


def relevant_lines(lines: list[str], question: str, budget: int, count) -> list[str]:
    """The lines (in their order) that best match the question within `budget` tokens, as
    measured by `count(line)`: lines ranked by BM25, each taken with its neighbours."""
    keep: set[int] = set()
    used = 0
    order = [i for i, _ in rank(lines, question)] or list(range(len(lines)))
    for i in order:
        for j in (i, i - 1, i + 1):
            if 0 <= j < len(lines) and j not in keep:
                cost = count(lines[j]) + 1
                if used + cost > budget:
                    continue
                keep.add(j)
                used += cost
    return [lines[i] for i in sorted(keep)]
