"""Long-audio Whisper encoder states on real speech: frame counts, clip boundaries, cache."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from longspeech.audio import SAMPLE_RATE, load, probe
from longspeech.encoders import (
    EncoderOptions,
    WhisperStateEncoder,
    encode_file,
    encode_samples,
    valid_frames,
)
from longspeech.errors import InvalidOptionError

from .speech import JFK

CLIP = 30 * SAMPLE_RATE


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return WhisperStateEncoder(EncoderOptions(
        model="tiny.en", cache_dir=str(tmp_path_factory.mktemp("features"))))


@pytest.fixture(scope="module")
def jfk_states(encoder):
    return encode_samples(encoder, load(JFK)).states


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    """70 s of synthetic two-speaker speech: clips of 30 + 30 + 10 s."""
    from longspeech.synth import RecordingSpec, write_recording

    return write_recording(RecordingSpec(seed=7, duration=70.0, speakers=2),
                           tmp_path_factory.mktemp("long"), "talk70").audio


@pytest.fixture(scope="module")
def long_encoded(encoder, long_file):
    return encode_file(encoder, long_file)


def test_valid_frames_follow_the_encoder_stride():
    assert valid_frames(CLIP) == 1500 and valid_frames(CLIP, pool=True) == 750
    assert valid_frames(176000) == 550 and valid_frames(176000, pool=True) == 275
    assert valid_frames(321) == 2 and valid_frames(321, pool=True) == 1


def test_jfk_states_are_taken_before_the_final_layer_norm(encoder, jfk_states):
    from transformers import WhisperModel

    from longspeech.models.registry import transformers_dir

    duration = probe(JFK).duration
    samples = load(JFK)
    pre = jfk_states
    assert abs(len(pre) - duration * 50) <= 1 and pre.shape[1] == 384
    # The library's own encoder output is LayerNorm(pre): equal after applying the norm.
    ref = WhisperModel.from_pretrained(transformers_dir("tiny.en")).encoder.eval()
    feats = encoder.feature_extractor(samples, sampling_rate=SAMPLE_RATE,
                                      return_tensors="pt").input_features
    with torch.inference_mode():
        post = ref(feats).last_hidden_state[0, :len(pre)].numpy()
        normed = ref.layer_norm(torch.from_numpy(pre)).numpy()
    assert np.allclose(normed, post, atol=2e-4)
    assert not np.allclose(pre, post, atol=0.1)  # pre-LN states really are different
    with_norm = encode_samples(encoder.with_options(layer_norm=True), samples).states
    assert np.allclose(with_norm, post, atol=2e-4)


def test_jfk_pooled_to_25_hz_is_the_mean_of_frame_pairs(encoder, jfk_states):
    full = jfk_states
    pooled = encode_samples(encoder.with_options(pool=True), load(JFK)).states
    assert abs(len(pooled) - probe(JFK).duration * 25) <= 1
    assert len(pooled) == len(full) // 2
    assert np.allclose(pooled, (full[0:2 * len(pooled):2] + full[1:2 * len(pooled):2]) / 2,
                       atol=1e-5)


def test_long_file_frames_match_its_duration(long_encoded):
    assert long_encoded.duration == pytest.approx(70.0, abs=1e-3)
    assert abs(long_encoded.frames - 70.0 * 50) <= 1
    assert long_encoded.clip_frames == (1500, 1500, 500)
    assert long_encoded.frame_rate == 50.0
    assert isinstance(long_encoded.states, np.ndarray) and long_encoded.states.dtype == np.float32


def test_clips_are_encoded_separately_and_cut_at_their_boundaries(encoder, long_file,
                                                                  long_encoded):
    samples = load(long_file)
    # The second and third clips encoded as recordings of their own give the same frames.
    second, third = encoder.encode_clips([samples[CLIP:2 * CLIP], samples[2 * CLIP:]])
    assert len(third) == math.ceil((len(samples) - 2 * CLIP) / 320) == 500
    states = np.asarray(long_encoded.states)
    assert np.allclose(states[1500:3000], second, atol=1e-4)
    assert np.allclose(states[3000:], third, atol=1e-4)
    # Streaming the file equals encoding it from memory.
    whole = encode_samples(encoder, samples)
    assert whole.clip_frames == long_encoded.clip_frames
    assert np.allclose(whole.states, states, atol=1e-5)


def test_cache_hit_returns_identical_arrays_without_encoding(encoder, long_file, long_encoded):
    first = np.array(long_encoded.states)
    quiet = encoder.with_options()

    def must_not_run(clips):
        raise AssertionError("the encoder ran on a cache hit")

    quiet.encode_clips = must_not_run
    again = encode_file(quiet, long_file)
    assert np.array_equal(np.asarray(again.states), first)
    assert again.clip_frames == long_encoded.clip_frames
    assert again.num_samples == long_encoded.num_samples
    # Other options are another entry: the pooled features are computed, not reused.
    with pytest.raises(AssertionError, match="cache hit"):
        encode_file(quiet.with_options(pool=True), long_file)


def test_cache_is_keyed_by_audio_content(encoder, tmp_path):
    import shutil

    a, b = tmp_path / "a.flac", tmp_path / "b.flac"
    shutil.copyfile(JFK, a)
    shutil.copyfile(JFK, b)  # same bytes, other name: same entry
    first = encode_file(encoder, a)
    quiet = encoder.with_options()
    quiet.encode_clips = lambda clips: (_ for _ in ()).throw(AssertionError("encoded"))
    assert np.array_equal(np.asarray(encode_file(quiet, b).states), np.asarray(first.states))
    c = tmp_path / "c.wav"
    import soundfile as sf

    sf.write(c, load(JFK)[: 5 * SAMPLE_RATE], SAMPLE_RATE)
    with pytest.raises(AssertionError, match="encoded"):
        encode_file(quiet, c)


def test_uncached_encoding_reports_progress(encoder):
    seen = []
    out = encode_file(encoder.with_options(cache=False), JFK, progress=seen.append)
    assert abs(out.frames - probe(JFK).duration * 50) <= 1
    assert [p.stage for p in seen] == ["encode"]
    assert seen[-1].seconds_done == pytest.approx(probe(JFK).duration, abs=0.01)


def test_options_are_checked(encoder):
    with pytest.raises(InvalidOptionError):
        EncoderOptions(batch_size=0)
    with pytest.raises(InvalidOptionError):
        encoder.with_options(model="base")
    with pytest.raises(InvalidOptionError, match="30 s"):
        encoder.encode_clips([np.zeros(CLIP + 1, np.float32)])


def test_long_file_states_compress_to_the_window(encoder, long_encoded):
    from longspeech.compression import CTCDensityHead, DensityHeadConfig, compress, halving_schedule

    torch.manual_seed(0)
    head = CTCDensityHead(DensityHeadConfig(d_enc=384, d_model=64, vocab_size=32)).eval()
    head.init_from(layer_norm=encoder.final_layer_norm)
    states = long_encoded.to_tensor()
    assert halving_schedule(len(states), 750) == [1750, 875, 750]
    with torch.no_grad():
        short = compress(states, head.density, 750)
    assert short.shape == (750, 384) and bool(torch.isfinite(short).all())
