"""Synthetic recordings: exact, deterministic ground truth that agrees with the audio."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from longspeech.errors import InvalidOptionError, SynthesisError
from longspeech.synth import (
    RecordingSpec,
    RenderCache,
    Voice,
    make_recording,
    render_sentence,
    sentences,
    write_recording,
)
from longspeech.synth.__main__ import main as synth_main
from longspeech.spoken_numbers import clock, ordinal, spell, year

SR = 16000
DIALOGUE = RecordingSpec(seed=5, duration=20.0, speakers=2)


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory: pytest.TempPathFactory):
    rec = make_recording(DIALOGUE)
    paths = write_recording(rec, tmp_path_factory.mktemp("dialogue"), "dialogue")
    return rec, paths


def read_words(path: Path) -> list[tuple[float, float, str, str]]:
    lines = path.read_text().splitlines()
    assert lines[0] == "start\tend\tword\tspeaker"
    out = []
    for line in lines[1:]:
        start, end, word, speaker = line.split("\t")
        out.append((float(start), float(end), word, speaker))
    return out


def read_rttm(path: Path) -> list[tuple[float, float, str]]:
    turns = []
    for line in path.read_text().splitlines():
        f = line.split()
        assert f[0] == "SPEAKER" and f[2] == "1" and f[5:7] == ["<NA>", "<NA>"] and len(f) == 10
        turns.append((float(f[3]), round(float(f[3]) + float(f[4]), 3), f[7]))
    return turns


def db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-12)


def test_same_seed_gives_identical_bytes(dialogue, tmp_path: Path) -> None:
    _, paths = dialogue
    # a fresh cache: every sentence is synthesised again
    again = write_recording(make_recording(DIALOGUE, cache=RenderCache()), tmp_path, "dialogue")
    for a, b in zip(paths.all(), again.all()):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = make_recording(RecordingSpec(seed=6, duration=20.0, speakers=2))
    assert other.text != dialogue[0].text


def test_audio_length_matches_metadata(dialogue) -> None:
    rec, paths = dialogue
    info = sf.info(str(paths.audio))
    assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
    assert info.frames == rec.num_samples == round(DIALOGUE.duration * SR)
    meta = json.loads(paths.metadata.read_text())
    assert meta["num_samples"] == info.frames and meta["duration"] == 20.0
    assert [s["text"] for s in meta["sentences"]] == paths.text.read_text().splitlines()
    words = read_words(paths.words)
    assert len(words) == meta["num_words"] > 20
    assert " ".join(w[2] for w in words) == " ".join(
        re.sub(r"[.,?!]", "", line) for line in paths.text.read_text().splitlines())


def test_word_times_are_monotonic_and_inside_the_audio(dialogue) -> None:
    rec, paths = dialogue
    words = read_words(paths.words)
    assert all(0 <= s < e <= rec.duration for s, e, _, _ in words)
    # no overlap between speakers by default: the words form one ordered sequence
    assert all(a[1] <= b[0] for a, b in zip(words, words[1:]))
    # every word lies inside the span of its sentence
    for sent in rec.sentences:
        ws = sent.words()
        assert ws[0].start == sent.start and ws[-1].end == sent.end


def test_rttm_turns_do_not_overlap_and_match_the_words(dialogue) -> None:
    rec, paths = dialogue
    turns = read_rttm(paths.rttm)
    assert len(turns) >= 2 and {t[2] for t in turns} == {"spk0", "spk1"}
    assert all(a[1] < b[0] for a, b in zip(turns, turns[1:]))
    words = read_words(paths.words)
    for start, end, speaker in turns:
        inside = [w for w in words if start <= w[0] and w[1] <= end]
        assert inside and {w[3] for w in inside} == {speaker}
        assert inside[0][0] == start and inside[-1][1] == end
    # every word belongs to exactly one turn
    assert sum(sum(1 for w in words if s <= w[0] and w[1] <= e) for s, e, _ in turns) == len(words)


def test_the_two_speakers_have_different_voices(dialogue) -> None:
    rec, paths = dialogue
    assert rec.voices["spk0"] != rec.voices["spk1"]
    audio, _ = sf.read(str(paths.audio), dtype="float64")

    def log_spectrum(x: np.ndarray) -> np.ndarray:
        frames = np.lib.stride_tricks.sliding_window_view(x, 512)[::256] * np.hanning(512)
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        loud = power[power.sum(1) > np.percentile(power.sum(1), 50)]
        return np.log10(loud.mean(0) + 1e-10)

    speech = {}
    for s in rec.sentences:
        speech.setdefault(s.speaker, []).append(audio[s.start_sample:s.end_sample])
    halves, whole = {}, {}
    for spk, parts in speech.items():
        x = np.concatenate(parts)
        halves[spk] = (log_spectrum(x[: len(x) // 2]), log_spectrum(x[len(x) // 2:]))
        whole[spk] = log_spectrum(x)
    within = max(np.sqrt(np.mean((a - b) ** 2)) for a, b in halves.values())
    between = np.sqrt(np.mean((whole["spk0"] - whole["spk1"]) ** 2))
    assert between > 2 * within


@pytest.mark.parametrize("noise", ["white", "pink"])
def test_snr_is_measured_over_speech(noise: str, tmp_path: Path) -> None:
    spec = RecordingSpec(seed=5, duration=20.0, speakers=2, snr_db=10.0, noise=noise)
    rec = make_recording(spec)
    paths = write_recording(rec, tmp_path, "noisy")
    noisy, _ = sf.read(str(paths.audio), dtype="float64")
    clean = np.concatenate(list(rec.blocks(noise=False))).astype(np.float64)
    clean = np.round(clean * 32767) / 32768  # the same int16 quantisation as the file
    speech = np.zeros(len(clean), bool)
    for s in rec.sentences:
        speech[s.start_sample:s.end_sample] = True
    snr = db(clean[speech]) - db(noisy - clean)
    assert abs(snr - 10.0) < 0.5
    # the speech itself is unchanged by the noise option
    assert make_recording(DIALOGUE).text == rec.text


@pytest.mark.parametrize("voice", [Voice("espeak", "en+m3", (("rate", 150.0),)),
                                   Voice("flite", "rms")])
def test_word_boundaries_sit_at_the_edges_of_a_pause(voice: Voice) -> None:
    """Around a comma the engine pauses: the silence lies between our words, not inside."""
    r = render_sentence(voice, "Yes, Peter will open the boxes tomorrow.")
    assert [w.word for w in r.words] == "Yes Peter will open the boxes tomorrow".split()
    x, yes, peter = r.audio, r.words[0], r.words[1]
    assert peter.start - yes.end >= 800  # a pause of at least 50 ms
    word_level = db(x[yes.start:yes.end])
    assert db(x[yes.end + 80:peter.start - 80]) < word_level - 30  # the gap is silent
    assert db(x[yes.end:yes.end + 320]) < word_level - 25  # no speech spills past the end...
    assert db(x[peter.start - 320:peter.start]) < db(x[peter.start:peter.end]) - 25  # ...start
    assert db(x[yes.end - 320:yes.end]) > db(x[yes.end + 80:peter.start - 80]) + 10


def test_overlap_option_overlaps_turns_but_never_one_speaker() -> None:
    spec = RecordingSpec(seed=2, duration=30.0, speakers=3, overlap=True, overlap_prob=1.0,
                         sentences_per_turn=(1, 1))
    rec = make_recording(spec)
    turns = rec.turns()
    assert any(b.start < a.end for a, b in zip(turns, turns[1:]))
    for spk in rec.voices:
        own = [t for t in turns if t.speaker == spk]
        assert all(a.end < b.start for a, b in zip(own, own[1:]))


def test_long_silences_and_a_single_speaker() -> None:
    spec = RecordingSpec(seed=5, duration=40.0, speakers=1, long_silence_prob=1.0,
                         long_silence=(5.0, 6.0))
    turns = make_recording(spec).turns()
    assert len(turns) >= 2 and {t.speaker for t in turns} == {"spk0"}
    assert all(5.0 <= b.start - a.end <= 6.0 for a, b in zip(turns, turns[1:]))


SCRIPT = ((0, "Who will present the quarterly review?"), (1, "Maria offered to do it."),
          (0, "Good, thank you."), (1, "Where is the workshop this year?"),
          (0, "It will be in Lisbon, in May."))


def test_a_script_is_spoken_in_order_one_turn_a_line() -> None:
    rec = make_recording(RecordingSpec(seed=3, duration=20.0, speakers=2, script=SCRIPT))
    assert [(s.speaker, s.text) for s in rec.sentences] == [(f"spk{k}", t) for k, t in SCRIPT]
    turns = rec.turns()
    assert [t.speaker for t in turns] == [f"spk{k}" for k, _ in SCRIPT]
    assert all(0.3 <= b.start - a.end <= 1.5 for a, b in zip(turns, turns[1:]))   # the gaps
    assert rec.duration == 20.0 and turns[-1].end < 20.0
    with pytest.raises(InvalidOptionError, match="does not fit in 6.0 s"):
        make_recording(RecordingSpec(seed=3, duration=6.0, speakers=2, script=SCRIPT))
    with pytest.raises(InvalidOptionError, match="speaker index below 2"):
        RecordingSpec(speakers=2, script=((2, "Hello."),))


def test_flac_holds_the_same_samples(dialogue, tmp_path: Path) -> None:
    rec, paths = dialogue
    flac = write_recording(rec, tmp_path, "dialogue", audio_format="flac")
    a, _ = sf.read(str(paths.audio), dtype="int16")
    b, _ = sf.read(str(flac.audio), dtype="int16")
    assert np.array_equal(a, b)
    assert flac.words.read_bytes() == paths.words.read_bytes()


def test_cli_prints_only_the_paths(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert synth_main([str(tmp_path), "--minutes", "0.25", "--speakers", "2", "--seed", "5",
                       "--stem", "cli"]) == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == [
        "cli.wav", "cli.txt", "cli.words.tsv", "cli.rttm", "cli.json"]
    assert all(Path(p).is_file() for p in printed)


def test_corpus_is_deterministic_varied_and_spelled_out() -> None:
    a, b = sentences(3, 200), sentences(3, 200)
    assert a == b and len(set(a)) == 200 and sentences(4, 200) != a
    text = " ".join(a)
    assert not re.search(r"\d", text)
    assert len(set(re.findall(r"[a-z']+", text.lower()))) > 300
    assert spell(412) == "four hundred and twelve"
    assert spell(21_005) == "twenty one thousand and five"
    assert year(1998) == "nineteen ninety eight" and year(2007) == "two thousand and seven"
    assert ordinal(23) == "twenty third" and clock(4, 30) == "half past four"


def test_bad_options_and_missing_voices_say_what_to_do() -> None:
    with pytest.raises(InvalidOptionError, match="too short"):
        RecordingSpec(duration=1.0)
    with pytest.raises(InvalidOptionError, match="different voice"):
        RecordingSpec(speakers=2, voices=(Voice("flite", "slt"), Voice("flite", "slt")))
    with pytest.raises(SynthesisError, match="no voice"):
        render_sentence(Voice("espeak", "xx-nonexistent"), "Hello there.")
    with pytest.raises(SynthesisError, match="spell numbers"):
        render_sentence(Voice("flite", "slt"), "We need 42 boxes.")


def test_a_missing_engine_library_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from longspeech.synth import _tts_worker as worker

    def no_library(*args, **kwargs):
        raise OSError("cannot open shared object file")

    monkeypatch.setattr(worker.ctypes, "CDLL", no_library)
    with pytest.raises(worker.WorkerError, match="apt-get install espeak-ng"):
        worker.espeak("en-us", {}, "Hello.", [0])
    with pytest.raises(worker.WorkerError, match="apt-get install flite"):
        worker.flite("slt", {}, "Hello.", ["Hello"])
