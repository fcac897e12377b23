"""Resemblyzer's GE2E voice encoder (256-d speaker embeddings), loaded offline and verified.

The weights ship inside the resemblyzer package (a third-party upload), so their sha256 is
checked before use and they are read with torch.load(weights_only=True): no code in the file
is ever unpickled. Features follow resemblyzer's own preprocessing (40-band power mel,
25 ms windows, 10 ms hop) so the embeddings match what the model was trained on.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ModelIntegrityError, ModelNotAvailableError
from ..hashing import sha256_file

PIP_NAME = "resemblyzer==0.1.4"
WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
SAMPLE_RATE = 16000
FRAME_HOP = 160            # samples per mel frame (10 ms)
N_FFT = 400                # 25 ms
N_MELS = 40
EMBEDDING_DIM = 256
_TARGET_DBFS = -30.0       # resemblyzer's volume normalisation target (increase only)


def weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")
    dirs = list(spec.submodule_search_locations or []) if spec else []
    path = Path(dirs[0]) / "pretrained.pt" if dirs else None
    if path is None or not path.is_file():
        raise ModelNotAvailableError(
            f"the speaker-embedding model is missing: pip install {PIP_NAME} 'setuptools<81'")
    return path


@functools.lru_cache(maxsize=1)
def _verified_weights() -> Path:
    path = weights_path()
    digest = sha256_file(path)
    if digest != WEIGHTS_SHA256:
        raise ModelIntegrityError(
            f"{path} has sha256 {digest}, expected {WEIGHTS_SHA256}: the speaker-embedding "
            f"weights are corrupt or altered; reinstall with pip install --force-reinstall "
            f"{PIP_NAME}")
    return path


@functools.lru_cache(maxsize=1)
def _mel_basis() -> tuple[np.ndarray, np.ndarray]:
    """(periodic Hann window, mel filterbank) exactly as librosa builds them for resemblyzer."""
    import librosa

    window = librosa.filters.get_window("hann", N_FFT, fftbins=True).astype(np.float32)
    filters = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)
    return window, filters.astype(np.float32)


def _voice_encoder_class():  # type: ignore[no-untyped-def]
    try:
        with warnings.catch_warnings():   # webrtcvad imports the deprecated pkg_resources
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder
    except ImportError as e:
        raise ModelNotAvailableError(
            f"cannot import resemblyzer ({e}); install it with pip install {PIP_NAME} "
            "'setuptools<81' (its webrtcvad dependency needs pkg_resources)") from e
    return VoiceEncoder


class SpeakerEncoder:
    """Batched GE2E embeddings of log-free power-mel windows (L2-normalised, 256-d)."""

    def __init__(self, device: str = "cpu"):
        import torch

        VoiceEncoder = _voice_encoder_class()
        path = _verified_weights()
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
        # resemblyzer's checkpoint also holds the GE2E loss's scale/bias; the encoder
        # itself needs only the LSTM and projection weights.
        state = {k: v for k, v in state.items() if not k.startswith("similarity_")}
        model = VoiceEncoder.__new__(VoiceEncoder)
        torch.nn.Module.__init__(model)
        from resemblyzer import hparams

        model.lstm = torch.nn.LSTM(hparams.mel_n_channels, hparams.model_hidden_size,
                                   hparams.model_num_layers, batch_first=True)
        model.linear = torch.nn.Linear(hparams.model_hidden_size, hparams.model_embedding_size)
        model.relu = torch.nn.ReLU()
        model.load_state_dict(state, strict=True)
        model.device = torch.device(device)
        self.model = model.to(model.device).eval()
        self.device = model.device
        self._torch = torch
        self.sha256 = WEIGHTS_SHA256

    @staticmethod
    def mel(samples: np.ndarray) -> np.ndarray:
        """(frames, 40) power mel of 16 kHz audio, one frame per 10 ms (frame i centred at
        sample 160 i), after resemblyzer's increase-only volume normalisation.

        Equal to resemblyzer's librosa.feature.melspectrogram call (centred, zero-padded
        Hann STFT), computed with one strided rfft: about 3x faster.
        """
        x = np.asarray(samples, np.float32).reshape(-1)
        rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0
        if rms > 0:
            gain_db = _TARGET_DBFS - 20.0 * np.log10(rms)
            if gain_db > 0:
                x = x * np.float32(10.0 ** (gain_db / 20.0))
        window, filters = _mel_basis()
        padded = np.pad(x, (N_FFT // 2, N_FFT // 2))
        frames = sliding_window_view(padded, N_FFT)[::FRAME_HOP]
        spec = np.fft.rfft(frames * window, axis=1)
        power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
        return np.ascontiguousarray(power @ filters.T)

    def embed(self, mels: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """(n, frames, 40) mel windows of equal length -> (n, 256) unit vectors."""
        torch = self._torch
        out = np.empty((len(mels), EMBEDDING_DIM), np.float32)
        with torch.inference_mode():
            for a in range(0, len(mels), batch_size):
                x = torch.from_numpy(np.ascontiguousarray(mels[a:a + batch_size]))
                out[a:a + batch_size] = self.model(x.to(self.device)).float().cpu().numpy()
        return out
