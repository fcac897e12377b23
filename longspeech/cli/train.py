"""`longspeech train`: the speech-language model's parts and the corrector."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app


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
        from ..correction.training.__main__ import main as correction_main

        raise typer.Exit(correction_main([what, *ctx.args]))
    from ..speechlm.training.__main__ import main as train_main

    raise typer.Exit(train_main([what, *ctx.args]))
