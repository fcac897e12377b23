"""Whisper's hallucination guards, shared by the engines so they reject the same outputs."""

from __future__ import annotations

import zlib

from .options import AsrOptions


def compression_ratio(text: str) -> float:
    """gzip ratio of the text: high means repetitive output (a looping decoder)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def needs_fallback(avg_logprob: float, cr: float, no_speech_prob: float,
                   opts: AsrOptions) -> bool:
    """True when a decode should be retried at a higher temperature (as openai/whisper)."""
    if is_silence(avg_logprob, no_speech_prob, opts):
        return False
    if opts.compression_ratio_threshold is not None and cr > opts.compression_ratio_threshold:
        return True
    return opts.log_prob_threshold is not None and avg_logprob < opts.log_prob_threshold


def is_silence(avg_logprob: float, no_speech_prob: float, opts: AsrOptions) -> bool:
    """No-speech rule: high no-speech probability and a decode the model is unsure of."""
    if opts.no_speech_threshold is None or no_speech_prob <= opts.no_speech_threshold:
        return False
    return opts.log_prob_threshold is None or avg_logprob < opts.log_prob_threshold
