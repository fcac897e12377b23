"""`longspeech ask`: a question about one recording, or a batch of them as a job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InvalidOptionError, LongspeechError
from .app import _clock, _fail, app, console, out, print_json
from .library import ask_library


def _roles(given: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for r in given:
        name, sep, who = r.partition("=")
        if not sep or not name.strip() or not who.strip():
            raise InvalidOptionError(f"--role {r!r}: write ROLE=SPEAKER, e.g. host=SPEAKER_00")
        pairs.append((name.strip(), who.strip()))
    return tuple(pairs)


@app.command("ask")
def ask_cmd(
    audio: Annotated[Optional[Path], typer.Argument(help="The recording, or a job's output directory to ask across all its recordings")] = None,
    question: Annotated[Optional[str], typer.Argument(help="The question")] = None,
    mode: Annotated[str, typer.Option(help="cascade (transcript into the LLM; scores best) or lslm (compressed speech into the LLM)")] = "cascade",
    window: Annotated[int, typer.Option(help="lslm: speech vectors the LLM reads (L)")] = 750,
    method: Annotated[str, typer.Option(help="lslm compression: fusion, mostsim, avgpool or random")] = "fusion",
    model: Annotated[str, typer.Option(help="embedded, or a Qwen2-Audio hub id / local dir")] = "embedded",
    transcript: Annotated[Optional[Path], typer.Option(help="cascade: a transcript JSON to read instead of transcribing")] = None,
    report: Annotated[Optional[Path], typer.Option(help="The recording's HTML report: each evidence line gets a link that opens it at that moment (default: the transcript's .html beside it, when there is one)")] = None,
    batch: Annotated[Optional[Path], typer.Option(help='A job: a JSON list of {"path", "question"} answered into -o OUT (OUT/answers.json)')] = None,
    output_dir: Annotated[Optional[Path], typer.Option("-o", "--out", help="--batch: the job's output directory")] = None,
    runner: Annotated[str, typer.Option(help="--batch: auto (ray when --address or RAY_ADDRESS names a cluster, else local), local or ray")] = "auto",
    address: Annotated[Optional[str], typer.Option(help="--batch: Ray cluster to join")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="--batch: reuse answers a previous run left in OUT")] = True,
    llm: Annotated[str, typer.Option(help="cascade: the text LLM")] = "smollm2",
    model_dir: Annotated[Optional[Path], typer.Option(help="lslm: a model directory written by `longspeech train` (default: the shipped model)")] = None,
    role: Annotated[Optional[list[str]], typer.Option(help='Who a role is, for questions such as "How long did the host talk?": ROLE=SPEAKER (host=SPEAKER_00, me=Ann); repeatable')] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer and its evidence as JSON")] = False,
) -> None:
    """Answer a question about a recording, or (AUDIO a job's output directory) across
    every recording of it."""
    from ..api import ask, ask_batch, read_items
    from ..pipelines.ask import ANSWERS_FILE
    from ..pipelines.runners import choose_runner
    from ..qa import AskOptions

    try:
        opts = AskOptions(model=model, method=method, llm=llm,
                          model_dir=str(model_dir) if model_dir else None,
                          roles=_roles(role or []))
        if batch is not None:
            if output_dir is None:
                raise InvalidOptionError("--batch is a job: name its output directory with -o OUT")
            items = read_items(batch)
            recordings = len({it["path"] for it in items})
            chosen = choose_runner(runner, address)
            with console.status(f"answering {len(items)} question(s) about {recordings} "
                                f"recording(s) ({chosen.name})"):
                summary, rows = ask_batch(items, output_dir, mode, window, options=opts,
                                          runner=chosen, resume=resume)
            answered = sum(r["answer"] is not None for r in rows)
            console.print(f"{answered}/{len(rows)} answered -> {output_dir / ANSWERS_FILE}",
                          markup=False)
            for f in summary.failed:
                console.print(f"{f.input}: failed: {f.error}", markup=False)
            if summary.failed:
                raise typer.Exit(1)
            return
        if audio is not None and audio.is_dir() and batch is None:
            if question is None:
                raise InvalidOptionError(f"give a question about the recordings of {audio}")
            ask_library(audio, question, as_json, opts)
            return
        if question is None and transcript is not None and audio is not None:
            question, audio = str(audio), None      # `ask --transcript T.json "question"`
        if question is None or (audio is None and transcript is None):
            raise InvalidOptionError("give AUDIO and QUESTION (or --batch FILE)")
        with console.status(f"answering ({mode})"):
            a = ask(audio, question, mode, window, transcript=transcript, options=opts)
    except LongspeechError as e:
        _fail(e)
    if as_json:
        print_json(a.to_dict())
        return
    out.print(a.text, markup=False)
    beside = transcript.with_suffix(".html") if transcript is not None else None
    page = report or (beside if beside is not None and beside.is_file() else None)
    for e in a.evidence:
        who = f" {e.speaker}:" if e.speaker else ""
        out.print(f"  [{_clock(e.start)}]{who} {e.text}", markup=False, highlight=False,
                  soft_wrap=True)
        if page is not None:    # whole, so a terminal can open it
            out.print(f"    {page.resolve().as_uri()}#t={e.start:.2f}", markup=False,
                      highlight=False, soft_wrap=True)
    if a.supported is False:
        console.print("[yellow]the LLM's answer was not in the transcript's words, so the "
                      "passage about the question is quoted instead[/yellow]")
    console.print(f"[dim]{a.mode}, window {a.window}, {a.speech_tokens} speech vectors from "
                  f"{a.frames} frames, {a.seconds:.1f} s[/dim]" if a.mode == "lslm"
                  else f"[dim]{a.mode}, {a.seconds:.1f} s[/dim]")
