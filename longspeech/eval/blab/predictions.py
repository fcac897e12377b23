"""The official prediction format ({audio, prediction, prompt} list) and how the official scorer
joins predictions to annotation items.

Predictions written here are scored unchanged by the official compute_task_metrics.py, and
predictions from any model in that format are scored here. The join is a database inner join,
as the official pandas merges are: an item with no prediction is not scored at all, an item
with two predictions is scored twice, a prediction with no item is ignored.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

from ...errors import BlabDataError
from ...files import atomic_write_text
from .tasks import (EMOTION_SUFFIX, EMOTION_TASKS, LONG_DURATION_SUFFIX,
                    SHORT_DURATION_SUFFIX, check_task, prediction_prompt)

Pair = tuple[Mapping[str, Any], Mapping[str, Any]]   # (annotation item, prediction)


class Prediction(TypedDict):
    """One model answer in the official format."""

    audio: str
    prediction: str
    prompt: str


def make_prediction(task: str, item: Mapping[str, Any], prediction: str) -> Prediction:
    """A prediction for `item` whose prompt the official scorer will join on."""
    return {"audio": item["audio"], "prediction": prediction,
            "prompt": prediction_prompt(task, item.get("question", ""))}


def parse_predictions(data: Any, source: str = "predictions") -> list[dict[str, Any]]:
    """Check that `data` is the official list of {audio, prediction, prompt}; return it."""
    if not isinstance(data, list):
        raise BlabDataError(f"{source}: expected a JSON list of {{audio, prediction, prompt}} "
                            f"objects, got {type(data).__name__}")
    for i, p in enumerate(data):
        if not isinstance(p, dict):
            raise BlabDataError(f"{source}: entry {i} is a {type(p).__name__}, not an object")
        if not isinstance(p.get("audio"), str):
            raise BlabDataError(f"{source}: entry {i} has no audio name; every prediction "
                                "needs the item's audio file name")
    return data


def read_predictions(path: str | Path) -> list[dict[str, Any]]:
    """Load an official-format predictions file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BlabDataError(f"no predictions file {p}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BlabDataError(f"cannot read predictions file {p}: {e}") from None
    return parse_predictions(data, str(p))


def write_predictions(path: str | Path, predictions: Sequence[Mapping[str, Any]]) -> Path:
    """Write predictions atomically as the official JSON list."""
    rows = [{"audio": p["audio"], "prediction": p.get("prediction"), "prompt": p.get("prompt")}
            for p in parse_predictions(list(predictions))]
    out = Path(path)
    atomic_write_text(out, json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    return out


# -- the official join keys ------------------------------------------------------------------

def audio_key(name: Any) -> Any:
    """os.path.basename, as every official merge applies to prediction audio names."""
    return os.path.basename(name) if isinstance(name, str) else None


def strip_emotion_suffix(prompt: Any) -> Any:
    """Official remove_after_sentence: cut the emotion suffix and all after it, then strip."""
    if not isinstance(prompt, str):
        return None
    at = prompt.find(EMOTION_SUFFIX)   # the official regex has no special characters
    return (prompt[:at] if at >= 0 else prompt).strip()


def strip_bracketed_tags(prompt: Any) -> Any:
    """Official short-audio prompt cleaning: strip, then drop chat tags like <|user|>."""
    if not isinstance(prompt, str):
        return None
    return re.sub(r"<\|.*?\|>", "", prompt.strip())


def _item_key(task: str, item: Mapping[str, Any]) -> Hashable:
    audio = item.get("audio")
    if task == "word_localization":
        # Quirk: the word scorer basenames prediction audio only, never the annotation's.
        return audio
    base = audio_key(audio)
    if task == "named_entity_localization":
        return (base, item.get("question"))
    if task == "event_duration":
        return (base, f"{item.get('question')}{LONG_DURATION_SUFFIX}")
    if task == "event_duration_short_audio":
        return (base, f"{item.get('question')}{SHORT_DURATION_SUFFIX}")
    if task in EMOTION_TASKS:
        q = item.get("question")
        return (base, q.strip() if isinstance(q, str) else None)
    return base


def _prediction_key(task: str, pred: Mapping[str, Any]) -> Hashable:
    base = audio_key(pred.get("audio"))
    prompt = pred.get("prompt")
    if task in ("named_entity_localization", "event_duration"):
        return (base, prompt if isinstance(prompt, str) else None)
    if task == "event_duration_short_audio":
        return (base, strip_bracketed_tags(prompt))
    if task in EMOTION_TASKS:
        return (base, strip_emotion_suffix(prompt))
    return base


def join(task: str, items: Sequence[Mapping[str, Any]],
         predictions: Sequence[Mapping[str, Any]]) -> list[Pair]:
    """(item, prediction) pairs the official scorer evaluates for `task`.

    Keys: audio basename for advertisement, speaker-number and entire-duration; raw item
    audio vs prediction basename for word localization; plus the exact question for named
    entities; plus question + answer-format sentence for event duration; plus the stripped
    question vs the prompt cut at the emotion suffix for the emotion tasks.
    """
    check_task(task)
    by_key: dict[Hashable, list[Mapping[str, Any]]] = defaultdict(list)
    for p in predictions:
        key = _prediction_key(task, p)
        if key is not None and not (isinstance(key, tuple) and None in key):
            by_key[key].append(p)
    pairs: list[Pair] = []
    for item in items:
        for p in by_key.get(_item_key(task, item), ()):
            pairs.append((item, p))
    return pairs
