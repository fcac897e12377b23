"""Ranked search over the library's segments: FTS5 MATCH, ordered by bm25.

A query in FTS5's own syntax (a "quoted phrase", AND / OR / NOT, a prefix*, NEAR) is used
as typed; plain words ("harbour strike", "what's the budget?") are each quoted, so every
word must occur and punctuation never reads as syntax, and each is also looked for in its
other English spelling (breame's tables): Whisper writes "harbor" where a British user types
"harbour".
"""

from __future__ import annotations

import fnmatch
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any

from ..errors import InvalidOptionError
from ..qa.retrieval import STOP
from .store import RecordingInfo

_SYNTAX = re.compile(r'["*()^:]|\b(?:AND|OR|NOT|NEAR)\b')
_WORD = re.compile(r"\w+")
# What SQLite says of a damaged file, as against a query it cannot parse.
_DAMAGE = re.compile(r"malformed|not a database|corrupt|disk I/O|no such table", re.I)
_QUERY_HELP = ('quote a phrase ("harbour strike"), join words with AND / OR / NOT, end a '
               'word with * for a prefix (budg*)')


@dataclass(frozen=True)
class Hit:
    """One segment that matches: where it is and what was said. link: the recording's HTML
    report at that moment, relative to the library's folder (None without a report);
    score: bm25, higher is better."""

    recording: str
    start: float
    end: float
    speaker: str | None
    text: str
    score: float
    link: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def spellings(word: str) -> list[str]:
    """The word, lower case, and its British or American spelling where it has another."""
    from breame.spelling import get_american_spelling, get_british_spelling

    w = word.lower()
    return list(dict.fromkeys((w, get_american_spelling(w), get_british_spelling(w))))


def _term(word: str) -> str:
    forms = [f'"{f}"' for f in spellings(word)]
    return forms[0] if len(forms) == 1 else f"({' OR '.join(forms)})"


def all_words(query: str) -> str:
    """MATCH text for a user's query: as typed when it uses FTS5 syntax, else every word
    quoted (all must occur)."""
    q = query.strip()
    if not q:
        raise InvalidOptionError("the search query is empty")
    if _SYNTAX.search(q):
        return q
    words = _WORD.findall(q)
    if not words:
        raise InvalidOptionError(f"the search query {query!r} has no words to look for")
    return " AND ".join(_term(w) for w in words)


def any_word(text: str) -> str | None:
    """MATCH text for segments holding any of the words of `text` that can tell segments
    apart (stop words dropped), for ranking; None when there is none."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOP]
    return " OR ".join(f'"{f}"' for w in dict.fromkeys(words) for f in spellings(w)) or None


def recordings_matching(infos: Sequence[RecordingInfo], pattern: str) -> list[str]:
    """Stems whose name or audio file name matches the glob `pattern`."""
    return [r.stem for r in infos
            if fnmatch.fnmatchcase(r.stem, pattern)
            or fnmatch.fnmatchcase(PurePath(r.source).name, pattern)]


def query(conn: sqlite3.Connection, match: str, *, speaker: str | None = None,
          stems: Sequence[str] | None = None, limit: int | None = 10,
          order: str = "rank") -> list[Hit]:
    """Segments matching the FTS5 expression `match`, best first (order "rank") or in
    recording and time order ("time"); speaker (case-insensitive) and stems filter them."""
    where, params = ["segments_fts MATCH ?"], [match]
    if speaker:
        where.append("s.speaker = ? COLLATE NOCASE")
        params.append(speaker)
    if stems is not None:
        if not stems:
            return []
        where.append(f"s.stem IN ({','.join('?' * len(stems))})")
        params.extend(stems)
    # Ties go by recording and time, never by the order recordings were indexed in (which
    # depends on which finished first).
    by = "segments_fts.rank, s.stem, s.start" if order == "rank" else "s.stem, s.start"
    sql = (f"SELECT s.stem, s.start, s.end, s.speaker, s.text, segments_fts.rank "
           f"FROM segments_fts JOIN segments s ON s.id = segments_fts.rowid "
           f"WHERE {' AND '.join(where)} ORDER BY {by}")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    try:
        rows = conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as e:
        if _DAMAGE.search(str(e)):
            raise           # the file, not the query: the caller rebuilds it
        raise InvalidOptionError(f"the search query {match!r} is not one the index can "
                                 f"read ({e}): {_QUERY_HELP}") from None
    return [Hit(stem, start, end, who, text, round(-rank, 4))
            for stem, start, end, who, text, rank in rows]


__all__ = ["Hit", "all_words", "any_word", "query", "recordings_matching"]
