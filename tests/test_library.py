"""The library: every transcript of a job's output searchable and questionable as one
collection (OUT/library.sqlite, OUT/index.html, `longspeech search`, `ask OUT`)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from longspeech import Library
from longspeech.errors import InputFileError, InvalidOptionError
from longspeech.library import LIBRARY_FILE, PAGE_FILE, update, write_page
from longspeech.outputs import write_outputs
from longspeech.pipelines.job import run_job
from longspeech.pipelines.state import STATE_DIR
from longspeech.pipelines.transcribe import TranscribeOptions
from longspeech.types import Recording, Segment, Transcript

from .chromium import Page, find_chromium
from .speech import espeak, sox

# Three episodes: Maria and Tom are enrolled names (the same people in every episode);
# SPEAKER_01 is an anonymous label of one episode.
EPISODES = {
    "2024-03-01_ep1": [("Maria", "Welcome back, today we cover the harbour strike."),
                       ("Tom", "The budget is tight this year."),
                       ("Maria", "We need to talk about the budget again, and soon.")],
    "2024-03-08_ep2": [("Tom", "The harbour strike ended on Tuesday morning."),
                       ("SPEAKER_01", "I bought a red bicycle from Anna last week."),
                       ("Tom", "Harbour workers got a raise.")],
    "ep3": [("Maria", "Nothing about money today, the migration is what matters."),
            ("Tom", "The migration to the new servers is done, the color is green.")],
}


def _transcript(stem: str, lines: list[tuple[str, str]]) -> Transcript:
    segs = [Segment(10.0 * i, 10.0 * i + 8.0, text, speaker=who)
            for i, (who, text) in enumerate(lines)]
    return Transcript(Recording(stem, f"/audio/{stem}.wav", 10.0 * len(lines), 16000, 1), "en",
                      segs, speakers=sorted({w for w, _ in lines}))


def _write(out: Path, episodes: dict[str, list[tuple[str, str]]]) -> None:
    for stem, lines in episodes.items():
        write_outputs(_transcript(stem, lines), out, stem, ["json"])


@pytest.fixture
def shelf(tmp_path) -> Path:
    out = tmp_path / "out"
    _write(out, EPISODES)
    return out


def _where(hits) -> list[tuple[str, float]]:
    return [(h.recording, h.start) for h in hits]


def test_search_ranks_filters_and_reads_fts5_syntax(shelf):
    lib = Library(shelf)
    assert (shelf / LIBRARY_FILE).is_file() and lib.notices == []
    assert [r.stem for r in lib.recordings()] == ["2024-03-01_ep1", "2024-03-08_ep2", "ep3"]
    assert lib.recordings()[0].date == "2024-03-01" and lib.recordings()[2].date is None
    hits = lib.search("harbour strike")
    assert sorted(_where(hits)) == [("2024-03-01_ep1", 0.0), ("2024-03-08_ep2", 0.0)]
    assert hits[0].score >= hits[1].score
    # Porter stemming: "strikes" finds "strike", "raises" finds "raise"
    assert len(lib.search("strikes")) == 2
    assert _where(lib.search("raises")) == [("2024-03-08_ep2", 20.0)]
    assert _where(lib.search("budget", speaker="maria")) == [("2024-03-01_ep1", 20.0)]
    assert sorted(_where(lib.search("migration", recording="ep3*"))) == [("ep3", 0.0),
                                                                         ("ep3", 10.0)]
    assert _where(lib.search("budg*", recording="*ep2")) == []
    assert len(lib.search('"harbour strike" OR bicycle')) == 3
    assert _where(lib.search("harbour NOT strike")) == [("2024-03-08_ep2", 20.0)]
    assert _where(lib.search("budget, tight!")) == [("2024-03-01_ep1", 10.0)]   # not syntax
    assert _where(lib.search("colour")) == [("ep3", 10.0)]      # either English spelling
    assert len(lib.search("the", limit=2)) == 2
    with pytest.raises(InvalidOptionError, match="quote a phrase"):
        lib.search('"unbalanced')
    with pytest.raises(InvalidOptionError, match="empty"):
        lib.search("  ")


def test_questions_about_the_collection_are_computed(shelf):
    lib = Library(shelf)
    a = lib.ask("Which episodes mention the harbour strike?")
    assert a.recordings == ["2024-03-01_ep1", "2024-03-08_ep2"] and a.model == "library data"
    assert [(e.recording, e.start) for e in a.evidence] == [("2024-03-01_ep1", 0.0),
                                                            ("2024-03-08_ep2", 0.0)]
    a = lib.ask("In how many meetings did the budget come up?")
    assert a.count == 1 and a.recordings == ["2024-03-01_ep1"]
    assert a.text.startswith("1 of 3 recordings mentions")
    a = lib.ask("How many episodes talk about the migration?")
    assert a.count == 1 and a.recordings == ["ep3"]
    a = lib.ask("When did Maria last mention the budget?")
    assert [(e.recording, e.start, e.speaker) for e in a.evidence] == [
        ("2024-03-01_ep1", 20.0, "Maria")]
    a = lib.ask("When was the harbour strike first mentioned?")
    assert [(e.recording, e.start) for e in a.evidence] == [("2024-03-01_ep1", 0.0)]
    a = lib.ask("When did Tom last mention the harbour?")      # dated episodes go by date
    assert [(e.recording, e.start) for e in a.evidence] == [("2024-03-08_ep2", 20.0)]
    a = lib.ask("Who talks most about the migration?")
    assert a.text.startswith("Maria") or a.text.startswith("Tom")
    a = lib.ask("Which recordings mention the lighthouse?")
    assert a.recordings == [] and a.text.startswith("No recording mentions")


def test_who_talks_most_counts_enrolled_names_across_recordings(tmp_path):
    out = tmp_path / "out"
    _write(out, {"a": [("Ann", "The budget is fine."), ("SPEAKER_00", "The budget is bad.")],
                 "b": [("Ann", "Budget again."), ("SPEAKER_00", "I hate the budget.")]})
    a = Library(out).ask("Who talked the most about the budget?")
    # Ann is one person across both recordings (16 s); each SPEAKER_00 is someone else (8 s)
    assert a.text.startswith("Ann talks most") and a.recordings == ["a", "b"]
    assert "SPEAKER_00 (a): 8 s" in a.text


def test_content_question_names_its_recording(shelf, monkeypatch):
    lib = Library(shelf)
    a = lib.ask("Who sold the red bicycle?")
    assert a.kind == "fact" and a.recordings == ["2024-03-08_ep2"]
    assert a.text.startswith("In 2024-03-08_ep2:")
    assert any("bicycle" in e.text for e in a.evidence)


def test_transcripts_are_the_source_of_truth(shelf):
    lib = Library(shelf)
    lib.close()
    (shelf / "ep3.json").unlink()                                  # removed
    _write(shelf, {"ep4": [("Ann", "The lighthouse keeper retired.")]})   # added
    lib = Library(shelf)
    assert [r.stem for r in lib.recordings()] == ["2024-03-01_ep1", "2024-03-08_ep2", "ep4"]
    assert _where(lib.search("lighthouse")) == [("ep4", 0.0)]
    assert lib.search("migration") == []


@pytest.mark.parametrize("damage", ["truncated", "garbage", "older", "missing"])
def test_damaged_library_is_rebuilt_with_a_notice(shelf, damage):
    Library(shelf).close()
    path = shelf / LIBRARY_FILE
    if damage == "truncated":
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.truncate(size // 3)
    elif damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "older":
        conn = sqlite3.connect(path)
        conn.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
        conn.commit()
        conn.close()
    else:
        path.unlink()
    lib = Library(shelf)
    hits = lib.search("harbour strike")
    assert sorted(_where(hits)) == [("2024-03-01_ep1", 0.0), ("2024-03-08_ep2", 0.0)]
    assert len(lib.recordings()) == 3
    if damage != "missing":
        assert any("rebuilt" in n for n in lib.notices), lib.notices


def test_not_a_library(tmp_path):
    with pytest.raises(InputFileError, match="not a directory"):
        Library(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="holds no transcripts"):
        Library(tmp_path / "empty")
    out = tmp_path / "bad"
    _write(out, {"ok": [("Ann", "Fine words.")]})
    (out / "broken.json").write_text("{not json")
    lib = Library(out)
    assert [r.stem for r in lib.recordings()] == ["ok"]
    assert any("broken.json" in n for n in lib.notices)


_WORDS = ("harbour budget strike migration bicycle lighthouse servers contract notebook "
          "meeting agenda review").split()


def _many_one(out: Path, i: int, lines: int) -> None:
    _write(out, {f"rec{i:03d}": [("Ann" if j % 2 else "Bob",
                                  f"line {j} of {i} about the {_WORDS[(i + j) % len(_WORDS)]}")
                                 for j in range(lines)]})


def _many(out: Path, n: int, lines: int = 400) -> None:
    for i in range(n):
        _many_one(out, i, lines)


def test_reader_searches_while_a_writer_adds(tmp_path):
    out = tmp_path / "out"
    _write(out, {"first": [("Ann", "The harbour is calm.")]})
    lib = Library(out)
    errors: list[BaseException] = []
    seen: list[int] = []

    def write() -> None:            # as a job does: a transcript written, then indexed
        try:
            for i in range(30):
                _many_one(out, i, 200)
                update(out, [f"rec{i:03d}"])
        except BaseException as e:        # noqa: BLE001
            errors.append(e)

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        seen.append(len({h.recording for h in lib.search("harbour", limit=10_000)}))
    writer.join()
    assert not errors
    assert seen == sorted(seen)         # every read saw a whole number of recordings, growing
    assert len({h.recording for h in lib.search("harbour", limit=10_000)}) == 31


def test_kill_during_indexing_leaves_a_whole_library(tmp_path):
    out = tmp_path / "out"
    _many(out, 60)
    code = ("import sys; from longspeech.library import update; "
            "update(sys.argv[1], force=True)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)])
    time.sleep(2.0)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lib = Library(out)              # a whole library: the old one, or rebuilt, never half
    assert len(lib.recordings()) == 60
    hits = lib.search('"line 7 of 42"', limit=5)
    assert [(h.recording, h.start) for h in hits] == [("rec042", 70.0)]
    assert not list(out.glob(".library.sqlite.*"))       # no temp file left behind


def test_two_jobs_index_their_own_outputs_at_once(tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for i, out in enumerate(outs):
        _many(out, 20, 100)
        _write(out, {f"only_{i}": [("Ann", f"unique{i} words")]})
    code = ("import sys; from longspeech.library import update, write_page; "
            "update(sys.argv[1]); write_page(sys.argv[1])")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(o)]) for o in outs]
    assert [p.wait() for p in procs] == [0, 0]
    for i, out in enumerate(outs):
        lib = Library(out)
        assert len(lib.recordings()) == 21 and lib.notices == []
        assert _where(lib.search(f"unique{i}")) == [(f"only_{i}", 0.0)]
        assert lib.search(f"unique{1 - i}") == []


# -- the job's index step, the CLI and the page ------------------------------------------------

@pytest.fixture(scope="module")
def job(tmp_path_factory, ct2_engine) -> Path:
    """Two spoken recordings transcribed by a job, with reports."""
    d = tmp_path_factory.mktemp("libjob")
    paths = []
    for name, text in (("harbour", "The harbour strike ended today. Workers went home."),
                       ("garden", "The garden needs water. The roses are red.")):
        raw = espeak(text, d / f"{name}.raw.wav")
        sox(str(raw), "-r", "16000", str(d / f"{name}.wav"), "pad", "1", "1")
        paths.append(d / f"{name}.wav")
    out = d / "out"
    summary = run_job(paths, out, TranscribeOptions(), ("json", "txt"), engine=ct2_engine,
                      report=True)
    assert not summary.failed
    return out


def _log(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / STATE_DIR / "job.log").read_text().splitlines()]


def test_job_indexes_each_recording_and_resumes(job, ct2_engine):
    assert (job / LIBRARY_FILE).is_file() and (job / PAGE_FILE).is_file()
    events = [e["event"] for e in _log(job)]
    assert events.count("indexed") == 2
    hits = Library(job).search("roses")
    assert [h.recording for h in hits] == ["garden"] and hits[0].link.startswith("garden.html#t=")
    page = (job / PAGE_FILE).read_bytes()
    summary = run_job([Path(job.parent / "harbour.wav"), Path(job.parent / "garden.wav")], job,
                      TranscribeOptions(), ("json", "txt"), engine=ct2_engine, report=True)
    assert not summary.failed
    last = _log(job)[-20:]
    assert [e["event"] for e in last].count("index_reused") == 2
    assert (job / PAGE_FILE).read_bytes() == page


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "longspeech.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_cli_search_index_and_ask_across(job):
    got = _cli("search", str(job), "strike ended", "--json")
    assert got.returncode == 0, got.stderr
    hits = json.loads(got.stdout)
    assert hits[0]["recording"] == "harbour" and hits[0]["link"].startswith("harbour.html#t=")
    got = _cli("search", str(job), "roses")
    assert got.returncode == 0 and "garden [" in got.stdout and "garden.html#t=" in got.stdout
    assert _cli("search", str(job), "lighthouse").returncode == 1
    bad = _cli("search", str(job), '"unbalanced')
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "quote a phrase" in bad.stderr
    got = _cli("ask", str(job), "Which recordings mention the roses?", "--json")
    assert got.returncode == 0, got.stderr
    answer = json.loads(got.stdout)
    assert answer["recordings"] == ["garden"] and answer["evidence"][0]["recording"] == "garden"
    (job / LIBRARY_FILE).write_bytes(b"junk")
    got = _cli("index", str(job))
    assert got.returncode == 0 and "2 recording(s)" in got.stdout
    nothing = _cli("search", str(job.parent / "no-such-dir"), "x")
    assert nothing.returncode == 1 and "not a directory" in nothing.stderr


def test_page_escapes_transcript_text(tmp_path):
    out = tmp_path / "out"
    _write(out, {"evil": [("<b id=x>eve</b>", '</script><img src=x onerror="window.pwned=1">')]})
    Library(out).close()
    html_text = write_page(out).read_text()
    assert "<img" not in html_text and "</script><" not in html_text.split("library-data")[1][:200]


def test_library_page_search_opens_the_report_at_the_moment(job, tmp_path):
    chromium = find_chromium()
    with Page(chromium, tmp_path / "profile") as page:
        page.goto((job / PAGE_FILE).as_uri())
        assert page.eval("document.querySelectorAll('tbody tr').length") == 2
        page.type_into("#q", "roses")
        assert page.eval("document.body.dataset.hits") == "1"
        target = page.eval("document.querySelector('a.hit').getAttribute('href')")
        assert target.startswith("garden.html#t=")
        page.screenshot(tmp_path / "library.png")
        page.click("a.hit")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if page.eval("location.pathname.endsWith('/garden.html') && "
                             "document.body.getAttribute('data-ready') === '1'"):
                    break
            except RuntimeError:
                pass                   # the page is changing under the call
            time.sleep(0.1)
        assert page.eval("location.hash") == "#" + target.split("#")[1]
        t = float(target.split("=")[1])
        # the report's line at that moment is the one on screen
        line = page.eval(f"(() => {{ const ls = [...document.querySelectorAll('.line')]"
                         f".filter(l => +l.dataset.start <= {t} + 0.01); const l = ls[ls.length - 1];"
                         "const r = l.getBoundingClientRect(); return [l.textContent, r.top >= 0 && "
                         "r.bottom <= innerHeight]; })()")
        assert "roses" in line[0].lower() and line[1] is True


def test_library_page_finds_either_english_spelling(tmp_path):
    out = tmp_path / "out"
    _write(out, {"a": [("Ann", "The harbor is calm today.")], "b": [("Bob", "Nothing here.")]})
    Library(out).close()
    page_file = write_page(out)
    with Page(find_chromium(), tmp_path / "profile") as page:
        page.goto(page_file.as_uri() + "#q=harbour%20calm")
        assert page.eval("document.body.dataset.hits") == "1"
        assert page.eval("document.querySelector('.hit').textContent").endswith(
            "The harbor is calm today.")


def test_ask_batch_answers_items_about_a_library(shelf, tmp_path):
    from longspeech.api import ask_batch

    items = [{"path": str(shelf), "question": "How many episodes mention the migration?",
              "id": "q1"},
             {"path": str(tmp_path / "nowhere"), "question": "Which episodes?", "id": "q2"}]
    summary, rows = ask_batch(items, tmp_path / "answers")
    assert [r["id"] for r in rows] == ["q1", "q2"]
    assert rows[0]["mode"] == "library" and rows[0]["count"] == 1
    assert rows[0]["recordings"] == ["ep3"] and rows[0]["evidence"][0]["recording"] == "ep3"
    assert rows[1]["answer"] is None and "no such file" in rows[1]["error"]
    saved = json.loads((tmp_path / "answers" / "answers.json").read_text())
    assert saved == rows
