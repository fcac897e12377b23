"""Greedy chat replies that reuse the key/value cache of what the previous call already read.

Correction turns and questions over one transcript send prompts that begin alike: the system
prompt, the transcript, the earlier turns. A session keeps the cache of the last prompt it
read; the next call drops only what follows the longest common beginning and reads the rest,
so a turn costs its own tokens instead of the whole conversation again. Several prompts with
a common beginning are answered as one batch over that beginning's cache, which every reply
reads without a copy of its own (shared_prefix.py). Each forward pass also checks a draft of
the next tokens copied from the prompt (prompt lookup) and keeps those greedy decoding agrees
with, so a reply that repeats its prompt takes a few passes instead of one per token.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any

import torch

from . import shared_prefix
from .registry import LoadedLLM

# Greedy replies check up to this many tokens copied from the prompt in one forward pass
# (prompt lookup), found among its last DRAFT_WINDOW tokens.
DRAFT_TOKENS = 6
DRAFT_WINDOW = 1024


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
                       use_cache=True, logits_to_keep=1)
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
        own = [list(p[shared:]) for p in prompts]
        width = max(len(o) for o in own)
        # Each prompt's own tokens sit right after the shared ones, padded on their left.
        ids = torch.tensor([[0] * (width - len(o)) + o for o in own], device=dev)
        valid = torch.tensor([[False] * (width - len(o)) + [True] * len(o) for o in own],
                             device=dev)
        pos = torch.stack([torch.cat([torch.zeros(width - len(o), dtype=torch.long),
                                      torch.arange(shared, shared + len(o))]) for o in own])
        pos = pos.to(dev)
        split = shared > 0 and shared_prefix.supports(self.model)
        if split:    # the shared tokens' cache is read by every reply, never copied
            cache: Any = shared_prefix.SharedPrefixCache(self.cache, width + max(max_new_tokens))
        else:
            cache = self.cache if b == 1 else copy.deepcopy(self.cache)
            if b > 1:
                cache.batch_repeat_interleave(b)

        def mask(n: int) -> torch.Tensor:
            if split:
                return shared_prefix.own_mask(valid, n)
            return torch.cat([torch.ones(len(valid), shared, dtype=torch.long, device=dev),
                              valid.long()], dim=1)

        out: list[list[int]] = [[] for _ in prompts]
        seen = [list(p) for p in prompts]
        rows = list(range(b))         # the prompts still being answered, in batch order
        drafts: list[list[int]] = [[] for _ in prompts]
        place = [shared + len(o) for o in own]     # position of each row's next input token
        drafting = penalty is None or penalty == 1.0
        first = True
        attention = (shared_prefix.shared_attention(self.model) if split
                     else contextlib.nullcontext())
        with attention:
            while True:
                fed = ids.shape[1]
                check = 1 if first else fed       # positions whose next token is needed
                logits = self.model(input_ids=ids, attention_mask=mask(fed), position_ids=pos,
                                    past_key_values=cache, use_cache=True,
                                    logits_to_keep=check).logits
                if penalty is not None and penalty != 1.0:    # no drafts: one position
                    logits = torch.stack([penalize(row, seen[i], penalty)
                                          for row, i in zip(logits[:, -1, :], rows)])[:, None]
                preds = logits.argmax(-1).tolist()
                going = []
                for j, i in enumerate(rows):
                    taken = _take(out[i], seen[i], preds[j], drafts[i], max_new_tokens[i], stop,
                                  self.ends)
                    if taken is None:
                        continue
                    if not first:     # drafts past the confirmed ones leave every context
                        valid[j, valid.shape[1] - fed + 1 + taken:] = False
                        place[i] += 1 + taken
                    going.append(j)
                first = False
                if not going:
                    break
                if len(going) < len(rows):    # finished replies leave the batch
                    keep = torch.tensor(going, device=dev)
                    if split:
                        cache.select(keep)
                    else:
                        cache.batch_select_indices(keep)
                    valid = valid[keep]
                    rows = [rows[j] for j in going]
                for i in rows:
                    drafts[i] = _draft(seen[i], DRAFT_TOKENS) if drafting else []
                fed = 1 + max(len(drafts[i]) for i in rows)
                pad = [fed - 1 - len(drafts[i]) for i in rows]
                ids = torch.tensor([[out[i][-1]] + drafts[i] + [0] * n
                                    for i, n in zip(rows, pad)], device=dev)
                pos = torch.tensor([[place[i] + k for k in range(fed)] for i in rows],
                                   device=dev)
                valid = torch.cat([valid, torch.tensor(
                    [[True] * (fed - n) + [False] * n for n in pad], device=dev)], dim=1)
        if b == 1 and not split:    # keep the prompt, not the reply: the next may differ there
            _crop_to(self.cache, len(prompts[0]))
            self.ids = list(prompts[0])
        return out


def _take(out: list[int], seen: list[int], preds: list[int], draft: list[int], limit: int,
          stop: Callable[[list[int]], bool] | None, ends: set[int]) -> int | None:
    """Append a row's greedy tokens: the prediction after its input token, then, while the
    draft fed after it matches, the prediction after each matched draft token. Returns how
    many draft tokens were confirmed, or None once the reply has ended."""
    for k, t in enumerate(preds[:len(draft) + 1]):
        if t in ends:
            return None
        out.append(t)
        seen.append(t)
        if len(out) >= limit or (stop and stop(out)):
            return None
        if k == len(draft) or draft[k] != t:
            return k
    return len(draft)


def _draft(tokens: Sequence[int], size: int, longest: int = 3, shortest: int = 2) -> list[int]:
    """Prompt lookup: what followed the latest earlier occurrence of the last 3 (else 2)
    tokens. A corrected sentence mostly repeats the sentence asked about, so the draft is
    usually what greedy decoding writes next; a wrong draft costs only its positions."""
    window = tokens[-DRAFT_WINDOW:]
    n_all = len(window)
    for n in range(min(longest, n_all - 1), shortest - 1, -1):
        tail = window[n_all - n:]
        for start in range(n_all - n - 1, -1, -1):
            if window[start:start + n] == tail:
                return list(window[start + n:start + n + size])
    return []


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
