"""The library: every transcript of a job's output directory, searchable and questionable as
one collection (OUT/library.sqlite, OUT/index.html, `longspeech search`, `ask OUT`)."""

from .answers import LibraryAnswer
from .collection import Library, Update, require_transcripts, update
from .page import PAGE_FILE, write_page
from .search import Hit
from .store import LIBRARY_FILE, RecordingInfo

__all__ = ["LIBRARY_FILE", "PAGE_FILE", "Hit", "Library", "LibraryAnswer", "RecordingInfo",
           "Update", "require_transcripts", "update", "write_page"]
