"""`longspeech ...`: the command line. Renders progress and summaries with rich."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table

from .errors import InvalidOptionError, LongspeechError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Hour-long podcasts and meetings into transcripts with word times.")
models_app = typer.Typer(no_args_is_help=True, help="Inspect the models longspeech can use.")
app.add_typer(models_app, name="models")
eval_app = typer.Typer(no_args_is_help=True, help="Benchmarks scored as their authors score them.")
app.add_typer(eval_app, name="eval")
console = Console(stderr=True)
out = Console()


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m):02d}:{s:06.3f}"


def _version(value: bool) -> None:
    if value:
        from . import __version__

        out.print(f"longspeech {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit")] = False
          ) -> None:
    """Hour-long podcasts and meetings into transcripts with word times."""


def _fail(e: Exception) -> None:
    """One line, then exit 2 for a usage error (an option), 1 for anything else."""
    console.print(f"[red]error:[/red] {escape(str(e))}")
    raise typer.Exit(2 if isinstance(e, InvalidOptionError) else 1)


IO, MODEL, DECODING, SPEAKERS, LLM, RUN = ("Input and output", "Model", "Decoding",
                                          "Speakers", "LLM stages", "Runner")


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
    from .api import make_options
    from .asr import fallback_temperatures
    from .audio import VadOptions
    from .outputs import FORMATS
    from .outputs.subtitles import SubtitleOptions
    from .pipelines.inputs import AUDIO_EXTENSIONS, audio_seconds, expand_inputs
    from .pipelines.job import run_job
    from .pipelines.runners import choose_runner

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
        opts.subtitles = SubtitleOptions(max_line_width, max_line_count, max_words_per_line,
                                         highlight_words)
        opts.subtitles.validate()
        empty: list[str] = []
        paths = expand_inputs(inputs, empty)
        known = None
        if speaker or speakers_dir:
            from .diarization.enrolment import parse_known_speakers

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


def _correction_options(llm: str, fmt: str, model: str, adapter: Path | None = None):
    from .correction import CorrectionOptions
    from .llm.adapters import read_manifest

    if adapter is not None:             # a damaged or foreign adapter fails before any model
        read_manifest(adapter)
    opts = CorrectionOptions(llm=llm, format=fmt, verifier=model,
                             adapter=str(adapter) if adapter is not None else None)
    opts.validate()
    return opts


@app.command("correct")
def correct_cmd(
    transcript: Annotated[Path, typer.Argument(help="Transcript JSON from `longspeech transcribe -f json`")],
    audio: Annotated[Optional[Path], typer.Option("-a", "--audio", help="The recording (to check edits against)")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Corrected JSON (default: <stem>.corrected.json)")] = None,
    llm: Annotated[str, typer.Option(help="smollm2, a local dir or a Hugging Face id")] = "smollm2",
    correct_format: Annotated[str, typer.Option(help="text or pairs")] = "text",
    verifier: Annotated[str, typer.Option(help="Whisper model that scores edits on the audio")] = "tiny.en",
    correction_model: Annotated[Optional[Path], typer.Option(help="A LoRA adapter for the LLM, written by `longspeech train correction --out DIR`")] = None,
) -> None:
    """LLM error correction of an existing transcript; every edit checked on the audio."""
    from .audio import probe
    from .correction import correct_transcript
    from .errors import AudioDecodeError
    from .files import atomic_write_text
    from .types import load_transcript

    try:
        tr = load_transcript(transcript)
        src = audio or Path(tr.recording.path)
        try:
            probe(src, checksum=False)          # before the LLM loads
        except AudioDecodeError as e:
            raise AudioDecodeError(f"{e}; edits are checked against the recording: pass it "
                                   "with --audio FILE") from None
        opts = _correction_options(llm, correct_format, verifier, correction_model)
        bar = Progress(TextColumn(f"correcting {escape(transcript.name)} with {escape(llm)}"),
                       BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
                       TimeElapsedColumn(), TimeRemainingColumn(), console=console)
        with bar:
            task = bar.add_task("correct", total=max(tr.duration, 1.0))
            # Each LLM turn reports how far into the recording its window reached.
            fixed = correct_transcript(tr, src, opts, progress=lambda p: bar.update(
                task, completed=min(p.seconds_done, p.total_seconds)))
            bar.update(task, completed=max(tr.duration, 1.0))
        target = output or transcript.with_suffix(".corrected.json")
        atomic_write_text(target, fixed.to_json() + "\n")
    except LongspeechError as e:
        _fail(e)
    recs = fixed.provenance.get("corrections", [])
    accepted = sum(1 for r in recs if r.get("accepted"))
    out.print(f"{accepted} of {len(recs)} proposed edit(s) accepted -> {target}", markup=False)


def _fusion_options(fusion: str | None, llm: str, weight: float, prompt: str | None,
                    prompt_file: Path | None):
    if fusion is None:
        if prompt or prompt_file:
            raise InvalidOptionError("--prompt/--prompt-file prime the LLM of --fusion gfd; "
                                  "for Whisper's own prompt use --initial-prompt")
        return None
    if fusion != "gfd":
        raise InvalidOptionError(f"unknown fusion {fusion!r}; the one method is gfd")
    if prompt and prompt_file:
        raise InvalidOptionError("give --prompt or --prompt-file, not both")
    if prompt_file:
        try:
            prompt = prompt_file.read_text(encoding="utf-8")
        except OSError as e:
            raise LongspeechError(f"cannot read --prompt-file {prompt_file}: {e.strerror}")
    from .fusion import FusionOptions

    opts = FusionOptions(weight=weight, llm=llm, prompt=prompt or "")
    opts.validate()
    return opts


def _exit_now(code: int) -> None:
    """Exit at once after Ctrl-C: the job state and summary are written, and a stage thread
    still inside a model call (native code) must not be waited for or torn down under it."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _diarization_options(diarizer: str, num: int | None, lo: int, hi: int | None,
                         device: str, known: tuple = ()):
    from .diarization import DiarizationOptions

    backend, _, model = diarizer.partition(":")
    return DiarizationOptions(backend=backend, model=model or None, num_speakers=num,
                              min_speakers=lo, max_speakers=hi, known=known,
                              device="cpu" if device == "auto" else device)


@app.command("diarize")
def diarize_cmd(
    audio: Annotated[list[Path], typer.Argument(help="Audio files")],
    output_dir: Annotated[Path, typer.Option("-o", "--output-dir", help="Where <stem>.rttm goes")] = Path("out"),
    diarizer: Annotated[str, typer.Option(help="embedded (offline) or pyannote[:<hub id or dir>]")] = "embedded",
    num_speakers: Annotated[Optional[int], typer.Option(help="Exact number of speakers, if known")] = None,
    min_speakers: Annotated[int, typer.Option(help="At least this many speakers")] = 1,
    max_speakers: Annotated[Optional[int], typer.Option(help="At most this many speakers")] = None,
    speaker: Annotated[Optional[list[str]], typer.Option("--speaker", help="NAME=CLIP: call the voice of this clip by NAME where it is recognised; repeatable")] = None,
    speakers_dir: Annotated[Optional[Path], typer.Option("--speakers", help="A folder of clips named after their speakers")] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
) -> None:
    """Who spoke when, without transcribing: OUT_DIR/<stem>.rttm per file (stems as
    `transcribe` names its outputs: inputs that share one are told apart by their folders)."""
    from .audio import probe
    from .diarization import annotation_to_rttm, turns_to_annotation
    from .diarization.enrolment import parse_known_speakers
    from .files import atomic_write_text
    from .pipelines.names import output_stems
    from .pipelines.stages import DiarizeRequest, DiarizeStage

    failed = 0
    readable = []
    for path in audio:                      # inputs are checked before the model loads
        try:
            probe(path, checksum=False)
            readable.append(path)
        except LongspeechError as e:
            failed += 1
            console.print(f"{escape(path.name)}: [red]failed[/red]: {escape(str(e))}")
    try:
        known = parse_known_speakers(speaker or (), speakers_dir)
        opts = _diarization_options(diarizer, num_speakers, min_speakers, max_speakers, device,
                                    known)
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InvalidOptionError(f"cannot create the output directory {output_dir}: "
                                     f"{e.strerror or e}; choose another with -o") from None
        if readable:
            with console.status(f"loading the {opts.backend} diarizer"):
                stage = DiarizeStage(opts)      # the job's stage: enrolled names included
    except LongspeechError as e:
        _fail(e)
    for path, stem in zip(readable, output_stems(readable)):
        try:
            with console.status(f"diarizing {escape(path.name)}"):
                ann = turns_to_annotation(stage(DiarizeRequest(str(path))).turns)
            target = output_dir / f"{stem}.rttm"
            atomic_write_text(target, annotation_to_rttm(ann, stem))
            console.print(f"{escape(path.name)}: [green]{len(ann.labels())} speaker(s)[/green] -> "
                          f"{escape(str(target))}")
        except LongspeechError as e:
            failed += 1
            console.print(f"{escape(path.name)}: [red]failed[/red]: {escape(str(e))}")
    if failed:
        raise typer.Exit(1)


@app.command("train", context_settings={"allow_extra_args": True,
                                        "ignore_unknown_options": True})
def train_cmd(
    ctx: typer.Context,
    what: Annotated[str, typer.Argument(help="ctc (the CTC density head), lslm (projector), correction-data (the corrector's dataset) or correction (its LoRA adapter)")],
) -> None:
    """Train the speech-language model's parts (ctc, lslm: --out --steps --batch-size --lr
    --sentences --facts --spans --seed --threads --lora-r --eval-items) or the corrector
    (correction-data: --out --sentences --models --snrs --rates; correction: --data --out
    --steps --batch-size --lr --lora-r --formats --contexts)."""
    if what in ("correction-data", "correction"):
        from .correction.training.__main__ import main as correction_main

        raise typer.Exit(correction_main([what, *ctx.args]))
    from .speechlm.training.__main__ import main as train_main

    raise typer.Exit(train_main([what, *ctx.args]))


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
    audio: Annotated[Optional[Path], typer.Argument(help="The recording")] = None,
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
) -> None:
    """Answer a question about a recording."""
    from .api import ask, ask_batch, read_items
    from .pipelines.ask import ANSWERS_FILE
    from .pipelines.runners import choose_runner
    from .qa import AskOptions

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
        if question is None and transcript is not None and audio is not None:
            question, audio = str(audio), None      # `ask --transcript T.json "question"`
        if question is None or (audio is None and transcript is None):
            raise InvalidOptionError("give AUDIO and QUESTION (or --batch FILE)")
        with console.status(f"answering ({mode})"):
            a = ask(audio, question, mode, window, transcript=transcript, options=opts)
    except LongspeechError as e:
        _fail(e)
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


@eval_app.command("blab")
def eval_blab(
    data: Annotated[Optional[Path], typer.Option(help="Directory of official annotation files (<task>.json)")] = None,
    audio_dir: Annotated[Optional[Path], typer.Option(help="Audio files, matched by basename (default: DATA/audio)")] = None,
    synthetic: Annotated[int, typer.Option(help="Make N synthetic BLAB-style recordings instead of --data")] = 0,
    minutes: Annotated[float, typer.Option(help="Length of each synthetic recording")] = 10.0,
    seed: Annotated[int, typer.Option(help="First seed of the synthetic recordings")] = 0,
    tasks: Annotated[str, typer.Option(help="Comma list of tasks (default: the eight long-audio tasks; event_duration_short_audio is the ninth)")] = "",
    system: Annotated[str, typer.Option(help="pipeline, lslm, or official-format predictions: predictions:DIR (DIR/<task>.json), predictions:TASK=FILE,... or predictions:FILE (one task)")] = "pipeline",
    output_dir: Annotated[Path, typer.Option("-o", "--out", help="Results, predictions, report")] = Path("blab_out"),
    runner: Annotated[str, typer.Option(help="ray (default), local or auto")] = "ray",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster to join")] = None,
    offset: Annotated[int, typer.Option(help="Duration tasks: tolerance in seconds")] = 2,
    skip_missing: Annotated[bool, typer.Option(help="Run even where some audio is absent: those items go unanswered (dropped by the official score, wrong in the all-items score)")] = False,
    mini: Annotated[bool, typer.Option("--mini", help="BLAB-MINI: only the items on recordings shorter than 30 s")] = False,
) -> None:
    """Answer BLAB tasks with a system and score them exactly as the benchmark does.

    Two numbers per task: "official" is compute_task_metrics.py's (its inner join drops
    unanswered items); "all items" counts every item, an unanswered one as wrong (the
    paper's way)."""
    from .eval.blab import TASKS
    from .eval.blab_run import BlabRunOptions, blab_inputs, run_blab
    from .pipelines.runners import choose_runner

    chosen = [t.strip() for t in tasks.split(",") if t.strip()] or list(TASKS)
    try:
        what = (f"synthesising {synthetic} recording(s) of {minutes:g} min" if synthetic
                else f"reading {data}")
        with console.status(escape(what)):
            items, audio_dir = blab_inputs(chosen, output_dir, data=data, audio_dir=audio_dir,
                                           synthetic=synthetic, minutes=minutes, seed=seed,
                                           skip_missing=skip_missing, mini=mini)
        opts = BlabRunOptions(tasks=chosen, system=system, offset=offset,
                              runner=choose_runner(runner, address))
        with console.status("answering and scoring (transcription on the runner)"):
            res = run_blab(items, audio_dir, output_dir, opts)
    except LongspeechError as e:
        _fail(e)
    table = Table(title=f"BLAB, system {system} -> {output_dir}/results.json, report.html")
    for col in ("task", "answered", "official (answered items)", "all items (unanswered = wrong)"):
        table.add_column(col)

    def metrics(scores: dict) -> str:
        return ", ".join(f"{k}={v:.1f}" for k, v in scores.items())

    for task, s in res.scores.items():
        table.add_row(task, f"{s['answered']}/{s['items']}", metrics(s["official"]),
                      metrics(s["all_items"]))
    out.print(table)
    for name, error in res.failed.items():
        console.print(f"[yellow]{escape(name)}[/yellow]: {escape(error)}")


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
        out.print(f"report: {html_path}", markup=False)
        if chart:
            out.print(f"chart: {talk_time_chart(tr, chart)}", markup=False)
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
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)   # library advice, not ours


def main() -> None:
    _quiet_libraries()
    try:
        app()
    except LongspeechError as e:
        console.print(f"[red]error:[/red] {escape(str(e))}")
        sys.exit(2 if isinstance(e, InvalidOptionError) else 1)


if __name__ == "__main__":
    main()
