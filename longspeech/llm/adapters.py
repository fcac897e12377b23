"""LLMs with a LoRA adapter merged in: a fine-tuned corrector is a small directory beside the
LLM it was trained on.

An adapter directory holds peft's files and `longspeech_adapter.json`: the base LLM (id and
sha256), what it was trained for, and the sha256 of every adapter file. Loading checks both,
so a damaged adapter or one trained on another LLM is refused with one line instead of
quietly changing what the model says.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ModelIntegrityError, ModelNotAvailableError
from ..files import atomic_write_text
from ..hashing import tree_sha256
from .registry import LoadedLLM, load_llm

MANIFEST = "longspeech_adapter.json"


def write_manifest(directory: Path, base: LoadedLLM, info: dict[str, Any]) -> dict[str, Any]:
    """Record the base LLM and the sha256 of the adapter's files beside them."""
    manifest = {"base": base.id, "base_sha256": base.sha256, **info,
                "files": tree_sha256(directory, frozenset({MANIFEST}))}
    atomic_write_text(directory / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return manifest


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The adapter's manifest, its files checked against their recorded sha256."""
    d = Path(directory)
    path = d / MANIFEST
    if not path.is_file():
        raise ModelNotAvailableError(
            f"{d} is not a longspeech adapter (no {MANIFEST}): give a directory written by "
            "`longspeech train correction --out DIR`")
    try:
        manifest = json.loads(path.read_text())
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as e:
        raise ModelIntegrityError(f"{path} is damaged ({type(e).__name__}); train the "
                                  "adapter again or reinstall longspeech") from None
    have = tree_sha256(d, frozenset({MANIFEST}))
    bad = sorted(n for n, sha in files.items() if have.get(n) != sha)
    if bad:
        raise ModelIntegrityError(f"adapter {d} is damaged or altered ({', '.join(bad)} "
                                  "differ from its manifest); train it again or reinstall "
                                  "longspeech")
    return manifest


@lru_cache(maxsize=2)
def load_with_adapter(name: str, adapter_dir: str, device: str = "cpu") -> LoadedLLM:
    """LLM `name` with the adapter in `adapter_dir` merged into a copy of its weights (the
    shared base model is left as it is)."""
    from peft import PeftModel

    manifest = read_manifest(adapter_dir)
    base = load_llm(name, device)
    if manifest.get("base") != base.id or manifest.get("base_sha256") != base.sha256:
        raise ModelNotAvailableError(
            f"adapter {adapter_dir} was trained on LLM {manifest.get('base')!r}, not "
            f"{name!r}: use it with --llm {manifest.get('base')} or train one for {name}")
    merged = PeftModel.from_pretrained(copy.deepcopy(base.model), adapter_dir)
    model = merged.merge_and_unload().eval()
    return replace(base, model=model, id=f"{base.id}+{Path(adapter_dir).name}",
                   source=f"{base.source} + {adapter_dir}")
