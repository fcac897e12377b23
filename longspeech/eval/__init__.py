"""Scoring: WER with Whisper's English normaliser (jiwer), and benchmark formats."""

from ..wer import normalize, word_error_rate

__all__ = ["normalize", "word_error_rate"]
