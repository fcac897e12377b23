"""The arguments a question gives: a quoted phrase, a moment, the people it names.

People are found by what the transcript calls them (its labels, "speaker 1" for SPEAKER_01,
names that enrolment gave) and by roles the user named ("the host" -> SPEAKER_00, "me" ->
Ann). A role word the user did not name ("the guest") is kept as an unresolved mention, so the
answer can say how to name it instead of guessing. Each found argument is replaced in the
question by a marker word (zqquote, zqtime, zqperson), so what is left says only what kind
of question it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

QUOTE, TIME, PERSON = "zqquote", "zqtime", "zqperson"

_QUOTED = re.compile(r"\"([^\"]+)\"|\u201c([^\u201d]+)\u201d|(?<!\w)'([^']+)'(?!\w)|"
                     r"\u2018([^\u2019]+)\u2019(?!\w)")
_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}
NUMBER_WORDS = {w: i for i, w in enumerate(_SMALL)} | _TENS
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
# 1:02:03, 12:30; "minute 4"; "4 minutes in", "the 4-minute mark", "4 min"; "90 seconds in"
_CLOCK = re.compile(r"\b(?:(\d+):)?(\d{1,2}):(\d\d)\b")
_MINUTE_FIRST = re.compile(rf"\bminute\s+{_NUM}\b", re.I)
_MINUTES = re.compile(rf"\b{_NUM}\s*(?:-\s*|\s)?(?:minutes?|mins?)\b", re.I)
_SECONDS = re.compile(rf"\b{_NUM}\s*(?:-\s*|\s)?(?:seconds?|secs?)\b", re.I)
# Roles a person may be called by; "me" covers I / me / my / myself.
ROLE_WORDS = ("host", "co-host", "guest", "interviewer", "interviewee", "moderator", "chair",
              "presenter", "caller", "me")
_ME = r"(?:i|me|my|myself)"
# "me" as the one asked for something ("tell me", "show me where") names nobody in it.
_ASKED = "".join(rf"(?<!{verb}\s)" for verb in ("tell", "show", "give", "remind", "let",
                                                  "help", "find", "get"))
_LABEL_NUMBER = re.compile(r"^(?:speaker|spk|spkr|spk_|s)[_ ]?0*(\d+)$", re.I)


@dataclass
class QuestionArgs:
    """skeleton: the question, lower case, with arguments replaced by marker words.
    people: transcript speakers named, in order; unresolved: role words named that no
    speaker stands for; phrase: the quoted words, else ""; seconds: the moment named."""

    skeleton: str
    people: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    phrase: str = ""
    seconds: float | None = None


def _number(text: str) -> float:
    t = text.lower()
    return float(NUMBER_WORDS[t]) if t in NUMBER_WORDS else float(t)


def _moment(text: str) -> tuple[float | None, str]:
    """The first moment named in `text` (seconds) and the text with it replaced."""
    found: list[tuple[int, int, float]] = []
    for m in _CLOCK.finditer(text):
        s = int(m.group(2)) * 60 + int(m.group(3)) + int(m.group(1) or 0) * 3600
        found.append((m.start(), m.end(), float(s)))
    for pattern, scale in ((_MINUTE_FIRST, 60.0), (_MINUTES, 60.0), (_SECONDS, 1.0)):
        for m in pattern.finditer(text):
            found.append((m.start(), m.end(), _number(m.group(1)) * scale))
    if not found:
        return None, text
    found.sort()
    start, end, seconds = found[0]
    return seconds, f"{text[:start]} {TIME} {text[end:]}"


def _spoken_label(label: str) -> list[str]:
    """What a person may call a diarizer label: SPEAKER_01 -> speaker_01, speaker 01,
    speaker 1, speaker one."""
    low = label.lower()
    out = {low, low.replace("_", " ")}
    m = _LABEL_NUMBER.match(label)
    if m:
        n = int(m.group(1))
        out |= {f"speaker {n}", f"speaker number {n}", f"spk{n}", f"spk {n}"}
        if n < len(_SMALL):
            out.add(f"speaker {_SMALL[n]}")
    return sorted(out, key=len, reverse=True)


def _people(text: str, speakers: Sequence[str], roles: Mapping[str, str]
            ) -> tuple[list[tuple[int, int, str | None, str]], str]:
    """(start, end, speaker or None, mention) of each person named, and the text with each
    replaced by the zqperson marker."""
    refs: list[tuple[str, str | None, str]] = []       # (pattern, speaker, mention)
    for label in speakers:
        for spoken in _spoken_label(label):
            refs.append((r"\b" + re.escape(spoken) + r"\b", label, label))
    named = {r.lower(): s for r, s in roles.items()}
    for role in ROLE_WORDS:
        who = named.get(role)
        if role == "me":
            refs.append((rf"\b{_ASKED}{_ME}\b", who, "me"))
        else:
            refs.append((rf"\b(?:the\s+|our\s+)?{re.escape(role)}\b", who, role))
    for role, who in named.items():
        if role not in ROLE_WORDS:
            refs.append((rf"\b(?:the\s+)?{re.escape(role)}\b", who, role))
    found: list[tuple[int, int, str | None, str]] = []
    taken = [False] * len(text)
    # longest first, so "speaker 10" is not read as "speaker 1"
    for pattern, who, mention in sorted(refs, key=lambda r: -len(r[0])):
        for m in re.finditer(pattern, text, re.I):
            if any(taken[m.start():m.end()]):
                continue
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
            found.append((m.start(), m.end(), who, mention))
    found.sort()
    out, last = [], 0
    for start, end, _, _ in found:
        out.append(text[last:start] + f" {PERSON} ")
        last = end
    out.append(text[last:])
    return found, "".join(out)


def question_args(question: str, speakers: Sequence[str],
                  roles: Mapping[str, str] | None = None) -> QuestionArgs:
    """The arguments of `question` about a transcript whose speakers are `speakers`."""
    phrases: list[str] = []

    def quoted(m: re.Match) -> str:
        phrases.append(next(g for g in m.groups() if g is not None).strip())
        return f" {QUOTE} "

    text = _QUOTED.sub(quoted, question)
    seconds, text = _moment(text)
    found, text = _people(text, speakers, roles or {})
    people = [who for _, _, who, _ in found if who is not None]
    unresolved = [m for _, _, who, m in found if who is None]
    skeleton = " ".join(text.lower().split())
    return QuestionArgs(skeleton, list(dict.fromkeys(people)), list(dict.fromkeys(unresolved)),
                        " ".join(phrases), seconds)
