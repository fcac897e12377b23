"""`longspeech diarize`: who spoke when, without transcribing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..errors import InvalidOptionError, LongspeechError
from .app import _fail, app, console
from .options import _diarization_options


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
    from ..audio import probe
    from ..diarization import annotation_to_rttm, turns_to_annotation
    from ..diarization.enrolment import parse_known_speakers
    from ..files import atomic_write_text
    from ..pipelines.names import output_stems
    from ..pipelines.stages import DiarizeRequest, DiarizeStage

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
