"""longspeech.audio: decode, VAD, chunk planning, iter_chunks, on speech made with espeak-ng."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from longspeech.audio import (AudioChunk, ChunkPlanner, VadOptions, detect_speech, iter_chunks,
                              load, plan_chunks, probe, stream)
from longspeech.audio.vad import SpeechDetector, speech_probabilities
from longspeech.errors import AudioDecodeError, InvalidOptionError

SR = 16000
SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank",
    "Please remember to send the quarterly report before Friday afternoon",
    "A long podcast episode can hold hours of talk between two people",
]

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox")

pytestmark = needs_espeak


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def ffmpeg(*args: str) -> None:
    run("ffmpeg", "-nostdin", "-v", "error", "-y", *args)


def trim(x: np.ndarray, rel: float = 0.02) -> tuple[int, int]:
    """First and one-past-last sample louder than rel * peak: where the speech is."""
    idx = np.flatnonzero(np.abs(x) > rel * np.abs(x).max())
    return int(idx[0]), int(idx[-1]) + 1


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def speech_wav(work) -> Path:
    """espeak-ng's own output: 22.05 kHz mono 16-bit."""
    p = work / "speech.wav"
    run("espeak-ng", "-w", str(p), SENTENCES[0])
    return p


@pytest.fixture(scope="session")
def clips(work) -> list[np.ndarray]:
    """The sentences as 16 kHz float32, trimmed to their audible part."""
    out = []
    for i, text in enumerate(SENTENCES):
        p = work / f"clip{i}.wav"
        run("espeak-ng", "-w", str(p), text)
        x, sr = sf.read(p, dtype="float32")
        y = soxr.resample(x, sr, SR).astype(np.float32)
        a, b = trim(y)
        out.append(y[a:b])
    return out


def layout(clips: list[np.ndarray],
           gaps: list[float]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """gaps[0] silence, clip, gaps[1] silence, clip, ..., gaps[-1]: audio and speech truth."""
    parts, truth, pos = [], [], 0
    for i, gap in enumerate(gaps):
        parts.append(np.zeros(int(gap * SR), np.float32))
        pos += int(gap * SR)
        if i < len(gaps) - 1:
            c = clips[i % len(clips)]
            parts.append(c)
            truth.append((pos / SR, (pos + len(c)) / SR))
            pos += len(c)
    return np.concatenate(parts), truth


@pytest.fixture(scope="session")
def dialog(work, clips) -> tuple[Path, np.ndarray, list[tuple[float, float]]]:
    """Three sentences separated by 3 s silences (1 s before and after)."""
    x, truth = layout(clips, [1.0, 3.0, 3.0, 1.0])
    p = work / "dialog.wav"
    sf.write(p, x, SR, subtype="FLOAT")
    return p, x, truth


# -- decode --------------------------------------------------------------------------------

def reference(path: Path) -> np.ndarray:
    """One-shot decode, channel average and resample: what streaming must reproduce."""
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return soxr.resample(x.mean(axis=1, dtype=np.float32), sr, SR)


@needs_sox
@pytest.mark.parametrize("rate,channels,bits", [(22050, 1, 16), (44100, 2, 16),
                                                 (48000, 1, 24), (8000, 2, 24)])
def test_stream_blocks_equal_one_shot(work, speech_wav, rate, channels, bits):
    p = work / f"conv_{rate}_{channels}_{bits}.wav"
    run("sox", str(speech_wav), "-r", str(rate), "-c", str(channels), "-b", str(bits), str(p))
    blocks = list(stream(p, block_seconds=0.37))
    assert all(len(b) == round(0.37 * SR) for b in blocks[:-1])
    assert 0 < len(blocks[-1]) <= round(0.37 * SR)
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    np.testing.assert_array_equal(np.concatenate(blocks), reference(p))


@needs_sox
def test_8k_stereo_24bit_duration(work, speech_wav):
    p = work / "phone.wav"
    run("sox", str(speech_wav), "-r", "8000", "-c", "2", "-b", "24", str(p))
    info = sf.info(p)
    rec = probe(p)
    assert (rec.sample_rate, rec.channels) == (8000, 2)
    assert rec.duration == pytest.approx(info.frames / 8000, abs=1e-3)
    assert rec.id == "phone" and rec.sha256 and len(rec.sha256) == 64
    assert abs(len(load(p)) - info.frames * 2) <= 1


def test_load_equals_stream_and_probe(dialog):
    p, x, _ = dialog
    np.testing.assert_array_equal(load(p), x)
    np.testing.assert_array_equal(np.concatenate(list(stream(p, block_seconds=2.5))), x)
    rec = probe(p)
    assert rec.duration == pytest.approx(len(x) / SR, abs=1e-3)
    assert (rec.sample_rate, rec.channels) == (SR, 1)


@needs_ffmpeg
def test_m4a_goes_through_ffmpeg(work, dialog):
    p, x, _ = dialog
    m4a = work / "dialog.m4a"
    ffmpeg("-i", str(p), "-c:a", "aac", "-b:a", "96k", str(m4a))
    rec = probe(m4a)
    assert rec.duration == pytest.approx(len(x) / SR, abs=0.1)
    assert rec.channels == 1
    blocks = list(stream(m4a, block_seconds=1.0))
    assert all(len(b) == SR for b in blocks[:-1])
    y = np.concatenate(blocks)
    assert abs(len(y) - len(x)) < 0.1 * SR
    n = min(len(x), len(y))
    corr = float(np.dot(x[:n], y[:n]) / np.linalg.norm(x[:n]) / np.linalg.norm(y[:n]))
    assert corr > 0.9  # same waveform, time-aligned (lossy codec)


@needs_ffmpeg
def test_ffmpeg_downmix_is_channel_average(work, clips):
    left, right = clips[0], -0.5 * clips[0]
    wav = work / "stereo.wav"
    sf.write(wav, np.stack([left, right], axis=1), SR, subtype="FLOAT")
    mka = work / "stereo.mka"   # a container only ffmpeg reads; PCM keeps it lossless
    ffmpeg("-i", str(wav), "-c:a", "pcm_f32le", str(mka))
    np.testing.assert_allclose(load(mka), (left + right) / 2, atol=1e-6)


@needs_ffmpeg
def test_mp3_and_truncated_mp3(work, dialog):
    p, x, _ = dialog
    mp3 = work / "dialog.mp3"
    ffmpeg("-i", str(p), "-c:a", "libmp3lame", "-b:a", "64k", str(mp3))
    assert abs(len(load(mp3)) - len(x)) < 0.1 * SR
    cut = work / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    t = time.monotonic()
    try:
        y = load(cut)
    except AudioDecodeError:
        pass
    else:
        # what is there, not zeros up to the length the header claims
        assert 0.3 * len(x) < len(y) < 0.7 * len(x)
    assert time.monotonic() - t < 10


def test_truncated_wav_decodes_what_is_there(work, dialog):
    p, x, _ = dialog
    cut = work / "cut.wav"
    data = p.read_bytes()
    header = data.index(b"data") + 8
    cut.write_bytes(data[: header + 4 * SR * 2 + 2])   # header + 2 s of float32 + 2 bytes
    y = load(cut)
    np.testing.assert_array_equal(y, x[: 2 * SR])


def bad_inputs(work: Path, dialog_path: Path) -> dict[str, tuple[Path, str]]:
    d = work / "bad"
    d.mkdir(exist_ok=True)
    (d / "empty.wav").write_bytes(b"")
    (d / "text.wav").write_text("this is not audio, just text\n" * 20)
    (d / "header.wav").write_bytes(dialog_path.read_bytes()[:30])
    (d / "noise.mp3").write_bytes(np.random.default_rng(0).bytes(5000))
    sf.write(d / "zero.wav", np.zeros(0, np.float32), SR)
    (d / "a_dir.wav").mkdir(exist_ok=True)
    return {
        "missing": (d / "missing.wav", "no such file"),
        "directory": (d / "a_dir.wav", "is a directory"),
        "empty": (d / "empty.wav", "empty (0 bytes)"),
        "zero-length": (d / "zero.wav", "no audio samples"),
        "text": (d / "text.wav", "not a recognised audio file"),
        "truncated-header": (d / "header.wav", "corrupt or truncated"),
        "random-bytes": (d / "noise.mp3", "not a recognised audio file"),
    }


@needs_ffmpeg
@pytest.mark.parametrize("case", ["missing", "directory", "empty", "zero-length", "text",
                                  "truncated-header", "random-bytes"])
def test_bad_input_raises_clear_error(work, dialog, case):
    path, words = bad_inputs(work, dialog[0])[case]
    with pytest.raises(AudioDecodeError, match=re.escape(words)) as e1:
        probe(path)
    with pytest.raises(AudioDecodeError, match=re.escape(words)):
        load(path)
    assert path.name in str(e1.value)


@needs_ffmpeg
def test_bad_ffmpeg_inputs(work, dialog):
    p, _, _ = dialog
    m4a = work / "whole.m4a"
    ffmpeg("-i", str(p), "-c:a", "aac", str(m4a))
    cut = work / "cut.m4a"
    cut.write_bytes(m4a.read_bytes()[: m4a.stat().st_size // 2])   # index (moov) lost
    for f in (probe, load):
        with pytest.raises(AudioDecodeError, match="corrupt or truncated"):
            f(cut)
    silent_video = work / "video.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=32x32:rate=5", "-t", "1", str(silent_video))
    for f in (probe, load):
        with pytest.raises(AudioDecodeError, match="no audio stream"):
            f(silent_video)


@needs_ffmpeg
def test_unicode_path(work, dialog):
    p, x, _ = dialog
    d = work / "Ünïcødé 音声 folder"
    d.mkdir(exist_ok=True)
    wav = d / "réunion — 会議.wav"
    shutil.copy(p, wav)
    rec = probe(wav)
    assert rec.id == "réunion — 会議"
    np.testing.assert_array_equal(load(wav), x)
    m4a = d / "réunion: 会議.m4a"     # a colon too: must not be read as a protocol
    ffmpeg("-i", str(p), "-c:a", "aac", str(m4a))
    assert abs(len(load(m4a)) - len(x)) < 0.1 * SR


@needs_ffmpeg
def test_missing_ffmpeg_names_the_fix(work, dialog, monkeypatch, tmp_path):
    m4a = work / "whole2.m4a"
    ffmpeg("-i", str(dialog[0]), "-c:a", "aac", str(m4a))
    monkeypatch.setenv("PATH", str(tmp_path))
    for f in (probe, load):
        with pytest.raises(AudioDecodeError, match="apt-get install ffmpeg"):
            f(m4a)


@needs_ffmpeg
def test_ffmpeg_child_is_killed_on_close(work):
    psutil = pytest.importorskip("psutil")
    long_m4a = work / "long.mka"    # ffmpeg-only container; PCM so it is quick to make
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=120:sample_rate=16000",
           "-c:a", "pcm_s16le", str(long_m4a))
    me = psutil.Process()
    before = {c.pid for c in me.children(recursive=True)}
    it = stream(long_m4a, block_seconds=1.0)
    assert len(next(it)) == SR
    kids = [c for c in me.children(recursive=True) if c.pid not in before]
    assert kids, "expected an ffmpeg child while streaming"
    it.close()
    for c in kids:
        assert not c.is_running() or c.status() == psutil.STATUS_ZOMBIE


def test_bad_options():
    with pytest.raises(InvalidOptionError):
        stream("x.wav", block_seconds=0)
    with pytest.raises(InvalidOptionError):
        VadOptions(threshold=1.5)
    with pytest.raises(InvalidOptionError):
        ChunkPlanner(max_chunk=0)


# -- VAD -----------------------------------------------------------------------------------

def test_vad_finds_speech_between_silences(dialog):
    p, _, truth = dialog
    regions = list(detect_speech(p))
    assert len(regions) == len(truth)
    for (s, e), (ts, te) in zip(regions, truth):
        assert abs(s - ts) < 0.3 and abs(e - te) < 0.3, ((s, e), (ts, te))
    tight = list(detect_speech(p, VadOptions(speech_pad=0.0)))
    for (s, e), (ts, te) in zip(tight, truth):
        assert abs(s - ts) < 0.15 and abs(e - te) < 0.3


def test_vad_silence_gives_nothing():
    rng = np.random.default_rng(1)
    assert list(detect_speech(np.zeros(20 * SR, np.float32))) == []
    noise = (rng.standard_normal(20 * SR) * 1e-3).astype(np.float32)
    assert list(detect_speech(noise)) == []


def test_vad_is_block_size_independent(dialog):
    _, x, _ = dialog
    whole = list(detect_speech(x))
    step = int(0.77 * SR) + 13        # not a multiple of the 512-sample frame
    pieces = list(detect_speech(x[i:i + step] for i in range(0, len(x), step)))
    assert pieces == whole
    small = list(detect_speech(x, VadOptions(frames_per_call=7)))
    assert small == whole


def test_vad_matches_silero_reference(dialog):
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    silero = pytest.importorskip("silero_vad")   # its import sets torch to one thread
    torch.set_num_threads(threads)
    _, x, _ = dialog
    opts = VadOptions(max_speech=None)
    probs = speech_probabilities(x, opts)
    ref = silero.get_speech_timestamps_from_probs(
        probs, threshold=opts.threshold, min_speech_duration_ms=opts.min_speech * 1000,
        min_silence_duration_ms=opts.min_silence * 1000, speech_pad_ms=opts.speech_pad * 1000,
        audio_length_samples=len(x))
    assert list(detect_speech(x, opts)) == [(r["start"] / SR, r["end"] / SR) for r in ref]


def test_vad_onnx_batched_equals_jit_frame_by_frame(dialog):
    pytest.importorskip("torch")
    _, x, _ = dialog
    seg = x[: 6 * SR]
    a = speech_probabilities(seg, VadOptions(backend="onnx"))
    b = speech_probabilities(seg, VadOptions(backend="jit"))
    assert a.shape == b.shape == (-(-len(seg) // 512),)
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_vad_splits_long_speech_at_max_speech(clips):
    x = np.concatenate([clips[i % 3] for i in range(24)])   # ~75 s, no pause >= min_silence
    regions = list(detect_speech(x, VadOptions(max_speech=30.0)))
    assert len(regions) >= 3
    assert all(e - s <= 30.0 for s, e in regions)
    assert regions[0][0] <= 0.2 and regions[-1][1] >= len(x) / SR - 0.5
    probs = speech_probabilities(x)
    for (_, e), (s, _) in zip(regions, regions[1:]):
        assert s >= e   # ordered, not overlapping
        if s == e:      # a split inside speech: at a dip in speech probability
            i = round(e * SR) // 512
            assert probs[max(0, i - 2):i + 2].min() < 0.5


def test_detector_settled_never_passes_unreturned_speech(dialog):
    _, x, _ = dialog
    det = SpeechDetector()
    got = []
    for i in range(0, len(x), 4000):
        settled = det.settled
        new = det.push(x[i:i + 4000])
        assert all(s >= settled - 1e-9 for s, _ in new)
        got += new
    got += det.finish()
    assert got == list(detect_speech(x))


# -- chunk planning ------------------------------------------------------------------------

def random_regions(rng: random.Random, n: int) -> list[tuple[float, float]]:
    t, out = 0.0, []
    for _ in range(n):
        t += rng.choice([0.0, 0.1, 0.5, 2.0, rng.uniform(0, 40)])
        d = rng.choice([0.3, 2.0, rng.uniform(0.1, 29.0), rng.uniform(0, 100)])
        out.append((round(t, 3), round(t + d, 3)))
        t += d
    return out


def check_plan(regions, chunks, max_chunk=30.0):
    assert chunks == sorted(chunks)
    for (s, e), (s2, _) in zip(chunks, chunks[1:]):
        assert e <= s2
    for s, e in chunks:
        assert 0 < e - s <= max_chunk + 1e-9
    for rs, rend in regions:                          # all speech covered
        covered = sum(max(0.0, min(rend, e) - max(rs, s)) for s, e in chunks)
        assert covered == pytest.approx(rend - rs, abs=1e-6)
        if rend - rs <= max_chunk:                    # a short region is never cut
            assert any(s <= rs and rend <= e for s, e in chunks)


def test_plan_properties_random():
    rng = random.Random(7)
    for _ in range(300):
        regions = random_regions(rng, rng.randint(0, 30))
        chunks = plan_chunks(regions)
        check_plan(regions, chunks)
        planner, inc = ChunkPlanner(), []
        for s, e in regions:
            inc += planner.push(s, e)
        assert inc + planner.finish() == chunks


def test_plan_splits_long_region_evenly():
    assert plan_chunks([(10.0, 85.0)]) == [(10.0, 35.0), (35.0, 60.0), (60.0, 85.0)]
    assert plan_chunks([(0.0, 30.0)]) == [(0.0, 30.0)]
    # the last piece of a split region still merges with what follows
    assert plan_chunks([(0.0, 40.0), (41.0, 42.0)]) == [(0.0, 20.0), (20.0, 42.0)]


def test_plan_merges_and_cuts_at_silences():
    regions = [(1.0, 5.0), (6.0, 12.0), (13.0, 29.0), (30.5, 40.0), (45.0, 50.0)]
    assert plan_chunks(regions) == [(1.0, 29.0), (30.5, 50.0)]
    assert plan_chunks(regions, max_gap=2.0) == [(1.0, 29.0), (30.5, 40.0), (45.0, 50.0)]
    assert plan_chunks([]) == []
    with pytest.raises(ValueError):
        plan_chunks([(5.0, 6.0), (1.0, 2.0)])


# -- iter_chunks ---------------------------------------------------------------------------

def test_iter_chunks_end_to_end(work, clips):
    x, truth = layout(clips, [0.5, *(3.0, 0.8, 1.5, 3.0, 0.6) * 4, 2.0])   # ~85 s
    p = work / "meeting.flac"
    sf.write(p, x, SR)
    chunks = list(iter_chunks(p, block_seconds=3.3))
    assert all(isinstance(c, AudioChunk) for c in chunks)
    assert [c.chunk.index for c in chunks] == list(range(len(chunks)))
    assert {c.chunk.recording_id for c in chunks} == {"meeting"}
    spans = [(c.chunk.start, c.chunk.end) for c in chunks]
    check_plan(list(detect_speech(p)), spans)
    for ts, te in truth:   # every sentence lies inside one chunk
        assert any(s <= ts + 0.05 and te - 0.05 <= e for s, e in spans)
    y = load(p)
    for c in chunks:
        a, b = round(c.chunk.start * SR), round(c.chunk.end * SR)
        assert c.samples.dtype == np.float32
        np.testing.assert_array_equal(c.samples, y[a:b])
    assert chunks == [] or len(chunks) == len(list(iter_chunks(p)))


def test_iter_chunks_bad_path_raises_at_call(tmp_path):
    with pytest.raises(AudioDecodeError, match="no such file"):
        iter_chunks(tmp_path / "nope.wav")


# -- slow: long audio ----------------------------------------------------------------------

def write_long(path: Path, clips: list[np.ndarray], seconds: float) -> None:
    """Speech with 0.3-3 s pauses, written block by block (never whole in memory)."""
    rng = np.random.default_rng(3)
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as f:
        n = 0
        while n < seconds * SR:
            c = clips[rng.integers(len(clips))]
            sil = np.zeros(int(rng.uniform(0.3, 3.0) * SR), np.float32)
            f.write(c)
            f.write(sil)
            n += len(c) + len(sil)


@pytest.mark.slow
def test_vad_speed_ten_minutes(work, clips):
    p = work / "ten.wav"
    write_long(p, clips, 600)
    list(detect_speech(np.zeros(SR, np.float32)))   # warm the session
    t = time.perf_counter()
    regions = list(detect_speech(p))
    speed = probe(p).duration / (time.perf_counter() - t)
    assert regions and speed > 100, speed


@pytest.mark.slow
def test_one_hour_streams_in_bounded_memory(work, clips):
    import resource
    import tracemalloc

    p = work / "hour.wav"
    write_long(p, clips, 3600)
    list(detect_speech(np.zeros(SR, np.float32)))   # load the model before measuring
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    n, last = 0, 0.0
    for c in iter_chunks(p):
        assert c.chunk.start >= last and c.chunk.duration <= 30.0
        last = c.chunk.end
        n += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    assert n > 100 and last > 3500
    assert peak < 40 * 2**20, f"tracemalloc peak {peak / 2**20:.1f} MiB"
    assert rss_growth_mb < 100, f"RSS grew {rss_growth_mb:.0f} MiB"
