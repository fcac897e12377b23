"""The `pipeline` system for BLAB: answers computed from a Transcript, not guessed by a model.

Word times, speaker turns and the duration are data in a Transcript, so localization,
counting and duration questions become lookups. Advertisements are found by the evidence in
qa.ads (the LLM's judgement of promotional language against the recording's own register,
cue phrases, a repeated brand, one voice); named entities come from a trained recogniser;
emotions come from a lexicon. Every answer is written the way the official scorer parses it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from typing import Any

from ..spoken_numbers import clock, ordinal, spell, year
from ..types import Segment, Transcript

_STRIP = re.compile(r"[^\w'-]")
EMOTION_WORDS = {
    "anger": ("furious", "angry", "annoyed", "mad", "outraged", "irritated"),
    "joy": ("happy", "delighted", "thrilled", "wonderful", "joy", "love", "glad"),
    "sadness": ("sad", "heartbroken", "miss", "unhappy", "disappointed", "sorrow"),
    "fear": ("scared", "worried", "afraid", "nervous", "terrified", "anxious"),
    "surprise": ("amazed", "shocked", "surprise", "astonished", "expected", "wow"),
}
_OPTION = re.compile(r"\(([A-E])\)\s*([^()]+?)(?=\s*\([A-E]\)|$)")


def _plain(word: str) -> str:
    return _STRIP.sub("", word)


_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$")
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_DECIMAL = re.compile(r"^(\d+)\.(\d+)$")
_INTEGER = re.compile(r"^\d{1,3}(?:,\d{3})+$|^\d+$")


def spoken(token: str) -> list[str]:
    """The words a written token stands for when read aloud, for a token Whisper writes in
    digits: "17th" -> seventeenth, "1965" -> nineteen sixty five, "3.45" -> three forty
    five, "20%" -> twenty percent; hyphenated tokens split ("twenty-five"). Other tokens are
    returned as they are (punctuation stripped)."""
    t = token.strip().strip("\"'.,;:!?()[]")
    if "-" in t.strip("-"):
        return [w for part in t.split("-") for w in spoken(part)]
    percent = t.endswith("%")
    t = t.rstrip("%")
    words: str | None = None
    if (m := _ORDINAL.match(t)) and 1 <= int(m.group(1)) <= 31:
        words = ordinal(int(m.group(1)))
    elif (m := _CLOCK.match(t)) and int(m.group(1)) <= 23 and int(m.group(2)) <= 59 \
            and not percent:
        words = clock(int(m.group(1)), int(m.group(2)))
    elif m := _DECIMAL.match(t):
        if int(m.group(1)) < 1_000_000:
            words = f"{spell(int(m.group(1)))} point " + " ".join(spell(int(d))
                                                                 for d in m.group(2))
    elif _INTEGER.match(t):
        n = int(t.replace(",", ""))
        if len(t) == 4 and 1100 <= n <= 2099 and not percent:
            words = year(n)
        elif n < 1_000_000:
            words = spell(n)
    if words is None:
        plain = _plain(token)
        return [plain] if plain else []
    return words.split() + (["percent"] if percent else [])


def _words(tr: Transcript) -> list[tuple[str, float, float]]:
    """The transcript's spoken words with times. A token read as several words (a number in
    digits, a hyphenated compound) shares its span among them by their lengths."""
    out: list[tuple[str, float, float]] = []
    for w in tr.words:
        parts = spoken(w.word)
        if len(parts) <= 1:
            out += [(p, w.start, w.end) for p in parts]
            continue
        sizes = [len(p) for p in parts]
        total, acc = sum(sizes), 0
        for p, n in zip(parts, sizes):
            a = w.start + (w.end - w.start) * acc / total
            acc += n
            b = w.start + (w.end - w.start) * acc / total
            out.append((p, round(a, 3), round(b, 3)))
    return out


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


_AD_MEMO: dict[str, list[tuple[float, float, str]]] = {}


def ad_spans(tr: Transcript, llm: Any = None) -> list[tuple[float, float, str]]:
    """The transcript's advertisements (ads.ad_spans with the embedded LLM), worked out once
    per transcript content, however often it is parsed: three tasks ask about them."""
    from ..llm.registry import load_llm
    from .ads import ad_spans as find

    key = hashlib.sha256(tr.to_json(indent=None).encode()).hexdigest()
    if key not in _AD_MEMO:
        if len(_AD_MEMO) > 64:
            _AD_MEMO.clear()
        _AD_MEMO[key] = find(tr, llm if llm is not None else load_llm())
    return _AD_MEMO[key]


def advertisement_localization(tr: Transcript, llm: Any = None) -> str:
    return json.dumps([{"advertisement": t, "start": a, "end": b}
                       for a, b, t in ad_spans(tr, llm)])


def named_entity_localization(tr: Transcript, question: str = "", llm: Any = None) -> str:
    """Entities of the kinds the question asks for (people, organisations, places; all three
    when it names none), found by qa.entities. When only people are asked for, capitalised
    words of the advertisements (their brands) are not taken for names."""
    from .entities import KINDS, asked_labels, entities

    labels = asked_labels(question)
    brands: frozenset[str] = frozenset()
    if labels == frozenset(KINDS["person"]):
        brands = frozenset(w for _, _, t in ad_spans(tr, llm)
                           for w in re.findall(r"[A-Z][\w']+", t))
    return json.dumps([{"entity": e.text, "start": e.start, "end": e.end}
                       for e in entities(tr, labels, brands)])


# -- counting and durations ------------------------------------------------------------------

def speaker_number(tr: Transcript) -> str:
    n = len(tr.speakers) or (1 if tr.segments else 0)
    return str(n)


def entire_duration(tr: Transcript) -> str:
    return str(int(round(tr.duration)))


def event_seconds(tr: Transcript, question: str, llm: Any = None) -> float:
    """The length of the event asked about: an advertisement, or a named speaker's talk
    time (diarization turns); the advertisement when the question names neither."""
    q = question.lower()
    m = re.search(r"speaker[ _]?(\d+)", q)
    if m and tr.turns:
        label = f"SPEAKER_{int(m.group(1)):02d}"
        return sum(t.end - t.start for t in tr.turns if t.speaker == label)
    return sum(b - a for a, b, _ in ad_spans(tr, llm))


def event_duration(tr: Transcript, question: str, answer_type: str = "seconds",
                   llm: Any = None) -> str:
    """event_seconds in the unit the item asks for: whole minutes for "minutes" items (the
    scorer reads their first integer as minutes), whole seconds otherwise."""
    seconds = event_seconds(tr, question, llm)
    return str(int(round(seconds / 60 if answer_type == "minutes" else seconds)))


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


def blab_request(task: str, question: str, answer_type: str = "") -> str:
    """One BLAB item as the question text of an ask job's answer step (mode "blab")."""
    return json.dumps({"task": task, "question": question, "answer_type": answer_type},
                      sort_keys=True)


def answer_request(request: str, tr: Transcript, llm: Any = None) -> str:
    """The answer to a question made by blab_request."""
    item = json.loads(request)
    return answer(item["task"], item["question"], tr, item["answer_type"], llm)


def answer(task: str, question: str, tr: Transcript, answer_type: str = "",
           llm: Any = None) -> str:
    """The pipeline system's answer text to one BLAB question about this transcript
    (answer_type: the item's, e.g. "minutes" for an event duration asked in minutes)."""
    if task == "word_localization":
        return word_localization(tr, question)
    if task == "advertisement_localization":
        return advertisement_localization(tr, llm)
    if task == "named_entity_localization":
        return named_entity_localization(tr, question, llm)
    if task == "speaker_number_estimation":
        return speaker_number(tr)
    if task == "entire_duration":
        return entire_duration(tr)
    if task.startswith("event_duration"):
        return event_duration(tr, question, answer_type or "seconds", llm)
    if task == "emotion_reasoning":
        return emotion_reasoning(tr, question)
    if task == "emotion_ranking":
        return emotion_ranking(tr, question)
    raise ValueError(f"unknown BLAB task {task!r}")
