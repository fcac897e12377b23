"""LocalRunner: stage items run in this process, one thread per stage."""

from __future__ import annotations

import queue
import threading
from typing import Any

from ..errors import LongspeechError
from ..progress import ProgressCallback, no_progress
from .stage_spec import StageSpec


class _StageThread:
    """One stage and the daemon thread that runs its items in order. The stage is built (its
    models loaded) in that thread when its first item arrives: a job whose every step is
    saved loads no model. If it cannot be built, each of its items fails with that error.
    Daemon: a Ctrl-C ends the process without waiting for the item in hand (a diarization
    can take minutes); that item is done again on resume."""

    def __init__(self, name: str, spec: StageSpec, done: queue.Queue, started: set[str]):
        self.name, self.spec, self.done, self.started = name, spec, done, started
        self.stage: Any = None
        self.broken: BaseException | None = None
        self.inbox: queue.Queue = queue.Queue()
        self.queued = 0
        self.thread = threading.Thread(target=self._run, name=f"longspeech-{name}",
                                       daemon=True)
        self.thread.start()

    def _build(self) -> Any:
        if self.stage is None and self.broken is None:
            try:
                spec = self.spec
                self.stage = spec.instance if spec.instance is not None else spec.cls(spec.config)
                self.started.add(self.name)
            except Exception as e:      # noqa: BLE001 - every item of the stage fails with it
                self.broken = e
            if hasattr(self.stage, "report"):    # a long stage's progress, read by next_done
                self.stage.report = lambda p: self.done.put((None, p, None))
        if self.broken is not None:
            if isinstance(self.broken, LongspeechError):
                raise self.broken
            raise LongspeechError(f"the {self.name} stage could not start: "
                                  f"{type(self.broken).__name__}: {self.broken}")
        return self.stage

    def _run(self) -> None:
        while (job := self.inbox.get()) is not None:
            ticket, item = job
            try:
                self.done.put((ticket, self._build()(item), None))
            except Exception as e:  # the scheduler confines a failure to its recording
                self.done.put((ticket, None, e))


class LocalRunner:
    """Runs stage items in this process, one thread per stage: a stage handles its items one
    at a time and in submission order, while different stages overlap (the next file's
    decoding and VAD run while Whisper decodes this one's chunks; the engines release the
    GIL). depth: items queued per stage, as on Ray."""

    name = "local"

    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        self._threads: dict[str, _StageThread] = {}
        self._done: queue.Queue = queue.Queue()
        self._stage_of: dict[int, str] = {}
        self._next = 0
        self._report: ProgressCallback = no_progress
        self.started: set[str] = set()      # stages that were given work (models loaded)
        self.placement: dict[str, list[str]] = {}   # every stage runs in this process
        self.notices: list[str] = []

    def start(self, specs: dict[str, StageSpec], report: ProgressCallback = no_progress) -> None:
        """Start a thread per stage; each loads its models when its first item arrives.
        report: receives the progress of stages that report it while working (correction),
        in the thread that calls next_done."""
        self._report = report
        self._threads = {k: _StageThread(k, spec, self._done, self.started)
                         for k, spec in specs.items()}

    def free(self, stage: str) -> bool:
        return self._threads[stage].queued < self.depth

    def busy(self) -> bool:
        return bool(self._stage_of)

    def submit(self, stage: str, item: Any) -> int:
        self._next += 1
        self._stage_of[self._next] = stage
        self._threads[stage].queued += 1
        self._threads[stage].inbox.put((self._next, item))
        return self._next

    def next_done(self) -> tuple[int, Any, BaseException | None]:
        ticket, result, error = self._done.get()
        while ticket is None:               # a stage's progress report
            self._report(result)
            ticket, result, error = self._done.get()
        self._threads[self._stage_of.pop(ticket)].queued -= 1
        return ticket, result, error

    def close(self) -> None:
        """Stop the stage threads. Idle ones are joined, so that the stages (and their
        models' native threads) are released here and not while the interpreter exits; one
        still busy with an item (after Ctrl-C) is left to the process's exit."""
        for t in self._threads.values():
            t.inbox.put(None)
        for t in self._threads.values():
            if t.queued == 0:
                t.thread.join()
        self._threads.clear()
        self._stage_of.clear()


__all__ = ["LocalRunner"]
