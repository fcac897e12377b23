"""`longspeech ...`: the command line. Renders progress and summaries with rich."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table

from .errors import LongspeechError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Hour-long podcasts and meetings into transcripts with word times.")
models_app = typer.Typer(no_args_is_help=True, help="Inspect the models longspeech can use.")
app.add_typer(models_app, name="models")
console = Console(stderr=True)
out = Console()


def _fail(e: Exception) -> None:
    console.print(f"[red]error:[/red] {e}")
    raise typer.Exit(2)


@app.command()
def transcribe(
    inputs: Annotated[list[str], typer.Argument(help="Audio files, directories, globs or @list.txt")],
    output_dir: Annotated[Path, typer.Option("-o", "--output-dir", help="Where outputs go")] = Path("out"),
    formats: Annotated[str, typer.Option("-f", "--formats", help="Comma list of json,srt,vtt,tsv,txt")] = "json,txt",
    model: Annotated[str, typer.Option(help="tiny.en, base, a local dir or a Hugging Face id")] = "tiny.en",
    engine: Annotated[str, typer.Option(help="ct2 (CTranslate2, fast) or transformers")] = "ct2",
    batch_size: Annotated[int, typer.Option(help="Chunks decoded together")] = 8,
    beam_size: Annotated[int, typer.Option(help="Beam width")] = 5,
    language: Annotated[Optional[str], typer.Option(help="Language code; detected if omitted")] = None,
    device: Annotated[str, typer.Option(help="auto (a GPU where there is one), cpu or cuda")] = "auto",
    compute_type: Annotated[str, typer.Option(help="ct2 compute type (auto: int8 on CPU)")] = "auto",
    initial_prompt: Annotated[Optional[str], typer.Option(help="Text to condition every chunk on")] = None,
    runner: Annotated[str, typer.Option(help="auto (ray for batches and clusters), local or ray")] = "auto",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster to join: auto, ray://host:port or host:port")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Reuse finished chunks a previous run left in OUT_DIR")] = True,
    report: Annotated[bool, typer.Option("--report", help="Also write OUT_DIR/<stem>.html (viewer) and <stem>.talk_time.png")] = False,
) -> None:
    """Transcribe audio files into OUT_DIR/<stem>.<format>."""
    from .api import get_engine, make_options
    from .audio import probe
    from .outputs import FORMATS
    from .pipelines.inputs import expand_inputs
    from .pipelines.job import run_job
    from .pipelines.runners import LocalRunner, RayRunner

    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        _fail(LongspeechError(f"unknown format(s) {', '.join(bad) or '(none)'}; "
                              f"choose from {', '.join(FORMATS)}"))
    try:
        opts = make_options(model=model, engine=engine, batch_size=batch_size,
                            beam_size=beam_size, language=language, device=device,
                            compute_type=compute_type, initial_prompt=initial_prompt)
        paths = expand_inputs(inputs)
    except (LongspeechError, OSError) as e:
        _fail(e)
    if not paths:
        _fail(LongspeechError("no audio inputs found; pass files, directories or globs"))
    if runner not in ("auto", "local", "ray"):
        _fail(LongspeechError(f"unknown runner {runner!r}; choose auto, local or ray"))
    if runner == "local" and address:
        _fail(LongspeechError("--address joins a Ray cluster; it needs --runner ray or auto"))
    use_ray = runner == "ray" or (runner == "auto" and (address is not None or len(paths) > 1))
    durations = {}
    for p in paths:
        try:
            durations[p.name] = probe(p, checksum=False).duration
        except LongspeechError:
            pass  # it fails again, with its message, in the job
    eng = None
    if not use_ray:
        with console.status(f"loading {model} ({engine})"):
            try:
                eng = get_engine(opts.asr)
            except LongspeechError as e:
                _fail(e)
    total = sum(durations.values()) or 1.0
    done: dict[str, float] = {}
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.completed:.0f}/{task.total:.0f} s audio"),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=console)

    def on_progress(p) -> None:
        done[p.recording_id] = p.seconds_done
        bar.update(task, completed=sum(done.values()), description=p.recording_id[:30])

    def on_file(r) -> None:
        mark = "[green]ok[/green]" if r.status == "ok" else f"[red]failed[/red]: {r.error}"
        bar.console.print(f"{Path(r.input).name}: {mark}")

    with bar:
        task = bar.add_task("starting Ray" if use_ray else "transcribing", total=total)
        try:
            summary = run_job(paths, output_dir, opts, fmts, on_progress, on_file,
                              runner=RayRunner(address) if use_ray else LocalRunner(),
                              engine=eng, resume=resume, report=report)
        except LongspeechError as e:
            bar.stop()
            _fail(e)
    table = Table(title=f"{len(summary.files)} file(s) -> {output_dir} "
                        f"({summary.runner}, {summary.elapsed:.1f} s)")
    for col in ("file", "status", "audio s", "wall s", "x realtime", "chunks (resumed)",
                "error"):
        table.add_column(col)
    for r in summary.files:
        table.add_row(Path(r.input).name, r.status,
                      f"{r.duration:.1f}" if r.duration is not None else "-",
                      f"{r.elapsed:.1f}", f"{r.realtime_factor}" if r.realtime_factor else "-",
                      f"{r.chunks} ({r.resumed_chunks})" if r.status == "ok" else "-",
                      (r.error or "")[:200])
    console.print(table)
    if summary.failed:
        raise typer.Exit(1)


@app.command("report")
def report_cmd(
    transcript: Annotated[Path, typer.Argument(help="Transcript JSON from `longspeech transcribe -f json`")],
    audio: Annotated[Optional[Path], typer.Option("-a", "--audio", help="The recording, for a player and click-to-seek")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="HTML file (default: TRANSCRIPT with .html)")] = None,
    chart: Annotated[Optional[Path], typer.Option(help="Also write a talk-time chart PNG here")] = None,
) -> None:
    """One self-contained HTML report: summary, speaker timeline, searchable transcript."""
    from .report import load_report_input, talk_time_chart, write_report

    try:
        tr, corrections = load_report_input(transcript)
        html_path = write_report(tr, output or transcript.with_suffix(".html"), audio,
                                 corrections=corrections)
        out.print(f"report: {html_path}")
        if chart:
            out.print(f"chart: {talk_time_chart(tr, chart)}")
    except LongspeechError as e:
        _fail(e)


@models_app.command("list")
def models_list() -> None:
    """Embedded models: source package, size, installed and converted status."""
    from .models import list_models

    table = Table()
    for col in ("id", "source package", "size", "installed", "converted (transformers)",
                "description"):
        table.add_column(col)
    for m in list_models():
        size = f"{m.size_bytes / 1e6:.0f} MB" if m.size_bytes else "-"
        table.add_row(m.id, m.source, size, "yes" if m.installed else "no",
                      "yes" if m.converted else "no", m.description)
    out.print(table)


def _quiet_libraries() -> None:
    """The CLI draws its own progress; third-party bars and advice would garble it."""
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    _quiet_libraries()
    try:
        app()
    except LongspeechError as e:
        console.print(f"[red]error:[/red] {e}")
        sys.exit(2)


if __name__ == "__main__":
    main()
