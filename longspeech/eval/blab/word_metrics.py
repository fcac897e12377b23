"""Word localization: micro precision / recall / F1 of predicted word timestamps.

Reproduces the official src/utils/word_localization.py (evaluate_word_localization) with
localization_utils.py (is_missing_prediction, clean_prediction_dicts,
normalize_word_level_output, overlap_criterion, calculate_precision_recall_f1_multiple).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import json_repair

from .parsing import strip_punctuation, word_time
from .predictions import join

THRESHOLD_S = 0.2   # both ends of a word must be within 200 ms

WordTuple = tuple[Any, float | None, float | None]


@dataclass
class Counts:
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0


def _complete(d: Any) -> bool:
    """Official clean_prediction_dicts: a dict with word, start and end, none None or ""."""
    return (isinstance(d, dict) and all(k in d for k in ("word", "start", "end"))
            and all(d[k] is not None and not (isinstance(d[k], str) and d[k] == "")
                    for k in ("word", "start", "end")))


def _repair(text: Any) -> Any:
    try:
        return json_repair.loads(text)
    except Exception:   # the official check treats any failure as a missing prediction
        return None


def parse_word_prediction(text: Any) -> list[dict[str, Any]]:
    """The usable {word, start, end} dicts of a model output; [] for a missing one.

    Official is_missing_prediction: None, "", "None", output json_repair cannot turn into a
    list, or a list with no complete dict is missing, and all its words become misses.
    """
    if not text or text == "None" or not isinstance(text, str):
        return []
    repaired = _repair(text)
    if not isinstance(repaired, list):
        return []
    return [d for d in repaired if _complete(d)]


def normalize_words(entries: Any) -> list[WordTuple]:
    """Official normalize_word_level_output + safe_float_conversion: keep dicts with word,
    start and end and a string word, strip ASCII punctuation (case kept), times as floats
    or None (strings other than all digits)."""
    if not isinstance(entries, list):
        return []
    out: list[WordTuple] = []
    for d in entries:
        if (isinstance(d, dict) and d and all(k in d for k in ("word", "start", "end"))
                and isinstance(d["word"], str)):
            out.append((strip_punctuation(d["word"]), word_time(d["start"]),
                        word_time(d["end"])))
    return out


def within(pred: tuple[float | None, float | None], gt: tuple[float | None, float | None],
           threshold: float = THRESHOLD_S) -> bool:
    """Official overlap_criterion: |start diff| <= 0.2 and |end diff| <= 0.2; None never
    matches."""
    if any(v is None for v in pred + gt):
        return False
    return abs(pred[0] - gt[0]) <= threshold and abs(pred[1] - gt[1]) <= threshold


def count_file(preds: Sequence[WordTuple], gts: Sequence[WordTuple], counts: Counts) -> None:
    """Official per-file matching: each prediction takes the first still-unmatched ground
    truth entry with the same word within the threshold; the rest of the ground truth are
    false negatives."""
    unmatched = list(gts)
    for word, start, end in preds:
        hit = next((i for i, (gw, gs, ge) in enumerate(unmatched)
                    if word == gw and within((start, end), (gs, ge))), None)
        if hit is None:
            counts.false_pos += 1
        else:
            counts.true_pos += 1
            del unmatched[hit]
    counts.false_neg += len(unmatched)


def prf(counts: Counts) -> dict[str, float]:
    """Micro P/R/F1 in percent, keys as the official script prints them."""
    tp, fp, fn = counts.true_pos, counts.false_pos, counts.false_neg
    precision = 0.0 if tp + fp == 0 else tp / (tp + fp)
    recall = 0.0 if tp + fn == 0 else tp / (tp + fn)
    f1 = 0.0 if precision + recall == 0 else 2 * (precision * recall) / (precision + recall)
    return {"Precision": precision * 100, "Recall": recall * 100, "f1_score": f1 * 100}


def word_localization_counts(items: Sequence[Mapping[str, Any]],
                             predictions: Sequence[Mapping[str, Any]]) -> Counts:
    """True/false positives and false negatives over all joined (item, prediction) pairs."""
    counts = Counts()
    for item, pred in join("word_localization", items, predictions):
        count_file(normalize_words(parse_word_prediction(pred.get("prediction"))),
                   normalize_words(item.get("groundtruth")), counts)
    return counts


def word_localization_scores(items: Sequence[Mapping[str, Any]],
                             predictions: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """{"Precision", "Recall", "f1_score"} in percent, micro-averaged over files."""
    return prf(word_localization_counts(items, predictions))
