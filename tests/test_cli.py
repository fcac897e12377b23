"""Every command through the console script, on good and bad input: bad input gives one line
that names the file and what to do, exit status 1 (2 for usage), and never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .speech import JFK

SCRIPT = Path(sys.executable).with_name("longspeech")


def run(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    f = {"binary": d / "blob.json", "bad_json": d / "bad.json", "wrong_types": d / "wt.json",
         "empty_dir": d / "empty", "hostile_dir": d / "talk[", "not_audio": d / "notes.wav"}
    f["binary"].write_bytes(b"\x00\xff\xfe\x01" * 64)
    f["bad_json"].write_text('{"segments": [')
    f["empty_dir"].mkdir()
    f["hostile_dir"].mkdir()
    f["hostile"] = f["hostile_dir"] / "x].wav"            # the path reads talk[/x].wav
    shutil.copy(JFK, f["hostile"].with_suffix(".flac"))
    f["hostile"] = f["hostile"].with_suffix(".flac")
    f["not_audio"].write_text("[bold]not audio[/bold]\n" * 20)
    return f


@pytest.fixture(scope="module")
def transcript(files, tmp_path_factory) -> Path:
    """A real transcript, made by the console script from a real clip with a hostile name,
    in a batch beside a file that is not audio."""
    out = tmp_path_factory.mktemp("out")
    proc = run("transcribe", str(files["hostile"]), str(files["not_audio"]), "-o", str(out),
               "--runner", "local")
    assert proc.returncode == 1, proc.stderr                 # one of the two failed
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "job_summary.json").read_text())
    status = {Path(f["input"]).name: f for f in summary["files"]}
    assert status["x].flac"]["status"] == "ok"
    assert status["notes.wav"]["status"] == "failed"
    assert "[bold]" in proc.stderr or "notes.wav" in proc.stderr
    good = out / "x].json"
    data = json.loads(good.read_text())
    data["segments"][0]["start"] = "zero"
    files["wrong_types"].write_text(json.dumps(data))
    return good


BAD = [
    # (command line, exit status, what the one line says)
    (["transcribe", "{empty_dir}", "-o", "{tmp}/o"], 1, "no audio files there"),
    (["transcribe", "{missing}", "-o", "/proc/forbidden/out"], 2, "cannot create the output"),
    (["transcribe", "@{missing}", "-o", "{tmp}/o"], 1, "cannot read the input list"),
    (["transcribe", "{hostile}", "-o", "{tmp}/o", "-f", "docx"], 2, "unknown format"),
    (["transcribe", "{hostile}", "-o", "{tmp}/o", "--runner", "cloud"], 2, "unknown runner"),
    (["diarize", "{not_audio}", "-o", "{tmp}/o"], 1, "notes.wav"),
    (["ask", "{missing}", "Who spoke?"], 1, "no such file"),
    (["ask", "{not_audio}", "Who spoke?"], 1, "notes.wav"),
    (["ask", "--mode", "cascade", "--transcript", "{missing}.json", "Who?"], 1, "cannot read"),
    (["ask", "--batch", "{missing}.json", "-o", "{tmp}/o"], 1, "cannot read"),
    (["ask", "--batch", "{bad_json}", "-o", "{tmp}/o"], 1, "not valid JSON"),
    (["ask", "--batch", "{bad_json}"], 2, "-o OUT"),
    (["ask", "{hostile}", "Who?", "--mode", "oracle"], 2, "unknown mode"),
    (["ask", "--transcript", "{transcript}", "Who is the host?", "--role", "host"], 2,
     "ROLE=SPEAKER"),
    (["correct", "{binary}"], 1, "not a text file"),
    (["correct", "{bad_json}"], 1, "not valid JSON"),
    (["correct", "{wrong_types}"], 1, "segments[0].start is str"),
    (["correct", "{transcript}", "--audio", "{missing}.flac"], 1, "pass it with --audio"),
    (["correct", "{transcript}", "--correction-model", "{empty_dir}"], 1,
     "not a longspeech adapter"),
    (["train", "correction", "--out", "{tmp}/a", "--data", "{empty_dir}"], 2,
     "correction-data --out DIR"),
    (["report", "{binary}"], 1, "not a text file"),
    (["report", "{wrong_types}"], 1, "segments[0].start is str"),
    (["eval", "blab", "-o", "{tmp}/o"], 2, "--data DIR"),
    (["eval", "blab", "--data", "{missing}", "-o", "{tmp}/o"], 1, "missing"),
    (["train", "lslm", "--out", "{shipped}"], 2, "holds the shipped model"),
]


@pytest.mark.parametrize("args,status,says", BAD, ids=[" ".join(a[:2]) + f"-{i}"
                                                      for i, (a, _, _) in enumerate(BAD)])
def test_bad_input_gives_one_clear_line(args, status, says, files, transcript, tmp_path):
    from longspeech.speechlm import shipped_model_dir

    names = {k: str(v) for k, v in files.items()}
    names.update(tmp=str(tmp_path), missing=str(tmp_path / "missing"),
                 shipped=str(shipped_model_dir()), transcript=str(transcript))
    proc = run(*[a.format(**names) for a in args])
    err = " ".join(proc.stderr.split())
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert says in err, proc.stderr


def _clock_seconds(clock: str) -> float:
    minutes, seconds = clock.split(":")
    return 60 * int(minutes) + float(seconds)


def test_good_input_through_every_command(files, transcript, tmp_path):
    listed = run("models", "list")
    assert listed.returncode == 0 and "tiny.en" in listed.stdout
    html = tmp_path / "r.html"
    rep = run("report", str(transcript), "-o", str(html))
    assert rep.returncode == 0 and html.read_text().count("ask not what your country") >= 1
    rttm = run("diarize", str(files["hostile"]), "-o", str(tmp_path / "d"))
    assert rttm.returncode == 0, rttm.stderr
    assert (tmp_path / "d" / "x].rttm").read_text().startswith("SPEAKER x]")
    ask = run("ask", "--mode", "cascade", "--transcript", str(transcript),
              "What should you ask?", "--report", str(html))
    assert ask.returncode == 0, ask.stderr
    # the evidence line, then a link that opens the report at its moment
    lines = ask.stdout.splitlines()
    at = next(i for i, line in enumerate(lines)
              if line.startswith("  [") and "ask not what your country" in line.lower())
    seconds = lines[at].split("]")[0].split("[")[1]
    assert lines[at + 1].strip().startswith(html.resolve().as_uri() + "#t=")
    link_t = float(lines[at + 1].split("#t=")[1])
    assert _clock_seconds(seconds) == pytest.approx(link_t, abs=1.0)


# -- the options a Whisper / WhisperX user reaches for -----------------------------------------

def test_version_matches_the_package():
    from importlib.metadata import version

    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"longspeech {version('longspeech')}"


def test_all_formats_line_controls_and_full_names_when_piped(tmp_path):
    name = "a_rather_long_recording_name_from_the_inaugural_address_of_nineteen_sixty_one.flac"
    clip = tmp_path / name
    shutil.copy(JFK, clip)
    out = tmp_path / "out"
    proc = run("transcribe", str(clip), "-o", str(out), "-f", "all", "--runner", "local",
               "--max-line-width", "24", "--max-line-count", "2", "--max-words-per-line", "4",
               "--verbose")
    assert proc.returncode == 0, proc.stderr
    stem = clip.stem
    assert {p.suffix for p in out.glob(f"{stem}.*")} == {".json", ".txt", ".srt", ".vtt",
                                                          ".tsv", ".rttm"}
    assert str(clip) in proc.stderr                  # piped: the whole name, not cut
    assert "ask not what your country" in proc.stderr.lower()    # --verbose segments
    srt = (out / f"{stem}.srt").read_text().strip().split("\n\n")
    starts = []
    for cue in srt:
        _, timing, *lines = cue.split("\n")
        starts.append(timing.split(" --> ")[0])
        assert 1 <= len(lines) <= 2
        for line in lines:
            assert len(line.split()) <= 4 and (len(line) <= 24 or " " not in line), line
    assert len(srt) >= 3 and starts == sorted(starts)
    words = " ".join(line for cue in srt for line in cue.split("\n")[2:])
    assert " ".join(words.lower().split()).startswith("and so, my fellow americans")


def test_highlight_words_marks_one_word_per_cue(tmp_path):
    out = tmp_path / "out"
    proc = run("transcribe", str(JFK), "-o", str(out), "-f", "vtt", "--runner", "local",
               "--highlight-words", "--max-words-per-line", "6")
    assert proc.returncode == 0, proc.stderr
    cues = (out / f"{JFK.stem}.vtt").read_text().split("\n\n")[1:]
    assert len(cues) >= 20
    assert all(c.count("<u>") == 1 and c.count("</u>") == 1 for c in cues if c.strip())


def test_translate_gives_english(tmp_path):
    from .speech import espeak

    wav = espeak("El tren sale de la estación a las ocho de la mañana.", tmp_path / "es.wav",
                 voice="es", rate=140)
    out = tmp_path / "out"
    proc = run("transcribe", str(wav), "-o", str(out), "--model", "base", "--task",
               "translate", "--language", "es", "-f", "txt,json", "--runner", "local")
    assert proc.returncode == 0, proc.stderr
    text = (out / "es.txt").read_text().lower()
    # Whisper base translates loosely ("the train is going to the station, ..."), but into
    # English: the Spanish words are gone.
    words = set(text.replace(",", " ").replace(".", " ").split())
    assert {"the", "station"} <= words, text
    assert not {"tren", "estación", "mañana", "sale", "el", "la"} & words, text
    assert json.loads((out / "es.json").read_text())["provenance"]["options"]["asr"][
        "task"] == "translate"


def test_good_input_to_train_and_eval(tmp_path):
    """The two long-running commands on tiny settings: a CTC head trained into a directory
    of the user's, and BLAB tasks scored on one short synthetic recording."""
    trained = run("train", "ctc", "--out", str(tmp_path / "lslm"), "--steps", "2",
                  "--sentences", "6", "--facts", "2", "--batch-size", "2")
    assert trained.returncode == 0, trained.stderr
    manifest = json.loads((tmp_path / "lslm" / "lslm.json").read_text())
    assert set(manifest["files"]) == {"density_head.safetensors", "density_head.json",
                                      "ctc_vocab.model"}
    scored = run("eval", "blab", "--synthetic", "1", "--minutes", "0.5", "--tasks",
                 "entire_duration,speaker_number_estimation", "--runner", "local", "-o",
                 str(tmp_path / "blab"))
    assert scored.returncode == 0, scored.stderr
    results = json.loads((tmp_path / "blab" / "results.json").read_text())
    assert set(results["scores"]) == {"entire_duration", "speaker_number_estimation"}
