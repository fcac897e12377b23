"""BLAB annotation and prediction files in the official layout.

Annotations: one JSON list per task (blab_long_audio/<task>.json), items with video_url,
audio, question, answer_type, groundtruth and (emotion tasks) correct_option; the audio is
found in a local directory by basename. Predictions: a JSON list of {audio, prediction,
prompt}, the format the official scorer reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InvalidOptionError
from ..outputs.writers import atomic_write_text

REQUIRED = ("audio", "question", "groundtruth")


def load_annotations(path: str | Path) -> list[dict[str, Any]]:
    """Items of one task file; a clear error for a missing or malformed file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidOptionError(f"{p}: no such annotation file (expected <task>.json from "
                                 "the BLAB dataset, or use --synthetic N)") from None
    except (OSError, json.JSONDecodeError) as e:
        raise InvalidOptionError(f"{p}: not a BLAB annotation file ({e})") from None
    if not isinstance(data, list):
        raise InvalidOptionError(f"{p}: a BLAB annotation file holds a JSON list of items")
    for i, it in enumerate(data):
        missing = [k for k in REQUIRED if not isinstance(it, dict) or k not in it]
        if missing:
            raise InvalidOptionError(f"{p}: item {i} lacks {', '.join(missing)}")
    return data


def match_audio(items: list[dict[str, Any]], audio_dir: str | Path, *, skip_missing: bool
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """Items whose audio file exists in audio_dir (by basename), and the missing names.

    Without skip_missing, any missing file is an error that says how many are missing.
    """
    d = Path(audio_dir)
    keep, missing = [], []
    for it in items:
        name = Path(str(it["audio"])).name
        if (d / name).is_file():
            keep.append(it)
        else:
            missing.append(name)
    if missing and not skip_missing:
        raise InvalidOptionError(
            f"{len(missing)} of {len(items)} items have no audio in {d} (first: {missing[0]}); "
            "download them (video_url) or pass --skip-missing to score only the others")
    return keep, missing


def write_predictions(path: str | Path, predictions: list[dict[str, Any]]) -> Path:
    p = Path(path)
    atomic_write_text(p, json.dumps(predictions, indent=1, ensure_ascii=False) + "\n")
    return p


def read_predictions(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InvalidOptionError(f"{p}: cannot read predictions ({e})") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) and "audio" in d
                                             for d in data):
        raise InvalidOptionError(f"{p}: predictions are a JSON list of "
                                 "{audio, prediction, prompt} objects")
    return data
