"""OUT/library.sqlite: every transcript of a job's output directory, one row per segment, in
an SQLite FTS5 index (bm25 ranking, Porter stemming), so a collection can be searched and
questioned without reading every transcript.

The JSON transcripts stay the source of truth. Each recording row keeps the size, mtime and
sha256 of the transcript it was built from; opening the library brings it in step with the
transcripts on disk (added, changed, removed), and a missing, damaged or older-version file
is rebuilt from them with a notice. Writes happen under OUT/.library.lock, each recording in
one transaction, so a killed writer leaves the previous consistent state.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import TranscriptFormatError
from ..files import atomic_write
from ..types import Transcript, load_transcript

LIBRARY_FILE = "library.sqlite"
LOCK_FILE = ".library.lock"
SCHEMA_VERSION = 1
# JSON files a job writes beside its transcripts that are not transcripts.
NOT_TRANSCRIPTS = frozenset({"job_summary.json", "answers.json"})
_DATE = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")
_BUSY_MS = 30_000

_SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE recordings(
    stem TEXT PRIMARY KEY,      -- OUT/<stem>.json, OUT/<stem>.html
    source TEXT NOT NULL,       -- the audio file it was transcribed from
    duration REAL NOT NULL,
    speakers TEXT NOT NULL,     -- JSON list, in order of first speech
    date TEXT,                  -- YYYY-MM-DD when the file name holds one
    size INTEGER NOT NULL,      -- of the transcript file: a cheap test for a change
    mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL        -- sha256 of the transcript file
);
CREATE TABLE segments(
    id INTEGER PRIMARY KEY,
    stem TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    speaker TEXT,
    text TEXT NOT NULL
);
CREATE INDEX segments_by_recording ON segments(stem, start);
CREATE VIRTUAL TABLE segments_fts USING fts5(
    text, content='segments', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER segments_added AFTER INSERT ON segments BEGIN
    INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER segments_removed AFTER DELETE ON segments BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""


@dataclass(frozen=True)
class RecordingInfo:
    """What the library page and answers say of a recording."""

    stem: str
    source: str
    duration: float
    speakers: list[str]
    date: str | None


def library_path(out: str | os.PathLike) -> Path:
    return Path(out) / LIBRARY_FILE


def recording_date(*names: str) -> str | None:
    """YYYY-MM-DD from the first name that holds a plausible date (2024-03-07, 20240307)."""
    for name in names:
        for m in _DATE.finditer(Path(name).name):
            y, mo, d = (int(g) for g in m.groups())
            if 1900 <= y <= 2200 and 1 <= mo <= 12 and 1 <= d <= 31:
                return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def transcript_files(out: Path) -> dict[str, Path]:
    """stem -> transcript JSON of each recording in OUT (files the job writes that are not
    transcripts excluded)."""
    return {p.stem: p for p in sorted(out.glob("*.json"))
            if p.name not in NOT_TRANSCRIPTS and not p.name.startswith(".")}


def connect(path: Path) -> sqlite3.Connection:
    """A connection that waits for a writer instead of failing."""
    conn = sqlite3.connect(path, timeout=_BUSY_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
    return conn


def schema_version(conn: sqlite3.Connection) -> int | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.DatabaseError:
        return None
    return int(row[0]) if row and str(row[0]).isdigit() else None


def is_sound(path: Path, thorough: bool = False) -> str | None:
    """None when the file is a library of this version, else why it is not. thorough: read
    every page (PRAGMA quick_check), as a writer does once before adding to it."""
    if not path.is_file():
        return "missing"
    try:
        conn = connect(path)
        try:
            if thorough and conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return "damaged"
            version = schema_version(conn)
            if version != SCHEMA_VERSION:
                return f"from another version (schema {version})"
            conn.execute("SELECT count(*) FROM segments_fts WHERE segments_fts MATCH 'x'")
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return "damaged"
    return None


@contextmanager
def writing(out: Path) -> Iterator[None]:
    """The library's write lock: one writer at a time, across processes."""
    from filelock import FileLock

    with FileLock(str(out / LOCK_FILE)):
        yield


def _file_key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _rows(tr: Transcript) -> Iterable[tuple[float, float, str | None, str]]:
    for s in tr.segments:
        text = " ".join(s.text.split())
        if text:
            yield s.start, s.end, s.speaker, text


def _put(conn: sqlite3.Connection, stem: str, tr: Transcript, file: Path, digest: str) -> None:
    """Replace one recording's rows, in the caller's transaction."""
    size, mtime = _file_key(file)
    conn.execute("DELETE FROM segments WHERE stem=?", (stem,))
    conn.execute("DELETE FROM recordings WHERE stem=?", (stem,))
    conn.execute("INSERT INTO recordings VALUES (?,?,?,?,?,?,?,?)",
                 (stem, tr.recording.path, float(tr.duration),
                  json.dumps(tr.speaking_order),
                  recording_date(tr.recording.path, stem), size, mtime, digest))
    conn.executemany("INSERT INTO segments(stem, start, end, speaker, text) VALUES (?,?,?,?,?)",
                     ((stem, *row) for row in _rows(tr)))


def _drop(conn: sqlite3.Connection, stem: str) -> None:
    conn.execute("DELETE FROM segments WHERE stem=?", (stem,))
    conn.execute("DELETE FROM recordings WHERE stem=?", (stem,))


def _read(file: Path) -> tuple[Transcript, str] | None:
    """A transcript file and its sha256, or None when it is not a readable transcript."""
    try:
        data = file.read_bytes()
        return load_transcript(file), hashlib.sha256(data).hexdigest()
    except (OSError, TranscriptFormatError, ValueError):
        return None


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    unreadable: list[str] | None = None


def sync(conn: sqlite3.Connection, out: Path, only: Iterable[str] | None = None) -> SyncReport:
    """Bring the library in step with OUT's transcripts (all of them, or the stems `only`):
    a transcript whose size or mtime changed is read and replaced when its sha256 differs;
    a recording whose transcript is gone is removed. Each recording is one transaction."""
    files = transcript_files(out)
    known = {stem: (size, mtime, digest) for stem, size, mtime, digest in
             conn.execute("SELECT stem, size, mtime_ns, digest FROM recordings")}
    stems = set(files) | set(known) if only is None else set(only)
    report = SyncReport(unreadable=[])
    for stem in sorted(stems):
        file = files.get(stem)
        if file is None:
            if stem in known:
                with _transaction(conn):
                    _drop(conn, stem)
                report.removed += 1
            continue
        old = known.get(stem)
        if old is not None and old[:2] == _file_key(file):
            report.unchanged += 1
            continue
        got = _read(file)
        if got is None:
            report.unreadable.append(file.name)
            continue
        tr, digest = got
        with _transaction(conn):
            if old is not None and old[2] == digest:       # touched, not changed
                conn.execute("UPDATE recordings SET size=?, mtime_ns=? WHERE stem=?",
                             (*_file_key(file), stem))
                report.unchanged += 1
                continue
            _put(conn, stem, tr, file, digest)
        report.added += 1
    return report


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def rebuild(out: Path) -> SyncReport:
    """A new library from OUT's transcripts, written beside the old one and renamed into
    place (the caller holds the write lock)."""
    path = library_path(out)
    for stale in out.glob(f".{LIBRARY_FILE}.*.tmp*"):       # left by a killed rebuild
        stale.unlink(missing_ok=True)
    report = SyncReport()

    def build(tmp: Path) -> None:
        nonlocal report
        tmp.unlink()
        conn = connect(tmp)
        try:
            conn.execute("PRAGMA synchronous=OFF")     # a crash discards the temp file
            conn.executescript(_SCHEMA)
            report = sync(conn, out)
        finally:
            conn.close()

    atomic_write(path, build)
    for side in ("-wal", "-shm"):
        # A write-ahead log of the old file must never be replayed into the new one.
        Path(f"{path}{side}").unlink(missing_ok=True)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return report


def info_rows(conn: sqlite3.Connection) -> list[RecordingInfo]:
    """Every recording, by date (those without one last) then name."""
    rows = conn.execute("SELECT stem, source, duration, speakers, date FROM recordings "
                        "ORDER BY date IS NULL, date, stem").fetchall()
    return [RecordingInfo(stem, source, duration, json.loads(speakers), date)
            for stem, source, duration, speakers, date in rows]


__all__ = ["LIBRARY_FILE", "RecordingInfo", "SyncReport", "connect", "info_rows", "is_sound",
           "library_path", "rebuild", "recording_date", "sync", "transcript_files", "writing"]
