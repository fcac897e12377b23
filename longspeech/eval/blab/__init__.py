"""BLAB (Brutally Long Audio Bench): official annotation files, the official prediction
format, and the eight official metrics reproduced exactly (quirks included), so scores
here equal those of the benchmark's compute_task_metrics.py.
"""

from .loader import (BlabItem, find_audio, load_annotations, load_blab, parse_annotations,
                     resolve_audio)
from .predictions import (Prediction, join, make_prediction, parse_predictions,
                          read_predictions, write_predictions)
from .scoring import headline, score, score_all_items, score_files, unanswered
from .tasks import (DEFAULT_OFFSET, EMOTION_SUFFIX, EXTRA_TASKS, LONG_DURATION_SUFFIX,
                    MINI_SECONDS, SCORABLE_TASKS, SHORT_DURATION_SUFFIX, TASKS, annotation_file,
                    prediction_prompt)

__all__ = [
    "BlabItem", "DEFAULT_OFFSET", "EMOTION_SUFFIX", "EXTRA_TASKS", "LONG_DURATION_SUFFIX",
    "MINI_SECONDS",
    "Prediction", "SCORABLE_TASKS", "SHORT_DURATION_SUFFIX", "TASKS", "annotation_file",
    "find_audio", "headline", "join", "load_annotations", "load_blab", "make_prediction",
    "parse_annotations", "parse_predictions", "prediction_prompt", "read_predictions",
    "resolve_audio", "score", "score_all_items", "score_files", "unanswered",
    "write_predictions",
]
