"""`longspeech report` and `longspeech models`: viewers and inventories."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import LongspeechError
from .app import _fail, app, models_app, out


@app.command("report")
def report_cmd(
    transcript: Annotated[Path, typer.Argument(help="Transcript JSON from `longspeech transcribe -f json`")],
    audio: Annotated[Optional[Path], typer.Option("-a", "--audio", help="The recording, for a player and click-to-seek")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="HTML file (default: TRANSCRIPT with .html)")] = None,
    chart: Annotated[Optional[Path], typer.Option(help="Also write a talk-time chart PNG here")] = None,
) -> None:
    """One self-contained HTML report: summary, speaker timeline, searchable transcript."""
    from ..report import load_report_input, talk_time_chart, write_report

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
    from ..models import list_models

    table = Table()
    for col in ("id", "source package", "size", "installed", "converted (transformers)",
                "description"):
        table.add_column(col)
    for m in list_models():
        size = f"{m.size_bytes / 1e6:.0f} MB" if m.size_bytes else "-"
        table.add_row(m.id, m.source, size, "yes" if m.installed else "no",
                      "yes" if m.converted else "no", m.description)
    out.print(table)
