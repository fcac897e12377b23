"""Read official BLAB annotation files and find each item's audio in a local directory.

The release (Hugging Face oreva/blab_long_audio) ships JSON only: one list per task whose
items carry video_url, audio, question, answer_type, groundtruth and, for the emotion tasks,
correct_option. Audio is fetched separately from video_url, so a local directory rarely has
every file; the loader says how many are missing and can skip them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

from ...errors import BlabDataError
from .tasks import EMOTION_TASKS, TASKS, annotation_file, check_task

# Extensions tried when an item's exact file name is absent but the same stem was
# downloaded in another container (e.g. "x.opus" fetched as "x.wav").
AUDIO_EXTENSIONS = (".opus", ".wav", ".flac", ".mp3", ".m4a", ".ogg", ".webm", ".aac",
                    ".mp4", ".mkv")


class BlabItem(TypedDict, total=False):
    """One annotation item, exactly as the official files spell it."""

    video_url: str
    audio: str
    question: str
    answer_type: str
    groundtruth: Any
    correct_option: str


def _required_keys(task: str | None) -> tuple[str, ...]:
    """Fields the official scorer reads for this task (a KeyError there, a clear error here)."""
    keys: tuple[str, ...] = ("audio", "groundtruth")
    if task in ("named_entity_localization", "event_duration", "event_duration_short_audio",
                *EMOTION_TASKS):
        keys += ("question",)
    if task in EMOTION_TASKS:
        keys += ("correct_option",)
    if task == "event_duration":
        keys += ("answer_type",)
    return keys


def _task_from_path(path: Path) -> str | None:
    return path.stem if path.stem in TASKS or path.stem == "event_duration_short_audio" else None


def parse_annotations(data: Any, task: str | None = None,
                      source: str = "annotations") -> list[dict[str, Any]]:
    """Check that `data` is a list of items with the fields `task` needs; return it."""
    if not isinstance(data, list):
        raise BlabDataError(f"{source}: expected a JSON list of items, got "
                            f"{type(data).__name__}; use the official <task>.json files")
    need = _required_keys(task)
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise BlabDataError(f"{source}: item {i} is a {type(item).__name__}, not an object")
        lacking = [k for k in need if k not in item]
        if lacking:
            raise BlabDataError(f"{source}: item {i} lacks {', '.join(lacking)} "
                                f"(needed to score {task or 'any task'})")
        if not isinstance(item["audio"], str) or not item["audio"]:
            raise BlabDataError(f"{source}: item {i} has no audio file name")
    return data


def find_audio(name: str, audio_dir: str | Path) -> Path | None:
    """The file for an item's `audio` in audio_dir: same basename, else same stem with an
    audio extension (one match only), else None."""
    base = os.path.basename(name)
    d = Path(audio_dir)
    exact = d / base
    if exact.is_file():
        return exact
    stem = Path(base).stem
    found = [d / (stem + ext) for ext in AUDIO_EXTENSIONS if (d / (stem + ext)).is_file()]
    return found[0] if len(found) == 1 else None


def resolve_audio(items: Iterable[Mapping[str, Any]],
                  audio_dir: str | Path) -> tuple[dict[str, Path], list[str]]:
    """Map each item's audio basename to its local file; also return the missing basenames
    (sorted, each once)."""
    found: dict[str, Path] = {}
    missing: set[str] = set()
    for item in items:
        base = os.path.basename(item["audio"])
        if base in found or base in missing:
            continue
        path = find_audio(base, audio_dir)
        if path is None:
            missing.add(base)
        else:
            found[base] = path
    return found, sorted(missing)


def _missing_message(source: str, n_missing: int, n_items: int, names: Sequence[str],
                     audio_dir: Path) -> str:
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return (f"{source}: {n_missing} of {n_items} item(s) have no audio file in {audio_dir} "
            f"({len(names)} file(s): {shown}). Download them from each item's video_url, "
            "or skip those items (skip_missing=True).")


def load_annotations(path: str | Path, audio_dir: str | Path | None = None, *,
                     skip_missing: bool = False) -> list[dict[str, Any]]:
    """Items of one official annotation file (<task>.json).

    With audio_dir, every item's audio must be found there by basename (see find_audio);
    otherwise a BlabDataError says how many items lack audio, unless skip_missing drops them.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BlabDataError(f"no annotation file {p}; download the JSON files of "
                            "oreva/blab_long_audio (one <task>.json per task)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BlabDataError(f"cannot read annotation file {p}: {e}") from None
    items = parse_annotations(data, _task_from_path(p), str(p))
    if audio_dir is None:
        return items
    adir = Path(audio_dir)
    if not adir.is_dir():
        raise BlabDataError(f"audio directory {adir} does not exist; give the folder holding "
                            "the downloaded recordings")
    _, missing = resolve_audio(items, adir)
    if not missing:
        return items
    lost = set(missing)
    kept = [it for it in items if os.path.basename(it["audio"]) not in lost]
    if skip_missing:
        return kept
    raise BlabDataError(_missing_message(str(p), len(items) - len(kept), len(items), missing,
                                         adir))


def load_blab(data_dir: str | Path, tasks: Sequence[str] = TASKS,
              audio_dir: str | Path | None = None, *,
              skip_missing: bool = False) -> dict[str, list[dict[str, Any]]]:
    """task -> items for each task's DATA_DIR/<task>.json; all missing files named at once."""
    for t in tasks:
        check_task(t)
    absent = [t for t in tasks if not annotation_file(data_dir, t).is_file()]
    if absent:
        raise BlabDataError(f"{data_dir}: missing annotation file(s) "
                            f"{', '.join(t + '.json' for t in absent)}; download them from "
                            "oreva/blab_long_audio or choose other tasks")
    return {t: load_annotations(annotation_file(data_dir, t), audio_dir,
                                skip_missing=skip_missing) for t in tasks}
