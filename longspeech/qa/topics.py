"""What a recording is about, extracted from its transcript: a few topics, each a stretch of
time with its own key words and the line that says them best. Nothing is generated, so
nothing can be made up: every word shown was said.

The transcript is cut into blocks of about equal time; the boundaries between sections are
where neighbouring blocks share the fewest words (lexical cohesion, as TextTiling); each
section's key words are the ones it says more than the rest of the recording does (tf-idf
over the sections).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from ..types import Segment
from .retrieval import word_stems

# Words of talk, not of topics.
_FILLER = frozenset("""okay ok yes yeah yep sure right well really just also very much many
thanks thank please let lets let's going go gone get got can could would should will shall may
might must need needs want wants think thought know knew see say said tell told like one two
good great fine fair still even back now then today tomorrow week next last time thing things
something anything everyone everybody someone anyone hi hello bye goodbye morning afternoon
evening us we'll i'll i'm i've we're you're that's there's it's don't can't won't didn't
doesn't isn't wasn't let's make made take took come came way lot bit sorry mean other
another first more most some any every all only same new old""".split())


@dataclass(frozen=True)
class Topic:
    start: float
    end: float
    keywords: list[str]
    quote: Segment


def _blocks(segs: list[Segment], count: int) -> list[list[int]]:
    """Segment indices in `count` runs of about equal time (never empty)."""
    t0, t1 = segs[0].start, segs[-1].end
    step = (t1 - t0) / count
    blocks: list[list[int]] = [[] for _ in range(count)]
    for i, s in enumerate(segs):
        blocks[min(count - 1, int((s.start - t0) / step) if step > 0 else 0)].append(i)
    return [b for b in blocks if b]


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(v * b[k] for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def topics(segments: list[Segment], limit: int = 5) -> list[Topic]:
    """Up to `limit` topics in time order (one a two minutes or so of speech)."""
    segs = [s for s in segments if s.text.strip()]
    if not segs:
        return []
    stems = [[(w, st) for w, st in word_stems(s.text) if len(w) > 2 and w not in _FILLER
              and not w.isdigit()] for s in segs]
    span = segs[-1].end - segs[0].start
    wanted = max(1, min(limit, round(span / 120)))
    blocks = _blocks(segs, min(len(segs), 4 * wanted))
    bags = [Counter(st for i in b for _, st in stems[i]) for b in blocks]
    gaps = [(_cosine(bags[j], bags[j + 1]), j) for j in range(len(blocks) - 1)]
    cuts: list[int] = []
    for _, j in sorted(gaps):           # the least alike neighbours first, earlier on ties
        if len(cuts) == wanted - 1:
            break
        if all(abs(j - c) > 1 for c in cuts):
            cuts.append(j)
    sections, last = [], 0
    for c in sorted(cuts) + [len(blocks) - 1]:
        sections.append([i for b in blocks[last:c + 1] for i in b])
        last = c + 1
    sec_bags = [Counter(st for i in sec for _, st in stems[i]) for sec in sections]
    df = Counter(st for bag in sec_bags for st in bag)
    surface: dict[str, Counter] = {}
    for row in stems:
        for w, st in row:
            surface.setdefault(st, Counter())[w] += 1
    out = []
    for sec, bag in zip(sections, sec_bags):
        weight = {st: (1 + math.log(n)) * math.log(1 + len(sections) / df[st])
                  for st, n in bag.items() if n > 1 or len(sections) == 1}
        if not weight:
            weight = {st: 1.0 for st in bag}
        top = sorted(weight, key=lambda st: (-weight[st], st))[:3]
        best = max(sec, key=lambda i: (sum(weight.get(st, 0.0) for _, st in stems[i])
                                      / math.sqrt(1 + len(stems[i])), -i))
        words = [surface[st].most_common(1)[0][0] for st in top]
        out.append(Topic(segs[sec[0]].start, segs[sec[-1]].end, words, segs[best]))
    return out
