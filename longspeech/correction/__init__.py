"""LLM full-text error correction of transcripts, each edit verified against the audio.

    from longspeech.correction import CorrectionOptions, correct_transcript
    fixed = correct_transcript(transcript, "talk.flac", CorrectionOptions(format="pairs"))
    fixed.provenance["corrections"]   # every proposed edit: accepted or not, and why
"""

from .apply import CorrectionRecord, allowed_words, apply_proposals
from .correct import (Corrector, apply_pairs, correct_transcript, plan_turns,
                      proposals_from_reply)
from .options import FORMATS, CorrectionOptions
from .proposals import Proposal, clean_text_reply, diff_text, parse_pairs
from .verify import AcousticVerifier, SegmentAudio

__all__ = [
    "FORMATS", "AcousticVerifier", "CorrectionOptions", "CorrectionRecord", "Corrector", "Proposal",
    "SegmentAudio", "allowed_words", "apply_pairs", "apply_proposals", "clean_text_reply",
    "correct_transcript", "diff_text", "parse_pairs", "plan_turns", "proposals_from_reply",
]
