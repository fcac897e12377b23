"""Spoken question answering data: sentences that state a fact, with questions and answers.

Each fact is one sentence a TTS voice can read (numbers spelled out, plain words), and comes
with questions whose answers are words of the sentence. The answer's key words (`key`) are
what a grader looks for in a model's reply, so answers can be scored without a judge model.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from ...synth.corpus import ADJECTIVES, NAMES, NOUNS, PLACES, VERBS, WEEKDAYS
from ...spoken_numbers import clock, spell, year

COLORS = ("red", "blue", "green", "yellow", "purple", "orange", "white", "black", "brown",
          "pink", "grey")
JOBS = ("teacher", "doctor", "pilot", "farmer", "baker", "nurse", "lawyer", "painter",
        "driver", "gardener", "musician", "engineer", "writer", "cook")
ANIMALS = ("dog", "cat", "horse", "rabbit", "parrot", "goat", "turtle", "donkey")


@dataclass(frozen=True)
class QA:
    question: str
    answer: str          # a full short answer, as the model is taught to give it
    key: str             # the words that must appear in a correct reply


@dataclass(frozen=True)
class Fact:
    sentence: str
    qas: tuple[QA, ...]


def _sold(r: random.Random) -> Fact:
    name, adj, noun, place = r.choice(NAMES), r.choice(ADJECTIVES), r.choice(list(NOUNS)), \
        r.choice(PLACES)
    verb = r.choice(list(VERBS))
    past = VERBS[verb]
    return Fact(f"{name} {past} the {adj} {noun} in the {place}.", (
        QA(f"Who {past} the {adj} {noun}?", f"{name}.", name),
        QA(f"Where did {name} {verb} the {noun}?", f"In the {place}.", place),
        QA(f"What did {name} {verb} in the {place}?", f"The {adj} {noun}.", f"{adj} {noun}"),
    ))


def _opens(r: random.Random) -> Fact:
    place = r.choice(PLACES)
    t = clock(r.randint(6, 11), r.choice([0, 30]))
    return Fact(f"The {place} opens at {t} every day.", (
        QA(f"When does the {place} open?", f"At {t}.", t),
        QA(f"What opens at {t}?", f"The {place}.", place),
    ))


def _owns(r: random.Random) -> Fact:
    name, noun = r.choice(NAMES), r.choice(list(NOUNS))
    n = spell(r.randint(2, 19))
    return Fact(f"{name} has {n} {NOUNS[noun]} at home.", (
        QA(f"How many {NOUNS[noun]} does {name} have?", f"{n[0].upper()}{n[1:]}.", n),
        QA(f"Who has {n} {NOUNS[noun]}?", f"{name}.", name),
    ))


def _born(r: random.Random) -> Fact:
    name, place = r.choice(NAMES), r.choice(["village", "town", "city"])
    y = year(r.randint(1940, 2015))
    return Fact(f"{name} was born in {y} in a small {place}.", (
        QA(f"In which year was {name} born?", f"In {y}.", y),
        QA(f"Who was born in {y}?", f"{name}.", name),
    ))


def _costs(r: random.Random) -> Fact:
    adj, noun = r.choice(ADJECTIVES), r.choice(list(NOUNS))
    n = spell(r.choice([r.randint(2, 20), r.randint(21, 99) // 5 * 5, r.randint(1, 9) * 100]))
    return Fact(f"The {adj} {noun} costs {n} dollars.", (
        QA(f"How much does the {adj} {noun} cost?", f"{n[0].upper()}{n[1:]} dollars.", n),
        QA(f"What costs {n} dollars?", f"The {adj} {noun}.", noun),
    ))


def _color(r: random.Random) -> Fact:
    name, color = r.choice(NAMES), r.choice(COLORS)
    return Fact(f"The favorite color of {name} is {color}.", (
        QA(f"What is the favorite color of {name}?", f"{color.capitalize()}.", color),
        QA(f"Whose favorite color is {color}?", f"{name}.", name),
    ))


def _job(r: random.Random) -> Fact:
    name, job, place = r.choice(NAMES), r.choice(JOBS), r.choice(PLACES)
    return Fact(f"{name} works as a {job} near the {place}.", (
        QA(f"What does {name} work as?", f"A {job}.", job),
        QA(f"Where does {name} work?", f"Near the {place}.", place),
        QA(f"Who works as a {job}?", f"{name}.", name),
    ))


def _meeting(r: random.Random) -> Fact:
    a, b = r.sample(NAMES, 2)
    day = r.choice(WEEKDAYS)
    return Fact(f"{a} will meet {b} on {day} in the {r.choice(PLACES)}.", (
        QA(f"On which day will {a} meet {b}?", f"On {day}.", day),
        QA(f"Who will {a} meet on {day}?", f"{b}.", b),
    ))


def _pet(r: random.Random) -> Fact:
    name, animal, pet = r.choice(NAMES), r.choice(ANIMALS), r.choice(NAMES)
    return Fact(f"{name} has a {animal} called {pet}.", (
        QA(f"What animal does {name} have?", f"A {animal}.", animal),
        QA(f"What is the name of the {animal}?", f"{pet}.", pet),
    ))


TEMPLATES: tuple[Callable[[random.Random], Fact], ...] = (
    _sold, _opens, _owns, _born, _costs, _color, _job, _meeting, _pet)


def facts(seed: int, n: int) -> list[Fact]:
    """n facts with distinct sentences, the same for the same seed."""
    rng = random.Random(f"longspeech.facts:{seed}")
    out: list[Fact] = []
    seen: set[str] = set()
    for _ in range(100 * n + 100):
        if len(out) == n:
            break
        f = rng.choice(TEMPLATES)(rng)
        if f.sentence not in seen:
            seen.add(f.sentence)
            out.append(f)
    return out


def key_in_reply(key: str, reply: str) -> bool:
    """Whether the answer's key words occur in a reply, after Whisper's English normaliser
    (so "nineteen eighty" matches "1980" and case and punctuation do not matter)."""
    from ...wer import normalize

    k, r = _words(normalize(key)), _words(normalize(reply))
    if not k:
        return False
    return any(r[i:i + len(k)] == k for i in range(len(r) - len(k) + 1))


def _words(text: str) -> list[str]:
    # "7 30" and "7:30" -> "730", "$400" -> "400": spoken and written numbers agree.
    return re.sub(r"(?<=\d)[ :](?=\d)", "", text).replace("$", "").split()
