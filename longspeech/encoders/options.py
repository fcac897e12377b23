"""Options of long-audio encoder features."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidOptionError

DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class EncoderOptions:
    """Which Whisper encoder, and which of its states.

    model: an embedded id ("tiny.en", "base"), a local transformers directory or a hub id.
    pool: AvgPool1d(2, 2) over time, 50 -> 25 frames/s, as Qwen2-Audio's encoder ends.
    layer_norm: apply the encoder's final LayerNorm. False (default) gives the states before
        it, which is what iterative fusion merges (the norm is applied after compression).
    batch_size: 30 s clips per encoder call (memory grows with it, not with the file).
    device: "cpu", "cuda", "cuda:1", or "auto" (a GPU when there is one).
    dtype: the encoder's compute dtype; features are stored as float32 either way.
    cache: keep features on disk, keyed by audio sha256 + model + these options.
    cache_dir: where (default: the longspeech cache dir / "features").
    """

    model: str = "tiny.en"
    pool: bool = False
    layer_norm: bool = False
    batch_size: int = 4
    device: str = "cpu"
    dtype: str = "float32"
    cache: bool = True
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise InvalidOptionError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.dtype not in DTYPES:
            raise InvalidOptionError(
                f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")

    @property
    def frame_rate(self) -> float:
        """Frames per second of the output: 50 (Whisper), 25 with pool."""
        return 25.0 if self.pool else 50.0

    def key_fields(self) -> dict[str, object]:
        """The options that change the features (part of the cache key)."""
        return {"pool": self.pool, "layer_norm": self.layer_norm, "dtype": self.dtype}
