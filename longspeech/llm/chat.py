"""Chat generation with a loaded LLM: the one call transcript correction and QA build on.

Greedy replies go through the LLM's session (session.py), which reuses the cache of what
earlier prompts shared with this one; sampling uses transformers' generate().
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .registry import LoadedLLM
from .session import session

Messages = Sequence[dict[str, str]]


def _prompt_ids(llm: LoadedLLM, messages: Messages) -> list[int]:
    return list(llm.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True,
                                                  return_dict=True)["input_ids"])


def generate(llm: LoadedLLM, messages: Messages, max_new_tokens: int = 256,
             temperature: float = 0.0, *, seed: int | None = None,
             repetition_penalty: float | None = None) -> str:
    """The assistant's reply to chat `messages` ([{"role": ..., "content": ...}]).

    Greedy at temperature 0 (reproducible); sampling otherwise, seeded when `seed` is given.
    """
    if temperature == 0:
        return generate_many(llm, [messages], [max_new_tokens], repetition_penalty)[0]
    return _sampled(llm, messages, max_new_tokens, temperature, seed, repetition_penalty)


def generate_many(llm: LoadedLLM, conversations: Sequence[Messages],
                  max_new_tokens: Sequence[int],
                  repetition_penalty: float | None = None,
                  complete: Callable[[str], bool] | None = None) -> list[str]:
    """Greedy replies to several conversations, answered as one batch.

    Each reply is the one `generate` gives for its conversation alone (the batch shares
    the cache of the conversations' common beginning; padding is masked out), except that
    a reply stops early once `complete` says that its text so far holds all its reader
    will take from it.
    """
    if len(conversations) != len(max_new_tokens):
        raise ValueError("give one reply budget per conversation")
    if not conversations:
        return []
    def text(ids: list[int]) -> str:
        return llm.tokenizer.decode(ids, skip_special_tokens=True).strip()

    stop = (lambda ids: complete(text(ids))) if complete else None
    replies = session(llm).replies([_prompt_ids(llm, c) for c in conversations],
                                   list(max_new_tokens), repetition_penalty, stop)
    return [text(r) for r in replies]


def _sampled(llm: LoadedLLM, messages: Messages, max_new_tokens: int, temperature: float,
             seed: int | None, repetition_penalty: float | None) -> str:
    tok, model = llm.tokenizer, llm.model
    enc = tok.apply_chat_template(list(messages), add_generation_prompt=True, return_dict=True,
                                  return_tensors="pt")
    ids = enc["input_ids"].to(model.device)
    kw: dict[str, Any] = dict(max_new_tokens=max_new_tokens,
                              attention_mask=enc["attention_mask"].to(model.device),
                              pad_token_id=tok.pad_token_id if tok.pad_token_id is not None
                              else tok.eos_token_id,
                              do_sample=True, temperature=temperature, top_k=0, top_p=1.0)
    if seed is not None:
        torch.manual_seed(seed)
    if repetition_penalty is not None:
        kw["repetition_penalty"] = repetition_penalty
    with torch.inference_mode():
        out = model.generate(ids, **kw)
    return tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()
