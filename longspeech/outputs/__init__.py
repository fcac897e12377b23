"""Writers for the transcript formats: json, txt, srt, vtt, tsv, written atomically."""

from .writers import FORMATS, render, write_outputs

__all__ = ["FORMATS", "render", "write_outputs"]
