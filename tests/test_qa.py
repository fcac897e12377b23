"""Question answering over recordings: cascade from a transcript, the embedded speech-language
model on synthesised speech, Qwen2-Audio with fusion on a tiny random config, batch input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from longspeech.compression import CompressionOptions, CTCDensityHead, DensityHeadConfig
from longspeech.errors import InputFileError, InvalidOptionError
from longspeech.api import ask, ask_batch, read_items
from longspeech.qa import AskOptions, format_transcript
from longspeech.qa.cascade import cascade_messages, clock
from longspeech.qa.answer import unbacked_answer
from longspeech.qa.evidence import backed, find_evidence, nearest_passage
from longspeech.qa.answer_kind import holds_kind, question_kind
from longspeech.qa.retrieval import answer_lines, rank, relevant_lines
from longspeech.types import Recording, Segment, Transcript


def meeting() -> Transcript:
    segs = [Segment(1.2, 4.0, "Good morning everyone, let us start.", [], "spk0"),
            Segment(4.5, 9.0, "The budget report is due on Friday.", [], "spk1"),
            Segment(65.0, 70.0, "Maria bought the green bicycle in the market.", [], "spk0"),
            Segment(3725.0, 3728.0, "Thanks, see you next week.", [], None)]
    return Transcript(Recording("m", "m.wav", 3730.0, 16000, 1), "en", segs, ["spk0", "spk1"],
                      {})


# -- cascade -------------------------------------------------------------------------------

def test_transcript_lines_carry_times_and_speakers():
    assert clock(83.4) == "01:23" and clock(3723) == "1:02:03"
    lines = format_transcript(meeting()).splitlines()
    assert lines == ["[00:01] spk0: Good morning everyone, let us start.",
                     "[00:04] spk1: The budget report is due on Friday.",
                     "[01:05] spk0: Maria bought the green bicycle in the market.",
                     "[1:02:05] Thanks, see you next week."]
    msgs = cascade_messages(meeting(), "Who bought the bicycle?")
    assert msgs[-1]["content"].endswith("Question: Who bought the bicycle?")


def test_a_transcript_longer_than_the_budget_keeps_the_lines_about_the_question():
    filler = [f"[{i:02d}:00] spk0: We talked about the weather and the traffic again."
              for i in range(40)]
    lines = filler[:25] + ["[25:30] spk1: Maria bought the green bicycle in the market."] + \
        filler[25:]
    words = lambda text: len(text.split())  # noqa: E731
    kept = relevant_lines(lines, "Who bought the green bicycle?", 40, words)
    assert lines[25] in kept and sum(words(k) + 1 for k in kept) <= 40
    assert kept == [line for line in lines if line in kept]   # time order kept
    msgs = cascade_messages("\n".join(lines), "Who bought the green bicycle?", 40, words)
    assert "Maria bought" in msgs[-1]["content"] and "[39:00]" not in msgs[-1]["content"]
    whole = cascade_messages("\n".join(lines), "Who bought the green bicycle?", 10_000, words)
    assert "[39:00]" in whole[-1]["content"]


def test_cascade_answers_from_a_transcript():
    tr = meeting()
    who = ask(None, "Who bought the green bicycle?", mode="cascade", transcript=tr)
    assert who.mode == "cascade" and "Maria" in who.text
    when = ask(None, "When is the budget report due?", mode="cascade", transcript=tr)
    assert "Friday" in when.text


def test_questions_about_structure_are_computed_with_their_evidence():
    tr = meeting()

    def q(text):
        a = ask(None, text, mode="cascade", transcript=tr)
        return a, [(e.start, e.speaker) for e in a.evidence]

    a, ev = q("How many speakers are there?")
    assert a.text == "2 (spk0, spk1)." and a.model == "transcript data"
    assert ev == [(1.2, "spk0"), (4.5, "spk1")]
    # where the diarizer joined two voices it could not tell apart, the answer says so
    joined = {"speakers": 2, "confidence": "low", "closest_similarity": 0.71,
              "smallest_share": 0.4, "merged_similarity": 0.87}
    unsure = replace(tr, provenance={"diarization": {"speaker_count": joined}})
    assert ask(None, "How many speakers are there?", mode="cascade",
               transcript=unsure).text == (
        "2 (spk0, spk1). The speaker count is uncertain: two voices as alike as 0.87 (cosine) "
        "were counted as one speaker, so there may be one more.")
    assert ask(None, "How long did spk0 talk?", mode="cascade", transcript=unsure).text \
        .endswith("in 2 segment(s). The speaker count is uncertain: two voices as alike as "
                  "0.87 (cosine) were counted as one speaker, so there may be one more.")
    a, ev = q("How long did spk0 talk?")
    assert a.text == "spk0 talked for 7.8 s in 2 segment(s)." and ev == [(1.2, "spk0"),
                                                                        (65.0, "spk0")]
    a, ev = q("Who said that the budget report is due on Friday?")
    assert a.text == "spk1, at 00:04." and ev == [(4.5, "spk1")]
    a, ev = q("Who talks about the budget report?")      # a speaker, not a sentence
    assert a.text == "spk1, at 00:04." and ev == [(4.5, "spk1")]
    a, ev = q("When did someone mention the green bicycle?")
    assert a.text == "At 01:05 (spk0)." and ev == [(65.0, "spk0")]
    a, ev = q("What was said around minute 62?")
    assert a.text == "[1:02:05] Thanks, see you next week." and ev == [(3725.0, None)]
    assert q("What was said at 30:00?")[0].text == "Nothing was said within 15 s of 30:00."
    unlabelled = Transcript(tr.recording, "en", [Segment(s.start, s.end, s.text, [], None)
                                                for s in tr.segments], [], {})
    a = ask(None, "How many people speak?", mode="cascade", transcript=unlabelled)
    assert "--diarize" in a.text and not a.evidence
    # a question about the content, not the recording's structure, goes to the LLM
    llm = ask(None, "Who bought the green bicycle?", mode="cascade", transcript=tr)
    assert llm.model == "smollm2" and llm.supported and llm.evidence[0].start == 65.0


def three_voices() -> Transcript:
    segs = [Segment(0.5, 3.0, "Good morning, let us begin with the freezer.", [], "SPEAKER_02"),
            Segment(3.5, 20.0, "The freezer broke on Monday and the samples went downstairs.",
                    [], "SPEAKER_00"),
            Segment(21.0, 40.0, "A technician from Stuttgart comes on Thursday to fix it.", [],
                    "SPEAKER_00"),
            Segment(41.0, 47.0, "Then the grant report, which is due in March.", [],
                    "SPEAKER_01"),
            Segment(300.0, 320.0, "The grant report needs the budget figures from finance.",
                    [], "SPEAKER_00"),
            Segment(321.0, 324.0, "Thanks all, see you next week.", [], "SPEAKER_01")]
    return Transcript(Recording("t", "t.wav", 330.0, 16000, 1), "en", segs,
                      ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"], {})


@pytest.mark.parametrize("question,starts", [
    ("Who talks the most?", "SPEAKER_00 talked the most: 55.5 s"),
    ("Which speaker speaks the longest?", "SPEAKER_00 talked the most"),
    ("Who dominated the conversation?", "SPEAKER_00 talked the most"),
    ("Who talks the least?", "SPEAKER_02 talked the least: 2.5 s"),
    ("Who speaks first?", "SPEAKER_02 spoke first, at 00:00"),
    ("Who opens the meeting?", "SPEAKER_02 spoke first"),
    ("Who had the last word?", "SPEAKER_01 spoke last, at 05:21"),
    ("How many different voices are there?", "3 (SPEAKER_02, SPEAKER_00, SPEAKER_01)."),
    ("how long does speaker 1 speak", "SPEAKER_01 talked for 9.0 s in 2 segment(s)."),
    ("Who brought up the technician?", "SPEAKER_00, at 00:21."),
    ("When was the grant report mentioned?", "At 00:41 (SPEAKER_01)."),
])
def test_structure_questions_are_answered_whatever_their_wording(question, starts):
    a = ask(None, question, mode="cascade", transcript=three_voices())
    assert a.model == "transcript data" and a.text.startswith(starts), a.text
    assert a.evidence       # the segments or figures it rests on


def test_people_by_role_and_what_they_said_about_a_thing():
    tr = three_voices()
    host = AskOptions(roles=(("host", "SPEAKER_01"), ("me", "SPEAKER_00")))
    a = ask(None, "How long did the host talk?", mode="cascade", transcript=tr, options=host)
    assert a.text == "SPEAKER_01 talked for 9.0 s in 2 segment(s)."
    a = ask(None, "What did I say about the grant report?", mode="cascade", transcript=tr,
            options=host)
    assert [(e.start, e.speaker) for e in a.evidence][0] == (300.0, "SPEAKER_00")
    assert '"The grant report needs the budget figures from finance."' in a.text
    # a role nobody named is not guessed
    a = ask(None, "How long did the guest talk?", mode="cascade", transcript=tr)
    assert "--role guest=SPEAKER" in a.text and not a.evidence
    bad = AskOptions(roles=(("host", "Zelda"),))
    a = ask(None, "How long did the host talk?", mode="cascade", transcript=tr, options=bad)
    assert a.text.startswith("The role host=Zelda names no speaker")


def test_me_as_the_one_asked_names_nobody():
    # "tell me", "show me", "give me" ask for something; they are not a role to resolve
    tr = three_voices()
    a = ask(None, "Can you tell me who spoke first?", mode="cascade", transcript=tr)
    assert a.text.startswith("SPEAKER_02 spoke first"), a.text
    a = ask(None, "Give me the number of speakers.", mode="cascade", transcript=tr)
    assert a.text.startswith("3 ("), a.text
    a = ask(None, "How long did I talk?", mode="cascade", transcript=tr)   # "I" still is one
    assert "--role me=SPEAKER" in a.text


def test_what_a_recording_is_about_is_quoted_from_it():
    a = ask(None, "What were the main topics?", mode="cascade", transcript=three_voices())
    assert a.text.startswith("Topics in the transcript's own words (extracted, not a summary)")
    said = {s.text for s in three_voices().segments}
    assert a.evidence and all(e.text in said for e in a.evidence)
    assert "freezer" in a.text and "grant" in a.text
    starts = [e.start for e in a.evidence]
    assert starts == sorted(starts)


def test_retrieval_matches_word_forms_and_reads_the_reply_to_a_question():
    # "approve" finds "approved" (Snowball stems); without stems the shorter line would win
    assert [i for i, _ in rank(["We approved the new logo.", "The logo is new."],
                               "Which logo did they approve?")] == [0, 1]
    lines = ["[00:01] spk0: Let us start with the slides.",
             "[01:00] spk0: Who is presenting the quarterly review to the investors?",
             "[01:04] spk1: Helena offered to do it.",
             "[02:00] spk1: Lunch is at noon."]
    text = cascade_messages("\n".join(lines), "Who presents the quarterly review?",
                            passages=1)[-1]["content"]
    assert lines[1] in text and lines[2] in text and lines[0] not in text


def test_a_question_answered_by_the_next_speaker_is_answered_from_the_recording(tmp_path):
    """A scripted dialogue, spoken by two synthetic voices and transcribed: the question's
    line is read with the reply after it, and the answer names who and where, with the reply
    line as its evidence (where SmolLM2 talks on past the answer, "...in Lisbon, Portugal,
    in May.", only the backed name asked for is kept)."""
    from longspeech.synth import RecordingSpec, write_recording

    from .test_synth import SCRIPT

    paths = write_recording(RecordingSpec(seed=3, duration=20.0, speakers=2, script=SCRIPT),
                            tmp_path, "dialogue")
    said = {s["text"]: s["start"] for s in json.loads(Path(paths.metadata).read_text())[
        "sentences"]}
    who = ask(paths.audio, "Who will present the quarterly review?", mode="cascade")
    assert "Maria" in who.text and who.supported
    assert [round(e.start) for e in who.evidence] == [round(said["Maria offered to do it."])]
    where = ask(paths.audio, "Where is the workshop this year?", mode="cascade")
    assert "Lisbon" in where.text and where.supported
    assert [round(e.start) for e in where.evidence] == [
        round(said["It will be in Lisbon, in May."])]


def test_an_unbacked_answer_keeps_the_backed_words_of_the_kind_asked_for():
    from longspeech.qa.evidence import Evidence, kind_answer

    reply = Evidence(11.0, 12.5, "spk1", "Maria offered to do it.")
    asked = Evidence(7.5, 10.0, "spk0", "Who will present the quarterly review?")
    ramble = "Maria, I'm sorry for any confusion. The quarterly review is a key part of it."
    assert kind_answer("Who will present the quarterly review?", ramble,
                       [asked, reply]) == ("Maria", [reply])
    # a name the evidence does not hold, or a question asking for no name or number: nothing
    assert kind_answer("Who will present it?", "Helena will.", [asked, reply]) is None
    assert kind_answer("Why was it moved?", ramble, [asked, reply]) is None
    price = Evidence(3.0, 5.0, "spk0", "The repair cost us 900 pounds in the end.")
    assert kind_answer("How much did the repair cost?", "It cost 900 pounds, a fair price.",
                       [price]) == ("900", [price])


def test_among_lines_about_as_relevant_the_one_holding_the_kind_asked_for_goes_first():
    lines = ["[00:01] spk0: The bands will play at the spring concert in the hall.",
             "[00:05] spk1: Gabriel is booking three local bands for the evening.",
             "[00:09] spk0: The weather is nice."]
    who = "Who is booking the bands for the spring concert?"
    assert question_kind(who) == "name" and question_kind("How much was it?") == "number"
    assert question_kind("Why did the freezer fail?") is None
    assert [i for i, _ in rank(lines, who)] == [0, 1]       # BM25 alone: the concert line
    assert answer_lines(lines, who) == [1]                 # a name, within half its score
    assert answer_lines(lines, "When is the spring concert?") == [0]   # no kind asked
    # a word in every line scores below zero in BM25: the line is still found
    assert answer_lines(["Ask not what your country can do for you."], "What to ask?") == [0]
    assert holds_kind("That repair cost us 900 pounds.", "number", "How much did it cost?")
    assert not holds_kind("It costs 900 pounds.", "number", "Does it cost 900 pounds?")
    # an ordinary word at a sentence start and a speaker label are not names
    assert not holds_kind("[00:01] SPEAKER_00: Then we need the money.", "name", "Who pays?")


def test_an_answer_the_transcript_does_not_back_quotes_the_passage_instead():
    tr = Transcript(Recording("m", "m.wav", 100.0, 16000, 1), "en", [
        Segment(60.0, 63.0, "Who is presenting the quarterly review?", [], "spk0"),
        Segment(63.5, 67.0, "Helena offered to do it.", [], "spk1"),
        Segment(90.0, 93.0, "The board approved sixty, so something has to give.", [], "spk0"),
    ], ["spk0", "spk1"], {})
    ev = find_evidence(tr, "How much did the board approve?", "The board approved sixty.")
    assert [e.start for e in ev] == [90.0]
    assert backed("How much did the board approve?", "The board approved sixty.", ev)
    # "dollars" is said nowhere: the answer was made up around the passage
    assert not backed("How much did the board approve?", "Sixty dollars.", ev)
    assert not backed("Which city?", "Barcelona.", [])
    assert not backed("How much did the board approve?", "The board did approve.", ev)
    near = nearest_passage(tr, "Who presents the quarterly review?")
    assert [e.start for e in near] == [60.0, 63.5]           # the question and its reply
    assert unbacked_answer(near) == ('The transcript does not say it in those words; the '
                                     'nearest passage: "Who is presenting the quarterly '
                                     'review? Helena offered to do it."')
    assert nearest_passage(tr, "What colour is the car?") == []
    assert unbacked_answer([]) == "The transcript does not say."
    # whichever the LLM does, the user gets the number with the moment it was said
    a = ask(None, "How much money did the board approve?", mode="cascade", transcript=tr)
    assert "sixty" in a.text.lower() and a.evidence[0].start == 90.0


def test_cascade_reads_a_transcript_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(meeting().to_json())
    answer = ask(None, "Who bought the green bicycle?", mode="cascade", transcript=str(path))
    assert "Maria" in answer.text


def test_bad_requests_say_what_to_do():
    with pytest.raises(InvalidOptionError, match="empty"):
        ask(None, "  ", mode="cascade", transcript=meeting())
    with pytest.raises(InvalidOptionError, match="mode"):
        ask(None, "Who?", mode="oracle", transcript=meeting())  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="needs the audio"):
        ask(None, "Who?", mode="lslm")
    with pytest.raises(InvalidOptionError, match="method"):
        AskOptions(method="magic")


# -- LongSpeech-Eval input -----------------------------------------------------------------

def test_longspeech_eval_items_resolve_relative_paths(tmp_path):
    (tmp_path / "a").mkdir()
    src = tmp_path / "a" / "eval.json"
    src.write_text(json.dumps([{"path": "x.wav", "question": "Q1?"},
                               {"path": "/abs/y.wav", "question": "Q2?", "id": 7}]))
    items = read_items(src)
    assert items == [{"path": str(tmp_path / "a" / "x.wav"), "question": "Q1?"},
                     {"path": "/abs/y.wav", "question": "Q2?", "id": 7}]
    src.write_text(json.dumps([{"path": "x.wav"}]))
    with pytest.raises(InputFileError, match="question"):
        read_items(src)


# -- the embedded speech-language model on synthesised speech ------------------------------

FACTS = [
    ("Oliver works as a baker near the station.", "What does Oliver work as?", "baker"),
    ("The favorite color of Laura is purple.", "What is the favorite color of Laura?",
     "purple"),
]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    import soundfile as sf

    from longspeech.synth import DEFAULT_CACHE, DEFAULT_VOICES

    d = tmp_path_factory.mktemp("spoken")
    paths = []
    for i, (sentence, _, _) in enumerate(FACTS):
        r = DEFAULT_CACHE.get(DEFAULT_VOICES[0], sentence)
        audio = np.concatenate([np.zeros(4000, np.float32), r.audio, np.zeros(4000, np.float32)])
        sf.write(d / f"fact{i}.wav", audio, 16000)
        paths.append(d / f"fact{i}.wav")
    return paths


def test_lslm_hears_the_spoken_sentence(spoken):
    """The small shipped model is no oracle (about 40% of held-out questions right, see
    benchmarks/README.md), but what it writes comes from the audio: its transcriptions of two
    different sentences differ and keep most of their words (a model that ignores the speech
    and writes one fluent sentence for every clip scores a WER near 1 here)."""
    from longspeech.eval import word_error_rate
    from longspeech.speechlm import TRANSCRIBE

    heard = [ask(path, TRANSCRIBE, "lslm", window=750) for path in spoken]
    assert heard[0].text != heard[1].text
    assert word_error_rate([s for s, _, _ in FACTS], [a.text for a in heard]) < 0.75, heard
    for path, (_, question, _) in zip(spoken, FACTS):
        answer = ask(path, question, "lslm", window=750)
        assert answer.text.strip() and answer.mode == "lslm"
        assert answer.frames == answer.speech_tokens
        assert 60 <= answer.frames <= 125  # ~3-4 s at 25 frames/s, not compressed at L=750


def _items(spoken) -> list[dict]:
    items = [{"path": str(p), "question": q, "id": i}
             for i, (p, (_, q, _)) in enumerate(zip(spoken, FACTS))]
    return items + [{"path": str(spoken[0]), "question": FACTS[0][1], "id": 2}]


def _log(out) -> list[dict]:
    return [json.loads(x) for x in (out / ".longspeech" / "job.log").read_text().splitlines()]


def test_ask_batch_is_a_job_that_resumes(spoken, tmp_path):
    src = tmp_path / "eval.json"
    src.write_text(json.dumps(_items(spoken)))
    out = tmp_path / "out"
    summary, rows = ask_batch(src, out, "lslm", window=12)
    assert not summary.failed
    assert [r["id"] for r in rows] == [0, 1, 2]
    assert [r["question"] for r in rows] == [q for _, q, _ in FACTS] + [FACTS[0][1]]
    assert all(r["path"] == str(spoken[i % 2]) for i, r in enumerate(rows))
    assert all(r["answer"] and r["mode"] == "lslm" and r["speech_tokens"] == 12 for r in rows)
    assert rows[2]["answer"] == rows[0]["answer"]      # the same question, answered once
    assert json.loads((out / "answers.json").read_text()) == rows
    first = _log(out)
    assert sorted(e["recording"] for e in first if e["event"] == "encoded") == ["fact0", "fact1"]
    assert len([e for e in first if e["event"] == "answered"]) == 2
    before = (out / "answers.json").read_bytes()

    summary, again = ask_batch(src, out, "lslm", window=12)
    assert (out / "answers.json").read_bytes() == before
    second = _log(out)[len(first):]
    assert not [e for e in second if e["event"] == "answered"]
    assert len([e for e in second if e["event"] == "answer_reused"]) == 2


def test_ask_batch_gives_the_same_answers_on_ray_with_a_killed_actor(spoken, tmp_path):
    import ray

    from longspeech.pipelines.runners import LocalRunner, RayRunner

    src = tmp_path / "eval.json"
    src.write_text(json.dumps(_items(spoken)))
    ask_batch(src, tmp_path / "local", "lslm", window=12, runner=LocalRunner())
    runner = RayRunner()
    killed = []

    def kill_once(result) -> None:
        # The first recording is answered: kill the answering actor; it restarts, and the
        # calls it had in flight are retried.
        if not killed:
            ray.kill(runner.pools["answer"].actors[0], no_restart=False)
            killed.append(result.input)

    summary, _ = ask_batch(src, tmp_path / "ray", "lslm", window=12, runner=runner, on_file=kill_once)
    assert killed and not summary.failed and summary.runner == "ray"
    assert ((tmp_path / "ray" / "answers.json").read_bytes()
            == (tmp_path / "local" / "answers.json").read_bytes())


def test_cascade_job_answers_from_the_transcript_with_evidence(spoken, tmp_path):
    out = tmp_path / "out"
    summary, rows = ask_batch(_items(spoken)[:2], out, mode="cascade")
    assert not summary.failed
    for row, path in zip(rows, spoken):
        assert row["mode"] == "cascade" and row["answer"]
        transcript = json.loads((out / f"{path.stem}.json").read_text())
        texts = {" ".join(s["text"].split()) for s in transcript["segments"]}
        for ev in row["evidence"]:       # evidence quotes the transcript, with its times
            assert ev["text"] in texts and 0 <= ev["start"] < ev["end"]
    assert "baker" in rows[0]["answer"].lower() and rows[0]["evidence"]


# -- Qwen2-Audio: fusion before its encoder LayerNorm / projector (tiny random model) -------

@pytest.fixture(scope="module")
def tiny_qwen():
    from transformers import (AutoTokenizer, Qwen2AudioConfig,
                              Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor)

    from longspeech.llm import converted_dir
    from longspeech.qa.qwen2audio import Qwen2AudioLSLM

    tok = AutoTokenizer.from_pretrained(converted_dir("smollm2"))
    tok.add_special_tokens({"additional_special_tokens": ["<|audio_bos|>", "<|AUDIO|>",
                                                          "<|audio_eos|>"]})
    cfg = Qwen2AudioConfig(
        audio_config=dict(d_model=32, encoder_layers=1, encoder_attention_heads=2,
                          encoder_ffn_dim=64, num_mel_bins=128, max_source_positions=1500),
        text_config=dict(model_type="qwen2", vocab_size=len(tok), hidden_size=32,
                         intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=1),
        audio_token_id=tok.convert_tokens_to_ids("<|AUDIO|>"))
    torch.manual_seed(0)
    model = Qwen2AudioForConditionalGeneration(cfg).eval()
    head = CTCDensityHead(DensityHeadConfig(d_enc=32, d_model=32, vocab_size=10))
    return Qwen2AudioLSLM(model, tok, WhisperFeatureExtractor(feature_size=128), head)


def noise(seconds: float) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(int(16000 * seconds)) * 0.05
            ).astype(np.float32)


def test_qwen2audio_uncompressed_path_equals_the_models_own(tiny_qwen):
    """With L above the frame count, our inputs give exactly the logits of Qwen2-Audio's own
    audio path (its processor-style input with one <|AUDIO|> token per frame)."""
    q = tiny_qwen
    clip = noise(10.0)
    states = q.encode(clip)
    assert states.shape == (250, 32)  # 10 s at 25 frames/s, before the final LayerNorm
    ids, embeds, mask = q.inputs(states, "What is said?", 10_000)
    feats = q.feature_extractor(clip, sampling_rate=16000, padding="max_length",
                                return_attention_mask=True, return_tensors="pt")
    with torch.no_grad():
        own = q.model(input_ids=ids, input_features=feats.input_features,
                      feature_attention_mask=feats.attention_mask, attention_mask=mask).logits
        ours = q.model(inputs_embeds=embeds, attention_mask=mask).logits
    assert int((ids == q.audio_token_id).sum()) == 250
    assert torch.allclose(own, ours, atol=1e-5)


def test_qwen2audio_long_audio_is_fused_to_the_window_end_to_end(tiny_qwen):
    from longspeech.compression import compress

    q = tiny_qwen
    audio = noise(36.0)  # two clips: 30 + 6 s
    states = q.encode(audio)
    assert states.shape == (750 + 150, 32)
    ids, embeds, _ = q.inputs(states, "Summarise.", 100)
    audio_pos = (ids[0] == q.audio_token_id).nonzero()[:, 0]
    assert len(audio_pos) == 100 and int(audio_pos[-1] - audio_pos[0]) == 99
    # fused (density-weighted, pre-LN) -> the encoder's LayerNorm -> the projector
    fused = compress(states, q.head.density, 100, CompressionOptions())
    expected = q.projector(q.tower.layer_norm(fused))
    assert torch.allclose(embeds[0, audio_pos], expected, atol=1e-6)
    text, frames, kept = q.answer(audio, "Summarise.", 100, max_new_tokens=4)
    assert (frames, kept) == (900, 100) and isinstance(text, str)
    avg = q.inputs(states, "Summarise.", 100, CompressionOptions(method="avgpool"))[0]
    assert int((avg == q.audio_token_id).sum()) == 100
