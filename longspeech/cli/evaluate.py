"""`longspeech eval`: benchmarks scored as their authors score them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import LongspeechError
from .app import _fail, console, eval_app, out


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
    device: Annotated[str, typer.Option(help="auto (CUDA inside each actor where torch sees a GPU, else the CPU with a notice), cpu or cuda")] = "auto",
    skip_missing: Annotated[bool, typer.Option(help="Run even where some audio is absent: those items go unanswered (dropped by the official score, wrong in the all-items score)")] = False,
    mini: Annotated[bool, typer.Option("--mini", help="BLAB-MINI: only the items on recordings shorter than 30 s")] = False,
) -> None:
    """Answer BLAB tasks with a system and score them exactly as the benchmark does.

    Two numbers per task: "official" is compute_task_metrics.py's (its inner join drops
    unanswered items); "all items" counts every item, an unanswered one as wrong (the
    paper's way)."""
    from ..eval.blab import TASKS
    from ..eval.blab_run import BlabRunOptions, blab_inputs, run_blab
    from ..pipelines.runners import choose_runner

    chosen = [t.strip() for t in tasks.split(",") if t.strip()] or list(TASKS)
    try:
        what = (f"synthesising {synthetic} recording(s) of {minutes:g} min" if synthetic
                else f"reading {data}")
        with console.status(escape(what)):
            items, audio_dir = blab_inputs(chosen, output_dir, data=data, audio_dir=audio_dir,
                                           synthetic=synthetic, minutes=minutes, seed=seed,
                                           skip_missing=skip_missing, mini=mini)
        opts = BlabRunOptions(tasks=chosen, system=system, offset=offset, device=device,
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
    for note in res.notes:
        console.print(f"[yellow]note[/yellow]: {escape(note)}", soft_wrap=True)
