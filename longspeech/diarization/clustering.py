"""Cluster speaker embeddings when the number of speakers is unknown, in bounded time.

Default: spectral clustering whose speaker count comes from the normalised maximum eigengap
of a p-nearest-neighbour affinity graph, with p chosen per recording (Park et al., 2019,
"Auto-tuning spectral clustering for speaker diarization using normalized maximum
eigengap"). It needs no distance threshold, which matters because window embeddings of
real voices are far less tight than those of synthetic ones. The alternative is
average-linkage agglomerative clustering cut at a cosine distance.

Either runs on at most `max_windows` evenly spread windows; every window is then assigned
to the nearest centroid and a few spherical k-means steps refine the centroids. Clusters
that hold almost no speech, or whose centroids are near-identical, are folded into others
(unless the speaker bounds forbid it). Cost is bounded whatever the recording's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.linalg import eigh

MAX_AUTO_SPEAKERS = 20       # largest count the eigengap search considers without max_speakers
MIN_WINDOWS_PER_SPEAKER = 8  # ~6 s of speech at the default hop: less is not counted a voice


@dataclass(frozen=True)
class Clusters:
    labels: np.ndarray      # (n,) int cluster of each window, 0..k-1
    centroids: np.ndarray   # (k, d) unit vectors
    estimated: int          # count found before min/max bounds and merging were applied
    # the lowest centroid similarity at which two clusters were merged (None: no merge)
    merged_similarity: float | None = None


def normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def subset_indices(n: int, limit: int) -> np.ndarray:
    """At most `limit` indices spread evenly over range(n) (all of them when n <= limit)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


# -- spectral (NME-SC) ---------------------------------------------------------------------

def _pruned_laplacian(sim: np.ndarray, p: int) -> np.ndarray:
    """Laplacian of the graph keeping each row's p strongest links (binarised, symmetric)."""
    m = len(sim)
    keep = np.argpartition(-sim, min(p, m - 1), axis=1)[:, :p]
    adj = np.zeros_like(sim)
    np.put_along_axis(adj, keep, 1.0, axis=1)
    adj = 0.5 * (adj + adj.T)
    return np.diag(adj.sum(axis=1)) - adj


def _largest_eigenvalue(lap: np.ndarray) -> float:
    """Lanczos on the sparse Laplacian (p + 1 nonzeros a row): far cheaper than eigh."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import eigsh

    if len(lap) < 16:
        return float(np.linalg.eigvalsh(lap)[-1])
    return float(eigsh(csr_matrix(lap), k=1, which="LA", return_eigenvectors=False,
                       tol=1e-4)[0])


def _p_candidates(m: int) -> list[int]:
    lo, hi = max(2, m // 40), max(3, m // 4)
    step = max(1, (hi - lo) // 12)
    return list(range(lo, hi + 1, step))


def spectral(x: np.ndarray, lo: int, hi: int | None) -> tuple[np.ndarray, int]:
    """(labels of the rows of x, count the eigengap chose before bounds) by NME-SC.

    For each candidate p the count k is the largest eigengap of the pruned graph's
    Laplacian; the p with the smallest p / (gap / largest eigenvalue) wins (a clear gap at
    few neighbours). Unless min_speakers asks for more, k stays at most
    len(x) / MIN_WINDOWS_PER_SPEAKER: without that cap, short real dialogues (30-50 windows) split into 10+ "speakers".
    """
    from sklearn.cluster import KMeans

    m = len(x)
    cap = min(hi if hi is not None else MAX_AUTO_SPEAKERS, max(1, m // MIN_WINDOWS_PER_SPEAKER))
    kmax = min(max(cap, lo), m - 1)
    if kmax < 2 or m < 3:
        return np.zeros(m, np.int64), 1
    lo = min(lo, kmax)
    sim = x @ x.T
    best: tuple[float, int, int, int] | None = None   # (ratio, k, k_free, p)
    for p in _p_candidates(m):
        lap = _pruned_laplacian(sim, p)
        small = eigh(lap, eigvals_only=True, subset_by_index=[0, kmax])
        gaps = np.diff(small)                       # gaps[i]: eigenvalue i+2 minus i+1
        k_free = int(np.argmax(gaps)) + 1
        k = int(np.argmax(gaps[lo - 1:kmax])) + lo
        nme = float(gaps[k - 1]) / (_largest_eigenvalue(lap) + 1e-10)
        ratio = p / max(nme, 1e-10)
        if best is None or ratio < best[0]:
            best = (ratio, k, k_free, p)
    assert best is not None
    _, k, k_free, p = best
    if k == 1:
        return np.zeros(m, np.int64), k_free
    _, vecs = eigh(_pruned_laplacian(sim, p), subset_by_index=[0, k - 1])
    labels = KMeans(k, n_init=10, random_state=0).fit_predict(vecs)
    return labels.astype(np.int64), k_free


# -- agglomerative ---------------------------------------------------------------------------

def _large(labels: np.ndarray, min_size: int) -> list[int]:
    """Cluster ids holding at least min_size members, largest first."""
    ids, counts = np.unique(labels, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return [int(ids[i]) for i in order if counts[i] >= min_size]


def agglomerative(x: np.ndarray, lo: int, hi: int | None, threshold: float,
                  min_size: int) -> tuple[np.ndarray, int]:
    """(labels, count at the threshold) from an average-linkage tree on cosine distance.

    The count is that of clusters with at least min_size members at the threshold, moved
    into [lo, hi]; the tree is then cut where that many such clusters exist, so outliers
    never take a speaker's place.
    """
    m = len(x)
    if m < 2:
        return np.zeros(m, np.int64), 1
    tree = linkage(x, method="average", metric="cosine")
    labels = fcluster(tree, t=threshold, criterion="distance")
    found = max(1, len(_large(labels, min_size)))
    k = min(max(lo, found), hi if hi is not None else m, m)
    if len(_large(labels, min_size)) != k:
        for cut in range(k, min(m, k + 30) + 1):
            labels = fcluster(tree, t=cut, criterion="maxclust")
            if len(_large(labels, min_size)) >= k:
                break
    keep = _large(labels, 1)[:k]
    remap = {c: i for i, c in enumerate(keep)}
    return np.array([remap.get(int(c), -1) for c in labels], np.int64), found


# -- shared ----------------------------------------------------------------------------------

def _centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    ids = [c for c in np.unique(labels) if c >= 0]
    return normalise(np.stack([x[labels == c].mean(axis=0) for c in ids]))


def _refine(vectors: np.ndarray, centroids: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.argmax(vectors @ centroids.T, axis=1)
    for _ in range(steps):
        centroids = normalise(np.stack([
            vectors[labels == j].mean(axis=0) if np.any(labels == j) else centroids[j]
            for j in range(len(centroids))]))
        new = np.argmax(vectors @ centroids.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels, centroids


def _fold(vectors: np.ndarray, centroids: np.ndarray, lo: int, min_fraction: float,
          merge_similarity: float, steps: int
          ) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Drop near-empty clusters and merge near-identical ones while more than lo remain;
    also the lowest similarity at which two were merged (None: none were)."""
    labels, centroids = _refine(vectors, centroids, steps)
    merged_at: float | None = None
    while len(centroids) > max(lo, 1):
        share = np.bincount(labels, minlength=len(centroids)) / len(labels)
        sim = centroids @ centroids.T
        np.fill_diagonal(sim, -1.0)
        if share.min() < min_fraction:
            drop = int(np.argmin(share))
            centroids = np.delete(centroids, drop, axis=0)
        elif sim.max() > merge_similarity:
            at = float(sim.max())
            merged_at = at if merged_at is None else min(merged_at, at)
            i, j = np.unravel_index(int(np.argmax(sim)), sim.shape)
            members = (labels == i) | (labels == j)
            merged = normalise(vectors[members].mean(axis=0, keepdims=True))
            centroids = np.concatenate([np.delete(centroids, [i, j], axis=0), merged])
        else:
            break
        labels, centroids = _refine(vectors, centroids, steps)
    return labels, centroids, merged_at


def cluster(vectors: np.ndarray, *, bounds: tuple[int, int | None], method: str = "spectral",
            threshold: float = 0.3, min_fraction: float = 0.02, merge_similarity: float = 0.85,
            max_windows: int = 1000, refine_steps: int = 5) -> Clusters:
    """Labels for every row of `vectors` (unit vectors) with a speaker count in `bounds`."""
    n = len(vectors)
    lo, hi = bounds
    if n == 0:
        return Clusters(np.zeros(0, np.int64), np.zeros((0, vectors.shape[1]), np.float32), 0)
    if n == 1 or hi == 1:
        c = normalise(vectors.mean(axis=0, keepdims=True))
        return Clusters(np.zeros(n, np.int64), c.astype(np.float32), 1)
    # float32 throughout: the affinity matrices are the largest allocations here
    x = vectors[subset_indices(n, max_windows)].astype(np.float32)
    if method == "spectral":
        labels, estimated = spectral(x, lo, hi)
    else:
        min_size = max(2, int(np.ceil(min_fraction * len(x))))
        labels, estimated = agglomerative(x, lo, hi, threshold, min_size)
    centroids = _centroids(x, labels)
    labels_all, centroids, merged_at = _fold(vectors, centroids.astype(np.float32), lo,
                                             min_fraction, merge_similarity, refine_steps)
    return Clusters(labels_all.astype(np.int64), centroids.astype(np.float32), estimated,
                    None if merged_at is None else round(merged_at, 3))
