"""A prefix-keyed KV cache for many hypotheses: one batch row holding a token tree.

Beam hypotheses share long prefixes and differ near their ends. Instead of one cache row per
hypothesis (copied and reordered every step), all hypotheses live in a single row: each token
is computed once, as a node whose key/value entry is appended to the cache, and attends only to
the prompt and its own ancestors (a 4-D attention mask; positions follow the node's depth).
A step forwards just the new nodes of every hypothesis together, so the model runs once per
step, whatever the number of beams, and nothing is ever copied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

# step(input_ids (1, q), position_ids (1, q), mask (1, 1, q, kv) or None, cache)
#   -> (logits (q, V), cache)
StepFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None, Any], tuple[torch.Tensor, Any]]


class Node:
    """One token of the tree: its cache slot (or -1 until computed) and its children."""

    __slots__ = ("token", "parent", "depth", "slot", "children")

    def __init__(self, token: int, parent: Node | None, depth: int):
        self.token = token
        self.parent = parent
        self.depth = depth
        self.slot = -1
        self.children: dict[int, Node] = {}

    @property
    def computed(self) -> bool:
        return self.slot >= 0

    def tokens(self) -> list[int]:
        """Tokens from the first one after the prompt down to this node."""
        out, node = [], self
        while node.parent is not None:
            out.append(node.token)
            node = node.parent
        return out[::-1]


class TreeCache:
    """Token tree over a fixed prompt, backed by one growing KV cache (batch of one).

    `root` stands for the prompt's last token; `root_logits` are the logits after the prompt.
    """

    def __init__(self, step: StepFn, prompt: Sequence[int], dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu", reuse: TreeCache | None = None,
                 block: int | None = None):
        """`reuse`: a tree of the same model to take over; the part of its cache that holds
        a common prompt prefix is kept (its hypotheses are dropped), the rest is computed.

        `block`: read the prompt in passes that end at multiples of `block` tokens, and keep
        a reused cache only up to such a multiple. A token's keys and values then come from
        the same pass over the same tokens whatever the tree read before, so scores do not
        depend on it (a pass over other rows rounds differently, and int8 steps turn such
        last-bit differences into tenths of a nat). Without it the prompt is one pass."""
        if not prompt:
            raise ValueError("the tree needs a prompt of at least one token")
        self._step = step
        self.dtype = dtype
        self.device = torch.device(device)
        self.prompt = list(prompt)
        n = len(self.prompt)
        start, cache = 0, None
        if reuse is not None and reuse.prompt == self.prompt and reuse._cache is not None:
            # the same prompt (the next chunk without new context): nothing to compute
            if reuse.length > n:
                reuse._cache.crop(n - reuse.length)
            self._cache, self.root_logits = reuse._cache, reuse.root_logits
            reuse._cache = None
            self._root(n, forwards=0, computed=0)
            return
        if reuse is not None:
            common = 0
            for a, b in zip(reuse.prompt, self.prompt):
                if a != b:
                    break
                common += 1
            start = min(common, n - 1)    # forward at least the last token: its logits
            if block:
                start -= start % block
            if start > 0:
                cache = reuse._cache
                cache.crop(-(reuse.length - start))
            reuse._cache = None
        ends = [n] if not block else [*range(start + block, n, block), n]   # start: aligned
        at = start
        for end in ends:
            ids = torch.tensor([self.prompt[at:end]], device=self.device)
            pos = torch.arange(at, end, device=self.device)[None]
            logits, cache = step(ids, pos, None, cache)
            at = end
        self._cache = cache
        self.root_logits = logits[-1]
        self._root(n, forwards=len(ends), computed=n - start)

    def _root(self, n: int, forwards: int, computed: int) -> None:
        self.root = Node(self.prompt[-1], None, 0)
        self.root.slot = n - 1
        self.length = n          # entries in the cache
        self.forwards = forwards   # model calls so far (for benchmarks)
        self.computed_tokens = computed
        self.reused_tokens = n - computed

    @property
    def prompt_len(self) -> int:
        return len(self.prompt)

    def child(self, node: Node, token: int) -> Node:
        """The node for `token` after `node` (created, not yet computed, if new)."""
        c = node.children.get(token)
        if c is None:
            c = node.children[token] = Node(token, node, node.depth + 1)
        return c

    def path(self, tokens: Sequence[int]) -> list[Node]:
        """Nodes for tokens t_1..t_n after the prompt (created as needed)."""
        out, node = [], self.root
        for t in tokens:
            node = self.child(node, t)
            out.append(node)
        return out

    def compute(self, nodes: Sequence[Node]) -> dict[int, torch.Tensor]:
        """Logits after each of `nodes` (keyed by id(node)), in one model call.

        Uncomputed ancestors are computed on the way. A node computed earlier is evaluated
        again as a duplicate entry (same token, position and ancestors): callers that keep
        what they need never pay for this, but it keeps the method total.
        """
        order: list[Node] = []       # nodes to forward, parents before children
        seen: set[int] = set()
        wanted: list[tuple[Node, Node]] = []   # (requested node, forwarded node standing for it)

        def add_pending(node: Node) -> None:
            chain = []
            while node is not None and not node.computed and id(node) not in seen:
                chain.append(node)
                node = node.parent
            for n in reversed(chain):
                seen.add(id(n))
                order.append(n)

        for node in nodes:
            if node is self.root:
                continue
            if node.computed:
                dup = Node(node.token, node.parent, node.depth)
                order.append(dup)
                wanted.append((node, dup))
            else:
                add_pending(node)
                wanted.append((node, node))
        out: dict[int, torch.Tensor] = {}
        if any(n is self.root for n in nodes):
            out[id(self.root)] = self.root_logits
        if not order:
            return out
        q, base, p = len(order), self.length, self.prompt_len
        new_slot = {id(n): base + i for i, n in enumerate(order)}
        mask = torch.full((q, base + q), torch.finfo(self.dtype).min, dtype=self.dtype)
        mask[:, :p] = 0
        for i, n in enumerate(order):
            cols = [base + i]
            a = n.parent
            while a is not None and a is not self.root:
                cols.append(a.slot if a.computed else new_slot[id(a)])
                a = a.parent
            mask[i, cols] = 0
        ids = torch.tensor([[n.token for n in order]], device=self.device)
        pos = torch.tensor([[p - 1 + n.depth for n in order]], device=self.device)
        logits, self._cache = self._step(ids, pos, mask[None, None].to(self.device), self._cache)
        for i, n in enumerate(order):
            n.slot = base + i
        self.length += q
        self.forwards += 1
        self.computed_tokens += q
        row = {id(n): i for i, n in enumerate(order)}
        for node, fwd in wanted:
            out[id(node)] = logits[row[id(fwd)]]
        return out
