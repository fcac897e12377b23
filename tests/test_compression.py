"""FastLongSpeech compression: hand-worked examples, a plain-loop reference, batching rules."""

from __future__ import annotations

import math

import pytest
import torch

from longspeech.compression import (
    CompressionOptions,
    CTCDensityHead,
    DensityHeadConfig,
    compress,
    compress_batch,
    fuse_groups,
    halving_schedule,
    merge_groups,
    neighbour_similarity,
    pool_schedule,
)
from longspeech.errors import InvalidOptionError, ModelNotAvailableError

EPS = 1e-7


def norm_density(x: torch.Tensor) -> torch.Tensor:
    """A density easy to work by hand: |x|^2 / (1 + |x|^2)."""
    q = (x * x).sum(-1)
    return q / (1 + q)


# -- plain-loop reference, written from the spec's formulas ---------------------------------

def ref_cos(a: list[float], b: list[float]) -> float:
    dot = sum(p * q for p, q in zip(a, b))
    return dot / (math.sqrt(sum(p * p for p in a)) * math.sqrt(sum(q * q for q in b)))


def ref_round(x: list[list[float]], t_next: int, density) -> list[list[float]]:
    """One round: top-r neighbour pairs, frame j+1 joins j's group, density-weighted mean."""
    t = len(x)
    d = [density(row) for row in x]
    e = [ref_cos(x[j], x[j + 1]) for j in range(t - 1)]
    r = t - t_next
    chosen = sorted(range(t - 1), key=lambda j: (-e[j], j))[:r]
    mark = [0] * t
    for j in chosen:
        mark[j + 1] = 1
    groups: list[list[int]] = []
    for j in range(t):
        if mark[j]:
            groups[-1].append(j)
        else:
            groups.append([j])
    out = []
    for g in groups:
        s = sum(d[j] for j in g)
        out.append([sum(d[j] * x[j][k] for j in g) / (s + EPS) for k in range(len(x[0]))])
    return out


def ref_halving(t: int, window: int) -> list[int]:
    out = []
    while t > window:
        t = int(t / 2) if t / 2 > window else window
        out.append(t)
    return out


def ref_pool(t: int, window: int, pool=(400, 200, 100, 50, 25, 12)) -> list[int]:
    """The released code's loop (for L a pool value)."""
    if t <= window:
        return []
    i = len(pool) - 1
    for k, p in enumerate(pool):
        if t > p:
            i = k
            break
    out = []
    while i < len(pool) and pool[i] >= window:
        out.append(pool[i])
        i += 1
    return out


def ref_compress(x: torch.Tensor, window: int, schedule: str, density_fn) -> torch.Tensor:
    rows = x.double().tolist()
    plan = {"halving": ref_halving(len(rows), window), "pool": ref_pool(len(rows), window),
            "single": [window] if len(rows) > window else []}[schedule]
    for t_next in plan:
        rows = ref_round(rows, t_next, density_fn)
    return torch.tensor(rows, dtype=torch.float64)


def random_walk(frames: int, dim: int, seed: int) -> torch.Tensor:
    """Frames that drift, like encoder states: neighbours are similar, not identical."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(frames, dim, generator=g).cumsum(0) * 0.3 + torch.randn(
        frames, dim, generator=g)


def small_head(dim: int = 8, vocab: int = 6, seed: int = 0) -> CTCDensityHead:
    torch.manual_seed(seed)
    return CTCDensityHead(DensityHeadConfig(d_enc=dim, d_model=12, vocab_size=vocab)).eval()


# -- schedules ------------------------------------------------------------------------------

def test_halving_schedule_paper_example():
    assert halving_schedule(45000, 750) == [22500, 11250, 5625, 2812, 1406, 750]
    assert halving_schedule(1000, 750) == [750]
    assert halving_schedule(1501, 750) == [750]       # 750.5 > 750 would halve to 750 anyway
    assert halving_schedule(1502, 750) == [751, 750]  # 751 > 750: halve, then to L
    assert halving_schedule(750, 750) == []
    for t in range(1, 3000, 37):
        assert halving_schedule(t, 100) == ref_halving(t, 100)


def test_pool_schedule_follows_the_released_loop():
    assert pool_schedule(500, 50) == [400, 200, 100, 50]
    assert pool_schedule(450, 400) == [400]
    assert pool_schedule(400, 400) == []
    assert pool_schedule(100, 25) == [50, 25]          # 100 is not below 100: start at 50
    assert pool_schedule(30, 12) == [25, 12]
    for window in (400, 200, 100, 50, 25, 12):
        for t in range(1, 900, 7):
            assert pool_schedule(t, window) == ref_pool(t, window), (t, window)


def test_pool_schedule_ends_at_a_window_outside_the_pool():
    assert pool_schedule(300, 30) == [200, 100, 50, 30]
    assert pool_schedule(60, 30) == [50, 30]


# -- hand-worked examples -------------------------------------------------------------------

# x = (1,0) (2,0) (0,1) (1,1) (-1,0), density |x|^2/(1+|x|^2) = 1/2, 4/5, 1/2, 2/3, 1/2.
# Neighbour cosines: e0 = 1, e1 = 0, e2 = 1/sqrt2 = 0.7071, e3 = -1/sqrt2.
HAND_X = [[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]]


def test_neighbour_similarity_by_hand():
    e = neighbour_similarity(torch.tensor(HAND_X))
    assert torch.allclose(e, torch.tensor([1.0, 0.0, 0.5 ** 0.5, -(0.5 ** 0.5)]))


def test_one_round_by_hand():
    # T 5 -> 3: r = 2 merges, the top-2 pairs e0 and e2: S = {1, 3}; mark = 0 1 0 1 0;
    # groups = cumsum(1 0 1 0 1) - 1 = 0 0 1 1 2.
    # g0 = (1/2*(1,0) + 4/5*(2,0)) / (1/2 + 4/5) = (2.1/1.3, 0) = (21/13, 0) = (1.615385, 0)
    # g1 = (1/2*(0,1) + 2/3*(1,1)) / (7/6) = ((2/3)/(7/6), (7/6)/(7/6)) = (4/7, 1)
    # g2 = 1/2*(-1,0) / (1/2) = (-1, 0)
    x = torch.tensor(HAND_X)
    groups = merge_groups(neighbour_similarity(x)[None], torch.tensor([5]), torch.tensor([3]))
    assert groups.tolist() == [[0, 0, 1, 1, 2]]
    y = compress(x, norm_density, 3, CompressionOptions(schedule="single"))
    assert torch.allclose(y, torch.tensor([[21 / 13, 0.0], [4 / 7, 1.0], [-1.0, 0.0]]), atol=1e-6)


def test_two_rounds_by_hand_density_recomputed():
    # Pool (3, 2), L = 2: 5 -> 3 (above) -> 2. Round 2 on (21/13,0) (4/7,1) (-1,0):
    # cosines (4/7)/sqrt(65/49) = 0.4961 and -0.4961: merge frame 1 into 0; groups 0 0 1.
    # Densities recomputed on the fused frames: (441/169)/(610/169) = 441/610,
    # (65/49)/(114/49) = 65/114, 1/2.
    # g0 = (441/610*(21/13, 0) + 65/114*(4/7, 1)) / (441/610 + 65/114)
    #    = (1.167844 + 0.325815, 0.570175) / 1.293126 = (1.155075, 0.440928)
    y = compress(torch.tensor(HAND_X), norm_density, 2,
                 CompressionOptions(schedule="pool", pool=(3, 2)))
    assert torch.allclose(y, torch.tensor([[1.155075, 0.440928], [-1.0, 0.0]]), atol=1e-5)


def test_mostsim_by_hand_is_plain_average():
    # Same groups as the first round, plain means: (1.5, 0), (0.5, 1), (-1, 0).
    y = compress(torch.tensor(HAND_X), None, 3,
                 CompressionOptions(method="mostsim", schedule="single"))
    assert torch.allclose(y, torch.tensor([[1.5, 0.0], [0.5, 1.0], [-1.0, 0.0]]), atol=1e-6)


def test_avgpool_by_hand():
    # 5 -> 2 adaptive windows [0, 3) and [2, 5): (1+2+0, 0+0+1)/3 and (0+1-1, 1+1+0)/3.
    y = compress(torch.tensor(HAND_X), None, 2, CompressionOptions(method="avgpool"))
    assert torch.allclose(y, torch.tensor([[1.0, 1 / 3], [0.0, 2 / 3]]), atol=1e-6)


def test_head_density_and_ctc_by_hand():
    # No LayerNorm, identity projector, output rows (1,0) for token 0 and (0,1) for blank:
    # x = (ln 3, 0) -> logits (ln 3, 0) -> p = (3/4, 1/4): density 3/4; CTC of target [0]
    # over one frame = -log(3/4) = 0.287682. x = (0, 0) -> p = (1/2, 1/2): density 1/2.
    head = CTCDensityHead(DensityHeadConfig(d_enc=2, d_model=2, vocab_size=1, layer_norm=False))
    with torch.no_grad():
        head.projector.weight.copy_(torch.eye(2))
        head.projector.bias.zero_()
        head.linear.weight.copy_(torch.eye(2))
    assert head.blank == 1
    x = torch.tensor([[[math.log(3), 0.0], [0.0, 0.0]]])
    assert torch.allclose(head.density(x), torch.tensor([[0.75, 0.5]]))
    loss = head.ctc_loss(x[:, :1], torch.tensor([1]), torch.tensor([[0]]), torch.tensor([1]),
                         reduction="sum")
    assert loss.item() == pytest.approx(-math.log(0.75), abs=1e-6)


# -- against the reference ------------------------------------------------------------------

@pytest.mark.parametrize("schedule,frames,window", [
    ("halving", 97, 12), ("halving", 203, 50), ("pool", 97, 12), ("pool", 430, 25),
    ("single", 61, 20)])
def test_fusion_matches_reference_loop(schedule, frames, window):
    head = small_head()
    x = random_walk(frames, 8, seed=frames)

    def row_density(row):
        return head.density(torch.tensor(row, dtype=torch.float32)[None]).item()

    want = ref_compress(x, window, schedule, row_density)
    with torch.no_grad():
        got = compress(x, head.density, window, CompressionOptions(schedule=schedule))
    assert got.shape == (window, 8)
    assert torch.allclose(got.double(), want, atol=1e-4)


@pytest.mark.parametrize("schedule", ["halving", "pool"])
def test_mostsim_matches_reference_loop(schedule):
    x = random_walk(150, 6, seed=3)
    want = ref_compress(x, 25, schedule, lambda row: 1.0)
    got = compress(x, None, 25, CompressionOptions(method="mostsim", schedule=schedule))
    assert torch.allclose(got.double(), want, atol=1e-4)


# -- properties -----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["fusion", "mostsim", "avgpool", "random"])
@pytest.mark.parametrize("schedule", ["halving", "pool", "single"])
def test_output_length_is_window(method, schedule):
    head = small_head()
    opts = CompressionOptions(method=method, schedule=schedule)
    for frames, window in [(300, 25), (1000, 100), (26, 25), (13, 12)]:
        x = random_walk(frames, 8, seed=frames)
        with torch.no_grad():
            assert compress(x, head.density, window, opts).shape == (window, 8)
    short = random_walk(20, 8, seed=1)  # at or below L: untouched
    with torch.no_grad():
        assert torch.equal(compress(short, head.density, 25, opts), short)
        assert torch.equal(compress(short, head.density, 20, opts), short)


def test_one_round_preserves_density_weighted_sums():
    head = small_head()
    x = random_walk(40, 8, seed=5)
    with torch.no_grad():
        d = head.density(x[None])
    groups = merge_groups(neighbour_similarity(x)[None], torch.tensor([40]), torch.tensor([17]))
    y = fuse_groups(x[None], groups, d, 17, EPS)[0]
    g = groups[0]
    # 17 groups, each a run of consecutive frames, numbered in time order.
    assert g[0] == 0 and g[-1] == 16 and bool(((g[1:] - g[:-1]) >= 0).all())
    assert bool(((g[1:] - g[:-1]) <= 1).all())
    # The 23 merged pairs are the 23 most similar neighbours.
    e = neighbour_similarity(x)
    merged = (g[1:] == g[:-1]).nonzero().flatten()
    assert set(merged.tolist()) == set(e.topk(23).indices.tolist())
    # y_g (sum_g d + eps) = sum_g d x: each group's weighted sum survives, and so the total.
    mass = torch.zeros(17).index_add(0, g, d[0])
    assert torch.allclose(y * (mass + EPS)[:, None], torch.zeros(17, 8).index_add(
        0, g, d[0, :, None] * x), atol=1e-5)
    assert torch.allclose((y * (mass + EPS)[:, None]).sum(0), (d[0, :, None] * x).sum(0),
                          atol=1e-4)
    # A weighted mean lies between its members' extremes.
    for k in range(17):
        members = x[g == k]
        assert bool((y[k] >= members.min(0).values - 1e-5).all())
        assert bool((y[k] <= members.max(0).values + 1e-5).all())


def test_density_is_recomputed_on_each_rounds_frames():
    seen: list[int] = []

    def density(x):
        seen.append(x.shape[1])
        return norm_density(x)

    compress(random_walk(100, 4, seed=2), density, 12, CompressionOptions(schedule="halving"))
    assert seen == [100, 50, 25]  # 100 -> 50 -> 25 -> 12


def test_density_head_runs_in_chunks_with_the_same_result():
    head = small_head()
    x = random_walk(50, 8, seed=9)[None]
    seen: list[int] = []

    def density(z):
        seen.append(z.shape[1])
        return head.density(z)

    with torch.no_grad():
        a = compress(x[0], density, 10, CompressionOptions(schedule="single", chunk_frames=16))
        b = compress(x[0], head.density, 10, CompressionOptions(schedule="single"))
        assert torch.allclose(head.density(x, chunk_frames=7), head.density(x))
    assert seen == [16, 16, 16, 2]
    assert torch.allclose(a, b)


@pytest.mark.parametrize("method,schedule", [
    ("fusion", "pool"), ("fusion", "halving"), ("mostsim", "pool"), ("avgpool", "halving")])
def test_batched_equals_unbatched_per_item(method, schedule):
    head = small_head()
    lengths = [450, 130, 20, 300, 26]
    width = max(lengths)
    rows = [random_walk(n, 8, seed=n) for n in lengths]
    batch = torch.full((len(rows), width, 8), float("nan"))  # padding must never leak in
    for b, r in enumerate(rows):
        batch[b, :len(r)] = r
    opts = CompressionOptions(method=method, schedule=schedule)
    with torch.no_grad():
        y, out = compress_batch(batch, torch.tensor(lengths), head.density, 25, opts)
        assert out.tolist() == [25, 25, 20, 25, 25]
        assert y.shape == (5, 25, 8)
        for b, r in enumerate(rows):
            alone = compress(r, head.density, 25, opts)
            assert torch.allclose(y[b, :len(alone)], alone, atol=1e-5), b
            assert bool((y[b, len(alone):] == 0).all())


def test_batched_rows_shorter_than_window_are_padded_with_zeros():
    x = random_walk(10, 4, seed=1)
    batch = torch.zeros(2, 10, 4)
    batch[0] = x
    batch[1, :6] = x[:6]
    y, out = compress_batch(batch, torch.tensor([10, 6]), norm_density, 8)
    assert out.tolist() == [8, 6]
    assert torch.equal(y[1, :6], x[:6]) and bool((y[1, 6:] == 0).all())


def test_random_selection_keeps_time_order():
    x = torch.arange(200, dtype=torch.float32)[:, None].repeat(1, 3)
    a = compress(x, None, 30, CompressionOptions(method="random", seed=1))
    b = compress(x, None, 30, CompressionOptions(method="random", seed=1))
    c = compress(x, None, 30, CompressionOptions(method="random", seed=2))
    picked = a[:, 0].long()
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert bool((picked[1:] > picked[:-1]).all()) and torch.equal(a, x[picked])


def test_compression_is_differentiable_in_the_states():
    head = small_head()
    x = random_walk(120, 8, seed=4).requires_grad_(True)
    compress(x, head.density, 25, CompressionOptions(schedule="pool")).pow(2).sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all()) and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in head.parameters())  # densities are constants by default
    x.grad = None
    opts = CompressionOptions(schedule="pool", detach_density=False)
    compress(x, head.density, 25, opts).pow(2).sum().backward()
    assert head.projector.weight.grad is not None and head.projector.weight.grad.abs().sum() > 0


def test_bfloat16_states_compress_like_float32():
    x = random_walk(90, 8, seed=6)
    with torch.no_grad():
        a = compress(x.bfloat16(), norm_density, 12)
        b = compress(x.bfloat16().float(), norm_density, 12)
    assert a.dtype == torch.bfloat16 and torch.allclose(a.float(), b, atol=0.05)


# -- head I/O and errors --------------------------------------------------------------------

def test_head_save_load_round_trip(tmp_path):
    head = small_head()
    x = random_walk(30, 8, seed=8)[None]
    head.save(tmp_path / "head")
    again = CTCDensityHead.load(tmp_path / "head")
    assert again.config == head.config
    with torch.no_grad():
        assert torch.equal(again.density(x), head.density(x))
    with pytest.raises(ModelNotAvailableError, match="no density head"):
        CTCDensityHead.load(tmp_path / "missing")


def test_head_starts_from_the_encoder_layer_norm_and_embeddings():
    head = small_head(vocab=4)
    ln = torch.nn.LayerNorm(8)
    with torch.no_grad():
        ln.weight.uniform_()
    emb = torch.randn(4, 12)
    head.init_from(layer_norm=ln, embeddings=emb)
    assert torch.equal(head.norm.weight, ln.weight)
    assert torch.equal(head.linear.weight[:4], emb)
    with pytest.raises(InvalidOptionError):
        head.init_from(embeddings=torch.randn(5, 12))


def test_bad_options_say_what_to_do():
    x = random_walk(30, 4, seed=1)
    with pytest.raises(InvalidOptionError, match="density"):
        compress(x, None, 10)
    with pytest.raises(InvalidOptionError, match="method"):
        CompressionOptions(method="mean")
    with pytest.raises(InvalidOptionError, match="pool"):
        CompressionOptions(pool=(12, 25))
    with pytest.raises(InvalidOptionError, match="window"):
        compress(x, norm_density, 0)
