"""BLAB task names, annotation file names, and the prompts predictions must carry.

Names are the official ones: the Hugging Face dataset oreva/blab_long_audio has one
`<task>.json` per task, and the official scorer (compute_task_metrics.py) accepts the same
names plus `event_duration_short_audio` (BLAB-MINI style short clips).
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InvalidOptionError

TASKS: tuple[str, ...] = (
    "word_localization",
    "advertisement_localization",
    "named_entity_localization",
    "speaker_number_estimation",
    "entire_duration",
    "event_duration",
    "emotion_ranking",
    "emotion_reasoning",
)
# Scored by the official script but not a file of the long-audio release.
EXTRA_TASKS: tuple[str, ...] = ("event_duration_short_audio",)
SCORABLE_TASKS: tuple[str, ...] = TASKS + EXTRA_TASKS

LOCALIZATION_TASKS = ("word_localization", "advertisement_localization",
                      "named_entity_localization")
DURATION_TASKS = ("entire_duration", "event_duration", "event_duration_short_audio")
EMOTION_TASKS = ("emotion_ranking", "emotion_reasoning")

# Options a model may answer with (official extract_final_choice arguments).
EMOTION_OPTIONS = {"emotion_ranking": ("A", "B", "C", "D", "E"),
                   "emotion_reasoning": ("A", "B", "C", "D")}

# Text the official scorer cuts (with everything after it) from emotion prompts before joining.
EMOTION_SUFFIX = ("Listen to the audio and select one option from the provided choices "
                  "that best matches the answer")
# Text the official scorer appends to event-duration questions to rebuild the prompt it joins on.
LONG_DURATION_SUFFIX = (". Provide only the numeric value as an integer without any "
                        "explanation. Do not use the MM:SS format.")
SHORT_DURATION_SUFFIX = ". Return only a numeric integer value without any explanation."

DEFAULT_OFFSET = 2   # seconds; the official --offset default
MINI_SECONDS = 30.0  # BLAB-MINI: the benchmark's subset of clips shorter than this


def check_task(task: str) -> str:
    """Return task, or raise naming the tasks the official scorer supports."""
    if task not in SCORABLE_TASKS:
        raise InvalidOptionError(f"unknown BLAB task {task!r}; choose from "
                                 f"{', '.join(SCORABLE_TASKS)}")
    return task


def annotation_file(data_dir: str | Path, task: str) -> Path:
    """Where the official release keeps a task's annotations: DATA_DIR/<task>.json."""
    return Path(data_dir) / f"{check_task(task)}.json"


def prediction_prompt(task: str, question: str) -> str:
    """The prompt a model is asked and its prediction carries, so that the official scorer
    joins it to its item.

    The paper's appendix prompts are not in the official repository; what its scorer fixes is
    used: event-duration questions end with the official answer-format sentence
    (create_duration_prompt, "long" / "short"), emotion questions with the instruction the
    scorer cuts before joining (EMOTION_SUFFIX), every other task is asked its question.
    """
    check_task(task)
    if task == "event_duration":
        return f"{question}{LONG_DURATION_SUFFIX}"
    if task == "event_duration_short_audio":
        return f"{question}{SHORT_DURATION_SUFFIX}"
    if task in EMOTION_TASKS:
        return f"{question}\n{EMOTION_SUFFIX}."
    return question
