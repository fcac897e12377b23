"""The speech-language model: Whisper encoder states, a CTC density head, a projector and
an LLM. The trained weights the package ships live in weights/ (package data)."""

from .shipped import default_model_dir, shipped_model_dir

__all__ = ["default_model_dir", "shipped_model_dir"]
