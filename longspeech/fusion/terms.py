"""Glossary terms offered to the beam search as whole-word continuations Whisper then scores.

A small Whisper often never ranks the right spelling of a rare name among its top-k next
tokens ("Cubernetes" for Kubernetes), so an LLM told the term has nothing to choose. Each word
of the fusion prompt that Whisper spells with two or more tokens is a term. At every step, a
term whose first token Whisper finds within `term_margin` nats of its best candidate is
offered as a continuation of that beam: all the term's tokens at once, with Whisper's
log-probability of every one of them (teacher-forced through the decoder tree), and the LLM's
score of the text including the term. The offer competes with the ordinary candidates under
the same fused score: scored, never forced. In the spirit of contextual biasing and
faster-whisper's hotwords, but nothing is added to the score for being a term.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .beam import Hypothesis, extend
from .options import FusionOptions
from .tree import Node
from .whisper import WhisperAsr, WhisperSteps

WORD = re.compile(r"\w(?:[\w'’.+#-]*[\w+#])?")


@dataclass(frozen=True)
class Term:
    text: str
    tokens: tuple[int, ...]     # Whisper's tokens of " text"


def glossary_terms(asr: WhisperAsr, prompt: str) -> tuple[Term, ...]:
    """The prompt's words that Whisper spells with several tokens, in order of appearance."""
    out: dict[str, Term] = {}
    for word in WORD.findall(prompt):
        if word in out or word.isdigit():
            continue
        ids = tuple(asr.tokenizer.encode(" " + word))
        if len(ids) >= 2:
            out[word] = Term(word, ids)
    return tuple(out.values())


def propose_terms(asr: WhisperAsr, steps: WhisperSteps, live: Sequence[Hypothesis],
                  tips: Sequence[Node], rows: torch.Tensor, terms: Sequence[Term],
                  opts: FusionOptions, r: float) -> list[Hypothesis]:
    """Each live beam followed by each term Whisper finds plausible there (at most
    `opts.term_limit` a step, the likeliest first tokens first)."""
    assert opts.term_margin is not None
    first = torch.tensor([t.tokens[0] for t in terms])
    offers = []
    for i, row in enumerate(rows):
        lps = row[first]
        ok = (lps >= row.max() - opts.term_margin).nonzero()[:, 0].tolist()
        offers += [(float(lps[j]), i, terms[j]) for j in ok]
    offers = sorted(offers, key=lambda o: -o[0])[:opts.term_limit]
    if not offers:
        return []
    paths = []
    for _, i, term in offers:
        nodes = [tips[i]]
        for tok in term.tokens[:-1]:
            nodes.append(steps.tree.child(nodes[-1], tok))
        paths.append(nodes)
    inner = list({id(n): n for p in paths for n in p[1:]}.values())
    later = dict(zip(map(id, inner), steps.logprobs(inner)))
    out = []
    for (lp, i, term), nodes in zip(offers, paths):
        lp += sum(float(later[id(n)][tok]) for n, tok in zip(nodes[1:], term.tokens[1:]))
        h = extend(asr, steps, live[i], term.tokens, lp, nodes[-1], r, opts.score_floor)
        h.pending = h.content      # scored with the term: the reason it is offered
        h.offered = True
        out.append(h)
    return out
