"""Segments as editable word tokens: locating an edit's span, classifying it, re-timing words.

A segment's text is split on whitespace; when its timed words spell the same tokens, each token
keeps its Word. Spans are matched on loose keys (lower case, edge punctuation stripped) so a
pair whose "original" drops a comma or a capital still finds its words.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..wer import normalize
from ..types import Segment, Word, round_time

_EDGE = re.compile(r"^[^\w]+|[^\w]+$", re.UNICODE)


def key(token: str) -> str:
    """A token without edge punctuation, lower case: what decides if two words are the same."""
    return _EDGE.sub("", token).lower()


def keys(tokens: Sequence[str]) -> list[str]:
    return [k for k in (key(t) for t in tokens) if k]


def changed_words(a: Sequence[str], b: Sequence[str]) -> int:
    """Words that differ between two token lists, ignoring punctuation and case."""
    ka, kb = keys(a), keys(b)
    ops = difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


@dataclass(frozen=True)
class EditableSegment:
    """A segment's tokens and, when it has word times, one Word per token."""

    tokens: tuple[str, ...]
    words: tuple[Word, ...] | None

    @classmethod
    def of(cls, seg: Segment) -> EditableSegment:
        tokens = tuple(seg.text.split())
        if seg.words and tuple(t for w in seg.words for t in w.word.split()) == tokens \
                and all(len(w.word.split()) == 1 for w in seg.words):
            return cls(tokens, tuple(seg.words))
        return cls(tokens, None)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def replaced(self, i: int, j: int, new: Sequence[str]) -> EditableSegment:
        """Tokens i..j replaced by `new`; unchanged words keep their times, new ones share
        the replaced words' time span (an insertion gets the gap between its neighbours)."""
        tokens = self.tokens[:i] + tuple(new) + self.tokens[j:]
        if self.words is None:
            return EditableSegment(tokens, None)
        return EditableSegment(tokens, self.words[:i] + _retime(self.words, i, j, new)
                               + self.words[j:])

    def to_segment(self, seg: Segment) -> Segment:
        text = self.text
        if self.words is not None:
            words = list(self.words)
        elif not seg.words or text == " ".join(seg.text.split()):
            words = list(seg.words)
        else:  # word times that never matched the text: spread the new words over the segment
            words = _spread(self.tokens, seg.start, seg.end, seg.words)
        return replace(seg, text=text, words=words)


def _retime(words: Sequence[Word], i: int, j: int, new: Sequence[str]) -> tuple[Word, ...]:
    """Words for `new` replacing words[i:j]: tokens that keep their word (same key, or a
    one-for-one substitution) keep its times; the rest share the time of what they replace."""
    old = list(words[i:j])
    ka = [key(w.word) or w.word.strip() for w in old]
    kb = [key(t) or t for t in new]
    out: list[Word] = []
    ops = difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes()
    for tag, a1, a2, b1, b2 in ops:
        if tag == "equal" or (tag == "replace" and a2 - a1 == b2 - b1):
            out += [replace(w, word=" " + t) for w, t in zip(old[a1:a2], new[b1:b2])]
            continue
        if b1 == b2:
            continue  # a deletion leaves no word
        if a2 > a1:
            start, end, src = old[a1].start, old[a2 - 1].end, old[a1:a2]
        else:  # insertion: the gap between its neighbours (zero length when they touch)
            at = i + a1
            start = words[at - 1].end if at > 0 else words[0].start
            end = max(start, words[at].start if at < len(words) else words[-1].end)
            src = [words[min(at, len(words) - 1)]]
        out += _spread(new[b1:b2], start, end, src)
    return tuple(out)


def _spread(tokens: Sequence[str], start: float, end: float, src: Sequence[Word]) -> list[Word]:
    """New words over [start, end] in proportion to their length; probability and speaker
    taken from the words they replace."""
    prob = round(sum(w.probability for w in src) / len(src), 4)
    weights = [max(1, len(t)) for t in tokens]
    total, acc, out = sum(weights), 0, []
    for t, wgt in zip(tokens, weights):
        s = start + (end - start) * acc / total
        acc += wgt
        e = start + (end - start) * acc / total
        out.append(Word(" " + t, round_time(s), round_time(e), prob, src[0].speaker))
    return out


def find_span(tokens: Sequence[str], original: Sequence[str], taken: Sequence[tuple[int, int]]
              ) -> tuple[int, int] | None:
    """First (i, j) where tokens[i:j] match `original` on keys and overlap nothing taken.

    Edge tokens that are only punctuation are ignored on the pair's side ("," or "." alone
    cannot be located); the text's tokens are compared one to one.
    """
    want = [key(t) for t in original]
    while want and not want[0]:
        want.pop(0)
    while want and not want[-1]:
        want.pop()
    if not want or any(not k for k in want):
        return None
    have = [key(t) for t in tokens]
    n = len(want)
    for i in range(len(have) - n + 1):
        if have[i:i + n] == want and not any(i < b and a < i + n for a, b in taken):
            return i, i + n
    return None


def carry_edge_punctuation(matched: Sequence[str], original: Sequence[str],
                           corrected: Sequence[str]) -> list[str]:
    """A pair that leaves out the text's edge punctuation keeps it: "whether" -> "weather"
    applied to "whether," gives "weather,". Punctuation the pair itself names is its own."""
    out = list(corrected)
    if not matched or not out:
        return out
    lead = re.match(r"^[^\w]*", matched[0]).group(0)
    trail = re.search(r"[^\w]*$", matched[-1]).group(0)
    if lead and original and not original[0].startswith(lead) and not re.match(r"^[^\w]", out[0]):
        out[0] = lead + out[0]
    if trail and original and not original[-1].endswith(trail) and not re.search(r"[^\w]$",
                                                                                 out[-1]):
        out[-1] = out[-1] + trail
    return out


def kind(before: EditableSegment, after: EditableSegment, old: Sequence[str],
         new: Sequence[str], claimed: str) -> tuple[str, str]:
    """(type, check): 'punctuation' when the words stay (punctuation or case only); 'itn' or
    'other' when the segment's words are the same once normalised (numbers written as digits,
    fillers); else a word change, named as the LLM claimed it ('spelling' or 'other'), whose
    check is acoustic."""
    if keys(old) == keys(new):
        return "punctuation", "punctuation"
    if normalize(before.text) == normalize(after.text):
        written = any(c.isdigit() or c in "%$€£&@/" for c in "".join(new) + "".join(old))
        return ("itn" if written or claimed == "itn" else "other"), "normalised"
    return (claimed if claimed in ("spelling", "other") else "spelling"), "acoustic"


_SENTENCE_END = re.compile(r"[.?!][\"')\]]*$")
# Words English always writes with a capital.
# Characters a transcript of speech has no use for ("[]" is a JSON reply leaking into a text).
_NOT_SPOKEN = frozenset("[]{}()<>|\\*#_~`^=")
ALWAYS_CAPITAL = frozenset("""I I'm I've I'll I'd Monday Tuesday Wednesday Thursday Friday
Saturday Sunday January February March April June July August September October November
December English""".split())


def transcript_names(texts: Sequence[str]) -> frozenset[str]:
    """Capitalised words the transcript itself uses inside a sentence ("Maria", "Lyon"): the
    only words an edit may capitalise mid-sentence."""
    names = set()
    for text in texts:
        toks = text.split()
        for prev, tok in zip(toks, toks[1:]):
            k = _EDGE.sub("", tok)
            if k[:1].isupper() and not _SENTENCE_END.search(prev):
                names.add(k)
    return frozenset(names)


def _starts_sentence(tokens: Sequence[str], i: int) -> bool:
    return i == 0 or bool(_SENTENCE_END.search(tokens[i - 1]))


def punctuation_problem(before: Sequence[str], after: Sequence[str],
                        names: frozenset[str]) -> str | None:
    """Why a punctuation or casing edit is wrong, or None when it is a fair one: a capital
    only at a sentence start or for a name the transcript already uses; a sentence ended
    only before a word that starts one (a capital), never before a lower-case word or a
    number ("14. 11")."""
    added = set("".join(after)) - set("".join(before))
    odd = sorted(added & _NOT_SPOKEN)
    if odd:
        return f"adds {''.join(odd)!r}, which is no punctuation of speech"
    old = [t for t in before if key(t)]
    new = [t for t in after if key(t)]
    if len(old) != len(new):
        return None
    for i, (a, b) in enumerate(zip(old, new)):
        wa, wb = _EDGE.sub("", a), _EDGE.sub("", b)
        if wa != wb and wb[:1].isupper() and not wa[:1].isupper() \
                and not _starts_sentence(new, i) and wb not in names \
                and wb not in ALWAYS_CAPITAL:
            return f"capital {wb!r} inside a sentence, and not a name the transcript uses"
        if _SENTENCE_END.search(b) and not _SENTENCE_END.search(a) and i + 1 < len(new):
            nxt = _EDGE.sub("", new[i + 1])
            if nxt[:1].islower() or nxt[:1].isdigit():
                return f"a sentence end before {nxt!r}, which does not start a sentence"
    return None


def digits_to_words(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether an edit writes out in words a number Whisper wrote in digits ("2" -> "Two"):
    inverse text normalisation goes the other way only."""
    return any(c.isdigit() for c in "".join(old)) and not any(c.isdigit() for c in "".join(new))


def number_rewrite(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether a word change touches a number written in digits: such a rewrite is only
    fair as inverse text normalisation (the same words read aloud)."""
    return any(c.isdigit() for c in "".join(old) + "".join(new))
