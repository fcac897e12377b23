"""The speech-language model: Whisper encoder states, a CTC density head, a projector and
an LLM. The trained weights the package ships live in weights/ (package data); training
(speechlm.training) depends on this package, never the reverse."""

from .loading import LoadedSpeechLM, load_speechlm
from .model import SYSTEM, TRANSCRIBE, SpeechLM
from .shipped import default_model_dir, shipped_model_dir

__all__ = ["SYSTEM", "TRANSCRIBE", "LoadedSpeechLM", "SpeechLM", "default_model_dir",
           "load_speechlm", "shipped_model_dir"]
