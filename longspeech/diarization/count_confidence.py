"""How sure the embedded backend is of its speaker count, from its own clusters.

Measured on real speech (benchmarks/README.md, diarization): clusters of two different
voices were at most 0.78 alike (cosine of centroids) on ten real dialogues and synthetic
meetings, while one real voice recorded over many sessions split into clusters 0.89-0.90
alike, which merge_similarity (0.85) joins. But two different synthetic voices of one
synthesiser were as alike (0.865-0.908 on the QA benchmark's meetings), so a join below
SAME_VOICE is a guess either way: it made 3 of 26 meeting and dialogue counts one or two
short and 3 others right (the real dialogue `aztec` and the two single-voice recordings),
and no other recording had one. A count is "low" confidence when such a join was made, when
two of its speakers are more alike than AMBIGUOUS_SIMILARITY (between the two regimes), or
when a speaker holds less than SMALL_SHARE of the speech (a fragment may be a voice or a
stray cluster); "high" otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyannote.core import Annotation

AMBIGUOUS_SIMILARITY = 0.80
SAME_VOICE = 0.92
SMALL_SHARE = 0.05


def count_confidence(centroids: np.ndarray, ann: Annotation,
                     merged_similarity: float | None = None) -> dict[str, Any]:
    """{"speakers", "confidence", "closest_similarity", "smallest_share",
    "merged_similarity"} of a labelled recording (similarity None with fewer than two
    speakers; merged_similarity: the lowest at which clustering joined two clusters, None
    when it joined none)."""
    talk = [float(ann.label_duration(x)) for x in ann.labels()]
    total = sum(talk)
    smallest = round(min(talk) / total, 3) if total > 0 else None
    closest = None
    if len(centroids) >= 2:
        c = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        sims = c @ c.T
        closest = round(float(sims[np.triu_indices(len(c), 1)].max()), 3)
    low = ((closest is not None and closest > AMBIGUOUS_SIMILARITY)
           or (smallest is not None and len(talk) > 1 and smallest < SMALL_SHARE)
           or (merged_similarity is not None and merged_similarity < SAME_VOICE))
    return {"speakers": len(talk), "confidence": "low" if low else "high",
            "closest_similarity": closest, "smallest_share": smallest,
            "merged_similarity": merged_similarity}
