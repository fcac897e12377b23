"""From window-level speaker scores to speaker turns with frame-level boundaries.

Windows overlap, so every short frame of speech is seen by one or more windows. A frame takes
the speaker whose centroid the covering windows resemble most on average, which places a
change of speaker inside a region to about half a hop. A median filter then removes
flicker, and turns shorter than `min_turn` go to their neighbour.
"""

from __future__ import annotations

import numpy as np
from pyannote.core import Annotation, Segment
from scipy.ndimage import median_filter

from .windows import WindowEmbeddings


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, label) runs of equal labels, end exclusive."""
    if len(labels) == 0:
        return []
    cut = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], cut, [len(labels)]])
    return [(int(a), int(b), int(labels[a])) for a, b in zip(bounds[:-1], bounds[1:])]


def _absorb_short(labels: np.ndarray, min_frames: int) -> np.ndarray:
    """Relabel runs shorter than min_frames with the longer neighbouring run's label."""
    if min_frames <= 1:
        return labels
    out = labels.copy()
    for _ in range(3):
        runs = _runs(out)
        if len(runs) < 2:
            break
        changed = False
        for i, (a, b, _lab) in enumerate(runs):
            if b - a >= min_frames:
                continue
            left = runs[i - 1] if i > 0 else None
            right = runs[i + 1] if i + 1 < len(runs) else None
            cands = [r for r in (left, right) if r is not None]
            target = max(cands, key=lambda r: r[1] - r[0])
            out[a:b] = target[2]
            changed = True
        if not changed:
            break
    return out


def frame_labels(windows: WindowEmbeddings, scores: np.ndarray, region: int,
                 frame: float, smoothing: float, min_turn: float) -> tuple[float, np.ndarray]:
    """(first frame's start time, speaker index per frame) for one speech region."""
    s, e = windows.regions[region]
    n = max(1, int(np.ceil((e - s) / frame - 1e-9)))
    lo, hi = np.searchsorted(windows.region, [region, region + 1])
    k = scores.shape[1]
    acc = np.zeros((n, k), np.float64)
    cover = np.zeros(n, np.float64)
    for i in range(lo, hi):
        a = int(np.floor((windows.starts[i] - s) / frame))
        b = int(np.ceil((windows.ends[i] - s) / frame))
        a, b = max(a, 0), min(max(b, a + 1), n)
        acc[a:b] += scores[i]
        cover[a:b] += 1
    if cover.sum() == 0:
        return s, np.full(n, -1, np.int64)
    # frames no window reached (region edges) borrow the nearest covered frame
    covered = np.flatnonzero(cover > 0)
    if len(covered) < n:
        nearest = covered[np.clip(np.searchsorted(covered, np.arange(n)), 0, len(covered) - 1)]
        left = covered[np.clip(np.searchsorted(covered, np.arange(n)) - 1, 0, len(covered) - 1)]
        pick = np.where(np.abs(left - np.arange(n)) <= np.abs(nearest - np.arange(n)),
                        left, nearest)
        acc = acc[pick]
        cover = cover[pick]
    labels = np.argmax(acc / cover[:, None], axis=1)
    size = int(round(smoothing / frame)) | 1
    if size > 1 and n > size:
        labels = median_filter(labels, size=size, mode="nearest")
    return s, _absorb_short(labels, int(round(min_turn / frame)))


def to_annotation(windows: WindowEmbeddings, centroids: np.ndarray, *, frame: float,
                  smoothing: float, min_turn: float, uri: str | None = None) -> Annotation:
    """Speaker turns over the speech regions; regions no window reached take the speaker
    of the nearest region that has one."""
    ann = Annotation(uri=uri)
    if len(centroids) == 0 or len(windows.regions) == 0:
        return ann
    scores = windows.vectors @ centroids.T
    pieces: list[tuple[float, float, int]] = []
    unlabelled: list[int] = []
    for r in range(len(windows.regions)):
        s, labels = frame_labels(windows, scores, r, frame, smoothing, min_turn)
        if labels[0] < 0:
            unlabelled.append(r)
            continue
        e = windows.regions[r][1]
        for a, b, lab in _runs(labels):
            pieces.append((s + a * frame, min(s + b * frame, e), lab))
    if unlabelled and pieces:
        mids = np.array([(a + b) / 2 for a, b, _ in pieces])
        for r in unlabelled:
            s, e = windows.regions[r]
            j = int(np.argmin(np.abs(mids - (s + e) / 2)))
            pieces.append((s, e, pieces[j][2]))
    for a, b, lab in sorted(pieces):
        if b > a:
            ann[Segment(round(a, 3), round(b, 3))] = lab
    return ann
