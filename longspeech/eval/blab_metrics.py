"""BLAB's eight metrics, computed exactly as the official scorer (compute_task_metrics.py of
orevaahia/brutally_long_audio_bench) computes them, quirks included:

- word localization: words keep their case and lose punctuation; a predicted word is a true
  positive when it matches the first still-unmatched ground-truth entry with the same word
  whose start and end are both within 0.2 s; micro precision/recall/F1 over files (x100).
  Predictions are repaired with json_repair; an unparseable prediction scores its file's
  words as misses; a file with no prediction row is not scored at all (inner join on audio);
  a start or end given as a string is usable only when it is all digits.
- advertisement / named-entity localization: frame-level (10 ms) precision/recall/F1 (x100).
  Ground-truth frames are the runs of '#'-prefixed words of groundtruth.word_timestamp; the
  frame count is set by the later of the last prediction's START and the last word's end.
  A prediction that parses to nothing counts the ground-truth spans' frames as misses.
  Advertisements join on audio, entities on audio and prompt.
- speaker number, entire duration: the first standalone integer of the prediction; exact
  match (a [lo, hi] ground truth is a range); duration adds accuracy within +-offset s;
  only items with a prediction are scored.
- event duration: joined on audio and the question + the scorer's format sentence;
  "seconds" items read MM:SS (or MM.SS: "11.5" is 11 min 5 s) predictions as minutes and
  seconds and other text as a whole number, "minutes" items take the first integer x 60.
  Where the official script would stop on an unconvertible prediction, it counts as wrong.
- emotion ranking (A-E) / reasoning (A-D): the last (X) or **(X)** of the prediction; joined
  on audio and prompt, the prompt cut at the scorer's instruction sentence.
"""

from __future__ import annotations

import ast
import math
import os
import re
import string
from collections.abc import Sequence
from typing import Any

import json_repair

EMOTION_SUFFIX = ("Listen to the audio and select one option from the provided choices that "
                  "best matches the answer")
DURATION_SUFFIX = (". Provide only the numeric value as an integer without any explanation. "
                   "Do not use the MM:SS format.")
_PUNCT = str.maketrans("", "", string.punctuation)

Item = dict[str, Any]


def _base(name: str) -> str:
    return os.path.basename(str(name))


# -- word localization -----------------------------------------------------------------------

def _number(v: Any) -> float | None:
    """A time the official word scorer can use: a number, or a string of digits only."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str) and v.isdigit():
        return float(v)
    return None


def _clean_words(x: Any) -> list[dict[str, Any]]:
    if not isinstance(x, list):
        return []
    return [d for d in x if isinstance(d, dict) and {"word", "start", "end"} <= set(d)
            and all(d[k] not in (None, "") for k in ("word", "start", "end"))]


def _word_tuples(x: Any) -> list[tuple[Any, float | None, float | None]] | None:
    if not isinstance(x, list):
        return None
    keep = [d for d in x if isinstance(d, dict) and d and all(k in d for k in
                                                              ("word", "start", "end"))]
    return [(d["word"].translate(_PUNCT), _number(d["start"]), _number(d["end"]))
            for d in keep if isinstance(d["word"], str)]


def _within(p: tuple[float | None, float | None], g: tuple[float | None, float | None],
            threshold: float = 0.2) -> bool:
    if any(v is None for v in p + g):
        return False
    return abs(p[0] - g[0]) <= threshold and abs(p[1] - g[1]) <= threshold


def word_prf(pairs: Sequence[tuple[list | None, list]]) -> tuple[float, float, float]:
    """Micro precision/recall/F1 (x100) over (predicted, ground-truth) word-tuple lists."""
    tp = fp = fn = 0
    for pred, gt in pairs:
        if pred is None:
            fn += len(gt)
            continue
        left = list(gt)
        for w, s, e in pred:
            hit = next((i for i, (gw, gs, ge) in enumerate(left)
                        if w == gw and _within((s, e), (gs, ge))), None)
            if hit is None:
                fp += 1
            else:
                tp += 1
                del left[hit]
        fn += len(left)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p * 100, r * 100, f * 100


def _repair(text: Any) -> Any:
    if not text or text == "None":
        return ""
    try:
        return json_repair.loads(str(text))
    except Exception:  # the scorer treats anything it cannot parse as no answer
        return ""


def score_word_localization(items: Sequence[Item], preds: Sequence[Item]) -> dict[str, float]:
    by_audio: dict[str, list[Item]] = {}
    for p in preds:
        by_audio.setdefault(_base(p["audio"]), []).append(p)
    pairs = []
    for it in items:
        for p in by_audio.get(_base(it["audio"]), []):   # inner join: unpredicted files drop
            parsed = _clean_words(_repair(p.get("prediction")))
            pairs.append((_word_tuples(parsed), _word_tuples(it["groundtruth"]) or []))
    p, r, f = word_prf(pairs)
    return {"Precision": p, "Recall": r, "f1_score": f}


# -- span (frame) localization -----------------------------------------------------------------

def _frame(sec: float) -> int:
    return int(sec / 0.01)


def convert_time(value: Any) -> float:
    """Seconds from a number or a "ss:SSS", "mm:ss.SSS", "mm:ss:SSS", "hh:mm:ss.SSS" or
    "mm.ss.SSS" string; the first pattern that matches the whole string wins."""
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    pats = [(r"(\d+):(\d+)", lambda m: int(m[0]) + int(m[1]) / 1000),
            (r"(\d+):(\d+)\.(\d+)", lambda m: int(m[0]) * 60 + int(m[1]) + int(m[2]) / 1000),
            (r"(\d+):(\d+):(\d+)", lambda m: int(m[0]) * 60 + int(m[1]) + int(m[2]) / 1000),
            (r"(\d+):(\d+):(\d+)\.(\d+)",
             lambda m: int(m[0]) * 3600 + int(m[1]) * 60 + int(m[2]) + int(m[3]) / 1000),
            (r"(\d+)\.(\d+)\.(\d+)", lambda m: int(m[0]) * 60 + int(m[1]) + int(m[2]) / 1000)]
    for pat, parse in pats:
        m = re.fullmatch(pat, str(value))
        if m:
            return parse(m.groups())
    raise ValueError(f"unrecognised time format: {value!r}")


def _valid_time(v: Any) -> bool:
    if v in (None, ""):
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, str) and v.replace(":", "").replace(".", "").isdigit()


def _spans(data: Any, key: str, keys: tuple[str, str, str]) -> list[list[Any]] | None:
    """The scorer's normalise -> extract -> drop-invalid chain for a list of span dicts."""
    if not isinstance(data, list) or any(not d for d in data):
        return None
    norm = [{**d, key: d[key].translate(_PUNCT)} for d in data
            if isinstance(d, dict) and key in d and isinstance(d[key], str)]
    rows = [[convert_time(d[k]) if k in keys[1:] else d.get(k) for k in keys] for d in norm
            if _valid_time(d.get(keys[1])) and _valid_time(d.get(keys[2]))]
    return [r for r in rows if all(x not in (None, "") for x in r)] or None


def _prediction_spans(text: Any, key: str) -> list[list[Any]] | None:
    if not text or text == "None":
        return None
    try:
        parsed = json_repair.loads(str(text).replace("\\", ""))
    except Exception:  # unparseable: a missing prediction
        return None
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not (isinstance(parsed, list) and all(isinstance(d, dict) for d in parsed)):
        return None
    return _spans(parsed, key, (key, "start", "end"))


def _mark(arr: list[int], start: float, end: float) -> None:
    """arr[frame(start):frame(end)] = 1, with Python slice semantics (as numpy's)."""
    for i in range(*slice(_frame(start), _frame(end)).indices(len(arr))):
        arr[i] = 1


def _gt_frames(words: list[list[Any]], n: int) -> list[int]:
    arr = [0] * n
    start = end = None
    inside = False
    for w, s, e in words:
        if len(w) > 0 and w[0] == "#":
            if not inside:
                start, inside = s, True
            end = e
        elif inside:
            _mark(arr, start, end)
            inside = False
    if inside:
        _mark(arr, start, end)
    return arr


def frame_prf(rows: Sequence[tuple[list | None, list[list[Any]], list[list[Any]]]]
              ) -> tuple[float, float, float]:
    """Frame P/R/F1 (x100) over (predicted spans, ground-truth words, ground-truth spans)."""
    tp = fp = fn = 0
    for pred, words, gt_spans in rows:
        if not pred:
            fn += sum(_frame(e) - _frame(s) for _, s, e in gt_spans)
            continue
        n = _frame(max(float(pred[-1][1]), float(words[-1][2])))
        p_arr = [0] * n
        for _, s, e in pred:
            _mark(p_arr, s, e)
        g_arr = _gt_frames(words, n)
        for p, g in zip(p_arr, g_arr):
            if p == g == 1:
                tp += 1
            elif p == 1:
                fp += 1
            elif g == 1:
                fn += 1
    if tp == 0:
        return 0.0, 0.0, 0.0
    r = tp / (tp + fn)
    p = tp / (tp + fp)
    return p * 100, r * 100, 2 * p * r / (p + r) * 100


def score_span_localization(task: str, items: Sequence[Item],
                            preds: Sequence[Item]) -> dict[str, float]:
    ads = task == "advertisement_localization"
    key, span_field, gt_key = (("advertisement", "ads_segment", "text") if ads
                               else ("entity", "entities", "entity"))
    rows = []
    for it in items:
        gt = it["groundtruth"]
        words = [list(d.values()) for d in gt.get("word_timestamp", [])]
        words = [w for w in words if len(w) == 3]
        gt_spans = _spans(gt.get(span_field), gt_key, (gt_key, "start", "end")) or []
        for p in preds:
            if _base(p["audio"]) != _base(it["audio"]):
                continue
            if not ads and p.get("prompt") != it["question"]:
                continue
            rows.append((_prediction_spans(p.get("prediction"), key), words, gt_spans))
    p, r, f = frame_prf(rows)
    return {"f1": f, "prec": p, "recall": r}


# -- numbers and choices -----------------------------------------------------------------------

def first_integer(text: Any) -> int | None:
    m = re.search(r"\b\d+\b", str(text))
    return int(m.group()) if m else None


def _literal(x: Any) -> Any:
    if isinstance(x, str):
        try:
            return ast.literal_eval(x)
        except (ValueError, SyntaxError):
            return x
    return x


def _correct(pred: Any, gt: Any) -> bool:
    if isinstance(gt, list):
        return pred is not None and gt[0] <= pred <= gt[1]
    return gt == pred


def _within_offset(pred: Any, gt: Any, offset: float) -> bool:
    def widen(v: float) -> tuple[float, float]:
        return (v - offset, v + offset) if v > 0 else (v, v)

    if pred is None or (isinstance(pred, float) and math.isnan(pred)):
        return False
    if isinstance(gt, (list, tuple)) and len(gt) == 2:
        lo, _ = widen(gt[0])
        _, hi = widen(gt[1])
        return lo <= pred <= hi
    lo, hi = widen(gt)
    return lo <= pred <= hi


def _accuracy(pairs: list[tuple[Any, Any]], offset: int | None) -> dict[str, float]:
    if not pairs:
        out = {"accuracy": math.nan}
        if offset is not None:
            out[f"accuracy_with_offset_{offset}_seconds"] = math.nan
        return out
    out = {"accuracy": 100 * sum(_correct(p, g) for p, g in pairs) / len(pairs)}
    if offset is not None:
        out[f"accuracy_with_offset_{offset}_seconds"] = 100 * sum(
            _within_offset(p, g, offset) for p, g in pairs) / len(pairs)
    return out


def _by_audio(preds: Sequence[Item]) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {}
    for p in preds:
        out.setdefault(_base(p["audio"]), []).append(p)
    return out


def to_seconds(value: str) -> float:
    """A "seconds" prediction: MM:SS or MM.SS read as minutes and seconds, else a number."""
    if ":" in value:
        m, s = map(float, value.split(":"))
        return m * 60 + s
    if "." in value:
        m, s = map(float, value.split("."))
        return m * 60 + s
    return int(value)


def minutes_to_seconds(value: Any) -> int:
    if isinstance(value, str) and ":" in value:
        m, s = map(float, value.split(":"))
        return int(m * 60 + s)
    return int(float(value) * 60)


def last_choice(text: Any, options: str) -> str | None:
    found = [a or b for a, b in re.findall(r"\*\*\(([A-E])\)\*\*|\(([A-E])\)", str(text))]
    return next((c for c in reversed(found) if c in options), None)


def score(task: str, items: Sequence[Item], preds: Sequence[Item],
          offset: int = 2) -> dict[str, float]:
    """The official metrics of one task for predictions [{audio, prediction, prompt}]."""
    if task == "word_localization":
        return score_word_localization(items, preds)
    if task in ("advertisement_localization", "named_entity_localization"):
        return score_span_localization(task, items, preds)
    by_audio = _by_audio(preds)
    pairs: list[tuple[Any, Any]] = []
    if task in ("speaker_number_estimation", "entire_duration"):
        for it in items:
            for p in by_audio.get(_base(it["audio"]), []):
                gt = _literal(it["groundtruth"]) if task == "speaker_number_estimation" \
                    else it["groundtruth"]
                pairs.append((first_integer(p.get("prediction")), gt))
        return _accuracy(pairs, offset if task == "entire_duration" else None)
    if task == "event_duration":
        for it in items:
            prompt = f"{it['question']}{DURATION_SUFFIX}"
            kind = it.get("answer_type")
            if kind not in ("seconds", "minutes"):
                continue
            for p in by_audio.get(_base(it["audio"]), []):
                if p.get("prompt") != prompt:
                    continue
                gt_text = str(it["groundtruth"]).strip().strip(".")
                text = str(p.get("prediction")).strip().strip(".")
                # The official script stops with an exception on a prediction it cannot
                # convert; here such a prediction is simply wrong.
                try:
                    pred = (int(to_seconds(text)) if kind == "seconds"
                            else minutes_to_seconds(first_integer(text)))
                except (TypeError, ValueError):
                    pred = None
                gt = int(gt_text) if kind == "seconds" else minutes_to_seconds(gt_text)
                pairs.append((pred, gt))
        return _accuracy(pairs, offset)
    if task in ("emotion_ranking", "emotion_reasoning"):
        letters = "ABCDE" if task == "emotion_ranking" else "ABCD"
        for it in items:
            for p in by_audio.get(_base(it["audio"]), []):
                prompt = str(p.get("prompt", ""))
                cut = re.search(EMOTION_SUFFIX, prompt)
                prompt = prompt[:cut.start()].strip() if cut else prompt.strip()
                if prompt == it["question"].strip():
                    pairs.append((last_choice(p.get("prediction"), letters),
                                  it.get("correct_option")))
        return _accuracy(pairs, None)
    raise ValueError(f"unknown BLAB task {task!r}")
