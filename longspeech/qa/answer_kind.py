"""What kind of answer a question asks for (a name, a number) and whether a line holds one.

BM25 ranks lines by the question's words; a line that shares them but holds no answer ("we
need to raise the money at the spring concert" for "Who is booking the bands for the
concert?") can outrank the one that does ("Gabriel is booking three local bands"). Among
lines about as relevant, those holding a word of the kind the question asks for go first.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Literal

Kind = Literal["name", "number"]

# Capitalised words that are not names of people, organisations or places.
NOT_NAMES = frozenset({"I", "I'm", "I've", "I'll", "I'd", "OK", "Okay", "Yes", "No", "Mr",
                       "Mrs", "Ms", "Dr"} | set(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April "
    "May June July August September October November December".split()))
_NUMBER_WORDS = frozenset("""one two three four five six seven eight nine ten eleven twelve
thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty
seventy eighty ninety hundred thousand million billion half dozen""".split())
_NUMBER_Q = re.compile(r"\bhow (many|much|long|old|often|far)\b|\bwhat (number|percentage|"
                       r"discount|price|amount|share|rate)\b", re.I)
_NAME_Q = re.compile(r"^\W*(who|whom|whose|where)\b|\bwhich (city|town|country|place|port|"
                     r"office|company|firm|customer|person|team|supplier|client)\b|\bname\b",
                     re.I)
_TOKEN = re.compile(r"[A-Za-z][\w'-]*|\d[\d,.]*")
# "[01:23] SPEAKER_00: " at the start of a transcript line
LINE_HEAD = re.compile(r"^\s*(?:\[[\d:]+\]\s*)?(?:[A-Za-z][\w .'-]{0,40}:\s+)?")


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Lower-case English words that Whisper's byte-level BPE vocabulary holds as one token
    after a space: frequent words of its English training text. A name's lower-case form is
    rarely one ("thomas", "laura" split), so a capitalised word whose lower-case form is in
    here is probably an ordinary word. Empty when the embedded model is not installed."""
    from ..errors import LongspeechError
    from ..models.registry import ct2_dir

    try:
        vocab = json.loads((ct2_dir("tiny.en") / "tokenizer.json").read_text())["model"]["vocab"]
    except (LongspeechError, OSError, KeyError, ValueError):
        return frozenset()
    return frozenset(t[1:] for t in vocab if t.startswith("\u0120") and t[1:].isalpha()
                     and t[1:].islower())


def question_kind(question: str) -> Kind | None:
    """"number" for how many / how much / what price..., "name" for who / where / which
    city... / what name, None otherwise."""
    if _NUMBER_Q.search(question):
        return "number"
    if _NAME_Q.search(question):
        return "name"
    return None


def words_of_kind(text: str, kind: Kind | None, question: str) -> list[str]:
    """The words of `text` of `kind` that the question does not already say: numbers
    (digits or number words), or capitalised words that are not ordinary English words."""
    if kind is None:
        return []
    asked = {w.lower() for w in _TOKEN.findall(question)}
    common = common_words()
    out = []
    for w in _TOKEN.findall(LINE_HEAD.sub("", text, count=1)):
        if w.lower() in asked:
            continue
        if kind == "number" and (w[0].isdigit() or w.lower() in _NUMBER_WORDS):
            out.append(w.rstrip(".,"))
        elif kind == "name" and w[0].isupper() and w not in NOT_NAMES \
                and w.lower().split("'")[0] not in common:
            out.append(w)
    return out


def holds_kind(text: str, kind: Kind | None, question: str) -> bool:
    """Whether `text` has a word of `kind` that the question does not already say."""
    return bool(words_of_kind(text, kind, question))
