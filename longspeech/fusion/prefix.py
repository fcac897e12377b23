"""The LLM's probability that a hypothesis' bytes begin its continuation of a prompt.

For bytes B tokenised as t_1..t_n (tokenize_from_byte), with A_k the tokens whose bytes
strictly extend bytes(t_k..t_n):

    terms = { log P(t_1..t_k | c) + logsumexp_{v in A_{k+1}} log P(v | c, t_1..t_k) : k = 0..n-1,
              A_{k+1} nonempty }  U  { log P(t_1..t_n | c) }
    log P(B is a prefix) = logsumexp(terms)
    n_adj = n + min(argmax(terms) - |terms| + 2, 0)

Next-token distributions are taken after a repetition penalty over the last `penalty_window`
tokens and division by `temperature`. The paper's code lets that window reach into the prompt;
here it covers the hypothesis only unless `penalize_prompt` is set, because a penalty on prompt
tokens works against the prompt's purpose: with "Glossary: Kubernetes." SmolLM2 scored
" We deployed the service on Kubernetes last week." at -64.4 with prompt tokens penalised and
-40.6 without (-51.3 with no prompt at all). All hypotheses of a beam step are scored with one
model call through a shared token tree (tree.py).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..llm.int8 import int8_copy
from ..llm.registry import LoadedLLM
from ..llm.session import penalize
from .bytes import LlmVocab
from .tree import Node, TreeCache


# Prompts are read in passes of this many tokens (tree.py): a chunk whose prompt grew re-reads
# fewer than this many of the tokens it shares with the last one, and a 1,000-token prompt
# read afresh takes about 13% longer than in one pass (40% with blocks of 64).
PROMPT_BLOCK = 128


@dataclass(frozen=True)
class PrefixScore:
    logprob: float            # log P_LLM(B is a prefix of the continuation | prompt)
    n_tokens: int             # n: tokens of B's own tokenisation
    n_adj: int                # length normaliser
    terms: tuple[float, ...]  # the terms, in the order of the formula


def next_token_logprobs(logits: torch.Tensor, context: Sequence[int], temperature: float,
                        penalty: float) -> torch.Tensor:
    """log P(next | context) as GFD scores it: penalty, then temperature, then softmax."""
    return torch.log_softmax(penalize(logits.float(), context, penalty) / temperature, dim=-1)


def combine_terms(terms: Sequence[float], n: int) -> tuple[float, int]:
    """(logsumexp of the terms, n_adj)."""
    t = torch.tensor(terms, dtype=torch.float64)
    best = int(torch.argmax(t))
    return float(torch.logsumexp(t, dim=0)), n + min(best - len(terms) + 2, 0)


class PrefixScorer:
    """Byte-prefix log-probabilities of many hypotheses under one LLM prompt.

    `reset(prompt)` starts a new prompt (one per chunk); `score(contents)` then scores a batch
    of byte strings, reusing every token already computed for earlier calls.
    """

    def __init__(self, llm: LoadedLLM, vocab: LlmVocab | None = None, *,
                 temperature: float = 1.7, repetition_penalty: float = 2.0,
                 penalty_window: int = 50, penalize_prompt: bool = False,
                 max_prompt_tokens: int | None = None, int8_steps: bool = False,
                 prompt_block: int | None = PROMPT_BLOCK):
        """`int8_steps`: read each prompt in float32 and score hypotheses with an int8 copy
        of the LLM (llm/int8.py; CPU only). `prompt_block`: prompts are read in passes of
        this many tokens (tree.py), so a score never depends on the prompts before."""
        self.llm = llm
        self._steps_model = (int8_copy(llm.model, llm.tokenizer, llm.doc_start_id)
                             if int8_steps else llm.model)
        self.vocab = vocab or LlmVocab.from_tokenizer(llm.tokenizer)
        self.temperature = temperature
        self.penalty = repetition_penalty
        self.window = penalty_window
        self.penalize_prompt = penalize_prompt
        limit = getattr(llm.model.config, "max_position_embeddings", None) or 4096
        # Room for the hypothesis (<= 448 Whisper tokens, usually fewer LLM tokens).
        self.max_prompt_tokens = max_prompt_tokens or max(16, limit - 512)
        self.prompt_block = prompt_block
        self.tree: TreeCache | None = None
        # Keyed by id(node): the tree keeps every node alive while it exists.
        self._dist: dict[int, torch.Tensor] = {}     # next-token log-probs after the node
        self._cum: dict[int, float] = {}             # log P(tokens up to the node)
        self._tokens: dict[bytes, list[int]] = {}
        # Keep distributions of nodes this close (in bytes) to a hypothesis end: the only
        # ones a later, longer hypothesis can need again.
        self._keep_bytes = max(64, 2 * self.vocab.trie.max_len)

    def prompt_ids(self, prompt: str) -> list[int]:
        """Document start + the prompt's tokens (its latest part if too long)."""
        ids = self.vocab.tokenize_from_byte(prompt.encode("utf-8")) if prompt else []
        return [self.llm.doc_start_id] + ids[len(ids) - min(len(ids), self.max_prompt_tokens - 1):]

    def sibling(self) -> PrefixScorer:
        """A scorer over the same LLM (and int8 copy) and settings with a cache of its own,
        so that searches alternating between prompts each keep their prompt's cache."""
        other = copy.copy(self)
        other.tree = None
        other._dist, other._cum, other._tokens = {}, {}, {}
        return other

    def reset(self, prompt: str = "") -> None:
        self._dist.clear()
        self._cum.clear()
        self._tokens.clear()
        model = self.llm.model
        # The previous prompt's cache is reused up to the last block boundary before the first
        # token that differs: a running transcript that only grew costs little more than its
        # new tokens.
        self.tree = TreeCache(_llm_step(model, self._steps_model), self.prompt_ids(prompt),
                              dtype=model.dtype,
                              device=model.device, reuse=self.tree, block=self.prompt_block)
        root = self.tree.root
        self._remember(root, self._process(self.tree.root_logits, root))
        self._cum[id(root)] = 0.0

    def tokens(self, content: bytes) -> list[int]:
        ids = self._tokens.get(content)
        if ids is None:
            ids = self._tokens[content] = self.vocab.tokenize_from_byte(content)
        return ids

    def score(self, contents: Sequence[bytes]) -> list[PrefixScore]:
        if self.tree is None:
            self.reset("")
        tree = self.tree
        assert tree is not None
        tb = self.vocab.token_bytes
        max_len = self.vocab.trie.max_len
        plans = []
        need: dict[int, Node] = {}
        for content in contents:
            ids = self.tokens(content)
            path = [tree.root, *tree.path(ids)]
            # Distributions needed: after t_k for every k with a possibly nonempty A_{k+1}, and
            # after every node whose successor has no cumulative log-prob yet.
            suffix = 0
            for k in range(len(ids) - 1, -1, -1):
                suffix += len(tb[ids[k]] or b"")
                if suffix >= max_len:
                    break
                need.setdefault(id(path[k]), path[k])
            for k in range(1, len(path)):
                if id(path[k]) not in self._cum:
                    need.setdefault(id(path[k - 1]), path[k - 1])
            plans.append((ids, path))
        missing = [n for n in need.values() if id(n) not in self._dist]
        if missing:
            logits = tree.compute(missing)
            for n in missing:
                self._remember(n, self._process(logits[id(n)], n))
        results = [self._terms(ids, path) for ids, path in plans]
        self._forget([path for _, path in plans])
        return results

    # -- internals ----------------------------------------------------------------------
    def _context(self, node: Node) -> list[int]:
        """The last `window` tokens up to and including `node` that the penalty covers."""
        assert self.tree is not None
        out: list[int] = []
        while node.parent is not None and len(out) < self.window:
            out.append(node.token)
            node = node.parent
        out.reverse()
        rest = self.window - len(out)
        if not self.penalize_prompt or rest <= 0:
            return out
        return self.tree.prompt[-rest:] + out

    def _process(self, logits: torch.Tensor, node: Node) -> torch.Tensor:
        return next_token_logprobs(logits, self._context(node), self.temperature, self.penalty)

    def _remember(self, node: Node, dist: torch.Tensor) -> None:
        self._dist[id(node)] = dist

    def _terms(self, ids: list[int], path: list[Node]) -> PrefixScore:
        tb = self.vocab.token_bytes
        for k in range(1, len(path)):
            key = id(path[k])
            if key not in self._cum:
                self._cum[key] = (self._cum[id(path[k - 1])]
                                  + float(self._dist[id(path[k - 1])][ids[k - 1]]))
        n = len(ids)
        partial: list[float] = []
        suffix = b""
        for k in range(n - 1, -1, -1):
            suffix = (tb[ids[k]] or b"") + suffix
            if len(suffix) >= self.vocab.trie.max_len:
                break
            alt = self.vocab.trie.extensions(suffix)
            if len(alt):
                dist = self._dist[id(path[k])]
                partial.append(self._cum[id(path[k])]
                               + float(torch.logsumexp(dist[alt.to(dist.device)], dim=0)))
        terms = [*reversed(partial), self._cum[id(path[n])]]
        logprob, n_adj = combine_terms(terms, n)
        return PrefixScore(logprob, n, n_adj, tuple(terms))

    def _forget(self, paths: list[list[Node]]) -> None:
        """Drop distributions far (in bytes) from the end of every hypothesis just scored."""
        assert self.tree is not None
        keep = {id(self.tree.root)}
        tb = self.vocab.token_bytes
        for path in paths:
            dist = 0
            for node in reversed(path):
                keep.add(id(node))
                dist += len(tb[node.token] or b"") if node.parent is not None else 0
                if dist > self._keep_bytes:
                    break
        for key in [k for k in self._dist if k not in keep]:
            del self._dist[key]


def _llm_step(model: Any, steps_model: Any):
    """The prompt (no mask) runs through `model`, hypothesis steps through `steps_model`."""
    def step(ids: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor | None,
             cache: Any) -> tuple[torch.Tensor, Any]:
        with torch.inference_mode():
            out = (model if mask is None else steps_model)(input_ids=ids, position_ids=pos, attention_mask=mask,
                        past_key_values=cache, use_cache=True,
                        logits_to_keep=1 if mask is None else 0)
        return out.logits[0], out.past_key_values

    return step


def clip(x: float, floor: float) -> float:
    """x, or floor when x is below it or not a number."""
    return x if x > floor else floor


__all__ = ["PrefixScore", "PrefixScorer", "clip", "combine_terms", "next_token_logprobs",
           "penalize"]
