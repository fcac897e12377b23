"""`longspeech transcribe`: a batch job with a progress bar and a summary table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table

from ..errors import InvalidOptionError, LongspeechError
from .app import DECODING, IO, LLM, MODEL, RUN, SPEAKERS, _clock, _fail, app, console
from .options import _correction_options, _diarization_options, _exit_now, _fusion_options


@app.command()
def transcribe(
    inputs: Annotated[list[str], typer.Argument(help="Audio files, directories, globs or @list.txt", show_default=False)],
    output_dir: Annotated[Path, typer.Option("-o", "--output-dir", help="Where outputs go", rich_help_panel=IO)] = Path("out"),
    formats: Annotated[str, typer.Option("-f", "--formats", help="Comma list of json, srt, vtt, tsv, txt, rttm, or all", rich_help_panel=IO)] = "json,txt",
    report: Annotated[bool, typer.Option("--report", help="Also write OUT_DIR/<stem>.html (viewer) and <stem>.talk_time.png (default: off)", rich_help_panel=IO)] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="Print each segment as it is decoded (default: off)", rich_help_panel=IO)] = False,
    max_line_width: Annotated[Optional[int], typer.Option(help="srt/vtt: at most this many characters per line (default: no limit)", rich_help_panel=IO)] = None,
    max_line_count: Annotated[Optional[int], typer.Option(help="srt/vtt: at most this many lines per cue (default: no limit)", rich_help_panel=IO)] = None,
    max_words_per_line: Annotated[Optional[int], typer.Option(help="srt/vtt: at most this many words per line (default: no limit)", rich_help_panel=IO)] = None,
    highlight_words: Annotated[bool, typer.Option("--highlight-words", help="srt/vtt: underline each word as it is spoken (default: off)", rich_help_panel=IO)] = False,
    model: Annotated[str, typer.Option(help="tiny.en, base, a local dir or a Hugging Face id", rich_help_panel=MODEL)] = "tiny.en",
    engine: Annotated[str, typer.Option(help="ct2 (CTranslate2, fast), transformers, or gfd (an LLM fused into the beam search; --fusion gfd says the same)", rich_help_panel=MODEL)] = "ct2",
    device: Annotated[str, typer.Option(help="auto (a GPU where there is one), cpu or cuda", rich_help_panel=MODEL)] = "auto",
    compute_type: Annotated[str, typer.Option(help="ct2 compute type (auto: int8 on CPU)", rich_help_panel=MODEL)] = "auto",
    threads: Annotated[int, typer.Option(help="CPU threads per decoder (0: the engine's default)", rich_help_panel=MODEL)] = 0,
    language: Annotated[Optional[str], typer.Option(help="Language code (default: detected)", rich_help_panel=DECODING)] = None,
    task: Annotated[str, typer.Option(help="transcribe, or translate (into English; multilingual models)", rich_help_panel=DECODING)] = "transcribe",
    beam_size: Annotated[int, typer.Option(help="Beam width", rich_help_panel=DECODING)] = 5,
    batch_size: Annotated[int, typer.Option(help="Chunks decoded together", rich_help_panel=DECODING)] = 8,
    temperature: Annotated[float, typer.Option(help="First decoding temperature", rich_help_panel=DECODING)] = 0.0,
    temperature_increment_on_fallback: Annotated[float, typer.Option(help="Step up to 1.0 when a chunk is too repetitive or unlikely (0: no fallback)", rich_help_panel=DECODING)] = 0.2,
    initial_prompt: Annotated[Optional[str], typer.Option(help="Text to condition every chunk on (default: none)", rich_help_panel=DECODING)] = None,
    gap_guard: Annotated[bool, typer.Option("--gap-guard/--no-gap-guard", help="Decode again any speech Whisper skipped at a chunk's start or end (slower, fewer dropped words)", rich_help_panel=DECODING)] = True,
    hotwords: Annotated[Optional[str], typer.Option(help="Words Whisper should expect, as faster-whisper's hotwords (default: none). For names and jargon, --fusion gfd --prompt is the stronger tool", rich_help_panel=DECODING)] = None,
    vad_threshold: Annotated[float, typer.Option(help="Silero VAD speech probability threshold", rich_help_panel=DECODING)] = 0.5,
    vad_pad: Annotated[float, typer.Option(help="Seconds of audio kept around each speech region", rich_help_panel=DECODING)] = 0.2,
    diarize: Annotated[bool, typer.Option("--diarize", help="Label speakers (who said what) (default: off)", rich_help_panel=SPEAKERS)] = False,
    diarizer: Annotated[str, typer.Option(help="embedded (offline), pyannote:<hub id>@<revision> or pyannote:<dir>", rich_help_panel=SPEAKERS)] = "embedded",
    num_speakers: Annotated[Optional[int], typer.Option(help="Exact number of speakers (default: estimated)", rich_help_panel=SPEAKERS)] = None,
    min_speakers: Annotated[int, typer.Option(help="At least this many speakers", rich_help_panel=SPEAKERS)] = 1,
    max_speakers: Annotated[Optional[int], typer.Option(help="At most this many speakers (default: no limit)", rich_help_panel=SPEAKERS)] = None,
    speaker: Annotated[Optional[list[str]], typer.Option("--speaker", help="NAME=CLIP: call the voice of this clip (5-30 s of it alone) by NAME where it is recognised; repeatable; implies --diarize", rich_help_panel=SPEAKERS)] = None,
    speakers_dir: Annotated[Optional[Path], typer.Option("--speakers", help="A folder of clips named after their speakers (Ann.wav, Bob.flac); implies --diarize", rich_help_panel=SPEAKERS)] = None,
    fusion: Annotated[Optional[str], typer.Option(help="gfd: fuse an LLM into Whisper's beam search (default: off)", rich_help_panel=LLM)] = None,
    llm: Annotated[str, typer.Option(help="LLM for --fusion/--correct: smollm2, a local dir or a Hugging Face id", rich_help_panel=LLM)] = "smollm2",
    fusion_weight: Annotated[float, typer.Option(help="GFD weight r of the LLM score", rich_help_panel=LLM)] = 0.2,
    prompt: Annotated[Optional[str], typer.Option(help="GFD: text that primes the LLM, e.g. a glossary of names and jargon (default: none)", rich_help_panel=LLM)] = None,
    prompt_file: Annotated[Optional[Path], typer.Option(help="GFD: read the LLM prompt from a file (default: none)", rich_help_panel=LLM)] = None,
    correct: Annotated[bool, typer.Option("--correct", help="LLM error correction; each edit is checked against the audio (default: off)", rich_help_panel=LLM)] = False,
    correct_format: Annotated[str, typer.Option(help="text (corrected text, diffed) or pairs (JSON correction pairs)", rich_help_panel=LLM)] = "text",
    correction_model: Annotated[Optional[Path], typer.Option(help="--correct: a LoRA adapter for the LLM, written by `longspeech train correction --out DIR`", rich_help_panel=LLM)] = None,
    runner: Annotated[str, typer.Option(help="auto (ray when --address or RAY_ADDRESS names a cluster, else local), local or ray", rich_help_panel=RUN)] = "auto",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster to join: auto, ray://host:port or host:port (default: none)", rich_help_panel=RUN)] = None,
    worker_timeout: Annotated[float, typer.Option(help="Ray: seconds one worker call may take before its recording fails (0: no limit)", rich_help_panel=RUN)] = 3600.0,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Reuse finished work a previous run left in OUT_DIR", rich_help_panel=RUN)] = True,
) -> None:
    """Transcribe audio files into OUT_DIR/<stem>.<format>."""
    from ..pipelines.transcribe import make_options
    from ..asr import fallback_temperatures
    from ..audio import VadOptions
    from ..outputs import FORMATS
    from ..outputs.subtitles import SubtitleOptions
    from ..pipelines.inputs import AUDIO_EXTENSIONS, audio_seconds, expand_inputs
    from ..pipelines.job import run_job
    from ..pipelines.runners import choose_runner

    if formats.strip() == "all":
        formats = ",".join(FORMATS)
    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        _fail(InvalidOptionError(f"unknown format(s) {', '.join(bad) or '(none)'}; "
                              f"choose from {', '.join(FORMATS)}"))
    try:
        fus = _fusion_options(fusion, llm, fusion_weight, prompt, prompt_file)
        opts = make_options(
            VadOptions(threshold=vad_threshold, speech_pad=vad_pad),
            model=model, engine="gfd" if fus is not None else engine, batch_size=batch_size,
            beam_size=beam_size, language=language, task=task, device=device,
            compute_type=compute_type, cpu_threads=threads, initial_prompt=initial_prompt,
            hotwords=hotwords, fusion=fus,
            temperatures=fallback_temperatures(temperature, temperature_increment_on_fallback))
        if not gap_guard:
            opts.min_gap = None
        opts.subtitles = SubtitleOptions(max_line_width, max_line_count, max_words_per_line,
                                         highlight_words)
        opts.subtitles.validate()
        empty: list[str] = []
        paths = expand_inputs(inputs, empty)
        known = None
        if speaker or speakers_dir:
            from ..diarization.enrolment import parse_known_speakers

            known = parse_known_speakers(speaker or (), speakers_dir)
        diar = (_diarization_options(diarizer, num_speakers, min_speakers, max_speakers, device,
                                     known or ())
                if diarize or known else None)
        corr = (_correction_options(llm, correct_format, model, correction_model)
                if correct else None)
    except (LongspeechError, OSError) as e:
        _fail(e)
    for item in empty:
        console.print(f"{item}: no audio files there (looked for "
                      f"{', '.join(sorted(AUDIO_EXTENSIONS))})", markup=False, style="yellow")
    if not paths:
        _fail(LongspeechError("no audio inputs found; pass audio files, directories that "
                              "hold them, globs or @list.txt files"))
    try:
        chosen = choose_runner(runner, address, worker_timeout or None)
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InvalidOptionError(f"cannot create the output directory {output_dir}: "
                                     f"{e.strerror or e}; choose another with -o") from None
    except LongspeechError as e:
        _fail(e)
    use_ray = chosen.name == "ray"
    durations = audio_seconds(paths)
    total = sum(durations.values()) or 1.0
    done: dict[str, float] = {}
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.completed:.0f}/{task.total:.0f} s audio"),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=console)

    lengths: dict[str, float] = {}
    corrected: dict[str, float] = {}
    correcting: list = []        # the second bar's task, once the LLM starts

    def on_progress(p) -> None:
        if p.stage == "correction":
            corrected[p.recording_id] = min(p.seconds_done, p.total_seconds)
            if not correcting:
                correcting.append(bar.add_task("correcting", total=total))
            bar.update(correcting[0], completed=sum(corrected.values()),
                       description=escape(f"correcting {p.recording_id[:19]}"))
            return
        # Progress is per recording: done never passes its length, nor the bar its total.
        lengths[p.recording_id] = p.total_seconds
        done[p.recording_id] = min(p.seconds_done, p.total_seconds)
        bar.update(task, total=max(total, sum(lengths.values())),
                   completed=sum(done.values()), description=escape(p.recording_id[:30]))

    def on_segments(stem: str, segments) -> None:
        for s in segments:
            bar.console.print(f"{stem} [{_clock(s.start)} --> {_clock(s.end)}] "
                              f"{(s.speaker + ': ') if s.speaker else ''}{s.text.strip()}",
                              markup=False, highlight=False)

    def on_file(r) -> None:
        mark = ("[green]ok[/green]" if r.status == "ok"
                else f"[red]{r.status}[/red]: {escape(r.error or '')}")
        bar.console.print(f"{escape(Path(r.input).name)}: {mark}")

    with bar:
        task = bar.add_task("starting Ray" if use_ray else "loading models", total=total)
        try:
            summary = run_job(paths, output_dir, opts, fmts, on_progress, on_file,
                              runner=chosen,
                              resume=resume, report=report, diarization=diar,
                              correction=corr, on_segments=on_segments if verbose else None)
        except LongspeechError as e:
            bar.stop()
            _fail(e)
        except KeyboardInterrupt:
            bar.stop()
            console.print(f"interrupted: {output_dir / 'job_summary.json'} lists what finished; "
                          "run the same command again to resume", markup=False)
            _exit_now(130)
    for note in summary.notes:
        console.print(f"note: {note}", markup=False, style="yellow")
    _print_summary(summary, output_dir, diar is not None)
    if summary.failed:
        raise typer.Exit(1)


def _print_summary(summary, output_dir: Path, speakers: bool) -> None:
    """A table on a terminal; piped or redirected, one plain line per file with its whole
    name (a table there would be cut to 80 columns)."""
    title = (f"{len(summary.files)} file(s) -> {output_dir} ({summary.runner}, "
             f"{summary.elapsed:.1f} s)")
    cols = ["file", "status", "audio s", "wall s", "x realtime", "chunks (resumed)"]
    cols += ["speakers"] if speakers else []
    rows = [[str(Path(r.input)), r.status,
             f"{r.duration:.1f}" if r.duration is not None else "-",
             f"{r.elapsed:.1f}", f"{r.realtime_factor}" if r.realtime_factor else "-",
             f"{r.chunks} ({r.resumed_chunks})" if r.status == "ok" else "-",
             *([str(r.speakers) if r.speakers is not None else "-"] if speakers else []),
             r.error or ""] for r in summary.files]
    if not console.is_terminal:
        console.print(title, markup=False, highlight=False, soft_wrap=True)
        for row in rows:
            fields = ", ".join(f"{c} {v}" for c, v in zip(cols[1:], row[1:]))
            error = f": {row[-1]}" if row[-1] else ""
            console.print(f"{row[0]}: {fields}{error}", markup=False, highlight=False,
                          soft_wrap=True)
        return
    table = Table(title=escape(title))
    for col in cols + ["error"]:
        table.add_column(col)
    for row in rows:
        table.add_row(escape(Path(row[0]).name), *row[1:-1], escape(row[-1][:200]))
    console.print(table)
