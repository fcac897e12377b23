"""What the LLM proposed, as (original -> corrected) pairs: parsed from JSON or diffed from text.

Small models write broken JSON (missing brackets, trailing prose); json_repair recovers what
it can. A corrected-text reply is aligned with the segment word by word, so each change becomes
a pair with a known position.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import json_repair

from .edits import key

TYPES = ("spelling", "punctuation", "itn", "other")
_TAGS = re.compile(r"</?\s*(segment|transcript|corrected)\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class Proposal:
    """One proposed edit. `span` is its token range in the turn's text when known (diffs);
    JSON pairs are located by their original words instead."""

    original: str
    corrected: str
    type: str = ""
    span: tuple[int, int] | None = None


def _pairs_in(obj: Any) -> list[Any]:
    if isinstance(obj, Mapping):
        for name in ("corrections", "pairs", "edits", "errors"):
            if isinstance(obj.get(name), list):
                return obj[name]
        return [obj]
    if isinstance(obj, list):
        out: list[Any] = []
        for item in obj:
            out.extend(_pairs_in(item) if isinstance(item, (list, Mapping)) and not
                       _is_pair(item) else [item])
        return out
    return []


def _is_pair(item: Any) -> bool:
    return isinstance(item, Mapping) and ("original" in item or "corrected" in item)


def parse_pairs(reply: str) -> list[Proposal] | None:
    """Pairs from a JSON reply (repaired when malformed); None when no JSON could be read,
    [] when the reply is an empty list (nothing to correct). Pairs whose two sides are equal
    are not edits and are dropped."""
    try:
        obj = json_repair.loads(reply)
    except Exception:  # noqa: BLE001 - any failure to read the reply means "no pairs"
        return None
    if obj == "" or obj is None:
        return None
    items = _pairs_in(obj)
    if not items and obj not in ([], {}):
        return None
    out = []
    for item in items:
        if not _is_pair(item):
            continue
        original = _as_text(item.get("original"))
        corrected = _as_text(item.get("corrected"))
        if original.split() == corrected.split():
            continue
        claimed = _as_text(item.get("type")).strip().lower()
        out.append(Proposal(original, corrected, claimed if claimed in TYPES else ""))
    return out


def _as_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return " ".join(_as_text(x) for x in v)
    return " ".join(str(v).split())


_BLANK_LINE = re.compile(r"\n\s*\n")


def text_reply_complete(reply: str) -> bool:
    """Whether more of a text reply could change clean_text_reply's result: not once a
    blank line follows some text, since everything after it is dropped."""
    return _BLANK_LINE.search(_TAGS.sub(" ", reply).strip()) is not None


def clean_text_reply(reply: str) -> str:
    """The corrected segment out of a text reply: delimiters the model echoed and anything
    after a blank line (explanations) removed, surrounding quotes stripped."""
    text = _TAGS.sub(" ", reply).strip()
    text = _BLANK_LINE.split(text, maxsplit=1)[0]
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text


def diff_text(tokens: Sequence[str], corrected: str) -> list[Proposal]:
    """Word-level differences between the turn's tokens and a corrected text, as pairs.

    Words are aligned on their keys (case and edge punctuation ignored), so a changed comma
    never misaligns the words around it; within aligned runs, tokens that differ only in
    punctuation or case become punctuation pairs (adjacent ones merged).
    """
    new = corrected.split()
    ka = [key(t) or t for t in tokens]
    kb = [key(t) or t for t in new]
    out: list[Proposal] = []
    ops = difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag != "equal":
            out.append(Proposal(" ".join(tokens[i1:i2]), " ".join(new[j1:j2]), "", (i1, i2)))
            continue
        run: list[int] = []
        for off in range(i2 - i1 + 1):
            differs = off < i2 - i1 and tokens[i1 + off] != new[j1 + off]
            if differs:
                run.append(off)
                continue
            if run:
                a, b = run[0], run[-1] + 1
                out.append(Proposal(" ".join(tokens[i1 + a:i1 + b]), " ".join(new[j1 + a:j1 + b]),
                                    "punctuation", (i1 + a, i1 + b)))
                run = []
    return out
