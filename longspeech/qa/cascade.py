"""Cascade answering: a transcript (with times and speakers when known) given to a text LLM.

By default the LLM reads only the line BM25 ranks best for the question (retrieval.py; among
lines about as relevant, one holding a name or number where the question asks for one), and
the line after it when that line is itself a question, and is asked to copy the words that
answer it: on ten fact questions over a meeting's lines, the embedded 135M model answered 9
from the best line alone and 5 from the best three. With
`passages=0` it reads as much of the transcript as fits its context: the lines ranked best
(and their neighbours), kept in time order.
"""

from __future__ import annotations

import re

from ..llm import LoadedLLM
from ..types import Transcript
from .answer_kind import LINE_HEAD
from .retrieval import answer_lines, relevant_lines

CASCADE_SYSTEM = ("You answer questions about a recording from its transcript. Answer with the "
                  "exact words of the transcript that answer the question, and nothing else.")
_BLANK_LINE = re.compile(r"\n\s*\n")


def clock(seconds: float) -> str:
    """83.4 -> '01:23', 3723 -> '1:02:03'."""
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def format_transcript(transcript: Transcript) -> str:
    """One line per segment: '[01:23] spk0: text' (the speaker only when known)."""
    lines = []
    for seg in transcript.segments:
        who = f" {seg.speaker}:" if seg.speaker else ""
        text = " ".join(seg.text.split())
        if text:
            lines.append(f"[{clock(seg.start)}]{who} {text}")
    return "\n".join(lines)


def cascade_messages(transcript: Transcript | str, question: str,
                     budget: int | None = None, count=None,
                     passages: int = 0) -> list[dict[str, str]]:
    """The chat the LLM answers: the transcript, then the question. passages > 0: only that
    many lines, those BM25 ranks best (in time order). Otherwise, with a token `budget` (and
    a `count` of a line's tokens), a longer transcript keeps only its relevant lines."""
    text = transcript if isinstance(transcript, str) else format_transcript(transcript)
    lines = text.splitlines()
    best = answer_lines(lines, question, passages) if passages > 0 else []
    if best:
        text = "\n".join(lines[i] for i in best)
    elif budget is not None and count is not None and count(text) > budget:
        text = "\n".join(relevant_lines(lines, question, budget, count))
    return [{"role": "system", "content": CASCADE_SYSTEM},
            {"role": "user", "content": f"Transcript:\n{text}\n\nQuestion: {question}"}]


def transcript_budget(llm: LoadedLLM, question: str, max_new_tokens: int) -> int:
    """Tokens left for the transcript in the LLM's context after the prompt and the answer."""
    limit = getattr(llm.model.config, "max_position_embeddings", None) or 2048
    overhead = len(llm.tokenizer(CASCADE_SYSTEM + question).input_ids) + 64
    return max(64, int(limit) - overhead - max_new_tokens)


def clean_answer(reply: str) -> str:
    """The answer out of a reply: up to its first blank line (a small model goes on with
    another "Question:"), without a copied "[01:23] SPEAKER_00:" line head."""
    text = _BLANK_LINE.split(reply.strip(), maxsplit=1)[0]
    return " ".join(LINE_HEAD.sub("", text, count=1).split()) or " ".join(text.split())


def answer_from_transcript(llm: LoadedLLM, transcript: Transcript | str, question: str,
                           max_new_tokens: int = 64, budget: int | None = None,
                           passages: int = 1) -> str:
    """Greedy answer of the LLM given the transcript's best `passages` lines (0: as much of
    it as fits its context) and the question."""
    def count(text: str) -> int:
        return len(llm.tokenizer(text, add_special_tokens=False).input_ids)

    from ..llm import generate_many

    budget = budget if budget is not None else transcript_budget(llm, question, max_new_tokens)
    msgs = cascade_messages(transcript, question, budget, count, passages)
    reply = generate_many(llm, [msgs], [max_new_tokens],
                          complete=lambda text: bool(_BLANK_LINE.search(text)))[0]
    return clean_answer(reply)
