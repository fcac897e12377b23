"""The HTML report: figures worked by hand, and the page as headless Chromium shows it."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from longspeech.errors import InvalidOptionError, TranscriptFormatError
from longspeech.report import (Correction, load_report_input, render_report, summarize,
                               talk_time_chart, write_report)
from longspeech.report.html import script_json
from longspeech.report.layout import PALETTE, group_turns, lanes, lines
from longspeech.types import Recording, Segment, SpeakerTurn, Transcript, Word, load_transcript

from .chromium import Page, dump_dom, find_chromium

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample.flac"


def _seg(start: float, end: float, text: str, speaker: str | None, words: bool = True,
         word_speaker: bool = True) -> Segment:
    """A segment whose words share its span evenly (as an aligner would give them)."""
    toks = text.split()
    step = (end - start) / max(len(toks), 1)
    ws = [Word(" " + t, round(start + i * step, 3), round(start + (i + 1) * step, 3), 0.9,
               speaker if word_speaker else None) for i, t in enumerate(toks)] if words else []
    return Segment(start, end, text, ws, speaker)


def meeting() -> Transcript:
    """A one-minute, three-person meeting with diarization turns.

    Turns: alice 0-10 and 28-40 (22 s), bob 10-30 (20 s), carol 40-50 and 45-55 (overlapping
    records of one turn: 15 s). Speech anywhere: 0-55 = 55 s.
    Words: alice 6+6+7 = 19, bob 5+8 = 13, carol 7+5 = 12; 44 in all.
    """
    rec = Recording("weekly-sync", "/recordings/weekly-sync.flac", 60.0, 16000, 1)
    segs = [
        _seg(0.5, 4.5, "Good morning everyone, thanks for joining.", "alice"),
        _seg(5.0, 9.5, "Today we review the quarterly budget.", "alice"),
        _seg(10.5, 18.0, "The budget grew by 25%.", "bob"),
        _seg(18.5, 29.0, "Marketing spent most of it on the launch.", "bob"),
        # No speaker on the segment or its words: the diarization turn (alice 28-40) decides.
        _seg(30.0, 39.0, "Can we see the numbers per region?", None, word_speaker=False),
        _seg(40.5, 48.0, "I prepared a chart for each region.", "carol"),
        _seg(48.5, 54.0, "Sales grew in every region.", "carol", words=False),
        Segment(55.0, 56.0, "  ", speaker="carol"),  # nothing said: no line
    ]
    turns = [SpeakerTurn(0.0, 10.0, "alice"), SpeakerTurn(10.0, 30.0, "bob"),
             SpeakerTurn(28.0, 40.0, "alice"), SpeakerTurn(40.0, 50.0, "carol"),
             SpeakerTurn(45.0, 55.0, "carol")]
    return Transcript(rec, "en", segs, ["alice", "bob", "carol"],
                      {"asr": {"model": "tiny.en"}}, turns)


# -- figures and structure, no browser -------------------------------------------------------
def test_summary_figures_match_hand_count():
    sm = summarize(meeting())
    assert sm.duration == 60.0 and sm.num_speakers == 3
    assert sm.speech_time == 55.0
    assert sm.words == 44
    assert sm.wpm == pytest.approx(44 / (55 / 60))
    assert sm.wpm_recording == pytest.approx(44.0)
    by = {s.speaker: s for s in sm.speakers}
    assert [s.speaker for s in sm.speakers] == ["alice", "bob", "carol"]
    assert (by["alice"].talk_time, by["bob"].talk_time, by["carol"].talk_time) == (22.0, 20.0, 15.0)
    assert (by["alice"].words, by["bob"].words, by["carol"].words) == (19, 13, 12)
    assert by["alice"].share == pytest.approx(22 / 57)
    assert by["bob"].wpm == pytest.approx(13 / (20 / 60))


def test_turns_group_consecutive_lines_of_one_speaker():
    groups = group_turns(lines(meeting()))
    assert [(g.speaker, [ln.index for ln in g.lines]) for g in groups] == [
        ("alice", [0, 1]), ("bob", [2, 3]), ("alice", [4]), ("carol", [5, 6])]
    assert (groups[1].start, groups[1].end) == (10.5, 29.0)


def test_lanes_without_turns_come_from_segment_speakers():
    tr = meeting()
    tr.turns = []
    got = {ln.speaker: ln.blocks for ln in lanes(tr)}
    assert got["bob"] == ((10.5, 18.0), (18.5, 29.0))
    # Segment 4 has no speaker and no turn to place it: it is on no lane.
    assert got["alice"] == ((0.5, 4.5), (5.0, 9.5))


def test_transcript_without_speakers_has_one_speech_lane():
    tr = meeting()
    tr.turns, tr.speakers = [], []
    for s in tr.segments:
        s.speaker = None
        for w in s.words:
            w.speaker = None
    (lane,) = lanes(tr)
    assert lane.speaker == "speech" and len(lane.blocks) == 7
    sm = summarize(tr)
    assert sm.num_speakers == 0 and sm.speakers[0].words == 44
    page = render_report(tr)
    assert page.count('class="lane"') == 1 and 'data-speaker="speech"' in page
    assert "not labelled" in page


def test_hour_long_times_show_hours():
    tr = meeting()
    tr.recording = Recording("long", "/x/long.wav", 3725.0, 16000, 1)
    tr.segments.append(_seg(3700.1, 3701.0, "Goodbye.", "bob"))
    page = render_report(tr)
    assert '<span class="ts">1:01:40</span>' in page
    assert '<span class="ts">0:00:10</span>' in page  # one clock format per report


def test_script_json_cannot_close_the_script():
    obj = {"s": "</script><script>alert(1)</script><!-- \u2028 & >"}
    text = script_json(obj)
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == obj


def test_audio_is_linked_relative_to_the_report(tmp_path):
    audio = tmp_path / "audio dir" / "talk #1.flac"
    audio.parent.mkdir()
    shutil.copy(SAMPLE, audio)
    out = write_report(meeting(), tmp_path / "out" / "report.html", audio)
    page = out.read_text(encoding="utf-8")
    assert 'src="../audio%20dir/talk%20%231.flac"' in page
    assert f'src="{audio.resolve().as_uri()}"' in render_report(meeting(), audio)
    with pytest.raises(InvalidOptionError, match="not found"):
        render_report(meeting(), tmp_path / "missing.flac")


def _with_corrections() -> dict:
    d = json.loads(meeting().to_json())
    d["corrections"] = [
        {"original": "twenty five percent", "corrected": "25%", "type": "itn", "accepted": True,
         "reason": "numbers as digits", "segment": 2},
        {"original": "launch", "corrected": "lunch", "type": "spelling", "accepted": False,
         "reason": "context", "segment_index": 3},
        "not a correction", {"type": "empty"},  # skipped, not fatal
    ]
    d["segments"][5]["corrections"] = [
        {"original": "chart", "corrected": "graph", "type": "spelling", "reason": "wording"}]
    return d


def test_accepted_corrections_are_marked_rejected_only_listed(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(_with_corrections()), encoding="utf-8")
    with pytest.raises(TranscriptFormatError):  # the plain reader does not take corrections
        load_transcript(path)
    tr, cs = load_report_input(path)
    assert tr == meeting()
    assert [(c.corrected, c.accepted, c.segment) for c in cs] == [
        ("25%", True, 2), ("lunch", False, 3), ("graph", True, 5)]
    page = render_report(path)
    assert ('<mark class="fix" title="was: twenty five percent \u00b7 type: itn \u00b7 '
            'numbers as digits">25%</mark>') in page
    assert "lunch" not in page.split('id="corrections"')[0]  # rejected: not in the transcript
    assert '<tr class="rejected">' in page
    # "graph" is not in segment 5's text: noted after the line instead of marked in it.
    assert '<span class="fix-note" title="was: chart' in page and "[chart \u2192 graph]" in page
    assert page.count('<mark class="fix"') == 1


def test_no_corrections_no_corrections_section():
    page = render_report(meeting())
    assert 'id="corrections"' not in page and '<mark class="fix"' not in page
    extra = [Correction("quarterly", "quarterly", "spelling", True, "", 1)]
    assert page.count('<mark class="fix"') == 0
    assert render_report(meeting(), corrections=extra).count('<mark class="fix"') == 1


def test_corrections_from_provenance():
    tr = meeting()
    tr.provenance["correction"] = {"model": "smollm2", "corrections": [
        {"original": "review", "corrected": "review", "segment": 1, "accepted": "true"}]}
    assert render_report(tr).count('<mark class="fix"') == 1


def test_talk_time_chart_bars_in_proportion(tmp_path):
    from PIL import Image

    tr = meeting()
    tr.speakers = ["$alice", "bob_1^2", "carol"]  # no TeX parsing of names
    for t in range(len(tr.turns)):
        old = tr.turns[t]
        tr.turns[t] = SpeakerTurn(old.start, old.end, {"alice": "$alice", "bob": "bob_1^2"}.get(
            old.speaker, old.speaker))
    out = talk_time_chart(tr, tmp_path / "charts" / "talk.png")
    img = Image.open(out).convert("RGB")
    px = img.load()

    def bar_width(hex_color: str) -> int:
        rgb = tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
        return max(sum(px[x, y] == rgb for x in range(img.width)) for y in range(img.height))

    widths = [bar_width(c) for c in PALETTE[:3]]
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[1] / widths[0] == pytest.approx(20 / 22, abs=0.02)
    assert widths[2] / widths[0] == pytest.approx(15 / 22, abs=0.02)


# -- the page in a browser ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium() -> str:
    return find_chromium()


def _evil() -> Transcript:
    tr = meeting()
    tr.recording = Recording('</title><script>window.pwned=1</script>', '/x/<i id="inj3">.wav',
                             60.0, 16000, 1)
    tr.segments[3].text = ('<script>document.body.dataset.pwned="1"</script>'
                           '<img id="inj" src=x onerror="document.body.dataset.pwned=1">')
    tr.speakers = ['<b id="inj2">eve</b>' if s == "bob" else s for s in tr.speakers]
    for s in tr.segments[2:4]:
        s.speaker = '<b id="inj2">eve</b>'
    tr.turns = [SpeakerTurn(t.start, t.end, '<b id="inj2">eve</b>') if t.speaker == "bob" else t
                for t in tr.turns]
    return tr


class _Lines(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "p" and a.get("class") == "line":
            self.lines.append(a)


def test_fragment_filters_lines_in_dump_dom(chromium, tmp_path):
    out = write_report(meeting(), tmp_path / "report.html")
    parsed = _Lines()
    parsed.feed(dump_dom(chromium, out.as_uri() + "#q=region%20CHART", tmp_path / "profile"))
    assert [a["data-seg"] for a in parsed.lines] == ["0", "1", "2", "3", "4", "5", "6"]
    assert [a["data-seg"] for a in parsed.lines if "hidden" not in a] == ["5"]


def test_report_dom_search_and_screenshot(chromium, tmp_path):
    out = write_report(meeting(), tmp_path / "report.html")
    with Page(chromium, tmp_path / "profile") as page:
        page.goto(out.as_uri())
        lanes_ = page.eval("[...document.querySelectorAll('.lane')].map(l => "
                           "[l.dataset.speaker, l.querySelectorAll('.block').length])")
        assert lanes_ == [["alice", 2], ["bob", 1], ["carol", 1]]
        # Blocks are drawn in proportion: bob's 20 s block is twice alice's first 10 s one.
        widths = page.eval("[...document.querySelectorAll('.block')].map(b => "
                           "b.getBoundingClientRect().width)")
        assert widths[1] / widths[0] == pytest.approx(12 / 10, rel=0.02)
        assert widths[2] / widths[0] == pytest.approx(20 / 10, rel=0.02)
        visible = "[...document.querySelectorAll('.line')].filter(l => !l.hidden).map(l => +l.dataset.seg)"
        assert page.eval(visible) == [0, 1, 2, 3, 4, 5, 6]
        assert page.eval("document.querySelectorAll('.turn').length") == 4
        assert page.eval("document.getElementById('count').textContent") == "7 lines"
        assert page.eval("document.querySelector('#seg-2 .text').textContent") == "The budget grew by 25%."

        page.type_into("#q", "Budget")
        assert page.eval(visible) == [1, 2]
        assert page.eval("location.hash") == "#q=Budget"
        assert page.eval("document.getElementById('count').textContent") == "2 of 7 lines"
        assert page.eval("[...document.querySelectorAll('.turn')].map(t => t.hidden)") == [
            False, False, True, True]
        page.screenshot(tmp_path / "report-budget.png")

        page.goto(out.as_uri() + "?q=region")  # a query string works as well as a fragment
        assert page.eval(visible) == [4, 5, 6]
        page.goto(out.as_uri() + "#q=nothing-like-this")
        assert page.eval(visible) == []
        assert page.eval("document.getElementById('no-match').hidden") is False
        page.goto(out.as_uri())
        shot = page.screenshot(tmp_path / "report.png")

    from PIL import Image

    img = Image.open(shot).convert("RGB")
    assert img.width == 1200 and img.height > 900  # the whole page, not just the viewport
    colors = {c for _, c in img.getcolors(maxcolors=1 << 24)}
    for c in PALETTE[:3]:  # each speaker's lane colour is on screen
        assert tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) in colors


def test_transcript_cannot_inject_markup(chromium, tmp_path):
    tr = _evil()
    d = json.loads(tr.to_json())
    d["corrections"] = [{"original": "x", "corrected": "y", "accepted": False,
                         "reason": '"><img id="inj4" src=x onerror="window.pwned=1">'}]
    html_text = render_report(d)
    assert len(re.findall("<script", html_text, re.I)) == 2  # the JSON block and ours
    assert "<img" not in html_text and '<b id="inj2">' not in html_text
    out = tmp_path / "evil.html"
    out.write_text(html_text, encoding="utf-8")
    with Page(chromium, tmp_path / "profile") as page:
        page.goto(out.as_uri())
        assert page.eval("document.querySelectorAll('#inj, #inj2, #inj3, #inj4, img, b, i').length") == 0
        assert page.eval("document.scripts.length") == 2
        assert page.eval("typeof window.pwned") == "undefined"
        assert page.eval("document.body.dataset.pwned === undefined") is True
        assert page.eval("document.querySelector('#seg-3 .text').textContent") == tr.segments[3].text
        assert page.eval("document.title") == tr.recording.id
        assert page.eval("JSON.parse(document.getElementById('report-data').textContent).recording") \
            == tr.recording.id
        assert page.eval("[...document.querySelectorAll('.lane')].map(l => l.dataset.speaker)") == [
            "alice", '<b id="inj2">eve</b>', "carol"]


def test_clicking_a_line_or_block_seeks_the_audio(chromium, tmp_path):
    audio = tmp_path / "audio dir" / "talk #1.flac"
    audio.parent.mkdir()
    shutil.copy(SAMPLE, audio)
    out = write_report(meeting(), tmp_path / "out" / "report.html", audio)
    with Page(chromium, tmp_path / "profile") as page:
        page.goto(out.as_uri())
        duration = page.eval("new Promise(done => { const a = document.getElementById('player');"
                             "if (a.readyState > 0) done(a.duration);"
                             "a.addEventListener('loadedmetadata', () => done(a.duration));"
                             "a.addEventListener('error', () => done(-1)); })")
        assert duration == pytest.approx(60.0, abs=0.05)  # the relative link found the file
        assert page.eval("document.getElementById('player').currentTime") == 0
        page.click("#seg-3")
        assert page.eval("document.getElementById('player').currentTime") == pytest.approx(18.5, abs=0.3)
        page.eval("document.getElementById('player').pause()")
        page.click(".lane[data-speaker=carol] .block")
        assert page.eval("document.getElementById('player').currentTime") == pytest.approx(40.0, abs=0.3)


def test_report_of_a_real_transcription(chromium, ct2_engine, tmp_path):
    """data/sample.flac decoded by tiny.en, with the sample's reference speaker turns."""
    from longspeech.pipelines.transcribe import transcribe_file

    tr = transcribe_file(SAMPLE, ct2_engine)
    for row in SAMPLE.with_suffix(".rttm").read_text().splitlines():
        f = row.split()
        tr.turns.append(SpeakerTurn(float(f[3]), round(float(f[3]) + float(f[4]), 3), f[7]))
    said = [s for s in tr.segments if s.text.strip()]
    horses = [i for i, s in enumerate(tr.segments) if "horses" in s.text.lower()]
    assert len(said) >= 5 and horses  # the sample's first sentence ends "...the horses were green."
    out = write_report(tr, tmp_path / "sample.html", SAMPLE)
    with Page(chromium, tmp_path / "profile") as page:
        page.goto(out.as_uri() + "#q=horses")
        assert page.eval("[...document.querySelectorAll('.lane')].map(l => "
                         "[l.dataset.speaker, l.querySelectorAll('.block').length])") == [
            ["spk1", 3], ["spk0", 3]]
        assert page.eval("[...document.querySelectorAll('.line .text')].map(t => t.textContent)") \
            == [" ".join(s.text.split()) for s in said]
        assert page.eval("[...document.querySelectorAll('.line')].filter(l => !l.hidden)"
                         ".map(l => +l.dataset.seg)") == horses
        page.screenshot(tmp_path / "sample.png")


def test_job_writes_report_and_chart(ct2_engine, tmp_path):
    from longspeech.pipelines.job import run_job
    from longspeech.pipelines.transcribe import TranscribeOptions

    summary = run_job([SAMPLE], tmp_path, TranscribeOptions(), ("json",), engine=ct2_engine,
                      report=True)
    assert not summary.failed
    html = (tmp_path / "sample.html").read_text()
    assert "sample.flac" in html
    assert (tmp_path / "sample.talk_time.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {Path(p).name for p in summary.files[0].outputs} == {
        "sample.json", "sample.html", "sample.talk_time.png"}
