"""Greedy chat replies that reuse the key/value cache of what the previous call already read.

Correction turns and questions over one transcript send prompts that begin alike: the system
prompt, the transcript, the earlier turns. A session keeps the cache of the last prompt it
read; the next call drops only what follows the longest common beginning and reads the rest,
so a turn costs its own tokens instead of the whole conversation again. Several prompts with
a common beginning are answered as one batch over that beginning's cache.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any

import torch

from .registry import LoadedLLM


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class ChatSession:
    """The cache of one token sequence for one LLM; calls from several threads take turns."""

    def __init__(self, llm: LoadedLLM):
        from transformers import DynamicCache

        self.llm = llm
        self.model = llm.model
        self._new_cache = lambda: DynamicCache(config=self.model.config)
        self.cache = self._new_cache()
        self.ids: list[int] = []
        self.lock = threading.Lock()
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        if eos is None:
            eos = llm.tokenizer.eos_token_id
        self.ends = {eos} if isinstance(eos, int) else set(eos or [])

    def _read(self, ids: Sequence[int]) -> None:
        """Make the cache hold `ids` (all but what a reply starts from is read here)."""
        keep = _common(self.ids, ids)
        if keep < len(self.ids):
            if keep == 0:
                self.cache = self._new_cache()
            else:
                _crop_to(self.cache, keep)
            self.ids = self.ids[:keep]
        if keep < len(ids):
            new = torch.tensor([list(ids[keep:])], device=self.model.device)
            pos = torch.arange(keep, len(ids), device=self.model.device)[None]
            self.model(input_ids=new, past_key_values=self.cache, position_ids=pos,
                       use_cache=True)
            self.ids = list(ids)

    @torch.inference_mode()
    def replies(self, prompts: Sequence[Sequence[int]], max_new_tokens: Sequence[int],
                repetition_penalty: float | None = None,
                stop: Callable[[list[int]], bool] | None = None) -> list[list[int]]:
        """Greedy reply token ids for each prompt (without the end token); a reply also
        ends where `stop` says its tokens so far are all its reader will use."""
        with self.lock:
            shared = min(_common(prompts[0], p) for p in prompts)
            shared = min(shared, min(len(p) for p in prompts) - 1)   # a token left to read
            try:
                self._read(prompts[0][:shared])
                return self._decode(shared, prompts, max_new_tokens, repetition_penalty, stop)
            except BaseException:     # a cache half written must not serve the next call
                self.cache, self.ids = self._new_cache(), []
                raise

    def _decode(self, shared: int, prompts: Sequence[Sequence[int]],
                max_new_tokens: Sequence[int], penalty: float | None,
                stop: Callable[[list[int]], bool] | None) -> list[list[int]]:
        dev = self.model.device
        b = len(prompts)
        cache = self.cache if b == 1 else copy.deepcopy(self.cache)
        if b > 1:
            cache.batch_repeat_interleave(b)
        own = [list(p[shared:]) for p in prompts]
        width = max(len(o) for o in own)
        # Each prompt's own tokens sit right after the shared ones, padded on their left.
        ids = torch.tensor([[0] * (width - len(o)) + o for o in own], device=dev)
        mask = torch.tensor([[1] * shared + [0] * (width - len(o)) + [1] * len(o)
                             for o in own], device=dev)
        pos = torch.stack([torch.cat([torch.zeros(width - len(o), dtype=torch.long),
                                      torch.arange(shared, shared + len(o))]) for o in own])
        pos = pos.to(dev)
        out: list[list[int]] = [[] for _ in prompts]
        seen = [list(p) for p in prompts]
        rows = list(range(b))         # the prompts still being answered, in batch order
        for _ in range(max(max_new_tokens)):
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=pos,
                                past_key_values=cache, use_cache=True).logits[:, -1, :]
            if penalty is not None and penalty != 1.0:
                logits = torch.stack([penalize(row, seen[i], penalty)
                                      for row, i in zip(logits, rows)])
            nxt = logits.argmax(-1).tolist()
            going = []
            for j, (i, t) in enumerate(zip(rows, nxt)):
                if t in self.ends:
                    continue
                out[i].append(t)
                seen[i].append(t)
                if len(out[i]) < max_new_tokens[i] and not (stop and stop(out[i])):
                    going.append(j)
            if not going:
                break
            if len(going) < len(rows):    # finished replies leave the batch
                keep = torch.tensor(going, device=dev)
                cache.batch_select_indices(keep)
                mask, pos = mask[keep], pos[keep]
                rows, nxt = [rows[j] for j in going], [nxt[j] for j in going]
            ids = torch.tensor([[t] for t in nxt], device=dev)
            mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=mask.dtype, device=dev)],
                             dim=1)
            pos = pos[:, -1:] + 1
        if b == 1:    # keep the prompt, not the reply: the next prompt may differ there
            _crop_to(self.cache, len(prompts[0]))
            self.ids = list(prompts[0])
        return out


def _crop_to(cache: Any, length: int) -> None:
    extra = cache.get_seq_length() - length
    if extra > 0:
        cache.crop(-extra)    # transformers' crop takes the count of tokens to drop, negated


def penalize(logits: torch.Tensor, context: Sequence[int], penalty: float) -> torch.Tensor:
    """Repetition penalty (CTRL, as transformers applies it) on the tokens of `context`:
    their logits divided by the penalty, or multiplied where negative."""
    if penalty == 1.0 or not context:
        return logits
    idx = torch.tensor(sorted(set(context)), dtype=torch.long, device=logits.device)
    sel = logits[idx]
    logits = logits.clone()
    logits[idx] = torch.where(sel > 0, sel / penalty, sel * penalty)
    return logits


_SESSIONS: dict[int, ChatSession] = {}
_SESSIONS_LOCK = threading.Lock()


def session(llm: LoadedLLM) -> ChatSession:
    """The session of a loaded LLM (one cache per model, shared by its users)."""
    with _SESSIONS_LOCK:
        if id(llm.model) not in _SESSIONS:
            _SESSIONS[id(llm.model)] = ChatSession(llm)
        return _SESSIONS[id(llm.model)]
