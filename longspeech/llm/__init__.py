"""Causal LMs shared by every LLM feature (fusion decoding, transcript correction, QA)."""

from ..lazy import lazy_attributes
from .registry import (DEFAULT_LLM, EMBEDDED_LLMS, EmbeddedLLM, LoadedLLM, converted_dir,
                       load_llm)

# generation imports torch: on first use (a resumed job reads the registry only)
__getattr__ = lazy_attributes(__name__, {"generate": "chat", "generate_many": "chat"})

__all__ = ["DEFAULT_LLM", "EMBEDDED_LLMS", "EmbeddedLLM", "LoadedLLM", "converted_dir",
           "generate", "generate_many", "load_llm"]
