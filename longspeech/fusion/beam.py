"""Fused beam search (GFD) over one chunk, and the same search without the LLM.

Rules (as the paper's code): a greedy first token; then, for each unfinished beam, Whisper's
top-k next tokens, keeping only EOT when it is top-1 and dropping it otherwise; scores are
asr = cumulative log-prob / #tokens and llm = byte-prefix log-prob / n_adj, each floored, fused
as (1 - r) * asr + r * llm. The LLM scores a beam ONCE on its current text, without the
candidate token (the delayed term), and all its children share that score. Finished beams
carry over; the best `beams` survive; the search stops when all have ended (EOT or past the
decoder's 448 positions) or their lengths differ by more than `max_len_diff`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .options import FusionOptions
from .prefix import PrefixScorer, clip
from .tree import Node
from .whisper import WhisperAsr, WhisperSteps


@dataclass
class Hypothesis:
    tokens: tuple[int, ...]       # generated tokens (the last may be EOT)
    content: bytes                # their bytes (what the LLM scores)
    asr_logprob: float            # cumulative Whisper log-prob
    score: float                  # fused score (the ASR score alone without an LLM)
    asr_score: float
    llm_score: float | None
    finished: bool
    parent: Node                  # decoder tree node the last token hangs from


@dataclass
class DecodeResult:
    tokens: list[int]             # text tokens of the best beam (EOT removed)
    text: str
    score: float
    asr_logprob: float
    llm_score: float | None
    steps: int
    beams: list[Hypothesis] = field(default_factory=list)   # final beam set, best first
    llm_calls: int = 0
    llm_tokens: int = 0


def candidates(row: torch.Tensor, k: int, eot: int) -> list[tuple[int, float]]:
    """Top-k (token, log-prob); only EOT if it ranks first, never EOT otherwise."""
    vals, ids = row.topk(k)
    pairs = list(zip(ids.tolist(), vals.tolist()))
    if pairs[0][0] == eot:
        return pairs[:1]
    return [p for p in pairs if p[0] != eot]


def _start(asr: WhisperAsr, steps: WhisperSteps, prefix_len: int) -> Hypothesis:
    tok, lp = steps.first()
    finished = tok == asr.eot or prefix_len + 1 > asr.max_len
    return Hypothesis((tok,), asr.token_bytes[tok], lp, lp, lp, None, finished, steps.tree.root)


def _done(beams: Sequence[Hypothesis], max_len_diff: int) -> bool:
    lengths = [len(b.tokens) for b in beams]
    return max(lengths) - min(lengths) > max_len_diff or all(b.finished for b in beams)


def _result(asr: WhisperAsr, beams: list[Hypothesis], steps: int) -> DecodeResult:
    best = beams[0]
    tokens = [t for t in best.tokens if t < asr.eot]
    return DecodeResult(tokens, asr.text(tokens), best.score, best.asr_logprob, best.llm_score,
                        steps, beams)


def plain_beam_search(asr: WhisperAsr, encoder_out: torch.Tensor, prefix: Sequence[int], *,
                      beams: int = 5, candidates_k: int = 5, max_len_diff: int = 20,
                      floor: float = -1e5) -> DecodeResult:
    """The same beam rules ranked by the ASR score alone (GFD's baseline)."""
    steps = WhisperSteps(asr, encoder_out, prefix)
    current = [_start(asr, steps, len(prefix))]
    n_steps = 0
    while not _done(current, max_len_diff):
        live = [b for b in current if not b.finished]
        tips = [steps.tree.child(b.parent, b.tokens[-1]) for b in live]
        rows = steps.logprobs(tips)
        pool = [b for b in current if b.finished]
        for b, tip, row in zip(live, tips, rows):
            for tok, lp in candidates(row, candidates_k, asr.eot):
                n = len(b.tokens) + 1
                cum = b.asr_logprob + lp
                s = clip(cum / n, floor)
                pool.append(Hypothesis(b.tokens + (tok,), b.content + asr.token_bytes[tok], cum,
                                       s, s, None,
                                       tok == asr.eot or len(prefix) + n > asr.max_len, tip))
        current = sorted(pool, key=lambda h: h.score, reverse=True)[:beams]
        n_steps += 1
    return _result(asr, current, n_steps)


def fused_beam_search(asr: WhisperAsr, encoder_out: torch.Tensor, prefix: Sequence[int],
                      scorer: PrefixScorer, opts: FusionOptions, beams: int = 5) -> DecodeResult:
    """GFD on one chunk; `scorer` must have been reset to this chunk's LLM prompt."""
    r, floor = opts.weight, opts.score_floor
    steps = WhisperSteps(asr, encoder_out, prefix)
    first = _start(asr, steps, len(prefix))
    first.llm_score = floor
    first.score = (1 - r) * clip(first.asr_score, floor) + r * floor
    current = [first]
    n_steps = 0
    calls0 = scorer.tree.forwards if scorer.tree else 0
    tokens0 = scorer.tree.computed_tokens if scorer.tree else 0
    while not _done(current, opts.max_len_diff):
        live = [b for b in current if not b.finished]
        tips = [steps.tree.child(b.parent, b.tokens[-1]) for b in live]
        rows = steps.logprobs(tips)
        llm = scorer.score([b.content for b in live])
        pool = [b for b in current if b.finished]
        for b, tip, row, ls in zip(live, tips, rows, llm):
            llm_score = clip(ls.logprob / ls.n_adj, floor) if ls.n_adj > 0 else floor
            for tok, lp in candidates(row, opts.candidates, asr.eot):
                n = len(b.tokens) + 1
                cum = b.asr_logprob + lp
                a = clip(cum / n, floor)
                pool.append(Hypothesis(b.tokens + (tok,), b.content + asr.token_bytes[tok], cum,
                                       (1 - r) * a + r * llm_score, a, llm_score,
                                       tok == asr.eot or len(prefix) + n > asr.max_len, tip))
        current = sorted(pool, key=lambda h: h.score, reverse=True)[:beams]
        n_steps += 1
    res = _result(asr, current, n_steps)
    assert scorer.tree is not None
    res.llm_calls = scorer.tree.forwards - calls0
    res.llm_tokens = scorer.tree.computed_tokens - tokens0
    return res
