"""Causal LMs shared by every LLM feature (fusion decoding, transcript correction, QA)."""

from .chat import generate, generate_many
from .registry import (DEFAULT_LLM, EMBEDDED_LLMS, EmbeddedLLM, LoadedLLM, converted_dir,
                       load_llm)

__all__ = ["DEFAULT_LLM", "EMBEDDED_LLMS", "EmbeddedLLM", "LoadedLLM", "converted_dir",
           "generate", "generate_many", "load_llm"]
