"""Replies decoded over one shared prompt cache without a copy of it per reply.

Several replies to prompts with a long common beginning (a transcript, the earlier turns)
would each need their own copy of that beginning's key/value cache, and every decoding step
would then read all copies and copy them again as each cache grows by one token. Here the
common part is kept once: each layer scores the queries of all replies against its keys in
one matrix product, scores each reply's own tokens (kept in a buffer written in place) apart,
and one softmax spans both. A step over a 1,500-token prompt then costs about what it costs
for a short one. Only attention is changed, so a reply is the one plain attention gives.

It plugs into transformers as an attention implementation that handles `SplitKV` keys (what
`SharedPrefixCache.update` returns) and hands ordinary ones to the model's own attention, with
a ready 4-D mask over the replies' own tokens (transformers passes such a mask through).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

# Architectures whose attention hands the cache's keys and values to the attention function
# as returned, with every layer attending to the whole context.
MODEL_TYPES = frozenset({"llama", "mistral", "qwen2", "qwen3"})
_PREFIX = "longspeech_shared_prefix+"


class SplitKV:
    """One layer's keys (or values): the shared prompt's [1, kv_heads, S, dim] and each
    reply's own [batch, kv_heads, L, dim]."""

    __slots__ = ("shared", "own")

    def __init__(self, shared: torch.Tensor, own: torch.Tensor):
        self.shared, self.own = shared, own


class SharedPrefixCache:
    """What a model's forward needs of a cache: the shared prompt's cache, read only, and
    a buffer per layer for the replies' own tokens."""

    def __init__(self, prefix: Any, capacity: int):
        self.shared = [(layer.keys, layer.values) for layer in prefix.layers]
        self.capacity = capacity   # own tokens first reserved per layer (grown if needed)
        self.own: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(self.shared)
        self.lengths = [0] * len(self.shared)

    def update(self, keys: torch.Tensor, values: torch.Tensor, layer_idx: int,
               *args: Any, **kwargs: Any) -> tuple[SplitKV, SplitKV]:
        if self.own[layer_idx] is None:
            b, h, _, d = keys.shape
            self.own[layer_idx] = (keys.new_empty(b, h, self.capacity, d),
                                   values.new_empty(b, h, self.capacity, values.shape[-1]))
        start = self.lengths[layer_idx]
        end = start + keys.shape[2]
        if end > self.own[layer_idx][0].shape[2]:     # grow: replies ran past the estimate
            self.own[layer_idx] = tuple(  # type: ignore[assignment]
                torch.cat([t, t.new_empty(t.shape[0], t.shape[1], max(end, 2 * t.shape[2]),
                                          t.shape[3])], 2) for t in self.own[layer_idx])
        k, v = self.own[layer_idx]
        k[:, :, start:end] = keys
        v[:, :, start:end] = values
        self.lengths[layer_idx] = end
        sk, sv = self.shared[layer_idx]
        return SplitKV(sk, k[:, :, :end]), SplitKV(sv, v[:, :, :end])

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.shared[layer_idx][0].shape[2] + self.lengths[layer_idx]

    def select(self, rows: torch.Tensor) -> None:
        """Keep only these replies (the others have finished)."""
        self.own = [None if o is None else (o[0].index_select(0, rows),
                                            o[1].index_select(0, rows)) for o in self.own]


def supports(model: Any) -> bool:
    config = model.config
    types = getattr(config, "layer_types", None) or ["full_attention"]
    return (config.model_type in MODEL_TYPES
            and all(t == "full_attention" for t in types))


def _attention(base: str) -> Any:
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    def attend(module: Any, query: torch.Tensor, key: Any, value: Any,
               attention_mask: torch.Tensor | None, scaling: float, dropout: float = 0.0,
               **kwargs: Any) -> tuple[torch.Tensor, None]:
        if not isinstance(key, SplitKV):
            return ALL_ATTENTION_FUNCTIONS[base](module, query, key, value, attention_mask,
                                                 scaling=scaling, dropout=dropout, **kwargs)
        b, heads, n, dim = query.shape
        kv_heads = key.shared.shape[1]
        rows = heads // kv_heads * n          # the query rows each key/value head serves
        q = query.reshape(b, kv_heads, rows, dim)
        # Every reply's queries against the one shared copy: [kv_heads, b * rows, S].
        flat = q.transpose(0, 1).reshape(kv_heads, b * rows, dim)
        shared = torch.matmul(flat, key.shared[0].transpose(1, 2))
        shared = shared.view(kv_heads, b, rows, -1).transpose(0, 1)
        own = torch.matmul(q, key.own.transpose(2, 3)) * scaling
        if attention_mask is not None:       # [b, 1, n, L] over the own tokens
            mask = attention_mask[:, :, None].expand(b, 1, heads // kv_heads, n, -1)
            own = own + mask.reshape(b, 1, rows, -1).to(own.dtype)
        probs = torch.softmax(torch.cat([shared * scaling, own], -1).float(), -1)
        probs = probs.to(query.dtype)
        s = key.shared.shape[2]
        p_shared = probs[..., :s].transpose(0, 1).reshape(kv_heads, b * rows, s)
        out = torch.matmul(p_shared, value.shared[0]).view(kv_heads, b, rows, -1)
        out = out.transpose(0, 1) + torch.matmul(probs[..., s:], value.own)
        return out.reshape(b, heads, n, -1).transpose(1, 2).contiguous(), None

    return attend


def _registered(base: str) -> str:
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface
    from transformers.modeling_utils import AttentionInterface

    name = _PREFIX + base
    if name not in AttentionInterface._global_mapping:
        AttentionInterface.register(name, _attention(base))
        AttentionMaskInterface.register(name, ALL_MASK_ATTENTION_FUNCTIONS[base])
    return name


@contextlib.contextmanager
def shared_attention(model: Any) -> Iterator[None]:
    """Within the block the model's attention also accepts `SharedPrefixCache` keys; other
    calls (from other threads too) are answered by its own attention, as before."""
    config = model.config
    base = config._attn_implementation
    if base.startswith(_PREFIX):       # already inside such a block
        yield
        return
    config._attn_implementation = _registered(base)
    try:
        yield
    finally:
        config._attn_implementation = base


def own_mask(valid: torch.Tensor, n: int) -> torch.Tensor:
    """Additive [batch, 1, n, L] mask for the last n of L own tokens: each sees the valid own
    tokens up to itself (the shared prompt is seen by all)."""
    length = valid.shape[1]
    causal = torch.ones(n, length, dtype=torch.bool, device=valid.device).tril(length - n)
    seen = valid[:, None, None, :] & causal
    zero = torch.zeros((), dtype=torch.float32, device=valid.device)
    return torch.where(seen, zero, torch.tensor(float("-inf"), device=valid.device))
