"""Speaker number, entire duration, event duration and emotion tasks: accuracy in percent.

Reproduces the official src/metrics/all_tasks_metrics.py (NonLocalizationMetric and its
_compute_accuracy) with src/utils/numeric_utils.py. Accuracy is the mean over joined
(item, prediction) pairs times 100; with no joined pair it is NaN, the mean of nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...errors import BlabDataError
from .parsing import (clock_to_seconds, extract_integer, final_choice, is_correct,
                      is_correct_with_offset, literal_groundtruth, minutes_to_seconds, to_int)
from .predictions import join
from .tasks import DEFAULT_OFFSET, EMOTION_OPTIONS

# (prediction value, ground-truth value) pairs, ready for is_correct
Scored = list[tuple[Any, Any]]


def offset_key(offset: int) -> str:
    """The official name of the tolerance accuracy, e.g. accuracy_with_offset_2_seconds."""
    return f"accuracy_with_offset_{offset}_seconds"


def _mean_percent(flags: Sequence[bool]) -> float:
    # pandas' mean of a boolean column, then x100, in that order (same float rounding)
    return (sum(flags) / len(flags)) * 100 if flags else math.nan


def accuracy(scored: Scored, offset: int | None = None) -> dict[str, float]:
    """Official _compute_accuracy on already-extracted values: exact accuracy, and with an
    offset also the +-offset accuracy (only above a ground truth of 0)."""
    out = {"accuracy": _mean_percent([is_correct(p, g) for p, g in scored])}
    if offset is not None:
        flags = []
        for p, g in scored:
            try:
                flags.append(is_correct_with_offset(p, g, offset))
            except (ValueError, TypeError):
                raise BlabDataError(f"ground truth {g!r} is neither a number nor a [lo, hi] "
                                    "pair; duration answers must be numeric") from None
        out[offset_key(offset)] = _mean_percent(flags)
    return out


def _integer_pairs(task: str, items: Sequence[Mapping[str, Any]],
                   predictions: Sequence[Mapping[str, Any]],
                   truth: Callable[[Any], Any]) -> Scored:
    return [(extract_integer(p.get("prediction")), truth(it.get("groundtruth")))
            for it, p in join(task, items, predictions)]


def speaker_number_scores(items: Sequence[Mapping[str, Any]],
                          predictions: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """First integer of the answer vs the count, or inside an inclusive [lo, hi] range
    (ground-truth strings such as "[2, 4]" are read as Python literals). No offset."""
    return accuracy(_integer_pairs("speaker_number_estimation", items, predictions,
                                   literal_groundtruth))


def entire_duration_scores(items: Sequence[Mapping[str, Any]],
                           predictions: Sequence[Mapping[str, Any]],
                           offset: int = DEFAULT_OFFSET) -> dict[str, float]:
    """First integer of the answer (seconds) vs the ground truth as given; exact and
    +-offset accuracy."""
    return accuracy(_integer_pairs("entire_duration", items, predictions, lambda g: g),
                    offset)


def _str_clean(x: Any) -> str:
    return str(x).strip().strip(".")


def _event_truth(item: Mapping[str, Any]) -> int:
    """Official clean_and_convert_groundtruth: seconds as an integer, minutes x60 (or M:S)."""
    g = item.get("groundtruth")
    value = (minutes_to_seconds(_str_clean(g)) if item.get("answer_type") == "minutes"
             else to_int(_str_clean(g)))
    if value is None:
        raise BlabDataError(f"event_duration ground truth {g!r} ({item.get('answer_type')}) "
                            f"of {item.get('audio')} is not a number")
    return value


def event_prediction_seconds(prediction: Any, answer_type: str) -> int | None:
    """An event-duration answer in seconds, as the official scorer reads it.

    "seconds" items: "M:S" and "M.S" are minutes:seconds ("1.30" -> 90), else the whole
    answer must be an integer. "minutes" items: the first integer x60 ("1:30" -> 60).
    Then, as the official _compute_accuracy does, the first integer of that value is taken,
    so a negative answer loses its sign. Unreadable answers give None (wrong).
    """
    text = _str_clean(prediction)
    if answer_type == "minutes":
        first = extract_integer(text)
        value = minutes_to_seconds(first) if first is not None else None
    else:
        value = to_int(clock_to_seconds(text)) if text else None
    return extract_integer(value) if value is not None else None


def event_duration_scores(items: Sequence[Mapping[str, Any]],
                          predictions: Sequence[Mapping[str, Any]],
                          offset: int = DEFAULT_OFFSET) -> dict[str, float]:
    """Items with answer_type "seconds" or "minutes" joined on audio + the long-audio prompt
    (question + answer-format sentence); exact and +-offset accuracy in seconds."""
    scored: Scored = []
    for kind in ("seconds", "minutes"):   # the official concatenation order
        kind_items = [it for it in items if it.get("answer_type") == kind]
        for it, p in join("event_duration", kind_items, predictions):
            scored.append((event_prediction_seconds(p.get("prediction"), kind),
                           _event_truth(it)))
    return accuracy(scored, offset)


def event_duration_short_scores(items: Sequence[Mapping[str, Any]],
                                predictions: Sequence[Mapping[str, Any]],
                                offset: int = DEFAULT_OFFSET) -> dict[str, float]:
    """Short clips: joined on audio + question + the short answer sentence (chat tags such as
    <|user|> removed from prompts); first integer vs the ground truth as given."""
    return accuracy(_integer_pairs("event_duration_short_audio", items, predictions,
                                   lambda g: g), offset)


def emotion_scores(task: str, items: Sequence[Mapping[str, Any]],
                   predictions: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The last "(X)" / "**(X)**" naming a valid option (A-E ranking, A-D reasoning) vs
    correct_option; joined on audio + prompt with the emotion suffix removed."""
    options = EMOTION_OPTIONS[task]
    return accuracy([(final_choice(p.get("prediction"), options), it.get("correct_option"))
                     for it, p in join(task, items, predictions)])
