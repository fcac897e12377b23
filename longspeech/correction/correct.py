"""Full-text LLM correction of a transcript, each edit verified against the audio.

The LLM reads the whole transcript, then corrects it a few sentences per chat turn (Chain of
Correction); what it proposes is checked and applied in apply.py. Turns are answered in
batches (`turn_batch`) over the cache of their shared conversation; a turn's conversation
holds the verified turns before its batch. The result is a new Transcript whose provenance
lists every proposed edit ("corrections") and how the correction ran ("correction").
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import InvalidOptionError
from ..llm import LoadedLLM, generate, generate_many, load_llm
from ..llm.adapters import load_with_adapter, read_manifest
from ..progress import Progress, ProgressCallback, no_progress
from ..types import Segment, Transcript
from . import prompts
from .apply import CorrectionRecord, apply_proposals
from .edits import transcript_names
from .options import CorrectionOptions
from .proposals import (Proposal, clean_text_reply, diff_text, parse_pairs,
                        text_reply_complete)
from .verify import AcousticVerifier, SegmentAudio


MAX_HISTORY = 16  # earlier turns tried in the prompt; fewer when the context budget is short


def plan_turns(segments: Sequence[Segment], options: CorrectionOptions) -> list[list[int]]:
    """Consecutive non-empty segments grouped into chat turns: at most `segment_sentences`
    segments and `max_turn_words` words each (a longer single segment is a turn alone)."""
    turns: list[list[int]] = []
    cur: list[int] = []
    words = 0
    for i, s in enumerate(segments):
        n = len(s.text.split())
        if n == 0:
            continue
        if cur and (len(cur) >= options.segment_sentences or words + n > options.max_turn_words):
            turns.append(cur)
            cur, words = [], 0
        cur.append(i)
        words += n
    if cur:
        turns.append(cur)
    return turns


class _Verifiers:
    """Segment scorers over one recording; the Whisper model comes on the first need."""

    def __init__(self, tr: Transcript, audio_path: str | Path | None, opts: CorrectionOptions,
                 model_for: Callable[[str], AcousticVerifier] | None = None):
        self.tr, self.path, self.opts = tr, audio_path, opts
        self.model_for = model_for or (
            lambda language: AcousticVerifier(opts.verifier, opts.device, language))
        self.model: AcousticVerifier | None = None
        self._cache: dict[int, SegmentAudio] = {}

    def __call__(self, index: int) -> SegmentAudio | None:
        if self.path is None:
            return None
        if index not in self._cache:
            if self.model is None:
                self.model = self.model_for(self.tr.language)
            seg = self.tr.segments[index]
            self._cache = {index: SegmentAudio(self.model, self.path, seg.start, seg.end,
                                               self.opts.audio_margin)}  # one segment held
        return self._cache[index]


class _Chat:
    """Token counting and context fitting for one LLM."""

    def __init__(self, llm: LoadedLLM, opts: CorrectionOptions):
        self.llm, self.opts = llm, opts

    def count_text(self, text: str) -> int:
        return len(self.llm.tokenizer(text)["input_ids"])

    def count(self, msgs: list[dict[str, str]]) -> int:
        rendered = self.llm.tokenizer.apply_chat_template(msgs, tokenize=False,
                                                          add_generation_prompt=True)
        return self.count_text(rendered)

    def reply_budget(self, text: str) -> int:
        n = self.count_text(text)
        # A corrected segment is about as long as the segment; pairs name only what changes.
        want = int(n * 1.3) + 12 if self.opts.format == "text" else int(n * 1.5) + 40
        return min(self.opts.max_new_tokens, want)


def correct_transcript(transcript: Transcript, audio_path: str | Path | None,
                       options: CorrectionOptions | None = None,
                       progress: ProgressCallback = no_progress) -> Transcript:
    """A corrected copy of `transcript`; provenance["corrections"] lists every proposed edit.

    audio_path is the recording the transcript came from (needed to verify word changes;
    None only with options.verify=False).
    """
    return Corrector(options or CorrectionOptions())(transcript, audio_path, progress)


class Corrector:
    """The LLM and the verifying Whisper model, loaded once and used for many transcripts
    (the pipeline's correction stage holds one)."""

    def __init__(self, options: CorrectionOptions):
        options.validate()
        self.opts = options
        self.llm = (load_with_adapter(options.llm, options.adapter, options.device)
                    if options.adapter else load_llm(options.llm, options.device))
        self._verifiers: dict[str, AcousticVerifier] = {}

    def _verifier(self, language: str) -> AcousticVerifier:
        if language not in self._verifiers:
            self._verifiers[language] = AcousticVerifier(self.opts.verifier, self.opts.device,
                                                          language)
        return self._verifiers[language]

    def __call__(self, transcript: Transcript, audio_path: str | Path | None,
                 progress: ProgressCallback = no_progress) -> Transcript:
        opts = self.opts
        if opts.verify and audio_path is None:
            raise InvalidOptionError("verifying corrections needs the recording: pass its "
                                     "audio file, or turn verification off")
        return _correct(self.llm, transcript, _Verifiers(
            transcript, audio_path if opts.verify else None, opts, self._verifier), opts,
            progress)


def _correct(llm: LoadedLLM, transcript: Transcript, verifiers: _Verifiers,
             opts: CorrectionOptions, progress: ProgressCallback) -> Transcript:
    chat = _Chat(llm, opts)
    out = copy.deepcopy(transcript)
    texts = [s.text for s in out.segments]
    names = transcript_names(texts)
    full = " ".join(t.strip() for t in texts if t.strip())
    half = opts.context_tokens // 2
    windowed = chat.count_text(full) > half
    history: list[tuple[str, str]] = []
    records: list[CorrectionRecord] = []
    unreadable = 0
    replies: list[str] = []
    turns = plan_turns(out.segments, opts)
    for first in range(0, len(turns), opts.turn_batch):
        group = turns[first:first + opts.turn_batch]
        asked = [" ".join(out.segments[i].text.strip() for i in turn) for turn in group]
        context = (prompts.window(texts, group[0][0], group[-1][-1] + 1,
                                  lambda t: chat.count_text(t) <= half) if windowed else full)
        budgets = [chat.reply_budget(a) for a in asked]
        if opts.context == "segment":       # each turn alone: the segment is all it reads
            convs = [prompts.conversation(opts.format, a, False, [], a, opts.uses_examples)
                     for a in asked]
        else:
            convs = _fit(chat, context, windowed, history, asked, max(budgets))
        answers = []
        for turn, question, reply in zip(group, asked, _replies(llm, convs, budgets, opts)):
            segs = [out.segments[i] for i in turn]
            replies.append(reply)
            proposals = proposals_from_reply(reply, segs, opts.format)
            if proposals is None:
                unreadable += 1
                proposals = []
            new_segs, recs = apply_proposals(segs, turn[0], proposals, opts, verifiers, names)
            for i, s in zip(turn, new_segs):
                out.segments[i] = s
            records += recs
            answers.append((question, _answer(opts.format, new_segs, recs)))
            progress(Progress(out.recording.id, segs[-1].end, out.recording.duration,
                              stage="correction"))
        history += answers
    out.provenance = dict(out.provenance)
    out.provenance["corrections"] = [r.to_dict() for r in records]
    out.provenance["correction"] = _provenance(llm, verifiers, opts, len(turns), windowed,
                                               unreadable, records)
    if opts.keep_replies:
        out.provenance["correction"]["replies"] = replies
    return out


def _replies(llm: LoadedLLM, convs: list[list[dict[str, str]]], budgets: list[int],
             opts: CorrectionOptions) -> list[str]:
    """The LLM's replies to one batch of turns: greedy ones together, sampled ones apart.
    A text reply stops at its first blank line, after which nothing is read."""
    if opts.temperature > 0:
        return [generate(llm, c, n, opts.temperature) for c, n in zip(convs, budgets)]
    return generate_many(llm, convs, budgets,
                         complete=text_reply_complete if opts.format == "text" else None)


def _fit(chat: _Chat, context: str, windowed: bool, history: list[tuple[str, str]],
         asked: Sequence[str], reply_tokens: int) -> list[list[dict[str, str]]]:
    """One conversation per segment asked, all with the same context and as many recent
    earlier turns as the context budget allows for each of them."""
    room = chat.opts.context_tokens - reply_tokens
    keep = min(len(history), MAX_HISTORY)
    while True:
        convs = [prompts.conversation(chat.opts.format, context, windowed, history[-keep:]
                                      if keep else [], a, chat.opts.uses_examples)
                 for a in asked]
        if keep == 0 or all(chat.count(c) <= room for c in convs):
            return convs
        keep -= 1


def proposals_from_reply(reply: str, segs: Sequence[Segment],
                         fmt: str) -> list[Proposal] | None:
    """The pairs in one LLM reply to a turn over `segs`; None when it holds no readable answer."""
    if fmt == "pairs":
        return parse_pairs(reply)
    text = clean_text_reply(reply)
    if not text:
        return None
    tokens = [t for s in segs for t in s.text.split()]
    return diff_text(tokens, text)


def _answer(fmt: str, segs: Sequence[Segment], recs: Sequence[CorrectionRecord]) -> str:
    """What stays in the conversation as the turn's answer: the verified result, so that a
    rejected rewrite does not steer later turns."""
    if fmt == "text":
        return " ".join(s.text.strip() for s in segs)
    return json.dumps([{"original": r.original, "corrected": r.corrected, "type": r.type}
                       for r in recs if r.accepted])


def _provenance(llm: LoadedLLM, verifiers: _Verifiers, opts: CorrectionOptions, turns: int,
                windowed: bool, unreadable: int, records: Sequence[CorrectionRecord]
                ) -> dict[str, Any]:
    return {
        "llm": {"id": llm.id, "sha256": llm.sha256, "source": llm.source,
                "adapter": dict(adapter_files(opts.adapter)) if opts.adapter else None},
        "verifier": verifiers.model.provenance() if verifiers.model is not None else None,
        "options": asdict(opts),
        "turns": turns,
        "windowed": windowed,
        "unreadable_replies": unreadable,
        "proposed": len(records),
        "accepted": sum(r.accepted for r in records),
    }


@lru_cache(maxsize=4)
def adapter_files(adapter: str) -> dict[str, str]:
    """The sha256 of the adapter's files, as its (checked) manifest records them: hashed once
    per process, not once per transcript."""
    return read_manifest(adapter)["files"]


def apply_pairs(transcript: Transcript, pairs: Sequence[Proposal],
                audio_path: str | Path | None, options: CorrectionOptions | None = None,
                segments: Sequence[int] | None = None) -> Transcript:
    """Check and apply given correction pairs (from any source, no LLM) to `segments`
    (default: all), with the same rules and records as correct_transcript."""
    opts = options or CorrectionOptions()
    opts.validate()
    out = copy.deepcopy(transcript)
    idx = sorted(segments) if segments is not None else list(range(len(out.segments)))
    if any(b != a + 1 for a, b in zip(idx, idx[1:])):
        raise InvalidOptionError("apply_pairs takes consecutive segment indices")
    verifiers = _Verifiers(transcript, audio_path if opts.verify else None, opts)
    records: list[CorrectionRecord] = []
    if idx:
        new_segs, records = apply_proposals([out.segments[i] for i in idx], idx[0], pairs,
                                            opts, verifiers,
                                            transcript_names([s.text for s in out.segments]))
        for i, s in zip(idx, new_segs):
            out.segments[i] = s
    out.provenance = dict(out.provenance)
    out.provenance["corrections"] = [r.to_dict() for r in records]
    return out
