"""Library(OUT): a job's output directory as one searchable, questionable collection.

    lib = Library("out")
    lib.search("harbour strike", speaker="Maria")     # [Hit(recording, start, ..., link)]
    lib.ask("Which episodes mention the harbour strike?")
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import quote

from ..errors import InputFileError, InvalidOptionError
from ..qa.answer import AskOptions
from ..types import Transcript, load_transcript
from .answers import LibraryAnswer, Sources, content_answer, structure_answer
from .questions import parse
from .search import Hit, all_words, any_word, query, recordings_matching
from .store import (LIBRARY_FILE, RecordingInfo, connect, info_rows, is_sound, library_path,
                    rebuild, sync, transcript_files, writing)

T = TypeVar("T")


@dataclass
class Update:
    """What bringing the library in step with the transcripts did. notices: one line each
    for a rebuild or a transcript that could not be read."""

    changed: int = 0
    notices: list[str] = field(default_factory=list)


def update(out: str | os.PathLike, stems: Iterable[str] | None = None,
           thorough: bool = False, force: bool = False) -> Update:
    """Bring OUT/library.sqlite in step with OUT's transcripts (or only `stems`): a missing,
    damaged or older-version file is rebuilt from all of them; force: rebuild anyway.
    thorough: read every page to find damage (a writer does, once)."""
    out = Path(out)
    path = library_path(out)
    result = Update()
    with writing(out):
        reason = "rebuilt on request" if force else is_sound(path, thorough)
        if reason is not None:
            existed = path.exists()
            report = rebuild(out)
            result.changed = report.added
            if existed and not force:
                result.notices.append(f"{path} was {reason}; rebuilt from {report.added} "
                                      "transcript(s)")
        else:
            conn = connect(path)
            try:
                report = sync(conn, out, stems)
            finally:
                conn.close()
            result.changed = report.added + report.removed
    result.notices += [f"{out / name}: not a readable transcript, left out of the library"
                       for name in report.unreadable or []]
    return result


def require_transcripts(out: Path) -> None:
    """An error that says what to do unless OUT is a folder holding transcripts."""
    if not out.is_dir():
        raise InputFileError(f"{out} is not a directory: give the output directory "
                             "(-o OUT) of a transcription job")
    if not transcript_files(out):
        raise InputFileError(f"{out} holds no transcripts: transcribe into it first "
                             f"(longspeech transcribe FILES -o {out})")


class Library:
    """The transcripts of OUT, indexed in OUT/library.sqlite (built or brought up to date on
    opening). options: how content questions are answered (the LLM, its device)."""

    def __init__(self, out: str | os.PathLike, options: AskOptions | None = None):
        self.out = Path(out)
        require_transcripts(self.out)
        self.options = options or AskOptions()
        self.notices = update(self.out).notices
        self._conn: sqlite3.Connection | None = None

    # -- reading, with one rebuild when the file turns out damaged ---------------------------
    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = connect(library_path(self.out))
            try:
                return fn(self._conn)
            except InvalidOptionError:
                raise
            except sqlite3.DatabaseError as e:
                self.close()
                if attempt:
                    raise InputFileError(f"{library_path(self.out)} cannot be read ({e}); "
                                         f"delete it and run: longspeech index {self.out}"
                                         ) from None
                self.notices += update(self.out, force=True).notices
                self.notices.append(f"{library_path(self.out)} could not be read ({e}); "
                                    "rebuilt from the transcripts")
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the collection -------------------------------------------------------------------
    def recordings(self) -> list[RecordingInfo]:
        """Every recording, by date where its name gives one, then by name."""
        return self._read(info_rows)

    def speakers(self) -> list[str]:
        """Every speaker name of the collection, in order of first appearance."""
        return list(dict.fromkeys(s for r in self.recordings() for s in r.speakers))

    def _link(self, hit: Hit) -> Hit:
        if not (self.out / f"{hit.recording}.html").is_file():
            return hit
        return replace(hit, link=f"{quote(hit.recording)}.html#t={hit.start:.2f}")

    def search(self, text: str, *, speaker: str | None = None, recording: str | None = None,
               limit: int = 10) -> list[Hit]:
        """Segments matching `text` (words, or FTS5 syntax), best first; speaker: only this
        speaker's lines; recording: only recordings whose name matches this glob."""
        if limit < 1:
            raise InvalidOptionError("--limit must be at least 1")
        match = all_words(text)

        def run(conn: sqlite3.Connection) -> list[Hit]:
            stems = (recordings_matching(info_rows(conn), recording)
                     if recording is not None else None)
            return query(conn, match, speaker=speaker, stems=stems, limit=limit)

        return [self._link(h) for h in self._read(run)]

    def _mentions(self, topic: str, person: str | None) -> list[Hit]:
        return self._read(lambda c: query(c, all_words(topic), speaker=person, limit=None,
                                          order="time"))

    def _ranked(self, text: str) -> list[Hit]:
        match = any_word(text)
        return [] if match is None else self._read(lambda c: query(c, match, limit=20))

    def _transcript(self, stem: str) -> Transcript:
        return load_transcript(self.out / f"{stem}.json")

    def ask(self, question: str) -> LibraryAnswer:
        """An answer across every recording, naming the recording(s) it comes from, with
        the segments it rests on."""
        if not question.strip():
            raise InvalidOptionError("the question is empty")
        t0 = time.perf_counter()
        infos = self.recordings()
        q = parse(question, self.speakers())
        src = Sources(self._mentions, self._ranked, infos, self._transcript, self._link)
        got = structure_answer(q, src)
        if got is None:
            got = content_answer(question, q.topic, src, self.options)
        return replace(got, question=question, seconds=round(time.perf_counter() - t0, 3))


__all__ = ["LIBRARY_FILE", "Library", "Update", "require_transcripts", "update"]
