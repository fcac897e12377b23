"""Seeded white or pink noise produced block by block, identical for any block size.

Blocks let hours of noise be added while streaming to disk; the pink filter's state is carried
from block to block so the noise has no seams.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter, lfilter_zi

from ..errors import InvalidOptionError

NOISE_KINDS = ("white", "pink")

# Paul Kellet's economy 1/f filter (3 poles, 3 zeros): within about 0.5 dB of -3 dB/octave
# from 10 Hz to Nyquist at 16 kHz and above.
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])


class NoiseStream:
    """Unit-variance noise (before `gain`), drawn in order; next(n) continues the sequence."""

    def __init__(self, kind: str, seed: int) -> None:
        if kind not in NOISE_KINDS:
            raise InvalidOptionError(f"noise must be one of {', '.join(NOISE_KINDS)}, "
                                     f"not {kind!r}")
        self.kind = kind
        self._rng = np.random.default_rng([seed, 0x6E6F697365])  # an independent stream
        self._zi = lfilter_zi(_PINK_B, _PINK_A) * 0.0
        self._norm = 1.0 / np.sqrt(_pink_power()) if kind == "pink" else 1.0

    def next(self, n: int) -> np.ndarray:
        white = self._rng.standard_normal(n)
        if self.kind == "white":
            return white
        out, self._zi = lfilter(_PINK_B, _PINK_A, white, zi=self._zi)
        return out * self._norm


def _pink_power() -> float:
    """Output power of the pink filter for unit white input (sum of squared impulse response)."""
    impulse = np.zeros(1 << 16)
    impulse[0] = 1.0
    return float(np.sum(lfilter(_PINK_B, _PINK_A, impulse) ** 2))
