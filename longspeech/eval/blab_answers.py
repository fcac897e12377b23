"""The `pipeline` system for BLAB: answers computed from a Transcript, not guessed by a model.

Word times, speaker turns and the duration are data in a Transcript, so localization,
counting and duration questions become lookups. Span questions (advertisements, names) and
the emotion questions use rules over the transcript text: advertisement cue phrases and the
brand they introduce, capitalised names inside sentences, and an emotion lexicon. Every
answer is written the way the official scorer parses it.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from ..types import Segment, Transcript

_STRIP = re.compile(r"[^\w'-]")
AD_CUES = ("brought to you by", "sponsored by", "support for this", "promo code",
           "discount", "free trial", "percent off", "free quote", "free delivery",
           "use the code", "special offer", "order your", "visit ")
_BRAND = re.compile(r"(?:brought to you by|sponsored by|comes from)\s+((?:[A-Z][\w']+\s?){1,3})")
EMOTION_WORDS = {
    "anger": ("furious", "angry", "annoyed", "mad", "outraged", "irritated"),
    "joy": ("happy", "delighted", "thrilled", "wonderful", "joy", "love", "glad"),
    "sadness": ("sad", "heartbroken", "miss", "unhappy", "disappointed", "sorrow"),
    "fear": ("scared", "worried", "afraid", "nervous", "terrified", "anxious"),
    "surprise": ("amazed", "shocked", "surprise", "astonished", "expected", "wow"),
}
_OPTION = re.compile(r"\(([A-E])\)\s*([^()]+?)(?=\s*\([A-E]\)|$)")
# Capitalised words that are not names of people, organisations or places.
NOT_NAMES = frozenset({"I", "I'm", "I've", "I'll", "I'd", "OK", "Okay", "Yes", "No", "Mr",
                       "Mrs", "Ms", "Dr"} | set(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April "
    "May June July August September October November December".split()))


def _plain(word: str) -> str:
    return _STRIP.sub("", word)


def _words(tr: Transcript) -> list[tuple[str, float, float]]:
    return [(_plain(w.word), w.start, w.end) for w in tr.words if _plain(w.word)]


# -- localization ----------------------------------------------------------------------------

def target_words(question: str) -> list[str]:
    """The words a word-localization question asks for: quoted ones, else the list after
    the last colon (up to the sentence end)."""
    quoted = re.findall(r"[\"“']([^\"”']+)[\"”']", question)
    quoted = [q for q in quoted if q not in ("word", "start", "end")]
    if quoted:
        return [_plain(q) for q in quoted if _plain(q)]
    if ":" not in question:
        return []
    tail = question.split(":")[-1] if question.count(":") == 1 else question.split(":")[1]
    tail = re.split(r"\.\s", tail + " ")[0]
    parts = re.split(r",|\band\b", tail)
    return [_plain(p.strip()) for p in parts if _plain(p.strip())]


def word_localization(tr: Transcript, question: str) -> str:
    wanted = {w.lower(): w for w in target_words(question)}
    out = [{"word": wanted[w.lower()], "start": s, "end": e} for w, s, e in _words(tr)
           if w.lower() in wanted]
    return json.dumps(out)


def _sentences(tr: Transcript) -> list[Segment]:
    return [s for s in tr.segments if s.text.strip()]


def ad_spans(tr: Transcript, max_gap: float = 4.0) -> list[tuple[float, float, str]]:
    """Advertisement spans: segments with a cue phrase or naming a brand that a cue
    introduced, joined when they follow each other within max_gap seconds."""
    segs = _sentences(tr)
    brands = {m.group(1).strip() for s in segs for m in _BRAND.finditer(s.text)}
    flagged = [s for s in segs if any(c in s.text.lower() for c in AD_CUES)
               or any(b in s.text for b in brands)]
    spans: list[list] = []
    for s in flagged:
        if spans and s.start - spans[-1][1] <= max_gap:
            spans[-1][1] = max(spans[-1][1], s.end)
            spans[-1][2] += " " + s.text.strip()
        else:
            spans.append([s.start, s.end, s.text.strip()])
    return [(a, b, t) for a, b, t in spans]


def advertisement_localization(tr: Transcript) -> str:
    return json.dumps([{"advertisement": t, "start": a, "end": b} for a, b, t in ad_spans(tr)])


def names(tr: Transcript) -> list[tuple[str, float, float]]:
    """Capitalised words inside a sentence (Whisper capitalises proper names), and at a
    sentence start those also seen capitalised inside one; minus advertisement brands."""
    brand_words = {w for _, _, t in ad_spans(tr) for w in re.findall(r"[A-Z][\w']+", t)}
    found: list[tuple[str, float, float, bool]] = []
    for seg in _sentences(tr):
        sentence_start = True
        for w in seg.words:
            text = w.word.strip()
            plain = _plain(text)
            if plain and plain[0].isupper() and plain not in NOT_NAMES \
                    and plain not in brand_words:
                found.append((plain, w.start, w.end, sentence_start))
            sentence_start = text.endswith((".", "?", "!"))
    inside = {n for n, _, _, first in found if not first}
    return [(n, s, e) for n, s, e, first in found if not first or n in inside]


def named_entity_localization(tr: Transcript) -> str:
    return json.dumps([{"entity": n, "start": s, "end": e} for n, s, e in names(tr)])


# -- counting and durations ------------------------------------------------------------------

def speaker_number(tr: Transcript) -> str:
    n = len(tr.speakers) or (1 if tr.segments else 0)
    return str(n)


def entire_duration(tr: Transcript) -> str:
    return str(int(round(tr.duration)))


def event_duration(tr: Transcript, question: str) -> str:
    """The length of the event asked about: an advertisement, or a named speaker's talk
    time (diarization turns); the advertisement when the question names neither."""
    q = question.lower()
    m = re.search(r"speaker[ _]?(\d+)", q)
    if m and tr.turns:
        label = f"SPEAKER_{int(m.group(1)):02d}"
        return str(int(round(sum(t.end - t.start for t in tr.turns if t.speaker == label))))
    spans = ad_spans(tr)
    return str(int(round(sum(b - a for a, b, _ in spans)))) if spans else "0"


# -- emotion ---------------------------------------------------------------------------------

def _emotion_counts(text: str) -> Counter:
    tokens = [_plain(t).lower() for t in text.split()]
    return Counter({e: sum(tokens.count(w) for w in ws) for e, ws in EMOTION_WORDS.items()})


def options(question: str) -> dict[str, str]:
    return {k: v.strip().rstrip(".") for k, v in _OPTION.findall(question)}


def emotion_reasoning(tr: Transcript, question: str) -> str:
    """The option whose emotion the lexicon finds most in the sentences on the question's
    topic (all sentences when no topic matches)."""
    opts = options(question)
    topic = re.search(r"about (?:the |a |an )?([\w'-]+)", question.lower())
    segs = _sentences(tr)
    if topic:
        on_topic = [s for s in segs if topic.group(1) in s.text.lower()
                    and sum(_emotion_counts(s.text).values())]
        segs = on_topic or segs
    counts = _emotion_counts(" ".join(s.text for s in segs))
    best = max(opts, key=lambda k: (counts.get(opts[k].lower(), 0), -ord(k)), default="A")
    return f"({best})"


def emotion_ranking(tr: Transcript, question: str) -> str:
    """The option whose order agrees best with how often each emotion is expressed."""
    counts = _emotion_counts(tr.text)
    opts = options(question)

    def agreement(k: str) -> tuple[int, int]:
        order = [x.strip().lower() for x in re.split(r">|,", opts[k])]
        pairs = sum(1 for i in range(len(order)) for j in range(i + 1, len(order))
                    if counts.get(order[i], 0) >= counts.get(order[j], 0))
        return pairs, -ord(k)

    return f"({max(opts, key=agreement)})" if opts else "(A)"


def answer(task: str, question: str, tr: Transcript) -> str:
    """The pipeline system's answer text to one BLAB question about this transcript."""
    if task == "word_localization":
        return word_localization(tr, question)
    if task == "advertisement_localization":
        return advertisement_localization(tr)
    if task == "named_entity_localization":
        return named_entity_localization(tr)
    if task == "speaker_number_estimation":
        return speaker_number(tr)
    if task == "entire_duration":
        return entire_duration(tr)
    if task.startswith("event_duration"):
        return event_duration(tr, question)
    if task == "emotion_reasoning":
        return emotion_reasoning(tr, question)
    if task == "emotion_ranking":
        return emotion_ranking(tr, question)
    raise ValueError(f"unknown BLAB task {task!r}")
