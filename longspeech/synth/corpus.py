"""A deterministic generator of varied plain English sentences.

Templates filled from word lists by a seeded RNG: statements, questions, requests, with
numbers, years, dates and clock times spelled out as words, so a word error rate over them
means something and nothing needs downloading. Vocabulary is plain words only (no digits,
hyphens or abbreviations) so that every token is one spoken word for both TTS engines.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ..spoken_numbers import clock, digits, ordinal, spell, year

NAMES = ("Anna Maria David Thomas Sarah Peter Laura Daniel Emma Oliver Grace Henry Julia "
         "Martin Nora Simon Alice Victor Helen Oscar Rachel Samuel Clara Felix").split()
PLACES = ("office kitchen library station garden warehouse market hospital school harbor "
          "museum bakery stadium airport hotel village factory studio theater castle "
          "cottage farm bank garage").split()
NOUNS = {  # singular: plural
    "report": "reports", "budget": "budgets", "package": "packages", "letter": "letters",
    "ticket": "tickets", "camera": "cameras", "bicycle": "bicycles", "window": "windows",
    "engine": "engines", "computer": "computers", "contract": "contracts",
    "recipe": "recipes", "bridge": "bridges", "painting": "paintings",
    "battery": "batteries", "schedule": "schedules", "invoice": "invoices",
    "sample": "samples", "question": "questions", "proposal": "proposals",
    "table": "tables", "chair": "chairs", "map": "maps", "key": "keys", "phone": "phones",
    "box": "boxes", "lamp": "lamps", "blanket": "blankets", "bottle": "bottles",
    "jacket": "jackets", "notebook": "notebooks", "garden": "gardens", "apple": "apples",
    "tree": "trees", "horse": "horses", "boat": "boats",
    "sandwich": "sandwiches", "umbrella": "umbrellas", "drawing": "drawings",
}
ADJECTIVES = ("quiet bright heavy careful early simple strange useful narrow ancient modern "
              "fragile yellow green silver wooden tired busy patient honest curious gentle "
              "rapid warm cold expensive cheap broken famous tiny enormous").split()
VERBS = {  # base: past
    "open": "opened", "move": "moved", "check": "checked", "repair": "repaired",
    "paint": "painted", "order": "ordered", "finish": "finished", "clean": "cleaned",
    "carry": "carried", "print": "printed", "borrow": "borrowed", "deliver": "delivered",
    "count": "counted", "sign": "signed", "measure": "measured", "describe": "described",
    "test": "tested", "sell": "sold", "buy": "bought", "find": "found", "lose": "lost",
    "build": "built", "send": "sent", "keep": "kept", "bring": "brought", "hide": "hid",
    "wash": "washed", "photograph": "photographed", "replace": "replaced",
}
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = ("January February March April May June July August September October "
          "November December").split()
TIMES = ("this morning", "last night", "next week", "in the afternoon", "before lunch",
         "after dinner", "yesterday", "tomorrow", "last summer", "every evening",
         "early in the morning", "later today")
MEALS = ("lunch", "dinner", "breakfast", "the concert", "the match", "the lecture")
UNITS = ("kilograms", "meters", "dollars", "euros", "minutes", "hours", "liters", "pages")
WEATHER = ("cold", "warm", "windy", "sunny", "foggy", "cloudy", "freezing", "wet")
CONNECT = ("and then", "but later", "so", "because", "although")


class _Fill:
    """Slot fillers bound to one RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def name(self) -> str:
        return self.r.choice(NAMES)

    def two_names(self) -> tuple[str, str]:
        a, b = self.r.sample(NAMES, 2)
        return a, b

    def place(self) -> str:
        return self.r.choice(PLACES)

    def noun(self) -> str:
        return self.r.choice(list(NOUNS))

    def nouns(self) -> str:
        return NOUNS[self.noun()]

    def adj(self) -> str:
        return self.r.choice(ADJECTIVES)

    def verb(self) -> str:
        return self.r.choice(list(VERBS))

    def past(self) -> str:
        return VERBS[self.verb()]

    def when(self) -> str:
        r = self.r.random()
        if r < 0.4:
            return self.r.choice(TIMES)
        if r < 0.6:
            return f"on {self.r.choice(WEEKDAYS)}"
        if r < 0.8:
            return f"at {clock(self.r.randint(1, 12), self.r.choice([0, 5, 15, 20, 30, 45]))}"
        return f"on the {ordinal(self.r.randint(1, 31))} of {self.r.choice(MONTHS)}"

    def count(self, hi: int = 999) -> str:
        """A spelled-out number, usually small, sometimes large."""
        r = self.r.random()
        n = (self.r.randint(2, 20) if r < 0.5 else self.r.randint(21, hi) if r < 0.85
             else self.r.randint(1000, 99999))
        return spell(n)

    def counted(self, singular: str) -> str:
        n = self.r.randint(1, 60)
        return f"{spell(n)} {singular if n == 1 else NOUNS.get(singular, singular + 's')}"


_Template = Callable[[_Fill], str]

TEMPLATES: tuple[_Template, ...] = (
    lambda f: f"{f.name()} {f.past()} the {f.adj()} {f.noun()} in the {f.place()} {f.when()}.",
    lambda f: f"We need {f.count()} more {f.nouns()} before {f.r.choice(WEEKDAYS)}.",
    lambda f: f"The meeting moved to {f.r.choice(WEEKDAYS)} at "
              f"{clock(f.r.randint(1, 12), f.r.choice([0, 15, 30, 40]))}.",
    lambda f: f"Could you {f.verb()} the {f.noun()} for {f.name()} {f.when()}?",
    lambda f: f"There were {f.count()} {f.adj()} {f.nouns()} near the {f.place()}.",
    lambda f: f"{f.name()} said the {f.noun()} costs {f.count()} dollars.",
    lambda f: f"In {year(f.r.randint(1950, 2030))}, the {f.place()} had only "
              f"{f.count()} {f.nouns()}.",
    lambda f: f"Please {f.verb()} the {f.adj()} {f.noun()} and give it to {f.name()}.",
    lambda f: f"Why did {f.name()} {f.verb()} the {f.noun()} {f.when()}?",
    lambda f: f"The train leaves at {clock(f.r.randint(1, 12), f.r.choice([5, 20, 45, 50]))}"
              f" from platform {spell(f.r.randint(1, 12))}.",
    lambda f: f"About {spell(f.r.randint(2, 99))} percent of the {f.nouns()} were {f.adj()}.",
    lambda f: "{} and {} {} {} in the {}.".format(*f.two_names(), f.past(),
                                                  f.counted(f.noun()), f.place()),
    lambda f: f"I think the {f.noun()} is more {f.adj()} than the {f.noun()}.",
    lambda f: f"On the {ordinal(f.r.randint(1, 31))} of {f.r.choice(MONTHS)}, we "
              f"{f.past()} the {f.noun()} together.",
    lambda f: f"Nobody expected the {f.noun()} to be so {f.adj()}.",
    lambda f: f"If the {f.noun()} arrives {f.when()}, {f.name()} will {f.verb()} it.",
    lambda f: f"The {f.adj()} {f.noun()} weighs {f.count(400)} kilograms.",
    lambda f: f"My number ends in {digits([f.r.randint(0, 9) for _ in range(4)])}.",
    lambda f: f"Let us meet in the {f.place()} after {f.r.choice(MEALS)}.",
    lambda f: f"{f.name()} has worked at the {f.place()} for "
              f"{f.counted('year')}.",
    lambda f: f"{f.name()} didn't {f.verb()} the {f.noun()}, {f.r.choice(CONNECT)} "
              f"{f.name()} {f.past()} it {f.when()}.",
    lambda f: f"It's {f.r.choice(WEATHER)} outside, so we stayed in the {f.place()} and "
              f"{f.past()} {f.counted(f.noun())}.",
    lambda f: f"How many {f.nouns()} did you {f.verb()} in the {f.place()}?",
    lambda f: f"The {f.place()} opens at {clock(f.r.randint(6, 11), f.r.choice([0, 30]))} "
              f"and closes at {clock(f.r.randint(4, 10), f.r.choice([0, 30]))}.",
    lambda f: f"We measured {f.count()} {f.r.choice(UNITS)} in total, which is {f.adj()}.",
    lambda f: f"Yes, {f.name()} will {f.verb()} the {f.nouns()} {f.when()}.",
    lambda f: f"No, the {f.noun()} was {f.adj()} and the {f.nouns()} were {f.adj()}.",
    lambda f: f"{f.name()} was born in {year(f.r.randint(1940, 2015))} in a {f.adj()} "
              f"{f.r.choice(['village', 'town', 'city'])}.",
)


def sentences(seed: int, n: int, max_words: int = 22) -> list[str]:
    """n distinct sentences, the same for the same seed."""
    rng = random.Random(f"longspeech.synth.corpus:{seed}")
    fill = _Fill(rng)
    out: list[str] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 100 * n + 1000:
            raise RuntimeError("the sentence templates cannot produce that many sentences")
        text = rng.choice(TEMPLATES)(fill)
        text = text[0].upper() + text[1:]
        if text in seen or len(text.split()) > max_words:
            continue
        seen.add(text)
        out.append(text)
    return out


def vocabulary() -> list[str]:
    """Every word the templates can use, for checking that the voices speak each as one."""
    words = set(NAMES) | set(PLACES) | set(ADJECTIVES) | set(WEEKDAYS) | set(MONTHS)
    words |= {w for k, v in NOUNS.items() for w in (k + " " + v).split()}
    words |= {w for k, v in VERBS.items() for w in (k, v)}
    for phrase in TIMES + MEALS + UNITS + CONNECT + WEATHER:
        words |= set(phrase.split())
    words |= set(" ".join(spell(n) for n in (1, 13, 15, 17, 18, 19, 40, 60, 70, 80, 90, 100,
                                             1000, 11, 12, 14, 16, 50, 30)).split())
    words |= set(" ".join(ordinal(n) for n in range(1, 32)).split())
    words |= {"o'clock", "half", "past", "quarter", "oh", "didn't", "it's", "percent"}
    return sorted(words)
