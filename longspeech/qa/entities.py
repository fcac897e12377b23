"""Named entities in a transcript, located with its word times.

Three signals, word by word:
- a trained recogniser (spaCy's small English pipeline, OntoNotes labels:
  longspeech.models.ner) reads each segment as Whisper wrote it, cased and punctuated;
- what it found once holds wherever the same words are written again in the recording (a
  small model misses a name in one sentence that it finds in another);
- Whisper capitalises proper names: a capitalised word inside a sentence that is neither a
  common English word written in lower case elsewhere in the transcript nor a date or a
  greeting is a name of unknown kind (at a sentence start only when the word is never
  written in lower case and is no common word).
Neighbouring tagged words of one sentence make one entity, timed from the start of its first
word to the end of its last. BLAB's named-entity task asks for "people, organizations,
locations": OntoNotes' PERSON, ORG and GPE / LOC / FAC. A question that names one kind
("every person's name") gets that kind only; a name of unknown kind counts as a person.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..types import Transcript, Word
from .answer_kind import NOT_NAMES, common_words

# What a question calls each kind -> the OntoNotes labels that stand for it.
KINDS: dict[str, tuple[str, ...]] = {
    "person": ("PERSON", "NAME"),           # NAME: capitalised, kind unknown
    "organisation": ("ORG",),
    "place": ("GPE", "LOC", "FAC"),
}
_ASKED = {
    "person": re.compile(r"\b(person|persons|people)\b", re.I),
    "organisation": re.compile(r"\b(organi[sz]ations?|compan(?:y|ies)|brands?|firms?|"
                               r"institutions?)\b", re.I),
    "place": re.compile(r"\b(locations?|places?|cit(?:y|ies)|countr(?:y|ies)|towns?)\b", re.I),
}
_MODEL_LABELS = frozenset(label for labels in KINDS.values() for label in labels) - {"NAME"}
_PLAIN = re.compile(r"[^\w'-]")
_SENTENCE_END = (".", "?", "!")


@dataclass(frozen=True)
class Entity:
    text: str
    label: str          # OntoNotes label, or NAME for a capitalised name of unknown kind
    start: float
    end: float


def asked_labels(question: str) -> frozenset[str]:
    """The labels a question asks for: the kinds it names, or every kind when it names none
    ("named entities")."""
    kinds = [k for k, pattern in _ASKED.items() if pattern.search(question)]
    return frozenset(label for k in (kinds or KINDS) for label in KINDS[k])


def _plain(word: str) -> str:
    return _PLAIN.sub("", word.strip()).strip("'-")


def _recognised(tr: Transcript) -> tuple[list[list[Word]], list[list[str | None]]]:
    """Per segment with words: its words, and the recogniser's label of each word (None
    outside entities)."""
    from ..models.ner import load_ner

    segments = [s.words for s in tr.segments if s.words]
    texts, offsets = [], []
    for words in segments:
        text, spans = "", []
        for w in words:
            piece = w.word if text else w.word.lstrip()
            spans.append((len(text) + len(piece) - len(piece.lstrip()), len(text) + len(piece)))
            text += piece
        texts.append(text)
        offsets.append(spans)
    labels: list[list[str | None]] = []
    for spans, doc in zip(offsets, load_ner().pipe(texts, batch_size=64)):
        tags: list[str | None] = [None] * len(spans)
        for ent in doc.ents:
            if ent.label_ in _MODEL_LABELS:
                for i, (a, b) in enumerate(spans):
                    if a < ent.end_char and b > ent.start_char:
                        tags[i] = ent.label_
        labels.append(tags)
    return segments, labels


def _propagate(segments: list[list[Word]], labels: list[list[str | None]]) -> None:
    """One label per name in a recording: every occurrence of words the recogniser tagged
    somewhere (written the same, capitalised) gets the label it was given most often (ties:
    the first seen), including occurrences it left out."""
    plains = [[_plain(w.word) for w in words] for words in segments]
    votes: dict[tuple[str, ...], Counter[str]] = {}
    for plain, tags in zip(plains, labels):
        i = 0
        while i < len(plain):
            j = i
            while j < len(plain) and tags[j] is not None and tags[j] == tags[i]:
                j += 1
            if j > i:
                key = tuple(plain[i:j])
                if all(k[:1].isupper() for k in key):
                    votes.setdefault(key, Counter())[tags[i]] += 1  # type: ignore[index]
                i = j
            else:
                i += 1
    known = {key: c.most_common(1)[0][0] for key, c in votes.items()}
    for key, label in sorted(known.items(), key=lambda kv: -len(kv[0])):
        n = len(key)
        for plain, tags in zip(plains, labels):
            for i in range(len(plain) - n + 1):
                span = tags[i:i + n]
                if plain[i] == key[0] and tuple(plain[i:i + n]) == key and \
                        (all(t is None for t in span) or all(t is not None for t in span)):
                    tags[i:i + n] = [label] * n


def _capitalised(segments: list[list[Word]], labels: list[list[str | None]]) -> None:
    """Tag capitalised names the recogniser left out as NAME (see the module docstring)."""
    common = common_words()
    lower = {p for words in segments for w in words if (p := _plain(w.word))[:1].islower()}
    found: list[tuple[int, int, str, bool]] = []
    for s, words in enumerate(segments):
        sentence_start = True
        for i, w in enumerate(words):
            p = _plain(w.word)
            if p[:1].isupper() and p not in NOT_NAMES and labels[s][i] is None:
                found.append((s, i, p, sentence_start))
            sentence_start = w.word.strip().endswith(_SENTENCE_END)

    def ordinary(p: str) -> bool:
        return p.lower().split("'")[0] in common

    inside = {p for _, _, p, first in found if not first}
    keep = {p for p in inside if not (p.lower() in lower and ordinary(p))}
    keep |= {p for _, _, p, first in found if first and p.lower() not in lower
             and not ordinary(p)}
    for s, i, p, _ in found:
        if p in keep:
            labels[s][i] = "NAME"


def entities(tr: Transcript, labels: frozenset[str] | None = None,
             exclude: frozenset[str] = frozenset()) -> list[Entity]:
    """Every entity whose label is in `labels` (all kinds by default) in time order, leaving
    out names of unknown kind that are in `exclude` (e.g. an advertisement's brand when
    people are asked for)."""
    wanted = labels if labels is not None else asked_labels("")
    segments, tags = _recognised(tr)
    _propagate(segments, tags)
    _capitalised(segments, tags)
    found: list[Entity] = []
    for words, seg_tags in zip(segments, tags):
        i = 0
        while i < len(words):
            label = seg_tags[i]
            j = i + 1
            while j < len(words) and seg_tags[j] == label and label is not None \
                    and not words[j - 1].word.strip().endswith(_SENTENCE_END):
                j += 1
            text = " ".join(_plain(w.word) for w in words[i:j])
            if label in wanted and not (label == "NAME" and text in exclude):
                found.append(Entity(text, label, words[i].start, words[j - 1].end))
            i = j
    return sorted(found, key=lambda e: (e.start, e.end))


__all__ = ["KINDS", "Entity", "asked_labels", "entities"]
