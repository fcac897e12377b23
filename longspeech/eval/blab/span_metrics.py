"""Named-entity and advertisement localization: frame-level P/R/F1 on 10 ms frames.

Reproduces the official src/utils/span_localization.py (evaluate_span_localization,
evaluate_alignments_frames, convert_time_to_frame_idx; adapted there from the SLUE toolkit)
with localization_utils.py (is_missing_span_prediction, convert_to_list_of_dicts,
normalize_span_output, extract_values_by_keys, remove_invalid_rows, update_false_neg_cnt).
The word-level SLUE scores the official code also computes are never reported, so they are
not reproduced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import json_repair
import numpy as np

from .parsing import frame_index, is_valid_span_time, span_time_seconds, strip_punctuation
from .predictions import join

# task -> (prediction text key, ground-truth span list key, ground-truth span text key)
SPAN_KEYS = {
    "advertisement_localization": ("advertisement", "ads_segment", "text"),
    "named_entity_localization": ("entity", "entities", "entity"),
}

Span = tuple[str, float, float]


@dataclass
class FrameCounts:
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0


def _repair(text: str) -> Any:
    try:
        return json_repair.loads(text.replace("\\", ""))
    except Exception:
        return None


def _normalize(data: Any, key: str) -> list[dict[str, Any]] | None:
    """Official normalize_span_output: None unless a list with no empty entry; keep dicts
    whose `key` is a string, with ASCII punctuation stripped from it (case kept)."""
    if not isinstance(data, list) or any(not d for d in data):
        return None
    return [{**d, key: strip_punctuation(d[key])} for d in data
            if isinstance(d, dict) and key in d and isinstance(d[key], str)]


def _spans(data: list[dict[str, Any]] | None, key: str) -> list[Span] | None:
    """Official extract_values_by_keys: [text, start, end] of entries with valid times."""
    if data is None:
        return None
    out = []
    for d in data:
        s, e = d.get("start"), d.get("end")
        if is_valid_span_time(s) and is_valid_span_time(e):
            start, end = span_time_seconds(s), span_time_seconds(e)
            if start is not None and end is not None:   # the official run stops here
                out.append((d[key], start, end))
    return out


def parse_span_prediction(text: Any, key: str) -> list[Span] | None:
    """A model output as (text, start, end) spans; None when missing or unusable.

    Official rules: None, "", "None", non-lists and lists holding a non-dict are missing
    (backslashes are removed before json_repair); entries need a string `key` and
    start/end given as numbers or digit strings ("12.5", "00:01.500"); entries whose text
    is empty once punctuation is stripped are dropped; no entry left means missing.
    """
    if not text or text == "None" or not isinstance(text, str):
        return None
    repaired = _repair(text)
    if not (isinstance(repaired, list) and all(isinstance(d, dict) for d in repaired)):
        return None
    spans = _spans(_normalize(repaired, key), key)
    if not spans:
        return None
    return [s for s in spans if all(v is not None and v != "" for v in s)]


def groundtruth_spans(groundtruth: Any, task: str) -> list[Span] | None:
    """The annotated spans (ads_segment / entities), normalised like predictions."""
    _, list_key, text_key = SPAN_KEYS[task]
    raw = groundtruth.get(list_key) if isinstance(groundtruth, dict) else None
    return _spans(_normalize(raw, text_key), text_key)


def groundtruth_words(groundtruth: Any) -> list[list[Any]]:
    """Official extract_values + remove_invalid_lists on word_timestamp: each entry's values
    in their JSON order, entries with exactly three values only."""
    raw = groundtruth.get("word_timestamp") if isinstance(groundtruth, dict) else None
    if not isinstance(raw, list):
        return []
    rows = [list(d.values()) for d in raw if isinstance(d, dict)]
    return [r for r in rows if len(r) == 3]


def frame_arrays(preds: Sequence[Span], words: Sequence[Sequence[Any]]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Official convert_time_to_frame_idx: 0/1 frames of predicted spans and of ground-truth
    runs of '#'-prefixed words.

    Quirks kept: the frame count is frame(max(start of the LAST prediction, end of the last
    word)), so prediction frames past it are cut; a negative frame index wraps around, as
    numpy slicing does.
    """
    last_word_end = float(words[-1][2]) if words else float("-inf")
    n = frame_index(max(float(preds[-1][1]), last_word_end))
    pred = np.zeros(max(n, 0))
    for _, start, end in preds:
        pred[frame_index(start):frame_index(end)] = 1
    gt = np.zeros(max(n, 0))
    run: list[float] | None = None   # [start of first '#' word, end of latest '#' word]
    for word, start, end in words:
        if isinstance(word, str) and word[:1] == "#":
            if run is None:
                run = [start, end]
            run[1] = end
        elif run is not None:
            gt[frame_index(float(run[0])):frame_index(float(run[1]))] = 1
            run = None
    if run is not None:
        gt[frame_index(float(run[0])):frame_index(float(run[1]))] = 1
    return pred, gt


def count_pair(preds: list[Span] | None, gt_spans: list[Span] | None,
               words: Sequence[Sequence[Any]], counts: FrameCounts) -> None:
    """Official evaluate_alignments_frames for one joined pair.

    With predictions, frames are compared against the '#' word runs; without (missing or
    unusable output), every frame of the annotated spans (not of the word runs) is a miss.
    """
    if preds:
        p, g = frame_arrays(preds, words)
        counts.true_pos += int(np.sum((p == 1) & (g == 1)))
        counts.false_pos += int(np.sum((p == 1) & (g != 1)))
        counts.false_neg += int(np.sum((p != 1) & (g == 1)))
    elif gt_spans:
        counts.false_neg += sum(frame_index(e) - frame_index(s) for _, s, e in gt_spans)


def frame_prf(counts: FrameCounts) -> dict[str, float]:
    """Official evaluate (SLUE): all zero without a true positive; percent; keys f1, prec,
    recall in that order."""
    tp, fn, fp = counts.true_pos, counts.false_neg, counts.false_pos
    if tp == 0:
        return {"f1": 0.0, "prec": 0.0, "recall": 0.0}
    recall = tp / (tp + fn)
    precision = tp / (tp + fp)
    f1 = 2 * precision * recall / (precision + recall)
    return {"f1": f1 * 100, "prec": precision * 100, "recall": recall * 100}


def span_localization_counts(task: str, items: Sequence[Mapping[str, Any]],
                             predictions: Sequence[Mapping[str, Any]]) -> FrameCounts:
    """Frame counts over all joined pairs (audio for ads; audio + prompt for entities)."""
    key = SPAN_KEYS[task][0]
    counts = FrameCounts()
    for item, pred in join(task, items, predictions):
        gt = item.get("groundtruth")
        count_pair(parse_span_prediction(pred.get("prediction"), key),
                   groundtruth_spans(gt, task), groundtruth_words(gt), counts)
    return counts


def span_localization_scores(task: str, items: Sequence[Mapping[str, Any]],
                             predictions: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """{"f1", "prec", "recall"} in percent on 10 ms frames."""
    return frame_prf(span_localization_counts(task, items, predictions))
