"""Diarization options: speaker-count constraints, backend choice, and the embedded backend's
tuned settings (measured on synthetic meetings of 2-5 voices, see benchmarks/diarization.py)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidOptionError

BACKENDS = ("embedded", "pyannote")
CLUSTERING = ("spectral", "agglomerative")
DEFAULT_PYANNOTE_MODEL = "pyannote/speaker-diarization-community-1"


@dataclass(frozen=True)
class KnownSpeaker:
    """An enrolled voice: its name, its clip, and the clip's sha256 (so that a job's
    fingerprint changes when a clip does). Made by enrolment.parse_known_speakers."""

    name: str
    clip: str
    sha256: str


@dataclass(frozen=True)
class DiarizationOptions:
    """How to find who spoke when.

    num_speakers fixes the count; otherwise it is estimated within [min_speakers, max_speakers].
    backend "embedded" runs offline (Silero VAD + Resemblyzer embeddings + clustering);
    "pyannote" loads a pyannote.audio pipeline from `model` (hub id or local directory).

    Embedded-backend settings (seconds unless noted):
    window/hop: embedding windows slid over each speech region.
    clustering: "spectral" (speaker count from the eigengap, no threshold) or
        "agglomerative" (average linkage cut at `threshold`, a cosine distance).
    min_cluster_fraction: clusters holding less of the speech than this are absorbed into the
        nearest larger one (stray windows are rarely a new speaker).
    merge_similarity: clusters whose centroids are more alike than this (cosine) are one
        speaker split in two, and are merged. 0.85: a real voice recorded over years of
        sessions (30 minutes of Allison Smith's telephone prompts) split into clusters 0.90
        alike, while two different voices' clusters were at most 0.78 alike on ten real
        dialogues and synthetic meetings of 2-5 voices (benchmarks/single_voice.py).
    threads: torch/BLAS threads while diarizing, restored afterwards. None: 1 for the
        embedded backend (its LSTM and matrices are small; on a shared 2-core machine two
        threads ran 5-10x slower than one, waiting on each other), torch's own setting for
        pyannote. 0: never touch thread settings.
    max_cluster_windows: at most this many windows are clustered directly; the rest are
        assigned to the centroids, so clustering cost is bounded for hours of audio.
    frame: resolution of the final speaker labels; smoothing: median filter length over
        frames; min_turn: shorter turns are merged into their neighbours.
    edge_margin_db: turns grow over the sound around them that stays this many dB above the
        recording's background (edges.py), so they end where a voice fades out rather than
        where the tight embedding VAD stops; None: turns end at the VAD's edges. 10 dB:
        on four real dialogues missed speech fell from 32.7% to 0.4% with false alarm at
        0.1%, and synthetic meetings' DER did not rise (benchmarks/README.md, diarization).
    known: enrolled voices (see enrolment.py); a diarized speaker matched to one with a
        cosine similarity of at least name_threshold, name_margin above its next best name,
        is called by that name, every other speaker keeps SPEAKER_N. Calibration (12-s clips
        against the diarized speakers of four real Dutch dialogues, benchmarks/enrolment.py):
        the right voice scored 0.77-0.89, the other voice 0.60-0.71; clean reference turns
        of different voices reached 0.83, so a name needs its margin as well.
    """

    backend: str = "embedded"
    model: str | None = None                 # pyannote: hub id or local dir (default community-1)
    num_speakers: int | None = None
    min_speakers: int = 1
    max_speakers: int | None = None
    device: str = "cpu"
    window: float = 1.5
    hop: float = 0.75
    min_window: float = 0.5
    clustering: str = "spectral"
    threshold: float = 0.3
    min_cluster_fraction: float = 0.02
    merge_similarity: float = 0.85
    max_cluster_windows: int = 1000
    frame: float = 0.05
    smoothing: float = 0.5
    min_turn: float = 0.3
    edge_margin_db: float | None = 10.0
    block_seconds: float = 30.0
    threads: int | None = None
    known: tuple[KnownSpeaker, ...] = ()
    name_threshold: float = 0.8
    name_margin: float = 0.08

    def __post_init__(self) -> None:
        self.validate()

    @property
    def pyannote_model(self) -> str:
        return self.model or DEFAULT_PYANNOTE_MODEL

    def thread_limit(self, default: int) -> int:
        """Threads to run with (0: leave the process's settings alone)."""
        return default if self.threads is None else self.threads

    def speaker_bounds(self) -> tuple[int, int | None]:
        """(lowest, highest) speaker count allowed; highest None means unbounded."""
        if self.num_speakers is not None:
            return self.num_speakers, self.num_speakers
        return self.min_speakers, self.max_speakers

    def validate(self) -> None:
        def bad(msg: str) -> InvalidOptionError:
            return InvalidOptionError(f"diarization: {msg}")

        if self.edge_margin_db is not None and not self.edge_margin_db >= 0:
            raise bad(f"edge_margin_db must be >= 0 dB (or None), got {self.edge_margin_db!r}")
        if self.backend not in BACKENDS:
            raise bad(f"unknown backend {self.backend!r}; choose from {', '.join(BACKENDS)}")
        for name in ("num_speakers", "max_speakers"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise bad(f"{name} must be a whole number >= 1, got {v!r}")
        if not isinstance(self.min_speakers, int) or self.min_speakers < 1:
            raise bad(f"min_speakers must be a whole number >= 1, got {self.min_speakers!r}")
        if self.max_speakers is not None and self.max_speakers < self.min_speakers:
            raise bad(f"max_speakers ({self.max_speakers}) is below min_speakers "
                      f"({self.min_speakers}); pass a range with min <= max")
        if self.num_speakers is not None:
            if self.num_speakers < self.min_speakers or (
                    self.max_speakers is not None and self.num_speakers > self.max_speakers):
                raise bad(f"num_speakers ({self.num_speakers}) lies outside min_speakers.."
                          f"max_speakers; give either a fixed count or a range")
        if not 0.2 <= self.window <= 10.0:
            raise bad(f"window must be in [0.2, 10] s, got {self.window}")
        if not 0.0 < self.hop <= self.window:
            raise bad(f"hop must be in (0, window], got {self.hop}")
        if not 0.1 <= self.min_window <= self.window:
            raise bad(f"min_window must be in [0.1, window], got {self.min_window}")
        if self.clustering not in CLUSTERING:
            raise bad(f"unknown clustering {self.clustering!r}; choose from "
                      f"{', '.join(CLUSTERING)}")
        if not 0.0 < self.merge_similarity <= 1.0:
            raise bad(f"merge_similarity must be in (0, 1], got {self.merge_similarity}")
        if self.threads is not None and self.threads < 0:
            raise bad("threads must be >= 0 (0: leave torch's setting alone)")
        if not 0.0 < self.threshold < 2.0:
            raise bad(f"threshold is a cosine distance in (0, 2), got {self.threshold}")
        if not 0.0 <= self.min_cluster_fraction < 0.5:
            raise bad("min_cluster_fraction must be in [0, 0.5)")
        if self.max_cluster_windows < 10:
            raise bad("max_cluster_windows must be >= 10")
        if not 0.01 <= self.frame <= 1.0:
            raise bad(f"frame must be in [0.01, 1] s, got {self.frame}")
        if self.smoothing < 0 or self.min_turn < 0:
            raise bad("smoothing and min_turn must be >= 0")
        if self.block_seconds <= 0:
            raise bad("block_seconds must be > 0")
        if not -1.0 <= self.name_threshold <= 1.0 or not 0.0 <= self.name_margin <= 2.0:
            raise bad("name_threshold is a cosine similarity in [-1, 1], name_margin >= 0")
        if not self.device:
            raise bad("device must be named (cpu, cuda, cuda:0, ...)")
