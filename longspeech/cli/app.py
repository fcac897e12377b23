"""The command line's shared parts: the typer apps, the consoles, one-line errors."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import InvalidOptionError

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
        from .. import __version__

        out.print(f"longspeech {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit")] = False
          ) -> None:
    """Hour-long podcasts and meetings into transcripts with word times."""


def print_json(obj: object) -> None:
    """A command's --json result on stdout, whole (no wrapping, no markup)."""
    import json

    out.print(json.dumps(obj, indent=1, ensure_ascii=False), markup=False, highlight=False,
              soft_wrap=True)


def _fail(e: Exception) -> None:
    """One line, then exit 2 for a usage error (an option), 1 for anything else."""
    console.print(f"[red]error:[/red] {escape(str(e))}")
    raise typer.Exit(2 if isinstance(e, InvalidOptionError) else 1)


IO, MODEL, DECODING, SPEAKERS, LLM, RUN = ("Input and output", "Model", "Decoding",
                                          "Speakers", "LLM stages", "Runner")


def _quiet_libraries() -> None:
    """The CLI draws its own progress; third-party bars and advice would garble it."""
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)   # library advice, not ours
