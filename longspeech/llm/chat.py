"""Chat generation with a loaded LLM: the one call transcript correction and QA build on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .registry import LoadedLLM


def generate(llm: LoadedLLM, messages: Sequence[dict[str, str]], max_new_tokens: int = 256,
             temperature: float = 0.0, *, seed: int | None = None,
             repetition_penalty: float | None = None) -> str:
    """The assistant's reply to chat `messages` ([{"role": ..., "content": ...}]).

    Greedy at temperature 0 (reproducible); sampling otherwise, seeded when `seed` is given.
    """
    tok, model = llm.tokenizer, llm.model
    enc = tok.apply_chat_template(list(messages), add_generation_prompt=True, return_dict=True,
                                  return_tensors="pt")
    ids = enc["input_ids"].to(model.device)
    kw: dict[str, Any] = dict(max_new_tokens=max_new_tokens,
                              attention_mask=enc["attention_mask"].to(model.device),
                              pad_token_id=tok.pad_token_id if tok.pad_token_id is not None
                              else tok.eos_token_id)
    if temperature > 0:
        kw.update(do_sample=True, temperature=temperature, top_k=0, top_p=1.0)
        if seed is not None:
            torch.manual_seed(seed)
    else:
        kw.update(do_sample=False, temperature=None, top_k=None, top_p=None)
    if repetition_penalty is not None:
        kw["repetition_penalty"] = repetition_penalty
    with torch.inference_mode():
        out = model.generate(ids, **kw)
    return tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()
