"""Cascade answering: a transcript (with times and speakers when known) given to a text LLM.

A transcript longer than the LLM's context is cut down to the lines that share the most
words with the question (and their neighbours), kept in time order: a small LLM reading an
hour of text answers from the passage that matters or not at all.
"""

from __future__ import annotations

import re
from collections import Counter

from ..llm import LoadedLLM, generate
from ..types import Transcript

_WORD = re.compile(r"[a-z0-9']+")
# words too common to say which line a question is about
_STOP = frozenset("""a an the and or but of to in on at for by with from as is are was were be
been being do does did what who whom whose which when where why how this that these those it
its he she they we you i his her their our your my me him them us there here has have had not
no yes so if then than about into over after before during s""".split())

CASCADE_SYSTEM = ("You answer questions about a recording from its transcript. Answer briefly, "
                  "using only what the transcript says.")


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


def terms(text: str) -> list[str]:
    """The words of `text` that can tell passages apart (lower case, no stop words)."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def relevant_lines(lines: list[str], question: str, budget: int, count) -> list[str]:
    """The lines (in their order) that best match the question within `budget` tokens, as
    measured by `count(line)`: lines ranked by the question words they hold, rarer words
    weighing more, each taken with its neighbours for context."""
    q = set(terms(question))
    df = Counter(t for line in lines for t in set(terms(line)))
    score = [sum(1.0 / df[t] for t in set(terms(line)) & q) for line in lines]
    keep: set[int] = set()
    used = 0
    for i in sorted(range(len(lines)), key=lambda i: (-score[i], i)):
        if score[i] == 0 and keep:
            break
        for j in (i, i - 1, i + 1):
            if 0 <= j < len(lines) and j not in keep:
                cost = count(lines[j]) + 1
                if used + cost > budget:
                    continue
                keep.add(j)
                used += cost
    return [lines[i] for i in sorted(keep)]


def cascade_messages(transcript: Transcript | str, question: str,
                     budget: int | None = None, count=None) -> list[dict[str, str]]:
    """The chat the LLM answers: the transcript, then the question. With a token `budget`
    (and a `count` of a line's tokens) a longer transcript keeps only its relevant lines."""
    text = transcript if isinstance(transcript, str) else format_transcript(transcript)
    if budget is not None and count is not None and count(text) > budget:
        text = "\n".join(relevant_lines(text.splitlines(), question, budget, count))
    return [{"role": "system", "content": CASCADE_SYSTEM},
            {"role": "user", "content": f"Transcript:\n{text}\n\nQuestion: {question}"}]


def transcript_budget(llm: LoadedLLM, question: str, max_new_tokens: int) -> int:
    """Tokens left for the transcript in the LLM's context after the prompt and the answer."""
    limit = getattr(llm.model.config, "max_position_embeddings", None) or 2048
    overhead = len(llm.tokenizer(CASCADE_SYSTEM + question).input_ids) + 64
    return max(64, int(limit) - overhead - max_new_tokens)


def answer_from_transcript(llm: LoadedLLM, transcript: Transcript | str, question: str,
                           max_new_tokens: int = 64, budget: int | None = None) -> str:
    """Greedy answer of the LLM given the transcript (fitted to its context) and the question."""
    def count(text: str) -> int:
        return len(llm.tokenizer(text, add_special_tokens=False).input_ids)

    budget = budget if budget is not None else transcript_budget(llm, question, max_new_tokens)
    return generate(llm, cascade_messages(transcript, question, budget, count),
                    max_new_tokens=max_new_tokens)
