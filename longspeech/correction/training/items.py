"""Training items in the paper's formats, built with the prompts the corrector asks with.

Every recognised utterance gives four items: segment context (the first turn carries only the
utterance) or full-text context (the first turn carries the utterances around it, and the
turns before it in that text come with their corrected answers, as the corrector's history
does); and as target the corrected text or the JSON pairs. Utterances Whisper got right are
kept: a corrector must learn to change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from .. import prompts
from ..error_pairs import ErrorPair, error_pairs, written_reference

FORMATS = ("text", "pairs")
CONTEXTS = ("segment", "full")
HISTORY = 2     # earlier turns of the full text kept in an item's conversation


def target(fmt: str, hypothesis: str, reference: str) -> str:
    """What the corrector should answer for this utterance in format `fmt`: the spoken
    reference as it should be written (numbers kept as Whisper wrote them), or the pairs
    that make it."""
    written = written_reference(hypothesis, reference)
    if fmt == "text":
        return written
    return json.dumps([p.as_pair() for p in error_pairs(hypothesis, written)])


def _messages(fmt: str, context: str, history: Sequence[tuple[str, str]], segment: str
              ) -> list[dict[str, str]]:
    return prompts.conversation(fmt, context, False, history, segment, use_examples=False)


def training_items(rows: Sequence[dict], full_text: int) -> Iterator[dict]:
    """Items for utterance rows (id, model, hypothesis, reference, errors), in order."""
    by_model: dict[str, list[dict]] = {}
    for r in rows:
        by_model.setdefault(r["model"], []).append(r)
    for model, group in by_model.items():
        for start in range(0, len(group), max(1, full_text)):
            window = group[start:start + max(1, full_text)]
            context = " ".join(r["hypothesis"] for r in window)
            for k, r in enumerate(window):
                hyp, ref = r["hypothesis"], r["reference"]
                kinds = sorted({ErrorPair(**e).error for e in r["errors"]})
                for fmt in FORMATS:
                    history = [(w["hypothesis"], target(fmt, w["hypothesis"], w["reference"]))
                               for w in window[max(0, k - HISTORY):k]]
                    for ctx, msgs in (("segment", _messages(fmt, hyp, [], hyp)),
                                      ("full", _messages(fmt, context, history, hyp))):
                        yield {"id": r["id"], "model": model, "context": ctx, "format": fmt,
                               "messages": msgs, "target": target(fmt, hyp, ref),
                               "errors": kinds}
