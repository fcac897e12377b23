"""Value parsers of the official BLAB scorer, reproduced rule for rule.

Each function names the official helper it behaves like (src/utils/numeric_utils.py and
src/utils/localization_utils.py). Where the official helper raises on odd input, and so stops
the whole official run, these return None (the answer then scores as wrong or is dropped);
on every input the official code accepts they return the same value.
"""

from __future__ import annotations

import ast
import math
import re
import string
from typing import Any

_PUNCT = str.maketrans("", "", string.punctuation)   # ASCII punctuation only
_INTEGER = re.compile(r"\b\d+\b")
_CHOICE = re.compile(r"\*\*\(([A-E])\)\*\*|\(([A-E])\)")
FRAME_SECONDS = 0.01


def strip_punctuation(text: str) -> str:
    """Remove ASCII punctuation, keep case (the official .lower() is commented out)."""
    return text.translate(_PUNCT)


def extract_integer(text: Any) -> int | None:
    """Official extract_integer: the first standalone run of digits in str(text).

    So "2.5" -> 2, "-3" -> 3, "1,000" -> 1, None -> None ("None" has no digits).
    """
    m = _INTEGER.search(str(text))
    return int(m.group()) if m else None


def clock_to_seconds(value: str) -> float | int | None:
    """Official convert_to_seconds on a string: "M:S" and "M.S" are minutes and seconds
    (so "1.30" is 90 s), anything else must be an integer ("90")."""
    try:
        if ":" in value:
            minutes, seconds = map(float, value.split(":"))
            return minutes * 60 + seconds
        if "." in value:
            minutes, seconds = map(float, value.split("."))
            return minutes * 60 + seconds
        return int(value)
    except ValueError:
        return None


def minutes_to_seconds(value: Any) -> int | None:
    """Official convert_minutes_to_seconds: "M:S" -> M*60+S, a number of minutes -> x60."""
    try:
        if isinstance(value, str) and ":" in value:
            minutes, seconds = map(float, value.split(":"))
            return int(minutes * 60 + seconds)
        return int(float(value) * 60)
    except (ValueError, TypeError, OverflowError):
        return None


def to_int(value: Any) -> int | None:
    """int(value), or None where int() raises (nan, inf, None)."""
    try:
        return int(value)
    except (ValueError, TypeError, OverflowError):
        return None


def literal_groundtruth(value: Any) -> Any:
    """Official safe_literal_eval: "[2, 4]" -> [2, 4], "3" -> 3, other strings unchanged."""
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return value
    return value


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not (isinstance(x, float) and math.isnan(x))


def is_correct(pred: Any, gt: Any) -> bool:
    """Official is_correct: inside an inclusive [lo, hi] list, else equal. A missing
    prediction (None) is wrong."""
    if pred is None:
        return False
    try:
        if isinstance(gt, list):
            return len(gt) >= 2 and bool(gt[0] <= pred <= gt[1])
        return bool(gt == pred)
    except TypeError:   # e.g. a range of strings: the official comparison raises here
        return False


def is_correct_with_offset(pred: Any, gt: Any, offset: float, threshold: float = 0) -> bool:
    """Official is_correct_threshold_offset: +-offset around a number (or widened [lo, hi]),
    applied only to bounds above `threshold` (0): a ground truth of 0 needs an exact 0.

    Raises ValueError for a ground truth that is neither, as the official code does.
    """
    def widened(v: float) -> tuple[float, float]:
        return (v - offset, v + offset) if v > threshold else (v, v)

    if isinstance(gt, (list, tuple)) and len(gt) == 2:
        low, _ = widened(gt[0])
        _, high = widened(gt[1])
    elif isinstance(gt, (int, float)):
        low, high = widened(gt)
    else:
        raise ValueError(f"ground truth {gt!r} is neither a number nor a [lo, hi] pair")
    return pred is not None and _is_number(pred) and bool(low <= pred <= high)


def final_choice(text: Any, options: tuple[str, ...]) -> str | None:
    """Official extract_final_choice: the last "(X)" or "**(X)**" whose X is an option."""
    letters = [a or b for a, b in _CHOICE.findall(str(text)) if a or b]
    for letter in reversed(letters):
        if letter in options:
            return letter
    return None


# -- span times (named entity / advertisement) ------------------------------------------------

def is_valid_span_time(value: Any) -> bool:
    """Official extract_values_by_keys.is_valid: a number, or a string that is only digits
    once ':' and '.' are removed."""
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, str) or value == "":
        return False
    return value.replace(":", "").replace(".", "").isdigit()


def span_time_seconds(value: Any) -> float | None:
    """Official convert_time: numbers and float strings as seconds; then, as written there,
    "a:b" = a s + b ms ("ss:SSS", so "1:30" is 1.03 s), "m:s.f" = m*60 + s + f/1000,
    "m:s:f" = m*60 + s + f/1000, "h:m:s.f" = h*3600 + m*60 + s + f/1000,
    "m.s.f" = m*60 + s + f/1000 (f is read as an integer of milliseconds)."""
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        return float(value)
    except ValueError:
        pass
    if m := re.fullmatch(r"(\d+):(\d+)", value):
        return int(m[1]) + int(m[2]) / 1000
    if m := re.fullmatch(r"(\d+):(\d+)\.(\d+)", value):
        return int(m[1]) * 60 + int(m[2]) + int(m[3]) / 1000
    if m := re.fullmatch(r"(\d+):(\d+):(\d+)", value):
        return int(m[1]) * 60 + int(m[2]) + int(m[3]) / 1000
    if m := re.fullmatch(r"(\d+):(\d+):(\d+)\.(\d+)", value):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) + int(m[4]) / 1000
    if m := re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", value):
        return int(m[1]) * 60 + int(m[2]) + int(m[3]) / 1000
    return None


def frame_index(seconds: float) -> int:
    """Official convert: int(seconds / 0.01), truncated (0.29 s -> frame 28)."""
    return int(seconds / FRAME_SECONDS)


# -- word times (word localization) ---------------------------------------------------------

def word_time(value: Any) -> float | None:
    """Official safe_float_conversion: numbers (bools too) and all-digit strings ("12") as
    floats; any other string, "12.5" included, becomes None and never matches."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.isdigit():
        try:
            return float(value)
        except ValueError:   # digits float() does not read, e.g. superscripts
            return None
    return None
