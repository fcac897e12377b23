"""The errors between a recognised text and what was said, as labelled correction pairs.

The training data of the corrector: what Whisper wrote (hypothesis) against the text the
synthesiser spoke (reference), aligned word by word as the text replies are (diff_text), each
difference labelled with the ASR error it repairs: substitution, deletion (a spoken word
missing), insertion (a word not spoken), punctuation, casing, or inverse text normalisation
("thirtieth" / "30th": the same words read aloud, written differently).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ..wer import normalize
from .edits import key

ERROR_TYPES = ("substitution", "deletion", "insertion", "punctuation", "casing", "itn")
# What the prompts call each error type in a JSON pair.
PAIR_TYPE = {"substitution": "spelling", "deletion": "other", "insertion": "other",
             "punctuation": "punctuation", "casing": "punctuation", "itn": "itn"}
_LETTERS = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class ErrorPair:
    original: str       # the hypothesis' words ("" for a deletion)
    corrected: str      # the reference's words ("" for an insertion)
    error: str          # one of ERROR_TYPES

    def as_pair(self) -> dict[str, str]:
        """The pair as the "pairs" prompt format asks the LLM to write it."""
        return {"original": self.original, "corrected": self.corrected,
                "type": PAIR_TYPE[self.error]}


def _label(original: str, corrected: str) -> str:
    a, b = original.split(), corrected.split()
    if [key(t) for t in a] == [key(t) for t in b]:
        plain = [_LETTERS.sub("", t) for t in a] == [_LETTERS.sub("", t) for t in b]
        return "punctuation" if plain else "casing"
    if a and b and normalize(original) == normalize(corrected):
        return "itn"
    if not a:
        return "deletion"
    if not b:
        return "insertion"
    return "substitution"


def _regions(tokens: list[str], ref: list[str]) -> list[list[int]]:
    """[i1, i2, j1, j2] spans of hypothesis and reference that differ, in order: words
    aligned on their keys, tokens of aligned runs that differ in case or punctuation."""
    ka, kb = [key(t) or t for t in tokens], [key(t) or t for t in ref]
    out: list[list[int]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb,
                                                       autojunk=False).get_opcodes():
        if tag != "equal":
            out.append([i1, i2, j1, j2])
            continue
        for off in range(i2 - i1):
            if tokens[i1 + off] != ref[j1 + off]:
                out.append([i1 + off, i1 + off + 1, j1 + off, j1 + off + 1])
    return out


def error_pairs(hypothesis: str, reference: str) -> list[ErrorPair]:
    """The pairs that turn `hypothesis` into `reference`, in text order. A pair that only
    adds or drops words is widened by the word before it (or after, at the start) so that
    it names hypothesis words that locate it ("at" -> "at eight thirty", "we we" -> "we"),
    as a JSON pair must; pairs that then touch are merged, so no two name the same word."""
    tokens, ref = hypothesis.split(), reference.split()
    regions: list[tuple[list[int], str | None]] = []
    for r in _regions(tokens, ref):
        kind = "deletion" if r[0] == r[1] else "insertion" if r[2] == r[3] else None
        if kind and tokens and ref:         # anchor on a neighbouring word
            if r[0] > 0 and r[2] > 0:
                r[0], r[2] = r[0] - 1, r[2] - 1
            elif r[1] < len(tokens) and r[3] < len(ref):
                r[1], r[3] = r[1] + 1, r[3] + 1
        regions.append((r, kind))
    merged: list[tuple[list[int], set]] = []
    for r, kind in regions:
        if merged and r[0] < merged[-1][0][1]:
            m = merged[-1][0]
            m[1], m[3] = max(m[1], r[1]), max(m[3], r[3])
            merged[-1][1].add(kind)
        else:
            merged.append((list(r), {kind}))
    out = []
    for (i1, i2, j1, j2), kinds in merged:
        original, corrected = " ".join(tokens[i1:i2]), " ".join(ref[j1:j2])
        label = _label(original, corrected)
        gaps = kinds - {None}
        if label not in ("casing", "punctuation") and len(gaps) == 1:
            label = gaps.pop()      # words missing or extra, whatever else changed beside
        out.append(ErrorPair(original, corrected, label))
    return out


def written_reference(hypothesis: str, reference: str) -> str:
    """What the corrector should write: the reference's words, punctuation and capitals, but
    numbers as the hypothesis wrote them where both read the same aloud (the synthesiser
    speaks "twenty one", Whisper writes "21", and a transcript should keep the digits)."""
    tokens = hypothesis.split()
    out: list[str] = []
    ref = reference.split()
    ka, kb = [key(t) or t for t in tokens], [key(t) or t for t in ref]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb,
                                                       autojunk=False).get_opcodes():
        said, written = ref[j1:j2], tokens[i1:i2]
        if tag != "equal" and said and written and \
                normalize(" ".join(written)) == normalize(" ".join(said)):
            keep = [re.sub(r"[.,;:?!]+$", "", t) for t in written]
            trail = re.search(r"[^\w]*$", said[-1]).group(0)
            keep[-1] += trail
            out += keep
        else:
            out += said
    return " ".join(out)
