"""One entry point for all BLAB tasks, returning what the official scorer prints.

`score(task, items, predictions)` matches `python compute_task_metrics.py --task TASK
--predictions_file P --groundtruth_file G [--offset N]`: the same metric names and values
(word localization: Precision/Recall/f1_score; span tasks: f1/prec/recall; the rest:
accuracy, plus accuracy_with_offset_N_seconds for duration tasks), all in percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .accuracy_metrics import (emotion_scores, entire_duration_scores,
                               event_duration_scores, event_duration_short_scores,
                               speaker_number_scores)
from .loader import load_annotations
from .predictions import join, make_prediction, parse_predictions, read_predictions
from .span_metrics import span_localization_scores
from .tasks import DEFAULT_OFFSET, check_task
from .word_metrics import word_localization_scores


def score(task: str, items: Sequence[Mapping[str, Any]],
          predictions: Sequence[Mapping[str, Any]],
          offset: int = DEFAULT_OFFSET) -> dict[str, float]:
    """Official metrics of `predictions` against annotation `items` for one task.

    offset: the +-seconds tolerance of the duration tasks (official --offset, default 2).
    Items without a prediction are not scored (the official inner join); accuracy over no
    joined item is NaN.
    """
    check_task(task)
    preds = parse_predictions(list(predictions))
    if task == "word_localization":
        return word_localization_scores(items, preds)
    if task in ("advertisement_localization", "named_entity_localization"):
        return span_localization_scores(task, items, preds)
    if task == "speaker_number_estimation":
        return speaker_number_scores(items, preds)
    if task == "entire_duration":
        return entire_duration_scores(items, preds, offset)
    if task == "event_duration":
        return event_duration_scores(items, preds, offset)
    if task == "event_duration_short_audio":
        return event_duration_short_scores(items, preds, offset)
    return emotion_scores(task, items, preds)   # EMOTION_TASKS, the only ones left


def unanswered(task: str, items: Sequence[Mapping[str, Any]],
               predictions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An empty prediction for every item the official join leaves without one (an empty
    answer is a wrong answer under every task's metric)."""
    joined = {id(item) for item, _ in join(task, items, predictions)}
    return [dict(make_prediction(task, it, "")) for it in items if id(it) not in joined]


def score_all_items(task: str, items: Sequence[Mapping[str, Any]],
                    predictions: Sequence[Mapping[str, Any]],
                    offset: int = DEFAULT_OFFSET) -> dict[str, float]:
    """score() with every item counted: an item without a prediction scores as a wrong
    answer instead of being dropped by the official inner join. This is the number to
    compare with the paper, where every item of a task is asked."""
    preds = parse_predictions(list(predictions))
    return score(task, items, [*preds, *unanswered(task, items, preds)], offset)


def score_files(task: str, predictions_file: str | Path, groundtruth_file: str | Path,
                offset: int = DEFAULT_OFFSET) -> dict[str, float]:
    """score() on an official predictions file and annotation file."""
    return score(task, load_annotations(groundtruth_file), read_predictions(predictions_file),
                 offset)


def headline(task: str, scores: Mapping[str, float]) -> float:
    """The number a task is ranked by: F1 for localization, exact accuracy otherwise."""
    for key in ("f1_score", "f1", "accuracy"):
        if key in scores:
            return float(scores[key])
    raise KeyError(f"no headline metric for {task} in {sorted(scores)}")
