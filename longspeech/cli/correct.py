"""`longspeech correct`: LLM error correction of a transcript already written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..errors import LongspeechError
from .app import _fail, app, console, out
from .options import _correction_options


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
    from ..audio import probe
    from ..correction import correct_transcript
    from ..errors import AudioDecodeError
    from ..files import atomic_write_text
    from ..types import load_transcript

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
