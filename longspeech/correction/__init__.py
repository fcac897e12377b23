"""LLM full-text error correction of transcripts, each edit verified against the audio.

    from longspeech.correction import CorrectionOptions, correct_transcript
    fixed = correct_transcript(transcript, "talk.flac", CorrectionOptions(format="pairs"))
    fixed.provenance["corrections"]   # every proposed edit: accepted or not, and why
"""

from ..lazy import lazy_attributes
from .options import FORMATS, CorrectionOptions
from .proposals import Proposal, clean_text_reply, diff_text, parse_pairs

# The LLM and the verifier import torch: on first use (a job reads the options only).
__getattr__ = lazy_attributes(__name__, {
    "CorrectionRecord": "apply", "allowed_words": "apply", "apply_proposals": "apply",
    "Corrector": "correct", "apply_pairs": "correct", "correct_transcript": "correct",
    "plan_turns": "correct", "proposals_from_reply": "correct",
    "AcousticVerifier": "verify", "SegmentAudio": "verify"})

__all__ = [
    "FORMATS", "AcousticVerifier", "CorrectionOptions", "CorrectionRecord", "Corrector", "Proposal",
    "SegmentAudio", "allowed_words", "apply_pairs", "apply_proposals", "clean_text_reply",
    "correct_transcript", "diff_text", "parse_pairs", "plan_turns", "proposals_from_reply",
]
