"""Advertisement spans in a transcript, from what marks an advertisement rather than from one
generator's wording.

Evidence per sentence of the transcript:
- promotional language in a changed register, judged by the LLM: how much likelier the
  sentence is as a line of an advertisement (after a few hand-written advertisement lines)
  than as a line of this recording's own talk (after ten of its sentences spread over the
  recording, none of them near the sentence judged, so an advertisement never serves as its
  own example). Contrasting with the recording itself, not with generic conversation, makes
  the judgement about a change of register: numbers, names and odd phrasing that the whole
  recording shares raise both sides alike.
- a sponsor cue phrase ("brought to you by", "promo code");
- a name said at least twice within a minute and never again: the brand an advertisement
  keeps repeating;
- a voice heard only in a few short passages of the recording (an announcer reading a spot),
  from the diarization's turns.
Sentences whose evidence passes `start` seed a span; it grows over neighbouring sentences of
the same voice (one voice reads an advertisement) whose evidence stays above `grow`, and is
kept when it lasts at least `min_seconds`. Short fragments count for less, by their length.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from ..llm.likelihood import mean_logprobs
from ..llm.registry import LoadedLLM
from ..types import Transcript

AD_CUES = ("brought to you by", "sponsored by", "support for this", "promo code",
           "discount", "free trial", "percent off", "free quote", "free delivery",
           "use the code", "special offer", "order your", "visit ")
# Few-shot examples for the LLM's judgement, written for it: no synthetic set's wording.
AD_LINES = ("Try our new sparkling water, now in three flavours.",
            "Sign up this week and get your first month for just one dollar.",
            "Fresh flowers delivered to your door, order before noon.",
            "Our mattresses come with a one year guarantee.",
            "Find us in stores near you or shop online.")
OWN_LINES = 10      # the recording's own sentences that show the LLM its register
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")


def _examples(title: str, lines: tuple[str, ...]) -> str:
    return f"{title}:\n" + "".join(f"- {x}\n" for x in lines) + "-"


@dataclass(frozen=True)
class AdRules:
    """Weights and thresholds of the evidence (tuned on the synthetic BLAB generator's tuned
    advertisement styles: benchmarks/README.md, BLAB section)."""

    cue: float = 0.5            # added for a sponsor cue phrase
    brand: float = 0.25         # added for a repeated brand name
    start: float = 0.3          # evidence that seeds a span (likelihood ratio, nats a token)
    grow: float = -0.4          # evidence a neighbour needs to join it
    min_seconds: float = 6.0
    full_words: int = 6         # shorter sentences' LLM evidence is scaled by words / this
    brand_seconds: float = 60.0
    max_gap: float = 4.0        # neighbours further apart do not join
    voice: float = 0.4          # added for a sentence of a voice heard only in short passages
    voice_turns: int = 3        # ... at most this many turns (joined across 2 s gaps)
    voice_share: float = 0.12   # ... speaking at most this share of the recording's speech


@dataclass(frozen=True)
class Sentence:
    text: str
    start: float
    end: float
    speaker: str | None


def sentences(tr: Transcript) -> list[Sentence]:
    """The transcript cut at sentence ends (a word ending in . ? !), with times and the
    speaker of most of its words."""
    out: list[Sentence] = []
    for seg in tr.segments:
        words: list = []
        for i, w in enumerate(seg.words):
            words.append(w)
            if w.word.strip().endswith((".", "?", "!")) or i == len(seg.words) - 1:
                voices = [x.speaker or seg.speaker for x in words]
                speaker = max(set(voices), key=lambda v: (voices.count(v), str(v)))
                text = "".join(x.word for x in words).strip()
                if text:
                    out.append(Sentence(text, words[0].start, words[-1].end, speaker))
                words = []
        if not seg.words and seg.text.strip():
            out.append(Sentence(seg.text.strip(), seg.start, seg.end, seg.speaker))
    return out


def promotional(llm: LoadedLLM, texts: list[str]) -> list[float]:
    """Per-token log-likelihood ratio of each text as an advertisement line against a line
    of this recording's own talk (positive: sounds like an advertisement, not like the rest).

    The own lines are one of two interleaved spreads of the recording's sentences; each text
    is read after the spread whose nearest line is further from it."""
    if not texts:
        return []
    n = len(texts)
    spreads = [sorted({min(n - 1, int((k + shift) * n / OWN_LINES)) for k in range(OWN_LINES)})
               for shift in (0.25, 0.75)]

    def distance(i: int, spread: list[int]) -> int:
        return min(abs(i - j) for j in spread)

    use = [max((0, 1), key=lambda k: (distance(i, spreads[k]), -k)) for i in range(n)]
    ad = mean_logprobs(llm, _examples("Lines from radio advertisements", AD_LINES), texts)
    talk = [0.0] * n
    for k, spread in enumerate(spreads):
        mine = [i for i in range(n) if use[i] == k]
        own = tuple(texts[j] for j in spread)
        read = mean_logprobs(llm, _examples("Lines from this conversation", own),
                             [texts[i] for i in mine])
        for i, v in zip(mine, read):
            talk[i] = v
    return [a - b for a, b in zip(ad, talk)]


def brand_sentences(sents: list[Sentence], rules: AdRules) -> set[int]:
    """Sentences holding a capitalised word said at least twice, every time within
    rules.brand_seconds, and never written in lower case."""
    seen: dict[str, list[int]] = defaultdict(list)
    lower: set[str] = set()
    for i, s in enumerate(sents):
        for w in _CAPITALISED.findall(s.text):
            seen[w].append(i)
        lower.update(re.findall(r"\b[a-z]+\b", s.text))
    out: set[int] = set()
    for w, where in seen.items():
        if len(where) >= 2 and w.lower() not in lower and \
                sents[where[-1]].end - sents[where[0]].start <= rules.brand_seconds:
            out.update(where)
    return out


def passing_voices(tr: Transcript, rules: AdRules) -> set[str]:
    """Speakers heard only in a few short passages: at most rules.voice_turns turns (turns
    less than 2 s apart are one) and at most rules.voice_share of all speech, in a
    recording with at least two voices."""
    runs: dict[str, list[list[float]]] = defaultdict(list)
    total = 0.0
    for t in sorted(tr.turns, key=lambda t: t.start):
        total += t.end - t.start
        mine = runs[t.speaker]
        if mine and t.start - mine[-1][1] < 2.0:
            mine[-1][1] = max(mine[-1][1], t.end)
        else:
            mine.append([t.start, t.end])
    if len(runs) < 2 or total <= 0:
        return set()
    return {spk for spk, rs in runs.items()
            if len(rs) <= rules.voice_turns
            and sum(b - a for a, b in rs) <= rules.voice_share * total}


def evidence(sents: list[Sentence], llm: LoadedLLM, rules: AdRules,
             passing: Collection[str] = ()) -> list[float]:
    """Each sentence's weighted evidence of being part of an advertisement."""
    promo = promotional(llm, [s.text for s in sents])
    brands = brand_sentences(sents, rules)
    return [p * min(1.0, len(s.text.split()) / rules.full_words)
            + rules.cue * any(c in s.text.lower() for c in AD_CUES)
            + rules.brand * (i in brands)
            + rules.voice * (s.speaker in passing)
            for i, (s, p) in enumerate(zip(sents, promo))]


def ad_spans(tr: Transcript, llm: LoadedLLM,
             rules: AdRules = AdRules()) -> list[tuple[float, float, str]]:
    """(start, end, text) of each advertisement, in time order: the strongest seeds first,
    each grown over its voice's neighbouring sentences (see the module's docstring)."""
    sents = sentences(tr)
    score = evidence(sents, llm, rules, passing_voices(tr, rules))
    taken = [False] * len(sents)

    def joins(i: int, seed: int, near: int) -> bool:
        return (0 <= i < len(sents) and not taken[i] and score[i] >= rules.grow
                and sents[i].speaker == sents[seed].speaker
                and max(sents[i].start - sents[near].end,
                        sents[near].start - sents[i].end) <= rules.max_gap)

    spans: list[tuple[float, float, str]] = []
    for seed in sorted(range(len(sents)), key=lambda i: (-score[i], i)):
        if score[seed] < rules.start or taken[seed]:
            continue
        a = b = seed
        while joins(a - 1, seed, a):
            a -= 1
        while joins(b + 1, seed, b):
            b += 1
        taken[a:b + 1] = [True] * (b + 1 - a)
        if sents[b].end - sents[a].start >= rules.min_seconds:
            spans.append((sents[a].start, sents[b].end,
                          " ".join(s.text for s in sents[a:b + 1])))
    return sorted(spans)
