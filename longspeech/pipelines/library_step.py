"""The job's index step: each recording's transcript is added to OUT/library.sqlite as soon
as it is written, and OUT/index.html is written when the job ends.

The step is saved and resumed like the others: the library keeps each transcript's sha256,
so a resumed job whose transcript did not change adds nothing. It never fails a recording:
the transcripts are the source of truth, and `longspeech index OUT` rebuilds from them.
"""

from __future__ import annotations

from pathlib import Path

from ..library import update, write_page
from ..library.page import PAGE_FILE
from .state import JobState


class LibraryStep:
    """Indexes one job's recordings; the job's driver is its one writer."""

    def __init__(self, out: Path, state: JobState):
        self.out, self.state = out, state
        self.checked = False        # the file was read through once this job
        self.changed = False

    def add(self, stem: str) -> None:
        try:
            got = update(self.out, [stem], thorough=not self.checked)
        except Exception as e:       # noqa: BLE001 - the transcript is written; say so
            self._note(f"{stem} was not added to the library ({e}); run: longspeech index "
                       f"{self.out}")
            return
        self.checked = True
        self.changed |= got.changed > 0
        for line in got.notices:
            self._note(line)
        self.state.log("indexed" if got.changed else "index_reused", recording=stem)

    def finish(self) -> None:
        """Write the library page when the library changed or the page is missing."""
        if not self.checked or (not self.changed and (self.out / PAGE_FILE).is_file()):
            return
        try:
            write_page(self.out)
        except Exception as e:       # noqa: BLE001
            self._note(f"{self.out / PAGE_FILE} was not written ({e}); run: longspeech "
                       f"index {self.out}")

    def _note(self, line: str) -> None:
        if line not in self.state.notes:
            self.state.notes.append(line)
            self.state.log("library_note", note=line)
