"""The end of a recording's way through the scheduler: assemble its chunks (with speakers),
correct, write the outputs and the report, add it to the library, answer its questions."""

from __future__ import annotations

import time
from dataclasses import asdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..outputs import write_outputs
from ..qa.answer import Answer
from ..types import Transcript
from .answer_stages import AnswerRequest, answer_settings
from .results import FileResult
from .stages import CorrectRequest
from .state import fingerprint
from .transcribe import provenance


class Finishing:
    """Steps of the scheduler (scheduler.Scheduler) from a recording's last chunk on."""

    # set by the scheduler
    out: Path
    opts: Any
    formats: tuple[str, ...]
    state: Any
    ready: Any
    correction: Any
    report: bool
    library: Any
    ask: Any
    on_file: Any
    _fail: Callable[[Any, BaseException], None]      # the scheduler's: fail one recording

    def _finish(self, rec: Any) -> None:
        """All chunks (and the diarization) are in: assemble, then correct or write."""
        try:
            tr = self._assemble(rec)
        except Exception as e:
            self._fail(rec, e)
            return
        if self.correction is None:
            self._write(rec, tr)
            return
        text = tr.to_json(indent=None)
        key = fingerprint({"options": asdict(self.correction), "input": text})
        saved = self.state.load_correction(rec.stem, key)
        if saved is not None:
            self.state.log("correction_reused", recording=rec.stem)
            self._write(rec, saved)
            return
        rec.correction_key = key
        rec.pending += 1
        self.ready.append(("correct", rec, CorrectRequest(str(rec.path), text)))

    def _assemble(self, rec: Any) -> Transcript:
        m = rec.manifest
        assert m is not None
        segments = [s for c in m.chunks for s in self.state.load_chunk(rec.stem, c.index)]
        tr = Transcript(recording=m.recording, language=m.language or "und",
                        segments=segments,
                        provenance=provenance(rec.provenance, self.opts, segments))
        if rec.diarization is not None:
            from ..diarization import attribute_speakers, turns_to_annotation

            tr = attribute_speakers(tr, turns_to_annotation(rec.diarization.turns),
                                    diarizer=rec.diarization.provenance)
        return tr

    def _corrected(self, rec: Any, tr: Transcript) -> None:
        rec.pending -= 1
        self.state.save_correction(rec.stem, rec.correction_key, tr)
        self.state.log("corrected", recording=rec.stem,
                       edits=len(tr.provenance.get("corrections", [])))
        self._write(rec, tr)

    def _write(self, rec: Any, tr: Transcript) -> None:
        try:
            rec.outputs = write_outputs(tr, self.out, rec.stem, self.formats,
                                        self.opts.subtitles)
            if self.report:
                rec.outputs += self._write_report(tr, rec)
        except Exception as e:
            self._fail(rec, e)
            return
        rec.duration = tr.duration
        rec.speakers = len(tr.speakers) if rec.diarization is not None else None
        if self.library is not None:
            self.library.add(rec.stem)
        if self.ask is not None:
            text = tr.to_json(indent=None)
            self._ask(rec, text, text)
        else:
            self._done(rec)

    # -- questions --------------------------------------------------------------------------
    def _ask(self, rec: Any, source: str, transcript: str | None) -> None:
        """Queue every question about the recording whose answer is not saved yet. source:
        what the answers read (the transcript, or the audio's sha256), part of their key;
        transcript: the transcript JSON the cascade reads (None for the speech LM)."""
        assert self.ask is not None
        settings = answer_settings(self.ask)
        for question in rec.questions:
            key = fingerprint({"question": question, "settings": settings, "source": source})
            rec.answer_keys.append(key)
            if key in rec.answers:
                continue
            saved = self.state.load_answer(rec.stem, key)
            if saved is not None:
                rec.answers[key] = saved
                self.state.log("answer_reused", recording=rec.stem, key=key)
                continue
            rec.answers[key] = None       # queued once, however often it is asked
            rec.pending += 1
            self.ready.append(("answer", rec, AnswerRequest(str(rec.path), question,
                                                            transcript, key)))
        if rec.pending == 0:
            self._done(rec)

    def _answered(self, rec: Any, key: str, answer: Answer) -> None:
        rec.pending -= 1
        rec.answers[key] = answer
        self.state.save_answer(rec.stem, key, answer)
        self.state.log("answered", recording=rec.stem, key=key, seconds=round(answer.seconds, 3))
        if rec.pending == 0:
            self._done(rec)

    def _done(self, rec: Any) -> None:
        m = rec.manifest
        chunks = len(m.chunks) if m is not None else 0
        elapsed = time.perf_counter() - rec.t0
        duration = rec.duration
        # Speed over the audio this run decoded: chunks an earlier run finished do not count.
        work = (duration or 0.0) * ((chunks - rec.resumed) / chunks if chunks else 1.0)
        rec.result = FileResult(str(rec.path), "ok", rec.stem, [str(p) for p in rec.outputs],
                                None, duration, round(elapsed, 3),
                                round(work / elapsed, 2) if work > 0 and elapsed > 0 else None,
                                chunks, rec.resumed, rec.speakers)
        self.state.log("recording_done", recording=rec.stem, chunks=chunks,
                       resumed=rec.resumed)
        if self.on_file:
            self.on_file(rec.result)

    def _write_report(self, tr: Transcript, rec: Any) -> list[Path]:
        from ..report import talk_time_chart, write_report

        return [write_report(tr, self.out / f"{rec.stem}.html", rec.path),
                talk_time_chart(tr, self.out / f"{rec.stem}.talk_time.png")]
