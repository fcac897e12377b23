"""Fused beam search (GFD) over one chunk, and the same search without the LLM.

Rules (as the paper's code): a greedy first token; then, for each unfinished beam, Whisper's
top-k next tokens, keeping only EOT when it is top-1 and dropping it otherwise; scores are
asr = cumulative log-prob / #tokens and llm = byte-prefix log-prob / n_adj, each floored, fused
as (1 - r) * asr + r * llm. The LLM scores a beam ONCE on its current text, without the
candidate token (the delayed term), and all its children share that score. Finished beams
carry over; the best `beams` survive; the search stops when all have ended (EOT, or past the
decoder's 448 positions or the chunk's cap, WhisperSteps.limit) or their lengths differ by
more than `max_len_diff`.

Additions of this project, each off when its option is None:
- `acoustic_margin` (m): where Whisper is sure, the LLM has nothing to overrule. The LLM
  reorders only the hypotheses whose Whisper score per token is within m of the pool's best;
  the others rank after them by Whisper alone. m = 0 is the plain search, no m the paper's
  fusion. The search explores exactly what the plain one does.
- glossary terms (terms.py) are offered as whole-word continuations that Whisper scores.
The LLM is asked only when its scores can change which hypotheses survive (more of them in
the margin than beams) and once at the end to rank the survivors; skipped steps are scored
by the next call, which computes their tokens too.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
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
    llm_score: float | None       # the LLM's, or the last known one along the beam
    finished: bool
    parent: Node                  # decoder tree node the last token hangs from
    pending: bytes | None = None  # text whose LLM score this hypothesis still waits for
    offered: bool = False         # holds a glossary term offered to the search


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
    guarded: bool = False         # the plain search's result, kept by the segment guard
    respelled: list = field(default_factory=list)   # glossary respellings kept (asr/respell.py)

    @property
    def asr_score(self) -> float:
        """Whisper's mean log-prob per token of the best beam (EOT included)."""
        return self.beams[0].asr_score


def candidates(top: Sequence[tuple[int, float]], eot: int) -> list[tuple[int, float]]:
    """Of the top-k (token, log-prob), best first: only EOT if it ranks first, never EOT
    otherwise."""
    if top[0][0] == eot:
        return list(top[:1])
    return [p for p in top if p[0] != eot]


def _start(asr: WhisperAsr, steps: WhisperSteps) -> Hypothesis:
    tok, lp = steps.first()
    finished = tok == asr.eot or steps.prefix_len + 1 > steps.limit
    return Hypothesis((tok,), asr.token_bytes[tok], lp, lp, lp, None, finished, steps.tree.root)


def extend(asr: WhisperAsr, steps: WhisperSteps, b: Hypothesis, tokens: tuple[int, ...],
           logprob: float, parent: Node, r: float, floor: float) -> Hypothesis:
    """`b` followed by `tokens` (Whisper log-prob `logprob` together); its LLM score is the
    delayed one, b's text, still to compute (ranked meanwhile with b's last known one)."""
    n = len(b.tokens) + len(tokens)
    cum = b.asr_logprob + logprob
    a = clip(cum / n, floor)
    known = b.llm_score
    return Hypothesis(b.tokens + tokens,
                      b.content + b"".join(asr.token_bytes[t] for t in tokens), cum,
                      (1 - r) * a + r * (floor if known is None else known), a, known,
                      tokens[-1] == asr.eot or steps.prefix_len + n > steps.limit, parent,
                      b.content, b.offered)


def _done(beams: Sequence[Hypothesis], max_len_diff: int) -> bool:
    lengths = [len(b.tokens) for b in beams]
    return max(lengths) - min(lengths) > max_len_diff or all(b.finished for b in beams)


def _unique(pool: list[Hypothesis]) -> list[Hypothesis]:
    """One hypothesis per token sequence (a glossary term can be reached two ways)."""
    return list({h.tokens: h for h in reversed(pool)}.values())[::-1]


def _result(asr: WhisperAsr, beams: list[Hypothesis], steps: int) -> DecodeResult:
    best = beams[0]
    tokens = [t for t in best.tokens if t < asr.eot]
    return DecodeResult(tokens, asr.text(tokens), best.score, best.asr_logprob, best.llm_score,
                        steps, beams)


def _best(pool: list[Hypothesis], beams: int) -> list[Hypothesis]:
    return sorted(pool, key=lambda h: h.score, reverse=True)[:beams]


def _in_margin(pool: list[Hypothesis], opts: FusionOptions) -> list[bool]:
    """Which hypotheses the LLM may reorder: Whisper's score within the acoustic margin of
    the best (within the glossary margin for those holding an offered term)."""
    if opts.acoustic_margin is None:
        return [True] * len(pool)
    best = max(h.asr_score for h in pool)
    wide = max(opts.acoustic_margin, opts.glossary_margin or 0.0)
    return [h.asr_score >= best - (wide if h.offered else opts.acoustic_margin) for h in pool]


def _rank(pool: list[Hypothesis], beams: int, scorer: PrefixScorer, opts: FusionOptions,
          final: bool = False) -> list[Hypothesis]:
    """The best `beams`: those in the margin by fused score, then the rest by Whisper's. The
    LLM is asked only when its scores decide something (always at the end)."""
    inside = _in_margin(pool, opts)
    chosen = [h for h, i in zip(pool, inside) if i]
    if final or len(chosen) > beams:
        _fuse(chosen, scorer, opts.weight, opts.score_floor)
    rest = sorted((h for h, i in zip(pool, inside) if not i), key=lambda h: h.asr_score,
                  reverse=True)
    return (_best(chosen, beams) + rest)[:beams]


# A search step by step: it yields (tips, whether it needs their full log-prob rows) and is
# sent those rows (None when it reads only the remembered top-k); it returns its result.
Search = Generator[tuple[list[Node], bool], torch.Tensor | None, DecodeResult]


def run_searches(steps: WhisperSteps, searches: Sequence[Search]) -> list[DecodeResult]:
    """Run searches over one chunk's decoder tree side by side: every step's decoder work of
    all of them is one model call. A call costs about as much for 15 rows as for 5 (it is
    dominated by reading the weights, the 51,864-token output projection most), so the
    guard's plain search beside the fused one costs little."""
    results: dict[int, DecodeResult] = {}
    asks: dict[int, tuple[list[Node], bool]] = {}

    def advance(i: int, sent: torch.Tensor | None) -> None:
        try:
            asks[i] = searches[i].send(sent)
        except StopIteration as stop:
            results[i] = stop.value
            asks.pop(i, None)

    for i in range(len(searches)):
        advance(i, None)
    while asks:
        nodes = [n for tips, full in asks.values() for n in tips
                 if full or not steps.remembers(n)]
        rows = steps.logprobs(nodes) if nodes else None
        at = {id(n): k for k, n in enumerate(nodes)}
        for i, (tips, full) in list(asks.items()):
            # a search that needs rows put all its tips in `nodes`, so rows exist
            advance(i, rows[[at[id(n)] for n in tips]] if full and rows is not None else None)
    return [results[i] for i in range(len(searches))]


def plain_search(asr: WhisperAsr, steps: WhisperSteps, *, beams: int = 5,
                 candidates_k: int = 5, max_len_diff: int = 20, floor: float = -1e5) -> Search:
    """The same beam rules ranked by the ASR score alone (GFD's baseline)."""
    current = [_start(asr, steps)]
    n_steps = 0
    while not _done(current, max_len_diff):
        live = [b for b in current if not b.finished]
        tips = [steps.tree.child(b.parent, b.tokens[-1]) for b in live]
        yield tips, False
        pool = [b for b in current if b.finished]
        for b, tip, top in zip(live, tips, steps.top(tips, candidates_k)):
            pool += [extend(asr, steps, b, (tok,), lp, tip, 0.0, floor)
                     for tok, lp in candidates(top, asr.eot)]
        current = _best(pool, beams)
        n_steps += 1
    return _result(asr, current, n_steps)


def plain_beam_search(asr: WhisperAsr, encoder_out: torch.Tensor, prefix: Sequence[int], *,
                      beams: int = 5, candidates_k: int = 5, max_len_diff: int = 20,
                      floor: float = -1e5, steps: WhisperSteps | None = None) -> DecodeResult:
    """Plain beam search over one chunk. `steps`: a chunk decoder already used by another
    search of this chunk, whose work is reused."""
    steps = steps or WhisperSteps(asr, encoder_out, prefix)
    return run_searches(steps, [plain_search(asr, steps, beams=beams, candidates_k=candidates_k,
                                             max_len_diff=max_len_diff, floor=floor)])[0]


def _fuse(pool: list[Hypothesis], scorer: PrefixScorer, r: float, floor: float) -> None:
    """Give every hypothesis still waiting its LLM score (one model call) and fused score."""
    waiting = [h for h in pool if h.pending is not None]
    if not waiting:
        return
    texts = list(dict.fromkeys(h.pending for h in waiting))
    scores = dict(zip(texts, scorer.score(texts)))
    for h in waiting:
        ls = scores[h.pending]
        h.llm_score = clip(ls.logprob / ls.n_adj, floor) if ls.n_adj > 0 else floor
        h.score = (1 - r) * h.asr_score + r * h.llm_score
        h.pending = None


def fused_search(asr: WhisperAsr, steps: WhisperSteps, scorer: PrefixScorer,
                 opts: FusionOptions, beams: int = 5, terms: Sequence = (),
                 propose: Callable[..., list[Hypothesis]] | None = None) -> Search:
    """GFD on one chunk; `scorer` must have been reset to this chunk's LLM prompt. `terms`:
    glossary terms (terms.Term) that `propose` (terms.propose_terms) offers as continuations
    when `opts.term_margin` is set."""
    r, floor = opts.weight, opts.score_floor
    first = _start(asr, steps)
    first.llm_score = floor
    first.score = (1 - r) * clip(first.asr_score, floor) + r * floor
    current = [first]
    n_steps = 0
    calls0 = scorer.tree.forwards if scorer.tree else 0
    tokens0 = scorer.tree.computed_tokens if scorer.tree else 0
    while not _done(current, opts.max_len_diff):
        live = [b for b in current if not b.finished]
        tips = [steps.tree.child(b.parent, b.tokens[-1]) for b in live]
        rows = yield tips, True
        assert rows is not None
        pool = [b for b in current if b.finished]
        for b, tip, row in zip(live, tips, rows):
            vals, ids = row.topk(opts.candidates)
            pool += [extend(asr, steps, b, (tok,), lp, tip, r, floor)
                     for tok, lp in candidates(list(zip(ids.tolist(), vals.tolist())), asr.eot)]
        if terms and propose is not None and opts.term_margin is not None:
            pool += propose(asr, steps, live, tips, rows, terms, opts, r)
        current = _rank(_unique(pool), beams, scorer, opts)
        n_steps += 1
    current = _rank(current, beams, scorer, opts, final=True)
    res = _result(asr, current, n_steps)
    assert scorer.tree is not None
    res.llm_calls = scorer.tree.forwards - calls0
    res.llm_tokens = scorer.tree.computed_tokens - tokens0
    return res


def fused_beam_search(asr: WhisperAsr, encoder_out: torch.Tensor, prefix: Sequence[int],
                      scorer: PrefixScorer, opts: FusionOptions, beams: int = 5, *,
                      steps: WhisperSteps | None = None, terms: Sequence = (),
                      propose: Callable[..., list[Hypothesis]] | None = None) -> DecodeResult:
    """fused_search over one chunk, alone."""
    steps = steps or WhisperSteps(asr, encoder_out, prefix)
    return run_searches(steps, [fused_search(asr, steps, scorer, opts, beams, terms,
                                             propose)])[0]
