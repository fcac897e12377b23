"""RTTM output (the NIST speaker-turn format DER tools read), written by pyannote.core."""

from __future__ import annotations

import io
import re

from pyannote.core import Annotation, Segment

from ..types import SpeakerTurn, Transcript


def rttm_uri(name: str) -> str:
    """RTTM fields are space separated: whitespace in a file id becomes '_'."""
    return re.sub(r"\s+", "_", name.strip()) or "<NA>"


def turns_to_annotation(turns: list[SpeakerTurn], uri: str | None = None) -> Annotation:
    ann = Annotation(uri=uri)
    for t in turns:
        if t.end > t.start:
            ann[Segment(t.start, t.end), ann.new_track(Segment(t.start, t.end))] = t.speaker
    return ann


def annotation_to_rttm(annotation: Annotation, uri: str | None = None) -> str:
    """RTTM lines of an Annotation (uri defaults to its own; spaces replaced)."""
    ann = annotation.copy()
    ann.uri = rttm_uri(uri if uri is not None else (annotation.uri or "<NA>"))
    buf = io.StringIO()
    ann.write_rttm(buf)
    return buf.getvalue()


def transcript_to_rttm(transcript: Transcript) -> str:
    """RTTM of a transcript's speaker turns (empty when it was not diarized)."""
    uri = rttm_uri(transcript.recording.id)
    return annotation_to_rttm(turns_to_annotation(transcript.turns, uri), uri)
