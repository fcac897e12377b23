"""`longspeech index` and `longspeech search`, and `ask OUT` over a whole library: parse the
flags, render hits and answers (a line each, or --json)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional
from urllib.parse import unquote

import typer

from ..errors import LongspeechError
from .app import _fail, app, console, out, print_json


def _where(rec: dict[str, Any]) -> str:
    from ..qa.cascade import clock

    who = f" {rec['speaker']}:" if rec.get("speaker") else ""
    return f"{rec['recording']} [{clock(rec['start'])}]{who} {rec['text']}"


def print_hits(out_dir: Path, hits: list[dict[str, Any]]) -> None:
    """Each hit on a line, and under it the link that opens its report at the moment."""
    for h in hits:
        out.print(_where(h), markup=False, highlight=False, soft_wrap=True)
        if h.get("link"):      # whole, so a terminal can open it
            page, _, moment = h["link"].partition("#")
            uri = (out_dir / unquote(page)).resolve().as_uri()
            out.print(f"    {uri}#{moment}", markup=False, highlight=False, soft_wrap=True)


def _notices(lib: Any) -> None:
    for line in lib.notices:
        console.print(f"note: {line}", markup=False, style="yellow")


@app.command("index")
def index_cmd(
    output_dir: Annotated[Path, typer.Argument(help="A job's output directory (-o OUT of transcribe)")],
) -> None:
    """(Re)build OUT/library.sqlite and OUT/index.html from OUT's JSON transcripts."""
    from ..library import Library, require_transcripts, update, write_page

    try:
        require_transcripts(output_dir)
        with console.status(f"indexing {output_dir}"):
            got = update(output_dir, force=True)
            page = write_page(output_dir)
        with Library(output_dir) as lib:
            recs = lib.recordings()
    except LongspeechError as e:
        _fail(e)
    for line in got.notices:
        console.print(f"note: {line}", markup=False, style="yellow")
    out.print(f"{len(recs)} recording(s) -> {output_dir / 'library.sqlite'}; page: {page}",
              markup=False)


@app.command("search")
def search_cmd(
    output_dir: Annotated[Path, typer.Argument(help="A job's output directory (-o OUT of transcribe)")],
    query: Annotated[str, typer.Argument(help='Words (all must occur), or FTS5 syntax: "a phrase", AND / OR / NOT, prefix*')],
    speaker: Annotated[Optional[str], typer.Option(help="Only this speaker's lines")] = None,
    recording: Annotated[Optional[str], typer.Option(help="Only recordings whose name matches this glob")] = None,
    limit: Annotated[int, typer.Option(help="At most this many hits")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as a JSON list")] = False,
) -> None:
    """Search every recording of a job's output: ranked lines with the moment to open."""
    from ..library import Library

    try:
        with Library(output_dir) as lib:
            hits = [h.to_dict() for h in lib.search(query, speaker=speaker, recording=recording,
                                                    limit=limit)]
    except LongspeechError as e:
        _fail(e)
    _notices(lib)
    if as_json:
        print_json(hits)
        return
    if not hits:
        console.print("no line matches", markup=False)
        raise typer.Exit(1)
    print_hits(output_dir, hits)


def ask_library(output_dir: Path, question: str, as_json: bool, options: Any) -> None:
    """`ask OUT "question"`: an answer across every recording of OUT."""
    from ..library import Library

    try:
        with Library(output_dir, options) as lib:
            with console.status("answering across the library"):
                answer = lib.ask(question).to_dict()
    except LongspeechError as e:
        _fail(e)
    _notices(lib)
    if as_json:
        print_json(answer)
        return
    out.print(answer["text"], markup=False, highlight=False, soft_wrap=True)
    print_hits(output_dir, answer["evidence"])
    console.print(f"[dim]{answer['kind']}, {answer['model']}, {answer['seconds']:.1f} s[/dim]")
