"""What a question about a whole collection asks: which recordings mention something, in how
many, when a person first or last said it, who talks most about it; anything else is a
question about the content, answered from the recording retrieval ranks best.

The thing asked about is what is left of the question without its frame ("In which episodes
did the harbour strike come up?" -> "harbour strike"), or the quoted phrase when there is one;
the person is found by what the library calls its speakers (qa/question_args.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..qa.intent import FRAME_WORDS
from ..qa.question_args import question_args
from ..qa.retrieval import STOP

WHICH, HOW_MANY, FIRST, LAST, WHO_MOST, FACT = ("which", "how_many", "first", "last",
                                               "who_most", "fact")
UNITS = ("recordings? episodes? meetings? files? calls? shows? sessions? podcasts? "
         "interviews? conversations? parts? days? weeks? videos? lectures? clips? ones?")
_UNIT = rf"(?:{'|'.join(UNITS.split())})"
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (HOW_MANY, re.compile(rf"\bhow many\b(?:\s+\w+)?\s+{_UNIT}\b|\bin how many\b|"
                          rf"\bnumber of {_UNIT}\b|\bcount (?:the )?{_UNIT}\b", re.I)),
    (WHICH, re.compile(rf"\b(?:which|what)\b(?:\s+\w+)?\s+{_UNIT}\b|\bin which\b|"
                       rf"\b(?:list|name|find|show)\b.*\b(?:all |every )?(?:the )?{_UNIT}\b",
                       re.I)),
    (WHO_MOST, re.compile(r"\bwho\b.*\b(?:most|more than anyone|the lion'?s share)\b", re.I)),
    (FIRST, re.compile(r"\b(?:first|earliest|for the first time)\b", re.I)),
    (LAST, re.compile(r"\b(?:last|latest|most recent(?:ly)?|final)\b", re.I)),
)
_ASKS_WHEN = re.compile(r"\bwhen\b|\bwhere\b|\bwhat time\b|\bwhich\b|\bin what\b|\bdid\b.*"
                        r"\b(?:first|last)\b", re.I)
# Words that frame a question about the collection, on top of those of one recording.
_COLLECTION_WORDS = frozenset(
    w.rstrip("?") for w in UNITS.split()) | frozenset(u.rstrip("s?") + "s" for u in UNITS.split())
_EXTRA_FRAME = frozenset("""many number count first earliest last latest most recent recently
ever times time final anyone everyone more lion's lions share list name find show all every
zqperson zqquote zqtime up come came comes coming discussed discuss mention mentioned
mentions talk talked talks about brought bring raised raise appear appeared appears did
does do was were is are in which what who when where how often""".split())


@dataclass(frozen=True)
class CollectionQuestion:
    kind: str
    topic: str          # the words to find, "" when the question names none
    person: str | None  # a speaker of the library, when the question names one


def parse(question: str, speakers: Sequence[str]) -> CollectionQuestion:
    """The kind, topic and person of a question about the collection."""
    args = question_args(question, speakers)
    kind = next((k for k, rx in _KINDS if rx.search(args.skeleton)), FACT)
    if kind in (FIRST, LAST) and not _ASKS_WHEN.search(args.skeleton):
        kind = FACT                 # "What was the last item on the agenda?" is content
    if args.phrase:
        topic = args.phrase
    else:
        words = re.findall(r"[\w']+", args.skeleton)
        topic = " ".join(w for w in words if w not in FRAME_WORDS and w not in _EXTRA_FRAME
                         and w not in _COLLECTION_WORDS and w not in STOP
                         and not w.startswith("zq"))
    return CollectionQuestion(kind, topic, args.people[0] if args.people else None)


__all__ = ["FACT", "FIRST", "HOW_MANY", "LAST", "WHICH", "WHO_MOST", "CollectionQuestion",
           "parse"]
